"""How the time to read a patient's note and match it grows with the note's length.

Usage: .venv/bin/python bench/note_length_bench.py [--data-dir /tmp/trec-bench] [--lengths 2000 8000 32000] [--no-write]

Notes of each length are cut from the TREC 2021 topics laid end to end (real clinical text, repeated as needed).
For each: the words query (match.queries.key_words: every word's negation context), the patient profile
(match.as_patient: the eligibility extraction over the note) and, on the TREC bench store (built by
bench/trec_bench.py on first use), one whole match_patient call. Best of three runs each, each on a new variant of the note (no cache helps).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine_markdown, shared_data_dir, write_result  # noqa: E402
from trec_bench import open_bench  # noqa: E402
from trec_data import load_topics  # noqa: E402

from trialfinder.match import as_patient, match_patient  # noqa: E402
from trialfinder.match.queries import key_words  # noqa: E402

REPEATS = 3


def best_of(call, note: str) -> float:
    """The fastest of REPEATS runs, in seconds (the machine is shared: the best run is the least disturbed); each
    run gets a slightly different note, so that nothing cached from the run before is reused."""
    times = []
    for run in range(REPEATS):
        variant = f"Visit {run + 1}. {note}"
        started = time.perf_counter()
        call(variant)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/trec-bench"))
    parser.add_argument("--lengths", type=int, nargs="+", default=[2000, 8000, 20000, 32000])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    shared = shared_data_dir()
    _, store, engine = open_bench(args.data_dir, shared)
    corpus = " ".join(topic.text for topic in load_topics(shared, 2021))
    lines = ["| note characters | key_words | as_patient | match_patient (top 20) |", "|---:|---:|---:|---:|"]
    for length in args.lengths:
        note = (corpus * (length // len(corpus) + 1))[:length]
        row = [best_of(key_words, note), best_of(as_patient, note),
               best_of(lambda text: match_patient(engine, store, text), note)]
        lines.append(f"| {length:,} | " + " | ".join(f"{seconds:.2f} s" for seconds in row) + " |")
        print(lines[-1], flush=True)
    if args.no_write:
        return
    command = "`.venv/bin/python bench/note_length_bench.py " + " ".join(sys.argv[1:]) + "`"
    write_result("note_length", [
        ("Run", f"- command: {command}\n- bench store: {store.count()} studies in {args.data_dir}\n\n"
                f"{machine_markdown()}"),
        ("Seconds, best of three", "\n".join(lines)),
    ], title="Note length: time to read and match a patient's note", keep_earlier=True)


if __name__ == "__main__":
    main()
