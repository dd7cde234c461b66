"""Synonyms mined at index build: abbreviations defined in the text, condition -> MeSH, ontology names.

"Autoimmune Pulmonary Alveolar Proteinosis (aPAP)" in one record teaches that aPAP means that disease, so a
search for aPAP also finds records that only spell it out (and the other way round). A condition string that
records file under a MeSH term ("Heart Attack" -> "Myocardial Infarction") lets a search for it reach every
record indexed under that term. Phenotype and rare-disease names that the HPO ontology calls exact synonyms
("Intraalveolar phospholipid accumulation" = "Pulmonary alveolar proteinosis") are kept when at least one of the
names occurs in the conditions, keywords or MeSH terms of the indexed studies.
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

from trialfinder.index.abbreviations import abbreviation_pairs
from trialfinder.index.ontology import MAX_NAME_WORDS, OntologyUnavailable, ontology_release, synonym_groups
from trialfinder.index.schema import analyze
from trialfinder.model import Study

log = logging.getLogger(__name__)

SYNONYMS_FILE = "synonyms.json"
MAX_EXPANSIONS = 3
MAX_LONG_FORM_WORDS = 10
# Expansions rarer than this share of the commonest meaning are noise ("MS" is not "mitral stenosis" here).
MIN_SHARE = 0.1
MIN_MESH_SHARE = 0.5

OntologyGroup = list[list]  # [[spelling, folded key, studies using the name], ...] of names meaning the same


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
        self.condition_names: Counter[str] = Counter()  # condition, keyword and MeSH strings -> studies using them

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
        self.condition_names.update({*conditions, *study.conditions.keywords, *meshes})
        # only single-condition records say unambiguously which MeSH term their condition text means
        if len(conditions) == 1 and 0 < len(meshes) <= 2:
            key = phrase_key(conditions[0])
            self.condition_totals[key] = self.condition_totals.get(key, 0) + 1
            for mesh in meshes:
                if key and phrase_key(mesh) != key:
                    _add(self.condition_mesh, key, mesh)

    def table(self) -> SynonymTable:
        """The mined table: abbreviations, condition -> MeSH pairs most records agree on, ontology groups in use."""
        condition_mesh = {}
        for key, meshes in self.condition_mesh.items():
            floor = self.condition_totals.get(key, 0) * MIN_MESH_SHARE
            kept = {mesh: n for mesh, n in meshes.items() if n >= floor}
            if kept:
                condition_mesh[key] = kept
        try:
            groups, release = synonym_groups(phrase_key), ontology_release()
        except (OntologyUnavailable, OSError, ValueError) as error:  # the other synonyms still serve without it
            log.warning("no ontology synonyms: %s", error)
            groups, release = [], ""
        ontology = ontology_in_use(groups, self.condition_names)
        return SynonymTable(self.short_to_long, condition_mesh, ontology, release if ontology else "")


def ontology_in_use(groups: list[dict[str, str]], condition_names: Mapping[str, int]) -> list[OntologyGroup]:
    """The synonym groups with a name that the studies' condition strings contain, with per-name study counts."""
    group_of = {folded: number for number, group in enumerate(groups) for folded in group}
    by_stem: Counter[str] = Counter()
    as_written: Counter[str] = Counter()
    name_written: dict[str, str] = {}
    for text, count in condition_names.items():
        terms = phrase_key(text).split()
        contained = {" ".join(terms[start:start + width])
                     for width in range(1, min(MAX_NAME_WORDS, len(terms)) + 1)
                     for start in range(len(terms) - width + 1)}
        written = None
        for folded in contained & group_of.keys():
            by_stem[folded] += count
            written = written if written is not None else _written_form(text)
            if folded not in name_written:
                name_written[folded] = _written_form(groups[group_of[folded]][folded])
            if name_written[folded] in written:
                as_written[folded] += count
    # The stemmer folds some names into common words ("Prostatitis" and "prostate" both index as "prostat",
    # "Uterine cervicitis" as "uterine cervical"): a name found mostly through such a fold is left unused, or it
    # would bring in every study of the common word.
    studies = {folded: n for folded, n in as_written.items() if n * 2 >= by_stem[folded]}
    in_use = sorted({group_of[folded] for folded in studies})
    return [[[spelling, folded, studies.get(folded, 0)] for folded, spelling in groups[number].items()]
            for number in in_use]


def _written_form(text: str) -> str:
    """Lower-case ASCII words without a plural s, space-padded: "Kidney Stones" and "kidney stone" compare equal."""
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return " " + " ".join(word.removesuffix("s") for word in re.findall(r"[a-z0-9]+", folded)) + " "


def _plausible_pair(short: str, long: str) -> bool:
    letters = sum(ch.isalpha() for ch in short)
    if not (letters >= 2 and len(short) <= 12 and 1 < len(long.split()) <= MAX_LONG_FORM_WORDS):
        return False
    # A long form that starts at a bracket or repeats the short form is list text the miner cut at the wrong place:
    # "Carcinoma (cancer), other refractory carcinoma" once taught that "cancer" means "(cancer), other ...".
    words = re.findall(r"\w+", long.lower())
    return long[:1].isalnum() and "(" not in long and ")" not in long and short.lower() not in words


def _top(counts: dict[str, int]) -> list[str]:
    if not counts:
        return []
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    floor = ranked[0][1] * MIN_SHARE
    return [value for value, count in ranked[:MAX_EXPANSIONS] if count >= floor]


class SynonymTable:
    """Lookups of mined synonyms for a span of query text."""

    def __init__(self, short_to_long: dict[str, dict[str, int]], condition_mesh: dict[str, dict[str, int]],
                 ontology: list[OntologyGroup] | None = None, ontology_release: str = ""):
        self.short_to_long = short_to_long
        self.condition_mesh = condition_mesh
        self.ontology = ontology or []
        self.ontology_release = ontology_release  # the HPO release the names come from, for the attribution
        self._ontology_groups: dict[str, list[int]] = defaultdict(list)
        for number, group in enumerate(self.ontology):
            for _spelling, folded, _studies in group:
                self._ontology_groups[folded].append(number)
        self._folded: dict[str, dict[str, int]] = defaultdict(dict)
        self._long_to_short: dict[str, dict[str, int]] = defaultdict(dict)
        for short, longs in short_to_long.items():
            folded = self._folded[short.lower()]
            for long, count in longs.items():
                folded[long.lower()] = folded.get(long.lower(), 0) + count
                key = phrase_key(long)
                self._long_to_short[key][short] = self._long_to_short[key].get(short, 0) + count
        known = (*self._long_to_short, *condition_mesh, *self._ontology_groups)
        self.max_words = min(MAX_NAME_WORDS, max([len(key.split()) for key in known] or [1]))

    def __len__(self) -> int:
        return len(self.short_to_long) + len(self.condition_mesh) + len(self.ontology)

    def expansions(self, span: str) -> list[str]:
        """Phrases meaning the same as span: abbreviation long forms, abbreviations, MeSH terms, ontology names."""
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
        found += self._ontology_names(key)
        unique: dict[str, None] = {}
        for phrase in found:
            if phrase_key(phrase) != key:
                unique.setdefault(phrase, None)
        return list(unique)

    def _ontology_names(self, key: str) -> list[str]:
        """The names of key's ontology group that studies use, commonest first."""
        terms = set(key.split())
        names: dict[str, int] = {}
        for number in self._ontology_groups.get(key, ()):
            for spelling, folded, studies in self.ontology[number]:
                # one word out of the span's words is broader in practice: "Epileptic seizure" -> "Seizure"
                if studies and folded != key and not (" " not in folded and folded in terms):
                    names[spelling] = max(studies, names.get(spelling, 0))
        return sorted(names, key=lambda spelling: (-names[spelling], spelling))[:MAX_EXPANSIONS]

    def _means_only(self, short: str, key: str) -> bool:
        """Whether an abbreviation's usual meaning is this phrase ("BC" for breast cancer, not "ALL" for all)."""
        meanings = _top(self._folded.get(short.lower(), {}))
        return bool(meanings) and all(phrase_key(meaning) == key for meaning in meanings)

    def save(self, directory: Path) -> None:
        """Write the table into an index directory."""
        path = directory / SYNONYMS_FILE
        temporary = path.with_suffix(".tmp")
        data = {"abbreviations": self.short_to_long, "condition_mesh": self.condition_mesh, "ontology": self.ontology,
                "ontology_release": self.ontology_release}
        temporary.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        os.replace(temporary, path)

    @classmethod
    def load(cls, directory: Path) -> SynonymTable:
        """Read the table of an index directory (empty when there is none)."""
        path = directory / SYNONYMS_FILE
        if not path.exists():
            return cls({}, {})
        data = json.loads(path.read_text())
        return cls(data.get("abbreviations", {}), data.get("condition_mesh", {}), data.get("ontology", []),
                   data.get("ontology_release", ""))
