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
