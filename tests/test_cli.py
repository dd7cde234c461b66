"""The CLI end to end on a real SQLite store, and its documentation."""

from __future__ import annotations

import json
from pathlib import Path

import click
import typer.main
from typer.testing import CliRunner

from trialfinder.cli.main import app

runner = CliRunner()
README = Path(__file__).resolve().parents[1] / "README.md"


def commands() -> dict[str, click.Command]:
    return typer.main.get_command(app).commands


def test_every_command_has_help_and_is_in_the_readme():
    readme = README.read_text()
    for name, command in commands().items():
        assert (command.help or "").strip(), f"`trialfinder {name}` has no help text"
        assert f"trialfinder {name}" in readme, f"`trialfinder {name}` is not documented in README.md"
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"option {param.opts} of `{name}` has no help"


def test_ingest_show_stats_rejects(tmp_path: Path):
    data = tmp_path / "data"
    records = tmp_path / "records.json"
    record = {"protocolSection": {
        "identificationModule": {"nctId": "NCT01234567", "briefTitle": "A test trial"},
        "statusModule": {"overallStatus": "RECRUITING"},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"]},
    }}
    records.write_text(json.dumps([record, {"protocolSection": {}}]))
    base = ["--data-dir", str(data)]
    result = runner.invoke(app, base + ["ingest", str(records)])
    assert result.exit_code == 0, result.output
    assert "added 1, updated 0, unchanged 0, rejected 1" in result.output

    shown = runner.invoke(app, base + ["show", "nct1234567"])
    assert shown.exit_code == 0 and "A test trial" in shown.output and "Phase 2" in shown.output
    raw = runner.invoke(app, base + ["show", "NCT01234567", "--json"])
    assert json.loads(raw.stdout) == record

    missing = runner.invoke(app, base + ["show", "NCT09999999"])
    assert missing.exit_code == 1

    stats = runner.invoke(app, base + ["stats", "--json"])
    figures = json.loads(stats.stdout)
    assert figures["studies"] == 1 and figures["by_status"] == {"RECRUITING": 1} and figures["rejects"] == 1

    listed = runner.invoke(app, base + ["rejects", "--json"])
    (line,) = listed.stdout.strip().splitlines()
    assert json.loads(line)["position"] == "[1]"


def test_strict_ingest_exits_non_zero(tmp_path: Path):
    records = tmp_path / "records.json"
    records.write_text("[{}]")
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "d"), "ingest", "--strict", str(records)])
    assert result.exit_code == 1
    assert "record without an NCT id" in result.output


def test_init_with_missing_source_fails(tmp_path: Path):
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "d"), "init", "--source", str(tmp_path / "nope")])
    assert result.exit_code == 1
