"""`trialfinder match` end to end on a store ingested from the 990 TrialGPT trial texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialfinder.cli.main import app

runner = CliRunner()
LUNG_PATIENT = ("62-year-old woman with metastatic non-small cell lung cancer, EGFR exon 19 deletion, "
                "progressing after osimertinib. ECOG 1. No history of diabetes. Not pregnant.")


@pytest.fixture(scope="module")
def data_dir(shared_data: Path, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("match-cli")
    source = shared_data / "trialgpt_trial_texts" / "as_ctgov_v2.json"
    result = runner.invoke(app, ["--data-dir", str(directory), "ingest", str(source)])
    assert result.exit_code == 0, result.output
    assert "added 990" in result.output
    return directory


def run(data_dir: Path, *args: str):
    return runner.invoke(app, ["--data-dir", str(data_dir), "match", *args])


def test_match_text_file_json(data_dir: Path, tmp_path: Path):
    patient = tmp_path / "patient.txt"
    patient.write_text(LUNG_PATIENT)
    result = run(data_dir, str(patient), "--json", "--limit", "5")
    assert result.exit_code == 0, result.output
    matches = json.loads(result.stdout)
    assert len(matches) == 5
    scores = [m["score"] for m in matches]
    assert scores == sorted(scores, reverse=True)
    # the best matches are lung cancer trials, and every verdict carries its criterion and reason
    assert sum("lung" in " ".join(m["conditions"] + [m["title"]]).lower() for m in matches) >= 4
    verdicts = [v for m in matches for v in m["verdicts"]]
    assert verdicts and all(v["criterion"] and v["reason"] and v["status"] in {"met", "not_met", "unknown"}
                            for v in verdicts)
    assert any(v["status"] == "met" and v["evidence"] for v in verdicts)


def test_match_table_output(data_dir: Path, tmp_path: Path):
    patient = tmp_path / "patient.txt"
    patient.write_text(LUNG_PATIENT)
    result = run(data_dir, str(patient), "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "NCT" in result.output and "score" in result.output


def test_match_json_patient_and_among(data_dir: Path, tmp_path: Path):
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps({"age": 8, "sex": "male", "conditions": ["non-small cell lung cancer"]}))
    first = json.loads(run(data_dir, str(patient), "--json", "--limit", "3").stdout)
    assert first, "structured conditions alone are enough to search"
    ids = [first[0]["nct_id"], "NCT00000000", "nct" + first[-1]["nct_id"][3:]]
    among = tmp_path / "ids.txt"
    among.write_text("\n".join(ids[:1] + ids[2:]))
    result = run(data_dir, str(patient), "--json", "--among", str(among))
    assert result.exit_code == 0, result.output
    ranked = json.loads(result.stdout)
    assert sorted(m["nct_id"] for m in ranked) == sorted({first[0]["nct_id"], first[-1]["nct_id"]})
    # an 8-year-old is outside every adult trial's age range
    assert all(m["excluded"] for m in ranked if any(v["source"] == "structured" and v["status"] == "not_met"
                                                    for v in m["verdicts"]))


def test_match_errors(data_dir: Path, tmp_path: Path):
    assert run(data_dir, str(tmp_path / "missing.txt")).exit_code != 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"age": "very old"}')
    result = run(data_dir, str(bad))
    assert result.exit_code != 0 and "age" in result.output
    ids = tmp_path / "ids.txt"
    ids.write_text("banana")
    patient = tmp_path / "p.txt"
    patient.write_text(LUNG_PATIENT)
    assert run(data_dir, str(patient), "--among", str(ids)).exit_code != 0
