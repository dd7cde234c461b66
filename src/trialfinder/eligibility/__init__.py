"""Eligibility criteria: parse criteria text, extract checkable constraints, and evaluate them for a patient."""

from .constraints import extract_constraints
from .criteria import CriteriaSections, Criterion, clean_text, parse_criteria
from .model import (
    Constraint,
    MentionConstraint,
    PerformanceConstraint,
    SexConstraint,
    StateConstraint,
    ThresholdConstraint,
    TimeWindowConstraint,
)
from .patient import LabValue, Mention, PatientProfile, Verdict, evaluate, profile_from_text

__all__ = [
    "Constraint",
    "CriteriaSections",
    "Criterion",
    "LabValue",
    "Mention",
    "MentionConstraint",
    "PatientProfile",
    "PerformanceConstraint",
    "SexConstraint",
    "StateConstraint",
    "ThresholdConstraint",
    "TimeWindowConstraint",
    "Verdict",
    "clean_text",
    "evaluate",
    "extract_constraints",
    "parse_criteria",
    "profile_from_text",
]
