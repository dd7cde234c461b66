"""Smoking: what a criterion asks ("Current smokers", "Never smokers", "at least 10 pack-years"), what a note or a
form says of the patient, and the verdict."""

from __future__ import annotations

import pytest

from trialfinder.eligibility import evaluate, extract_constraints, profile_from_text
from trialfinder.match import as_patient, assess, patient_from_fields
from trialfinder.match.patient import PatientInputError
from trialfinder.match.questions import answers_to_fields, eligibility_questions
from trialfinder.model import study_from_dict


def smoking(text: str, kind: str = "inclusion") -> list[tuple[str, str, bool]]:
    return [(c.type, c.polarity, c.hypothetical) for c in extract_constraints(text, kind)
            if c.type in {"smoking", "ever_smoked"}]


@pytest.mark.parametrize(("text", "kind", "expected"), [
    ("Current smoker.", "exclusion", [("smoking", "forbid", False)]),
    ("Nonsmoker.", "inclusion", [("smoking", "forbid", False)]),
    ("non - smokers", "inclusion", [("smoking", "forbid", False)]),
    ("No cigarette smokers (within 2 years).", "inclusion", [("smoking", "forbid", False)]),
    ("Never smoker", "inclusion", [("ever_smoked", "forbid", False)]),
    ("History of smoking", "exclusion", [("ever_smoked", "forbid", False)]),
    ("Smoking history of at least 20 pack years", "inclusion", [("ever_smoked", "require", False)]),
    ("Smoker or exsmoker with at least 10 years smoking", "inclusion", [("ever_smoked", "require", False)]),
    ("Former smoker (quit > 6 months)", "inclusion", [("ever_smoked", "require", False), ("smoking", "forbid", False)]),
    ("Current smokers or have stopped smoking less than 6 months ago.", "exclusion", [("smoking", "forbid", False)]),
    ("Must abstain from smoking for at least 1 month prior to enrolling", "inclusion", [("smoking", "forbid", False)]),
    ("Smoke at least 10 cigarettes per day", "inclusion", [("smoking", "require", False)]),
    # only heavy smokers are out, or light smokers are in: no rule on smoking itself
    ("> 10 pack year smoking history", "exclusion", []),
    ("Less than 10 pack-years of smoking history.", "inclusion", []),
    ("Heavy smokers (e.g., > 20 cigarettes per day).", "exclusion", []),
    ("Nonsmoker or smoker of fewer than 10 cigarettes per day", "inclusion", []),
    # a rule for the visits, a trial about quitting, whom a rule is for, an example among risk factors
    ("Be willing to abstain from smoking during the study", "inclusion", []),
    ("Motivated to quit smoking.", "inclusion", []),
    ("Exposure to second-hand smoke at home", "exclusion", []),
    ("Age >35 yrs. for smokers", "exclusion", [("smoking", "forbid", True)]),
    ("One or more of three risk factors--hypertension, hypercholesterolemia, and cigarette smoking.", "inclusion",
     [("smoking", "require", True)]),
])
def test_what_a_criterion_asks_of_smoking(text: str, kind: str, expected: list) -> None:
    assert smoking(text, kind) == expected


@pytest.mark.parametrize(("note", "status"), [
    ("45 yo man, current smoker, 1 ppd.", "current"),
    ("Smokes 10 cigarettes a day.", "current"),
    ("Former smoker, quit 10 years ago, 30 pack-year history.", "former"),
    ("Denies tobacco use.", "never"),
    ("She is a social drinker with the negative history of smoking or drug use.", "never"),
    ("Never smoked.", "never"),
    ("She does not smoke.", "not_current"),
    ("40 pack-year smoking history.", "ever"),
    ("Her husband smokes.", None),
    ("Exposed to secondhand smoke as a child.", None),
])
def test_what_a_note_says_of_smoking(note: str, status: str | None) -> None:
    assert profile_from_text(note).smoking == status


@pytest.mark.parametrize(("note", "criterion", "kind", "expected"), [
    ("Current smoker, 1 ppd.", "Current smokers", "exclusion", "not_met"),
    ("Current smoker, 1 ppd.", "Nonsmoker", "inclusion", "not_met"),
    ("Former smoker, quit 2010.", "Current smokers", "exclusion", "met"),
    ("Former smoker, quit 2010.", "Never smokers", "exclusion", "met"),
    ("Never smoked.", "Never smokers", "exclusion", "not_met"),
    ("Former smoker, quit 2010.", "Smoking history of at least 10 pack-years", "inclusion", "met"),
    # when a former smoker quit decides a rule bounded by time
    ("Former smoker, quit 2010.", "No smoking within the past 6 months", "inclusion", "unknown"),
    ("Never smoked.", "No smoking within the past 6 months", "inclusion", "met"),
    ("She does not smoke.", "Never smoker", "inclusion", "unknown"),
    ("58-year-old woman with asthma.", "Current smokers", "exclusion", "unknown"),
])
def test_smoking_verdicts(note: str, criterion: str, kind: str, expected: str) -> None:
    profile = profile_from_text(note)
    [constraint] = [c for c in extract_constraints(criterion, kind) if c.type in {"smoking", "ever_smoked"}]
    assert evaluate(constraint, profile).status == expected


def test_smoking_as_a_field_and_a_question() -> None:
    study = study_from_dict({"protocolSection": {
        "identificationModule": {"nctId": "NCT00000005", "briefTitle": "Drug Z in COPD"},
        "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Former smoker\n\n"
                                                     "Exclusion Criteria:\n\n* Current smokers\n"}}})
    questions = eligibility_questions(study)
    assert [q.kind for q in questions if q.key == "smoking"] == ["smoking"]
    patient = patient_from_fields(answers_to_fields(questions, {"smoking": "current"}))
    verdicts = [v for v in assess(study, patient) if v.source != "structured"]
    assert [(v.status, v.hard) for v in verdicts] == [("not_met", True), ("not_met", True)]
    former = [v.status for v in assess(study, as_patient({"smoking": "former"})) if v.source != "structured"]
    assert former == ["met", "met"]
    with pytest.raises(PatientInputError, match="smoking"):
        patient_from_fields({"smoking": "sometimes"})


@pytest.mark.parametrize(("criterion", "kind", "comparator", "value"), [
    ("Smoking history of at least 20 pack years", "inclusion", ">=", 20.0),
    ("Patients must have at least a 30 pack year smoking history.", "inclusion", ">=", 30.0),
    ("20 or more pack-years of cigarette smoking", "inclusion", ">=", 20.0),
    ("> 10 pack year smoking history", "exclusion", ">", 10.0),
    ("Less than 10 pack-years of smoking history.", "inclusion", "<", 10.0),
])
def test_pack_years_are_a_threshold(criterion: str, kind: str, comparator: str, value: float) -> None:
    [threshold] = [c for c in extract_constraints(criterion, kind) if c.type == "lab"]
    assert (threshold.analyte, threshold.comparator, threshold.value) == ("pack_years", comparator, value)
    heavy, light = profile_from_text("Former smoker, 40 pack-year history."), profile_from_text("5 pack-years.")
    assert {evaluate(threshold, heavy).status, evaluate(threshold, light).status} == {"met", "not_met"}
    assert patient_from_fields({"labs": {"pack years": "40"}}).profile.labs["pack_years"].normalized_value == 40
