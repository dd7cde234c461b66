"""Phrase overlap between a criterion and the patient's text, for criteria the constraint rules cannot read.

The eligibility lexicon knows a few hundred concepts; trials name thousands ("anaplastic astrocytoma",
"bicuspid aortic valve"). When two or more consecutive content words of a criterion, or one rare-looking
medical word, also occur in the patient's text, the criterion is about something the patient mentioned, and the
negation rules on the patient's side say whether the patient has it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from trialfinder.eligibility.terms import LAB_ANALYTES
from trialfinder.eligibility.context import mention_context, mention_states, note_states, patient_mention_context
from trialfinder.index.schema import analyze

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’]s)?|\d+[A-Za-z]+[A-Za-z0-9]*")

# Words that say nothing about which condition or treatment a criterion is about.
_GENERIC_WORDS = """
a about above absence accepted according acute adequate adult adults after again age aged agent agents all allowed
also an and any anticipated applicable approved are as at available based be been before being below between both but
by can cannot case cases chronic clinical clinically completed concurrent condition conditions confirmed consent
considered control controlled current currently day days defined determined diagnosed diagnosis disease diseases
disorder disorders documented dose doses drug drugs due during each either eligible enrolled enrollment entry
evaluation evidence except excluded exclusion expected following for from function grade greater had has have
having history however if ii iii illness in inclusion including indicated informed investigational investigator
involving is it its known least less level levels life limit limited lower major may medical medication medications
month months more moderate must new no normal not of on one only opinion or other over participant participants
participate participation past patient patients per period persistent physician positive negative possible potential
presence present previous previously primary prior procedure procedures protocol provide randomization receive
received receiving recent related require required requiring result results risk screening serious severe should
significant since stable stage status study subject subjects such sufficient suspected than that the their them then
there therapy these they this those time to treated treatment treatments trial two type under unless upper use used
using visit was weeks week were which who will willing with within without women men year years yes able ability
agree agrees baseline body cause caused criteria criterion current days day day evaluable measurable
medically notes number onset other otherwise part person plan planned programs range reason regimen regimens
signed subjects systemic test tests three times total uncontrolled unstable value values via would written
"""
MIN_SINGLE_WORD = 7  # a lone shared word must be this long to count ("astrocytoma", not "cancer")
_SINGLE_GENERIC = """cancer tumor tumour infection surgery pain failure injury syndrome therapy medicine chemotherapy
disease malignancy malignant carcinoma metastatic metastases metastasis treatment hospital patients symptoms
abnormal abnormality abnormalities evidence previous history problems problem function hepatic renal cardiac
pulmonary respiratory neurological psychiatric inflammatory infectious episode episodes""".split()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The index's stemmed, folded form of one word."""
    terms = analyze(word)
    return terms[0] if terms else word.lower()


@lru_cache(maxsize=1)
def _generic_stems() -> frozenset[str]:
    return frozenset(stem(word) for word in _GENERIC_WORDS.split())


@lru_cache(maxsize=1)
def _single_generic_stems() -> frozenset[str]:
    # a lab's name alone ("temperature", "creatinine") says the patient had it measured, not that they have what
    # the criterion is about: the lab rules judge its value
    lab_words = {form for forms in LAB_ANALYTES.values() for form in forms if re.fullmatch(r"[a-z]+", form)}
    return frozenset(stem(word) for word in [*_SINGLE_GENERIC, *lab_words])


@dataclass(frozen=True)
class Token:
    """One word of a text: its stem and where it stands."""

    stem: str
    start: int
    end: int
    content: bool


def tokens(text: str) -> list[Token]:
    """Words of text with stems and a flag for content words (not generic criterion vocabulary)."""
    generic = _generic_stems()
    found = []
    for match in _WORD.finditer(text):
        word_stem = stem(match.group(0))
        found.append(Token(word_stem, match.start(), match.end(), word_stem not in generic and len(word_stem) > 1))
    return found


# "Type 1 diabetes", "NYHA class IV", "class 3 obesity": a number or numeral that says which kind of the named thing
_KIND_BEFORE = re.compile(r"\b(?:type|stage|grade|class|phase|level)\s*(?:[ivx]+|\d+[a-c]?)[\s-]*$", re.IGNORECASE)
_KIND_WORD_LAST = re.compile(r"\b(?:type|stage|grade|class|phase|level)$", re.IGNORECASE)
_KIND_AFTER = re.compile(r"[\s-]*(?:[ivx]+|\d+[a-c]?)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b\d+[a-c]?\b", re.IGNORECASE)


def _numbered_kind(text: str, start: int, end: int) -> tuple[str, str, tuple[str, ...]]:
    """The numbered kind a phrase text[start:end] names: before it ("type 1"), after a last "class" ("IV"), and
    the numbers inside it ("class 3 obesity"), lower-cased."""
    before = _KIND_BEFORE.search(text, max(0, start - 20), start)
    after = _KIND_AFTER.match(text, end) if _KIND_WORD_LAST.search(text, start, end) else None
    return (before.group(0).strip(" -").lower() if before else "",
            after.group(0).strip(" -").lower() if after else "",
            tuple(number.lower() for number in _NUMBER.findall(text, start, end)))


def _same_numbered_kind(criterion: str, c_start: int, c_end: int, text: str, start: int, end: int) -> bool:
    """Whether the patient's phrase is of the numbered kind the criterion names, if it names one ("Type 1 diabetes"
    is not a patient's "type 2 diabetes"; "History of diabetes" is)."""
    wanted, found = _numbered_kind(criterion, c_start, c_end), _numbered_kind(text, start, end)
    return all(not part or part == have for part, have in zip(wanted, found))


@dataclass(frozen=True)
class PhraseHit:
    """A criterion phrase found in the patient text, and whether the patient's text affirms or negates it."""

    phrase: str
    evidence: str
    negated: bool
    negated_in_criterion: bool
    words: int


class PatientText:
    """The patient's text indexed by stem, bigram and position for repeated phrase lookups."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokens(text)
        self.positions: dict[str, list[int]] = {}
        self.course_states = set(note_states(text))
        for index, token in enumerate(self.tokens):
            self.positions.setdefault(token.stem, []).append(index)

    def _narrower_than_the_patients(self, criterion: str, criterion_start: int, criterion_end: int,
                                    patient_start: int, patient_end: int) -> bool:
        """Whether the criterion puts the phrase in a state ("uncontrolled", "active") the patient's text does not
        give it: "Uncontrolled hypertension" says nothing of a patient whose hypertension is controlled."""
        wanted = set(mention_states(criterion, criterion_start, criterion_end))
        if not wanted:
            return False
        return not wanted <= {*mention_states(self.text, patient_start, patient_end), *self.course_states}

    def find(self, criterion: str) -> list[PhraseHit]:
        """Content phrases of the criterion that the patient text also contains, longest match per place."""
        if not self.tokens:
            return []
        criterion_tokens = tokens(criterion)
        hits: list[PhraseHit] = []
        used: set[int] = set()
        single_generic = _single_generic_stems()
        index = 0
        while index < len(criterion_tokens):
            token = criterion_tokens[index]
            if not token.content or token.stem not in self.positions:
                index += 1
                continue
            best_length, best_start = 0, -1
            for position in self.positions[token.stem]:
                length = 1
                while (index + length < len(criterion_tokens) and position + length < len(self.tokens)
                       and criterion_tokens[index + length].stem == self.tokens[position + length].stem):
                    length += 1
                # a phrase must end on a content word: "diabetes with" is "diabetes"
                while length > 1 and not criterion_tokens[index + length - 1].content:
                    length -= 1
                if length > best_length:
                    best_length, best_start = length, position
            content_words = sum(criterion_tokens[index + k].content for k in range(best_length))
            lone_word_ok = (best_length == 1 and len(token.stem) >= MIN_SINGLE_WORD - 1
                            and len(criterion[token.start:token.end]) >= MIN_SINGLE_WORD
                            and token.stem not in single_generic)
            if (content_words >= 2 or lone_word_ok) and best_start not in used:
                used.add(best_start)
                first, last = self.tokens[best_start], self.tokens[best_start + best_length - 1]
                patient_context = patient_mention_context(self.text, first.start, last.end)
                c_first, c_last = criterion_tokens[index], criterion_tokens[index + best_length - 1]
                criterion_context = mention_context(criterion, c_first.start, c_last.end)
                if not (patient_context.ignored or patient_context.hypothetical or criterion_context.ignored
                        or criterion_context.permitted or criterion_context.hypothetical
                        # a patient who has none of it has none in any state or of any kind
                        or not patient_context.negated and (
                            self._narrower_than_the_patients(criterion, c_first.start, c_last.end, first.start,
                                                             last.end)
                            or not _same_numbered_kind(criterion, c_first.start, c_last.end, self.text, first.start,
                                                       last.end))):
                    hits.append(PhraseHit(
                        phrase=criterion[c_first.start:c_last.end], evidence=self.text[first.start:last.end],
                        negated=patient_context.negated, negated_in_criterion=criterion_context.negated,
                        words=content_words,
                    ))
            index += max(best_length, 1)
        return hits
