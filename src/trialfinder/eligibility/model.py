"""Typed constraint model: what a criterion asks of a patient, each tied to the text span it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Polarity = Literal["require", "forbid"]
Comparator = Literal["<", "<=", ">", ">=", "=", "between"]
ConstraintType = Literal[
    "age", "sex", "pregnancy", "breastfeeding", "smoking", "ever_smoked", "lab", "performance", "time_window",
    "condition", "therapy", "biomarker"
]
SmokingStatus = Literal["current", "former", "never", "not_current", "ever"]


@dataclass(frozen=True, kw_only=True)
class Constraint:
    """Base constraint: the assertion found in the text and whether the patient must satisfy it or must not.

    ``polarity`` already folds in the criterion kind and any negation: "require" means the patient must make
    the assertion true, "forbid" means it must be false. ``negated`` and ``hypothetical`` record what the
    text said so that a matcher can be cautious with hypothetical mentions ("planned surgery").
    """

    type: ConstraintType
    span: tuple[int, int]
    text: str
    polarity: Polarity
    negated: bool = False
    hypothetical: bool = False


@dataclass(frozen=True, kw_only=True)
class ThresholdConstraint(Constraint):
    """A numeric bound on age or on a lab value / vital sign; ``value_high`` is set for ranges."""

    analyte: str
    comparator: Comparator
    value: float
    value_high: float | None = None
    unit: str | None = None
    normalized_value: float | None = None
    normalized_value_high: float | None = None
    normalized_unit: str | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True


@dataclass(frozen=True, kw_only=True)
class SexConstraint(Constraint):
    """The criterion admits one sex only."""

    sex: Literal["female", "male"]


@dataclass(frozen=True, kw_only=True)
class StateConstraint(Constraint):
    """A state of the patient: "is pregnant", "is breastfeeding", "smokes now" (smoking), "has ever smoked"
    (ever_smoked)."""


@dataclass(frozen=True, kw_only=True)
class SmokingConstraint(StateConstraint):
    """Smoking now ("Current smokers") or ever ("Smoking history of any kind"); ``time_limited`` when a period
    bounds it ("No smoking within 6 months"), which a former smoker's unknown quit date leaves open."""

    time_limited: bool = False


@dataclass(frozen=True, kw_only=True)
class PerformanceConstraint(Constraint):
    """A performance status range on ECOG (Zubrod and WHO use the same 0-5 scale) or Karnofsky/Lansky."""

    scale: Literal["ecog", "karnofsky"]
    scale_name: str
    min_score: float | None
    max_score: float | None


@dataclass(frozen=True, kw_only=True)
class TimeWindowConstraint(Constraint):
    """A time window around an event: "within 6 months" (relation within) or "at least 4 weeks since"."""

    relation: Literal["within", "at_least"]
    amount: float
    time_unit: str
    days: float
    event: str | None = None
    event_concept: str | None = None


@dataclass(frozen=True, kw_only=True)
class MentionConstraint(Constraint):
    """A condition or therapy the patient must have (require) or must not have (forbid)."""

    term: str
    concept: str | None = None
    time_limited: bool = False
    qualifiers: tuple[str, ...] = ()  # states the criterion narrows the mention to: ("uncontrolled",)


@dataclass(frozen=True, kw_only=True)
class BiomarkerConstraint(Constraint):
    """A tumour biomarker status: any (or all) of ``markers`` positive or negative, maybe one of named variants.

    The assertion is "the tumour is ``status`` for any / all of ``markers``"; ``variants`` narrows a positive one
    ("EGFR exon 19 deletion or L858R") or a negative HER2 ("HER2-low").
    """

    markers: tuple[str, ...]
    status: Literal["positive", "negative"]
    variants: tuple[str, ...] = ()
    combine: Literal["any", "all"] = "all"
