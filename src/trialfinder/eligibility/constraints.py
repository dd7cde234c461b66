"""Extract checkable constraints (age, sex, pregnancy, labs, performance, time windows, mentions, biomarkers) from a
criterion."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from .biomarkers import FAMILIES, KNOWN_MARKERS, find_biomarkers
from .context import LEFT_OPEN, STATE_WORD, MentionContext, mention_context, mention_states
from .measures import (
    NUMBER,
    comparator_of,
    find_lab_readings,
    normalize_lab,
    parse_number,
    post_comparator,
    rating_scale_names,
)
from .model import (
    BiomarkerConstraint,
    Constraint,
    MentionConstraint,
    PerformanceConstraint,
    Polarity,
    SexConstraint,
    SmokingConstraint,
    StateConstraint,
    ThresholdConstraint,
    TimeWindowConstraint,
)
from .terms import (
    ADJECTIVE_SHAPE,
    EXCLUSIVE_KINDS,
    PARENT_CONCEPTS,
    concept_of,
    hepatitis_sibling,
    lexicon_regex,
    normalize_term,
)
from .vocabulary import Vocabulary, default_vocabulary

_AGE_UNIT = r"(?P<unit>years?|yrs?|y/?o|months?)"
# "6.5 to 17 years", "17.0": a whole number, never the tail of a decimal one ("6.5" is not "5")
_AGE_NUMBER = r"(?<![\d.])\d{1,3}(?:\.\d+)?(?!\d)"
_AGE_CONTEXT_BLOCK = re.compile(
    r"\b(?:since|within|ago|for|past|last|duration|diagnos\w*|history|previous|prior|after|before|"
    # "Post-menopause (3-10 years)", "amenorrhea of at least 1 year": how long, not how old
    r"expectancy|follow|survival|period|interval|stable|onset|symptoms?|(?:post|peri)?menopaus\w*|"
    r"amenorrh\w*)\b[^.;]{0,25}$",
    re.IGNORECASE,
)
_AGE_PATTERNS = [
    # "aged 18-65 years", "between 18 and 75 years of age", "18 to 65 years old", "age 18-50"
    re.compile(rf"(?P<prefix>\bage[ds]?\b[^0-9;.]{{0,25}}?)?(?:between\s+)?(?P<low>{_AGE_NUMBER})\s*(?:years?\s*)?"
               rf"(?:-|–|to|through|and)\s*(?P<high>{_AGE_NUMBER})\s*(?:{_AGE_UNIT})?", re.IGNORECASE),
    # "≥ 18 years", "at least 18 years", "age ≥ 18", "older than 65 years"
    # ("18 years of age or older, but younger than 65": the "age" of the first bound is not the second one's)
    re.compile(rf"(?P<prefix>\bage[ds]?\b(?!\s+(?:or|and)\s+(?:older|over|above|younger|under|below)\b)"
               rf"[^0-9;.]{{0,20}}?)?(?P<comparator>(?:[<>≤≥]=?|=>|=<|>/=|</=|at\s+least|"
               rf"(?:no|not)\s+(?:older|younger|less|more|greater)\s+than|older\s+than|younger\s+than|over|under|"
               rf"above|below|greater\s+than(?:\s+or\s+equal\s+to)?|more\s+than|less\s+than(?:\s+or\s+equal\s+to)?|"
               rf"minimum(?:\s+of)?|maximum(?:\s+of)?|up\s+to))\s*(?:the\s+age\s+of\s+)?(?P<value>{_AGE_NUMBER})\s*"
               rf"(?:{_AGE_UNIT})?", re.IGNORECASE),
    # "18 years or older", "18 years of age and above", "65 and over"
    re.compile(rf"(?P<prefix>\bage[ds]?\b[^0-9;.]{{0,20}}?)?(?P<value>{_AGE_NUMBER})\s*(?:{_AGE_UNIT})?\s*"
               rf"(?:of\s+age\s*|old\s*)?(?P<post>(?:or|and)\s+(?:older|above|over|more|greater|younger|under|below|less)"
               rf"|\+)", re.IGNORECASE),
]
# A duration, not an age: "at least 3 years elapsed since the diagnosis", "5 years after treatment".
_AGE_AFTER_BLOCK = re.compile(
    r"\s*(?:have\s+)?(?:elapsed|passed|since|after|before|ago|prior\s+to|from|following|of\s+(?:follow|treatment|"
    r"therapy|remission|disease|smoking|exposure|continuous|stable)|duration|disease[\s\-]free|relapse[\s\-]free)\b",
    re.IGNORECASE,
)
# "Bone age no greater than 11 years", "gestational age": the age of something else than the patient.
_NOT_THE_PATIENTS_AGE = re.compile(r"\b(?:bone|skeletal|gestational|mental|developmental|reading)\s+age\b",
                                   re.IGNORECASE)
_AGE_WORD_COMPARATORS = {"older than": ">", "younger than": "<", "over": ">", "under": "<", "above": ">",
                         "below": "<", "up to": "<=", "maximum": "<=", "minimum": ">="}


def _polarity(kind: str, negated: bool) -> Polarity:
    """Inclusion asserts, exclusion inverts, negation inverts again."""
    return "require" if (kind == "inclusion") != negated else "forbid"


# "Pregnant women are excluded", "Prior anthracyclines not allowed": a ban, in either list
_BAN = re.compile(r"\b(?:excluded|not\s+(?:allowed|permitted|eligible|acceptable)|prohibited|disallowed|ineligible)\b",
                  re.IGNORECASE)


def _context_polarity(kind: str, context: MentionContext, negated: bool | None = None) -> Polarity:
    """The polarity a mention's context gives it; a ban written after it forbids whichever list it stands in.

    ``negated`` is the negation a rule of the caller settled on, when it overrode the context's."""
    if negated is not None and negated != context.negated:
        return _polarity(kind, negated)
    if context.trailing_negation and _BAN.search(context.trailing_negation):
        return "forbid"
    return _polarity(kind, context.negated)


def _age_comparator(raw: str) -> str | None:
    lowered = re.sub(r"\s+", " ", raw.lower())
    if lowered.startswith(("no older", "not older")):
        return "<="
    if lowered.startswith(("no younger", "not younger")):
        return ">="
    for phrase, symbol in _AGE_WORD_COMPARATORS.items():
        if lowered.startswith(phrase):
            return symbol
    return comparator_of(raw)


# what may join the two bounds of one age range: "≥ 22 and ≤ 70", ">18 < 70", "or older, but younger than 65"
_AGE_SECOND_BOUND = re.compile(r"\s*(?:,\s*)?(?:(?:and|but|to|-|–)\s*)*(?:(?:age[ds]?|years?|of|age)\s*)*",
                               re.IGNORECASE)


# and nothing after it that makes it another measure ("≥12 continuous months of amenorrhea")
_AGE_BOUND_END = re.compile(r"\s*(?:$|[,.;:)(]|(?:years?|yrs?|of\s+age|and|or|but|at|female|male)\b)|\s+(?-i:[A-Z])",
                            re.IGNORECASE)


def extract_age(text: str, kind: str = "inclusion", age_heading: bool = False) -> list[ThresholdConstraint]:
    """Age bounds in years, merged into one constraint per criterion (a range when both ends are given)."""
    low: tuple[float, bool, int, int] | None = None
    high: tuple[float, bool, int, int] | None = None
    taken: list[tuple[int, int]] = []
    unitless: list[re.Match[str]] = []  # "<= 70" with no unit: an age only right after one ("age >= 22 and <= 70")
    for pattern in _AGE_PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            unit = (match.groupdict().get("unit") or "").lower()
            has_prefix = bool(match.group("prefix"))
            if not unit and not has_prefix and not age_heading:
                if match.groupdict().get("comparator"):
                    unitless.append(match)
                continue
            if unit.startswith(("month",)) and not has_prefix:
                continue
            if _AGE_CONTEXT_BLOCK.search(text[max(0, match.start() - 40) : match.start()]) and not has_prefix:
                continue
            if _NOT_THE_PATIENTS_AGE.search(text[max(0, match.start() - 30) : match.end()]):
                continue
            if re.match(r"\s*(?:%|mg|kg|days|weeks|cm|mm)", text[match.end() : match.end() + 5]):
                continue
            if not has_prefix and _AGE_AFTER_BLOCK.match(text[match.end() : match.end() + 30]):
                continue
            scale = 1 / 12 if unit.startswith("month") else 1.0
            groups = match.groupdict()
            if groups.get("low") is not None:
                lo, hi = float(groups["low"]) * scale, float(groups["high"]) * scale
                if not (0 <= lo < hi <= 120):
                    continue
                low, high = (lo, True, match.start(), match.end()), (hi, True, match.start(), match.end())
            elif groups.get("comparator"):
                symbol = _age_comparator(groups["comparator"])
                value = float(groups["value"]) * scale
                if symbol is None or value > 120:
                    continue
                bound = (value, symbol in {">=", "<=", "="}, match.start(), match.end())
                if symbol.startswith(">"):
                    low = bound
                else:
                    high = bound
            else:
                value = float(groups["value"]) * scale
                post = groups["post"].lower()
                if value > 120:
                    continue
                if post == "+" or any(word in post for word in ("older", "above", "over", "more", "greater")):
                    low = (value, True, match.start(), match.end())
                else:
                    high = (value, True, match.start(), match.end())
            taken.append((match.start(), match.end()))
    if (low is None) != (high is None):
        known = low or high
        for match in unitless:
            symbol = _age_comparator(match.group("comparator"))
            if (symbol and known and match.start() >= known[3] and _AGE_SECOND_BOUND.fullmatch(text[known[3] : match.start()])
                    and _AGE_BOUND_END.match(text, match.end())
                    and symbol.startswith("<" if low else ">") and 0 <= float(match.group("value")) <= 120):
                bound = (float(match.group("value")), symbol in {">=", "<="}, match.start(), match.end())
                low, high = (low, bound) if low else (bound, high)
                break
    if low is None and high is None:
        return []
    if low and high and low[0] == high[0] and not (low[1] and high[1]):
        # "Age >= 18 years. Because no dosing data are available in patients < 18 years of age, children are
        # excluded": the two sides of one boundary, not an empty range; the bound stated first is the rule
        low, high = (low, None) if low[2] < high[2] else (None, high)
    start = min(bound[2] for bound in (low, high) if bound)
    end = max(bound[3] for bound in (low, high) if bound)
    negated = False
    low_inclusive, high_inclusive = (low[1] if low else True), (high[1] if high else True)
    if low and high and low[0] > high[0]:
        # "Age < 50 or > 80 years": outside a range, so the range itself with the polarity turned
        negated, low, high = True, high, low
        low_inclusive, high_inclusive = not low[1], not high[1]
    if low and high:
        comparator, value, value_high = "between", low[0], high[0]
    elif low:
        comparator, value, value_high = (">=" if low[1] else ">"), low[0], None
    else:
        assert high is not None
        comparator, value, value_high = ("<=" if high[1] else "<"), high[0], None
    return [ThresholdConstraint(
        type="age", span=(start, end), text=text[start:end], polarity=_polarity(kind, negated), negated=negated,
        analyte="age", comparator=comparator, value=value, value_high=value_high, unit="years",
        normalized_value=value, normalized_value_high=value_high, normalized_unit="years",
        low_inclusive=low_inclusive, high_inclusive=high_inclusive,
    )]


_SEX_LEAD = re.compile(
    r"^(?:(?:healthy|adult|adults|postmenopausal|post-menopausal|premenopausal|pre-menopausal|ambulatory|elderly|"
    r"older|young|non-pregnant|nonpregnant|caucasian|asian|pediatric|adolescent|\d{1,3}|to|-|years?|old|aged?|or|"
    r"and)\s+){0,5}(?P<sex>women|woman|females?|men|man|males?|girls?|boys?)\b",
    re.IGNORECASE,
)
_SEX_CONDITIONAL = re.compile(
    r"\b(?:childbearing|child[\s\-]bearing|reproductive|fertile|must|should|agree|willing|contracepti\w*|partners?|defined|"
    r"sexually|condoms?|who|pregnan\w*|lactat\w*|breast[\s\-]?feed\w*|anticonception|birth\s+control|"
    r"bear\s+children)\b",
    re.IGNORECASE,
)
# "men or women", and "Male (>=18 years old) or pre-menopausal women (>=40 years old)": a few words may qualify each
_BOTH_SEXES = re.compile(r"\b(?:males?|men)\b(?:\s*\([^()]{0,40}\))?\s*(?:or|and|/|&)\s*(?:[\w\-]+\s+){0,2}(?:females?|women)\b"
                         r"|\b(?:females?|women)\b(?:\s*\([^()]{0,40}\))?\s*(?:or|and|/|&)\s*(?:[\w\-]+\s+){0,2}(?:males?|men)\b"
                         r"|\bboth\s+(?:sexes|genders)\b|\beither\s+(?:sex|gender)\b", re.I)


def extract_sex(text: str, kind: str = "inclusion") -> list[SexConstraint]:
    """A sex restriction when the criterion opens with it ("Postmenopausal women ...") or says "only"."""
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    match = _SEX_LEAD.match(stripped) or re.search(r"\b(?P<sex>females?|males?|women|men)\s+only\b", stripped, re.I)
    if not match or _BOTH_SEXES.search(stripped) or _SEX_CONDITIONAL.search(stripped[: match.end() + 60]):
        return []
    word = match.group("sex").lower()
    sex = "female" if word.startswith(("wom", "fem", "girl")) else "male"
    start, end = offset + match.start("sex"), offset + match.end("sex")
    return [SexConstraint(type="sex", span=(start, end), text=text[start:end], polarity=_polarity(kind, False),
                          sex=sex)]


_PREGNANCY = re.compile(r"\b(?:pregnan(?:t|cy|cies)|gravid)\b", re.IGNORECASE)
_BREASTFEEDING = re.compile(
    r"\b(?:breast[\s\-]?feeding|breast[\s\-]?feed|lactating|lactation|nursing(?!\s+(?:home|staff|care|facility)))\b",
    re.IGNORECASE,
)
_PARTNER_AFTER = re.compile(r"[^.;]{0,30}?\bpartners?\b", re.IGNORECASE)
_NEGATIVE_TEST = re.compile(r"\bnegative\b[^.;]{0,40}$", re.IGNORECASE)


def extract_pregnancy(text: str, kind: str = "inclusion") -> list[StateConstraint]:
    """At most one pregnancy and one breastfeeding constraint, preferring non-hypothetical mentions."""
    found: list[StateConstraint] = []
    for state, pattern in (("pregnancy", _PREGNANCY), ("breastfeeding", _BREASTFEEDING)):
        candidates: list[StateConstraint] = []
        for match in pattern.finditer(text):
            after = text[match.end() : match.end() + 40]
            is_test = bool(re.match(r"\s*(?:test|screen)", after, re.I))
            context = mention_context(text, match.start(), match.end())
            if context.ignored or context.permitted or _PARTNER_AFTER.match(after):
                continue  # "with a pregnant or breastfeeding partner": the partner's state
            negated = context.negated
            before = text[max(0, match.start() - 40) : match.start()]
            if is_test:
                # "negative pregnancy test" / "pregnancy test must be negative" both say: not pregnant, in either list
                negated = bool(_NEGATIVE_TEST.search(before)) or "negative" in after.lower() or not re.search(
                    r"\bpositive\b", before + after, re.I)
            elif _NEGATIVE_TEST.search(before) or re.search(r"\bnon-?\s?$", before, re.I):
                negated = True  # "a negative urine or serum pregnancy within 72 hours", "non-pregnant"
            polarity = ("forbid" if negated else _polarity(kind, False)) if is_test else _context_polarity(
                kind, context, negated)
            candidates.append(StateConstraint(
                type=state, span=(match.start(), match.end()), text=match.group(0), polarity=polarity,
                negated=negated, hypothetical=context.hypothetical and not is_test,
            ))
        real = [c for c in candidates if not c.hypothetical]
        if real or candidates:
            found.append((real or candidates)[0])
    return found


# What a criterion says of smoking, most specific first: each gives the state it asserts and whether it denies it.
# "Former smoker" asserts both: smoked once, not now.
_SMOKER = r"(?:cigarette\s+|tobacco\s+)?smokers?"
_FORMER = r"(?:former|past|previous|prior)[\s\-]+|ex[\s\-]?"
# a recent quit or a pause before entry: "stopped smoking less than 6 months ago", "abstain from smoking for at
# least 1 month prior to enrolling" (their "cessation" and "abstain" are no rule for the visits)
_RECENT_QUIT = (r"\b(?:(?:stopped|quit)\s+smoking|(?:smoking\s+)?cessation)\s+(?:for\s+)?(?:less|fewer)\s+than\b|"
                r"\b(?:stopped|quit)\s+smoking\s+within\b")
_PAUSE_BEFORE_ENTRY = (r"\b(?:abstain\w*|refrain\w*)\s+from\s+(?:\w+\s+)?smoking\b(?=[^.;]{0,40}\b(?:prior\s+to|before)\s+"
                       r"(?:enrol|screen|randomi|entry|registration|baseline|the\s+study|study\s+entry))")
_BEFORE_ENTRY = re.compile(f"{_RECENT_QUIT}|{_PAUSE_BEFORE_ENTRY}", re.IGNORECASE)
_SMOKING_FORMS: tuple[tuple[re.Pattern[str], tuple[tuple[str, bool], ...]], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), states) for pattern, states in (
        (r"\b(?:never[\s\-]+(?:a\s+)?smok(?:ers?|ed)|life[\s\-]?long\s+non[\s\-]?smokers?|never\s+(?:used|smoked)\s+"
         r"(?:tobacco|cigarettes))\b", (("ever_smoked", True),)),
        (_RECENT_QUIT, (("smoking", False),)),
        (_PAUSE_BEFORE_ENTRY, (("smoking", True),)),
        (rf"\b(?:(?:current|active)\s+or\s+(?:{_FORMER})|(?:{_FORMER})\s*or\s+(?:current|active)|ever)[\s\-]*{_SMOKER}\b|"
         rf"\b(?:(?:current|active)\s+)?smokers?\s+or\s+(?:{_FORMER})smokers?\b|"
         rf"\b(?:{_FORMER})smokers?\s+or\s+(?:current\s+)?smokers?\b|"
         r"\b(?:smoking|tobacco|cigarette)\s+(?:history|exposure)\b|\bhistory\s+of\s+"
         r"(?:cigarette\s+|tobacco\s+)?(?:smoking|tobacco(?:\s+use)?|cigarette\s+use)\b|\bpack[\s\-]*years?\b|"
         r"\byears?\s+of\s+(?:cigarette\s+)?smoking\b", (("ever_smoked", False),)),
        (rf"\b(?:{_FORMER}){_SMOKER}\b|\b(?:quit|stopped)\s+smoking\b", (("ever_smoked", False), ("smoking", True))),
        (r"\bnon[\s\-]*smok(?:ers?|ing)\b|\bdoes\s+not\s+smoke\b", (("smoking", True),)),
        (r"\b(?:current|active|regular|daily|heavy)(?:ly)?\s+(?:cigarette\s+|tobacco\s+)?smok(?:ers?|ing)\b|"
         r"\bcurrently\s+smok(?:es|ing)\b", (("smoking", False),)),
        # the bare words last: after a history or a quit ("10 years smoking"), they only say more of it
        (rf"\b{_SMOKER}\b|\b(?:cigarette|tobacco)\s+(?:smoking|use|users?)\b|\bsmok(?:ing|es|e|ed)\b|"
         r"\buse\s+of\s+(?:tobacco|cigarettes)\b|\bcigarettes?\s+(?:per|a|each|/)\s*day\b", (("smoking", False),)),
    ))
_BARE_FORM = len(_SMOKING_FORMS) - 1
# not the patient's habit: a rule for the visits, a trial about quitting, someone else's smoke, other things smoked
_NOT_A_HABIT = re.compile(
    r"\b(?:abstain\w*|refrain\w*|agree\w*|willing\w*|unwilling|able|unable|motivat\w*|desire|want\w*|attempt\w*|"
    r"cut\s+down|reduce|cessation|second[\s\-]?hand|passive|environmental|expos\w*\s+to\s+(?:the\s+)?(?:tobacco\s+)?smoke|"
    r"marijuana|cannabis|e-cigarettes?|vap\w+|during\s+the\s+study|while\s+in|quit\s+date|smoke\s+inhalation)\b",
    re.IGNORECASE)
# how much is smoked: among the exclusions only heavy smokers are out ("> 20 cigarettes per day"), and an upper
# bound lets non-smokers in, so neither says smoking or not
_AMOUNT = re.compile(r"\b(?:\d+|one|two|five|ten|twenty)\+?\s*(?:or\s+more\s+)?(?:cigarettes?|packs?(?![\s\-]*years?))\b|"
                     r"\bheavy\s+smok", re.IGNORECASE)
# "at least 10 pack-years" asks for a smoker; "> 10 pack-years" among the exclusions or "less than 10" lets
# never-smokers in, so an amount of pack-years says "has smoked" only as a lower bound in an inclusion
_PACK_YEAR_AMOUNT = re.compile(r"\d+\s*\+?[\s\-]*pack[\s\-]*years?", re.IGNORECASE)
_UPPER_BOUND = re.compile(r"\b(?:less|fewer|under|below|maximum|at\s+most|no\s+more|not\s+more|up\s+to)\b|[<≤]",
                          re.IGNORECASE)
# "Age > 35 for smokers", "risk factors such as smoking", "one of: ... smoking", "(e.g., heavy smoker ...)": whom a
# rule is for, one choice, or an example
_SMOKING_SCOPE = re.compile(r"\b(?:for|in)\s+(?:current\s+)?smokers\b|\brisk\s+factors?\b|\bone\s+of\b|"
                            r"\be\.\s?g\.|\bfor\s+example\b|\bsmokers?\s+(?:who|that|unless|if)\b", re.IGNORECASE)
_SUCH_AS = re.compile(r"\bsuch\s+as\b", re.IGNORECASE)
_SMOKING_PERIOD = re.compile(r"\b(?:within|in\s+the\s+(?:past|last|previous|prior)|for\s+(?:at\s+least\s+)?\S+\s+"
                             r"(?:days?|weeks?|months?|years?)|(?:during|for)\s+the\s+(?:past|last|previous|prior)|since|prior\s+"
                             r"to|less\s+than)\b|\(\s*within", re.IGNORECASE)
_ALTERNATIVE = re.compile(r"\bor\b(?!\s+(?:more|greater|less|fewer|longer))", re.IGNORECASE)


def extract_smoking(text: str, kind: str = "inclusion") -> list[SmokingConstraint]:
    """Whether the criterion asks that the patient smokes now ("smoking") or has ever smoked ("ever_smoked")."""
    if _NOT_A_HABIT.search(_BEFORE_ENTRY.sub(" ", text)):
        return []
    amount = _AMOUNT.search(text)
    if amount and (kind == "exclusion" or _UPPER_BOUND.search(text)):
        return []
    no_ever = bool(_PACK_YEAR_AMOUNT.search(text)) and (kind == "exclusion" or bool(_UPPER_BOUND.search(text)))
    scoped = bool(_SMOKING_SCOPE.search(text)) or kind == "inclusion" and bool(_SUCH_AS.search(text))
    found: dict[str, SmokingConstraint] = {}
    taken: list[tuple[int, int]] = []
    forms: set[int] = set()
    for form, (pattern, states) in enumerate(_SMOKING_FORMS):
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken) or form == _BARE_FORM and forms:
                continue
            taken.append((match.start(), match.end()))
            forms.add(form)
            context = mention_context(text, match.start(), match.end())
            if context.ignored or context.permitted:
                continue
            time_limited = bool(_SMOKING_PERIOD.search(text, match.start()))
            for state, denied in states:
                negated = context.negated != denied
                if state == "ever_smoked" and time_limited and not denied:
                    state = "smoking"  # "No history of smoking within the past 3 years": smoking lately
                if state == "ever_smoked" and no_ever:
                    continue
                found.setdefault(state, SmokingConstraint(
                    type=state, span=(match.start(), match.end()), text=match.group(0),
                    polarity=_context_polarity(kind, context, negated), negated=negated,
                    hypothetical=context.hypothetical or scoped, time_limited=time_limited))
    if len(found) > 1 and _ALTERNATIVE.search(text):
        # "never-smokers or light ex-smokers": alternatives, which the rules do not weigh against each other
        return [replace(constraint, hypothetical=True) for constraint in found.values()]
    return list(found.values())


_ALLOWED = r"(?:(?:is|are|may\s+be|will\s+be)\s+)?(?:allowed|permitted|acceptable|accepted|eligible)\b"
_PERFORMANCE = re.compile(
    r"(?P<scale>\bECOG\b|Eastern\s+Cooperative\s+Oncology\s+Group|\bZubrod\b|\bWHO\b(?=[^.;]{0,30}performance|\s*PS)|"
    r"World\s+Health\s+Organi[sz]ation(?=[^.;]{0,30}performance)|\bKarnofsky\b|\bKPS\b|\bLansky\b|"
    r"performance\s+status|\bPS\b)"
    r"(?P<filler>[^0-9;]{0,45}?)"
    # a number after a comma that an allowance follows is not in the list ("ECOG 0-2, 3 allowed if ...")
    rf"(?P<numbers>\d{{1,3}}(?:\s*%?\s*(?:(?:-|–|to|or|and|,\s*or)\s*\d{{1,3}}|,\s*\d{{1,3}}(?!\d|\s*%?\s*{_ALLOWED})))*)"
    r"\s*%?",
    re.IGNORECASE,
)


def extract_performance(text: str, kind: str = "inclusion") -> list[PerformanceConstraint]:
    """Performance status ranges: ECOG/Zubrod/WHO (0-5) and Karnofsky/Lansky (0-100)."""
    found: list[PerformanceConstraint] = []
    allowed_until = 0
    for match in _PERFORMANCE.finditer(text):
        if match.start() < allowed_until:
            continue  # "(ECOG 3-4 acceptable if ...)": read already, as the allowance of the range before it
        scale_name = re.sub(r"\s+", " ", match.group("scale"))
        if re.search(r"\b(?:grade|NYHA|class|years?|months?|weeks?|score\s+of\s+the)\b", match.group("filler"), re.I):
            continue
        numbers = [float(n) for n in re.findall(r"\d{1,3}", match.group("numbers"))]
        lowered = scale_name.lower()
        if lowered in {"karnofsky", "kps", "lansky"} or (lowered in {"performance status", "ps"} and numbers[0] >= 10):
            scale = "karnofsky"
        else:
            scale = "ecog"
        top = 100.0 if scale == "karnofsky" else 5.0
        if any(n > top for n in numbers):
            continue
        comparator = comparator_of(match.group("filler")) or post_comparator(text[match.end() : match.end() + 20])
        if post_comparator(text[match.end() : match.end() + 20]) and re.match(
            r"\s*or\s+better", text[match.end() : match.end() + 20], re.I
        ):
            comparator = "<=" if scale == "ecog" else ">="
        if len(numbers) > 1:
            low, high = min(numbers), max(numbers)
        elif comparator in {">=", ">"}:
            low, high = numbers[0] + (0 if comparator == ">=" else (10 if scale == "karnofsky" else 1)), None
        elif comparator in {"<=", "<"}:
            low, high = None, numbers[0] - (0 if comparator == "<=" else (10 if scale == "karnofsky" else 1))
        else:
            low = high = numbers[0]
        context = mention_context(text, match.start(), match.end())
        found.append(PerformanceConstraint(
            type="performance", span=(match.start(), match.end()), text=match.group(0),
            polarity=_polarity(kind, context.negated), negated=context.negated, hypothetical=context.hypothetical,
            scale=scale,
            scale_name=scale_name, min_score=low, max_score=high,
        ))
        allowance = _PERFORMANCE_ALLOWANCE.match(text, match.end())
        if allowance:
            extra = [float(n) for n in re.findall(r"\d{1,3}", allowance.group("numbers"))]
            if all(n <= top for n in extra):
                allowed_until = allowance.end()
                # "(70-80% allowed if due to disease)": a wider range open to some patients only
                found.append(replace(found[-1], span=(allowance.start("numbers"), allowance.end()),
                                     text=text[allowance.start("numbers") : allowance.end()], hypothetical=True,
                                     min_score=min(extra), max_score=max(extra)))
    return found


# "ECOG 0-1 (2 allowed if due to the tumour)", "KPS >= 80% (70% permitted for ...)"
_PERFORMANCE_ALLOWANCE = re.compile(
    r"\s*(?:[,;]\s*)?[(\[,;]\s*(?:or\s+)?(?:(?:ECOG|KPS|Karnofsky|PS)\s+)?(?P<numbers>\d{1,3}(?:\s*%?\s*(?:-|–|to|or|and)\s*\d{1,3})*)"
    rf"\s*%?\s*{_ALLOWED}",
    re.IGNORECASE)


_TIME_UNIT = r"(?P<unit>days?|weeks?|wks?|months?|mos?|years?|yrs?|hours?|hrs?)"
_COUNT = rf"(?P<amount>{NUMBER}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_WITHIN = re.compile(
    rf"\b(?:within|in|during|over)\s+(?:the\s+)?(?:(?:past|last|previous|preceding|prior)\s+)?"
    rf"(?:(?:{_COUNT})\s*[\-\s]?{_TIME_UNIT}|(?P<bare_unit>year|month|week|day)\b)"
    r"|\b(?:within|in)\s+(?:the\s+)?(?:past|last|previous|preceding)\s+(?P<bare_unit2>year|month|week|day)\b",
    re.IGNORECASE,
)
# The count starts where a number starts: without the look-behind a long run of digits is retried from every
# position inside it, which is quadratic in the run length.
_AT_LEAST = re.compile(
    rf"(?:\b(?:at\s+least|more\s+than|greater\s+than|minimum\s+of|a\s+minimum\s+of|over)\s+|[≥>]=?\s*)?"
    rf"(?<![\d.,]){_COUNT}\s*[\-\s]?{_TIME_UNIT}\s*(?:or\s+(?:more|longer)\s+)?(?:must\s+have\s+)?(?:have\s+)?"
    r"(?:elapsed\s+)?(?P<relation>since|after|from|following|prior\s+to|before)\b",
    re.IGNORECASE,
)
_DAYS_PER_UNIT = {"d": 1, "w": 7, "m": 30.44, "y": 365.25, "h": 1 / 24}


def _days(amount: float, unit: str) -> float:
    unit = unit.lower()
    key = "m" if unit.startswith("mo") else unit[0]
    return round(amount * _DAYS_PER_UNIT[key], 2)


def extract_time_windows(text: str, kind: str = "inclusion") -> list[TimeWindowConstraint]:
    """Windows like "within 6 months before enrollment" and "at least 4 weeks since last chemotherapy"."""
    found: list[TimeWindowConstraint] = []
    if not (_AT_LEAST.search(text) or _WITHIN.search(text)):
        return found
    mentions = [(m, "condition") for m in lexicon_regex("condition").finditer(text)]
    mentions += [(m, "therapy") for m in lexicon_regex("therapy").finditer(text)]
    for pattern, relation in ((_AT_LEAST, "at_least"), (_WITHIN, "within")):
        for match in pattern.finditer(text):
            if any(match.start() < c.span[1] and c.span[0] < match.end() for c in found):
                continue
            groups = match.groupdict()
            unit = groups.get("unit") or groups.get("bare_unit") or groups.get("bare_unit2")
            if not unit:
                continue
            amount = parse_number(groups["amount"]) if groups.get("amount") else 1.0
            if relation == "at_least" and not re.match(r"(?i)\s*(?:at\s+least|more|greater|minimum|a\s+min|over|[≥>])",
                                                       match.group(0)) and groups["relation"].lower() not in {"since"}:
                continue
            event = _nearest_mention(mentions, match.start(), match.end())
            context = mention_context(text, match.start(), match.end())
            found.append(TimeWindowConstraint(
                type="time_window", span=(match.start(), match.end()), text=match.group(0),
                polarity=_polarity(kind, context.negated), negated=context.negated,
                hypothetical=context.hypothetical, relation=relation, amount=amount,
                time_unit=_unit_name(unit), days=_days(amount, unit),
                event=event[0].group(0) if event else None,
                event_concept=concept_of(event[0].group(0), event[1]) if event else None,
            ))
    return sorted(found, key=lambda c: c.span)


def _unit_name(unit: str) -> str:
    key = unit.lower()
    for prefix, name in (("d", "days"), ("w", "weeks"), ("mo", "months"), ("y", "years"), ("h", "hours")):
        if key.startswith(prefix):
            return name
    return key


def _nearest_mention(mentions: list[tuple[re.Match[str], str]], start: int, end: int) -> tuple[re.Match[str], str] | None:
    def distance(item: tuple[re.Match[str], str]) -> int:
        mention = item[0]
        return start - mention.end() if mention.end() <= start else max(0, mention.start() - end)

    near = [item for item in mentions if distance(item) <= 80]
    return min(near, key=distance) if near else None


_QUALIFIER_BEFORE = re.compile(r"\b(?:for|of\s+the|to\s+the|to|against|in)\s+(?:[\w\-]+\s+){0,4}$", re.IGNORECASE)
# "cancer care", "cancer-directed therapy": the disease name qualifies another noun; "National Cancer Institute's
# Common Toxicity Criteria": it is part of the name of a body or a scale.
_QUALIFIER_AFTER = re.compile(
    r"^\s*-?\s*(?:care|directed|related|centers?|centres?|clinics?|screening|registry|modifying|institutes?|"
    r"society|foundation|association|network|consortium|criteria|scales?|questionnaires?|inventory)\b",
    re.IGNORECASE)

# "No prior immunotherapy for breast cancer": the disease is what the treatment was for, not a condition asked about.
_TREATMENT_WORD = re.compile(
    r"\b(?:\w*therap(?:y|ies)|treatments?|treated|treat|agents?|drugs?|medications?|surgery|irradiation|"
    r"radiation)\b", re.IGNORECASE)
# "no tumor at the surgical resection margins": a pathology finding about the margins, not the patient's disease.
_AT_THE_MARGINS = re.compile(
    r"^\s*(?:\([^()]{0,40}\)\s*)?(?:at|in|on|involving)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}margins?\b", re.IGNORECASE)
# "resection margins", "surgical bed", "the final surgery or pathology report": the procedure names a place or a
# document, it is not a treatment asked about.
_SURGICAL_NOUN_AFTER = re.compile(
    r"^\s*(?:resection\s+)?(?:margins?|bed|cavity|specimens?)\b|^\s*(?:or\s+[\w-]+\s+)?(?:reports?|notes?)\b",
    re.IGNORECASE)

# Names outside any lexicon, recognised by their shape: a disease word ("-itis", "-emia", ...), a drug stem, or a
# head noun ("disease", "therapy", ...) with the words that qualify it ("mesenteric ischemia", "antiviral therapy").
_CONDITION_HEADS = (
    r"diseases?|disorders?|syndromes?|failure|dysfunction|insufficiency|deficiency|deficiencies|injury|injuries|"
    r"fractures?|infections?|illness(?:es)?|pathology|pathologies|impairment|ischa?emia|ha?emorrhage|ulcers?|trauma|"
    r"abnormality|abnormalities|deformity|deformities|defects?|dependence|abuse|crisis|emergency|emergencies|"
    r"stenosis|pain|toxicity|toxicities|deficits?|metastases|metastasis|tumou?rs?|cancers?|carcinomas?|malignancy|malignancies"
)
_THERAPY_HEADS = (
    r"therap(?:y|ies)|treatments?|agents?|drugs?|medications?|medicines?|inhibitors?|antagonists?|agonists?|"
    r"vaccines?|transplant(?:ation)?s?|procedures?|surger(?:y|ies)|regimens?|injections?|infusions?|implants?|"
    r"grafts?|blockers?|antibod(?:y|ies)|management|chemotherapy|radiotherapy|immunotherapy|chemoimmunotherapy"
)
_DISEASE_WORD = re.compile(
    r"^(?!(?:diagnosis|prognosis|osmosis|hypnosis|diploma|aroma|stoma|soma|coma|academia|criteria|phobia)$)"
    r"[a-z][a-z\-]{3,}(?:itis|osis|a?emia|omas?|omata|pathy|pathies|plasia|trophy|algia|uria|penia|cytosis|ectasis|"
    r"listhesis|plegia|paresis|rrhea|rrhoea|megaly)$",
    re.IGNORECASE,
)
_DRUG_WORD = re.compile(
    r"^[a-z][a-z\-]{3,}(?:mab|nib|lisib|parib|ciclib|zomib|statin|sartan|olol|azole|mycin|cillin|floxacin|cycline|"
    r"vir|platin|taxel|rubicin|tecan|gliptin|gliflozin|glutide|lukast|dronate|prazole|semide|thiazide|dipine|afil|"
    r"triptan|setron|parin|xaban|gatran|olimus|ercept|kinra|grastim|fungin|azepam|azolam|barbital|caine|profen|"
    r"coxib|fenac|sonide|olone|asone|trexate|citabine|fosfamide|mustine|lidomide)s?$",
    re.IGNORECASE,
)
# One word named right after a treatment verb: "taking pregabalin", "treatment with leflunomide".
_TREATMENT_TRIGGER = re.compile(
    r"\b(?:taking|takes|take|receiving|received|receive|receipt\s+of|treated\s+with|treatment\s+with|therapy\s+with|"
    r"use\s+of|using|exposure\s+to|administration\s+of|dosed\s+with|on)\s+$",
    re.IGNORECASE,
)
_DRUG_LIKE_ENDING = re.compile(r"^[a-z][a-z\-]{4,}(?:in|ine|ol|ide|ate|one|am|il|an|ib|ab|ase|ene)s?$", re.IGNORECASE)
_NOT_DRUGS = frozenset({
    "protein", "medicine", "routine", "baseline", "plan", "program", "vitamin", "vaccine", "insulin", "machine",
    "nicotine", "caffeine", "cocaine", "heroin", "nitrogen", "oxygen", "hydrogen", "urine", "saline", "gelatin",
    "decline", "discipline", "medline", "guideline", "guidelines", "timeline", "online", "determine", "examine",
    "combine", "airline", "chlorine", "iodine", "bromide", "fluoride", "chloride", "sodium", "calcium", "potassium",
    "alcohol", "cholesterol", "estradiol", "hormone", "steroid", "placebo", "opinion", "medication", "investigation",
    "accurate", "adequate", "appropriate", "immediate", "separate", "moderate", "candidate", "ultimate", "associate",
    "estimate", "approximate", "indicate", "graduate", "private", "corporate", "adjunctive", "someone", "anyone",
    "everyone", "phone", "alone", "stone", "bone", "zone", "tone", "none", "done", "gone", "programme", "problem",
    "program", "system", "platform", "human", "woman", "women", "german", "korean", "italian", "canadian", "american",
    "european", "asian", "indian", "median", "mean", "clean", "ocean", "urban", "organ", "began", "fibrin", "toxin",
    "within", "begin", "origin", "margin", "skin", "basin", "latin", "cabin", "domain", "retain", "obtain", "maintain",
    "contain", "certain", "explain", "remain", "again", "brain", "chain", "plain", "train", "drain", "main", "pain",
    "detail", "email", "fail", "trail", "until", "april", "civil", "oral", "control", "patrol", "protocol", "symbol",
    "nasal", "topical", "local", "spinal", "minimal", "normal", "pill", "will", "still", "fill", "daily",
})
_MODIFIER_STOP = frozenset({
    "a", "an", "the", "any", "all", "other", "another", "of", "or", "and", "with", "without", "no", "not", "nor",
    "known", "history", "prior", "previous", "previously", "current", "currently", "concomitant", "concurrent",
    "ongoing", "recent", "evidence", "presence", "diagnosis", "diagnosed", "documented", "confirmed", "suspected",
    "patients", "patient", "subjects", "subject", "participants", "participant", "who", "which", "that", "this",
    "these", "those", "must", "may", "can", "will", "should", "is", "are", "was", "were", "be", "been", "being",
    "has", "have", "had", "having", "for", "to", "in", "on", "at", "by", "from", "as", "such", "including", "include",
    "includes", "e", "g", "eg", "ie", "i", "etc", "than", "study", "trial", "protocol", "planned", "scheduled",
    "same", "their", "his", "her", "its", "our", "your", "each", "every", "either", "both", "more", "less", "least",
    "most", "one", "two", "three", "first", "second", "third", "line", "lines", "due", "related", "receiving",
    "received", "receive", "taking", "use", "using", "used", "under", "undergoing", "undergo", "after", "before",
    "during", "within", "following", "since", "into", "per", "via", "requiring", "require", "requires", "needing",
    "need", "required", "treated", "treatment", "treat", "therapy", "if", "when", "while", "where", "whose",
    "there", "here",
    "some", "many", "few", "several", "only", "also", "very", "well", "so", "then", "than", "what", "like",
    "associated", "caused", "induced", "secondary", "defined", "according", "per", "up", "out", "over", "above",
    "below", "between", "against", "about", "around", "whether", "excluding", "except", "unless", "type", "grade",
    "stage", "class", "level", "score", "post", "pre", "would", "could", "stop", "switch", "alternative",
    "specific", "directed", "based", "prevent", "preclude", "prolong", "indication", "potential", "risk", "signs",
    "symptoms", "new", "further", "additional", "standard-of-care", "care", "usual", "cancer-directed",
    # "NYHA class III or greater heart failure": a class or a comparison, not a kind of the disease
    "ii", "iii", "iv", "greater", "higher", "worse",
    # "a previously administered agent", "ability to tolerate radiation therapy": what is done with it, not a kind
    "administered", "given", "tolerate", "tolerated", "tolerating", "but", "however", "yet",
})
# Qualifiers that say how bad or how sure, not what: "serious disorders" names nothing checkable.
_WEAK_MODIFIERS = frozenset({
    "serious", "significant", "severe", "major", "minor", "early", "late", "active", "underlying", "uncontrolled",
    "unstable", "clinically", "relevant", "medical", "pre-existing", "existing", "possible", "probable", "proven",
    "symptomatic", "asymptomatic", "untreated", "poorly", "controlled", "pure", "important", "relevant", "mild",
    "moderate", "persistent", "current", "unresolved", "clinical", "concurrent", "intercurrent", "serious",
    "life-threatening", "other", "certain", "specified", "unspecified", "general", "any",
})
# Heads too general to name anything without a specific qualifier ("neurological disease" yes, "disease" no).
_GENERIC_HEADS = re.compile(
    r"^(?:diseases?|disorders?|syndromes?|illness(?:es)?|pathology|pathologies|abnormality|abnormalities|"
    r"conditions?|defects?|impairment|dysfunction|failure|insufficiency|deficiency|deficiencies|emergency|"
    r"emergencies|crisis|injury|injuries|toxicity|toxicities|pain|dependence|abuse|tumou?rs?|cancers?|"
    r"carcinomas?|malignancy|malignancies|deficits?)$",
    re.IGNORECASE,
)
_WORD_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-+]*")
_HEAD_WORDS = re.compile(rf"^(?:(?P<condition>{_CONDITION_HEADS})|(?P<therapy>{_THERAPY_HEADS}))$", re.IGNORECASE)
_MAX_MODIFIERS = 3
# "at the time of surgery", "48 hours before surgery": the procedure dates the criterion, it is not asked about;
# "failure to suppress following 2 mg of dexamethasone": a test dose, not a treatment the patient must have had.
_ANCHOR_BEFORE = re.compile(
    r"\b(?:(?:time|day|date)\s+of|before|prior\s+to|after|following|until|cleared\s+for|fit\s+for)\s+(?:the\s+)?"
    r"(?:(?:planned|scheduled|index|elective|study|first|initial)\s+)*$|"
    r"\b(?:after|following)\s+(?:an?\s+)?(?:(?:oral|intravenous|iv|single|overnight)\s+)?"
    r"\d+(?:\.\d+)?[\s-]*(?:mg|g|mcg|µg|ug|units?|iu)\b(?:\s+(?:oral|intravenous|iv))?\s+(?:of\s+)?$",
    re.IGNORECASE,
)
# "negative HIV test", "HIV test must be negative": the patient must not have the condition.
_NEGATIVE_TEST_BEFORE = re.compile(r"\bnegative\s+(?:[\w\-]+\s+){0,2}$", re.IGNORECASE)
# "undetectable HBV DNA", "HIV RNA < 50 copies/mL", "suppressed HIV viral load": a measure of the virus kept down,
# said of patients who have the infection; it is no demand to have it nor to be free of it
_VIRAL_LOAD_AFTER = re.compile(r"\s*(?:-?\s*\d\s+)?(?:DNA|RNA|viral\s+loads?)\b", re.IGNORECASE)
_SUPPRESSED_BEFORE = re.compile(r"\b(?:un-?detectable|suppressed|negative|undetected)\s+(?:[\w\-]+\s+){0,2}$", re.IGNORECASE)
_SUPPRESSED_AFTER = re.compile(
    r"\s*(?:-?\s*\d\s+)?(?:DNA|RNA|viral\s+loads?)\b[^.;,]{0,25}?(?:\b(?:un-?detectable|undetected|suppressed|negative|"
    r"below|less\s+than|under|lower\s+than)\b|<|≤)", re.IGNORECASE)
_TEST_AFTER = re.compile(r"^\s*(?:\w+\s+){0,2}(?:tests?|serology|screen(?:ing)?|results?|antibod(?:y|ies)|antigen|PCR)\b",
                         re.IGNORECASE)


def _names_the_treated_disease(before: str) -> bool:
    """Whether the words before a name make it what a treatment is for ("chemotherapy for metastatic X")."""
    return bool(_QUALIFIER_BEFORE.search(before) and _TREATMENT_WORD.search(before))


def _shape_mentions(text: str) -> list[tuple[int, int, str]]:
    """Open-vocabulary names: (start, end, type) for disease words, drug stems and qualified head nouns."""
    tokens = list(_WORD_TOKEN.finditer(text))
    found: list[tuple[int, int, str]] = []

    for index, token in enumerate(tokens):
        word = token.group(0).strip("'’-+")
        lowered = word.lower()
        if not word.isalpha() and not re.fullmatch(r"[a-z]+(?:-[a-z]+)*", lowered):
            continue
        head = _HEAD_WORDS.match(lowered)
        if head:
            first = _modifiers_start(text, tokens, index)
            standalone = head.group("condition") and not _GENERIC_HEADS.match(lowered)
            if first < index or standalone:
                found.append((tokens[first].start(), token.end(), "condition" if head.group("condition") else "therapy"))
            continue
        if _DISEASE_WORD.match(lowered):
            first = _modifiers_start(text, tokens, index)
            found.append((tokens[first].start(), token.end(), "condition"))
        elif len(lowered) >= 7 and _DRUG_WORD.match(lowered) and lowered not in _NOT_DRUGS:
            found.append((token.start(), token.end(), "therapy"))
        elif _TREATMENT_TRIGGER.search(text[max(0, token.start() - 30) : token.start()]) or _after_drug_list(
            text, tokens, index
        ):
            if _DRUG_LIKE_ENDING.match(lowered) and lowered not in _NOT_DRUGS and not lowered.endswith("tion"):
                found.append((token.start(), token.end(), "therapy"))
    return found


def _after_drug_list(text: str, tokens: list[re.Match[str]], index: int) -> bool:
    """Whether tokens[index] continues a list that a treatment verb opened ("taking pregabalin or gabapentin")."""
    if index < 2:
        return False
    gap = text[tokens[index - 1].end() : tokens[index].start()]
    if not re.fullmatch(r"\s*(?:,|/|,?\s*or|,?\s*and)\s*", gap):
        return False
    before = text[max(0, tokens[index - 1].start() - 30) : tokens[index - 1].start()]
    return bool(_TREATMENT_TRIGGER.search(before)) and bool(_DRUG_LIKE_ENDING.match(tokens[index - 1].group(0)))


def _name_at_end(surface: str, mention_type: str) -> re.Match[str] | None:
    """The lexicon name a phrase ends with ("heart failure" in "chronic heart failure"), if any."""
    end = len(surface.rstrip())
    return next((match for match in lexicon_regex(mention_type).finditer(surface) if match.end() == end), None)


def _lexicon_concept_inside(surface: str, mention_type: str) -> str | None:
    """The lexicon concept of a phrase that ends with a lexicon name ("chronic heart failure" -> heart failure)."""
    match = _name_at_end(surface, mention_type)
    if match is None:
        return None
    concept = concept_of(match.group(0), mention_type)
    # "primary brain tumors" is some cancer, not any: the patient's breast cancer is not one
    if concept in _BROADEST_CONCEPTS and match.start() > 0:
        return None
    extra = re.findall(r"[\w]+", surface[: match.start()].lower())
    if concept in _PARENTS and not all(word in _NARROWING_WORDS or STATE_WORD.fullmatch(word) for word in extra):
        return None
    return concept


_BROADEST_CONCEPTS = frozenset({"cancer"})
_PARENTS = frozenset(parent for parents in PARENT_CONCEPTS.values() for parent in parents)
_ATTRIBUTE_NOUN_AFTER = re.compile(
    r"[\s\-]+(?:specimens?|tissues?|samples?|biops(?:y|ies)|blocks?|cells?|markers?|size|burden|histology|types?|"
    r"volume|response|board|registry|registries|site|sites|slides?|material)\b", re.IGNORECASE)
# words that narrow a name without making it another disease ("metastatic lung cancer" is lung cancer; "small cell
# lung carcinoma" and "primary brain tumors" are not the broader name their last words are)
_NARROWING_WORDS = frozenset("""metastatic advanced recurrent relapsed refractory locally unresectable inoperable early
late stage invasive newly diagnosed chronic acute severe mild moderate uncontrolled active known documented confirmed
histologically cytologically pathologically persistent progressive symptomatic asymptomatic untreated treated
previously current prior history of and or with i ii iii iv a b c 1 2 3 4 poorly inadequately well controlled
clinically significant differentiated undifferentiated""".split())


def _modifiers_start(text: str, tokens: list[re.Match[str]], index: int,
                     stop_words: frozenset[str] = frozenset()) -> int:
    """Index of the first qualifying word before tokens[index] (same clause, not a stop word), weak ones cut."""
    first = index
    while first > 0 and index - first < _MAX_MODIFIERS:
        previous = tokens[first - 1]
        gap = text[previous.end() : tokens[first].start()]
        word = previous.group(0).lower().strip("'’-")
        if (gap.strip() not in {"", "-"} or gap.strip() and gap != gap.strip() or word in _MODIFIER_STOP
                or word in stop_words or any(ch.isdigit() for ch in word) or len(word) < 2):
            break
        first -= 1
    while first < index and tokens[first].group(0).lower().strip("'’-") in _WEAK_MODIFIERS:
        first += 1
    return first


def qualified_start(text: str, start: int, stop_words: frozenset[str] = frozenset()) -> int:
    """Where the words qualifying the name at ``start`` begin ("cataract" in "no prior cataract surgery")."""
    window = max(0, start - 80)
    while 0 < window < start and text[window - 1].isalnum():
        window += 1  # not from the middle of a word
    tokens = list(_WORD_TOKEN.finditer(text, window, start + 1))
    index = next((i for i, token in enumerate(tokens) if token.start() == start), None)
    return start if index is None else tokens[_modifiers_start(text, tokens, index, stop_words)].start()


@lru_cache(maxsize=16384)
def kind_words(term: str, concept: str | None, mention_type: str) -> frozenset[str]:
    """The words that make a name one kind of its lexicon concept ("cataract" in "cataract surgery", "portal" in
    "portal hypertension"); none when the name is a form of the concept or only says its stage or state."""
    if not concept or concept_of(term, mention_type) == concept:
        return frozenset()
    match = _name_at_end(term, mention_type)
    if match is None or concept_of(match.group(0), mention_type) != concept:
        return frozenset()
    return frozenset(word for word in name_words(term[: match.start()]) if word not in _NARROWING_WORDS
                     and word not in _MODIFIER_STOP and word not in _WEAK_MODIFIERS and word not in _MARKER_WORDS
                     and word not in _NO_KIND and not STATE_WORD.fullmatch(word))


def name_words(text: str) -> list[str]:
    """The words of a name as kinds are compared: lower case, no possessive ("kaposi's" -> "kaposi")."""
    return re.findall(r"[a-z0-9]+", text.lower().replace("'s", ""))


# what is done or to come, not what kind: "refused surgery", "developing thyroid cancer", "subsequent transplant"
_NO_KIND = frozenset("""whom subsequent later future refused refuse refusing developing develop undergone underwent
undergo""".split())
# "HR+ breast cancer", "EGFR-mutant NSCLC": the tumour markers judge such words, they make no other disease
_MARKER_WORDS = frozenset(
    {word for name in (*KNOWN_MARKERS, *FAMILIES) for word in re.findall(r"[a-z0-9]+", name.lower())}
    | set("positive negative mutant mutated mutation mutations amplified amplification overexpressing expressing "
          "wild type wildtype rearranged rearrangement fusion receptor status her2 er pr".split()))


def name_concept(term: str, mention_type: str) -> str | None:
    """A patient's name's lexicon concept, also when words qualify it: "pigmentary glaucoma" is some glaucoma."""
    if concept := concept_of(term, mention_type):
        return concept
    ending = _name_at_end(term, mention_type)
    return concept_of(ending.group(0), mention_type) if ending else None


def _mention_candidates(text: str, vocabularies: list[Vocabulary]) -> list[tuple[int, int, str, str | None, int]]:
    """Every candidate name: (start, end, type, concept, source rank); lexicon names rank first."""
    candidates: list[tuple[int, int, str, str | None, int]] = []
    for mention_type in ("therapy", "condition"):
        for match in lexicon_regex(mention_type).finditer(text):
            candidates.append((match.start(), match.end(), mention_type, concept_of(match.group(0), mention_type), 0))
    names = [name for vocabulary in vocabularies for name in vocabulary.find(text)]
    for start, end, mention_type, _name in names:
        surface = text[start:end]
        candidates.append((start, end, mention_type, concept_of(surface, mention_type)
                           or _lexicon_concept_inside(surface, mention_type), 1))
    for start, end, mention_type in _shape_mentions(text):
        candidates.append((start, end, mention_type, _lexicon_concept_inside(text[start:end], mention_type), 2))
    return candidates


def _resolve_overlaps(candidates: list[tuple[int, int, str, str | None, int]]) -> list[tuple[int, int, str, str | None]]:
    """Keep the longest candidate where several overlap (a lexicon name wins a tie)."""
    kept: list[tuple[int, int, str, str | None]] = []
    for start, end, mention_type, concept, _rank in sorted(candidates, key=lambda c: (-(c[1] - c[0]), c[4], c[0])):
        if any(start < other_end and other_start < end for other_start, other_end, _, _ in kept):
            continue
        kept.append((start, end, mention_type, concept))
    return sorted(kept)


_REQUIRING_BEFORE = re.compile(r"\b(?:requiring|required|requires?|needing)\s+(?:any\s+)?$", re.IGNORECASE)
# "a chronic condition for which influenza vaccine is recommended": the therapy only says which condition is meant.
_FOR_WHICH_BEFORE = re.compile(r"\bfor\s+which\s+(?:(?:an?|the|any)\s+)?$", re.IGNORECASE)


def _qualifies_condition(text: str, start: int, kept: list[tuple[int, int, str, str | None]]) -> bool:
    """A therapy that only qualifies a condition: "infection requiring systemic therapy".

    In an exclusion that is one compound condition; forbidding the therapy on its own would exclude patients the
    criterion lets in. (In an inclusion, "diabetes requiring insulin" does require insulin, so it stays.)
    """
    window_start = max(0, start - 30)
    if _FOR_WHICH_BEFORE.search(text, window_start, start):
        return True
    lead = _REQUIRING_BEFORE.search(text, window_start, start)
    return bool(lead) and any(kind == "condition" and 0 <= lead.start() - end <= 40 for _, end, kind, _ in kept)


# "More than 2 prior lines of chemotherapy", "no more than one prior regimen", "at least 2 cycles of": how many the
# patient had decides, which a note seldom says; "at least 1 prior line of X" still asks for X
_COUNT_BEFORE = re.compile(
    r"(?P<bound>more\s+than|greater\s+than|over|>=?|≥|≤|<=?|at\s+least|no\s+more\s+than|not\s+more\s+than|up\s+to|"
    r"maximum\s+of|a\s+maximum\s+of|fewer\s+than|less\s+than|at\s+most)?\s*(?P<count>\d+|one|two|three|four|five)\s*"
    r"(?:or\s+more\s+|\+\s*)?(?:[\w\-]+\s+){0,2}?(?:lines?|regimens?|courses?|cycles?)\s+(?:of\s+)?(?:[\w\-]+\s+){0,2}$",
    re.IGNORECASE)
_COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def _counted(before: str) -> bool:
    """Whether the words before a therapy count how much of it the rule is about, beyond having had it."""
    match = _COUNT_BEFORE.search(before)
    if not match:
        return False
    raw = match.group("count").lower()
    count = _COUNT_WORDS.get(raw) or int(raw)
    bound = (match.group("bound") or "").lower()
    return count >= 2 or bool(bound) and not bound.startswith(("at least", ">=", "≥"))


def extract_mentions(text: str, kind: str = "inclusion", vocabulary: Vocabulary | None = None) -> list[MentionConstraint]:
    """Condition and therapy mentions (lexicon, vocabulary and name shapes), with negation and exceptions applied."""
    found: list[MentionConstraint] = []
    windows = extract_time_windows(text, kind)
    vocabularies = [default_vocabulary(), *([vocabulary] if vocabulary else [])]
    kept = _resolve_overlaps(_mention_candidates(text, vocabularies))
    scales = rating_scale_names(text)
    for start, end, mention_type, concept in kept:
        surface = text[start:end]
        if any(s <= start and end <= e for s, e in scales):
            continue  # "Montgomery-Asberg Depression Rating Scale": a score's name, no diagnosis
        before = text[max(0, start - 40) : start]
        if mention_type == "condition" and (_names_the_treated_disease(before) or before.lower().endswith("anti-")):
            continue  # "no prior chemotherapy for X", "anti-cancer treatment": the disease a treatment is for
        if mention_type == "condition" and concept in _BROADEST_CONCEPTS and _ATTRIBUTE_NOUN_AFTER.match(text, end):
            continue  # "tumor specimen", "tumor tissue", "cancer cells": a thing of the tumour, not a diagnosis
        if mention_type == "therapy" and _FIELD_LABEL_AFTER.match(text, end):
            continue  # legacy "Chemotherapy: No prior chemotherapy", "Radiotherapy: Not specified": a field's name
        if mention_type == "condition" and (_QUALIFIER_AFTER.match(text[end:]) or _AT_THE_MARGINS.match(text[end:])):
            continue
        if mention_type == "therapy" and (_ANCHOR_BEFORE.search(before) or _SURGICAL_NOUN_AFTER.match(text[end:])
                                          or (kind == "exclusion" and _qualifies_condition(text, start, kept))):
            continue
        if mention_type == "condition" and _VIRAL_LOAD_AFTER.match(text, end) and (
                _SUPPRESSED_BEFORE.search(before) or _SUPPRESSED_AFTER.match(text, end)):
            continue
        context = mention_context(text, start, end)
        if context.ignored or context.permitted:
            continue
        negated = context.negated
        if mention_type == "condition" and _NEGATIVE_TEST_BEFORE.search(before) and _TEST_AFTER.match(text[end:]):
            negated = True
        if concept in EXCLUSIVE_KINDS and _THE_OTHER_KIND_AFTER.match(text, end):
            concept = PARENT_CONCEPTS.get(concept, (concept,))[0]  # "diabetes mellitus types 1 or 2": either kind
        # "Surgery, radiotherapy or chemotherapy within 3 weeks": the window after a list holds for each item
        time_limited = any(w.event_concept == concept for w in windows if concept) or (
            mention_type == "therapy" and any(_same_clause(text, end, w.span[0]) for w in windows))
        # "Patients with brain metastases must be stable", "Prior radiotherapy must have been completed 4 weeks
        # before": a rule for those who have it, not a demand that everyone has it
        hypothetical = context.hypothetical or _about_a_subgroup(text, start, end) or bool(_ALLOWED_FOR.search(before)) or (
            mention_type == "therapy" and (_rule_on_a_prior_treatment(text, start, end) or _counted(before)))
        found.append(MentionConstraint(
            type=mention_type, span=(start, end), text=surface,
            polarity=_context_polarity(kind, context, negated), negated=negated, hypothetical=hypothetical,
            term=surface.lower(), concept=concept,
            time_limited=time_limited, qualifiers=mention_states(text, _last_word_start(text, start, end), end),
        ))
    name_ends = {end for _, end, _, _ in kept}  # a name left out (allowed, ignored) still ends where it ends
    found += [sibling for constraint in found for sibling in _elliptical_siblings(text, constraint, name_ends)]
    found += [replace(constraint, span=(letter[0], letter[1]), text=text[letter[0]:letter[1]], term=letter[2],
                      concept=letter[2])
              for constraint in found if (letter := hepatitis_sibling(text, constraint.span[1], constraint.concept))]
    found = _negation_carried_forward(found, kind)
    unique: dict[tuple[str, str | None, str, bool], MentionConstraint] = {}
    for constraint in sorted(found, key=lambda c: c.span):
        key = (constraint.type, constraint.concept or constraint.term, constraint.polarity, constraint.hypothetical)
        unique.setdefault(key, constraint)
    return list(unique.values())


# "60% acceptable for patients with brain metastases": whom an allowance is for
_ALLOWED_FOR = re.compile(
    r"\b(?:allowed|permitted|acceptable|accepted|eligible)\s+(?:only\s+)?(?:for|in)\s+(?:patients|subjects|"
    r"participants|those|people|individuals|persons)\s+(?:with|who\s+have)\s+(?:[\w\-]+\s+){0,3}$", re.IGNORECASE)


def _last_word_start(text: str, start: int, end: int) -> int:
    """Where the last word of text[start:end] starts: states are read before it, so that a state word inside
    the name ("Decompensated liver disease") counts like one before it."""
    space = max(text.rfind(" ", start, end), text.rfind("-", start, end))
    return space + 1 if space >= start else start


def _negation_carried_forward(found: list[MentionConstraint], kind: str) -> list[MentionConstraint]:
    """A negated name stays negated where the criterion names it again, past the negation's word limit.

    "must not have a history of anterior segment surgery or trauma ... (e.g., cataract surgery or any surgery
    involving a corneal incision)": the later surgeries are the same thing the criterion forbids, not a
    requirement.
    """
    negated_keys: set[tuple[str, str]] = set()
    carried = []
    for constraint in sorted(found, key=lambda c: c.span):
        key = (constraint.type, constraint.concept or normalize_term(constraint.term))
        if constraint.negated:
            negated_keys.add(key)
        elif key in negated_keys and not constraint.hypothetical:
            constraint = replace(constraint, negated=True, polarity=_polarity(kind, True))
        carried.append(constraint)
    return carried


_ELLIPSIS_BEFORE = re.compile(r"(?P<word>[A-Za-z][A-Za-z\-]{2,})\s*(?:,\s*|\s+)(?:or|and|and/or)\s+$|"
                              r"(?P<list_word>[A-Za-z][A-Za-z\-]{2,})\s*/\s*$", re.IGNORECASE)


def _elliptical_siblings(text: str, constraint: MentionConstraint, name_ends: set[int]) -> list[MentionConstraint]:
    """ "brain or meningeal metastases" names brain metastases too: the head noun is shared across "or".

    Not when the word before "or" ends a name of its own ("anticoagulants or thrombolytic agent", "high blood
    pressure and antihypertensive treatment"): then the head belongs to the second name only.
    """
    words = constraint.text.split()
    if len(words) < 2 or not _HEAD_WORDS.match(words[-1].lower()):
        return []
    window_start = max(0, constraint.span[0] - 30)
    lead = _ELLIPSIS_BEFORE.search(text[window_start : constraint.span[0]])
    if not lead:
        return []
    word = lead.group("word") or lead.group("list_word")
    word_end = window_start + lead.end("word" if lead.group("word") else "list_word")
    if (word.lower() in _MODIFIER_STOP or word.lower() in _WEAK_MODIFIERS or _HEAD_WORDS.match(word.lower())
            or _DISEASE_WORD.match(word.lower()) or word_end in name_ends):
        return []
    start = window_start + lead.start()
    # the word before "or" stands where the name's first word stands: "small or large cell lung cancer"
    term = " ".join([word, *words[1:]]).lower()
    concept = concept_of(term, constraint.type)
    if not (ADJECTIVE_SHAPE.search(word) or STATE_WORD.fullmatch(word) or concept
            or default_vocabulary().starts_a_name(word)):
        return []  # "tumor size >= 1 cm in maximum diameter and axillary node-positive breast cancer": a noun of
        # another phrase, not a second kind of the name
    return [replace(constraint, span=(start, constraint.span[1]), text=text[start : constraint.span[1]], term=term,
                    concept=concept or _lexicon_concept_inside(term, constraint.type))]


def extract_biomarkers(text: str, kind: str = "inclusion") -> list[BiomarkerConstraint]:
    """Tumour biomarker statuses ("EGFR exon 19 deletion", "HER2-negative", "ER/PR positive"), negation applied."""
    found: dict[tuple, BiomarkerConstraint] = {}
    for finding in find_biomarkers(text):
        before = text[max(0, finding.start - 40) : finding.start]
        context = mention_context(text, finding.start, finding.end)
        if (context.ignored or context.permitted or _MARKER_TESTED_BEFORE.search(before)
                or _names_the_treated_disease(before)):
            # "tissue for PD-L1 testing", "no prior chemotherapy for triple-negative disease": the marker names
            # what is tested or treated, not what the patient must have
            continue
        hypothetical = context.hypothetical or _about_a_subgroup(text, finding.start, finding.end)
        constraint = BiomarkerConstraint(
            type="biomarker", span=(finding.start, finding.end), text=text[finding.start : finding.end],
            polarity=_context_polarity(kind, context), negated=context.negated, hypothetical=hypothetical,
            markers=finding.markers, status=finding.status, variants=finding.variants, combine=finding.combine,
        )
        key = (constraint.markers, constraint.status, constraint.polarity, constraint.variants, constraint.combine)
        found.setdefault(key, constraint)
    return list(found.values())


_MARKER_TESTED_BEFORE = re.compile(r"\b(?:detection|testing|tests?|analysis|assessment|determination|screening|"
                                   r"evaluation)\s+(?:of|for)\s+(?:the\s+)?$", re.IGNORECASE)
# "Participants with BRAF-mutant melanoma must have had ...", "For patients with known BRAF V600E mutation:",
# "TNBC patients must have received ...": what a subgroup must do, not who may join
_SUBGROUP_LEAD = re.compile(r"(?:^|[.;:]\s)\W*(?:for\s+|in\s+)?(?:patients?|participants?|subjects?|those|individuals?|"
                            r"women|men)\s+(?:with|who\s+have|harbou?ring)\b[^.;:]{0,60}$", re.IGNORECASE)
_SUBGROUP_VERB = re.compile(r"[^.;:(]{0,60}?\b(?:must|should|need\s+to|will\s+be\s+eligible|are\s+(?:eligible|required|allowed)\s+"
                            r"(?:if|only|to|provided)|may\s+(?:not\s+)?(?:be|have|enroll))\b|\s*:", re.IGNORECASE)
_SENTENCE_LEAD = re.compile(r"(?:^|[.;:]\s)\W*$")
_NAMED_GROUP_VERB = re.compile(r"[^.;:]{0,60}?\b(?:patients|participants|subjects)\s+(?:must|should|need\s+to|"
                               r"are\s+eligible|may)\b", re.IGNORECASE)


# "Prior radiotherapy is allowed if ...", "Any prior chemotherapy must have been completed ...", "Patients who received
# prior radiotherapy must have recovered": what holds for those treated, whoever they are
_PRIOR_TREATMENT_LEAD = re.compile(
    r"(?:^|[.;:]\s)\W*(?:(?:any|all)\s+)?(?:(?:prior|previous|past)\s+)?(?:[\w\-/]+\s+){0,2}$"
    r"|\b(?:patients|participants|subjects|those)\s+who\s+(?:have\s+)?(?:received|had|undergone|been\s+treated\s+with)"
    r"\s+(?:any\s+)?(?:prior\s+|previous\s+)?(?:[\w\-/]+\s+){0,2}$", re.IGNORECASE)
_RULE_ON_A_TREATMENT = re.compile(
    r"[^.;:]{0,40}?\b(?:(?:is|are)\s+(?:allowed|permitted|acceptable)\s+(?:if|only|provided|as\s+long)"
    r"|must\s+(?:have\s+been\s+|be\s+)?(?:completed|discontinued|stopped|finished|ended)"
    r"|(?:must|should)\s+(?:have\s+)?(?:recovered|resolved)|should\s+(?:have\s+been\s+|be\s+)?completed)\b",
    re.IGNORECASE)


def _rule_on_a_prior_treatment(text: str, start: int, end: int) -> bool:
    """Whether the treatment is the subject of a rule for those who had it ("Prior radiotherapy must have been
    completed at least 4 weeks before", "At least 4 weeks since prior chemotherapy"), not a requirement to have
    had it."""
    before = text[max(0, start - 80):start]
    return bool(_TIME_SINCE_BEFORE.search(before)) or bool(_PRIOR_TREATMENT_LEAD.search(before)) and bool(
        _RULE_ON_A_TREATMENT.match(text, end))


# legacy "At least 4 weeks since prior chemotherapy (6 weeks for nitrosoureas)": how long ago, for those who had it
_TIME_SINCE_BEFORE = re.compile(
    r"(?:^|[.;:]\s)\W*(?:at\s+least|more\s+than|greater\s+than|over|≥|>=|>)\s*(?:\d+|one|two|three|four|six)\s*"
    r"(?:hours?|days?|weeks?|months?|years?)\s+since\s+(?:(?:the\s+)?(?:prior|previous|last|any|completion\s+of)\s+)*"
    r"(?:[\w\-/]+\s+){0,3}$", re.IGNORECASE)
_FIELD_LABEL_AFTER = re.compile(r"\s*:(?!:)")


def _same_clause(text: str, end: int, later: int) -> bool:
    """Whether position later follows end in the same clause, not far on."""
    return 0 <= later - end <= 120 and not re.search(r"[.;]\s|\bexcept\b|\bunless\b", text[end:later])


_THE_OTHER_KIND_AFTER = re.compile(r"\s*(?:or|and|/|,)\s*(?:type\s*)?(?:[12]|I{1,2})\b", re.IGNORECASE)


def _about_a_subgroup(text: str, start: int, end: int) -> bool:
    """Whether the mention only names the subgroup a requirement is for ("Participants with X must have had Y")."""
    before = text[max(0, start - 120) : start]
    if _SUBGROUP_LEAD.search(before):
        return bool(_SUBGROUP_VERB.match(text, end))
    return bool(_SENTENCE_LEAD.search(before)) and bool(_NAMED_GROUP_VERB.match(text, end))


_LAB_NEGATION = re.compile(rf"\b(?:no|not(?!\s+{LEFT_OPEN}\b)|without|absence\s+of)\s+(?:[\w\-]+\s+){{0,2}}$",
                           re.IGNORECASE)
# "No measured fever (defined as body temperature >= 38.0 C)": the threshold defines a finding the criterion negates
_NEGATED_FINDING = re.compile(
    r"^\W*(?:no|without|absence\s+of|free\s+of|(?:(?:patients|subjects|participants)\s+)?(?:must|should|may|do|does)"
    r"\s+not\s+have)\b(?!\s+(?:more|less|greater|fewer|higher|lower)\b)", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[.;:]\s|\b[a-z]\.\s")
_WITH_A_MEASURE = re.compile(r"\s*,?\s*(?:with|as\s+(?:evidenced|indicated|shown)\s+by)\b", re.IGNORECASE)
_DEFINITION_OPENER = re.compile(r"\(|\bdefined\s+(?:as|by)\b|\bi\.\s?e\.", re.IGNORECASE)
# "(patients with CD4 counts of 50-199 may ...)": a statement about a subgroup, not a definition
_A_SUBGROUP = re.compile(r"\b(?:patients|subjects|participants|those)\s+with\b", re.IGNORECASE)
_NOT_A_DEFINITION = re.compile(r"\b(?:must|should|adequate|normal|excluding|except|other\s+than|may)\b", re.IGNORECASE)


def _defines_negated_finding(text: str, start: int) -> bool:
    """Whether the threshold at start defines what the criterion's opening "No ..." rules out, in its first sentence
    ("No severe liver disease (ALT > 5 x ULN)", "No uncontrolled hypertension, defined as SBP > 160 or DBP > 90"),
    not a later sentence, a requirement ("must have adequate function (LVEF >= 50%)") or an exception."""
    before = text[:start]
    negated_finding = _NEGATED_FINDING.match(text)
    # the "must" of "Patients must not have ..." is the negation itself, not a requirement after it
    if start > 200 or not negated_finding or _SENTENCE_BREAK.search(before) \
            or _NOT_A_DEFINITION.search(before, negated_finding.end()):
        return False
    opener = None
    for opener in _DEFINITION_OPENER.finditer(before):
        pass
    # a bracket still open at the threshold ("(i.e., SBP > 150 or DBP > 90"), or a "defined as" / "i.e." before it
    inside = before[opener.end():] if opener is not None else ""
    return opener is not None and (opener.group(0) != "(" or ")" not in inside) and not _A_SUBGROUP.search(inside)


def threshold_defines(text: str, head_end: int, threshold_start: int) -> bool:
    """Whether the threshold at threshold_start defines the finding named just before head_end ("fever (body
    temperature >= 38 C)", "renal failure, defined as creatinine > 2 mg/dL", "Fever, with a temperature of ...")."""
    between = text[head_end:threshold_start]
    return 0 <= len(between) <= 60 and not _SENTENCE_BREAK.search(between) and bool(
        _DEFINITION_OPENER.search(between) or _WITH_A_MEASURE.match(between))


def extract_labs(text: str, kind: str = "inclusion") -> list[ThresholdConstraint]:
    """Lab and vital-sign thresholds with units and values converted to canonical units where possible."""
    found: list[ThresholdConstraint] = []
    for reading in find_lab_readings(text):
        context = mention_context(text, reading.start, reading.start + 1)
        # A lab threshold is negated only by a negation right before it ("no ANC < 1000"), not by an
        # earlier clause such as "hypertension that is not well controlled (SBP >= 140)".
        negated = bool(_LAB_NEGATION.search(text[max(0, reading.start - 25) : reading.start])) or _defines_negated_finding(
            text, reading.start)
        normalized, normalized_unit = normalize_lab(reading.analyte, reading.value, reading.unit)
        normalized_high = None
        if reading.value_high is not None:
            normalized_high, _ = normalize_lab(reading.analyte, reading.value_high, reading.unit)
        found.append(ThresholdConstraint(
            type="lab", span=(reading.start, reading.end), text=text[reading.start : reading.end],
            polarity=_polarity(kind, negated), negated=negated,
            # "Subjects with HbA1c < 7.5% must have a fasting glucose >= 7 mmol/L": whom the rule is for
            hypothetical=context.hypothetical or _about_a_subgroup(text, reading.start, reading.end),
            analyte=reading.analyte, comparator=reading.comparator, value=reading.value,
            value_high=reading.value_high, unit=reading.unit, normalized_value=normalized,
            normalized_value_high=normalized_high, normalized_unit=normalized_unit,
        ))
    return found


# "Cohort A (adults 18-65 years):", "Part 2: patients aged 12 to 17": a rule for one cohort, arm or part of the
# study. The record's own age and sex fields cover every cohort, so such a rule cannot exclude anyone by itself.
_COHORT_SCOPE = re.compile(
    r"(?i:\bcohorts?\b)|\b(?i:arms?|parts?|groups?|strat(?:um|a)|panels?)\s+(?:[A-H]|[1-9]\d?|I{1,3}|IV|VI{0,3})\b"
    r"(?!\s*(?i:%|years?|months?|weeks?|days?|mg|strep))"
)


def scoped_to_cohort(criterion_text: str, heading: str | None = None) -> bool:
    """Whether the criterion, or the heading it sits under, is about one cohort, arm or part of the study."""
    return bool(_COHORT_SCOPE.search(criterion_text) or (heading and _COHORT_SCOPE.search(heading)))


# An age that only picks out whom another requirement is for ("If age is 40 to 45 years, normal stress test",
# "mammogram required for women aged 40 and over") or one of several alternatives ("at least one of the following
# risk factors: (a) age > 65 years"). The age itself is not required of every patient.
_AGE_CONDITION_BEFORE = re.compile(
    r"(?:\b(?:if|when|unless|whether)\b|\bfor\s+(?:all\s+)?(?:women|men|females?|males?|patients?|subjects?|"
    r"participants?|children|adolescents|adults|those|persons?|individuals?|people)\b)[^.;:]{0,30}$"
    r"|\b(?:one|any|two|both)\s+of\s+the\s+following\b[^.]*$|\brisk\s+factors?\b[^.]*$",
    re.IGNORECASE,
)
# "No patients less than or equal to 5 years old": the criterion forbids that age range.
_AGE_NEGATED_BEFORE = re.compile(
    r"^\W*no\s+(?:(?:patients?|subjects?|participants?|children|adults|persons?|individuals?|people|one)\s+)?"
    r"(?:(?:who\s+(?:are|is)|aged?)\s+)?$",
    re.IGNORECASE,
)


# "Postmenopausal: age >= 60, or age < 60 and amenorrheic for 12 months": one way of many to qualify
_MENOPAUSE_DEFINITION = re.compile(r"menopaus|amenorrh|oophorectom", re.IGNORECASE)
# "female of child bearing potential (<=60 years of age)": the age says who must use contraception, not who may join
_CHILDBEARING = re.compile(r"\b(?:child[\s\-]?bearing|reproductive)\s+potential\b[^.;]*$", re.IGNORECASE)
# "family history of sudden death under 40 years of age": a relative's age, not the patient's
_SOMEONE_ELSES_AGE = re.compile(r"\b(?:family|relatives?|mother|father|parents?|siblings?|sisters?|brothers?|death|died)\b"
                                r"[^.;]*$", re.IGNORECASE)


def _age_in_context(age: ThresholdConstraint, criterion_text: str) -> ThresholdConstraint:
    """The age bound as the criterion means it: conditional, or forbidden after a leading "No", or as found."""
    before = criterion_text[: age.span[0]]
    # who the age picks out, whatever else holds: a way to qualify as postmenopausal, who must use contraception
    one_way_of_many = bool(_MENOPAUSE_DEFINITION.search(criterion_text) or _CHILDBEARING.search(before[-60:]))
    if _AGE_NEGATED_BEFORE.match(before):
        return replace(age, negated=True, polarity="forbid" if age.polarity == "require" else "require",
                       hypothetical=age.hypothetical or one_way_of_many)
    if _AGE_CONDITION_BEFORE.search(before[-160:]) or _introduces_sub_items(age, criterion_text) or \
            _SOMEONE_ELSES_AGE.search(before[-60:]) or one_way_of_many:
        return replace(age, hypothetical=True)
    return age


def _introduces_sub_items(age: ThresholdConstraint, criterion_text: str) -> bool:
    """ "Age 65-70 years:" over a list of requirements: the age says whom the list is for, it requires nothing."""
    stripped = criterion_text.rstrip()
    if not stripped.endswith(":"):
        return False
    rest = criterion_text[: age.span[0]] + criterion_text[age.span[1] :]
    return len(re.findall(r"[A-Za-z]{2,}", rest)) <= 3


# Durations that are not windows around a past event.
_NOT_A_WINDOW = re.compile(r"\b(?:life\s+expectancy|survival|expected\s+to\s+live)\b[^.;]*$", re.IGNORECASE)


_REQUIREMENT_PHRASED = re.compile(
    r"^\W*(?:(?:all\s+)?(?:female\s+|male\s+)?(?:patients?|participants?|subjects?|women|men|females?|males?)"
    r"(?:\s+of\s+(?:child[- ]?bearing|reproductive)\s+potential)?\s+)?(?:must|should)(?:\s+not)?\s+"
    r"(?:have|be|agree|use|provide|sign|undergo|practi[cs]e)\b", re.IGNORECASE)


def extract_constraints(
    criterion_text: str, kind: str = "inclusion", heading: str | None = None, vocabulary: Vocabulary | None = None
) -> list[Constraint]:
    """Every constraint found in one criterion, ordered by position; ``heading`` helps legacy "Age:" lists.

    ``vocabulary`` adds names to recognise on top of the shipped one, typically study_vocabulary(study) for the
    study whose criteria these are.
    """
    if not criterion_text or not criterion_text.strip():
        return []
    if kind == "exclusion" and _REQUIREMENT_PHRASED.match(criterion_text):
        # "Female patients of childbearing potential must have a negative pregnancy test", "Must not have active
        # infection", filed among the exclusions: read as written, a requirement or a ban in its own words
        kind = "inclusion"
    age_heading = bool(heading and re.search(r"\bage\b", heading, re.IGNORECASE))
    ages = extract_age(criterion_text, kind, age_heading)
    windows = [
        window for window in extract_time_windows(criterion_text, kind)
        if not any(window.span[0] < age.span[1] and age.span[0] < window.span[1] for age in ages)
        and not _NOT_A_WINDOW.search(criterion_text[max(0, window.span[0] - 40) : window.span[0]])
    ]
    ages = [_age_in_context(age, criterion_text) for age in ages]
    sexes = extract_sex(criterion_text, kind)
    biomarkers = extract_biomarkers(criterion_text, kind)
    if (ages or sexes or biomarkers) and scoped_to_cohort(criterion_text, heading):
        # conditional on the patient joining that cohort ("Cohort B: HER2-negative"): checked, but "unknown"
        # rather than a reason to exclude
        ages = [replace(age, hypothetical=True) for age in ages]
        sexes = [replace(sex, hypothetical=True) for sex in sexes]
        biomarkers = [replace(marker, hypothetical=True) for marker in biomarkers]
    constraints: list[Constraint] = [
        *ages,
        *sexes,
        *extract_pregnancy(criterion_text, kind),
        *extract_smoking(criterion_text, kind),
        *extract_labs(criterion_text, kind),
        *extract_performance(criterion_text, kind),
        *windows,
        *extract_mentions(criterion_text, kind, vocabulary),
        *biomarkers,
    ]
    return sorted(constraints, key=lambda c: (c.span[0], c.type))
