"""Rules for those who have something are no demand that everyone has it: "Patients with brain metastases must be
stable", "Prior radiotherapy must have been completed 4 weeks before"."""

from __future__ import annotations

import pytest

from trialfinder.eligibility import MentionConstraint, extract_constraints
from trialfinder.match import as_patient, assess
from trialfinder.model import study_from_dict


def mentions(text: str) -> list[tuple[str, str, bool]]:
    return [(c.text, c.polarity, c.hypothetical) for c in extract_constraints(text) if isinstance(c, MentionConstraint)
            and c.type in ("condition", "therapy")]


@pytest.mark.parametrize(("text", "expected"), [
    ("Any prior radiation therapy must be completed at least 4 weeks prior to registration",
     [("radiation therapy", "require", True)]),
    ("Prior radiotherapy is allowed if completed 4 weeks before", [("radiotherapy", "require", True)]),
    ("Prior chemotherapy must have been completed at least 21 days prior to enrollment",
     [("chemotherapy", "require", True)]),
    ("Patients who received prior radiotherapy must have recovered from toxicities", [("radiotherapy", "require", True)]),
    ("Participants with treated brain metastases are eligible if stable", [("brain metastases", "require", True)]),
    # still requirements
    ("At least one prior line of chemotherapy must have been completed", [("chemotherapy", "require", False)]),
    ("Prior treatment with a PD-1 inhibitor", [("PD-1 inhibitor", "require", False)]),
    ("Histologically confirmed NSCLC", [("NSCLC", "require", False)]),
])
def test_a_rule_for_those_treated_is_hypothetical(text, expected):
    assert mentions(text) == expected


CRITERIA = """Inclusion Criteria:

* Prior chemotherapy must have been completed at least 21 days prior to enrollment
* Prior radiotherapy is allowed if completed 4 weeks before
* Patients with known brain metastases must have completed treatment and be stable for 4 weeks
* At least one prior line of chemotherapy
"""


def test_a_treatment_naive_patient_fails_only_the_real_requirement():
    study = study_from_dict({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000001", "briefTitle": "Drug X in lung cancer"},
        "eligibilityModule": {"eligibilityCriteria": CRITERIA}}})
    note = ("62-year-old man with newly diagnosed lung cancer and no brain metastases. He has never received "
            "chemotherapy or radiotherapy.")
    verdicts = [v for v in assess(study, as_patient(note)) if v.kind == "inclusion"]
    failing = [v.criterion for v in verdicts if v.status == "not_met"]
    assert failing == ["At least one prior line of chemotherapy"]


def constraints(text: str, kind: str = "inclusion") -> list[tuple]:
    return [(c.type, c.text, c.polarity, c.hypothetical) for c in extract_constraints(text, kind)]


def test_legacy_fields_left_open_or_named_are_no_constraint():
    # "Not specified" negates nothing after it, and a field's name is no requirement
    text = ("PATIENT CHARACTERISTICS: Age: 18 to 60 Menopausal status: Not specified Performance status: ECOG 0-1 "
            "Life expectancy: Not specified Hemoglobin at least 10 g/dL")
    assert [(kind, polarity) for kind, _, polarity, _ in constraints(text)] == [
        ("age", "require"), ("performance", "require"), ("lab", "require")]
    text = "PRIOR CONCURRENT THERAPY: Biologic therapy: Not specified Chemotherapy: Not specified Radiotherapy: No prior radiotherapy"
    assert constraints(text) == [("therapy", "radiotherapy", "forbid", False)]


@pytest.mark.parametrize(("text", "kind", "expected"), [
    ("At least 4 weeks since prior chemotherapy (6 weeks for nitrosoureas)", "inclusion",
     ("therapy", "chemotherapy", "require", True)),
    ("Brain metastases allowed if: stable for 4 weeks", "inclusion", ("condition", "Brain metastases", "require", True)),
    ("Is a chemotherapy candidate", "inclusion", ("therapy", "chemotherapy", "require", True)),
    # a ban written after the name forbids in either list
    ("Pregnant women are excluded from this study", "exclusion", ("pregnancy", "Pregnant", "forbid", False)),
    ("Prior anthracyclines not allowed", "exclusion", ("therapy", "anthracyclines", "forbid", False)),
    # an exclusion phrased as a requirement or a ban in its own words
    ("Must not have active infection", "exclusion", ("condition", "active infection", "forbid", False)),
    ("Female patients of childbearing potential must have a negative serum pregnancy test", "exclusion",
     ("pregnancy", "pregnancy", "forbid", False)),
])
def test_readings_that_had_inverted_or_demanded(text, kind, expected):
    assert expected in constraints(text, kind)


def test_names_that_are_no_condition_of_the_patient():
    assert constraints("Male subject with a pregnant or breastfeeding partner must agree to use a condom") == []
    assert [c for c in constraints("Prior anti-cancer treatment within 4 weeks", "exclusion") if c[0] == "condition"] == []
    # some cancer, not any: no "cancer" concept that every cancer patient would match
    (_, tumours) = [c for c in extract_constraints("No brain metastases or primary brain tumors")]
    assert tumours.concept is None
    assert [c[0] for c in constraints("Male (≥18 years old) or pre-menopausal women (≥40 years old)")] == ["age"]


def test_ages_in_a_menopause_definition_are_one_way_to_qualify():
    (age,) = [c for c in extract_constraints("Age < 55 years and amenorrhea for 12 months with FSH > 30 mIU/ml")
              if c.type == "age"]
    assert age.hypothetical


def _verdicts(criteria: str, note: str) -> list[tuple[str, str]]:
    study = study_from_dict({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000001", "briefTitle": "Drug X in breast cancer"},
        "eligibilityModule": {"eligibilityCriteria": criteria}}})
    return [(v.status, v.criterion) for v in assess(study, as_patient(note)) if v.kind != "record"]


def test_an_exclusion_of_a_disease_with_a_marker_needs_the_marker():
    criteria = ("Exclusion Criteria:\n\n* Has HER2-positive breast cancer\n"
                "* Has histologically confirmed HER2 positive (3+ by IHC or ISH amplified) breast cancer\n")
    assert [status for status, _ in _verdicts(criteria, "58-year-old woman with breast cancer, HER2-negative.")] == [
        "met", "met"]
    assert [status for status, _ in _verdicts(criteria, "58-year-old woman with breast cancer, HER2-positive.")] == [
        "not_met", "not_met"]


def test_found_on_a_diabetes_patient():
    (either,) = [c for c in extract_constraints("Diagnosis of diabetes mellitus types 1 or 2") if c.type == "condition"]
    assert either.concept == "diabetes"
    subgroup, glucose = [c for c in extract_constraints(
        "Note: Subjects with HbA1c <7.5% must have a fasting glucose ≥7 mmol/L at Week 0") if c.type == "lab"]
    assert (subgroup.analyte, subgroup.hypothetical, glucose.analyte, glucose.hypothetical) == (
        "hba1c", True, "glucose", False)
    eligible_if = extract_constraints("Patients with Type 2 diabetes mellitus and CAD will be eligible for the trial "
                                      "if revascularization is not required", "exclusion")
    assert eligible_if and all(c.hypothetical for c in eligible_if if c.type == "condition")
    # a change of a value, and a rank among peers, are no value
    assert [c for c in extract_constraints("HbA1C change >0.9 % within the last 3 months", "exclusion")
            if c.type == "lab"] == []
    assert [c for c in extract_constraints("Body mass index above the 95th percentile") if c.type == "lab"] == []
    # who must use contraception, not who may join
    (age,) = [c for c in extract_constraints("Be pregnant female, lactating female, or female of child bearing "
                                             "potential (≤60 years of age).", "exclusion") if c.type == "age"]
    assert age.hypothetical
    assert [c for c in extract_constraints("Women of non-child bearing potential are defined as follows: females "
                                           "regardless of age") if c.type == "sex"] == []


def test_a_type_2_patient_meets_either_kind_and_is_not_excluded_as_a_woman_of_childbearing_potential():
    # a man is neither pregnant nor breastfeeding, and the age bound is for women who could be
    note = "45-year-old man with type 2 diabetes on metformin, HbA1c 8.1%."
    criteria = ("Inclusion Criteria:\n\n* Diagnosis of diabetes mellitus types 1 or 2\n\nExclusion Criteria:\n\n"
                "* Be pregnant female, lactating female, or female of child bearing potential (≤60 years of age).\n")
    (diagnosis, _), (childbearing, _) = _verdicts(criteria, note)
    assert diagnosis == "met" and childbearing != "not_met"


def test_found_on_a_lung_cancer_patient():
    # a negative pregnancy result, "non-pregnant", and a negative test filed among the exclusions: not pregnant
    for text, kind in (("Female subjects of childbearing potential should have a negative urine or serum pregnancy "
                        "within 72 hours", "inclusion"), ("Women must be non-pregnant", "inclusion"),
                       ("Have a negative serum or urine pregnancy test before enrolment", "exclusion")):
        (pregnancy,) = [c for c in extract_constraints(text, kind) if c.type == "pregnancy"]
        assert pregnancy.polarity == "forbid", text
    # a tumour's specimen is no diagnosis; a longer name keeps no broader concept it is not
    assert [c for c in extract_constraints("Tumor specimen is not evaluable for PD-L1 expression", "exclusion")
            if c.type == "condition"] == []
    (sclc,) = [c for c in extract_constraints("No small cell lung carcinoma, including mixed histology")
               if c.type == "condition"]
    assert sclc.concept == "small cell lung cancer"
    (metastatic,) = [c for c in extract_constraints("metastatic lung carcinoma") if c.type == "condition"]
    assert metastatic.concept == "lung cancer"
    # a relative's age; a performance rule under "if"
    (age,) = [c for c in extract_constraints("No factors that increase the risk of QTc prolongation such as heart "
                                             "failure, family history of long QT syndrome or sudden death under 40 "
                                             "years of age") if c.type == "age"]
    assert age.hypothetical
    conditional = [c for c in extract_constraints("Performance status: SWOG 0-2 Albumin at least 0.85 times normal "
                                                  "required if performance status 2") if c.type == "performance"]
    assert [c.hypothetical for c in conditional] == [False, True]
    # a window after a list of treatments holds for each of them
    listed = [c for c in extract_constraints("Surgery, radiotherapy, chemotherapy, or hormonal therapy during the "
                                             "three weeks prior to the initiation of therapy", "exclusion")
              if c.type == "therapy"]
    assert len(listed) == 4 and all(c.time_limited for c in listed)


def test_a_lung_cancer_patient_treated_months_ago():
    note = ("66-year-old man with metastatic non-small cell lung cancer, progressed on osimertinib. Prior carboplatin "
            "and pemetrexed completed 3 months ago. No brain metastases. ECOG 1.")
    criteria = ("Inclusion Criteria:\n\n* No prior malignancy except nonmelanoma skin cancer\n"
                "* No small cell lung carcinoma\n"
                "* Female subjects of childbearing potential should have a negative urine or serum pregnancy within "
                "72 hours\n\nExclusion Criteria:\n\n* Surgery, radiotherapy, chemotherapy, or hormonal therapy during "
                "the three weeks prior to the initiation of therapy\n")
    study = study_from_dict({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000001", "briefTitle": "Drug X in NSCLC"},
        "eligibilityModule": {"eligibilityCriteria": criteria}}})
    verdicts = [v for v in assess(study, as_patient(note)) if v.kind != "record"]
    assert not [v.criterion for v in verdicts if v.status == "not_met" and v.hard]
    assert verdicts[1].status == "met"  # not small cell
    assert verdicts[2].status != "not_met" and "patient is male" in verdicts[2].reason


def test_people_to_keep_away_from_are_not_the_patient():
    text = ("Must be able to avoid contact with high risk individuals (immunosuppressed patients, children under 3, "
            "pregnant women, or patients with eczema)")
    assert [c for c in extract_constraints(text) if c.type in ("pregnancy", "condition")] == []
    assert [c for c in extract_constraints("Close contact with someone with active tuberculosis", "exclusion")
            if c.type == "condition"] == []


NCI_AGE = ("Age >= 18 years. Because no dosing or adverse event data are currently available on the use of BAY 1895344 "
           "in combination with gemcitabine and cisplatin in patients < 18 years of age, children are excluded from "
           "this study")


def test_the_nci_age_sentence_keeps_adults_in():
    # the two sides of one boundary are no empty range, and the reason's drugs are not the patient's history
    (age,) = [c for c in extract_constraints(NCI_AGE) if c.type == "age"]
    assert (age.comparator, age.value, age.value_high) == (">=", 18.0, None)
    assert all(c.hypothetical for c in extract_constraints(NCI_AGE) if c.type == "therapy")
    verdicts = _verdicts(f"Inclusion Criteria:\n\n* {NCI_AGE}\n", "A 58-year-old woman treated with cisplatin.")
    assert [status for status, _ in verdicts] == ["met"]  # the age is met (it had failed every adult); the "because" clause binds no one


def test_an_age_outside_a_range_is_the_range_turned():
    from trialfinder.eligibility import evaluate

    (age,) = [c for c in extract_constraints("Age <50 or >80 years at invitation to Screening;", "exclusion")
              if c.type == "age"]
    statuses = [evaluate(age, as_patient(f"A {years}-year-old man.").profile).status for years in (45, 50, 80, 85)]
    assert statuses == ["not_met", "met", "met", "not_met"]
