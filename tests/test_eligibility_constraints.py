"""Constraint extraction: thresholds, performance, windows, mentions, negation; plus the labelled benchmark."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialfinder.eligibility import (
    MentionConstraint,
    PerformanceConstraint,
    StateConstraint,
    ThresholdConstraint,
    TimeWindowConstraint,
    evaluate,
    extract_constraints,
    profile_from_text,
)

from trialfinder.eligibility.vocabulary import (
    Vocabulary,
    mine_vocabulary,
    study_vocabulary,
    term_key,
    uninvert_mesh,
)
from trialfinder.model import decode_study

REPO_ROOT = Path(__file__).resolve().parents[1]


def only(text: str, cls: type, kind: str = "inclusion") -> list:
    return [c for c in extract_constraints(text, kind) if isinstance(c, cls)]


@pytest.mark.parametrize(
    ("text", "analyte", "comparator", "value", "unit", "normalized", "normalized_unit"),
    [
        ("PaO2 ≤ 70 mmHg", "pao2", "<=", 70, "mmHg", 70, "mmHg"),
        ("platelet count > 100,000/mm3", "platelets", ">", 100000, "/mm3", 100000, "/µL"),
        ("creatinine clearance at least 45 mL/min", "creatinine_clearance", ">=", 45, "mL/min", 45, "mL/min"),
        ("ANC ≥ 1.5 × 10^9/L", "anc", ">=", 1.5, "x10^9/L", 1500, "/µL"),
        ("Platelets ≥ 100 x 10⁹/L", "platelets", ">=", 100, "x10^9/L", 100000, "/µL"),
        ("hemoglobin >= 9 g/dL", "hemoglobin", ">=", 9, "g/dL", 9, "g/dL"),
        ("Haemoglobin ≥ 100 g/L", "hemoglobin", ">=", 100, "g/L", 10, "g/dL"),
        ("Serum creatinine < 133 µmol/L", "creatinine", "<", 133, "µmol/L", 1.5042, "mg/dL"),
        ("Bilirubin no greater than 1.5 mg/dL", "bilirubin", "<=", 1.5, "mg/dL", 1.5, "mg/dL"),
        ("WBC at least 3,000/mm^3", "wbc", ">=", 3000, "/mm3", 3000, "/µL"),
        ("Platelets greater or equal to 100,000/ul", "platelets", ">=", 100000, "/µL", 100000, "/µL"),
    ],
)
def test_lab_thresholds(text, analyte, comparator, value, unit, normalized, normalized_unit) -> None:
    (lab,) = only(text, ThresholdConstraint)
    assert (lab.type, lab.analyte, lab.comparator, lab.unit) == ("lab", analyte, comparator, unit)
    assert lab.value == pytest.approx(value)
    assert lab.normalized_value == pytest.approx(normalized, rel=1e-3)
    assert lab.normalized_unit == normalized_unit
    assert lab.polarity == "require"
    assert text[lab.span[0] : lab.span[1]] == lab.text


def test_ranges_and_shared_thresholds() -> None:
    (bmi,) = only("BMI 18.5 to 30 kg/m2", ThresholdConstraint)
    assert (bmi.comparator, bmi.value, bmi.value_high) == ("between", 18.5, 30)
    (a1c,) = only("HbA1c between 7% and 10%", ThresholdConstraint)
    assert (a1c.analyte, a1c.comparator, a1c.value, a1c.value_high, a1c.unit) == ("hba1c", "between", 7, 10, "%")
    liver = only("SGOT and SGPT no greater than 5 times upper limit of normal", ThresholdConstraint)
    assert {(c.analyte, c.comparator, c.value, c.unit) for c in liver} == {("ast", "<=", 5, "xULN"), ("alt", "<=", 5, "xULN")}


def test_exclusion_inverts_lab_polarity_without_leaking_negation() -> None:
    labs = only("Hypertension that is not well controlled (systolic blood pressure ≥ 140 mmHg)", ThresholdConstraint,
                "exclusion")
    assert [(c.analyte, c.comparator, c.polarity) for c in labs] == [("systolic_bp", ">=", "forbid")]


@pytest.mark.parametrize(
    ("text", "kind", "comparator", "value", "high", "polarity"),
    [
        ("Age 18 years or older.", "inclusion", ">=", 18, None, "require"),
        ("≥ 18 years of age < 75 years", "inclusion", "between", 18, 75, "require"),
        ("Aged between 40 and 70 years", "inclusion", "between", 40, 70, "require"),
        ("Less than 18 years old.", "exclusion", "<", 18, None, "forbid"),
        ("Patients older than 65 years", "inclusion", ">", 65, None, "require"),
        # a second bound with no unit of its own, right after the first
        ("Between the ages of >= 22 and <= 70", "inclusion", "between", 22, 70, "require"),
        ("Age: >18 < 70", "inclusion", "between", 18, 70, "require"),
        ("21 years of age or older, and no greater than 65 years of age", "inclusion", "between", 21, 65, "require"),
        # but not another measure's bound
        ("Age >= 18 years and weight < 100 kg", "inclusion", ">=", 18, None, "require"),
    ],
)
def test_age(text, kind, comparator, value, high, polarity) -> None:
    (age,) = [c for c in only(text, ThresholdConstraint, kind) if c.type == "age"]
    assert (age.comparator, age.value, age.value_high, age.polarity) == (comparator, value, high, polarity)


def test_age_from_legacy_heading_and_not_from_durations() -> None:
    assert [c.value for c in extract_constraints("18 and over", heading="PATIENT CHARACTERISTICS: Age")] == [18]
    assert not [c for c in extract_constraints("Diabetes for at least 5 years") if c.type == "age"]


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("Cohort A (adults 18-65 years): diagnosis of asthma", None),
        ("Part 2 cohort: patients aged 12 to 17", None),
        ("Arm B: women aged 50 years or older", None),
        ("Age 12 to 17 years", "Cohort 2 (adolescents)"),
        ("Age 18-65 years for Part 1; 12-17 years for Part 2", None),
        ("If age is 40 to 45 years, normal submaximal stress test", None),
        ("Mammogram required within 1 year prior to entry for women aged 40 and over", None),
        ("T-score below -2.0 and at least one of the following risk factors: (a) age > 65 years; (b) prior fracture",
         None),
    ],
)
def test_cohort_and_conditional_age_and_sex_rules_are_conditional(text, heading) -> None:
    found = [c for c in extract_constraints(text, "inclusion", heading) if c.type in ("age", "sex")]
    assert found and all(c.hypothetical for c in found)


def test_age_rules_without_a_cohort_stay_firm() -> None:
    for text in ("Age 18-65 years", "Adults aged 18 years or older with group B streptococcus infection",
                 "Women aged 50 years or older",
                 ("Age >= 18 years; for women of childbearing potential a negative pregnancy test")):
        found = [c for c in extract_constraints(text) if c.type in ("age", "sex")]
        assert found and not any(c.hypothetical for c in found), text


def test_a_leading_no_forbids_the_age_range() -> None:
    (age,) = [c for c in extract_constraints("No patients less than or equal to 5 years old.") if c.type == "age"]
    assert (age.comparator, age.value, age.polarity) == ("<=", 5, "forbid")
    (firm,) = [c for c in extract_constraints("No older than 65 years") if c.type == "age"]
    assert (firm.comparator, firm.value, firm.polarity) == ("<=", 65, "require")


@pytest.mark.parametrize(
    ("text", "scale", "low", "high"),
    [
        ("ECOG 0-1", "ecog", 0, 1),
        ("ECOG performance status of 0 or 1", "ecog", 0, 1),
        ("ECOG performance status ≤ 2", "ecog", None, 2),
        ("Karnofsky ≥ 70", "karnofsky", 70, None),
        ("Karnofsky performance status 60-100%", "karnofsky", 60, 100),
        ("Zubrod 0-1", "ecog", 0, 1),
        ("WHO performance status 0-2", "ecog", 0, 2),
    ],
)
def test_performance_status(text, scale, low, high) -> None:
    (ps,) = only(text, PerformanceConstraint)
    assert (ps.scale, ps.min_score, ps.max_score) == (scale, low, high)


def test_time_windows_with_events() -> None:
    (window,) = only("Myocardial infarction within 6 months before enrollment", TimeWindowConstraint, "exclusion")
    assert (window.relation, window.amount, window.time_unit, window.polarity) == ("within", 6, "months", "forbid")
    assert window.event_concept == "myocardial infarction" and window.days == pytest.approx(182.6, abs=0.1)
    (since,) = only("At least 4 weeks since last chemotherapy", TimeWindowConstraint)
    assert (since.relation, since.days, since.event_concept) == ("at_least", 28, "chemotherapy")
    (mention,) = only("Myocardial infarction within 6 months before enrollment", MentionConstraint, "exclusion")
    assert mention.time_limited
    assert not only("Life expectancy of at least 12 weeks", TimeWindowConstraint)


def test_pregnancy_and_breastfeeding() -> None:
    states = only("Not pregnant or nursing", StateConstraint)
    assert {(c.type, c.polarity, c.negated) for c in states} == {
        ("pregnancy", "forbid", True), ("breastfeeding", "forbid", True)}
    excl = only("Pregnant or breast-feeding patient", StateConstraint, "exclusion")
    assert {(c.type, c.polarity) for c in excl} == {("pregnancy", "forbid"), ("breastfeeding", "forbid")}
    (test,) = only("Women of childbearing potential must have a negative pregnancy test", StateConstraint)
    assert test.polarity == "forbid"
    (plan,) = only("Planning to become pregnant during the study", StateConstraint, "exclusion")
    assert plan.hypothetical


def test_sex_restrictions() -> None:
    assert [c.sex for c in extract_constraints("Postmenopausal women aged 50-75") if c.type == "sex"] == ["female"]
    assert not [c for c in extract_constraints("Male or female, aged 18 or older") if c.type == "sex"]
    assert not [c for c in extract_constraints("Female patients of childbearing potential must use contraception")
                if c.type == "sex"]


@pytest.mark.parametrize(
    ("text", "kind", "type_", "concept", "polarity", "negated"),
    [
        ("History of type 2 diabetes", "inclusion", "condition", "type 2 diabetes", "require", False),
        ("No history of diabetes", "inclusion", "condition", "diabetes", "forbid", True),
        ("Patients without heart failure", "inclusion", "condition", "heart failure", "forbid", True),
        ("Free of active infection", "inclusion", "condition", "infection", "forbid", True),
        ("Absence of brain metastases", "inclusion", "condition", "brain metastases", "forbid", True),
        ("Known HIV infection", "exclusion", "condition", "hiv", "forbid", False),
        ("Prior treatment with pembrolizumab", "exclusion", "therapy", "pembrolizumab", "forbid", False),
        ("No prior chemotherapy", "exclusion", "therapy", "chemotherapy", "require", True),
        ("Receiving insulin", "inclusion", "therapy", "insulin", "require", False),
        ("Prior radiation to the whole pelvis is not allowed", "inclusion", "therapy", "radiotherapy", "forbid", True),
    ],
)
def test_mentions_with_negation(text, kind, type_, concept, polarity, negated) -> None:
    mentions = [c for c in only(text, MentionConstraint, kind) if c.type == type_]
    assert [(c.concept, c.polarity, c.negated) for c in mentions] == [(concept, polarity, negated)]


def test_qualifiers_exceptions_and_permissions_are_not_constraints() -> None:
    assert [c.concept for c in only("No prior systemic chemotherapy for lung cancer", MentionConstraint)] == ["chemotherapy"]
    assert not only("Concurrent corticosteroids allowed", MentionConstraint)
    assert not only("Family history of breast cancer", MentionConstraint)
    text = "No other malignancy within 5 years except nonmelanoma skin cancer"
    assert [c.concept for c in only(text, MentionConstraint)] == ["cancer"]
    hypo = only("Planned surgery during the study", MentionConstraint, "exclusion")
    assert hypo and all(c.hypothetical for c in hypo)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["inclusion", "exclusion"]))
def test_extract_never_crashes(text: str, kind: str) -> None:
    for constraint in extract_constraints(text, kind):
        assert 0 <= constraint.span[0] <= constraint.span[1] <= len(text)
        assert constraint.polarity in {"require", "forbid"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(
    ["ANC", "≥", "1.5", "x", "10^9/L", "ECOG", "0-1", "within", "6", "months", "no", "history", "of", "diabetes",
     "age", "18", "years", "pregnant", "not", "Karnofsky", "%", "between", "and", "<", "mg/dL", "100,000"]),
    max_size=25))
def test_extract_never_crashes_on_clinical_looking_noise(words: list[str]) -> None:
    extract_constraints(" ".join(words), "exclusion")


def _mentions(text: str, kind: str = "inclusion", vocabulary: Vocabulary | None = None) -> dict[str, str]:
    return {c.term: c.polarity for c in extract_constraints(text, kind, vocabulary=vocabulary)
            if isinstance(c, MentionConstraint)}


def test_names_outside_the_lexicon_by_their_shape() -> None:
    # drug stems and treatment verbs
    assert _mentions("Prior treatment with leflunomide, infliximab, or adalimumab", "exclusion") == {
        "leflunomide": "forbid", "infliximab": "forbid", "adalimumab": "forbid"}
    assert _mentions("Taking pregabalin or gabapentin within 48 hours before surgery.", "exclusion") == {
        "pregabalin": "forbid", "gabapentin": "forbid"}
    # disease words and qualified head nouns, with weak qualifiers left out
    found = _mentions("History of mesenteric ischemia or symptomatic hypercalcemia", "exclusion")
    assert found == {"mesenteric ischemia": "forbid", "hypercalcemia": "forbid"}
    assert _mentions("Received antiviral therapy", "inclusion") == {"antiviral therapy": "require"}
    # a bare generic head is no name; "measurable disease" is not a diagnosis either
    assert _mentions("Any serious disease", "exclusion") == {}
    # a shared head noun across "or"
    found = _mentions("Participant has untreated brain or meningeal metastases.", "exclusion")
    assert {"brain metastases", "meningeal metastases"} <= set(found)


@pytest.mark.parametrize(("text", "expected"), [
    # the word before "or" ends a name of its own: the head noun after "or" is not shared with it
    ("Use of anticoagulants or thrombolytic agent", {"anticoagulants", "thrombolytic agent"}),
    ("high blood pressure and antihypertensive drug treatment", {"high blood pressure",
                                                                 "antihypertensive drug treatment"}),
    # a functional class or a comparison is no kind of the disease
    ("New York Heart Association grade III or greater congestive heart failure", {"congestive heart failure"}),
    ("NYHA class III or IV heart failure", {"heart failure"}),
    # the word before "or" stands for the name's first word, not for the whole of what precedes the head
    ("small or large cell lung cancer", {"small cell lung cancer", "large cell lung cancer"}),
    ("Recurrent or metastatic breast cancer", {"recurrent breast cancer"}),
    ("kidney or liver transplant", {"kidney transplant"}),
    # a name the criterion allows still ends where it ends: its last word is no modifier of the next name
    ("Participants with stable conditions, such as diabetes mellitus, hypertension, or cardiac disease, are "
     "allowed to participate", set()),
    # a noun that ends another phrase is not a second kind of the name
    ("tumor size ≥1.0 cm in maximum diameter and axillary node-positive breast cancer",
     {"axillary node-positive breast cancer"}),
    # what is done with a treatment is no kind of it
    ("not recovered from adverse events due to a previously administered agent", set()),
])
def test_a_head_noun_is_shared_only_with_a_modifier(text: str, expected: set[str]) -> None:
    assert set(_mentions(text, "exclusion")) == expected


@pytest.mark.parametrize(("text", "concept"), [
    ("type II diabetes mellitus", "type 2 diabetes"), ("Type I diabetes mellitus", "type 1 diabetes"),
    ("diabetes mellitus type II", "type 2 diabetes"), ("diabetes mellitus type I", "type 1 diabetes"),
])
def test_diabetes_types_in_roman_numerals_keep_their_type(text: str, concept: str) -> None:
    assert [c.concept for c in extract_constraints(text) if isinstance(c, MentionConstraint)] == [concept]


def test_reference_events_tests_and_exception_lists() -> None:
    # the procedure dates the criterion; nobody is asked to have it
    assert _mentions("At least 18 years of age at the time of planned surgery.") == {}
    assert _mentions("Negative HIV test at screening") == {"hiv": "forbid"}
    # "other than X" excepts X only; the examples after it are back in scope
    found = _mentions("Neurological disease other than LDH (such as head trauma, brain abscess)", "exclusion")
    assert found.get("head trauma") == "forbid" and "ldh" not in found
    # "e.g." does not end the scope of the negation before it
    found = _mentions("No other illness may conflict (e.g. autoimmune diseases)", "inclusion")
    assert found == {"autoimmune diseases": "forbid"}
    # in an exclusion, "infection requiring systemic therapy" is one compound condition
    assert _mentions("Active infection requiring systemic therapy", "exclusion") == {"active infection": "forbid"}
    assert _mentions("Diabetes mellitus requiring insulin.", "inclusion") == {"diabetes mellitus": "require",
                                                                            "insulin": "require"}


def test_vocabulary_from_mesh_terms_and_the_study_itself() -> None:
    study = decode_study(json.dumps({
        "protocolSection": {
            "identificationModule": {"nctId": "NCT00000001"},
            "conditionsModule": {"conditions": ["Kramer Palsy"]},
            "armsInterventionsModule": {"interventions": [{"type": "DRUG", "name": "Zorblam"}]},
        },
        "derivedSection": {"conditionBrowseModule": {"meshes": [{"id": "D1", "term": "Leukemia, Myeloid, Acute"}]}},
    }))
    assert uninvert_mesh("Leukemia, Myeloid, Acute") == "Acute Myeloid Leukemia"
    vocabulary = study_vocabulary(study)
    assert vocabulary.terms[term_key("acute myeloid leukemia")][0] == "condition"
    text = "History of Kramer palsy or prior Zorblam"
    assert "kramer palsy" not in _mentions(text, "exclusion")
    found = _mentions(text, "exclusion", vocabulary)
    assert found["kramer palsy"] == "forbid" and found["zorblam"] == "forbid"
    mined = mine_vocabulary([study])
    assert term_key("acute myeloid leukemia") in mined.terms and term_key("zorblam") not in mined.terms
    healthy = decode_study(json.dumps({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000002"},
        "conditionsModule": {"conditions": ["Healthy Volunteers", "Normal Subjects", "Kramer Palsy"]}}}))
    own = study_vocabulary(healthy).terms
    assert term_key("kramer palsy") in own and not [key for key in own if key.startswith(("healthy", "normal"))]
    # the shipped vocabulary knows MeSH names no hand lexicon lists
    assert _mentions("Spondylolisthesis", "exclusion") == {"spondylolisthesis": "forbid"}


def _bench_module():
    spec = importlib.util.spec_from_file_location("eligibility_bench", REPO_ROOT / "bench" / "eligibility_extraction.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_labels_are_well_formed_and_plentiful() -> None:
    rows = [json.loads(line) for line in (REPO_ROOT / "tests/data/eligibility_labels.jsonl").read_text().splitlines()]
    assert len(rows) >= 300
    assert all(row["nct_id"].startswith("NCT") and row["kind"] in {"inclusion", "exclusion"} for row in rows)
    assert sum(len(row["expected"]) for row in rows) >= 350


# Floors sit a little under the measured values (see bench/results/eligibility_extraction.md) so that
# regressions fail while small wording changes in the lexicon do not.
OVERALL_FLOOR = {"precision": 0.78, "recall": 0.75}
TYPE_RECALL_FLOOR = {"age": 0.75, "lab": 0.8, "performance": 0.75, "pregnancy": 0.9, "time_window": 0.8,
                     "condition": 0.72, "therapy": 0.70}
HELD_OUT_F1_FLOOR = 0.78


def test_benchmark_scorer_runs_and_stays_above_measured_floor(tmp_path: Path) -> None:
    bench = _bench_module()
    out = tmp_path / "report.md"
    assert bench.main(["--out", str(out), "--no-mining"]) == 0
    report = out.read_text()
    assert "| **overall** |" in report and "machine" in report
    results = bench.score(bench.load_labels())
    assert results["overall"]["precision"] >= OVERALL_FLOOR["precision"]
    assert results["overall"]["recall"] >= OVERALL_FLOOR["recall"]
    for kind, floor in TYPE_RECALL_FLOOR.items():
        assert results[kind]["recall"] >= floor, kind
    held_out = [row for row in bench.load_labels()
                if bench.is_held_out(row["nct_id"]) and row.get("batch") != bench.FRESH_BATCH]
    assert len(held_out) >= 60
    assert bench.score(held_out)["overall"]["f1"] >= HELD_OUT_F1_FLOOR


def test_time_window_counts_start_at_a_number_boundary() -> None:
    """The count is a whole number, right after a comparator sign too (the look-behind must not drop these)."""
    for text, amount in (("At least 112 weeks since prior chemotherapy", 112.0), ("≥4 weeks since surgery", 4.0),
                         (">=2 weeks since radiotherapy", 2.0)):
        windows = [c for c in extract_constraints(text) if isinstance(c, TimeWindowConstraint)]
        assert [(w.amount, w.time_unit) for w in windows] == [(amount, "weeks")], text


def _readings(text: str, kind: str = "inclusion") -> list[tuple[str, str | None, str, bool, bool]]:
    return [(c.type, getattr(c, "concept", None), c.polarity, c.negated, c.hypothetical)
            for c in extract_constraints(text, kind) if isinstance(c, MentionConstraint)]


def test_a_hyphenated_negative_names_a_subtype_and_negates_nothing() -> None:
    found = _readings("Required tumor parameters for high-risk node-negative disease; NOTE: AJCC 5th edition")
    assert found and not any(negated for _, _, _, negated, _ in found)
    assert ("condition", "cancer", "require", False, False) in found


def test_ineligible_for_a_treatment_is_hypothetical_not_a_negation_of_what_came_before() -> None:
    text = ("HD, relapsed after prior autologous transplant or after 2 or more combination chemotherapy regimens and "
            "ineligible for autologous PBSC transplant.")
    found = {c.text: c for c in only(text, MentionConstraint)}
    assert found["autologous transplant"].polarity == "require" and not found["autologous transplant"].negated
    assert found["autologous PBSC transplant"].hypothetical


def test_an_exception_holds_to_the_end_of_its_clause() -> None:
    text = ("Suspicious palpable nodes in the contralateral axilla or palpable supraclavicular or infraclavicular "
            "nodes, unless there is biopsy evidence that these are not involved with tumor.")
    assert not [c for c in only(text, MentionConstraint) if c.concept == "cancer"]


@pytest.mark.parametrize("text", [
    "Disorders that mimic PD.",
    "ECOG performance status of 3 or more (See NIH Bone and Marrow Consortium Supportive Care Guidelines for "
    "Allogeneic Hematopoietic Stem Cell Transplant Recipients)",
    "Neuropathy-Sensory >= grade 2 per the National Cancer Institute's (NCI's) Common Toxicity Criteria",
    "Have a current chronic medical condition for which influenza vaccine is normally recommended.",
])
def test_names_that_are_about_something_else_are_not_constraints(text: str) -> None:
    concepts = {c.concept for c in only(text, MentionConstraint, "exclusion")}
    assert not concepts & {"parkinson's disease", "organ transplantation", "cancer", "vaccination"}


def test_without_in_a_permission_describes_whom_it_permits() -> None:
    assert not only("Primary amyloidosis without subsequent multiple myeloma allowed", MentionConstraint)
    (prohibited,) = only("No prior chemotherapy allowed", MentionConstraint)
    assert prohibited.polarity == "forbid"


def test_a_sentence_opening_with_if_is_conditional_throughout() -> None:
    text = ("If previously treated with interferon or ribavirin, must not have a lack of sustained virological "
            "response as shown by the presence of HCV RNA in serum six months after stopping therapy.")
    (hcv,) = [c for c in only(text, MentionConstraint, "exclusion") if c.concept == "hepatitis c"]
    assert hcv.hypothetical
    (firm,) = only("Patients must not have received ribavirin in the past.", MentionConstraint, "exclusion")
    assert not firm.hypothetical


def test_only_the_sentence_that_opens_with_if_is_conditional() -> None:
    from trialfinder.eligibility.context import mention_context

    text = ("No dialysis. If previously treated with interferon, HCV RNA must be undetectable. Patients must not "
            "have received ribavirin; if female, no pregnancy.")
    def hypothetical(word: str) -> bool:
        start = text.index(word)
        return mention_context(text, start, start + len(word)).hypothetical

    assert [hypothetical(w) for w in ("dialysis", "HCV", "ribavirin", "pregnancy")] == [False, True, False, True]
    # the same words in another text: what was found for the first text is not reused
    other = "If previously treated, ribavirin. " + text
    start = other.index("ribavirin")
    assert mention_context(other, start, start + len("ribavirin")).hypothetical


@pytest.mark.parametrize(("text", "low", "high"), [
    ("Chronological age: 6.0 - 17.0 years.", 6.0, 17.0),
    ("age 6.5 to 17 years", 6.5, 17.0),  # was read as "5 to 17"
    ("Age 9 through 15.99 years at the start of the study", 9.0, 15.99),
    ("Aged 2.5 years or older", 2.5, None),
])
def test_ages_with_decimals_and_through(text: str, low: float | None, high: float | None) -> None:
    (age,) = only(text, ThresholdConstraint)
    assert (age.value, age.value_high) == (low, high)


@pytest.mark.parametrize("text", [
    "Post-menopause (3-10.9 years) due to hysterectomy",
    "Postmenopausal (at least 2 years)",
    "Amenorrhea of at least 1 year",
    "Platelets of 1000 to 1500 years",  # no four-digit age, and no age inside a longer number
])
def test_how_long_since_menopause_is_no_age(text: str) -> None:
    assert not only(text, ThresholdConstraint)


def test_the_age_of_something_else_or_of_a_sub_list_is_no_age_requirement() -> None:
    assert not only("Turner's syndrome-compatible karyotype. Bone age no greater than 11 years", ThresholdConstraint)
    (lead_in,) = only("Age 65-70 years:", ThresholdConstraint)
    assert lead_in.hypothetical
    (required,) = only("Patients aged 18 years or older with one of the following:", ThresholdConstraint)
    assert not required.hypothetical


def test_a_rule_for_women_who_can_bear_children_is_no_sex_restriction() -> None:
    text = "Female subjects, on a reliable method of birth control or not physically able to bear children."
    assert not [c for c in extract_constraints(text) if c.type == "sex"]
    assert [c.sex for c in extract_constraints("Female subjects aged 18 to 45") if c.type == "sex"] == ["female"]


def test_a_negation_covers_the_same_name_said_again_later_in_the_criterion() -> None:
    text = ("Patient must not have a history of anterior segment surgery or trauma which could affect corneal "
            "sensitivity (e.g., cataract surgery or any surgery involving a limbal or corneal incision).")
    surgeries = [c for c in only(text, MentionConstraint) if c.concept == "surgery"]
    assert surgeries and {c.polarity for c in surgeries} == {"forbid"}
    # an un-negated name before the negated one is an alternative, not in its scope
    syncope = {c.polarity for c in only("VT with syncope, or VT without syncope", MentionConstraint)}
    assert syncope == {"require", "forbid"}


def test_a_state_word_inside_the_name_is_a_qualifier() -> None:
    (liver,) = [c for c in only("Decompensated liver disease, as marked by bilirubin > 4 mg%", MentionConstraint,
                                "exclusion") if c.concept == "liver disease"]
    assert liver.qualifiers == ("decompensated",)


def test_a_number_that_counts_minutes_is_no_lab_value() -> None:
    text = "Increase of >= 15% over baseline FEV1 approximately 15-20 minutes after beta-2 agonist inhalation"
    assert not [c for c in only(text, ThresholdConstraint) if c.analyte == "fev1"]
    (ratio,) = [c for c in only("FEV1/FVC<0.7%", ThresholdConstraint)]
    assert (ratio.analyte, ratio.normalized_value) == ("fev1_fvc", 0.7)


@pytest.mark.parametrize("text", [
    "Lack of normal circadian cortisol secretion and failure to suppress following 2 mg of dexamethasone",
    "Cortisol above 1.8 ug/dL after 1 mg dexamethasone overnight",
])
def test_a_test_dose_is_not_a_therapy_the_patient_must_have_had(text: str) -> None:
    assert not [c for c in extract_constraints(text, "inclusion") if c.type == "therapy"]
    (treated,) = [c for c in extract_constraints("Treated with 2 mg of dexamethasone daily", "inclusion")
                  if c.type == "therapy"]
    assert treated.concept == "dexamethasone" or treated.term == "dexamethasone"


@pytest.mark.parametrize(("text", "kind", "expected"), [
    # the disease a treatment was for is not a condition asked about on its own
    ("No prior immunotherapy for breast cancer", "inclusion", {"immunotherapy": "forbid"}),
    ("Prior chemotherapy or immunotherapy for breast cancer", "exclusion",
     {"chemotherapy": "forbid", "immunotherapy": "forbid"}),
    # margins, surgical beds and reports are places and documents, not the patient's disease or a treatment
    ("No evidence of gross or microscopic tumor (invasive or DCIS) at the surgical resection margins", "inclusion",
     {}),
    ("Gross tumor at the surgical resection margins noted in the final surgery or pathology report", "exclusion",
     {}),
])
def test_names_that_only_qualify_another_thing_are_no_constraint(text: str, kind: str,
                                                                  expected: dict[str, str]) -> None:
    assert _mentions(text, kind) == expected


@pytest.mark.parametrize(("text", "state"), [
    ("No bilateral malignancy or mass in the opposite breast", "bilateral"),
    ("Locally advanced tumors (classification T4) at diagnosis", "locally advanced"),
    ("Metastatic breast cancer (Stage IV)", "metastatic"),
])
def test_a_stage_or_extent_word_is_a_state_of_the_name(text: str, state: str) -> None:
    (mention,) = only(text, MentionConstraint, "exclusion")
    assert state in mention.qualifiers


def test_a_criterion_about_familial_hypercholesterolemia_is_not_a_family_history() -> None:
    assert _mentions("FH patients with LDL above 190 mg/dL on statins") == {"statins": "require"}
    assert _mentions("Family history: premature coronary artery disease") == {}


def test_age_related_names_a_disease_not_a_secondary_kind() -> None:
    (amd,) = only("Age-related macular degeneration", MentionConstraint, "exclusion")
    assert amd.qualifiers == ()
    (secondary,) = only("Therapy-related acute myeloid leukemia", MentionConstraint, "exclusion")
    assert secondary.qualifiers == ("secondary",)


@pytest.mark.parametrize(("text", "expected"), [
    ("Must be HIV, HBV and HCV negative", {"hiv": "forbid", "hbv": "forbid", "hcv": "forbid"}),
    ("Histologically confirmed breast cancer, HER2 negative", {"breast cancer": "require"}),
    ("Non-small cell lung cancer, EGFR negative", {"non-small cell lung cancer": "require"}),
    # a long list of unknown words: the list pattern must not backtrack over how to split them
    ("Prior lymphoma" + ", aaaaaaaa" * 8 + " tests are negative", {"lymphoma": "require"}),
])
def test_a_negative_result_after_a_list_holds_for_each_name_but_not_past_a_marker(text: str,
                                                                                  expected: dict[str, str]) -> None:
    assert _mentions(text) == expected


@pytest.mark.parametrize("text", ["Active hepatitis B or C infection", "Hepatitis B/C positive",
                                  "Known HIV, hepatitis B or C", "hepatitis B, C or HIV"])
def test_hepatitis_b_or_c_names_both(text: str) -> None:
    concepts = {c.concept for c in only(text, MentionConstraint, "exclusion")}
    assert {"hepatitis b", "hepatitis c"} <= concepts


@pytest.mark.parametrize("text, expected", [
    # "with or without X", "regardless of X": either way will do, so X is neither required nor forbidden
    ("Metastatic breast cancer with or without brain metastases", [("condition", "require")]),
    ("Patients with or without prior radiotherapy", []),
    ("Adenocarcinoma with/without bone metastasis", [("condition", "require")]),
    ("Enrollment regardless of HER2 status", []),
    # its "without" negates nothing further on, and a plain "without" still does
    ("with or without brain metastases and with hypertension", [("condition", "require")]),
    ("with or without prior surgery, without prior chemotherapy", [("therapy", "forbid")]),
])
def test_either_way_phrases_neither_require_nor_forbid(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(c.type, c.polarity) for c in extract_constraints(text)] == expected


def test_a_mesh_infection_heading_gives_a_pathogen_name_not_an_adjective() -> None:
    from trialfinder.eligibility.vocabulary import default_vocabulary, term_key

    terms = default_vocabulary().terms
    assert {term_key(word) for word in ("papillomavirus", "cytomegalovirus")} <= set(terms)
    assert not {term_key(word) for word in ("bacterial", "streptococcal", "urinary tract")} & set(terms)
    assert "bacterial" not in _mentions("Active bacterial or fungal infection", "exclusion")


@pytest.mark.parametrize(("text", "kind", "hypothetical"), [
    ("More than 2 prior lines of chemotherapy", "exclusion", True),  # one line of chemotherapy is no exclusion
    ("No more than one prior regimen of chemotherapy", "inclusion", True),
    ("Received at least 2 cycles of chemotherapy", "inclusion", True),
    ("At least 1 prior line of platinum-based chemotherapy", "inclusion", False),  # asks for it
    ("Prior chemotherapy", "exclusion", False),
])
def test_a_counted_therapy_is_decided_by_the_count(text: str, kind: str, hypothetical: bool) -> None:
    [therapy] = [c for c in extract_constraints(text, kind) if c.type == "therapy"]
    assert therapy.hypothetical is hypothetical


def test_the_kinds_of_nsclc_and_of_radiotherapy_by_their_own_names() -> None:
    [nsclc] = [c for c in extract_constraints("Histologically confirmed NSCLC") if c.type == "condition"]
    patient = profile_from_text("Stage IV lung adenocarcinoma. Brain metastases treated with SRS in May.")
    assert evaluate(nsclc, patient).status == "met"
    assert "radiotherapy" in {m.concept for m in patient.therapies}
