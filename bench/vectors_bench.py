"""What the sentence vectors (index.vectors) cost: embedding studies, embedding notes, reading the cache.

Usage: .venv/bin/python bench/vectors_bench.py [--data-dir /tmp/trec-bench] [--studies 300] [--no-write]

The model is loaded first (its time and the growth of peak RSS). Then, on the TREC bench store (built by
bench/trec_bench.py on first use): `--studies` studies drawn at random (seed 0), embedded into a new, empty cache
file (the cost of a first match over them), then read back from that file (every later match); and each TREC 2021
topic note embedded as a note (sentence-aligned pieces, mean vector).
Needs the `embeddings` extra.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine_markdown, shared_data_dir, write_result  # noqa: E402
from trec_bench import open_bench  # noqa: E402
from trec_data import load_topics  # noqa: E402

from trialfinder.index.vectors import VECTORS_FILE, StudyVectors, shared_embedder, note_chunks, study_passage  # noqa: E402
from trialfinder.model import decode_study  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/trec-bench"))
    parser.add_argument("--studies", type=int, default=300)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    embedder = shared_embedder()
    load_seconds = time.perf_counter() - started
    model_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024  # ru_maxrss is in KiB
    if embedder is None:
        sys.exit("the embeddings extra is not installed: pip install -e '.[embeddings]'")
    shared = shared_data_dir()
    _, store, _ = open_bench(args.data_dir, shared)
    ids = sorted(store.nct_ids())
    chosen = random.Random(0).sample(ids, min(args.studies, len(ids)))
    raws = store.raws(chosen)
    studies = {nct_id: decode_study(raws[nct_id]) for nct_id in chosen}
    passage_chars = statistics.median(len(study_passage(study)) for study in studies.values())

    with tempfile.TemporaryDirectory() as scratch:
        vectors = StudyVectors(Path(scratch) / VECTORS_FILE, embedder)
        started = time.perf_counter()
        vectors.study_vectors(studies)
        first = time.perf_counter() - started
        started = time.perf_counter()
        vectors.study_vectors(studies)
        cached = time.perf_counter() - started
        size = sum(path.stat().st_size for path in Path(scratch).iterdir())  # with the write-ahead log

        notes = [topic.text for topic in load_topics(shared, 2021)]
        pieces = sum(len(note_chunks(note)) for note in notes)
        started = time.perf_counter()
        for note in notes:
            vectors.note_vector(note)
        note_seconds = time.perf_counter() - started

    count = len(studies)
    lines = [
        "| what | count | total | each |", "|---|---:|---:|---:|",
        f"| model loaded (once a process; peak RSS +{model_mib:.0f} MiB) | 1 | {load_seconds:.2f} s | |",
        f"| study embedded (empty cache; median passage {passage_chars:.0f} characters) | {count} | {first:.2f} s | "
        f"{first / count * 1000:.1f} ms |",
        f"| study read from the cache | {count} | {cached:.3f} s | {cached / count * 1000:.2f} ms |",
        f"| TREC 2021 note embedded ({pieces} pieces in all) | {len(notes)} | {note_seconds:.2f} s | "
        f"{note_seconds / len(notes) * 1000:.1f} ms |",
        f"| cache file size | {count} | {size / 1024:.0f} KiB | {size / count / 1024:.2f} KiB |",
    ]
    report = "\n".join(lines)
    print(report)
    if args.no_write:
        return
    command = "`.venv/bin/python bench/vectors_bench.py " + " ".join(sys.argv[1:]) + "`"
    write_result("vectors", [
        ("Run", f"- command: {command}\n- bench store: {store.count()} studies in {args.data_dir}\n\n"
                f"{machine_markdown()}"),
        ("Time", report),
    ], title="Sentence vectors: embedding and cache cost", keep_earlier=True)


if __name__ == "__main__":
    main()
