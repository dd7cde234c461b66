"""Patient profiles (structured or from free text) and evaluation of one constraint against a profile."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from .biomarkers import FAMILIES, BiomarkerStatus, find_biomarkers, variant_matches, variants_conflict
from .constraints import kind_words, name_words, qualified_start
from .context import RELATIVE, mention_states, note_states, patient_mention_context
from .measures import find_lab_readings, normalize_lab, rating_scale_names
from .model import (
    BiomarkerConstraint,
    Constraint,
    MentionConstraint,
    PerformanceConstraint,
    SexConstraint,
    SmokingConstraint,
    SmokingStatus,
    StateConstraint,
    ThresholdConstraint,
    TimeWindowConstraint,
)
from .terms import (
    ABBREVIATIONS,
    EXCLUSIVE_KINDS,
    concept_of,
    hepatitis_sibling,
    implied_concepts,
    lexicon_regex,
    normalize_term,
)
from .vocabulary import default_vocabulary


@dataclass(frozen=True)
class LabValue:
    """One measured lab value, with the canonical-unit value when a conversion applies."""

    value: float
    unit: str | None
    normalized_value: float | None = None
    normalized_unit: str | None = None
    evidence: str | None = None
    # "PD-L1 < 1%", "creatinine <0.5": the value is a bound ("<", "<=", ">", ">="), not the measure itself
    bound: str | None = None


@dataclass(frozen=True)
class Mention:
    """A condition or therapy the patient has, normalized to a lexicon concept when one matches."""

    term: str
    concept: str | None = None
    evidence: str | None = None
    qualifiers: tuple[str, ...] = ()  # states the patient's text puts it in: ("uncontrolled",)
    # the words that make it one kind of its concept: ("cataract",) for "cataract surgery"
    kind_words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BiomarkerResult:
    """A tumour marker's status for the patient, the variants found ("L858R") and the words that say so."""

    status: BiomarkerStatus
    variants: tuple[str, ...] = ()
    evidence: str | None = None

    def describe(self) -> str:
        """ "positive", "positive (L858R)", "negative (LOW)": the status with the variants known."""
        return f"{self.status} ({', '.join(self.variants)})" if self.variants else self.status


@dataclass(frozen=True)
class PatientProfile:
    """What is known about a patient; None / empty means "not known", never "absent"."""

    age_years: float | None = None
    sex: Literal["female", "male"] | None = None
    diagnoses: tuple[Mention, ...] = ()
    absent_conditions: tuple[Mention, ...] = ()
    therapies: tuple[Mention, ...] = ()
    absent_therapies: tuple[Mention, ...] = ()
    labs: dict[str, LabValue] = field(default_factory=dict)
    biomarkers: dict[str, BiomarkerResult] = field(default_factory=dict)  # keyed by marker ("EGFR", "HER2")
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    smoking: SmokingStatus | None = None  # "not_current": a non-smoker who may have smoked; "ever": not said when
    ecog: int | None = None
    karnofsky: int | None = None
    location: str | None = None
    evidence: dict[str, str] = field(default_factory=dict)

    def merge(self, other: PatientProfile) -> PatientProfile:
        """Combine two profiles; every field that ``other`` knows overrides this profile's value."""
        updates: dict[str, object] = {}
        for name in ("age_years", "sex", "pregnant", "breastfeeding", "smoking", "ecog", "karnofsky", "location"):
            if getattr(other, name) is not None:
                updates[name] = getattr(other, name)
        for name in ("diagnoses", "absent_conditions", "therapies", "absent_therapies"):
            if getattr(other, name):
                updates[name] = _union(getattr(self, name), getattr(other, name))
        other_present = {_key(m) for m in other.diagnoses}
        other_absent = {_key(m) for m in other.absent_conditions}
        updates["diagnoses"] = tuple(
            m for m in updates.get("diagnoses", self.diagnoses) if _key(m) not in other_absent or _key(m) in other_present
        )
        updates["absent_conditions"] = tuple(
            m for m in updates.get("absent_conditions", self.absent_conditions) if _key(m) not in other_present
        )
        updates["labs"] = {**self.labs, **other.labs}
        updates["biomarkers"] = {**self.biomarkers, **other.biomarkers}
        updates["evidence"] = {**self.evidence, **other.evidence}
        return replace(self, **updates)


def _key(mention: Mention) -> str:
    """What two mentions share when they name the same thing ("lasik surgery" and "cataract surgery" do not)."""
    return " ".join([mention.concept or normalize_term(mention.term), *sorted(mention.kind_words)])


def _union(first: tuple[Mention, ...], second: tuple[Mention, ...]) -> tuple[Mention, ...]:
    seen: dict[str, Mention] = {_key(m): m for m in first}
    seen.update({_key(m): m for m in second})
    return tuple(seen.values())


_AGE_UNITS = r"(?P<unit>years?|yrs?|y|months?|mos?|weeks?|wks?|days?)"
_AGE = re.compile(
    rf"\b(?P<age>\d{{1,3}}(?:\.\d)?)[\s\-]*{_AGE_UNITS}[\s\-]*(?:old|of\s+age|o\b)"
    r"|\b(?:age[d]?|aged)\s*:?\s*(?P<age2>\d{1,3})\b"
    r"|\b(?P<age3>\d{1,3})\s*(?:yo|y/o|y\.o\.)(?![\w/])"
    r"|\b(?P<age4>\d{1,3})\s*-?\s*(?-i:M|F)(?=[\s,.;)]|$)"
    # "Woman, 58, with asthma", "Male, 45 years"
    r"|\b(?:woman|man|female|male|lady|gentleman|patient)\s*,\s*(?P<age5>\d{1,3})\b(?!\s*(?:%|kg|cm|lbs?|mg|mmhg))"
    # "She is 50.", "I am 58", "the patient is 72 years"
    r"|\b(?:he|she|i|patient|my\s+(?:husband|wife|partner|son|daughter|child|mother|father|mom|dad))\s+(?:is|am)\s+"
    r"(?P<age6>\d{1,3})\b(?=\s*(?:years?\b|yrs?\b|[.,;)]|$|and\b|with\b))",
    re.IGNORECASE,
)
# "her 80-year-old mother", "his 6-year-old son": the age of someone else ("a 30-year-old mother" is the patient).
_POSSESSIVE_BEFORE = re.compile(r"\b(her|his|my|their|our|patient'?s|whose)\s+$", re.IGNORECASE)
_AGE_OF_A_RELATIVE = re.compile(
    rf"\s*(?:(?:\w+\s+){{0,2}})(?:{RELATIVE}|twins|wife|husband|partner|child(?:ren)?|baby|babies|friend|roommate)\b",
    re.IGNORECASE)


def _age_of(text: str) -> tuple[float, str] | None:
    """The patient's age in years and the words that say it (not a relative's: "her 80-year-old mother")."""
    fallback = None
    for match in _AGE.finditer(text):
        raw = next(value for name, value in match.groupdict().items() if name != "unit" and value)
        unit = (match.group("unit") or "y").lower()
        per_year = 12 if unit.startswith("mo") else 52 if unit.startswith("w") else 365 if unit.startswith("d") else 1
        found = float(raw) / per_year, match.group(0)
        owner = _POSSESSIVE_BEFORE.search(text, max(0, match.start() - 20), match.start())
        if owner and _AGE_OF_A_RELATIVE.match(text, match.end()):
            # a caregiver's "my 6-month-old baby" may be the patient, when no other age is given
            if fallback is None and owner.group(1).lower() in {"my", "our"}:
                fallback = found
            continue
        return found
    return fallback


# "67 yo M" / "45F": the one-letter forms only count in upper case right after an age.
_AGE_THEN = r"(?-i:(?:\d{1,3}\s*-?\s*|(?:yo|y/o|y\.o\.|year-old|years old)\s+)"
# Words that name the patient's sex outright count first; pronouns only break a tie (a note's "his mother ... she
# died" is about the mother); "mother" / "father" count unless someone's ("a 30-year-old mother", not "her mother").
_NOT_SOMEONES = r"(?<!her )(?<!his )(?<!my )(?<!whose )"
_FEMALE = re.compile(rf"\b(?:woman|female|girl|lady|mrs|{_NOT_SOMEONES}mother)\b|{_AGE_THEN}F\b)", re.IGNORECASE)
_MALE = re.compile(rf"\b(?:man|male|boy|gentleman|mr|{_NOT_SOMEONES}father)\b|{_AGE_THEN}M\b)", re.IGNORECASE)
# "He was born at 39 weeks to a 39-year-old woman": the mother's sex, not the child's.
_BORN_TO = re.compile(r"\bborn\b[^.;]{0,40}?\bto\s+an?\b[^.;]{0,30}?\b(?:woman|mother|female|lady)\b", re.IGNORECASE)
_FEMALE_PRONOUN = re.compile(r"\b(?:she|her)\b", re.IGNORECASE)
_MALE_PRONOUN = re.compile(r"\b(?:he|his|him)\b", re.IGNORECASE)
_ECOG = re.compile(r"\b(?:ECOG|Zubrod|WHO)\b[^0-9.;]{0,25}?(?P<score>[0-5])\b", re.IGNORECASE)
_KARNOFSKY = re.compile(r"\b(?:Karnofsky|KPS)\b[^0-9.;]{0,25}?(?P<score>\d{2,3})\b", re.IGNORECASE)
# The patient is pregnant now: "pregnant", "gravid", "at 32 weeks of gestation". The bare noun "pregnancy" in a note
# is mostly history ("hypertension with pregnancy", "after an uncomplicated pregnancy") and says nothing by itself;
# it counts only as a test result.
_PREGNANT = re.compile(
    r"\b(?:pregnant|gravid|\d+\s*(?:weeks?|w)\s+(?:of\s+)?gestation(?:al)?|"
    r"pregnancy\s+test\s+(?:is\s+|was\s+)?(?:positive|negative)|(?:positive|negative)\s+(?:for\s+)?pregnancy)\b",
    re.IGNORECASE,
)
# "born at 38 weeks gestation": the patient's own birth, "the mother had ...": someone else's pregnancy.
_NOT_THE_PATIENTS_PREGNANCY = re.compile(r"\b(?:born|delivered|mother|mom)\b[^.;]{0,30}$", re.IGNORECASE)
_BREASTFEEDING = re.compile(r"\b(?:breast[\s\-]?feeding|lactating|nursing\s+(?:her|a|an)\b)", re.IGNORECASE)
_ABBREVIATION_TOKEN = re.compile(r"\b[A-Z][A-Za-z0-9\-]{1,5}\b")


def profile_from_text(text: str) -> PatientProfile:
    """Build a profile from free text (a note, a letter, a TREC topic), honouring negation."""
    evidence: dict[str, str] = {}
    age = None
    if found := _age_of(text):
        age, evidence["age_years"] = found
    sex = _sex_of(text)
    pregnant = _state(text, _PREGNANT)
    breastfeeding = _state(text, _BREASTFEEDING)
    smoking = None
    if found_smoking := smoking_of(text):
        smoking, evidence["smoking"] = found_smoking
    ecog = karnofsky = None
    if m := _ECOG.search(text):
        ecog, evidence["ecog"] = int(m.group("score")), m.group(0)
    if m := _KARNOFSKY.search(text):
        karnofsky, evidence["karnofsky"] = int(m.group("score")), m.group(0)
    scales = rating_scale_names(text)
    present, absent = _mentions(text, "condition", scales)
    therapies, absent_therapies = _mentions(text, "therapy", scales)
    labs: dict[str, LabValue] = {}
    for reading in find_lab_readings(text, require_comparator=False):
        if reading.analyte in labs or reading.comparator not in {"=", "<", ">", "<=", ">="}:
            continue
        normalized, normalized_unit = normalize_lab(reading.analyte, reading.value, reading.unit)
        labs[reading.analyte] = LabValue(reading.value, reading.unit, normalized, normalized_unit,
                                         text[reading.start : reading.end],
                                         reading.comparator if reading.comparator != "=" else None)
    return PatientProfile(
        age_years=age, sex=sex, diagnoses=present, absent_conditions=absent, therapies=therapies,
        absent_therapies=absent_therapies, labs=labs, biomarkers=with_pd_l1_status(biomarkers_from_text(text), labs),
        pregnant=pregnant,
        breastfeeding=breastfeeding,
        smoking=smoking,
        ecog=ecog, karnofsky=karnofsky, evidence=evidence,
    )


# the usual cut-off of PD-L1 "positive": at least 1% of tumour cells stained
PD_L1_POSITIVE_FROM = 1.0


def with_pd_l1_status(markers: dict[str, BiomarkerResult], labs: dict[str, LabValue]) -> dict[str, BiomarkerResult]:
    """A PD-L1 share the note gives and no status ("PD-L1 TPS 80%") also answers "PD-L1 positive" criteria."""
    share = labs.get("pd_l1")
    if "PD-L1" in markers or share is None or share.normalized_value is None:
        return markers
    value, bound = share.normalized_value, share.bound
    if value >= PD_L1_POSITIVE_FROM and bound in {None, ">", ">="}:
        status: BiomarkerStatus = "positive"
    elif value < PD_L1_POSITIVE_FROM and bound in {None, "<", "<="} or value == PD_L1_POSITIVE_FROM and bound == "<":
        status = "negative"
    else:
        return markers
    return {**markers, "PD-L1": BiomarkerResult(status, (), share.evidence)}


def biomarkers_from_text(text: str) -> dict[str, BiomarkerResult]:
    """The tumour marker statuses a patient's text states ("EGFR exon 19 deletion", "ER/PR negative", "no ALK
    rearrangement"); a relative's or a planned test says nothing."""
    found: dict[str, BiomarkerResult] = {}
    for finding in find_biomarkers(text):
        context = patient_mention_context(text, finding.start, finding.end)
        if context.ignored or context.hypothetical:
            continue
        status: BiomarkerStatus = finding.status
        if context.negated:
            status = "negative" if status == "positive" else "positive"
        markers = finding.markers
        if finding.combine == "any" and not context.negated:
            # "ER/PR positive": one of them at least, which names the family when they are one; "no EGFR or ALK
            # alteration" rules out each
            family = next((name for name, members in FAMILIES.items() if set(markers) == set(members)), None)
            if family is None:
                continue
            markers = (family,)
        variants = finding.variants if status == finding.status else ()
        for marker in markers:
            found.setdefault(marker, BiomarkerResult(status, variants, text[finding.start : finding.end]))
    return found


def _sex_of(text: str) -> Literal["female", "male"] | None:
    text = _BORN_TO.sub(" ", text)
    for female_words, male_words in ((_FEMALE, _MALE), (_FEMALE_PRONOUN, _MALE_PRONOUN)):
        female, male = len(female_words.findall(text)), len(male_words.findall(text))
        if female != male:
            return "female" if female > male else "male"
    return None


# How a note tells smoking, strongest first: a quit beats a habit named in passing, a habit beats "non-smoker"
_SMOKING_STATUS: tuple[tuple[SmokingStatus, re.Pattern[str]], ...] = tuple(
    (status, re.compile(pattern, re.IGNORECASE)) for status, pattern in (
        ("former", r"\b(?:former|ex|past|previous|prior|remote)[\s\-]+(?:cigarette\s+|tobacco\s+)?(?:smokers?|smoking|"
                   r"tobacco\s+use)\b|\b(?:quit|stopped|gave\s+up)\s+(?:cigarette\s+)?smoking\b|"
                   r"\bpreviously\s+smoked\b"),
        ("never", r"\bnever[\s\-]+(?:a\s+)?(?:smok(?:ers?|ed)|used\s+tobacco)\b|\blife[\s\-]?long\s+non[\s\-]?smoker\b"),
        ("current", r"\b(?:current|active|daily|heavy)\s+(?:cigarette\s+)?smokers?\b|\bcurrently\s+smok(?:es|ing)\b|"
                    r"\bsmokes\b|\b(?:is|a)\s+smoker\b|\b\d+(?:\.\d+)?\s*(?:ppd|packs?\s*(?:per|a|/)\s*day)\b|"
                    r"\bcigarettes?\s+(?:per|a|/)\s*day\b|\bsmoker\b"),
        ("not_current", r"\bnon[\s\-]?smoker\b|\bdoes\s+not\s+smoke\b"),
        ("ever", r"\bpack[\s\-]*years?\b|\b(?:smoking|tobacco)\s+history\b|\bhistory\s+of\s+(?:cigarette\s+|tobacco\s+)?"
                 r"(?:smoking|tobacco(?:\s+use)?)\b|\b(?:smoking|tobacco\s+use)\b"),
    ))
_SOMEONE_ELSES_SMOKE = re.compile(r"\b(?:second[\s\-]?hand|passive|marijuana|cannabis|crack|e-cigarettes?|vap\w+)\b",
                                  re.IGNORECASE)
_NEGATIVE_BEFORE = re.compile(r"\bnegative\b[^.;]{0,25}$", re.IGNORECASE)
# "her husband smokes", "both parents were smokers": another person's habit
_SOMEONE_ELSE_BEFORE = re.compile(rf"\b(?:{RELATIVE}|husband|wife|spouse|partner|roommate|family)\b[^.;]{{0,25}}$",
                                  re.IGNORECASE)


# a checklist's answer: "Smoking: former", "Tobacco use - never", "Smoker: yes"
_SMOKING_ANSWER = re.compile(r"\b(?:smok(?:er|ing)|tobacco(?:\s+use)?|cigarettes?)\s*\??\s*[:=\-–]\s*(?P<answer>current(?:ly)?|"
                             r"yes|former|ex|past|quit|stopped|never|no|none)\b", re.IGNORECASE)
_ANSWER_STATUS: dict[str, SmokingStatus] = {"current": "current", "currently": "current", "yes": "current",
                                            "former": "former", "ex": "former", "past": "former", "quit": "former",
                                            "stopped": "former", "never": "never", "no": "not_current",
                                            "none": "not_current"}


def smoking_of(text: str) -> tuple[SmokingStatus, str] | None:
    """The patient's smoking as a note tells it, with the words that say so; "denies tobacco" is "never"."""
    if answer := _SMOKING_ANSWER.search(text):
        return _ANSWER_STATUS[answer.group("answer").lower()], answer.group(0)
    for status, pattern in _SMOKING_STATUS:
        for match in pattern.finditer(text):
            context = patient_mention_context(text, match.start(), match.end())
            around = text[max(0, match.start() - 30) : match.end() + 20]
            if (context.ignored or context.hypothetical or _SOMEONE_ELSES_SMOKE.search(around)
                    or _SOMEONE_ELSE_BEFORE.search(text[max(0, match.start() - 40) : match.start()])):
                continue
            if context.negated or _NEGATIVE_BEFORE.search(text[max(0, match.start() - 30) : match.start()]):
                # "denies smoking", "no tobacco use", "negative history of smoking": never for a habit, nothing for
                # a quit
                if status in {"current", "ever"}:
                    return "never", match.group(0)
                continue
            return status, match.group(0)
    return None


def _state(text: str, pattern: re.Pattern[str]) -> bool | None:
    for match in pattern.finditer(text):
        context = patient_mention_context(text, match.start(), match.end())
        if context.ignored or context.hypothetical:
            continue
        if pattern is _PREGNANT and _NOT_THE_PATIENTS_PREGNANCY.search(text[max(0, match.start() - 40) : match.start()]):
            continue
        if re.search(r"\bnegative\b", match.group(0), re.IGNORECASE):
            return False
        return not context.negated
    return None


# words of a note that stand before a name without qualifying it ("denies chest pain", "exam revealed aortic
# stenosis", "2 cm ductal carcinoma")
_NOTE_WORDS = frozenset("""
denies denied deny denying reports reported report complains complained complaining presents presented presenting
shows showed shown show reveals revealed reveled reveal demonstrates demonstrated developed develops confirming
suggestive consistent uses takes took failed included occasionally occasional rare frequent frequently intermittent
longstanding long-standing multiple residual he she him they them health positive negative large small cm mm kg
underwent undergone status s p hx pmh h o exam examination maintain cease suffers suffered suffering experienced
experiences noted notable likely possibly probable started starting stopped continued continues on off recently
disease diseases disorder disorders syndrome mellitus pain failure
""".split())


_SPACE = re.compile(r"\s*")


def _mentions(text: str, kind: str, scales: list[tuple[int, int]]) -> tuple[tuple[Mention, ...], tuple[Mention, ...]]:
    """The names of one kind a note gives as present and as absent; ``scales`` are where it names rating scales."""
    present: dict[str, Mention] = {}
    absent: dict[str, Mention] = {}
    spans = [(m.start(), m.end(), m.group(0)) for m in lexicon_regex(kind).finditer(text)]
    if kind == "therapy":
        # the lexicon knows a few hundred drugs; names mined from the registry ("methotrexate", "adalimumab",
        # "lisinopril") fill the rest, where the lexicon did not already find one (mined condition names were
        # measured and left out: bench/results/trec.md, seventh round)
        for start, end, mention_type, _ in default_vocabulary().find(text):
            if mention_type == kind and not any(s < end and start < e for s, e, _ in spans):
                spans.append((start, end, text[start:end]))
    for token in _ABBREVIATION_TOKEN.finditer(text):
        concept = ABBREVIATIONS.get(token.group(0).lower())
        if concept and concept_of(token.group(0), kind) and not any(s <= token.start() < e for s, e, _ in spans):
            spans.append((token.start(), token.end(), token.group(0)))
    for start, end, surface in list(spans):
        if sibling := hepatitis_sibling(text, end, concept_of(surface, kind)):
            spans.append((sibling[0], sibling[1], sibling[2]))
    course = note_states(text) if kind == "condition" else ()
    for start, end, surface in sorted(spans):
        if any(s <= start and end <= e for s, e in scales):
            continue  # "Beck Depression Inventory: 12" is a score, no diagnosis of depression
        context = patient_mention_context(text, start, end)
        if context.ignored or context.hypothetical:
            continue
        if context.negated and _narrowed_by_word_before(text, start):
            # "negative for obstructive pancreatitis" rules out one kind, not every pancreatitis
            continue
        concept = concept_of(surface, kind)
        # the name with the words that qualify it ("cataract surgery", not just "surgery"); the evidence stays the
        # name the lexicon knows, which is what the condition searches look for
        qualified = qualified_start(text, start, _NOTE_WORDS)
        # a list without commas ("anemia pvd hypertension"): the name before is no qualifier of this one
        if ends := [e for s, e, _ in spans if qualified < e < start and text[e].isspace()]:
            qualified = _SPACE.match(text, max(ends)).end()
        term = text[qualified:end].lower()
        mention = Mention(term=term, concept=concept, evidence=text[start:end],
                          qualifiers=tuple(dict.fromkeys((*mention_states(text, start, end), *course))),
                          kind_words=kind_words(term, concept, kind))
        target = absent if context.negated else present
        target.setdefault(_key(mention), mention)
    for key in present:
        absent.pop(key, None)
    return tuple(present.values()), tuple(absent.values())


# A word right before a negated name that makes it one kind of the thing: an adjective by its ending
# ("obstructive", "alcoholic", "metabolic", "interstitial") or a hyphenated modifier ("low-dose"). Verbs
# ("never received chemotherapy") and words that only say how sure or how recent do not narrow.
_NARROWING_WORD = re.compile(r"^(?:[a-z]+(?:ive|ic|al|ous|ar|ary|oid|ile)|[a-z]+-[a-z]+)$")
_NOT_NARROWING = frozenset("""
medical clinical surgical significant typical usual several historical additional potential personal general
total usual similar particular regular normal abnormal natural original physical official critical
""".split())
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z'\-]*)\s*$")


def _narrowed_by_word_before(text: str, start: int) -> bool:
    """Whether the word right before a mention narrows it ("obstructive pancreatitis", "low-dose dexamethasone")."""
    match = _WORD_BEFORE.search(text[max(0, start - 40) : start])
    if not match:
        return False
    word = match.group(1).lower()
    return bool(_NARROWING_WORD.match(word)) and word not in _NOT_NARROWING


Status = Literal["met", "not_met", "unknown"]


@dataclass(frozen=True)
class Verdict:
    """Whether a profile satisfies a constraint, why, and the patient evidence used."""

    status: Status
    reason: str
    evidence: str | None = None


def _apply_polarity(constraint: Constraint, assertion_true: bool, reason: str, evidence: str | None) -> Verdict:
    satisfied = assertion_true if constraint.polarity == "require" else not assertion_true
    return Verdict("met" if satisfied else "not_met", reason, evidence)


def _compare(value: float, constraint: ThresholdConstraint, low: float | None, high: float | None) -> bool:
    comparator = constraint.comparator
    if comparator == "between" and low is not None and high is not None:
        above = value >= low if constraint.low_inclusive else value > low
        below = value <= high if constraint.high_inclusive else value < high
        return above and below
    assert low is not None
    return {"<": value < low, "<=": value <= low, ">": value > low, ">=": value >= low, "=": value == low}.get(
        comparator, False
    )


def _evaluate_threshold(constraint: ThresholdConstraint, profile: PatientProfile) -> Verdict:
    if constraint.type == "age":
        if profile.age_years is None:
            return Verdict("unknown", "patient age not known")
        holds = _compare(profile.age_years, constraint, constraint.value, constraint.value_high)
        return _apply_polarity(constraint, holds, f"age {profile.age_years:g} vs {constraint.text}",
                               profile.evidence.get("age_years"))
    lab = profile.labs.get(constraint.analyte)
    if lab is None:
        return Verdict("unknown", f"no {constraint.analyte} value for the patient")
    if constraint.normalized_unit and lab.normalized_unit == constraint.normalized_unit and lab.normalized_value is not None:
        value, low, high = lab.normalized_value, constraint.normalized_value, constraint.normalized_value_high
    elif lab.unit == constraint.unit:
        value, low, high = lab.value, constraint.value, constraint.value_high
    else:
        return Verdict("unknown", f"cannot compare {lab.unit} with {constraint.unit}", lab.evidence)
    if lab.bound:
        holds = _holds_within(lab.bound, value, constraint, low, high)
        if holds is None:
            return Verdict("unknown", f"{constraint.analyte} {lab.bound} {value:g} may or may not meet {constraint.text}",
                           lab.evidence)
        return _apply_polarity(constraint, holds, f"{constraint.analyte} {lab.bound} {value:g} vs {constraint.text}",
                               lab.evidence)
    holds = _compare(value, constraint, low, high)
    return _apply_polarity(constraint, holds, f"{constraint.analyte} {value:g} vs {constraint.text}", lab.evidence)


def _holds_within(bound: str, value: float, constraint: ThresholdConstraint, low: float | None,
                  high: float | None) -> bool | None:
    """Whether a threshold holds for every value the bound allows (True), for none (False), or for some (None)."""
    margin = 1e-9 * max(1.0, abs(value))
    near = value - margin if bound == "<" else value + margin if bound == ">" else value
    far = -1e18 if bound in {"<", "<="} else 1e18
    inside = (lambda x: x <= near) if bound in {"<", "<="} else (lambda x: x >= near)
    # the interval's two ends, and each threshold inside it (where a band can start or stop)
    samples = [near, far, *(t for t in (low, high) if t is not None and inside(t))]
    results = {_compare(sample, constraint, low, high) for sample in samples}
    return results.pop() if len(results) == 1 else None


# Karnofsky bands that correspond to each ECOG grade (Oken et al.'s usual mapping).
_ECOG_FROM_KARNOFSKY = ((90, 0), (70, 1), (50, 2), (30, 3), (10, 4), (0, 5))
_KARNOFSKY_FROM_ECOG = {0: 100, 1: 80, 2: 60, 3: 40, 4: 20, 5: 0}


def _evaluate_performance(constraint: PerformanceConstraint, profile: PatientProfile) -> Verdict:
    source = constraint.scale
    if constraint.scale == "ecog":
        score = profile.ecog
        if score is None and profile.karnofsky is not None:
            score, source = next(grade for floor, grade in _ECOG_FROM_KARNOFSKY if profile.karnofsky >= floor), "karnofsky"
    else:
        score = profile.karnofsky
        if score is None and profile.ecog is not None:
            score, source = _KARNOFSKY_FROM_ECOG.get(profile.ecog), "ecog"
    if score is None:
        return Verdict("unknown", "performance status not known")
    holds = (constraint.min_score is None or score >= constraint.min_score) and (
        constraint.max_score is None or score <= constraint.max_score
    )
    return _apply_polarity(constraint, holds, f"{constraint.scale} {score} vs {constraint.text}",
                           profile.evidence.get(source))


def _matches(constraint_concept: str | None, constraint_term: str, mention: Mention) -> bool:
    wanted = constraint_concept or normalize_term(constraint_term)
    have = mention.concept or normalize_term(mention.term)
    if mention.concept and wanted in implied_concepts(mention.concept):
        return True
    return wanted == have or normalize_term(constraint_term) == normalize_term(mention.term)


def _same_word(first: str, second: str) -> bool:
    """One word, spelt out or cut short: "auto" / "autologous", "allogenic" / "allogeneic"."""
    short, long = sorted((first, second), key=len)
    return (short == long or len(short) >= 4 and long.startswith(short)
            or len(short) >= 7 and long[:7] == short[:7] and len(long) - len(short) <= 2)


def _has_kind(kind: frozenset[str], term: str) -> bool:
    """Whether a name says each of the words that make one kind of a thing ("cataract" for cataract surgery)."""
    words = set(name_words(term))
    return all(any(_same_word(wanted, word) for word in words) for wanted in kind)


_SEX_KIND = {"male": "male", "males": "male", "men": "male", "man": "male",
             "female": "female", "females": "female", "women": "female", "woman": "female"}


def _evaluate_mention(constraint: MentionConstraint, profile: PatientProfile) -> Verdict:
    present = profile.diagnoses if constraint.type == "condition" else profile.therapies
    absent = profile.absent_conditions if constraint.type == "condition" else profile.absent_therapies
    # "cataract surgery" is one kind of surgery: the patient's surgery answers it only when it is that kind, and
    # the patient's "no cataract surgery" answers only a criterion about that kind
    wanted_kind = kind_words(constraint.term, constraint.concept, constraint.type)
    sexes = {_SEX_KIND[word] for word in wanted_kind if word in _SEX_KIND}
    if len(sexes) == 1 and profile.sex is not None:
        # "Male breast cancer": the patient's sex says which kind theirs is
        wanted_kind = wanted_kind - _SEX_KIND.keys()
        if profile.sex not in sexes:
            return _apply_polarity(constraint, False, f"patient is {profile.sex}, so not {constraint.term}",
                                   profile.evidence.get("sex"))
    hits = [m for m in present if _matches(constraint.concept, constraint.term, m)]
    if hits and not (hit := next((m for m in hits if _has_kind(wanted_kind, m.term)), None)):
        return Verdict("unknown", f"patient has {hits[0].term}; whether it is {constraint.term} is not known",
                       hits[0].evidence)
    if hits:
        if missing := [state for state in constraint.qualifiers if state not in hit.qualifiers]:
            return Verdict("unknown", f"patient has {hit.term}; whether it is {missing[0]} is not known", hit.evidence)
        if constraint.time_limited and constraint.polarity == "forbid":
            return Verdict("unknown", f"patient has {hit.term}, but its date matters", hit.evidence)
        return _apply_polarity(constraint, True, f"patient has {hit.term}", hit.evidence)
    wanted = constraint.concept or normalize_term(constraint.term)
    if miss := next((m for m in absent if (_key(m) == wanted or _matches(constraint.concept, constraint.term, m))
                     and _has_kind(m.kind_words, constraint.term)), None):
        return _apply_polarity(constraint, False, f"patient explicitly has no {miss.term}", miss.evidence)
    others = EXCLUSIVE_KINDS.get(constraint.concept or "", frozenset())
    if other := next((m for m in present if m.concept in others), None):
        return _apply_polarity(constraint, False, f"patient has {other.term}, not {constraint.term}", other.evidence)
    return Verdict("unknown", f"no information about {constraint.term}")


def evaluate(constraint: Constraint, profile: PatientProfile) -> Verdict:
    """Check one constraint against a profile: met, not_met, or unknown when the profile lacks the facts."""
    if constraint.hypothetical:
        return Verdict("unknown", "the criterion is hypothetical or conditional")
    if isinstance(constraint, ThresholdConstraint):
        return _evaluate_threshold(constraint, profile)
    if isinstance(constraint, SexConstraint):
        if profile.sex is None:
            return Verdict("unknown", "patient sex not known")
        return _apply_polarity(constraint, profile.sex == constraint.sex, f"patient is {profile.sex}", None)
    if isinstance(constraint, SmokingConstraint):
        return _evaluate_smoking(constraint, profile)
    if isinstance(constraint, StateConstraint):
        state = profile.pregnant if constraint.type == "pregnancy" else profile.breastfeeding
        if state is None and profile.sex == "male":
            return _apply_polarity(constraint, False, f"{constraint.type}: no (patient is male)", None)
        if state is None:
            return Verdict("unknown", f"{constraint.type} status not known")
        return _apply_polarity(constraint, state, f"{constraint.type}: {'yes' if state else 'no'}", None)
    if isinstance(constraint, PerformanceConstraint):
        return _evaluate_performance(constraint, profile)
    if isinstance(constraint, TimeWindowConstraint):
        return _evaluate_time_window(constraint, profile)
    if isinstance(constraint, MentionConstraint):
        return _evaluate_mention(constraint, profile)
    if isinstance(constraint, BiomarkerConstraint):
        return _evaluate_biomarker(constraint, profile)
    return Verdict("unknown", f"no rule for {constraint.type}")


def biomarker_result(biomarkers: dict[str, BiomarkerResult], marker: str) -> BiomarkerResult | None:
    """The patient's status for a marker, also read off its family ("HR" from ER and PR) or its family's negative."""
    if marker in biomarkers:
        return biomarkers[marker]
    if members := FAMILIES.get(marker):
        known = [biomarkers[m] for m in members if m in biomarkers]
        if positive := next((r for r in known if r.status == "positive"), None):
            return positive
        if len(known) == len(members):
            return known[0]
        return None
    family = next((name for name, members in FAMILIES.items() if marker in members), None)
    if family and family in biomarkers and biomarkers[family].status == "negative":
        return biomarkers[family]
    return None


def _marker_holds(constraint: BiomarkerConstraint, result: BiomarkerResult | None) -> bool | None:
    if result is None:
        return None
    if result.status != constraint.status:
        return False
    if not constraint.variants:
        return True
    if any(variant_matches(wanted, have) for wanted in constraint.variants for have in result.variants):
        return True
    # a note that names one variant does not rule out another one elsewhere, unless at the same codon
    if result.variants and all(variants_conflict(wanted, have)
                               for wanted in constraint.variants for have in result.variants):
        return False
    return None


def _evaluate_biomarker(constraint: BiomarkerConstraint, profile: PatientProfile) -> Verdict:
    results = {marker: biomarker_result(profile.biomarkers, marker) for marker in constraint.markers}
    holds = {marker: _marker_holds(constraint, result) for marker, result in results.items()}
    if constraint.combine == "any":
        decided = True if True in holds.values() else False if all(v is False for v in holds.values()) else None
    else:
        decided = False if False in holds.values() else True if all(v is True for v in holds.values()) else None
    described = next((r for m, r in results.items() if r and holds[m] is decided), None)
    if decided is None:
        known = next((r for r in results.values() if r), None)
        if known is None:
            return Verdict("unknown", f"{' / '.join(constraint.markers)} status not known")
        if constraint.variants and known.status == constraint.status:
            return Verdict("unknown", f"tumour: {known.evidence}; whether it is {' or '.join(constraint.variants)} "
                           "is not known", known.evidence)
        return Verdict("unknown", f"{' / '.join(constraint.markers)}: only partly known ({known.evidence})",
                       known.evidence)
    evidence = described.evidence if described else None
    return _apply_polarity(constraint, decided, f"tumour: {evidence}" if evidence else "tumour markers", evidence)


# Whether each smoking status makes "smokes now" / "has ever smoked" true (None: the status leaves it open)
_SMOKES_NOW: dict[str, bool | None] = {"current": True, "former": False, "never": False, "not_current": False,
                                       "ever": None}
_EVER_SMOKED: dict[str, bool | None] = {"current": True, "former": True, "never": False, "not_current": None,
                                        "ever": True}


def _evaluate_smoking(constraint: SmokingConstraint, profile: PatientProfile) -> Verdict:
    status = profile.smoking
    if status is None:
        return Verdict("unknown", "smoking status not known")
    holds = (_SMOKES_NOW if constraint.type == "smoking" else _EVER_SMOKED)[status]
    if constraint.type == "smoking" and constraint.time_limited and status in {"former", "not_current"}:
        holds = None  # "no smoking within 6 months": when a former smoker quit decides
    said = status.replace("_", " ")
    if holds is None:
        why = "when they stopped decides this" if status in {"former", "not_current"} else "that leaves this open"
        return Verdict("unknown", f"smoking: {said}; {why}", profile.evidence.get("smoking"))
    return _apply_polarity(constraint, holds, f"smoking: {said}", profile.evidence.get("smoking"))


def _evaluate_time_window(constraint: TimeWindowConstraint, profile: PatientProfile) -> Verdict:
    # Profiles carry no event dates; the one safe answer is when the event never happened at all.
    if constraint.event_concept:
        absent = (*profile.absent_conditions, *profile.absent_therapies)
        # "no cataract surgery" says nothing of other surgery
        if miss := next((m for m in absent if m.concept and not m.kind_words
                         and constraint.event_concept in implied_concepts(m.concept)), None):
            never = constraint.relation == "within"
            return _apply_polarity(constraint, not never, f"patient never had {miss.term}", miss.evidence)
    return Verdict("unknown", "event dates are not known")
