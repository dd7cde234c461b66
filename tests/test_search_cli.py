"""`trialfinder search` and `trialfinder index` on the real corpus."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from test_search_support import APAP_ID, real_corpus
from trialfinder.cli.main import app


@pytest.fixture(scope="module")
def cli(shared_data, tmp_path_factory):
    settings, store, engine = real_corpus(shared_data, tmp_path_factory.getbasetemp() / "search-corpus")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url,
                                   *args])
    return invoke


def test_search_json_lines(cli):
    result = cli("search", "aPAP", "--json", "--limit", "3")
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert APAP_ID in [hit["nct_id"] for hit in hits]


def test_filters_as_people_write_them(cli):
    spelled = cli("search", "cancer", "--status", "recruiting", "--phase", "phase 2", "--sex", "female", "--json",
                  "--limit", "50")
    api = cli("search", "cancer", "--status", "RECRUITING", "--phase", "PHASE2", "--sex", "FEMALE", "--json",
              "--limit", "50")
    assert spelled.exit_code == api.exit_code == 0
    assert spelled.stdout == api.stdout and spelled.stdout


def test_near_a_place_with_a_table(cli):
    result = cli("search", "--near", "Boston, MA", "--radius", "25mi", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "studies within" in result.stdout and "Boston" in result.stdout


def test_unknown_place_and_value_explain_themselves(cli):
    place = cli("search", "cancer", "--near", "Bostonx")
    assert place.exit_code == 1 and "Boston, Massachusetts" in place.output
    status = cli("search", "cancer", "--status", "recruting")
    assert status.exit_code == 1 and "RECRUITING" in status.output


def test_index_command_and_help(cli):
    assert cli("index").exit_code == 0
    for command in ("search", "index"):
        help_text = cli(command, "--help")
        assert help_text.exit_code == 0 and help_text.stdout.strip()
