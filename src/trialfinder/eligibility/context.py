"""NegEx/ConText-style rules: is a mention negated, hypothetical, or merely a qualifier to ignore?"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache

# Words that end a trigger's scope: a new clause starts.
_SCOPE_BREAK = re.compile(
    # "e.g." and "i.e." are abbreviations, not sentence ends
    r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<!\bEx)[.;:]\s|[.;:]$|"
    r"\b(?:but|however|although|though|except|unless|other than|apart from|excluding|aside from|"
    r"with (?:the )?exception of|whereas|yet)\b|\bwho\s+(?:has|have|had|is|are)\b",
    re.IGNORECASE,
)
_PRE_NEGATION = re.compile(
    r"\b(?:no|not|without|free\s+of|freedom\s+from|absence\s+of|absent|denies|denied|deny|negative\s+for|never|"
    r"none|neither|nor|lack\s+of|lack(?:s|ing)?|ruled\s+out|rule\s+out|has\s+not|have\s+not|had\s+not|did\s+not|does\s+not|"
    r"do\s+not|cannot|unable\s+to\s+have|no\s+longer|na[iï]ve\s+to)\b",
    re.IGNORECASE,
)
# "node-negative", "HER2-negative": a hyphenated "negative" names a subtype, it negates nothing; "ineligible for"
# names a treatment the patient cannot get (hypothetical, below), it does not rule out the words before it.
_POST_NEGATION = re.compile(
    r"^[^.;:]{0,60}?\b(?:is|are|was|were|be)?\s*(?:not\s+(?:allowed|permitted|eligible|acceptable)(?!\s+for\b)|"
    r"prohibited|ruled\s+out|excluded|ineligible(?!\s+for\b)|disallowed|is\s+absent|are\s+absent)\b",
    re.IGNORECASE,
)
# "Dementia: no", "Hypertension - denied", "HIV: negative": a checklist's answer right after the name, and nothing
# more ("AML: no remission after 2 inductions" says no such thing); "HIV-negative": the result written onto it
_CHECKLIST_NO = re.compile(r"^\s*\??\s*[:=\-–]\s*(?:no|none|negative|neg|absent|denied|denies|never|nil|not\s+present)"
                           r"\s*(?=$|[.,;)\n])|^-(?:negative|neg)\b", re.IGNORECASE)
# "HIV negative", "pregnancy test was negative": a result right after the name, with only test words between; in
# "breast cancer, HER2 negative" the result belongs to HER2, not to the cancer.
_POST_NEGATIVE_RESULT = re.compile(
    r"^\s*(?:(?:surface|core)\s+)?(?:(?:tests?|screen(?:ing)?|serology|status|results?|antibod(?:y|ies)|antigen|"
    r"PCR|titers?|assay|levels?)\s*)?(?:(?:is|are|was|were|be|came\s+back|returned|found)\s+)?:?\s*negative\b",
    re.IGNORECASE,
)
# "chemotherapy-naive", "PD-1 inhibitor naïve": never given it.
_NAIVE_AFTER = re.compile(r"^[\s-]*na[iï]ve\b", re.IGNORECASE)
# "HIV, HBV and HCV negative": one result after a list of names holds for each; not when an item is a marker of the
# name before it ("breast cancer, HER2 negative", "..., ER positive, PR negative").
# (possessive quantifiers: the item words cannot be re-split, so a long list cannot make the match backtrack)
_LIST_WORD = r"(?!(?:negative|is|are|was|were|tests?)\b)[\w-]++"
_POST_NEGATIVE_LIST = re.compile(
    rf"^(?P<items>(?:\s*+(?:,|\band\b|\bor\b|/)\s*+{_LIST_WORD}(?:\s++{_LIST_WORD}){{0,2}}+)++)"
    r"\s*(?:tests?\s+)?(?:(?:is|are|was|were)\s+)?negative\b", re.IGNORECASE)
_MARKER_WORDS = re.compile(
    r"\b(?:her-?2(?:/neu)?|er|pr|pgr|egfr|alk|ros1|kras|nras|braf|pd-?l1|receptors?|hormone|estrogen|progesterone|"
    r"nodes?|nodal|margins?|triple|ki-?67|positive|status)\b", re.IGNORECASE)


def _negative_after_list(after: str) -> bool:
    """Whether a "negative" result after a list of names that starts with this one is about each of them."""
    listed = _POST_NEGATIVE_LIST.match(after)
    return bool(listed) and not _MARKER_WORDS.search(listed.group("items"))


# "with or without brain metastases", "regardless of prior therapy": either way will do, a few words on.
_WITH_OR_WITHOUT = re.compile(r"\bwith\s*(?:or|/|and)\s*without\b", re.IGNORECASE)  # its "without" negates nothing
_EITHER_WAY_BEFORE = re.compile(
    r"\b(?:with\s*(?:or|/|and)\s*without|regardless\s+of|irrespective\s+of)\b"
    r"(?:\s+(?!(?:and|but|who|with|must|or)\b)[\w\-/]+){0,4}\s*$", re.IGNORECASE)
# Legacy records list "Menopausal status: Not specified Performance status: ECOG 0-1": the field was left open, and
# its "not" negates nothing after it.
LEFT_OPEN = r"(?:specified|applicable|stated)"  # "Not specified", "Not applicable": a field left open
_NOT_SPECIFIED = re.compile(rf"\bnot\s+{LEFT_OPEN}\b", re.IGNORECASE)
# "allowed"/"permitted" without "not": the text permits, it neither requires nor forbids.
_POST_PERMISSION = re.compile(
    r"^[^.;:]{0,40}?(?<!not\s)\b(?:is|are)?\s*(?:allowed|permitted|acceptable|(?:are|is)\s+eligible)\b(?!\s+(?:if|only))"
    rf"|^\s*:\s*not\s+{LEFT_OPEN}\b",
    re.IGNORECASE,
)
_PRE_HYPOTHETICAL = re.compile(
    r"\b(?:if|whether|in\s+case\s+of|planned|planning|plans?\s+to|plan\s+for|scheduled\s+(?:for|to)|"
    r"expected\s+to|anticipated|anticipate|intends?\s+to|intention\s+to|willing\s+to|willingness\s+to|agrees?\s+to|"
    r"consent\s+to|may\s+(?:require|need|receive|undergo)|will\s+(?:require|need|receive|undergo)|likely\s+to|"
    r"candidates?\s+for|(?:in|not\s+)?eligible\s+for|unfit\s+for|unsuitable\s+for|need(?:s)?\s+to\s+undergo|to\s+undergo|wish(?:es)?\s+to|desire\s+to|"
    r"become|becoming|avoid|prevent(?:ion\s+of)?|risk\s+of|future|during\s+the\s+study|"
    # "within 6 weeks prior to initiating chemotherapy": the treatment still to come
    r"initiat(?:ing|ion\s+of)|commenc(?:ing|ement\s+of)|(?:before|prior\s+to)\s+starting)\b",
    re.IGNORECASE,
)
# "Brain metastases allowed if: ...", "Neoadjuvant chemotherapy is planned", "a chemotherapy candidate": a rule for
# those who have it, or a treatment still to come
_POST_HYPOTHETICAL = re.compile(
    r"^\s*(?:\([^()]{0,60}\)\s*)?(?:(?:is|are)\s+)?(?:(?:allowed|permitted|acceptable|eligible)\s+(?:only\s+)?(?:if|when|provided)"
    r"|(?:is|are)\s+planned|planned\b|candidates?\b)", re.IGNORECASE)
# Mentions after these phrases describe someone else or an allowed exception, not the patient's constraint.
_PSEUDO = re.compile(
    r"\b(?:first[- ]degree\s+relatives?|except(?:\s+for)?|other\s+than|excluding|"
    r"with\s+(?:the\s+)?exception\s+of|apart\s+from|aside\s+from|hypersensitivity\s+to|allerg(?:y|ies|ic)\s+to|"
    r"intolerance\s+to|contraindications?\s+(?:to|for)|partner|unless|unrelated\s+to|"
    # "Disorders that mimic PD", "(See ... Guidelines for Stem Cell Transplant Recipients)": about something else
    r"mimic(?:s|king)?|resembl(?:e|es|ing)|guidelines?\s+(?:for|on)|\(\s*see)\b",
    re.IGNORECASE,
)
# An exception names one thing; a list that follows it ("other than LDH (such as head trauma, ...)") is back in
# the criterion's own scope.
_EXAMPLES_AFTER_EXCEPTION = re.compile(r"\(|\bsuch\s+as\b|\bincluding\b|\be\.g\.", re.IGNORECASE)
# A relative's condition, not the patient's: "her mother had breast cancer", "family history is notable for ...",
# "a hip fracture in her mother", and every mention of a sentence that opens "Family history: ...".
RELATIVE = (r"(?:(?:maternal|paternal)\s+)?(?:mother|father|parents?|sisters?|brothers?|siblings?|aunts?|uncles?|"
            r"grand(?:mother|father|parent)s?|cousins?|sons?|daughters?|twin|relatives?)")
_FAMILY_BEFORE = re.compile(
    rf"\bfamily\s+(?:medical\s+)?(?:history|hx)\b|\bFHx\b|"
    rf"\b(?:my|our|his|her|their|patient'?s|maternal|paternal)\s+{RELATIVE}(?:'s)?\b(?:\s+\w+){{0,2}}?\s+"
    rf"(?:had|has|have|with|died|diagnosed|suffered|suffers|developed|takes|took|receives|received|uses|used|"
    rf"is|was|tested|carries)\b",
    re.IGNORECASE,
)
_FAMILY_AFTER = re.compile(
    rf"^\s*(?:in|of|affecting)\s+(?:my|our|his|her|their|the\s+patient'?s|a|two|several)\s+(?:\w+\s+)?{RELATIVE}\b",
    re.IGNORECASE,
)
_FAMILY_SENTENCE = re.compile(r"^\W*(?:family\s+(?:medical\s+)?(?:history|hx)\b|FHx\b|FH\s*:)", re.IGNORECASE)
# "Her mother had breast cancer and she has diabetes": the patient is the subject again.
_PATIENT_SUBJECT = re.compile(
    r"\b(?:she|he|the\s+patient|patient)\b|(?-i:\bI\b)(?=\s+(?:have|had|am|was|take|took|got|also)\b)", re.IGNORECASE)


# "avoid contact with high risk individuals (immunosuppressed patients, pregnant women, ...)": other people's states
_CONTACT_WITH = re.compile(r"\b(?:(?:close\s+)?contacts?\s+with|exposure\s+to)\s+(?:\w+\s+){0,3}?"
                           r"(?:individuals|persons|people|patients|anyone|someone|children|infants|household)\b[^.;]*$",
                           re.IGNORECASE)


def _about_a_relative(before: str, after: str, sentence: str) -> bool:
    """Whether a mention is a relative's condition rather than the patient's, from the clause before it, the words
    after it and its sentence up to it."""
    triggers = list(_FAMILY_BEFORE.finditer(before))
    if triggers and not _PATIENT_SUBJECT.search(before[triggers[-1].end():]):
        return True
    return bool(_FAMILY_AFTER.match(after) or _FAMILY_SENTENCE.match(sentence))
_SCOPE_WORDS = 10


@dataclass(frozen=True)
class MentionContext:
    """What the surrounding words say about a mention."""

    negated: bool
    hypothetical: bool
    ignored: bool
    permitted: bool
    excepted: bool = False  # named as an exception ("other than X", "except for X"): one reason for ignored
    relative: bool = False  # a relative's condition ("her mother had X"): another reason for ignored
    # when only words after the mention negate it ("X was ruled out", "X test negative"): those words, up to the
    # negation; None otherwise (and for a "negative" after a list of names)
    trailing_negation: str | None = None


# The exceptions that name something as there ("other than X"); "unless X" names a condition, not a fact.
_NAMED_EXCEPTION_WORDS = (r"except(?:\s+for)?|other\s+than|excluding|apart\s+from|aside\s+from|"
                          r"with\s+(?:the\s+)?exception\s+of")
_NAMED_EXCEPTION = re.compile(rf"^(?:{_NAMED_EXCEPTION_WORDS})\b", re.IGNORECASE)
# An exception opens a clause and holds to its end, however long: "..., unless there is biopsy evidence that these
# are not involved with tumor" excepts the tumor, it does not forbid it.
_EXCEPTION_OPENING = re.compile(rf"^(?:{_NAMED_EXCEPTION_WORDS}|unless)\b", re.IGNORECASE)
# "If previously treated with interferon, must not have ... HCV RNA ...": every mention of a sentence that opens
# with a condition holds only for the patients it names.
# "If ...", and "Because no dosing or adverse event data are currently available on the use of X in patients < 18
# years of age, children are excluded": a reason or a condition, throughout
_CONDITIONAL_SENTENCE = re.compile(r"^\W*(?:if|in\s+case\s+of|in\s+the\s+case\s+of|because)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)[.;]\s")
# "Primary amyloidosis without myeloma allowed": "without" describes whom the text permits, it forbids nothing.
_WITHOUT_LAST = re.compile(r"\bwithout\b(?!.*\b(?:no|not|never|none|free\s+of|absence\s+of)\b)[^,;]*$", re.IGNORECASE)


def _clause(text: str, start: int) -> str:
    """The words from the last clause break up to text[start]."""
    window = text[max(0, start - 160) : start]
    breaks = list(_SCOPE_BREAK.finditer(window))
    return window[breaks[-1].start() :] if breaks else window


def _clause_before(text: str, start: int) -> str:
    words = _clause(text, start).split()
    return " ".join(words[-_SCOPE_WORDS:])


def _sentence_before(text: str, start: int) -> str:
    ends = _sentence_ends(text)
    last = bisect_right(ends, start) - 1
    return text[ends[last] if last >= 0 else 0 : start]


@lru_cache(maxsize=32)
def _sentence_ends(text: str) -> list[int]:
    # found once per text: a note's every word asks for its sentence, and scanning from the start each time made
    # a long pasted note quadratic (32,000 characters: 1.9 s)
    return [match.end() for match in _SENTENCE_END.finditer(text)]


def mention_context(text: str, start: int, end: int) -> MentionContext:
    """Classify the mention text[start:end] as negated, hypothetical, ignored (pseudo) or merely permitted."""
    before = _clause_before(text, start)
    after = text[end : end + 80]
    pseudo = list(_PSEUDO.finditer(before))
    ignored = bool(pseudo) and not _EXAMPLES_AFTER_EXCEPTION.search(before[pseudo[-1].end() :])
    excepted = ignored and bool(_NAMED_EXCEPTION.match(pseudo[-1].group(0)))
    clause = _clause(text, start).lstrip(" ,.;:")
    if _EXCEPTION_OPENING.match(clause) and not _EXAMPLES_AFTER_EXCEPTION.search(clause):
        ignored = True
        excepted = excepted or bool(_NAMED_EXCEPTION.match(clause))
    sentence = _sentence_before(text, start)
    relative = _about_a_relative(before, after, sentence) or bool(_CONTACT_WITH.search(sentence))
    ignored = ignored or relative
    negated_before = bool(_PRE_NEGATION.search(_NOT_SPECIFIED.sub(" ", _WITH_OR_WITHOUT.sub(" ", before))))
    trailing = None if negated_before else (_POST_NEGATION.match(after) or _POST_NEGATIVE_RESULT.match(after)
                                            or _NAIVE_AFTER.match(after) or _CHECKLIST_NO.match(after))
    negated = negated_before or trailing is not None or _negative_after_list(after)
    hypothetical = bool(_PRE_HYPOTHETICAL.search(before)) or bool(_CONDITIONAL_SENTENCE.match(sentence)) or bool(
        _POST_HYPOTHETICAL.match(after))
    permitted = bool(_POST_PERMISSION.match(after)) and (not negated or bool(_WITHOUT_LAST.search(before)))
    permitted = permitted or bool(_EITHER_WAY_BEFORE.search(before))
    if permitted:
        negated = False
    return MentionContext(negated=negated, hypothetical=hypothetical, ignored=ignored, permitted=permitted,
                          excepted=excepted, relative=relative,
                          trailing_negation=trailing.group(0) if trailing and negated else None)


# In a note, a negation after the name reaches back over no other finding: in "She has COPD and pneumonia was
# ruled out" only the pneumonia is ruled out.
_ANOTHER_FINDING_BETWEEN = re.compile(r",|\band\b|\bbut\b|\bwith\b", re.IGNORECASE)


def patient_mention_context(text: str, start: int, end: int) -> MentionContext:
    """mention_context for the patient's own account: an exception asserts ("no history other than X"), and a
    negation after the name binds to the nearest finding only."""
    context = mention_context(text, start, end)
    if context.excepted and not context.relative:
        return replace(context, negated=False, ignored=False)
    if context.trailing_negation and _ANOTHER_FINDING_BETWEEN.search(context.trailing_negation):
        return replace(context, negated=False)
    return context


# Words that narrow a condition to a state a bare mention does not establish: "uncontrolled hypertension" is not
# every hypertension. Each pattern names its state; "controlled" alone and "asymptomatic" do not match.
_STATE_QUALIFIERS = (
    ("uncontrolled", r"uncontrolled|poorly[\s-]+controlled|inadequately[\s-]+controlled|not\s+(?:well[\s-]+)?controlled"),
    ("active", r"active"),
    ("severe", r"severe"),
    ("symptomatic", r"(?<!a)symptomatic"),
    ("untreated", r"untreated"),
    ("unstable", r"unstable"),
    ("decompensated", r"decompensated"),
    ("clinically significant", r"clinically\s+significant|significant"),
    # a disease's stage or course: "No metastatic breast cancer" does not exclude every breast cancer
    ("metastatic", r"metastatic|stage\s+(?:iv|4)"),
    ("refractory", r"refractory|resistant"),
    ("relapsed", r"relapsed|recurrent"),
    ("smoldering", r"smou?ldering"),
    ("inflammatory", r"inflammatory"),
    ("bilateral", r"bilateral|contralateral"),
    ("locally advanced", r"locally[\s-]+advanced"),
    # "HIV-associated lymphoma", "therapy-related AML": a kind caused by something else ("age-related" names a disease)
    ("secondary", r"associated|(?<!age-)(?<!age\s)related|induced"),
    # "NYHA class IV heart failure", "class III or IV": a functional class (a range names each class in it)
    ("class iv", r"class\s+(?:(?:i{1,3}|[1-3])\s*(?:or|/|-|–|to|and)\s*)?(?:iv|4)"),
    ("class iii", r"class\s+(?:(?:i{1,2}|[12])\s*(?:or|/|-|–|to|and)\s*)?(?:iii|3)"),
    ("life-threatening", r"life[\s-]+threatening|near[\s-]+fatal"),
)
# one word of a state ("decompensated", "smoldering"), for names narrowed by one
STATE_WORD = re.compile("|".join(f"(?:{pattern})" for _, pattern in _STATE_QUALIFIERS), re.IGNORECASE)
# The course states a note may give anywhere, not next to the name: "CT now shows liver metastases".
_NOTE_STATES = (
    ("metastatic", re.compile(r"\bmetasta(?:tic|ses|sis|sized|sised)\b|\bstage\s+(?:iv|4)\b|\bspread\s+to\b",
                              re.IGNORECASE)),
    ("relapsed", re.compile(r"\b(?:relapsed?|recurren(?:t|ce)|recurred)\b", re.IGNORECASE)),
    ("refractory", re.compile(r"\b(?:refractory|resistant)\b", re.IGNORECASE)),
)
# A qualifier counts when at most three words (e.g. "or severe", "cardiac") stand between it and the mention.
_QUALIFIER_BEFORE_MENTION = [
    (state, re.compile(rf"\b(?:{pattern})\b(?:[\s,/-]+[\w'-]+){{0,3}}[\s,/-]*$", re.IGNORECASE))
    for state, pattern in _STATE_QUALIFIERS
]


def state_qualifiers(text: str, start: int) -> tuple[str, ...]:
    """The states ("uncontrolled", "active", "severe", ...) that the words right before text[start:] put a mention in."""
    before = text[max(0, start - 60) : start]
    return tuple(state for state, pattern in _QUALIFIER_BEFORE_MENTION if pattern.search(before))


# "asthma requiring intubation", "infection that required hospitalization": the words after a name narrow it to the
# cases that needed something.
_REQUIRING_AFTER = re.compile(r"\s*,?\s*(?:requiring|that\s+required|which\s+required|needing|leading\s+to)\b",
                              re.IGNORECASE)


def mention_states(text: str, start: int, end: int) -> tuple[str, ...]:
    """The states the words around the mention text[start:end] put it in: before it, and "requiring ..." after."""
    states = state_qualifiers(text, start)
    return (*states, "requiring") if _REQUIRING_AFTER.match(text, end) else states


def note_states(text: str) -> tuple[str, ...]:
    """The course states (metastatic, relapsed, refractory) a patient's note affirms anywhere in it."""
    states = []
    for state, pattern in _NOTE_STATES:
        for match in pattern.finditer(text):
            context = patient_mention_context(text, match.start(), match.end())
            if not (context.negated or context.hypothetical or context.ignored):
                states.append(state)
                break
    return tuple(states)
