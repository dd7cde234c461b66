"""match_patient: retrieve candidate trials for a patient, judge every criterion, rank by fit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from trialfinder.eligibility import PatientProfile
from trialfinder.index.schema import analyze
from trialfinder.model import Study, decode_study
from trialfinder.search.types import Near, SearchRequest, SearchResult

from .assess import assess
from .coverage import condition_coverage, condition_coverage_of, condition_names, patient_stems
from .patient import Patient, as_patient
from .phrases import PatientText
from .queries import condition_phrases, key_words, or_query, quoted, text_words, vocabulary_of
from .ranking import DEFAULT_WEIGHTS, RankWeights, eligibility_score, normalized
from .types import CriterionVerdict, TrialMatch

DEFAULT_LIMIT = 20
DEFAULT_POOL = 100  # candidates whose criteria are judged; more costs time, rarely changes the top
MAX_CONDITION_PHRASES = 25


class Engine(Protocol):
    def search(self, request: SearchRequest) -> SearchResult: ...


class StudySource(Protocol):
    def raws(self, nct_ids: list[str]) -> dict[str, str]: ...


class NoteSimilarity(Protocol):
    def similarities(self, text: str, studies: dict[str, Study]) -> dict[str, float]: ...


# Optional second opinion on criteria the rules leave unknown (see match.llm): gets the patient, the study and
# the verdicts, returns the verdicts with some unknowns decided.
Judge = Callable[[Patient, Study, list[CriterionVerdict]], list[CriterionVerdict]]


@dataclass(frozen=True)
class RelevanceWeights:
    """How the retrieval signals mix into relevance (tuned on TREC CT 2021/2022, bench/results/trec.md)."""

    words: float = 1.0  # every word of the note, BM25 over all fields
    coverage: float = 0.5  # share of the trial's own condition names that the note contains
    conditions: float = 0.45  # the patient's condition phrases (with synonyms) in condition/MeSH fields
    leading_boost: float = 1.0  # condition phrases from the note's first two sentences count this much more
    clean_words: bool = True  # the words query drops narrative boilerplate and negated findings (key_words)
    synonym_words: float = 1.0  # the same words again, expanded with the index's MeSH / abbreviation synonyms
    feedback: float = 0.4  # pseudo-relevance feedback: the condition names most common among the top trials
    feedback_docs: int = 10  # how many top trials feed back
    feedback_names: int = 6  # how many of their condition names are searched
    feedback_anchored: bool = False  # only names that share a specific word with the note (measured: worse)
    # the same words in the eligibility criteria alone: a trial whose criteria speak of what the note describes
    # was written for such patients, whatever its title names
    criteria_words: float = 0.5
    # how close the note's meaning is to the trial's title, conditions and summary (sentence vectors, when the
    # embeddings extra is installed): finds trials about what the note describes in other words
    semantic: float = 2.0


DEFAULT_RELEVANCE = RelevanceWeights()


def match_patient(
    engine: Engine,
    store: StudySource,
    profile_or_text: Patient | PatientProfile | str | dict,
    *,
    near: Near | None = None,
    statuses: list[str] | None = None,
    limit: int | None = DEFAULT_LIMIT,
    among: list[str] | None = None,
    pool: int = DEFAULT_POOL,
    weights: RankWeights = DEFAULT_WEIGHTS,
    relevance_weights: RelevanceWeights = DEFAULT_RELEVANCE,
    judge: Judge | None = None,
    vectors: NoteSimilarity | None = None,
) -> list[TrialMatch]:
    """Rank trials for a patient, best fit first, each with a verdict per criterion.

    ``among`` ranks exactly those studies (whatever their status or place unless ``statuses`` or ``near`` is also
    given); otherwise candidates come from the index, filtered by ``statuses`` and ``near`` and, when the patient's
    age or sex is known, by the record's age range and sex. ``limit`` None returns every ranked study. ``vectors``
    scores the note's meaning against each candidate (default: the index's sentence vectors, when installed).
    """
    patient = as_patient(profile_or_text)
    retrieved = _retrieval_scores(engine, patient, near=near, statuses=statuses or [], among=among, pool=pool,
                                  weights=relevance_weights, store=store)
    if among is not None:
        candidates = list(dict.fromkeys(among))
        if statuses or near:
            passing = _passing_filters(engine, candidates, statuses or [], near)
            candidates = [nct_id for nct_id in candidates if nct_id in passing]
    else:
        candidates = sorted(retrieved, key=lambda nct_id: -retrieved[nct_id])[: pool * 3]
    raws = store.raws(candidates)
    studies = {nct_id: decode_study(raws[nct_id]) for nct_id in candidates if nct_id in raws}
    stems = patient_stems(patient.text) | _profile_stems(patient)
    total = _retrieval_total(relevance_weights) + relevance_weights.coverage or 1.0
    relevance = {
        nct_id: (retrieved.get(nct_id, 0.0) + relevance_weights.coverage * condition_coverage(study, stems)) / total
        for nct_id, study in studies.items()
    }
    if among is None:
        studies = {nct_id: studies[nct_id] for nct_id in sorted(relevance, key=lambda n: (-relevance[n], n))[:pool]}
    if relevance_weights.semantic:
        closeness = _semantic_scores(vectors or default_vectors(engine), patient, studies)
        if closeness:
            weight = relevance_weights.semantic
            relevance = {nct_id: (relevance[nct_id] * total + weight * closeness.get(nct_id, 0.0)) / (total + weight)
                         for nct_id in studies}
    patient_text = PatientText(patient.text)
    matches = []
    for nct_id, study in studies.items():
        verdicts = assess(study, patient, patient_text)
        eligibility, excluded = eligibility_score(verdicts, weights)
        topical = relevance[nct_id]
        matches.append(TrialMatch(
            nct_id=nct_id, title=study.title, score=topical + eligibility, relevance=topical, verdicts=verdicts,
            excluded=excluded, overall_status=study.overall_status, conditions=list(study.conditions.conditions),
        ))
    if judge is not None:
        # a model call per study is slow: only the studies about to be shown get a second opinion
        matches.sort(key=lambda m: (-m.score, m.nct_id))
        for item in matches if limit is None else matches[:limit]:
            item.verdicts = judge(patient, studies[item.nct_id], item.verdicts)
            eligibility, item.excluded = eligibility_score(item.verdicts, weights)
            item.score = item.relevance + eligibility
    matches.sort(key=lambda m: (-m.score, m.nct_id))
    return matches if limit is None else matches[:limit]


def retrieval_requests(engine: Engine, patient: Patient, *, limit: int, synonyms: bool = True,
                       weights: RelevanceWeights = DEFAULT_RELEVANCE) -> list[tuple[float, SearchRequest]]:
    """The weighted searches that make up a patient's relevance: their conditions, and the words of the note."""
    requests: list[tuple[float, SearchRequest]] = []
    phrases = condition_phrases(patient, vocabulary_of(engine))[:MAX_CONDITION_PHRASES] if weights.conditions else []
    if phrases:
        leading = [quoted(p.text) for p in phrases if p.leading]
        others = [quoted(p.text) for p in phrases if not p.leading]
        if leading:
            requests.append((weights.conditions * weights.leading_boost,
                             SearchRequest(condition=or_query(leading), limit=limit, synonyms=synonyms)))
        if others:
            requests.append((weights.conditions,
                             SearchRequest(condition=or_query(others), limit=limit, synonyms=synonyms)))
    words = (key_words if weights.clean_words else text_words)(patient.text)
    if not words and not phrases:
        # structured fields only: their condition names are the query
        words = [term for m in patient.profile.diagnoses for term in text_words(m.term)]
    if words:
        requests.append((weights.words, SearchRequest(query=or_query(words), limit=limit, synonyms=False)))
        if weights.synonym_words and synonyms:
            requests.append((weights.synonym_words, SearchRequest(query=or_query(words), limit=limit, synonyms=True)))
        if weights.criteria_words:
            criteria_query = f"AREA[EligibilityCriteria]({or_query(words)})"
            requests.append((weights.criteria_words, SearchRequest(query=criteria_query, limit=limit, synonyms=False)))
    return requests


def default_vectors(engine: Engine) -> NoteSimilarity | None:
    """The sentence vectors kept beside the engine's index, or None (not installed, or an engine without one)."""
    from trialfinder.index.vectors import open_study_vectors

    settings = getattr(engine, "settings", None)
    return open_study_vectors(settings.index_dir) if settings is not None else None


def _semantic_scores(vectors: NoteSimilarity | None, patient: Patient, studies: dict[str, Study]) -> dict[str, float]:
    """Each study's closeness to the note, divided by the closest one's (as every other signal is normalized)."""
    text = patient.text.strip() or ". ".join(m.term for m in patient.profile.diagnoses)
    if vectors is None or not text or not studies:
        return {}
    closeness = {nct_id: max(value, 0.0) for nct_id, value in vectors.similarities(text, studies).items()}
    return normalized(closeness)


def _retrieval_total(weights: RelevanceWeights) -> float:
    return weights.words + weights.synonym_words + weights.conditions + weights.feedback + weights.criteria_words


def _profile_stems(patient: Patient) -> set[str]:
    """Stems of the conditions and therapies given as structured fields (they may not be in the text)."""
    words = " ".join(m.term for m in (*patient.profile.diagnoses, *patient.profile.therapies))
    return patient_stems(words)


def _retrieval_scores(engine: Engine, patient: Patient, *, near: Near | None, statuses: list[str],
                      among: list[str] | None, pool: int, weights: RelevanceWeights,
                      store: StudySource | None = None) -> dict[str, float]:
    """Weighted sum of each search's scores, each normalized to its best hit (not yet divided by the total)."""
    combined: dict[str, float] = {}
    limit = len(among) if among is not None else pool * 3
    requests = retrieval_requests(engine, patient, limit=max(limit, 1), weights=weights)
    _add_searches(engine, patient, requests, combined, near=near, statuses=statuses, among=among)
    if weights.feedback and store is not None and combined:
        names = feedback_names(store, patient, combined, weights)
        if names:
            request = SearchRequest(condition=or_query([quoted(name) for name in names]), limit=max(limit, 1),
                                    synonyms=False)
            _add_searches(engine, patient, [(weights.feedback, request)], combined, near=near, statuses=statuses,
                          among=among)
    return combined


def feedback_names(store: StudySource, patient: Patient, scores: dict[str, float],
                   weights: RelevanceWeights) -> list[str]:
    """RM3-style feedback on condition names: those most often named, score-weighted, by the best-ranked trials."""
    top = sorted(scores, key=lambda nct_id: (-scores[nct_id], nct_id))[: weights.feedback_docs]
    raws = store.raws(top)
    best = scores[top[0]] if top else 0.0
    if best <= 0:
        return []
    stems = patient_stems(patient.text) | _profile_stems(patient)
    weight: dict[str, float] = {}
    surface: dict[str, str] = {}
    for nct_id in top:
        if nct_id not in raws:
            continue
        study = decode_study(raws[nct_id])
        seen: set[str] = set()
        for name in condition_names(study):
            key = " ".join(analyze(name))
            if not key or key in seen or len(key.split()) > 6:
                continue
            seen.add(key)
            if weights.feedback_anchored and condition_coverage_of(name, stems) == 0.0:
                continue
            weight[key] = weight.get(key, 0.0) + scores[nct_id] / best
            surface.setdefault(key, name)
    ranked = sorted(weight, key=lambda key: (-weight[key], key))
    return [surface[key] for key in ranked[: weights.feedback_names]]


def _add_searches(engine: Engine, patient: Patient, requests: list[tuple[float, SearchRequest]],
                  combined: dict[str, float], *, near: Near | None, statuses: list[str],
                  among: list[str] | None) -> None:
    """Run each weighted search (with the patient's filters) and add its normalized scores into combined."""
    for weight, request in requests:
        if among is not None:
            request.ids = list(among)
        else:
            request.statuses = list(statuses)
            request.near = near
            if patient.profile.age_years is not None:
                request.age = patient.profile.age_years
            if patient.profile.sex is not None:
                request.sexes = [patient.profile.sex.upper()]
        scores = normalized({hit.nct_id: hit.score for hit in engine.search(request).hits})
        for nct_id, score in scores.items():
            combined[nct_id] = combined.get(nct_id, 0.0) + weight * score


def _passing_filters(engine: Engine, ids: list[str], statuses: list[str], near: Near | None) -> set[str]:
    request = SearchRequest(ids=list(ids), statuses=list(statuses), near=near, limit=max(len(ids), 1))
    return {hit.nct_id for hit in engine.search(request).hits}
