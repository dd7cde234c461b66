"""Several web nodes, one PostgreSQL store: a study written through one node shows up in search on the other,
because every `trialfinder serve --follow` keeps its own index up to date from the store's change counter."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fake_ctgov import load_v2_studies

FOLLOW_DEADLINE_SECONDS = 30
NEW_STUDY_ID = "NCT09876543"
UNIQUE_WORD = "zyxquorbital"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def trialfinder(data_dir: Path, database_url: str, *args: str) -> list[str]:
    """The command line of `trialfinder` with this node's data dir and the shared store."""
    return [sys.executable, "-m", "trialfinder", "--data-dir", str(data_dir), "--database-url", database_url, *args]


@contextmanager
def serving_node(data_dir: Path, database_url: str, log: Path, *extra: str) -> Iterator[str]:
    """A real `trialfinder serve --follow` process on a free loopback port; yields its base URL."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            trialfinder(data_dir, database_url, "serve", "--port", str(port), "--follow", *extra),
            stdout=output, stderr=subprocess.STDOUT, env=os.environ | {"TRIALFINDER_LOG_FORMAT": "json"})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base + "/healthz"), 120, f"{base} never answered; log:\n{log.read_text()}")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(condition, seconds: float, message: str) -> float:
    """Poll condition until it holds; the seconds it took, or fail with message."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(message)


def new_study(template: dict) -> dict:
    """A copy of a real study under a new NCT id, titled with a word no other study has."""
    study = json.loads(json.dumps(template))
    identification = study["protocolSection"]["identificationModule"]
    identification["nctId"] = NEW_STUDY_ID
    identification["briefTitle"] = f"The {UNIQUE_WORD} trial of follow-on indexing"
    study["protocolSection"]["statusModule"]["overallStatus"] = "RECRUITING"  # the website's default filter
    return study


def test_a_study_written_through_one_node_is_found_on_the_other(postgres_url: str, shared_data: Path,
                                                                  tmp_path: Path):
    studies = load_v2_studies(shared_data / "ctgov" / "v2_json")
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(studies[:50]))
    node_a, node_b = tmp_path / "node-a", tmp_path / "node-b"
    loaded = subprocess.run(trialfinder(node_a, postgres_url, "ingest", str(seed)), capture_output=True, timeout=300, check=False)
    assert loaded.returncode == 0, loaded.stderr.decode()

    with serving_node(node_a, postgres_url, tmp_path / "a.log", "--follow-interval", "0.5") as a, \
            serving_node(node_b, postgres_url, tmp_path / "b.log", "--follow-interval", "0.5") as b:
        for base in (a, b):
            assert httpx.get(base + "/readyz").status_code == 200
        assert httpx.get(b + "/api/search", params={"q": UNIQUE_WORD}).json()["total"] == 0

        record = tmp_path / "new-study.json"
        record.write_text(json.dumps(new_study(studies[60])))
        written = subprocess.run(trialfinder(node_a, postgres_url, "ingest", str(record)), capture_output=True,
                                 timeout=300, check=False)
        assert written.returncode == 0, written.stderr.decode()

        def caught_up() -> bool:
            ready = httpx.get(b + "/readyz").json()
            return ready["lag"] == 0 and ready["change_counter"] == ready["index_seq"] >= 51

        # /readyz never searches, so only node b's follower can have brought its index up to date.
        took = wait_until(caught_up, FOLLOW_DEADLINE_SECONDS,
                          f"node b did not follow the store; log:\n{(tmp_path / 'b.log').read_text()[-3000:]}")
        found = httpx.get(b + "/api/search", params={"q": UNIQUE_WORD}).json()
        assert [hit["nct_id"] for hit in found["hits"]] == [NEW_STUDY_ID]
        page = httpx.get(b + "/search", params={"q": UNIQUE_WORD})
        assert page.status_code == 200 and NEW_STUDY_ID in page.text
        metrics = httpx.get(b + "/metrics").text
        assert "trialfinder_index_lag 0.0" in metrics
        print(f"node b served the new study {took:.1f} s after the write")

    log_lines = [json.loads(line) for line in (tmp_path / "b.log").read_text().splitlines() if line.startswith("{")]
    assert any(line["event"] == "index refreshed" and line["changes_applied"] == 1 for line in log_lines)
    requests = [line for line in log_lines if line["event"] == "request"]
    assert requests and all({"time", "level", "request_id", "path", "status", "duration_ms"} <= set(line)
                            for line in requests)
