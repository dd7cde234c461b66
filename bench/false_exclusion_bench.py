"""How often the criteria rules exclude invented patients from trials of their own disease.

Usage: .venv/bin/python bench/false_exclusion_bench.py [--data-dir /tmp/trec-bench] [--no-write] [--note TEXT]

Each patient below is matched (match.assess) against every record of the TREC bench store (built by
bench/trec_bench.py on first use) whose condition names contain the patient's disease word. Reported per patient:
the studies, how many carry at least one hard criterion exclusion (a rule verdict "not met" that sinks the trial),
and the hard and soft "not met" criteria. The record's own age/sex fields are left out: they are not read from text.
A hard exclusion can be right (a HER2-positive trial for a HER2-negative patient); these counts are where to look
for wrong ones, read by hand. The first three patients were used to find such errors; the prostate patient was not.
To compare with older code, run this file with PYTHONPATH pointing at that code's src/.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine_markdown, shared_data_dir, write_result  # noqa: E402
from trec_bench import open_bench  # noqa: E402

from trialfinder.match import as_patient, assess  # noqa: E402
from trialfinder.model import decode_study  # noqa: E402

PATIENTS = {
    "breast (development)": (
        "breast", "58-year-old woman with metastatic breast cancer, ER-positive, HER2-negative. No prior chemotherapy. "
        "No brain metastases. ECOG 1. Creatinine 0.9 mg/dL, bilirubin 0.6 mg/dL, platelets 250,000/uL. Not pregnant."),
    "diabetes (development)": (
        "diabet", "45-year-old man with type 2 diabetes on metformin, HbA1c 8.1%, BMI 31 kg/m2. No history of heart "
        "disease. Nonsmoker. Blood pressure 132/84."),
    "lung (development)": (
        "lung", "66-year-old man with metastatic non-small cell lung cancer, adenocarcinoma, EGFR exon 19 deletion, "
        "progressed on osimertinib. Prior carboplatin and pemetrexed completed 3 months ago. No brain metastases. "
        "ECOG 1. Creatinine 1.0 mg/dL. Former smoker."),
    "prostate (held out)": (
        "prostate", "67-year-old man with metastatic castration-resistant prostate cancer, progressing on enzalutamide. "
        "PSA 24 ng/mL. Prior docetaxel finished 6 months ago. No brain metastases. ECOG 1. Hemoglobin 12.1 g/dL, "
        "creatinine 1.1 mg/dL."),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/trec-bench"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--note", default="", help="what this run measures (e.g. the code it ran)")
    args = parser.parse_args()
    _, store, _ = open_bench(args.data_dir, shared_data_dir())
    started = time.perf_counter()
    studies = [decode_study(raw) for _, raw in store.iter_raw()]
    lines = ["| patient | studies | with a hard exclusion | hard not-met criteria | soft not-met criteria |",
             "|---|---:|---:|---:|---:|"]
    for name, (word, note) in PATIENTS.items():
        patient = as_patient(note)
        chosen = [s for s in studies if any(word in c.lower() for c in s.conditions.conditions)]
        excluded = hard = soft = 0
        for study in chosen:
            failed = [v for v in assess(study, patient) if v.source != "structured" and v.status == "not_met"]
            hard += sum(v.hard for v in failed)
            soft += sum(not v.hard for v in failed)
            excluded += any(v.hard for v in failed)
        lines.append(f"| {name} | {len(chosen)} | {excluded} | {hard} | {soft} |")
        print(lines[-1], flush=True)
    if args.no_write:
        return
    command = "`.venv/bin/python bench/false_exclusion_bench.py " + " ".join(sys.argv[1:]) + "`"
    run = f"- command: {command}\n- bench store: {store.count()} studies in {args.data_dir}\n"
    if args.note:
        run += f"- note: {args.note}\n"
    run += f"- wall time: {time.perf_counter() - started:.0f} s\n\n{machine_markdown()}"
    write_result("false_exclusions", [("Run", run), ("Counts", "\n".join(lines))],
                 title="Criteria exclusions of invented patients from trials of their own disease", keep_earlier=True)


if __name__ == "__main__":
    main()
