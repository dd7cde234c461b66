"""Mine the condition/therapy vocabulary that eligibility extraction ships with, from real registry records.

Usage: .venv/bin/python bench/mine_eligibility_terms.py [PATH ...] [--out FILE]
Defaults to every record under the shared data (v2 JSON, legacy XML, the TrialGPT texts as v2) and writes
src/trialfinder/eligibility/mined_terms.json. Names come from the records' MeSH terms (condition and intervention,
with ancestors) and one-word drug or biological intervention names that carry a drug stem.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from typing import TYPE_CHECKING

from trialfinder.ingest.readers import Record, read_paths
from trialfinder.model import Study

if TYPE_CHECKING:
    from trialfinder.eligibility.vocabulary import Vocabulary

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import shared_data_dir  # noqa: E402


def default_paths() -> list[Path]:
    """The shared data folders holding study records."""
    root = shared_data_dir()
    return [root / "ctgov", root / "trialgpt_trial_texts" / "as_ctgov_v2.json"]


def studies(paths: list[Path], exclude: frozenset[str] = frozenset()) -> Iterator[Study]:
    """Every readable study under the paths, first record per NCT id, skipping excluded ids."""
    seen: set[str] = set(exclude)
    for item in read_paths(list(paths)):
        if isinstance(item, Record) and item.study.nct_id not in seen:
            seen.add(item.study.nct_id)
            yield item.study


def mine(paths: list[Path] | None = None, exclude: frozenset[str] = frozenset()) -> Vocabulary:
    """The vocabulary of the records under paths (default: the shared data), leaving out excluded studies."""
    from trialfinder.eligibility.vocabulary import mine_vocabulary

    return mine_vocabulary(studies(paths or default_paths(), exclude))


def main(argv: list[str] | None = None) -> int:
    """Mine and write the vocabulary file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="default: the vocabulary file trialfinder ships")
    args = parser.parse_args(argv)
    from trialfinder.eligibility.vocabulary import DEFAULT_VOCABULARY_FILE, save_vocabulary

    vocabulary = mine(args.paths or None)
    out = args.out or DEFAULT_VOCABULARY_FILE
    save_vocabulary(vocabulary, out)
    kinds = [kind for kind, _ in vocabulary.terms.values()]
    print(f"{len(vocabulary)} names ({kinds.count('condition')} conditions, {kinds.count('therapy')} therapies) "
          f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
