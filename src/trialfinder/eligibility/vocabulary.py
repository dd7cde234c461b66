"""Condition and therapy names learnt from registry records (MeSH terms, condition and intervention names).

The hand-written lexicon in terms.py knows a few hundred forms; criteria name thousands of diseases and drugs.
Registry records carry curated names for both (the derived MeSH terms, the drug and biological intervention
names), so a vocabulary mined from records — the whole corpus, or just the study whose criteria are read —
recognises "spondylolisthesis" or "leflunomide" without anyone listing them. Lookup works on word n-grams, so a
vocabulary of many thousand terms costs one dictionary probe per word and length, not a giant regex.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from trialfinder.model import Study

from .terms import ADJECTIVE_SHAPE, LAB_ANALYTES, normalize_term

MentionType = Literal["condition", "therapy"]
DEFAULT_VOCABULARY_FILE = Path(__file__).with_name("mined_terms.json")
MAX_TERM_WORDS = 8

_WORD = re.compile(r"[A-Za-z0-9]+(?:'s)?")
_CLAUSE_BREAK = re.compile(r"[.;:,()]")
# Category headings and words that are names in MeSH but say nothing checkable in a criterion.
_GENERIC = frozenset({
    "syndrome", "disease", "recurrence", "infarction", "chronic disease", "disease progression", "emergency",
    "pain", "inflammation", "necrosis", "fibrosis", "edema", "shock", "death", "pregnancy", "body weight", "weight loss",
    "disease attribute", "pathologic process", "neoplasm", "neoplasm by site", "neoplasm by histologic type",
    "pathological condition anatomical", "pathological condition sign and symptom", "sign and symptom",
    "antibody", "antibodies", "vaccine", "water", "oxygen", "hormone", "vitamin", "iron", "salt", "solution",
    "pharmaceutical solution", "placebo", "saline", "vehicle", "control", "standard of care", "usual care",
    "drug", "therapy", "treatment", "tablet", "capsule", "injection", "infusion", "mass", "lesion", "wound",
    "cell", "gene", "protein", "enzyme", "virus", "bacteria", "ulcer", "carcinogenesis", "syndrome x",
    "calcium", "potassium", "sodium", "glucose", "albumin", "creatinine", "cholesterol", "triglyceride",
    "diagnosis", "exercise", "alcohol", "ethanol", "environment", "economic", "ecosystem", "element", "biota",
    "amide", "amine", "azole", "smoking", "surgery", "procedure", "counseling", "education", "diet", "sleep",
})
# MeSH ancestors of interventions are mostly chemical or activity classes ("Heterocyclic Compounds",
# "Environment"); only the pharmacological classes among them are names a criterion uses.
_DRUG_CLASS = re.compile(r"\b(?:agents?|inhibitors?|antagonists?|agonists?|blockers?|antibodies|drugs?)$", re.I)
_NOT_A_NAME = re.compile(r"\b(?:by|and|or|arm|group|cohort|dose|level|phase|part|period|version)\b|\d", re.IGNORECASE)
# Records list "Healthy Volunteers" or "Normal Subjects" among their conditions: a population, not a diagnosis a
# patient could have or lack.
_POPULATION_NAME = re.compile(r"^(?:healthy|normal)\b", re.IGNORECASE)
# Drug stems (INN suffixes): a one-word intervention name with one of these is a drug name, not an ordinary word.
DRUG_SUFFIX = re.compile(
    r"(?:mab|nib|lisib|parib|ciclib|rafenib|degib|zomib|statin|pril|sartan|olol|azole|mycin|micin|cillin|floxacin|"
    r"cycline|vir|platin|taxel|rubicin|tecan|tide|gliptin|gliflozin|glutide|lukast|dronate|prazole|semide|thiazide|"
    r"dipine|afil|triptan|setron|parin|xaban|gatran|olimus|cept|kinra|leukin|poetin|grastim|stim|fungin|conazole|"
    r"amide|idine|azepam|azolam|barbital|caine|profen|coxib|fenac|terol|sonide|olone|asone|ostat|trexate|"
    r"abine|osine|uridine|citabine|fosfamide|mustine|plat|lidomide|tinib|zumab|ximab|umab)s?$",
    re.IGNORECASE,
)
_LAB_WORDS = frozenset(normalize_term(form) for forms in LAB_ANALYTES.values() for form in forms)


def term_key(text: str) -> str:
    """The lookup key of a name: its words lower-cased, hyphens as spaces, plurals and possessives folded."""
    return normalize_term(" ".join(_WORD.findall(text)))


def uninvert_mesh(term: str) -> str:
    """MeSH writes "Leukemia, Myeloid, Acute"; criteria write "acute myeloid leukemia"."""
    parts = [part.strip() for part in term.split(",") if part.strip()]
    if len(parts) < 2:
        return term
    return " ".join([*reversed(parts[1:]), parts[0]])


def _mesh_variants(term: str) -> Iterator[str]:
    name = uninvert_mesh(term)
    yield name
    if name != term and "," not in term.split(",", 1)[1]:
        yield term.replace(",", "")
    # MeSH files every cancer under "Neoplasms"; criteria say cancer, tumour or carcinoma.
    if re.search(r"\bneoplasms?\b", name, re.IGNORECASE):
        for word in ("cancer", "tumor", "tumour", "carcinoma"):
            yield re.sub(r"(?i)\bneoplasms?\b", word, name)
    if re.search(r"\binfections\b", name, re.IGNORECASE):
        # "HIV Infections" is HIV; "Bacterial Infections", "Respiratory Tract Infections" leave no name
        pathogen = re.sub(r"(?i)\s*\binfections\b", "", name).strip()
        if pathogen and not ADJECTIVE_SHAPE.search(pathogen) and not pathogen.lower().endswith("tract"):
            yield pathogen


def _usable(key: str, mention_type: MentionType) -> bool:
    if not key or len(key) < 3 or key in _GENERIC or key in _LAB_WORDS or key.endswith((" test", " tests")):
        return False
    words = key.split()
    if len(words) > MAX_TERM_WORDS:
        return False
    # Every word of a one-word name must be specific: "pain" or "cell" alone would match everywhere.
    return not (len(words) == 1 and len(key) < 4)


@dataclass(frozen=True)
class Vocabulary:
    """Names of conditions and therapies keyed by term_key, each with the name shown for it."""

    terms: dict[str, tuple[MentionType, str]]

    def __len__(self) -> int:
        return len(self.terms)

    @cached_property
    def _lengths_by_first_word(self) -> dict[str, tuple[int, ...]]:
        """For each first word, the word counts of the names that start with it, longest first."""
        lengths: dict[str, set[int]] = {}
        for key in self.terms:
            words = key.split()
            lengths.setdefault(words[0], set()).add(len(words))
        return {word: tuple(sorted(counts, reverse=True)) for word, counts in lengths.items()}

    def starts_a_name(self, word: str) -> bool:
        """Whether some name begins with this word ("liver" begins "liver metastases"; "diameter" begins none)."""
        return normalize_term(word) in self._lengths_by_first_word

    def find(self, text: str) -> list[tuple[int, int, MentionType, str]]:
        """Longest non-overlapping names in text, left to right: (start, end, type, name)."""
        if not self.terms:
            return []
        words = list(_WORD.finditer(text))
        keys = [normalize_term(word.group(0)) for word in words]
        # a name never spans a clause break: break_before[i] says punctuation separates word i-1 from word i
        break_before = [False] + [bool(_CLAUSE_BREAK.search(text, words[i - 1].end(), words[i].start()))
                                  for i in range(1, len(words))]
        starts = self._lengths_by_first_word
        found: list[tuple[int, int, MentionType, str]] = []
        index = 0
        while index < len(words):
            step = 1
            for length in starts.get(keys[index], ()):
                if index + length > len(words) or any(break_before[index + 1 : index + length]):
                    continue
                entry = self.terms.get(" ".join(keys[index : index + length]))
                if entry:
                    found.append((words[index].start(), words[index + length - 1].end(), entry[0], entry[1]))
                    step = length
                    break
            index += step
        return found


class VocabularyBuilder:
    """Collects names from studies; build() keeps those that are specific enough to recognise in criteria."""

    def __init__(self) -> None:
        self.conditions: Counter[str] = Counter()
        self.therapies: Counter[str] = Counter()
        self.shown: dict[str, str] = {}

    def _add(self, name: str, mention_type: MentionType) -> None:
        key = term_key(name)
        if not _usable(key, mention_type):
            return
        (self.conditions if mention_type == "condition" else self.therapies)[key] += 1
        self.shown.setdefault(key, name.lower())

    def add(self, study: Study, *, free_text_names: bool = False) -> None:
        """Learn from one study: MeSH terms always; condition and intervention names as typed when asked."""
        for term in (*study.mesh_terms("condition"), *study.mesh_terms("condition", ancestors=True)):
            for variant in _mesh_variants(term):
                self._add(variant, "condition")
        drug_classes = [term for term in study.mesh_terms("intervention", ancestors=True)
                        if _DRUG_CLASS.search(uninvert_mesh(term))]
        for term in (*study.mesh_terms("intervention"), *drug_classes):
            for variant in _mesh_variants(term):
                self._add(variant, "therapy")
        for intervention in study.arms_interventions.interventions:
            if intervention.type not in (None, "DRUG", "BIOLOGICAL"):
                continue
            for name in (intervention.name, *intervention.other_names):
                if name and _looks_like_drug_name(name, free_text_names):
                    self._add(name, "therapy")
        if free_text_names:
            for name in study.conditions.conditions:
                if not _NOT_A_NAME.search(name) and not _POPULATION_NAME.match(name.strip()) and len(name.split()) <= 5:
                    self._add(name, "condition")

    def build(self, min_studies: int = 1) -> Vocabulary:
        """The vocabulary of names seen in at least ``min_studies`` studies; a condition wins a clash."""
        terms: dict[str, tuple[MentionType, str]] = {}
        for key, count in self.therapies.items():
            if count >= min_studies:
                terms[key] = ("therapy", self.shown[key])
        for key, count in self.conditions.items():
            if count >= min_studies:
                terms[key] = ("condition", self.shown[key])
        return Vocabulary(terms)


def _looks_like_drug_name(name: str, free_text: bool) -> bool:
    words = name.split()
    if len(words) == 1 and DRUG_SUFFIX.search(name) and name.isalpha():
        return True
    return free_text and len(words) <= 3 and not _NOT_A_NAME.search(name)


def study_vocabulary(study: Study) -> Vocabulary:
    """The names one study itself records (its MeSH terms, conditions and interventions)."""
    builder = VocabularyBuilder()
    builder.add(study, free_text_names=True)
    return builder.build()


def mine_vocabulary(studies: Iterable[Study], min_studies: int = 1) -> Vocabulary:
    """A vocabulary mined from many studies' MeSH terms and drug names."""
    builder = VocabularyBuilder()
    for study in studies:
        builder.add(study)
    return builder.build(min_studies)


def save_vocabulary(vocabulary: Vocabulary, path: Path) -> None:
    """Write a vocabulary as sorted JSON, one name a line (stable, readable diffs)."""
    lines = [f"{json.dumps(key, ensure_ascii=False)}: {json.dumps(list(value), ensure_ascii=False)}"
             for key, value in sorted(vocabulary.terms.items())]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def load_vocabulary(path: Path) -> Vocabulary:
    """Read a vocabulary written by save_vocabulary; a missing file is an empty vocabulary."""
    if not path.exists():
        return Vocabulary({})
    rows = json.loads(path.read_text(encoding="utf-8"))
    return Vocabulary({key: (value[0], value[1]) for key, value in rows.items()})


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The vocabulary shipped with trialfinder (mined from the real records in the shared data)."""
    return load_vocabulary(DEFAULT_VOCABULARY_FILE)
