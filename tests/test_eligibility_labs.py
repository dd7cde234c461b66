"""Lab and vital thresholds as the registry writes them: the upper limit of normal with or without a number,
temperatures, lost superscripts, group names, and thresholds that define what a criterion's "No ..." rules out."""

from __future__ import annotations

import pytest

from trialfinder.eligibility import ThresholdConstraint, evaluate, extract_constraints, profile_from_text
from trialfinder.match import as_patient, assess, patient_from_fields
from trialfinder.match.questions import answers_to_fields, eligibility_questions
from trialfinder.model import study_from_dict


def labs(text: str, kind: str = "inclusion") -> list[tuple]:
    found = [c for c in extract_constraints(text, kind) if isinstance(c, ThresholdConstraint) and c.type == "lab"]
    assert all(text[c.span[0]:c.span[1]] == c.text for c in found)
    return [(c.analyte, c.comparator, c.value, c.normalized_value, c.normalized_unit, c.polarity) for c in found]


@pytest.mark.parametrize(("text", "expected"), [
    # the limit itself, with no number: one times the upper limit
    ("Total bilirubin ≤ ULN", [("bilirubin", "<=", 1.0, 1.0, "xULN", "require")]),
    ("Creatinine no greater than the upper limit of normal", [("creatinine", "<=", 1.0, 1.0, "xULN", "require")]),
    ("creatinine ≤ institutional ULN", [("creatinine", "<=", 1.0, 1.0, "xULN", "require")]),
    # multiples in words, and the limit written without "of normal" or without "times"
    ("AST greater than three times the upper limit of normal", [("ast", ">", 3.0, 3.0, "xULN", "require")]),
    ("Serum creatinine greater than twice the upper limit of normal", [("creatinine", ">", 2.0, 2.0, "xULN", "require")]),
    ("ALT > 2.5 times the upper limit", [("alt", ">", 2.5, 2.5, "xULN", "require")]),
    ("total bilirubin levels > 1.5 ULN", [("bilirubin", ">", 1.5, 1.5, "xULN", "require")]),
    ("Amylase < 1.5 times the superior limit of normality", [("amylase", "<", 1.5, 1.5, "xULN", "require")]),
    ("AST ≤ 2.5x IULN", [("ast", "<=", 2.5, 2.5, "xULN", "require")]),
    # powers of ten that lost their superscript, and a decimal comma
    ("Leucocytes ≥ 3,0 x 109/L", [("wbc", ">=", 3.0, 3000.0, "/µL", "require")]),
    ("WBC ≥ 3.0 x 10(9)/L", [("wbc", ">=", 3.0, 3000.0, "/µL", "require")]),
    ("ANC ≥ 1.5 x 10*9/L", [("anc", ">=", 1.5, 1500.0, "/µL", "require")]),
    ("WBC ≥ 2 x 10*9*/L", [("wbc", ">=", 2.0, 2000.0, "/µL", "require")]),
    # giga per litre, as Chinese registrations write cell counts, in either case
    ("Blood routine: neutrophil≥1.5G/L, platelet count ≥80G/L, hemoglobin ≥90g/L",
     [("anc", ">=", 1.5, 1500.0, "/µL", "require"), ("platelets", ">=", 80.0, 80000.0, "/µL", "require"),
      ("hemoglobin", ">=", 90.0, 9.0, "g/dL", "require")]),
    ("WBC 4.0-10.0 g/L", [("wbc", "between", 4.0, 4000.0, "/µL", "require")]),
    # a ratio of two values bounds neither of them; the oxygenation ratio is a value of its own
    ("neutrophil to lymphocyte ratio > 3", []),
    ("urine albumin/creatinine ratio > 30 mg/g", []),
    ("urine protein to creatinine ratio < 1", []),
    ("PaO2/FiO2 ratio < 300", [("pao2_fio2", "<", 300.0, 300.0, "mmHg", "require")]),
    ("P/F ratio less than 150 mmHg", [("pao2_fio2", "<", 150.0, 150.0, "mmHg", "require")]),
    ("PaO2 ≤ 70 mmHg", [("pao2", "<=", 70.0, 70.0, "mmHg", "require")]),
    # the upper limit written as "times of the normal value" or "upper normal limit"
    ("Serum creatinine ≥ 1.5 times of the normal value", [("creatinine", ">=", 1.5, 1.5, "xULN", "require")]),
    ("ALT > 3 times the upper normal limit", [("alt", ">", 3.0, 3.0, "xULN", "require")]),
    # body temperature, in Celsius or Fahrenheit or a bare number read by its range
    ("Temperature < 38.0°C on day of first study vaccination", [("temperature", "<", 38.0, 38.0, "°C", "require")]),
    ("Body temperature > 38.0 degrees Celsius", [("temperature", ">", 38.0, 38.0, "°C", "require")]),
    ("oral temperature ≥ 100.4°F", [("temperature", ">=", 100.4, 38.0, "°C", "require")]),
    ("body temperature still above 38 after antibiotics", [("temperature", ">", 38.0, 38.0, "°C", "require")]),
    # analytes that were missing
    ("Serum lipase must be <2 times the ULN", [("lipase", "<", 2.0, 2.0, "xULN", "require")]),
    ("CK > 5 x ULN", [("creatine_kinase", ">", 5.0, 5.0, "xULN", "require")]),
    ("ionized calcium > 1.5 mmol/L", [("ionized_calcium", ">", 1.5, 1.5, "mmol/L", "require")]),
    ("Fasting blood sugar greater than or equal to 150 mg/dl", [("glucose", ">=", 150.0, 150.0, "mg/dL", "require")]),
    # a group name bounds each of its analytes
    ("hepatic transaminases less than 2 times the upper limit of normal",
     [("ast", "<", 2.0, 2.0, "xULN", "require"), ("alt", "<", 2.0, 2.0, "xULN", "require")]),
])
def test_lab_readings_as_written(text, expected):
    assert labs(text) == expected


def test_a_bracketed_threshold_is_no_gloss_joining_two_analytes():
    found = labs("Bone marrow function: neutrophils (≥1.5×10^9/L), platelets (≥100×10^9/L), hemoglobin (≥90 g/L);")
    assert [(analyte, comparator, value) for analyte, comparator, value, *_ in found] == [
        ("anc", ">=", 1.5), ("platelets", ">=", 100.0), ("hemoglobin", ">=", 90.0)]


def test_two_names_of_one_analyte_give_one_threshold():
    text = "Laboratory evidence of liver disease (alanine aminotransferase [ALT] greater than the upper limit of normal)"
    assert labs(text, "exclusion") == [("alt", ">", 1.0, 1.0, "xULN", "forbid")]
    assert len(labs("Absolute neutrophil count (ANC) >1,500/mm3")) == 1


def test_a_room_temperature_or_a_limit_without_comparator_is_no_reading():
    assert labs("Samples stored at room temperature for 2 hours") == []
    assert labs("Bilirubin, ULN per local laboratory") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("No renal failure (creatinine greater than 2.0 mg/dl).", [("creatinine", ">", "forbid")]),
    ("No severe liver disease (ALT or AST greater than 5 times the upper limit of normal).",
     [("alt", ">", "forbid"), ("ast", ">", "forbid")]),
    ("No uncontrolled hypertension (i.e., systolic blood pressure > 150 mm Hg or diastolic BP > 90 mm Hg)",
     [("systolic_bp", ">", "forbid"), ("diastolic_bp", ">", "forbid")]),
    ("No uncontrolled hypertension, defined as systolic BP > 160 mm Hg and/or diastolic BP > 90 mm Hg",
     [("systolic_bp", ">", "forbid"), ("diastolic_bp", ">", "forbid")]),
    ("No measured fever at Screening (defined as body temperature ≥ 38.0°C)", [("temperature", ">=", "forbid")]),
    # not a definition of the negated finding: a requirement, an exception, a subgroup, a later sentence
    ("No significant cardiac disease and must have adequate cardiac function (ejection fraction >= 50%)",
     [("lvef", ">=", "require")]),
    ("No active AIDS (excluding CD4 count < 200).", [("cd4", "<", "require")]),
    ("No active opportunistic infection (patients with CD4 counts of 50-199 cells/mm3 may have had one).",
     [("cd4", "between", "require")]),
    ("No active heart disease. If a MUGA scan is done, the left ventricular ejection fraction (LVEF) > 40%.",
     [("lvef", ">", "require")]),
    ("No more than 2 prior regimens (ANC ≥ 1500/mm3 required)", [("anc", ">=", "require")]),
])
def test_a_threshold_that_defines_a_negated_finding_is_negated(text, expected):
    assert [(analyte, comparator, polarity) for analyte, comparator, _, _, _, polarity in labs(text)] == expected


def _study(criteria: str):
    return study_from_dict({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000001", "briefTitle": "Vaccine in healthy adults"},
        "eligibilityModule": {"eligibilityCriteria": criteria}}})


VACCINE = _study("Inclusion Criteria:\n\n* No measured fever at Screening (defined as body temperature ≥ 38.0°C)\n"
                 "* Healthy adults\n\nExclusion Criteria:\n\n"
                 "* Fever, with a rectal temperature of at least 38 °C at the time of immunization\n")


def _statuses(note: str) -> list[tuple[str, str]]:
    return [(v.kind, v.status) for v in assess(VACCINE, as_patient(note)) if v.kind != "record"]


def test_an_afebrile_patient_meets_the_fever_rules_and_a_febrile_one_fails_them():
    afebrile = as_patient("Healthy 30-year-old woman, temperature 36.8 °C today.")
    assert afebrile.profile.labs["temperature"].normalized_value == pytest.approx(36.8)
    assert _statuses("Healthy 30-year-old woman, temperature 36.8 °C today.") == [
        ("inclusion", "met"), ("inclusion", "met"), ("exclusion", "met")]
    febrile = _statuses("Healthy 30-year-old woman, temperature 101.5 F this morning.")
    assert febrile[0] == ("inclusion", "not_met") and febrile[2] == ("exclusion", "not_met")


def test_a_lab_name_alone_is_no_phrase_hit():
    # the rules cannot read this exclusion's threshold; the word "temperature" in the note must not decide it
    study = _study("Exclusion Criteria:\n\n* Temperature instability of any kind\n")
    (verdict,) = [v for v in assess(study, as_patient("Healthy man, temperature 36.9 °C.")) if v.kind == "exclusion"]
    assert verdict.status == "unknown"


def test_structured_transaminases_give_ast_and_alt():
    patient = patient_from_fields({"age": 50, "labs": {"transaminases": "2 x ULN"}})
    assert {name: lab.normalized_value for name, lab in patient.profile.labs.items()} == {"ast": 2.0, "alt": 2.0}
    assert patient.profile.labs["ast"].normalized_unit == "xULN"


@pytest.mark.parametrize(("text", "analyte", "value", "unit"), [
    ("PD-L1 expression ≥ 1%", "pd_l1", 1, "%"),
    ("PD-L1 tumor proportion score (TPS) ≥50%", "pd_l1", 50, "%"),
    ("PD-L1 CPS ≥ 10", "pd_l1_cps", 10, "CPS"),
    ("PD-L1 combined positive score (CPS) of 1 or more", "pd_l1_cps", 1, "CPS"),
    # names written with a hyphen are known as the lexicon spells them
    ("LDL-C ≥ 100 mg/dL", "ldl", 100, "mg/dL"),
])
def test_pd_l1_scores_and_hyphenated_names_are_lab_thresholds(text: str, analyte: str, value: float, unit: str) -> None:
    (lab,) = [c for c in extract_constraints(text) if c.type == "lab"]
    assert (lab.analyte, lab.normalized_value, lab.normalized_unit) == (analyte, value, unit)


def test_an_antibody_clone_is_no_pd_l1_value() -> None:
    assert "pd_l1" not in profile_from_text("PD-L1 22C3 assay pending").labs
    assert profile_from_text("ANC 2.1x10^9/L").labs["anc"].normalized_value == 2100


@pytest.mark.parametrize(("note", "criterion", "expected"), [
    ("PD-L1 TPS 80%", "PD-L1 TPS ≥ 50%", "met"),
    ("PD-L1 TPS 30%", "PD-L1 TPS ≥ 50%", "not_met"),
    ("PD-L1 <1%", "PD-L1 expression ≥ 1%", "not_met"),
    ("PD-L1 CPS 5", "PD-L1 TPS ≥ 50%", "unknown"),  # the other score
    # a value given as a bound decides what every value under it decides, and leaves open the rest
    ("creatinine <0.5 mg/dL", "Creatinine ≤ 1.5 mg/dL", "met"),
    ("creatinine >2 mg/dL", "Creatinine ≤ 1.5 mg/dL", "not_met"),
    ("hemoglobin <10 g/dL", "Hemoglobin ≥ 9 g/dL", "unknown"),
    ("hemoglobin >14 g/dL", "Hemoglobin between 9 and 12 g/dL", "not_met"),
    ("hemoglobin <10 g/dL", "Hemoglobin between 9 and 12 g/dL", "unknown"),
])
def test_scores_and_bounds_against_thresholds(note: str, criterion: str, expected: str) -> None:
    (lab,) = [c for c in extract_constraints(criterion) if c.type == "lab"]
    assert evaluate(lab, profile_from_text(note)).status == expected


@pytest.mark.parametrize(("note", "status"), [
    ("NSCLC, PD-L1 TPS 80%", "positive"),
    ("NSCLC, PD-L1 TPS 0%", "negative"),
    ("NSCLC, PD-L1 <1%", "negative"),
    ("NSCLC, PD-L1 <5%", None),  # under 5% may be positive or not
    ("NSCLC, PD-L1 negative, TPS 0%", "negative"),
])
def test_a_pd_l1_share_also_gives_the_status(note: str, status: str | None) -> None:
    found = profile_from_text(note).biomarkers.get("PD-L1")
    assert (found.status if found else None) == status


def test_structured_labs_take_a_bound_and_give_the_pd_l1_status() -> None:
    patient = as_patient({"age": 60, "labs": {"PD-L1": "<1%", "creatinine": "<0.5 mg/dL"}})
    assert patient.profile.labs["creatinine"].bound == "<"
    assert patient.profile.biomarkers["PD-L1"].status == "negative"


def test_the_eligibility_panel_asks_for_the_pd_l1_score_by_name() -> None:
    study = study_from_dict({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000003", "briefTitle": "Drug X in NSCLC"},
        "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* PD-L1 TPS ≥ 50%\n* PD-L1 CPS ≥ 10\n"}}})
    questions = eligibility_questions(study)
    labels = {q.key: q.label for q in questions if q.kind == "lab"}
    assert labels == {"lab.pd_l1": "PD-L1 tumour proportion score (TPS)",
                      "lab.pd_l1_cps": "PD-L1 combined positive score (CPS)"}
    patient = patient_from_fields(answers_to_fields(questions, {"lab.pd_l1": "80", "lab.pd_l1_cps": "5"}))
    statuses = [v.status for v in assess(study, patient) if v.source != "structured"]
    assert statuses == ["met", "not_met"]


@pytest.mark.parametrize(("text", "expected"), [
    ("MMSE score ≥ 20", [("mmse", ">=", 20.0, 20.0, "points", "require")]),
    ("HAM-D17 total score ≥ 18", [("hamd", ">=", 18.0, 18.0, "points", "require")]),
    ("HAM-A total score of at least 20", [("hama", ">=", 20.0, 20.0, "points", "require")]),
    ("CDR-SB ≥ 2.5", [("cdr_sb", ">=", 2.5, 2.5, "points", "require")]),
    ("modified Rankin Scale score ≤ 1", [("modified_rankin", "<=", 1.0, 1.0, "points", "require")]),
    # intraocular pressure is in mmHg whether or not the unit is written
    ("IOP > 30", [("iop", ">", 30.0, 30.0, "mmHg", "require")]),
    ("Intraocular pressure ≥ 21 mmHg in the study eye", [("iop", ">=", 21.0, 21.0, "mmHg", "require")]),
    # a part of a scale is not its total
    ("PANSS positive subscale score ≥ 4", []),
])
def test_rating_scales_are_unitless_scores(text: str, expected: list[tuple]) -> None:
    assert labs(text) == expected


def test_a_note_gives_its_rating_scale_scores() -> None:
    profile = profile_from_text("Mrs. Jones, 72, has Alzheimer disease: MMSE 22/30, CDR 1; HAM-A: 20; "
                                "intraocular pressure 28 mmHg.")
    assert {name: (lab.normalized_value, lab.normalized_unit) for name, lab in profile.labs.items()} == {
        "mmse": (22.0, "points"), "cdr": (1.0, "points"), "hama": (20.0, "points"), "iop": (28.0, "mmHg")}


@pytest.mark.parametrize("criterion", [
    "Montgomery-Asberg Depression Rating Scale (MADRS) score >= 30",
    "Beck Depression Inventory score > 20",
    "Hamilton Anxiety Rating Scale total score of 25 or more",
])
def test_a_scales_name_is_no_diagnosis(criterion: str) -> None:
    # a depressed patient is not excluded by the word "Depression" in the name of the score that is the limit
    constraints = extract_constraints(criterion, "exclusion")
    assert [c.type for c in constraints] == ["lab"]
    profile = profile_from_text("Beck Depression Inventory: 12. Hamilton Anxiety Rating Scale 20.")
    assert profile.diagnoses == () and set(profile.labs) == {"bdi", "hama"}


def test_rating_scale_thresholds_are_checked() -> None:
    study = study_from_dict({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000004", "briefTitle": "Drug Y in mild Alzheimer disease"},
        "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* MMSE score of 18-26 at screening\n"
                                                     "\nExclusion Criteria:\n\n* HAM-D score > 12\n"}}})
    note = as_patient("A 74-year-old man with Alzheimer disease, MMSE 22, HAM-D 8.")
    in_range = [v.status for v in assess(study, note) if v.source != "structured"]
    assert in_range == ["met", "met"]
    out_of_range = [v.status for v in assess(study, as_patient({"age": 74, "labs": {"MMSE": "27", "HAM-D": "14"}}))
                    if v.source != "structured"]
    assert out_of_range == ["not_met", "not_met"]


@pytest.mark.parametrize(("text", "polarity"), [
    ("Patients must not have serious cognitive deficits (defined as a mini-mental state exam score of 20 or less).",
     "forbid"),
    ("Must not have uncontrolled hypertension (SBP > 160 mmHg)", "forbid"),
    # a requirement after the negation is still one
    ("Patients must have adequate renal function (creatinine < 1.5 mg/dL)", "require"),
])
def test_a_threshold_defining_what_a_patient_must_not_have_forbids_it(text: str, polarity: str) -> None:
    assert [row[-1] for row in labs(text)] == [polarity]


@pytest.mark.parametrize(("text", "expected"), [
    # the score comes before the scale it is on
    ("A score of < 23 on the Mini-Mental State Exam", [("mmse", "<", 23.0, 23.0, "points", "require")]),
    ("Score > 16 on the 17-item HRSD", [("hamd", ">", 16.0, 16.0, "points", "require")]),
    ("a score of 24 or more on the MoCA", [("moca", ">=", 24.0, 24.0, "points", "require")]),
    # a score on a scale not read, or a number that is no score, gives nothing
    ("a score of 3 on the Clinical Global Impression scale", []),
])
def test_a_score_written_before_its_scale_is_read(text: str, expected: list[tuple]) -> None:
    assert labs(text) == expected


def test_the_oxygenation_ratio_is_checked_apart_from_pao2() -> None:
    profile = profile_from_text("Intubated for ARDS; PaO2/FiO2 ratio of 180 on PEEP 10.")
    [ratio_bound] = [c for c in extract_constraints("PaO2/FiO2 ratio < 300") if isinstance(c, ThresholdConstraint)]
    [pao2_bound] = [c for c in extract_constraints("PaO2 ≤ 70 mmHg") if isinstance(c, ThresholdConstraint)]
    assert evaluate(ratio_bound, profile).status == "met"
    assert evaluate(pao2_bound, profile).status == "unknown"


def test_a_filtration_rate_without_its_unit_is_in_ml_per_minute() -> None:
    profile = profile_from_text("eGFR 48. Creatinine clearance 52.")
    assert (profile.labs["egfr"].normalized_value, profile.labs["egfr"].normalized_unit) == (48.0, "mL/min")
    [egfr] = [c for c in extract_constraints("eGFR >= 30 mL/min/1.73m2") if c.type == "lab"]
    [crcl] = [c for c in extract_constraints("CrCl > 60") if c.type == "lab"]
    assert evaluate(egfr, profile).status == "met"
    assert evaluate(crcl, profile).status == "not_met"
