"""Judge one study's eligibility criteria, criterion by criterion, for one patient."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from trialfinder.eligibility import Constraint, Criterion, Verdict, evaluate, extract_constraints, parse_criteria
from trialfinder.eligibility.model import (
    BiomarkerConstraint,
    MentionConstraint,
    PerformanceConstraint,
    ThresholdConstraint,
)
from trialfinder.eligibility.constraints import threshold_defines
from trialfinder.eligibility.terms import lexicon_regex
from trialfinder.eligibility.vocabulary import MentionType, Vocabulary, study_vocabulary
from trialfinder.model import Study, age_in_years, describe_age_range

from .patient import Patient
from .phrases import PatientText
from .types import CriterionVerdict

# Constraint types whose not_met answer from the rules is reliable enough to rule a patient out.
HARD_TYPES = frozenset({"age", "sex", "pregnancy", "breastfeeding", "smoking", "ever_smoked", "performance", "lab",
                        "condition", "therapy", "biomarker"})
# "No other prior malignancy", "a second primary cancer": the criterion is about a condition besides the one the
# trial is for, which the rules cannot tell apart from the patient's own; such a not_met only counts as soft.
# "No other malignancy", "No prior malignancy except ...": the rules cannot tell such a cancer from the patient's own
_OTHER_CONDITION = re.compile(r"\b(?:other|another|second|additional|secondary|concomitant)\b"
                              r"|\b(?:prior|previous|past)\s+(?:\w+\s+)?(?:malignan|cancer|neoplas|tumou?r)", re.IGNORECASE)
_ALTERNATIVES = re.compile(r"\b(?:or|either)\b", re.IGNORECASE)
MAX_CRITERION_CHARS = 600  # a "criterion" longer than this is an unsplit paragraph: only rules read it


@dataclass(frozen=True)
class ParsedCriterion:
    """A criterion with the constraints the rules extracted from it (patient independent, so cached)."""

    criterion: Criterion
    constraints: tuple[Constraint, ...]


@lru_cache(maxsize=4096)
def _parse(criteria_text: str, own_names: tuple[tuple[str, tuple[MentionType, str]], ...]) -> tuple[ParsedCriterion, ...]:
    sections = parse_criteria(criteria_text)
    vocabulary = Vocabulary(dict(own_names)) if own_names else None
    return tuple(
        ParsedCriterion(item, tuple(extract_constraints(item.text, item.kind, item.heading, vocabulary)))
        for item in sections.all()
        if item.text.strip()
    )


def parsed_criteria(study: Study) -> tuple[ParsedCriterion, ...]:
    """The study's criteria with their constraints, its own condition and drug names recognised; cached."""
    criteria_text = study.eligibility.eligibility_criteria or ""
    if not criteria_text.strip():
        return ()
    # the cache key carries the names, not the study: two records with one text and other names parse apart
    own_names = tuple(sorted(study_vocabulary(study).terms.items()))
    return _parse(criteria_text, own_names)


def structured_verdicts(study: Study, patient: Patient) -> list[CriterionVerdict]:
    """Verdicts on the record's own age range and sex fields, which bind whatever the criteria text says."""
    verdicts: list[CriterionVerdict] = []
    profile = patient.profile
    eligibility = study.eligibility
    low, high = age_in_years(eligibility.minimum_age), age_in_years(eligibility.maximum_age)
    if low is not None or high is not None:
        text = f"Age: {describe_age_range(eligibility.minimum_age, eligibility.maximum_age)}"
        if profile.age_years is None:
            verdicts.append(CriterionVerdict(text, "inclusion", "unknown", "patient age not known", source="structured"))
        else:
            inside = (low is None or profile.age_years >= low - 1e-9) and (high is None or profile.age_years <= high + 1e-9)
            verdicts.append(CriterionVerdict(
                text, "inclusion", "met" if inside else "not_met", f"patient is {profile.age_years:g}",
                profile.evidence.get("age_years"), source="structured", hard=not inside,
            ))
    if eligibility.sex in ("FEMALE", "MALE"):
        wanted = eligibility.sex.lower()
        text = f"Sex: {wanted} only"
        if profile.sex is None:
            verdicts.append(CriterionVerdict(text, "inclusion", "unknown", "patient sex not known", source="structured"))
        else:
            fits = profile.sex == wanted
            verdicts.append(CriterionVerdict(text, "inclusion", "met" if fits else "not_met",
                                             f"patient is {profile.sex}", source="structured", hard=not fits))
    return verdicts


def _combine_rules(item: ParsedCriterion, patient: Patient) -> CriterionVerdict | None:
    """One verdict from the criterion's constraints, or None when the rules know nothing about the patient here."""
    results = [(constraint, evaluate(constraint, patient.profile)) for constraint in item.constraints]
    criterion = item.criterion
    results = _without_defined_findings(criterion.text, results)
    results = _within_allowances(results, patient)
    if criterion.kind == "exclusion":
        results = _marker_qualified_exclusions(criterion.text, results)
        results = _joint_thresholds(criterion.text, results)
    decided = [(c, v) for c, v in results if v.status != "unknown"]
    if not decided:
        # an open question the patient's text touches ("patient has hypertension; whether it is uncontrolled is not
        # known") says more than none at all
        informed = [v for _, v in results if v.evidence]
        if not informed:
            return None
        return CriterionVerdict(criterion.text, criterion.kind, "unknown", informed[0].reason, informed[0].evidence,
                                (criterion.start, criterion.end), "rules")
    failing = [(c, v) for c, v in decided if v.status == "not_met"]
    passing = [(c, v) for c, v in decided if v.status == "met"]
    mention_requires = [c for c, _ in results if isinstance(c, MentionConstraint) and c.polarity == "require"]
    if failing and criterion.kind == "inclusion" and all(isinstance(c, MentionConstraint) for c, _ in failing):
        # "NSCLC or SCLC": one required mention the patient has is enough; fail only when every one fails. When
        # the others are alternatives the text leaves open ("VT with syncope, ..., chest pain, or near syncope"),
        # the one the patient lacks decides nothing either.
        if len(failing) < len(mention_requires) and (
                any(isinstance(c, MentionConstraint) for c, _ in passing) or _ALTERNATIVES.search(criterion.text)):
            failing = []
    if failing and criterion.kind == "inclusion" and _ALTERNATIVES.search(criterion.text) and all(
            isinstance(c, BiomarkerConstraint) and c.polarity == "require" for c, _ in failing):
        # "TNBC, HR+ breast cancer or ovarian cancer": another alternative the patient meets is enough, but not the
        # disease the failing marker qualifies ("HER2-positive breast cancer" for a HER2-negative breast cancer)
        if any(isinstance(c, (MentionConstraint, BiomarkerConstraint)) and not _qualified_by(criterion.text, c, failing)
               for c, _ in passing):
            failing = []
    if failing:
        constraint, verdict = failing[0]
        hard = constraint.type in HARD_TYPES and not (
            isinstance(constraint, MentionConstraint) and _OTHER_CONDITION.search(criterion.text))
        return CriterionVerdict(criterion.text, criterion.kind, "not_met", verdict.reason, verdict.evidence,
                                (criterion.start, criterion.end), "rules", hard=hard)
    if not passing:
        constraint, verdict = decided[0]
        return CriterionVerdict(criterion.text, criterion.kind, "unknown", f"partly checked: {verdict.reason}",
                                verdict.evidence, (criterion.start, criterion.end), "rules")
    # a rule for some patients only ("2 allowed if due to bone pain") leaves open nothing the others pass
    binding = [(c, v) for c, v in results if not (c.hypothetical and v.status == "unknown")]
    open_markers = [(c, v) for c, v in results if isinstance(c, BiomarkerConstraint) and v.status == "unknown"
                    and not c.hypothetical]
    if len(passing) == len(binding) or criterion.kind == "inclusion" and any(
        # "HER2-positive breast cancer" for a breast cancer of unknown HER2 status stays open
        isinstance(c, MentionConstraint) and not _qualified_by(criterion.text, c, open_markers) for c, _ in passing
    ):
        constraint, verdict = passing[0]
        return CriterionVerdict(criterion.text, criterion.kind, "met", verdict.reason, verdict.evidence,
                                (criterion.start, criterion.end), "rules")
    constraint, verdict = passing[0]
    return CriterionVerdict(criterion.text, criterion.kind, "unknown", f"partly checked: {verdict.reason}",
                            verdict.evidence, (criterion.start, criterion.end), "rules")


def _marker_qualified_exclusions(text: str, results: list[tuple[Constraint, Verdict]]) -> list[tuple[Constraint, Verdict]]:
    """ "Has HER2-positive breast cancer" excludes the disease with that marker: a breast cancer whose marker passes
    passes, one whose marker is not known is open; the disease alone excludes no one."""
    markers = [(c, v) for c, v in results if isinstance(c, BiomarkerConstraint)]
    adjusted = []
    for constraint, verdict in results:
        qualifying = [(m, v) for m, v in markers if _qualifies(text, m, constraint)]
        if verdict.status == "not_met" and qualifying and all(v.status != "not_met" for _, v in qualifying):
            marker_verdict = qualifying[0][1]
            verdict = Verdict(marker_verdict.status, f"{verdict.reason}; {marker_verdict.reason}", verdict.evidence)
        adjusted.append((constraint, verdict))
    return adjusted


# "triglycerides > 1000 mg/dL in the presence of HbA1c < 9%", "SBP > 160 and DBP > 100": one finding that needs both
_JOINED = re.compile(r"\s*(?:and|with|plus|in\s+the\s+presence\s+of|in\s+combination\s+with|(?:along|together)\s+with|"
                     r"accompanied\s+by|associated\s+with)\s*", re.IGNORECASE)


def _joint_thresholds(text: str, results: list[tuple[Constraint, Verdict]]) -> list[tuple[Constraint, Verdict]]:
    """Thresholds an exclusion joins into one finding exclude together: one the patient is clear of clears both,
    and one left unknown leaves the finding open."""
    thresholds = sorted((index for index, (c, _) in enumerate(results) if isinstance(c, ThresholdConstraint)
                         and not c.hypothetical), key=lambda index: results[index][0].span)
    groups: list[list[int]] = []
    for index in thresholds:
        previous = groups[-1][-1] if groups else None
        if previous is not None and _JOINED.fullmatch(text, results[previous][0].span[1], results[index][0].span[0]):
            groups[-1].append(index)
        else:
            groups.append([index])
    adjusted = list(results)
    for group in (g for g in groups if len(g) > 1):
        verdicts = [results[index][1] for index in group]
        if all(v.status == "not_met" for v in verdicts):
            continue
        settled = next((v for v in verdicts if v.status == "met"), None) or next(
            v for v in verdicts if v.status == "unknown")
        for index in group:
            constraint, verdict = results[index]
            if verdict.status == "not_met":
                adjusted[index] = (constraint, Verdict(settled.status, f"{verdict.reason}; {settled.reason}",
                                                       verdict.evidence))
    return adjusted


def _within_allowances(results: list[tuple[Constraint, Verdict]], patient: Patient) -> list[tuple[Constraint, Verdict]]:
    """A score outside the range but inside a conditional allowance ("KPS 90-100 (70-80 allowed if due to the
    disease)") is open: whether the condition holds is not known."""
    allowances = [c for c, _ in results if c.hypothetical and isinstance(c, (PerformanceConstraint, ThresholdConstraint))]
    if not allowances:
        return results
    adjusted = []
    for constraint, verdict in results:
        if verdict.status == "not_met" and not constraint.hypothetical:
            for allowance in allowances:
                if _same_measure(constraint, allowance) and evaluate(
                        replace(allowance, hypothetical=False), patient.profile).status == "met":
                    verdict = Verdict("unknown", f"{verdict.reason}, within {allowance.text!r} only if its condition "
                                                 "holds", verdict.evidence)
                    break
        adjusted.append((constraint, verdict))
    return adjusted


def _same_measure(first: Constraint, second: Constraint) -> bool:
    """Whether two thresholds bound the same score or lab value."""
    if isinstance(first, PerformanceConstraint) and isinstance(second, PerformanceConstraint):
        return first.scale == second.scale
    return isinstance(first, ThresholdConstraint) and isinstance(second, ThresholdConstraint) and (
        first.type, first.analyte) == (second.type, second.analyte)


def _without_defined_findings(text: str, results: list[tuple[Constraint, Verdict]]) -> list[tuple[Constraint, Verdict]]:
    """Drop an open condition that a decided threshold right after it defines: "No fever (temperature >= 38 C)" is
    answered by the patient's temperature."""
    thresholds = [c for c, v in results if c.type == "lab" and v.status != "unknown"]
    return [(c, v) for c, v in results if not (
        v.status == "unknown" and isinstance(c, MentionConstraint) and c.type == "condition"
        and any(threshold_defines(text, c.span[1], lab.span[0]) for lab in thresholds))]


def _qualified_by(text: str, constraint: Constraint, markers: list[tuple[Constraint, Verdict]]) -> bool:
    """Whether a mention is the noun one of these marker statuses qualifies ("HER2-positive breast cancer")."""
    return any(_qualifies(text, marker, constraint) for marker, _ in markers)


def _qualifies(text: str, marker: Constraint, constraint: Constraint) -> bool:
    """Whether the marker status stands right before the mention it qualifies, a bracketed gloss allowed between
    ("HER2 positive (3+ by IHC or ISH amplified) breast cancer")."""
    if not isinstance(constraint, MentionConstraint) or marker.span[1] > constraint.span[0]:
        return False
    between = _GLOSS.sub("", text[marker.span[1] : constraint.span[0]])
    return len(between) <= 30 and not re.search(r"[,;(]|\bor\b", between)


_GLOSS = re.compile(r"\s*\([^()]{0,80}\)")


def _phrase_verdict(item: ParsedCriterion, patient_text: PatientText, informed: str | None = None
                    ) -> CriterionVerdict | None:
    """A soft verdict from a phrase the criterion shares with the patient's text, when it says more than the
    patient's words the rules already weighed (``informed``) and left open."""
    criterion = item.criterion
    if len(criterion.text) > MAX_CRITERION_CHARS:
        return None
    # a phrase the rules read as naming only who a rule is for ("Patients with brain metastases must be stable")
    # decides nothing about this patient either way
    conditional = [c.text.lower() for c in item.constraints if isinstance(c, MentionConstraint) and c.hypothetical]
    # a lab's name of several words ("PD-L1", "PD-L1 CPS") says the patient had it measured: the lab rules judge
    # its value
    lab_name = lexicon_regex("lab")
    hits = [hit for hit in patient_text.find(criterion.text)
            if not any(hit.phrase.lower() in text or text in hit.phrase.lower() for text in conditional)
            and not lab_name.fullmatch(hit.phrase)]
    if informed:
        # "breast cancer" again for "HER2-positive breast cancer", when the rules found the breast cancer and no
        # HER2 status, answers nothing; "asthma requiring hospitalization" beyond the rules' "asthma" does
        hits = [hit for hit in hits if hit.words > len(informed.split())]
    if not hits:
        return None
    hit = max(hits, key=lambda h: (h.words, not h.negated))
    patient_has = not hit.negated
    # the criterion asks for the thing unless it is an exclusion, or a negated inclusion ("no prior X")
    asks_for_it = (criterion.kind == "inclusion") != hit.negated_in_criterion
    fits = patient_has == asks_for_it
    said = "mentions" if patient_has else "rules out"
    return CriterionVerdict(criterion.text, criterion.kind, "met" if fits else "not_met",
                            f"patient text {said} {hit.phrase!r}", hit.evidence, (criterion.start, criterion.end),
                            "terms")


def assess(study: Study, patient: Patient, patient_text: PatientText | None = None) -> list[CriterionVerdict]:
    """Every verdict for the study: the record's age/sex fields first, then each criterion in text order."""
    patient_text = patient_text or PatientText(patient.text)
    verdicts = structured_verdicts(study, patient)
    for item in parsed_criteria(study):
        verdict = _combine_rules(item, patient)
        if verdict is None or verdict.status == "unknown":
            verdict = _phrase_verdict(item, patient_text, verdict.evidence if verdict else None) or verdict
        if verdict is None:
            criterion = item.criterion
            reason = "nothing in the patient description addresses this" if item.constraints or patient.text else (
                "not checked automatically")
            verdict = CriterionVerdict(criterion.text, criterion.kind, "unknown", reason, None,
                                       (criterion.start, criterion.end), "rules")
        verdicts.append(verdict)
    return verdicts
