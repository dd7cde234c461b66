"""What matching returns: one verdict per criterion and one ranked TrialMatch per study."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["met", "not_met", "unknown"]
Kind = Literal["inclusion", "exclusion"]
Source = Literal["structured", "rules", "terms", "llm"]


@dataclass(frozen=True)
class CriterionVerdict:
    """Whether one criterion lets the patient in.

    ``status`` is about eligibility, whatever the section: an exclusion criterion is "met" when it does not
    exclude the patient and "not_met" when it does. ``evidence`` quotes the patient text the verdict rests on,
    ``span`` locates the criterion in the study's eligibility text (None for the record's age/sex fields).
    """

    criterion: str
    kind: Kind
    status: Status
    reason: str
    evidence: str | None = None
    span: tuple[int, int] | None = None
    source: Source = "rules"
    hard: bool = False  # a not_met on age, sex, pregnancy or a rule-checked exclusion rules the patient out


@dataclass
class TrialMatch:
    """One study ranked for a patient, with every criterion's verdict."""

    nct_id: str
    title: str
    score: float
    relevance: float
    verdicts: list[CriterionVerdict] = field(default_factory=list)
    excluded: bool = False
    overall_status: str | None = None
    conditions: list[str] = field(default_factory=list)

    @property
    def met(self) -> int:
        return sum(v.status == "met" for v in self.verdicts)

    @property
    def not_met(self) -> int:
        return sum(v.status == "not_met" for v in self.verdicts)

    @property
    def unknown(self) -> int:
        return sum(v.status == "unknown" for v in self.verdicts)

    @property
    def reasons(self) -> list[str]:
        """Short explanations for a result list: what excludes, then what fits."""
        blocking = [f"{v.kind}: {v.criterion[:120]} ({v.reason})" for v in self.verdicts if v.status == "not_met"]
        fitting = [f"{v.kind}: {v.criterion[:120]} ({v.reason})" for v in self.verdicts if v.status == "met"]
        return blocking[:3] + fitting[:3]

    def to_dict(self) -> dict:
        """A JSON-ready dict (used by the CLI's --json and the API)."""
        return {
            "nct_id": self.nct_id, "title": self.title, "score": round(self.score, 4),
            "relevance": round(self.relevance, 4), "excluded": self.excluded, "overall_status": self.overall_status,
            "conditions": self.conditions, "met": self.met, "not_met": self.not_met, "unknown": self.unknown,
            "verdicts": [
                {"criterion": v.criterion, "kind": v.kind, "status": v.status, "reason": v.reason,
                 "evidence": v.evidence, "span": list(v.span) if v.span else None, "source": v.source,
                 "hard": v.hard}
                for v in self.verdicts
            ],
        }
