"""Turn topical relevance and criterion verdicts into one score: eligible trials first, excluded ones last."""

from __future__ import annotations

from dataclasses import dataclass

from .types import CriterionVerdict


@dataclass(frozen=True)
class RankWeights:
    """How much each signal counts; relevance lies in [0, 1]."""

    # Tuned on TREC CT 2021/2022 (bench/trec_bench.py): false "excluded" verdicts are common enough on real notes
    # that a moderate penalty ranks better than burying every excluded trial.
    inclusion_met: float = 0.0  # share of inclusion criteria the patient is known to meet
    inclusion_met_terms: float = 0.0  # extra when an inclusion criterion is met on the patient's own words
    soft_exclusion: float = 0.1  # per criterion the patient's words suggest excludes them (at most 2 counted)
    soft_inclusion_miss: float = 0.0  # per inclusion the patient's words suggest is not met (at most 2 counted)
    excluded: float = 0.25  # a hard not_met from the criteria text: the trial drops below equally relevant ones
    # the record's own age range or sex field rules the patient out: nearly never wrong, so it weighs more
    excluded_structured: float = 0.4
    # per criterion the description leaves undecided (at most MAX_UNKNOWN_COUNTED): each one is a chance that the
    # patient is not eligible after all, so of two equally relevant trials the one with fewer open questions leads
    unknown: float = 0.006


MAX_UNKNOWN_COUNTED = 40

DEFAULT_WEIGHTS = RankWeights()


def eligibility_score(verdicts: list[CriterionVerdict], weights: RankWeights = DEFAULT_WEIGHTS) -> tuple[float, bool]:
    """The eligibility part of the score and whether the patient is ruled out."""
    excluded = any(v.status == "not_met" and v.hard for v in verdicts)
    inclusions = [v for v in verdicts if v.kind == "inclusion" and v.source != "structured"]
    met = [v for v in inclusions if v.status == "met"]
    score = weights.inclusion_met * (len(met) / len(inclusions) if inclusions else 0.0)
    score += weights.inclusion_met_terms * min(1, sum(v.source == "terms" for v in met))
    soft_exclusions = sum(v.status == "not_met" and not v.hard and v.kind == "exclusion" for v in verdicts)
    soft_misses = sum(v.status == "not_met" and not v.hard and v.kind == "inclusion" for v in verdicts)
    score -= weights.soft_exclusion * min(soft_exclusions, 2) + weights.soft_inclusion_miss * min(soft_misses, 2)
    undecided = sum(v.status == "unknown" and v.source != "structured" for v in verdicts)
    score -= weights.unknown * min(undecided, MAX_UNKNOWN_COUNTED)
    if any(v.status == "not_met" and v.hard and v.source == "structured" for v in verdicts):
        score -= weights.excluded_structured
    if any(v.status == "not_met" and v.hard and v.source != "structured" for v in verdicts):
        score -= weights.excluded
    return score, excluded


def normalized(scores: dict[str, float]) -> dict[str, float]:
    """Scores divided by the best one, so that relevance lies in [0, 1] whatever the query."""
    top = max(scores.values(), default=0.0)
    return {key: (value / top if top > 0 else 0.0) for key, value in scores.items()}
