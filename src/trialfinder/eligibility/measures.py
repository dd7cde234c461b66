"""Numbers, comparators and units in eligibility text, and conversion of lab values to canonical units."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .terms import LAB_ANALYTES, LAB_GROUPS, lexicon_regex

SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")

NUMBER = r"\d{1,3}(?:[, ]\d{3})+(?![\d.,])(?:\.\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?|\.\d+"

# Comparator phrases, longest first so "greater than or equal to" wins over "greater than".
_COMPARATOR_PHRASES: list[tuple[str, str]] = [
    (r"greater\s+than\s+or\s+equal\s+(?:to\s+)?|(?:greater|more|higher)\s+or\s+equal\s+(?:to\s+)?", ">="),
    (r"(?:less|lower)\s+or\s+equal\s+(?:to\s+)?", "<="),
    (r"more\s+than\s+or\s+equal\s+(?:to\s+)?", ">="),
    (r"less\s+than\s+or\s+equal\s+(?:to\s+)?", "<="),
    (r"equal\s+to\s+or\s+(?:greater|more|higher)\s+than", ">="),
    (r"equal\s+to\s+or\s+(?:less|lower)\s+than", "<="),
    (r"(?:no|not)\s+(?:less|lower|fewer)\s+than", ">="),
    (r"(?:no|not)\s+(?:more|greater|higher)\s+than", "<="),
    (r"(?:not|no)\s+exceeding|(?:must\s+)?not\s+exceed|does\s+not\s+exceed|up\s+to|at\s+most|maximum(?:\s+of)?", "<="),
    (r"at\s+least|minimum(?:\s+of)?|a\s+minimum\s+of", ">="),
    (r"greater\s+than|more\s+than|higher\s+than|above|over|exceeding|exceeds?|in\s+excess\s+of", ">"),
    (r"less\s+than|lower\s+than|fewer\s+than|below|under", "<"),
    (r"≥|>=|=>|≧|>/=|&gt;=|\u2265", ">="),
    (r"≤|<=|=<|≦|</=|&lt;=|\u2264", "<="),
    (r">", ">"),
    (r"<", "<"),
    (r"=", "="),
]
COMPARATOR = "|".join(f"(?:{phrase})" for phrase, _ in _COMPARATOR_PHRASES)
_ANY_COMPARATOR = re.compile(
    "|".join(rf"(?P<c{index}>{phrase})" for index, (phrase, _) in enumerate(_COMPARATOR_PHRASES)), re.IGNORECASE
)

_POST_COMPARATOR = re.compile(
    r"^\s*(?:or|and)\s+(?P<word>greater|more|higher|above|over|better|less|lower|below|fewer|under)\b",
    re.IGNORECASE,
)

# the upper limit of normal, written out or not ("3 times the upper limit", "ULN", "institutional upper limit of normal")
_ULN = (r"(?:I?ULN|(?:upper|superior)\s+(?:normal\s+)?limits?(?:\s+(?:of\s+)?(?:the\s+)?(?:institutional\s+)?normal(?:ity|\s+range)?)?|normal"
        r"|institutional\s+normal)")
# "bilirubin <= ULN", "greater than the upper limit of normal": the limit itself (a value of 1),
# and after a number with no "times" ("1.5 ULN", "twice the upper limit of normal")
_BARE_ULN = r"(?:the\s+)?(?:institutional\s+)?(?:I?ULN\b|upper\s+limits?\s+of\s+(?:the\s+)?(?:institutional\s+)?normal(?:\s+range)?)"
# "x 10^9/L", "x 10*9/L", "x 10*9*/L", "x 10(9)/L", and "x 109/L" where a superscript 9 lost its place
_TIMES_TEN_TO = r"[x×*]\s*10\s*(?:\^|e|E|\*\*?|\()?\s*"
_EXPONENT = r"[0-9⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2}"
_PER = r"[)*]?\s*/\s*"
_POWER_OF_TEN = rf"{_TIMES_TEN_TO}(?P<power>{_EXPONENT}){_PER}(?P<per>\S+)"
TEMPERATURE_UNIT = r"(?:°|º|˚)\s?[CF]\b|degrees?\s+(?:celsius|centigrade|fahrenheit|C\b|F\b)"
UNIT = (
    rf"(?:{_TIMES_TEN_TO}{_EXPONENT}{_PER}(?:L|l|µL|μL|uL|mcL|mm\^?3|mm³))"
    rf"|(?:[x×*]|times)\s*(?:of\s+)?(?:the\s+)?(?:institutional\s+)?{_ULN}|{_BARE_ULN}"
    rf"|{TEMPERATURE_UNIT}"
    r"|(?:cells?\s*)?/\s*(?:mm\^?3|mm³|µL|μL|uL|mcL|cu\.?\s?mm|cmm)"
    r"|K/(?:µL|μL|uL)"
    r"|mL/min(?:/1[.,]73\s?m\^?2|/1[.,]73\s?m²)?|ml/min(?:/1[.,]73\s?m\^?2)?"
    r"|g/dL|g/dl|g/L|g/l|mg/dL|mg/dl|mg/L|µmol/L|μmol/L|umol/L|mmol/L|mmol/l|mmol/mol|mEq/L"
    r"|mm\s?Hg|kPa|kg/m\^?2|kg/m²|kg/m2|kg|lbs?|pounds|%|percent\b|msec|ms|bpm|beats\s+per\s+minute"
    r"|IU/L|U/L|IU/mL|ng/mL|ng/ml|ng/dL|pg/mL|mIU/L|µIU/mL|copies/mL|seconds|sec|L\b|liters?"
)

_WORD_NUMBERS = {"twice": 2, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a": 1, "an": 1}


def parse_number(raw: str) -> float:
    """Parse "100,000", "1.5", "1,5" (a decimal comma) or a small number word."""
    token = raw.strip().lower()
    if token in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[token])
    if re.fullmatch(r"\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?", token):
        return float(token.replace(",", "").replace(" ", ""))
    return float(token.replace(",", "."))


def comparator_of(phrase: str) -> str | None:
    """The comparator symbol named by the last comparator phrase in ``phrase``."""
    last = None
    for last in _ANY_COMPARATOR.finditer(phrase):
        pass
    if last is None:
        return None
    return next(symbol for index, (_, symbol) in enumerate(_COMPARATOR_PHRASES) if last.group(f"c{index}"))


def post_comparator(after: str) -> str | None:
    """Comparator from a trailing phrase such as "or greater" / "or less"."""
    match = _POST_COMPARATOR.match(after)
    if not match:
        return None
    word = match.group("word").lower()
    return ">=" if word in {"greater", "more", "higher", "above", "over", "better"} else "<="


def canonical_unit(raw_unit: str | None) -> str | None:
    """A tidy spelling of a unit ("x 10^9/L", "xULN", "/µL", "g/dL", ...)."""
    if not raw_unit:
        return None
    unit = raw_unit.translate(SUPERSCRIPTS).strip()
    exponent = re.match(_POWER_OF_TEN, unit)
    if exponent:
        per = exponent.group("per").replace("μ", "µ").replace("uL", "µL").replace("mcL", "µL")
        per = "mm3" if per.startswith("mm") else per
        return f"x10^{exponent.group('power')}/{per}"
    if re.fullmatch(r"G\s*/\s*L", unit):
        return "x10^9/L"  # giga per litre, as Chinese registrations write cell counts ("platelets ≥ 80 G/L")
    lowered = unit.lower()
    if "normal" in lowered or "uln" in lowered or re.search(r"(?:upper|superior) limit", lowered):
        return "xULN"
    if re.fullmatch(TEMPERATURE_UNIT, unit, re.IGNORECASE):
        return "°F" if lowered.endswith(("f", "fahrenheit")) else "°C"
    if re.fullmatch(r"(?:cells?\s*)?/\s*(?:mm\^?3|mm³|cu\.?\s?mm|cmm)", lowered):
        return "/mm3"
    if re.fullmatch(r"(?:cells?\s*)?/\s*(?:µl|μl|ul|mcl)", lowered):
        return "/µL"
    if lowered.startswith("ml/min"):
        return "mL/min"
    if lowered.startswith("kg/m"):
        return "kg/m2"
    if lowered.replace(" ", "") == "mmhg":
        return "mmHg"
    if lowered in {"lb", "lbs", "pounds"}:
        return "lb"
    if lowered == "percent":
        return "%"
    if lowered in {"msec", "ms"}:
        return "ms"
    replacements = {"g/dl": "g/dL", "mg/dl": "mg/dL", "g/l": "g/L", "mmol/l": "mmol/L", "umol/l": "µmol/L",
                    "µmol/l": "µmol/L", "μmol/l": "µmol/L", "k/µl": "x10^3/µL", "k/ul": "x10^3/µL"}
    return replacements.get(lowered, unit)


_CELL_COUNTS = {"platelets", "anc", "wbc", "lymphocytes", "cd4"}
# analyte -> (canonical unit, {unit: factor to canonical})
_CONVERSIONS: dict[str, tuple[str, dict[str, float]]] = {
    "hemoglobin": ("g/dL", {"g/dL": 1.0, "g/L": 0.1, "mmol/L": 1.6114}),
    "creatinine": ("mg/dL", {"mg/dL": 1.0, "µmol/L": 1 / 88.42, "mmol/L": 1000 / 88.42}),
    "bilirubin": ("mg/dL", {"mg/dL": 1.0, "µmol/L": 1 / 17.1}),
    "glucose": ("mg/dL", {"mg/dL": 1.0, "mmol/L": 18.016}),
    "albumin": ("g/dL", {"g/dL": 1.0, "g/L": 0.1}),
    "pao2": ("mmHg", {"mmHg": 1.0, "kPa": 7.50062}),
    "pao2_fio2": ("mmHg", {"mmHg": 1.0, "kPa": 7.50062}),
    "weight": ("kg", {"kg": 1.0, "lb": 0.45359237}),
    "creatinine_clearance": ("mL/min", {"mL/min": 1.0}),
    "egfr": ("mL/min", {"mL/min": 1.0}),
    "bmi": ("kg/m2", {"kg/m2": 1.0}),
    "hba1c": ("%", {"%": 1.0}),
    "iop": ("mmHg", {"mmHg": 1.0}),
    "pack_years": ("pack-years", {"pack-years": 1.0}),
}
# measures that have one usual unit, so that it often goes unsaid ("BMI 31", "eGFR 48", "CrCl > 60")
_UNIT_GOES_UNSAID = frozenset({"bmi", "hba1c", "iop", "pao2_fio2", "egfr", "creatinine_clearance", "pack_years"})


def normalize_lab(analyte: str, value: float, unit: str | None) -> tuple[float | None, str | None]:
    """Convert a lab value to the analyte's canonical unit when a simple conversion applies."""
    if unit == "xULN":
        return value, "xULN"
    if analyte in _CELL_COUNTS:
        if unit is None:
            # Bare numbers: "platelets >= 100" is in 10^9/L, "platelets >= 100,000" is per µL.
            threshold = 1000 if analyte == "platelets" else 50
            return (value * 1000 if value < threshold else value), "/µL"
        exponent = re.fullmatch(r"x10\^(\d+)/(\S+)", unit)
        if exponent:
            power, per = int(exponent.group(1)), exponent.group(2)
            per_litre = per in {"L", "l"}
            return value * 10 ** (power - 6 if per_litre else power), "/µL"
        if unit in {"/mm3", "/µL"}:
            return value, "/µL"
        if unit == "g/L":
            return value * 1000, "/µL"  # grams of cells mean nothing: "G/L" written in lower case
        return None, None
    if analyte == "hba1c" and unit == "mmol/mol":
        return round(value / 10.929 + 2.15, 2), "%"
    if analyte == "fev1_fvc":
        # written as a ratio (0.7) or a percentage (70%, or a bare 70); "FEV1/FVC < 0.7%" is the ratio with a
        # stray percent sign (no ratio is 0.7 per cent)
        if unit == "%" and value <= 1:
            return value, "ratio"
        if unit == "%" or (unit is None and value > 1):
            return round(value / 100, 4), "ratio"
        return (value, "ratio") if unit is None else (None, None)
    if analyte == "temperature":
        return _celsius(value, unit)
    if analyte in RATING_SCALES:
        return (value, "points") if unit in {None, "points"} else (None, None)
    if analyte in _SCORE_UNITS and unit in {None, "%"}:
        # the tumour proportion score is a percentage; the combined positive score a number, written now and then
        # with a stray per cent sign
        return value, _SCORE_UNITS[analyte]
    if analyte == "hemoglobin" and unit == "%":
        # a share of hemoglobin (HbA1c, HbF, HbS) is not a hemoglobin concentration
        return None, None
    if analyte == "hemoglobin" and unit is None:
        return (value, "g/dL") if value < 25 else (value / 10, "g/dL")
    if analyte in _CONVERSIONS:
        canonical, factors = _CONVERSIONS[analyte]
        if unit is None:
            return (value, canonical) if analyte in _UNIT_GOES_UNSAID else (None, None)
        if unit in factors:
            return round(value * factors[unit], 4), canonical
        return None, None
    return (value, unit) if unit else (None, None)


_SCORE_UNITS = {"pd_l1": "%", "pd_l1_cps": "CPS"}
# rating scales score in points with no unit; a unit after the number ("MMSE 24 mg") means something else was read
RATING_SCALES = frozenset({"mmse", "moca", "cdr_sb", "cdr", "edss", "nihss", "modified_rankin", "hamd", "hama",
                           "madrs", "phq9", "gad7", "bdi", "ymrs", "panss", "meld", "das28"})


def rating_scale_names(text: str) -> list[tuple[int, int]]:
    """Where the text names a rating scale ("Montgomery-Asberg Depression Rating Scale", "HAM-D")."""
    return [(m.start(), m.end()) for m in lexicon_regex("lab").finditer(text)
            if any(name in RATING_SCALES for name in _analytes_named(m.group(0)))]


def _celsius(value: float, unit: str | None) -> tuple[float | None, str | None]:
    """A body temperature in °C; a bare number is read by its range (30-45 as Celsius, 86-113 as Fahrenheit)."""
    if unit is None:
        unit = "°C" if 30 <= value <= 45 else "°F" if 86 <= value <= 113 else None
    if unit == "°C":
        return value, "°C"
    if unit == "°F":
        return round((value - 32) * 5 / 9, 2), "°C"
    return None, None


@dataclass(frozen=True)
class LabReading:
    """A lab analyte with a comparator and value(s), located by offsets in the source text."""

    analyte: str
    comparator: str
    value: float
    value_high: float | None
    unit: str | None
    start: int
    end: int


# what may stand between analytes that share one threshold: "and", "/", a gloss in brackets ("(ANC)", "(SGOT)"),
# but not a bracketed threshold of the first one ("neutrophils (>=1.5 x 10^9/L), platelets (...)")
_ANALYTE_JOINER = re.compile(r"^\s*(?:[(\[][^()\[\]<>≤≥=]{1,40}[)\]]\s*)?(?:,|and/or|and|or|/|&)?\s*"
                             r"(?:[(\[][^()\[\]<>≤≥=]{1,40}[)\]]\s*)?$", re.I)
# "three times the upper limit of normal": a number word, only as a multiple
_TIMES_WORD = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten)(?=\s+(?:times|x)\b)"
               r"|twice(?=\s+(?:the\s+)?(?:institutional\s+)?(?:ULN|upper))")
_READING_TAIL = re.compile(
    rf"""(?P<filler>[^0-9;<>≤≥=\n]{{0,45}}?)
         (?P<comparator>{COMPARATOR})?\s*(?:of\s+|to\s+)?
         (?:(?P<value>{NUMBER}|{_TIMES_WORD})\s*(?:(?P<unit1>{UNIT})\s*)?
            (?:(?:-|–|to|and)\s*(?P<high>{NUMBER})\s*)?
            (?P<unit>{UNIT})?
          |(?P<bare_uln>{_BARE_ULN}))""",
    re.IGNORECASE | re.VERBOSE,
)
# "T790M", "L858R", "del19", "19del": a number inside a word names a gene variant
_PART_OF_A_WORD = re.compile(r"[A-Za-z]")
# "22C3" (a PD-L1 antibody clone): a number run into a capital and a digit is a name too; "1.5x10^9" is a number
_VARIANT_AFTER = re.compile(r"(?:del|ins|dup|(?-i:[A-WYZ])\d)", re.IGNORECASE)
# "hemoglobin A", "hemoglobin S", "Hb F": one kind of hemoglobin (a share of the total), not the concentration.
_HEMOGLOBIN_VARIANT = re.compile(r"^\s*(?-i:A2?|F|S|C|E)\b(?!-)")
_UNIT_REQUIRED = {"weight": {"kg", "lb"}, "heart_rate": {"bpm", "beats per minute"}}
_FILLER_STOP = re.compile(
    r"\b(?:ago|since|within|days?|weeks?|months?|years?|loss|gain|grade|times\s+per|"
    # "EGFR exon 19 deletion", "EGFR-mutant NSCLC stage 4": the gene, not the kidney's filtration rate
    r"exons?|codons?|mutations?|mutant|mutated|deletions?|insertions?|variants?|amplifi\w*|fusions?|"
    r"rearrange\w*|stage|lines?|"
    # "PANSS positive subscale score >= 4", "HAM-D item 3 >= 2": a part of the scale, not its total
    r"subscales?|sub-scales?|items?|domains?|"
    # "HbA1c change > 0.9%", "a decrease in eGFR of more than 30%": a change of the value, not the value
    r"changes?|increases?|decreases?|reductions?|drops?|rises?|declines?|variations?|fluctuations?|"
    # "neutrophil to lymphocyte ratio > 3", "albumin/creatinine ratio > 30 mg/g": a ratio of two values, neither one
    r"ratios?)\b", re.I)


def find_lab_readings(text: str, require_comparator: bool = True) -> list[LabReading]:
    """Lab / vital thresholds: analyte names (sharing one threshold when joined by and/or) plus value and unit."""
    mentions = [m for m in lexicon_regex("lab").finditer(text)]
    readings: list[LabReading] = []
    group: list[re.Match[str]] = []
    for index, mention in enumerate(mentions):
        group.append(mention)
        following = mentions[index + 1] if index + 1 < len(mentions) else None
        if following and _ANALYTE_JOINER.match(text[mention.end() : following.start()]):
            continue
        after = _reading_after(text, group, require_comparator) or _amount_before(text, group[-1], require_comparator)
        for reading in after:
            # "alanine aminotransferase [ALT] greater than ...": both names end on the one threshold, read once
            if not any(_same_threshold(reading, earlier) for earlier in readings):
                readings.append(reading)
        group = []
    return readings


# "a score of < 23 on the Mini-Mental State Exam", "score > 16 on the 17-item HRSD": a scale's score written first
_SCORE_BEFORE = re.compile(
    rf"\bscores?\s+(?:of\s+)?(?:(?P<comparator>{COMPARATOR})\s*)?(?P<value>{NUMBER})"
    r"(?P<post>\s+(?:or|and)\s+(?:greater|more|higher|above|over|less|lower|below|fewer|under))?"
    r"\s+(?:points?\s+)?(?:on|in)\s+(?:the\s+)?(?:\d+[\s\-]item\s+)?$",
    re.IGNORECASE)


# "at least 20 pack-years", "> 10 pack year", "20 or more pack-years", a note's "40 pack-year history"
_PACK_YEARS_BEFORE = re.compile(
    rf"(?:(?P<comparator>{COMPARATOR})\s*)?(?:an?\s+)?(?P<value>{NUMBER})\s*\+?"
    r"(?P<post>\s+(?:or|and)\s+(?:greater|more|higher|above|over|less|lower|below|fewer|under))?[\s\-]*$",
    re.IGNORECASE)


def _amount_before(text: str, mention: re.Match[str], require_comparator: bool) -> list[LabReading]:
    """A value written before its measure's name: a rating scale's score, or pack-years."""
    analytes = _analytes_named(mention.group(0))
    if analytes == ("pack_years",):
        pattern, unit, reach = _PACK_YEARS_BEFORE, "pack-years", 60
    elif analytes and analytes[0] in RATING_SCALES:
        pattern, unit, reach = _SCORE_BEFORE, None, 80
    else:
        return []
    window_start = max(0, mention.start() - reach)
    amount = pattern.search(text[window_start : mention.start()])
    if not amount:
        return []
    comparator = (amount.group("comparator") and comparator_of(amount.group("comparator"))) or (
        amount.group("post") and post_comparator(amount.group("post")))
    if not comparator and require_comparator:
        return []
    return [LabReading(analytes[0], comparator or "=", parse_number(amount.group("value")), None, unit,
                       window_start + amount.start(), mention.end())]


def _same_threshold(one: LabReading, other: LabReading) -> bool:
    return (one.analyte, one.comparator, one.value, one.value_high, one.unit, one.end) == (
        other.analyte, other.comparator, other.value, other.value_high, other.unit, other.end)


def _analytes_named(surface: str) -> tuple[str, ...]:
    """The analyte a name stands for, or the several of a group name ("transaminases": AST and ALT)."""
    spaced = _spaced(surface)
    for analyte, forms in _SPACED_LAB_FORMS.items():
        if spaced in forms or spaced.rstrip("s") in forms:
            return LAB_GROUPS.get(analyte, (analyte,))
    return ()


def _spaced(name: str) -> str:
    """A lab name in lower case with hyphens and runs of spaces as one space ("PD-L1  TPS" -> "pd l1 tps")."""
    return re.sub(r"[\s\-]+", " ", name.lower())


# the forms spelt the way _spaced spells a name found in a text, so "LDL-C" and "prostate-specific antigen" are known
_SPACED_LAB_FORMS = {analyte: frozenset(map(_spaced, forms)) for analyte, forms in LAB_ANALYTES.items()}


_PERCENTILE_AFTER = re.compile(r"\s*(?:st|nd|rd|th)?\s*(?:percentile|centile|%\s*ile|%ile)", re.IGNORECASE)
_DURATION_AFTER = re.compile(r"\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b",
                             re.IGNORECASE)


def _has_no_unit(tail: re.Match[str]) -> bool:
    """Whether a reading's number has no unit of its own (so a word after it may say what it counts)."""
    return not (tail.group("unit") or tail.group("unit1") or tail.group("bare_uln"))


def _reading_after(text: str, group: list[re.Match[str]], require_comparator: bool) -> list[LabReading]:
    tail = _READING_TAIL.match(text, group[-1].end())
    if not tail:
        return []
    filler = tail.group("filler") or ""
    if _FILLER_STOP.search(filler):
        return []
    if tail.group("value") and ((tail.start("value") > 0 and _PART_OF_A_WORD.match(text, tail.start("value") - 1))
                                or _VARIANT_AFTER.match(text, tail.end("value"))):
        # "T790M", "L858R", "del19", "19del": a number inside a word names a variant, it measures nothing
        return []
    comparator = tail.group("comparator") and comparator_of(tail.group("comparator"))
    comparator = comparator or comparator_of(filler)
    if re.search(r"\bbetween\b", filler, re.I) and tail.group("high"):
        comparator = "between"
    high = parse_number(tail.group("high")) if tail.group("high") else None
    if high is not None and comparator in {None, "="}:
        comparator = "between"
    if high is not None and comparator not in {"between"}:
        high = None
    end = tail.start() + len(tail.group(0).rstrip())
    if _PERCENTILE_AFTER.match(text, tail.end("value") if tail.group("value") else end):
        return []  # "BMI above the 95th percentile": a rank among peers, not a value
    if _has_no_unit(tail) and _DURATION_AFTER.match(text, end):
        # "FEV1 approximately 15-20 minutes after albuterol": a time, not a value of the analyte
        return []
    after = post_comparator(text[end : end + 20])
    if comparator is None and after:
        comparator = after
    if comparator is None:
        if require_comparator or tail.group("bare_uln"):
            return []
        comparator = "="
    raw_unit = tail.group("unit") or tail.group("unit1") or tail.group("bare_uln")
    unit = canonical_unit(raw_unit)
    value = parse_number(tail.group("value")) if tail.group("value") else 1.0  # the limit itself: 1 x ULN
    readings = []
    for analyte in dict.fromkeys(name for m in group for name in _analytes_named(m.group(0))):
        if analyte == "hemoglobin" and _HEMOGLOBIN_VARIANT.match(filler):
            continue
        required = _UNIT_REQUIRED.get(analyte)
        if required and unit not in required:
            continue
        readings.append(LabReading(analyte, comparator, value, high, unit, group[0].start(), end))
    return readings
