"""Faults with real processes: a registry that drops connections, hangs or fails for a while, a disk that fills
up under sync and ingest, and web serving while the index is rebuilt or a sync fails.

Every failing run must stop cleanly (non-zero exit, one clear line naming the cause, no traceback, a consistent
store) and the next run must finish the job without losing or duplicating a study.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from conftest import require
from fake_ctgov import FakeRegistry, load_v2_studies

from trialfinder.store import Store

PAGE_SIZE = 50
CLIENT_TIMEOUT_SECONDS = 1.0
HANG_SECONDS = 3.0
SMALL_DISK = "8m"

# `python -m trialfinder ...` with test timings: no backoff between retries and a short read timeout, so a
# hanging registry costs seconds, not minutes. Everything else is the real command line.
CLI_WITH_TEST_TIMINGS = """
import runpy, sys
import stamina
import trialfinder.ctgov.client as client
stamina.set_testing(True, attempts=int(sys.argv.pop(1)))
client.CtgovClient.__init__.__kwdefaults__["timeout"] = float(sys.argv.pop(1))
runpy.run_module("trialfinder", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def studies(shared_data: Path) -> list[dict]:
    return load_v2_studies(shared_data / "ctgov" / "v2_json")


def ids_of(studies: list[dict]) -> set[str]:
    return {s["protocolSection"]["identificationModule"]["nctId"] for s in studies}


# a registry on loopback whose answers a test scripts --------------------------------------------------------


class ScriptedRegistry:
    """A FakeRegistry over real HTTP; each request first takes the next scripted fault ("ok", "close", "hang", or
    an HTTP status), then is answered normally."""

    def __init__(self, studies: list[dict]) -> None:
        self.registry = FakeRegistry(studies, page_size=PAGE_SIZE)
        self.script: deque[str | int] = deque()
        self.served = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fault = outer.script.popleft() if outer.script else "ok"
                if fault == "close":
                    self.close_connection = True
                    return  # no status line: the client sees the connection drop
                if fault == "hang":
                    time.sleep(HANG_SECONDS)
                    self.close_connection = True
                    return
                if isinstance(fault, int):
                    self._reply(fault, b"scripted outage", "text/plain")
                    return
                response = outer.registry.handler(httpx.Request("GET", f"http://127.0.0.1{self.path}"))
                outer.served += 1
                self._reply(response.status_code, response.content, response.headers.get("content-type", ""))

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted_registry(studies) -> Iterator[ScriptedRegistry]:
    registry = ScriptedRegistry(studies)
    yield registry
    registry.close()


def run_cli(data_dir: Path, database_url: str | None, *args: str, registry: ScriptedRegistry | None = None,
            attempts: int = 3, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `trialfinder` (with test timings) as a separate process; text output."""
    store_args = ["--database-url", database_url] if database_url else []
    env = os.environ | {"TRIALFINDER_CTGOV_RPM": "100000", "COLUMNS": "200"}
    if registry is not None:
        env["TRIALFINDER_CTGOV_URL"] = registry.url
    command = [sys.executable, "-c", CLI_WITH_TEST_TIMINGS, str(attempts), str(CLIENT_TIMEOUT_SECONDS),
               "--data-dir", str(data_dir), *store_args, *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def assert_clean_failure(result: subprocess.CompletedProcess, *causes: str) -> None:
    """Non-zero exit, a short error naming every cause, and no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and "╭" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if "error:" in line.lower()]
    assert errors, result.stderr[-3000:]
    for cause in causes:
        assert cause.lower() in result.stderr.lower(), result.stderr[-3000:]


# the network ------------------------------------------------------------------------------------------------


@pytest.fixture
def few_studies(studies) -> list[dict]:
    """Enough for several pages, few enough that each run is quick."""
    return studies[:250]


@pytest.fixture
def few_registry(few_studies) -> Iterator[ScriptedRegistry]:
    registry = ScriptedRegistry(few_studies)
    yield registry
    registry.close()


# Every fault on SQLite; one on PostgreSQL too (its resume path is the same code, and each run costs seconds).
@pytest.mark.parametrize(("backend", "fault", "named_as"), [
    ("sqlite", "close", "RemoteProtocolError"), ("sqlite", "hang", "ReadTimeout"), ("sqlite", 503, "HTTP 503"),
    ("postgresql", "close", "RemoteProtocolError"),
])
def test_sync_stops_cleanly_on_network_faults_and_resumes(request, few_studies, few_registry, tmp_path, backend,
                                                          fault, named_as):
    database_url = (f"sqlite:///{tmp_path / 'store.sqlite3'}" if backend == "sqlite"
                    else request.getfixturevalue("postgres_url"))
    few_registry.script.extend(["ok", "ok", "ok"] + [fault] * 3)  # 3 pages, then more faults than retries
    failed = run_cli(tmp_path / "d", database_url, "sync", "--full", registry=few_registry)
    assert_clean_failure(failed, named_as, "sync stopped after 3 pages", "again to resume")
    store = Store.open(database_url)
    try:
        assert store.count() == 3 * PAGE_SIZE
        (run,) = store.sync_runs()
        assert run["state"] == "failed" and run["next_page_token"]

        resumed = run_cli(tmp_path / "d", database_url, "sync", "--full", registry=few_registry)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "resumed" in resumed.stdout
        assert set(store.nct_ids()) == ids_of(few_studies) and store.count() == len(few_studies)
        (run,) = store.sync_runs()
        assert run["state"] == "succeeded" and run["added"] == len(few_studies) and run["updated"] == 0
    finally:
        store.close()


def test_a_registry_failing_for_a_while_is_ridden_out_by_retries(tmp_path, few_studies, few_registry):
    # Each outage is shorter than the retries (3 attempts), so one run gets everything.
    few_registry.script.extend(["ok", 500, 502, "ok", "close", 503, "ok", 429, "hang"])
    result = run_cli(tmp_path / "d", None, "sync", "--full", registry=few_registry)
    assert result.returncode == 0, result.stderr[-3000:]
    store = Store.open(f"sqlite:///{tmp_path / 'd' / 'trialfinder.sqlite3'}")
    try:
        assert store.count() == len(few_studies)
    finally:
        store.close()


# a full disk ------------------------------------------------------------------------------------------------


@contextmanager
def small_disk(size: str = SMALL_DISK) -> Iterator[Path]:
    """A tmpfs of `size` mounted on a fresh directory (needs root; under CI this must work)."""
    mount_point = Path(tempfile.mkdtemp(prefix="tf-small-disk-"))
    mounted = shutil.which("mount") is not None and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], capture_output=True, check=False).returncode == 0
    if not mounted:
        mount_point.rmdir()
        require(False, "cannot mount a tmpfs here (needs root)")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)
        mount_point.rmdir()


def grow_disk(mount_point: Path, size: str = "128m") -> None:
    """Free space the way an operator would: here, by growing the tmpfs."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount_point)], check=True)


def assert_store_consistent(data_dir: Path) -> int:
    """SQLite's own integrity check passes and every study row has its change log entry; the study count."""
    with sqlite3.connect(data_dir / "trialfinder.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        studies = db.execute("SELECT count(*) FROM studies").fetchone()[0]
        logged = db.execute("SELECT count(DISTINCT nct_id) FROM changes").fetchone()[0]
        assert logged >= studies
        return studies


def test_sync_on_a_full_disk_stops_cleanly_and_resumes_after_space_is_freed(studies, scripted_registry):
    with small_disk() as disk:
        data_dir = disk / "data"
        full = run_cli(data_dir, None, "sync", "--full", registry=scripted_registry)
        assert_clean_failure(full, "disk is full")
        kept = assert_store_consistent(data_dir)
        assert 0 < kept < len(studies), "the disk filled part-way through"

        grow_disk(disk)
        resumed = run_cli(data_dir, None, "sync", "--full", registry=scripted_registry)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert assert_store_consistent(data_dir) == len(studies)
        store = Store.open(f"sqlite:///{data_dir / 'trialfinder.sqlite3'}")
        try:
            assert set(store.nct_ids()) == ids_of(studies)
        finally:
            store.close()


def test_ingest_on_a_full_disk_stops_cleanly_and_a_rerun_completes(studies, tmp_path):
    records = tmp_path / "records.json"
    records.write_text(json.dumps(studies))
    with small_disk() as disk:
        data_dir = disk / "data"
        full = run_cli(data_dir, None, "ingest", str(records))
        assert_clean_failure(full, "disk is full")
        assert full.returncode == 74, "EX_IOERR, so scripts can tell a full disk from bad input"
        assert assert_store_consistent(data_dir) < len(studies)

        grow_disk(disk)
        rerun = run_cli(data_dir, None, "ingest", str(records))
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        assert assert_store_consistent(data_dir) == len(studies)
        search = run_cli(data_dir, None, "search", "--json", "cancer")
        assert search.returncode == 0, search.stderr[-3000:]


# serving through trouble ------------------------------------------------------------------------------------


@pytest.fixture
def served_data_dir(shared_data: Path, tmp_path: Path) -> Path:
    from trialfinder.config import load_settings
    from trialfinder.index import build_index
    from trialfinder.ingest import ingest_paths

    settings = load_settings(data_dir=tmp_path / "served")
    store = Store.open(settings.database_url)
    ingest_paths(store, [shared_data / "ctgov" / "v2_json"])
    build_index(settings, store)
    store.close()
    return settings.data_dir


def test_searches_keep_succeeding_while_the_index_is_rebuilt_and_a_sync_fails(served_data_dir: Path, studies):
    import stamina
    from fastapi.testclient import TestClient

    from trialfinder.api.limits import LimitsConfig
    from trialfinder.config import load_settings
    from trialfinder.ctgov import CtgovClient
    from trialfinder.ingest.sync import SyncError, SyncOptions, run_sync
    from trialfinder.server import create_app

    settings = load_settings(data_dir=served_data_dir)
    app = create_app(settings, follow_interval=0.2, limits=LimitsConfig())
    rebuild = [sys.executable, "-m", "trialfinder", "--data-dir", str(served_data_dir), "index", "--rebuild"]
    sync_errors: list[Exception] = []

    def failing_sync() -> None:
        # Renamed copies, so the sync really writes; the registry dies after two pages.
        copies = json.loads(json.dumps(studies[:300]))
        for number, study in enumerate(copies):
            study["protocolSection"]["identificationModule"]["nctId"] = f"NCT0888{number:04d}"
        registry = FakeRegistry(copies, page_size=PAGE_SIZE, failures=[None, None] + [503] * 10)
        store = Store.open(settings.database_url)
        with stamina.set_testing(True, attempts=3), CtgovClient(transport=registry.transport()) as client:
            try:
                run_sync(store, client, SyncOptions(full=True))
            except SyncError as error:
                sync_errors.append(error)
        store.close()

    with TestClient(app) as client:
        baseline = client.get("/api/search", params={"q": "cancer"}).json()["total"]
        statuses: list[int] = []
        process = subprocess.Popen(rebuild, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        syncing = threading.Thread(target=failing_sync)
        syncing.start()
        totals: list[int] = []
        during_rebuild = 0
        deadline = time.monotonic() + 240
        while (process.poll() is None or syncing.is_alive() or len(statuses) < 50) and time.monotonic() < deadline:
            for path, params in (("/api/search", {"q": "cancer"}), ("/search", {"q": "cancer", "status": "all"}),
                                 ("/api/v2/studies", {"query.term": "cancer"})):
                response = client.get(path, params=params)
                statuses.append(response.status_code)
                during_rebuild += process.poll() is None
                if path == "/api/search" and response.status_code == 200:
                    totals.append(response.json()["total"])
        syncing.join()
        rebuilt = process.wait(timeout=60)
        assert rebuilt == 0, process.stderr.read().decode()[-3000:]
        assert len(sync_errors) == 1 and "503" in str(sync_errors[0])
        assert set(statuses) == {200}, f"{len(statuses)} requests, statuses {sorted(set(statuses))}"
        assert during_rebuild >= 3, "searches overlapped the rebuild"
        assert min(totals) >= baseline, "the served index never lost studies mid-rebuild"
        assert client.get("/readyz").status_code == 200
