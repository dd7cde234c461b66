"""Search queries built from a patient: the conditions they have (with synonyms) and the words of their note."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from trialfinder.eligibility.context import patient_mention_context
from trialfinder.index.schema import analyze

from .patient import Patient
from .phrases import stem

MAX_QUERY_CHARS = 1900  # the engine reads at most 2000 characters of a query
MAX_PHRASE_WORDS = 5

_STOPWORDS = frozenset("""a about after again all also am an and any are as at be because been before being between
both but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once
only or other our ours out over own same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where which while who whom why
will with would you your yours patient patients presents presented year years old yo male female man woman
history""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-']*[A-Za-z0-9]|[A-Za-z]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])|\n\s*\n")


def text_words(text: str, max_chars: int = MAX_QUERY_CHARS) -> list[str]:
    """The note's distinct words, lower-cased, without stop words, in order, within the engine's query budget."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text):
        word = match.group(0).lower().strip("-'")
        if len(word) > 1 and word not in _STOPWORDS and not word.isdigit():
            seen.setdefault(word, None)
    words, used = [], 0
    for word in seen:
        used += len(word) + 4
        if used > max_chars:
            break
        words.append(word)
    return words


# Words of clinical notes that say nothing about which trial fits: narrative, exam and vital-sign boilerplate.
_NOTE_BOILERPLATE = frozenset("""ago admitted admission brought came come comes complain complaining complains
complaint complaints consult consulted day days department describes emergency evaluation examination exam
found further hospital including later month months normal noted otherwise physical pulse reports reported
reveal revealed reveals show showed shows significant since sign signs states status subsequently today
undergoes underwent unremarkable visit vital week weeks well year-old""".split())


def key_words(text: str, max_chars: int = MAX_QUERY_CHARS, *, drop_negated: bool = True,
              drop_boilerplate: bool = True) -> list[str]:
    """The note's words for matching: text_words without narrative boilerplate or negated findings ("denies fever")."""
    negated: set[str] = set()
    affirmed: set[str] = set()
    for match in _WORD.finditer(text) if drop_negated else ():
        word = match.group(0).lower().strip("-'")
        if word in _STOPWORDS or word in _NOTE_BOILERPLATE:
            continue
        context = patient_mention_context(text, match.start(), match.end())
        (negated if context.negated else affirmed).add(word)
    only_negated = negated - affirmed
    boilerplate = _NOTE_BOILERPLATE if drop_boilerplate else frozenset()
    words = text_words(text, max_chars=10**9)
    kept, used = [], 0
    for word in words:
        if word in boilerplate or word in only_negated:
            continue
        used += len(word) + 4
        if used > max_chars:
            break
        kept.append(word)
    return kept


def or_query(parts: list[str]) -> str:
    """Any of the parts: a query string the engine reads as a disjunction."""
    return " OR ".join(parts)


def quoted(phrase: str) -> str:
    """A phrase as the query language's exact phrase."""
    return '"' + phrase.replace('"', " ").strip() + '"'


class ConditionVocabulary:
    """Condition names the index knows (condition strings and their MeSH terms), looked up by stemmed n-gram."""

    def __init__(self, phrase_keys: set[str]):
        self.keys = {key for key in phrase_keys if key}
        self.longest = max((len(key.split()) for key in self.keys), default=1)

    @classmethod
    def from_synonyms(cls, table) -> ConditionVocabulary:
        """The vocabulary of an index's mined synonym table (condition -> MeSH pairs, abbreviation long forms)."""
        keys: set[str] = set(table.condition_mesh)
        for meshes in table.condition_mesh.values():
            keys.update(" ".join(analyze(mesh)) for mesh in meshes)
        return cls(keys)

    def find(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the longest known condition names in text, left to right, without overlaps."""
        words = [(m.start(), m.end(), stem(m.group(0))) for m in re.finditer(r"[A-Za-z0-9]+", text)]
        spans = []
        index = 0
        while index < len(words):
            for size in range(min(self.longest, MAX_PHRASE_WORDS, len(words) - index), 0, -1):
                key = " ".join(w[2] for w in words[index : index + size])
                if key in self.keys and (size > 1 or len(words[index][2]) > 3):
                    spans.append((words[index][0], words[index + size - 1][1]))
                    index += size
                    break
            else:
                index += 1
        return spans


@dataclass(frozen=True)
class ConditionPhrase:
    """A condition the patient has, as their text words it, and whether it comes from the note's opening."""

    text: str
    leading: bool


def condition_phrases(patient: Patient, vocabulary: ConditionVocabulary | None) -> list[ConditionPhrase]:
    """Conditions the patient has (not negated, not hypothetical), from the lexicon, the index vocabulary and fields."""
    found: dict[str, ConditionPhrase] = {}
    text = patient.text
    opening_end = _opening_end(text)
    for mention in patient.profile.diagnoses:
        surface = mention.evidence or mention.term
        position = text.lower().find(surface.lower()) if text else -1
        found.setdefault(" ".join(analyze(surface)), ConditionPhrase(surface, 0 <= position < opening_end or not text))
    if vocabulary is not None and text:
        for start, end in vocabulary.find(text):
            context = patient_mention_context(text, start, end)
            if context.negated or context.hypothetical or context.ignored:
                continue
            phrase = text[start:end]
            found.setdefault(" ".join(analyze(phrase)), ConditionPhrase(phrase, start < opening_end))
    return [phrase for key, phrase in found.items() if key]


def _opening_end(text: str) -> int:
    """Where the note's first two sentences end: the chief complaint and main diagnosis usually sit there."""
    ends = [m.start() for m in _SENTENCE_END.finditer(text)]
    return ends[1] if len(ends) > 1 else len(text)


@lru_cache(maxsize=8)
def _generation_vocabulary(generation: Path) -> ConditionVocabulary | None:
    from trialfinder.index import SynonymTable

    table = SynonymTable.load(generation)
    return ConditionVocabulary.from_synonyms(table) if len(table) else None


def vocabulary_of(engine) -> ConditionVocabulary | None:
    """The condition vocabulary of the engine's current index generation (None without settings or synonyms)."""
    from trialfinder.index import current_generation

    settings = getattr(engine, "settings", None)
    if settings is None:
        return None
    generation = current_generation(settings.index_dir)
    return _generation_vocabulary(generation.resolve()) if generation else None
