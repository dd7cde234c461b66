"""TREC Clinical Trials 2021/2022/2023 on the trial texts that are available here: BM25 vs match_patient.

Usage: .venv/bin/python bench/trec_bench.py [--data-dir /tmp/trec-bench] [--years 2021 2022 2023] [--no-write]

1. Builds (once) a bench store + index from every trial text in shared/data: ctgov/v2_json, ctgov/legacy_xml
   (with the tar.gz) and trialgpt_trial_texts/as_ctgov_v2.json.
2. Full ranking: each topic against the whole bench index, top 100. "bm25" is the engine with the note's words
   OR-ed, synonyms off, no eligibility; "match" is trialfinder.match.match_patient.
3. Re-ranking protocol (TrialGPT's): each topic ranks only its judged trials that have text (`among`).
Scores: NDCG@10, P@10, MRR, "eligible only" (label 2 relevant) and "graded" (gains 0/1/2), averaged over topics
with at least one relevant judged trial in the bench store. Unjudged retrieved trials count as not relevant.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine_markdown, shared_data_dir, write_result  # noqa: E402
from trec_data import SETTINGS, load_qrels, load_topics, restrict, score_run  # noqa: E402

from trialfinder.config import load_settings  # noqa: E402
from trialfinder.match import match_patient  # noqa: E402
from trialfinder.match.queries import or_query, text_words  # noqa: E402
from trialfinder.search import SearchEngine, SearchRequest  # noqa: E402
from trialfinder.store import Store  # noqa: E402

DEPTH = 100
RANDOM_SHUFFLES = 200
NOTES = """\
- Collection: only the trial texts in shared/data (8,450 studies); TREC's own collections (375k trials for
  2021/2022, a 2023 snapshot) are not here. Scores are therefore on "what is there" and are not comparable with
  published TREC runs: ideal DCG uses only the judged trials that have text, and topics without any relevant
  judged trial with text are left out (the `topics` column).
- bm25: the engine with the note's distinct words OR-ed (stop words dropped, at most ~1900 characters), synonyms off,
  no filters, no eligibility. match: `match_patient` defaults (RelevanceWeights / RankWeights): the note's key words
  (boilerplate such as "examination", "reveals", "unremarkable" and findings that are only ever negated, "denies
  fever", dropped), plus pseudo-relevance feedback (the condition names most common among the 10 best trials of that
  first search, weighted by their scores, searched in the condition fields), plus the patient's condition phrases
  (eligibility lexicon, structured conditions and the index's condition vocabulary, not negated) searched in the
  condition/MeSH fields (0.45), plus the share of the trial's condition names found in the note, plus the patient's
  age and sex as filters (full protocol only), plus the criterion verdicts (the record's age/sex fields rule out
  -0.4, a hard rule exclusion from the criteria text -0.2, soft exclusions -0.1 each, at most 2, and -0.006 per
  criterion left unknown, at most 40; a rule exclusion of an "other" / "second" condition, "No other prior
  malignancy", is soft: the rules cannot tell it from the patient's own). Criteria are read with the study's own
  condition and intervention names; age/sex rules of one cohort, arm or part, or conditional ones ("if age is
  40 to 45", "for women aged 40 and over"), are unknown rather than exclusions.
- Re-ranking protocol: each topic ranks exactly its judged trials that have text (`among`); random is the mean of
  200 shuffles. TrialGPT's published numbers for this protocol (GPT-4, full TREC texts): NDCG@10 0.8165, P@10 0.7328,
  random 0.3785; ours run on far fewer judged trials per topic, so random itself differs per year.
- Tuning (RankWeights / RelevanceWeights defaults) used 2021 and 2022 only; 2023 was run once with those defaults,
  untouched. 2023 topics are questionnaires; they are turned into one plain-English note (bench/trec_data.py)
  that both systems read, and match also gets them as structured fields (`patient_from_fields`): the template
  disease and a named definitive diagnosis ("pigmentary" -> "pigmentary glaucoma") as conditions, the age when
  it is a number; comorbidity answers stay in the note only.
- Gains are "eligible only" (label 2 = 1) or "graded" (0/1/2), exponential (2^g - 1), log2 discount."""

TUNING = """\
Sixth round (issue 6): criteria and note readings found on real texts, each checked on 2021 and 2022 only (NDCG@10,
eligible only / graded: full 2021 / rerank 2021 / full 2022 / rerank 2022), each step on the one above; 2023 was run
once at the end. Topic counts are small (33-47), so differences under ~0.01 are noise.

| change | full 21 | rerank 21 | full 22 | rerank 22 | kept |
|---|---:|---:|---:|---:|---|
| base (HEAD 645772c, re-run) | 0.4222 / 0.3763 | 0.7962 / 0.8181 | 0.4497 / 0.3854 | 0.7549 / 0.7116 | |
| a relative's condition is not the patient's ("her mother had ...", "Family history: ..."); in a note an exception asserts ("no history other than hypertension") (7ffefbd) | 0.4232 / 0.3758 | 0.7962 / 0.8181 | 0.4556 / 0.3905 | 0.7600 / 0.7160 | yes |
| + relatives' words also dropped from the words query | 0.4216 / 0.3744 | 0.7883 / 0.8137 | 0.4488 / 0.3847 | 0.7585 / 0.7147 | no (family history matters to risk trials) |
| a disease's stage or course is a state (metastatic, refractory, relapsed, smoldering, inflammatory); a test dose is no therapy (408061b) | 0.4210 / 0.3745 | 0.7961 / 0.8181 | 0.4585 / 0.3931 | 0.7602 / 0.7162 | yes |
| "HER2 negative" no longer negates the cancer before it; the disease a treatment was for, a tumor at the margins, "resection margins" and reports are no constraints; bilateral and locally advanced are states (0786435) | 0.4188 / 0.3730 | 0.7872 / 0.8115 | 0.4585 / 0.3931 | 0.7602 / 0.7162 | yes: the old negation had read "The tumor was HER2-positive and ER/PR negative" as "no tumor", which by accident hid two eligible trials' false exclusions (topic 25) |
| + an exclusion naming an earlier episode of the trial's own disease ("Prior history of breast cancer") soft | 0.4137 / 0.3700 | 0.7823 / 0.8086 | 0.4585 / 0.3931 | 0.7602 / 0.7165 | no |
| in a note a trailing negation binds to the nearest finding; "FH patients" is no family history; "X-associated" / "X-related" kinds are states | 0.4188 / 0.3730 | 0.7872 / 0.8115 | 0.4585 / 0.3931 | 0.7602 / 0.7162 | yes (neutral) |

Tried offline on 7ffefbd, from a dump of each trial's relevance parts and verdicts, and not kept:
- a bonus per inclusion criterion met (0.02-0.08 each, at most 5), with or without other exclusion weights: the
  score is not monotone in the weight (0.03 below the current ranking, 0.05 above, 0.08 below again), and fitted on
  one year it does not carry to the other (fit on 2021: rerank 2022 graded 0.708; fit on 2022: rerank 2021 0.794);
- the record's and the criteria's exclusions counted as their maximum instead of their sum: flat to lower;
- diagnosis by condition profiles (every trial text pooled per condition name, BM25 of the note over them, a trial's
  best condition as a feature) for notes that describe a disease without naming it (2022's sarcoidosis and
  cataract topics): fitted on 2021 it lifted 2022 (full +0.015, rerank +0.008 over the same fit without it), fitted
  on 2022 it lowered 2021 re-ranking by 0.012;
- RM3 term feedback from the 10 best trials (15 terms, weight 0.05-0.3): full ranking -0.006 to -0.05 on both years.

What holds 2022 graded re-ranking down: of its 90 eligible trials 8 rank below 10 with no exclusion at all, on
notes that describe a disease without naming it; of its 46 excluded trials, 8 that relevance alone puts in the top
10 are pushed below it by exclusions the judgments agree with (the record's age range or a criterion), and the
graded metric still counts an excluded trial as a gain."""


def open_bench(data_dir: Path, shared: Path):
    """The bench store and engine, ingesting every trial text on first use."""
    from trialfinder.index import refresh_index
    from trialfinder.ingest import ingest_paths

    settings = load_settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.database_url)
    if store.count() == 0:
        sources = [shared / "ctgov" / "v2_json", shared / "ctgov" / "legacy_xml",
                   shared / "trialgpt_trial_texts" / "as_ctgov_v2.json"]
        ingest_paths(store, sources)
    refresh_index(settings, store)
    return settings, store, SearchEngine.open(settings, store)


def bm25_ranking(engine: SearchEngine, text: str, among: list[str] | None = None) -> list[str]:
    """The baseline: the note's words OR-ed, synonyms off, engine order."""
    request = SearchRequest(query=or_query(text_words(text)), synonyms=False, limit=len(among) if among else DEPTH)
    if among is not None:
        request.ids = list(among)
    ranked = [hit.nct_id for hit in engine.search(request).hits]
    if among is not None:
        # trials that share no word with the note: after the rest, in a fixed arbitrary order
        rest = sorted(set(among) - set(ranked))
        random.Random(0).shuffle(rest)
        ranked += rest
    return ranked


def match_ranking(engine, store, patient: str | dict, among: list[str] | None = None) -> list[str]:
    """match_patient on a topic's note, or on its structured fields when the topic has them (2023)."""
    matches = match_patient(engine, store, patient, among=among, limit=None if among is not None else DEPTH)
    return [m.nct_id for m in matches]


def random_scores(qrels: dict[str, dict[str, int]], setting: str) -> dict[str, float]:
    """Expected scores of a random order of each topic's judged trials (mean over shuffles)."""
    rng = random.Random(0)
    sums: dict[str, float] = {}
    result: dict[str, float] = {}
    for _ in range(RANDOM_SHUFFLES):
        run = {}
        for topic, labels in qrels.items():
            docs = sorted(labels)
            rng.shuffle(docs)
            run[topic] = docs
        result = score_run(run, qrels, setting)
        for key, value in result.items():
            sums[key] = sums.get(key, 0.0) + value
    return {key: value / RANDOM_SHUFFLES for key, value in sums.items()}


def evaluate_year(year: int, engine, store, available: set[str], shared: Path) -> tuple[str, dict]:
    topics = load_topics(shared, year)
    qrels = load_qrels(shared, year)
    covered = restrict(qrels, available)
    judged = {doc for labels in qrels.values() for doc in labels}
    judged_pairs = sum(len(labels) for labels in qrels.values())
    covered_pairs = sum(len(labels) for labels in covered.values())
    labels_covered = [label for labels in covered.values() for label in labels.values()]
    coverage = (f"{len(judged & available)} of {len(judged)} judged trials have text; {covered_pairs} of "
                f"{judged_pairs} judgments (label 0/1/2: {labels_covered.count(0)}/{labels_covered.count(1)}/"
                f"{labels_covered.count(2)}); {len(covered)} of {len(qrels)} topics keep a judged trial")
    runs: dict[str, dict[str, list[str]]] = {"full bm25": {}, "full match": {}, "rerank bm25": {}, "rerank match": {}}
    timings: dict[str, float] = {name: 0.0 for name in runs}
    for topic in topics:
        if topic.topic_id not in covered:
            continue
        among = sorted(covered[topic.topic_id])
        patient = topic.patient or topic.text
        for name, call in (("full bm25", lambda: bm25_ranking(engine, topic.text)),
                           ("full match", lambda: match_ranking(engine, store, patient)),
                           ("rerank bm25", lambda: bm25_ranking(engine, topic.text, among)),
                           ("rerank match", lambda: match_ranking(engine, store, patient, among))):
            started = time.perf_counter()
            runs[name][topic.topic_id] = call()
            timings[name] += time.perf_counter() - started
    scores = {name: {setting: score_run(run, covered, setting) for setting in SETTINGS} for name, run in runs.items()}
    scores["rerank random"] = {setting: random_scores(covered, setting) for setting in SETTINGS}
    return coverage, {"scores": scores, "timings": timings, "topics": len(runs["full bm25"])}


def table(year_results: dict[int, tuple[str, dict]]) -> str:
    lines = ["| year | protocol | system | setting | topics | NDCG@10 | P@10 | MRR | vs bm25 NDCG@10 |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for year, (_, result) in year_results.items():
        scores = result["scores"]
        for name in ("full bm25", "full match", "rerank random", "rerank bm25", "rerank match"):
            protocol, system = name.split()
            for setting in SETTINGS:
                value = scores[name][setting]
                base = scores[f"{protocol} bm25"][setting]["ndcg@10"]
                gain = f"{(value['ndcg@10'] / base - 1) * 100:+.1f}%" if base and system != "bm25" else ""
                lines.append(f"| {year} | {protocol} | {system} | {setting} | {int(value['topics'])} | "
                             f"{value['ndcg@10']:.4f} | {value['p@10']:.4f} | {value['mrr']:.4f} | {gain} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/trec-bench"))
    parser.add_argument("--years", type=int, nargs="+", default=[2021, 2022, 2023])
    parser.add_argument("--no-write", action="store_true", help="print only (use while tuning)")
    args = parser.parse_args()
    shared = shared_data_dir()
    started = time.perf_counter()
    settings, store, engine = open_bench(args.data_dir, shared)
    available = set(store.nct_ids())
    results = {}
    for year in args.years:
        results[year] = evaluate_year(year, engine, store, available, shared)
        print(f"{year}: {results[year][0]}", file=sys.stderr)
    report = table(results)
    print(report)
    elapsed = time.perf_counter() - started
    if args.no_write:
        return
    coverage = "\n".join(f"- {year}: {coverage}" for year, (coverage, _) in results.items())
    timing = "\n".join(
        f"- {year}: " + ", ".join(f"{name} {seconds / max(result['topics'], 1):.2f} s/topic"
                                  for name, seconds in result["timings"].items())
        for year, (_, result) in results.items())
    command = "`.venv/bin/python bench/trec_bench.py " + " ".join(sys.argv[1:]) + "`"
    write_result("trec", [
        ("Run", f"- command: {command}\n- bench store: {store.count()} studies in {args.data_dir}\n"
                f"- wall time: {elapsed:.0f} s\n\n{machine_markdown()}"),
        ("Coverage", coverage),
        ("Scores", report),
        ("Time per topic", timing),
        ("Notes", NOTES),
        ("What was tried", TUNING),
    ], title="TREC Clinical Trials 2021-2023 on the available trial texts", keep_earlier=True)


if __name__ == "__main__":
    main()
