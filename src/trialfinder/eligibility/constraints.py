"""Extract checkable constraints (age, sex, pregnancy, labs, performance, time windows, mentions) from a criterion."""

from __future__ import annotations

import re

from .context import mention_context
from .measures import NUMBER, comparator_of, find_lab_readings, normalize_lab, parse_number, post_comparator
from .model import (
    Constraint,
    MentionConstraint,
    PerformanceConstraint,
    Polarity,
    SexConstraint,
    StateConstraint,
    ThresholdConstraint,
    TimeWindowConstraint,
)
from .terms import concept_of, lexicon_regex

_AGE_UNIT = r"(?P<unit>years?|yrs?|y/?o|months?)"
_AGE_CONTEXT_BLOCK = re.compile(
    r"\b(?:since|within|ago|for|past|last|duration|diagnos\w*|history|previous|prior|after|before|"
    r"expectancy|follow|survival|period|interval|stable|onset|symptoms?)\b[^.;]{0,25}$",
    re.IGNORECASE,
)
_AGE_PATTERNS = [
    # "aged 18-65 years", "between 18 and 75 years of age", "18 to 65 years old", "age 18-50"
    re.compile(rf"(?P<prefix>\bage[ds]?\b[^0-9;.]{{0,25}}?)?(?:between\s+)?(?P<low>\d{{1,3}})\s*(?:years?\s*)?"
               rf"(?:-|–|to|and)\s*(?P<high>\d{{1,3}})\s*(?:{_AGE_UNIT})?", re.IGNORECASE),
    # "≥ 18 years", "at least 18 years", "age ≥ 18", "older than 65 years"
    re.compile(rf"(?P<prefix>\bage[ds]?\b[^0-9;.]{{0,20}}?)?(?P<comparator>(?:[<>≤≥]=?|=>|=<|>/=|</=|at\s+least|"
               rf"(?:no|not)\s+(?:older|younger|less|more|greater)\s+than|older\s+than|younger\s+than|over|under|"
               rf"above|below|greater\s+than(?:\s+or\s+equal\s+to)?|more\s+than|less\s+than(?:\s+or\s+equal\s+to)?|"
               rf"minimum(?:\s+of)?|maximum(?:\s+of)?|up\s+to))\s*(?:the\s+age\s+of\s+)?(?P<value>\d{{1,3}})\s*"
               rf"(?:{_AGE_UNIT})?", re.IGNORECASE),
    # "18 years or older", "18 years of age and above", "65 and over"
    re.compile(rf"(?P<prefix>\bage[ds]?\b[^0-9;.]{{0,20}}?)?(?P<value>\d{{1,3}})\s*(?:{_AGE_UNIT})?\s*"
               rf"(?:of\s+age\s*|old\s*)?(?P<post>(?:or|and)\s+(?:older|above|over|more|greater|younger|under|below|less)"
               rf"|\+)", re.IGNORECASE),
]
# A duration, not an age: "at least 3 years elapsed since the diagnosis", "5 years after treatment".
_AGE_AFTER_BLOCK = re.compile(
    r"\s*(?:have\s+)?(?:elapsed|passed|since|after|before|ago|prior\s+to|from|following|of\s+(?:follow|treatment|"
    r"therapy|remission|disease|smoking|exposure|continuous|stable)|duration|disease[\s\-]free|relapse[\s\-]free)\b",
    re.IGNORECASE,
)
_AGE_WORD_COMPARATORS = {"older than": ">", "younger than": "<", "over": ">", "under": "<", "above": ">",
                         "below": "<", "up to": "<=", "maximum": "<=", "minimum": ">="}


def _polarity(kind: str, negated: bool) -> Polarity:
    """Inclusion asserts, exclusion inverts, negation inverts again."""
    return "require" if (kind == "inclusion") != negated else "forbid"


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


def extract_age(text: str, kind: str = "inclusion", age_heading: bool = False) -> list[ThresholdConstraint]:
    """Age bounds in years, merged into one constraint per criterion (a range when both ends are given)."""
    low: tuple[float, bool, int, int] | None = None
    high: tuple[float, bool, int, int] | None = None
    taken: list[tuple[int, int]] = []
    for pattern in _AGE_PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            unit = (match.groupdict().get("unit") or "").lower()
            has_prefix = bool(match.group("prefix"))
            if not unit and not has_prefix and not age_heading:
                continue
            if unit.startswith(("month",)) and not has_prefix:
                continue
            if _AGE_CONTEXT_BLOCK.search(text[max(0, match.start() - 40) : match.start()]) and not has_prefix:
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
    if low is None and high is None:
        return []
    start = min(bound[2] for bound in (low, high) if bound)
    end = max(bound[3] for bound in (low, high) if bound)
    if low and high:
        comparator, value, value_high = "between", low[0], high[0]
    elif low:
        comparator, value, value_high = (">=" if low[1] else ">"), low[0], None
    else:
        assert high is not None
        comparator, value, value_high = ("<=" if high[1] else "<"), high[0], None
    return [ThresholdConstraint(
        type="age", span=(start, end), text=text[start:end], polarity=_polarity(kind, False),
        analyte="age", comparator=comparator, value=value, value_high=value_high, unit="years",
        normalized_value=value, normalized_value_high=value_high, normalized_unit="years",
        low_inclusive=low[1] if low else True, high_inclusive=high[1] if high else True,
    )]


_SEX_LEAD = re.compile(
    r"^(?:(?:healthy|adult|adults|postmenopausal|post-menopausal|premenopausal|pre-menopausal|ambulatory|elderly|"
    r"older|young|non-pregnant|nonpregnant|caucasian|asian|pediatric|adolescent|\d{1,3}|to|-|years?|old|aged?|or|"
    r"and)\s+){0,5}(?P<sex>women|woman|females?|men|man|males?|girls?|boys?)\b",
    re.IGNORECASE,
)
_SEX_CONDITIONAL = re.compile(
    r"\b(?:childbearing|child-bearing|reproductive|fertile|must|should|agree|willing|contracepti\w*|partners?|"
    r"sexually|condoms?|who|pregnan\w*|lactat\w*|breast[\s\-]?feed\w*|anticonception)\b",
    re.IGNORECASE,
)
_BOTH_SEXES = re.compile(r"\b(?:males?|men)\s*(?:or|and|/|&)\s*(?:females?|women)\b|\b(?:females?|women)\s*(?:or|and|/|&)"
                         r"\s*(?:males?|men)\b|\bboth\s+(?:sexes|genders)\b|\beither\s+(?:sex|gender)\b", re.I)


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
            if context.ignored or context.permitted:
                continue
            negated = context.negated
            if is_test:
                # "negative pregnancy test" / "pregnancy test must be negative" both say: not pregnant.
                before = text[max(0, match.start() - 40) : match.start()]
                negated = bool(_NEGATIVE_TEST.search(before)) or "negative" in after.lower() or not re.search(
                    r"\bpositive\b", before + after, re.I)
            candidates.append(StateConstraint(
                type=state, span=(match.start(), match.end()), text=match.group(0),
                polarity=_polarity(kind, negated), negated=negated, hypothetical=context.hypothetical and not is_test,
            ))
        real = [c for c in candidates if not c.hypothetical]
        if real or candidates:
            found.append((real or candidates)[0])
    return found


_PERFORMANCE = re.compile(
    r"(?P<scale>\bECOG\b|Eastern\s+Cooperative\s+Oncology\s+Group|\bZubrod\b|\bWHO\b(?=[^.;]{0,30}performance|\s*PS)|"
    r"World\s+Health\s+Organi[sz]ation(?=[^.;]{0,30}performance)|\bKarnofsky\b|\bKPS\b|\bLansky\b|"
    r"performance\s+status|\bPS\b)"
    r"(?P<filler>[^0-9;]{0,45}?)"
    rf"(?P<numbers>\d{{1,3}}(?:\s*%?\s*(?:-|–|to|,|or|and|,\s*or)\s*\d{{1,3}})*)\s*%?",
    re.IGNORECASE,
)


def extract_performance(text: str, kind: str = "inclusion") -> list[PerformanceConstraint]:
    """Performance status ranges: ECOG/Zubrod/WHO (0-5) and Karnofsky/Lansky (0-100)."""
    found: list[PerformanceConstraint] = []
    for match in _PERFORMANCE.finditer(text):
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
            polarity=_polarity(kind, context.negated), negated=context.negated, scale=scale,
            scale_name=scale_name, min_score=low, max_score=high,
        ))
    return found


_TIME_UNIT = r"(?P<unit>days?|weeks?|wks?|months?|mos?|years?|yrs?|hours?|hrs?)"
_COUNT = rf"(?P<amount>{NUMBER}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_WITHIN = re.compile(
    rf"\b(?:within|in|during|over)\s+(?:the\s+)?(?:(?:past|last|previous|preceding|prior)\s+)?"
    rf"(?:(?:{_COUNT})\s*[\-\s]?{_TIME_UNIT}|(?P<bare_unit>year|month|week|day)\b)"
    r"|\b(?:within|in)\s+(?:the\s+)?(?:past|last|previous|preceding)\s+(?P<bare_unit2>year|month|week|day)\b",
    re.IGNORECASE,
)
_AT_LEAST = re.compile(
    rf"(?:\b(?:at\s+least|more\s+than|greater\s+than|minimum\s+of|a\s+minimum\s+of|over)\s+|[≥>]=?\s*)?"
    rf"{_COUNT}\s*[\-\s]?{_TIME_UNIT}\s*(?:or\s+(?:more|longer)\s+)?(?:must\s+have\s+)?(?:have\s+)?"
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


_QUALIFIER_BEFORE = re.compile(r"\b(?:for|of\s+the|to\s+the|to|against|in)\s+(?:[\w\-]+\s+){0,3}$", re.IGNORECASE)


def extract_mentions(text: str, kind: str = "inclusion") -> list[MentionConstraint]:
    """Condition and therapy mentions from the lexicon, with negation, hypotheticals and exceptions applied."""
    found: list[MentionConstraint] = []
    windows = extract_time_windows(text, kind)
    for mention_type in ("therapy", "condition"):
        for match in lexicon_regex(mention_type).finditer(text):
            if any(match.start() < c.span[1] and c.span[0] < match.end() for c in found):
                continue
            before = text[max(0, match.start() - 40) : match.start()]
            if mention_type == "condition" and _QUALIFIER_BEFORE.search(before) and re.search(
                r"\b(?:therapy|treatment|chemotherapy|radiotherapy|treated|agents?|drugs?|medications?|surgery|"
                r"irradiation|radiation)\b", before, re.IGNORECASE):
                continue
            context = mention_context(text, match.start(), match.end())
            if context.ignored or context.permitted:
                continue
            concept = concept_of(match.group(0), mention_type)
            time_limited = any(w.event_concept == concept for w in windows if concept)
            found.append(MentionConstraint(
                type=mention_type, span=(match.start(), match.end()), text=match.group(0),
                polarity=_polarity(kind, context.negated), negated=context.negated,
                hypothetical=context.hypothetical, term=match.group(0).lower(), concept=concept,
                time_limited=time_limited,
            ))
    unique: dict[tuple[str, str | None, str], MentionConstraint] = {}
    for constraint in sorted(found, key=lambda c: c.span):
        unique.setdefault((constraint.type, constraint.concept or constraint.term, constraint.polarity), constraint)
    return list(unique.values())


_LAB_NEGATION = re.compile(r"\b(?:no|not|without|absence\s+of)\s+(?:[\w\-]+\s+){0,2}$", re.IGNORECASE)


def extract_labs(text: str, kind: str = "inclusion") -> list[ThresholdConstraint]:
    """Lab and vital-sign thresholds with units and values converted to canonical units where possible."""
    found: list[ThresholdConstraint] = []
    for reading in find_lab_readings(text):
        context = mention_context(text, reading.start, reading.start + 1)
        # A lab threshold is negated only by a negation right before it ("no ANC < 1000"), not by an
        # earlier clause such as "hypertension that is not well controlled (SBP >= 140)".
        negated = bool(_LAB_NEGATION.search(text[max(0, reading.start - 25) : reading.start]))
        normalized, normalized_unit = normalize_lab(reading.analyte, reading.value, reading.unit)
        normalized_high = None
        if reading.value_high is not None:
            normalized_high, _ = normalize_lab(reading.analyte, reading.value_high, reading.unit)
        found.append(ThresholdConstraint(
            type="lab", span=(reading.start, reading.end), text=text[reading.start : reading.end],
            polarity=_polarity(kind, negated), negated=negated, hypothetical=context.hypothetical,
            analyte=reading.analyte, comparator=reading.comparator, value=reading.value,
            value_high=reading.value_high, unit=reading.unit, normalized_value=normalized,
            normalized_value_high=normalized_high, normalized_unit=normalized_unit,
        ))
    return found


# Durations that are not windows around a past event.
_NOT_A_WINDOW = re.compile(r"\b(?:life\s+expectancy|survival|expected\s+to\s+live)\b[^.;]*$", re.IGNORECASE)


def extract_constraints(criterion_text: str, kind: str = "inclusion", heading: str | None = None) -> list[Constraint]:
    """Every constraint found in one criterion, ordered by position; ``heading`` helps legacy "Age:" lists."""
    if not criterion_text or not criterion_text.strip():
        return []
    age_heading = bool(heading and re.search(r"\bage\b", heading, re.IGNORECASE))
    ages = extract_age(criterion_text, kind, age_heading)
    windows = [
        window for window in extract_time_windows(criterion_text, kind)
        if not any(window.span[0] < age.span[1] and age.span[0] < window.span[1] for age in ages)
        and not _NOT_A_WINDOW.search(criterion_text[max(0, window.span[0] - 40) : window.span[0]])
    ]
    constraints: list[Constraint] = [
        *ages,
        *extract_sex(criterion_text, kind),
        *extract_pregnancy(criterion_text, kind),
        *extract_labs(criterion_text, kind),
        *extract_performance(criterion_text, kind),
        *windows,
        *extract_mentions(criterion_text, kind),
    ]
    return sorted(constraints, key=lambda c: (c.span[0], c.type))
