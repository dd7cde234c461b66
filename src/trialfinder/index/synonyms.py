"""Synonyms mined from the registry at index build: abbreviations defined in the text, and condition -> MeSH.

"Autoimmune Pulmonary Alveolar Proteinosis (aPAP)" in one record teaches that aPAP means that disease, so a
search for aPAP also finds records that only spell it out (and the other way round). A condition string that
records file under a MeSH term ("Heart Attack" -> "Myocardial Infarction") lets a search for it reach every
record indexed under that term.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

from trialfinder.index.abbreviations import abbreviation_pairs
from trialfinder.index.schema import analyze
from trialfinder.model import Study

SYNONYMS_FILE = "synonyms.json"
MAX_EXPANSIONS = 3
MAX_LONG_FORM_WORDS = 10
# Expansions rarer than this share of the commonest meaning are noise ("MS" is not "mitral stenosis" here).
MIN_SHARE = 0.1
MIN_MESH_SHARE = 0.5


def phrase_key(text: str) -> str:
    """The comparison key of a phrase: its index terms (stemmed, folded), space-joined."""
    return " ".join(analyze(text))


def _add(table: dict[str, dict[str, int]], key: str, value: str) -> None:
    table.setdefault(key, {})
    table[key][value] = table[key].get(value, 0) + 1


class SynonymMiner:
    """Collects abbreviation pairs and condition/MeSH pairs from studies, then yields a SynonymTable."""

    def __init__(self) -> None:
        self.short_to_long: dict[str, dict[str, int]] = {}
        self.condition_mesh: dict[str, dict[str, int]] = {}
        self.condition_totals: dict[str, int] = {}

    def add(self, study: Study) -> None:
        """Learn from one study."""
        ident = study.identification
        parts = [ident.brief_title, ident.official_title, "; ".join(study.conditions.conditions),
                 "; ".join(study.conditions.keywords), study.description.brief_summary,
                 study.description.detailed_description]
        text = "\n".join(part for part in parts if part)
        if "(" in text:
            for short, long in abbreviation_pairs(text):
                if _plausible_pair(short, long):
                    _add(self.short_to_long, short, long)
        conditions = study.conditions.conditions
        meshes = study.mesh_terms("condition")
        # only single-condition records say unambiguously which MeSH term their condition text means
        if len(conditions) == 1 and 0 < len(meshes) <= 2:
            key = phrase_key(conditions[0])
            self.condition_totals[key] = self.condition_totals.get(key, 0) + 1
            for mesh in meshes:
                if key and phrase_key(mesh) != key:
                    _add(self.condition_mesh, key, mesh)

    def table(self) -> SynonymTable:
        """The mined table: condition -> MeSH pairs seen in at least MIN_MESH_SHARE of that condition's records."""
        condition_mesh = {}
        for key, meshes in self.condition_mesh.items():
            floor = self.condition_totals.get(key, 0) * MIN_MESH_SHARE
            kept = {mesh: n for mesh, n in meshes.items() if n >= floor}
            if kept:
                condition_mesh[key] = kept
        return SynonymTable(self.short_to_long, condition_mesh)


def _plausible_pair(short: str, long: str) -> bool:
    letters = sum(ch.isalpha() for ch in short)
    return letters >= 2 and len(short) <= 12 and 1 < len(long.split()) <= MAX_LONG_FORM_WORDS


def _top(counts: dict[str, int]) -> list[str]:
    if not counts:
        return []
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    floor = ranked[0][1] * MIN_SHARE
    return [value for value, count in ranked[:MAX_EXPANSIONS] if count >= floor]


class SynonymTable:
    """Lookups of mined synonyms for a span of query text."""

    def __init__(self, short_to_long: dict[str, dict[str, int]], condition_mesh: dict[str, dict[str, int]]):
        self.short_to_long = short_to_long
        self.condition_mesh = condition_mesh
        self._folded: dict[str, dict[str, int]] = defaultdict(dict)
        self._long_to_short: dict[str, dict[str, int]] = defaultdict(dict)
        for short, longs in short_to_long.items():
            folded = self._folded[short.lower()]
            for long, count in longs.items():
                folded[long.lower()] = folded.get(long.lower(), 0) + count
                key = phrase_key(long)
                self._long_to_short[key][short] = self._long_to_short[key].get(short, 0) + count
        self.max_words = min(6, max([len(key.split()) for key in (*self._long_to_short, *condition_mesh)] or [1]))

    def __len__(self) -> int:
        return len(self.short_to_long) + len(self.condition_mesh)

    def expansions(self, span: str) -> list[str]:
        """Phrases meaning the same as span: long forms of an abbreviation, abbreviations, MeSH terms."""
        span = span.strip()
        key = phrase_key(span)
        if not key:
            return []
        found: list[str] = []
        if " " not in span:
            # exact case first: "aPAP" is the lung disease, "APAP" usually acetaminophen
            longs = self.short_to_long.get(span) or self._folded.get(span.lower(), {})
            found += _top({long.lower(): n for long, n in longs.items()}) if longs else []
        found += [short for short in _top(self._long_to_short.get(key, {})) if self._means_only(short, key)]
        found += _top(self.condition_mesh.get(key, {}))
        unique: dict[str, None] = {}
        for phrase in found:
            if phrase_key(phrase) != key:
                unique.setdefault(phrase, None)
        return list(unique)

    def _means_only(self, short: str, key: str) -> bool:
        """Whether an abbreviation's usual meaning is this phrase ("BC" for breast cancer, not "ALL" for all)."""
        meanings = _top(self._folded.get(short.lower(), {}))
        return bool(meanings) and all(phrase_key(meaning) == key for meaning in meanings)

    def save(self, directory: Path) -> None:
        """Write the table into an index directory."""
        path = directory / SYNONYMS_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"abbreviations": self.short_to_long, "condition_mesh": self.condition_mesh},
                                        ensure_ascii=False, separators=(",", ":")))
        os.replace(temporary, path)

    @classmethod
    def load(cls, directory: Path) -> SynonymTable:
        """Read the table of an index directory (empty when there is none)."""
        path = directory / SYNONYMS_FILE
        if not path.exists():
            return cls({}, {})
        data = json.loads(path.read_text())
        return cls(data.get("abbreviations", {}), data.get("condition_mesh", {}))
