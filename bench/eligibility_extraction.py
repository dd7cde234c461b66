"""Score extract_constraints against the hand-labelled criteria in tests/data/eligibility_labels.jsonl.

Usage: .venv/bin/python bench/eligibility_extraction.py [--labels PATH] [--out PATH]
Writes a Markdown report with per-type precision/recall (micro-averaged, one-to-one greedy matching).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from trialfinder.eligibility import extract_constraints
from trialfinder.eligibility.model import (
    Constraint,
    MentionConstraint,
    PerformanceConstraint,
    SexConstraint,
    ThresholdConstraint,
    TimeWindowConstraint,
)
from trialfinder.eligibility.terms import concept_of, normalize_term

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = REPO_ROOT / "tests" / "data" / "eligibility_labels.jsonl"
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "eligibility_extraction.md"
DAYS_PER_UNIT = {"hours": 1 / 24, "days": 1, "weeks": 7, "months": 30.44, "years": 365.25}


def load_labels(path: Path = DEFAULT_LABELS) -> list[dict[str, Any]]:
    """Read the JSONL label file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _close(a: float | None, b: float | None, tolerance: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def _age_bounds(constraint: ThresholdConstraint) -> tuple[float | None, float | None]:
    if constraint.comparator == "between":
        return constraint.value, constraint.value_high
    if constraint.comparator in {">", ">="}:
        return constraint.value, None
    return None, constraint.value


def _terms_match(expected: str, constraint: MentionConstraint) -> bool:
    wanted = normalize_term(expected)
    got = {normalize_term(constraint.term)}
    if constraint.concept:
        got.add(normalize_term(constraint.concept))
    wanted_concept = concept_of(expected, constraint.type)
    if wanted_concept and wanted_concept == constraint.concept:
        return True
    # Forgive a shorter or longer wording of the same mention ("live vaccine" vs "vaccine").
    return any(wanted == g or f" {g} " in f" {wanted} " or f" {wanted} " in f" {g} " for g in got)


def matches(expected: dict[str, Any], constraint: Constraint) -> bool:
    """Whether an extracted constraint matches one labelled constraint (type, polarity and key fields)."""
    if expected["type"] != constraint.type or expected["polarity"] != constraint.polarity:
        return False
    kind = expected["type"]
    if kind == "age" and isinstance(constraint, ThresholdConstraint):
        low, high = _age_bounds(constraint)
        return _close(expected["min"], low, 0.01) and _close(expected["max"], high, 0.01)
    if kind == "sex" and isinstance(constraint, SexConstraint):
        return expected["sex"] == constraint.sex
    if kind == "lab" and isinstance(constraint, ThresholdConstraint):
        return (
            expected["analyte"] == constraint.analyte
            and expected["comparator"] == constraint.comparator
            and _close(expected["value"], constraint.value, 1e-4)
        )
    if kind == "performance" and isinstance(constraint, PerformanceConstraint):
        top = 100.0 if constraint.scale == "karnofsky" else 5.0
        floor = None if constraint.scale == "karnofsky" else 0.0

        def bounds(low: float | None, high: float | None) -> tuple[float | None, float]:
            return (floor if low is None else low), (top if high is None else high)

        return expected["scale"] == constraint.scale and bounds(expected["min"], expected["max"]) == bounds(
            constraint.min_score, constraint.max_score
        )
    if kind == "time_window" and isinstance(constraint, TimeWindowConstraint):
        days = expected["amount"] * DAYS_PER_UNIT[expected["unit"]]
        return expected["relation"] == constraint.relation and abs(days - constraint.days) <= 0.02 * days + 0.01
    if kind in {"condition", "therapy"} and isinstance(constraint, MentionConstraint):
        return _terms_match(expected["term"], constraint)
    return kind in {"pregnancy", "breastfeeding"}


def score(labels: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per-type and overall true positives, false positives, false negatives, precision and recall."""
    true_pos: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()
    false_neg: Counter[str] = Counter()
    for row in labels:
        extracted = extract_constraints(row["text"], row["kind"])
        unmatched = list(extracted)
        for expected in row["expected"]:
            hit = next((c for c in unmatched if matches(expected, c)), None)
            if hit is None:
                false_neg[expected["type"]] += 1
            else:
                true_pos[expected["type"]] += 1
                unmatched.remove(hit)
        for constraint in unmatched:
            false_pos[constraint.type] += 1
    results: dict[str, dict[str, float]] = {}
    for kind in sorted(set(true_pos) | set(false_pos) | set(false_neg)) + ["overall"]:
        tp = sum(true_pos.values()) if kind == "overall" else true_pos[kind]
        fp = sum(false_pos.values()) if kind == "overall" else false_pos[kind]
        fn = sum(false_neg.values()) if kind == "overall" else false_neg[kind]
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        results[kind] = {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}
    return results


def render(results: dict[str, dict[str, float]], labels: list[dict[str, Any]], command: str) -> str:
    """The Markdown report."""
    uname = " ".join(platform.uname())
    try:
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    lines = [
        "# Eligibility constraint extraction: precision / recall",
        "",
        f"- date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: `{uname}`, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"- command: `{command}`",
        f"- labels: {len(labels)} hand-labelled criteria from real ClinicalTrials.gov records "
        f"({sum(len(r['expected']) for r in labels)} expected constraints; "
        f"{sum(1 for r in labels if not r['expected'])} criteria with none)",
        "- matching: same type and polarity plus key fields (age bounds; lab analyte, comparator, value; "
        "performance scale and range; window relation and length; condition/therapy term or lexicon concept)",
        "",
        "| type | TP | FP | FN | precision | recall | F1 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, row in results.items():
        name = f"**{kind}**" if kind == "overall" else kind
        lines.append(
            f"| {name} | {row['tp']} | {row['fp']} | {row['fn']} | {row['precision']:.3f} | "
            f"{row['recall']:.3f} | {row['f1']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Score, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    labels = load_labels(args.labels)
    results = score(labels)
    command = " ".join([".venv/bin/python", "bench/eligibility_extraction.py", *(argv if argv is not None else sys.argv[1:])])
    report = render(results, labels, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
