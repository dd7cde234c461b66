"""Criteria that widen, join or qualify what they ask: "(70-80% allowed if ...)", "triglycerides > 1000 in the
presence of HbA1c < 9%", "undetectable HBV DNA", "HER2-positive breast cancer" for a patient whose HER2 is unknown."""

from __future__ import annotations

import pytest

from trialfinder.eligibility import PerformanceConstraint, extract_constraints, profile_from_text
from trialfinder.match import as_patient, assess
from trialfinder.model import study_from_dict


def verdicts(criteria: str, note: str) -> dict[str, tuple[str, str]]:
    study = study_from_dict({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000002", "briefTitle": "Drug X"},
        "eligibilityModule": {"eligibilityCriteria": criteria}}})
    return {v.criterion: (v.status, v.reason) for v in assess(study, as_patient(note)) if v.source != "structured"}


KARNOFSKY = "Karnofsky performance status 90-100% (70-80% allowed if due to disease)"
ECOG = "ECOG 0-1 (2 allowed if due to bone pain)"
PERFORMANCE = f"Inclusion Criteria:\n\n* {KARNOFSKY}\n* {ECOG}\n"


def test_a_conditional_allowance_is_read_as_a_second_hypothetical_range() -> None:
    scores = [(c.min_score, c.max_score, c.hypothetical) for c in extract_constraints(KARNOFSKY)
              if isinstance(c, PerformanceConstraint)]
    assert scores == [(90, 100, False), (70, 80, True)]
    scores = [(c.min_score, c.max_score, c.hypothetical) for c in extract_constraints(ECOG)
              if isinstance(c, PerformanceConstraint)]
    assert scores == [(0, 1, False), (2, 2, True)]


@pytest.mark.parametrize(("note", "karnofsky", "ecog"), [
    ("A 60-year-old man, Karnofsky 80%.", "unknown", "met"),   # KPS 80 is ECOG 1
    ("A 60-year-old man, ECOG 2.", "not_met", "unknown"),      # ECOG 2 is KPS 60: below both Karnofsky ranges
    ("A 60-year-old man, ECOG 3.", "not_met", "not_met"),
    ("A 60-year-old man, ECOG 0.", "met", "met"),
])
def test_a_score_inside_an_allowance_is_open_and_outside_both_fails(note: str, karnofsky: str, ecog: str) -> None:
    found = verdicts(PERFORMANCE, note)
    assert (found[KARNOFSKY][0], found[ECOG][0]) == (karnofsky, ecog)


def test_the_performance_verdict_quotes_the_patients_words() -> None:
    study = study_from_dict({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000002", "briefTitle": "Drug X"},
        "eligibilityModule": {"eligibilityCriteria": PERFORMANCE}}})
    (verdict,) = [v for v in assess(study, as_patient("Man of 60, ECOG 3.")) if v.criterion == ECOG]
    assert verdict.evidence == "ECOG 3"
    assert profile_from_text("KPS of 70").evidence["karnofsky"] == "KPS of 70"


JOINT = "Fasting triglycerides > 1000 mg/dL in the presence of HbA1c < 9%"
EITHER = "Hemoglobin < 9 g/dL or platelets < 100,000/mm3"
LABS = f"Exclusion Criteria:\n\n* {JOINT}\n* {EITHER}\n"


@pytest.mark.parametrize(("note", "joint"), [
    ("A 50-year-old man, HbA1c 7%.", "unknown"),                          # the triglycerides decide
    ("A 50-year-old man, HbA1c 7%, triglycerides 1200 mg/dL.", "not_met"),  # both: excluded
    ("A 50-year-old man, HbA1c 10%, triglycerides 1200 mg/dL.", "met"),     # the HbA1c clears it
    ("A 50-year-old man, HbA1c 7%, triglycerides 200 mg/dL.", "met"),
])
def test_thresholds_joined_into_one_finding_exclude_together(note: str, joint: str) -> None:
    assert verdicts(LABS, note)[JOINT][0] == joint


def test_thresholds_given_as_alternatives_exclude_alone() -> None:
    found = verdicts(LABS, "A 50-year-old man, hemoglobin 8.1 g/dL, platelets 210,000/mm3.")
    assert found[EITHER][0] == "not_met"


@pytest.mark.parametrize("text", [
    "Patients with chronic hepatitis B must have undetectable HBV DNA",
    "HIV-infected patients must have HIV RNA < 50 copies/mL",
    "Suppressed HIV-1 viral load",
    "HIV-1 RNA below 200 copies/mL for 6 months",
])
def test_a_suppressed_viral_load_demands_no_infection_either_way(text: str) -> None:
    required = [c.text for c in extract_constraints(text) if c.type == "condition" and not c.hypothetical]
    assert required == []


@pytest.mark.parametrize(("text", "kind", "named"), [
    ("Detectable HBV DNA", "exclusion", "HBV"),  # an active infection still excludes
    ("HBsAg positive or HBV DNA > 2000 IU/mL", "exclusion", "HBV"),
])
def test_a_detectable_viral_load_still_names_the_infection(text: str, kind: str, named: str) -> None:
    assert [c.text for c in extract_constraints(text, kind) if c.type == "condition"] == [named]


MARKED = "HER2-positive breast cancer"


def test_a_disease_whose_required_marker_is_unknown_stays_open() -> None:
    criteria = f"Inclusion Criteria:\n\n* {MARKED}\n* HER2-positive breast cancer or ovarian cancer\n"
    found = verdicts(criteria, "A 55-year-old woman with breast cancer; HER2 status not yet known.")
    assert found[MARKED][0] == "unknown"
    assert found["HER2-positive breast cancer or ovarian cancer"][0] == "unknown"
    found = verdicts(criteria, "A 55-year-old woman with ovarian cancer.")
    assert found["HER2-positive breast cancer or ovarian cancer"][0] == "met"  # the other alternative
    found = verdicts(criteria, "A 55-year-old woman with HER2-positive breast cancer.")
    assert found[MARKED][0] == "met"


def test_a_shared_phrase_does_not_answer_what_the_rules_left_open() -> None:
    # the rules weighed "Karnofsky 80%" and left the criterion open; the phrase "Karnofsky" says no more
    found = verdicts(PERFORMANCE, "A 60-year-old man, Karnofsky 80%.")
    assert found[KARNOFSKY] == ("unknown", found[KARNOFSKY][1])
    assert "only if its condition holds" in found[KARNOFSKY][1]


@pytest.mark.parametrize(("text", "expected"), [
    # an allowance after a comma or a semicolon, not only in brackets
    ("ECOG 0-2, 3 allowed if related to the lymphoma", [(0, 2, False), (3, 3, True)]),
    ("Karnofsky ≥ 70%; 60% acceptable for patients with brain metastases", [(70, None, False), (60, 60, True)]),
    ("ECOG 0, 1, or 2", [(0, 2, False)]),
    ("ECOG 0-2, (3 allowed if due to lymphoma)", [(0, 2, False), (3, 3, True)]),
    # a range that is itself allowed is the whole range, for everyone
    ("Patients with ECOG 0-2 are eligible", [(0, 2, False)]),
    ("ECOG 0, 1 or 2 allowed", [(0, 2, False)]),
    ("Karnofsky 70-100% allowed", [(70, 100, False)]),
])
def test_an_allowance_after_a_list_separator_is_kept_apart(text: str, expected: list[tuple]) -> None:
    scores = [(c.min_score, c.max_score, c.hypothetical) for c in extract_constraints(text)
              if isinstance(c, PerformanceConstraint)]
    assert scores == expected


def test_whom_an_allowance_is_for_is_no_requirement() -> None:
    text = "Karnofsky ≥ 70%; 60% acceptable for patients with brain metastases"
    assert [(c.text, c.hypothetical) for c in extract_constraints(text) if c.type == "condition"] == [
        ("brain metastases", True)]
