"""Patient-to-trial matching: retrieve candidates, judge each criterion, rank eligible trials first."""

from .assess import assess, structured_verdicts
from .patient import Patient, PatientInputError, as_patient, patient_from_fields, read_patient_file
from .ranking import RankWeights
from .service import RelevanceWeights, match_patient, retrieval_requests
from .types import CriterionVerdict, TrialMatch

__all__ = [
    "CriterionVerdict",
    "Patient",
    "PatientInputError",
    "RankWeights",
    "RelevanceWeights",
    "TrialMatch",
    "as_patient",
    "assess",
    "match_patient",
    "patient_from_fields",
    "read_patient_file",
    "retrieval_requests",
    "structured_verdicts",
]
