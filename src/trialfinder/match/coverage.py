"""How much of a trial's own condition list the patient's text names: the trial-side view of topical fit."""

from __future__ import annotations

from functools import lru_cache

from trialfinder.model import Study

from .phrases import stem, tokens

# Words too broad to show that a trial's condition is the patient's ("Breast Cancer" needs "breast").
_BROAD = ("disease", "disorder", "syndrome", "patient", "patients", "healthy", "cancer", "tumor", "infection", "pain",
          "failure", "chronic", "acute", "type")


@lru_cache(maxsize=1)
def _broad_stems() -> frozenset[str]:
    return frozenset(stem(word) for word in _BROAD)


def condition_names(study: Study) -> list[str]:
    """The study's conditions, keywords and condition MeSH terms."""
    return [*study.conditions.conditions, *study.conditions.keywords, *study.mesh_terms("condition")]


def condition_coverage(study: Study, patient_stems: set[str]) -> float:
    """The best share, over the study's condition names, of their specific words that the patient text contains."""
    best = 0.0
    for name in condition_names(study):
        best = max(best, condition_coverage_of(name, patient_stems))
        if best == 1.0:
            break
    return best


def specific_stems(name: str) -> list[str]:
    """The stems of a condition name's specific words (not generic, not broad like "disease" or "cancer")."""
    broad = _broad_stems()
    return [t.stem for t in tokens(name) if t.content and len(t.stem) > 1 and t.stem not in broad]


def condition_coverage_of(name: str, patient_stems: set[str]) -> float:
    """The share of one condition name's specific words that the patient text contains (0 without any)."""
    specific = specific_stems(name)
    return sum(word in patient_stems for word in specific) / len(specific) if specific else 0.0


def patient_stems(text: str) -> set[str]:
    """The stems of every word of the patient's text."""
    return {token.stem for token in tokens(text)}
