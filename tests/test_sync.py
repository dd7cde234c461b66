"""Live sync against a fake ClinicalTrials.gov: paging, incremental runs, failures, resume, and a killed process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import stamina

from fake_ctgov import FakeClock, FakeRegistry, load_v2_studies
from trialfinder.ctgov import CtgovClient
from trialfinder.ingest.sync import SyncError, SyncOptions, request_params, run_sync
from trialfinder.store import Store


@pytest.fixture(scope="module")
def studies(shared_data: Path) -> list[dict]:
    return load_v2_studies(shared_data / "ctgov" / "v2_json")


@pytest.fixture(autouse=True)
def no_backoff():
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


def client_for(registry: FakeRegistry, max_attempts: int = 4) -> CtgovClient:
    clock = FakeClock()
    return CtgovClient(transport=registry.transport(clock), clock=clock, sleep=clock.sleep, max_attempts=max_attempts)


def expected_ids(studies: list[dict]) -> set[str]:
    return {s["protocolSection"]["identificationModule"]["nctId"] for s in studies}


def test_full_sync_pages_through_everything(store, studies):
    registry = FakeRegistry(studies, page_size=100)
    result = run_sync(store, client_for(registry), SyncOptions(full=True))
    assert set(store.nct_ids()) == expected_ids(studies)
    assert result.pages == -(-len(studies) // 100)
    assert result.counts.added == len(studies)
    (run,) = store.sync_runs()
    assert run["state"] == "succeeded" and run["added"] == len(studies) and run["next_page_token"] is None


def test_incremental_sync_asks_only_for_updates_since_last_success(store, studies):
    registry = FakeRegistry(studies, page_size=200)
    run_sync(store, client_for(registry), SyncOptions(full=True))
    again = run_sync(store, client_for(registry), SyncOptions())
    term = registry.requests[-1].url.params["query.term"]
    assert term.startswith("AREA[LastUpdatePostDate]RANGE[") and term.endswith(",MAX]")
    assert again.counts.added == 0 and again.counts.updated == 0


def test_narrowing_options_become_api_parameters():
    params = request_params(SyncOptions(statuses=["RECRUITING", "NOT_YET_RECRUITING"], condition="asthma",
                                        query="inhaler"), since="2025-01-31")
    assert params == {"query.term": "(inhaler) AND AREA[LastUpdatePostDate]RANGE[2025-01-31,MAX]",
                      "query.cond": "asthma", "filter.overallStatus": "RECRUITING,NOT_YET_RECRUITING"}


def test_transient_failures_are_retried(store, studies):
    failures = [429, None, 500, httpx.ConnectError("connection dropped"), None, httpx.RemoteProtocolError("eof")]
    registry = FakeRegistry(studies, page_size=100, failures=failures)
    run_sync(store, client_for(registry), SyncOptions(full=True))
    assert store.count() == len(expected_ids(studies))


def test_failed_sync_is_recorded_and_resumed_without_loss_or_duplicates(store, studies):
    # Two pages succeed, then the registry is down longer than the client retries.
    registry = FakeRegistry(studies, page_size=100, failures=[None, None] + [503] * 4)
    with pytest.raises(SyncError, match="after 2 pages"):
        run_sync(store, client_for(registry), SyncOptions(full=True))
    (failed,) = store.sync_runs()
    assert failed["state"] == "failed" and "503" in failed["error"] and failed["next_page_token"]
    assert store.count() == 200

    resumed = run_sync(store, client_for(registry), SyncOptions(full=True))
    assert resumed.resumed and resumed.run_id == failed["id"]
    assert set(store.nct_ids()) == expected_ids(studies)
    first_page_requests = [r for r in registry.requests if "pageToken" not in r.url.params]
    assert len(first_page_requests) == 1 + 0, "the resumed run starts from the saved token, not page one"
    assert store.sync_runs()[0]["added"] == len(studies)


def test_malformed_page_stops_cleanly(store, studies):
    registry = FakeRegistry(studies, page_size=100, failures=[None] + [FakeRegistry.html_page()] * 4)
    with pytest.raises(SyncError, match="after 1 pages"):
        run_sync(store, client_for(registry), SyncOptions(full=True))
    assert store.count() == 100


class _LoopbackRegistry(BaseHTTPRequestHandler):
    """Serves a FakeRegistry over real HTTP on loopback, slowly, so a sync can be killed mid-run."""

    registry: FakeRegistry

    def do_GET(self):  # noqa: N802
        time.sleep(0.3)
        request = httpx.Request("GET", f"http://127.0.0.1{self.path}")
        response = self.registry.handler(request)
        body = response.content
        self.send_response(response.status_code)
        self.send_header("Content-Type", response.headers.get("content-type", "application/json"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_killed_sync_process_resumes(database_url: str, studies, tmp_path: Path):
    handler = type("Handler", (_LoopbackRegistry,), {"registry": FakeRegistry(studies, page_size=50)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = os.environ | {"TRIALFINDER_CTGOV_URL": f"http://127.0.0.1:{server.server_port}",
                        "TRIALFINDER_CTGOV_RPM": "6000"}
    command = [sys.executable, "-m", "trialfinder", "--data-dir", str(tmp_path / "d"), "--database-url",
               database_url, "sync", "--full"]
    store = Store.open(database_url)
    try:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while store.count() < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        landed = store.count()
        assert 100 <= landed < len(studies)
        assert landed % 50 == 0, "pages are committed whole"
        finished = subprocess.run(command, env=env, capture_output=True, timeout=300)
        assert finished.returncode == 0, finished.stderr.decode()
        assert "resumed" in finished.stdout.decode()
        assert set(store.nct_ids()) == expected_ids(studies)
    finally:
        server.shutdown()
        store.close()
