"""Lab and vital thresholds as the registry writes them: the upper limit of normal with or without a number,
temperatures, lost superscripts, group names, and thresholds that define what a criterion's "No ..." rules out."""

from __future__ import annotations

import pytest

from trialfinder.eligibility import ThresholdConstraint, extract_constraints
from trialfinder.match import as_patient, assess, patient_from_fields
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
