"""The worker-process ingest path: the same store, reports, progress calls and strict mode as the in-process path."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from trialfinder.ingest import StrictIngestError, ingest_paths
from trialfinder.ingest import files as ingest_files
from trialfinder.ingest.files import IngestWorkerError
from trialfinder.ingest.readers import Record, Rejected
from trialfinder.store import Store


def study(nct_id: str, updated: str = "2024-01-15", status: str = "RECRUITING", sites: int = 2) -> dict:
    locations = [{"facility": f"Site {i}", "city": "Boston", "state": "Massachusetts", "country": "United States",
                  "geoPoint": {"lat": 42.36, "lon": -71.06}} for i in range(sites)]
    locations.append({"facility": "No point", "city": "Paris", "country": "France"})  # placed by the gazetteer
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": f"Trial {nct_id}"},
            "statusModule": {"overallStatus": status, "lastUpdatePostDateStruct": {"date": updated}},
            "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"]},
            "contactsLocationsModule": {"locations": locations},
        },
        "hasResults": False,
    }


def write_lines(path: Path, count: int, *, bad_at: tuple[int, ...] = (), updated: str = "2024-01-15") -> Path:
    with path.open("w") as out:
        for n in range(1, count + 1):
            if n in bad_at:
                out.write('{"protocolSection": {"designModule": {"enrollmentInfo": {"count": "many"}}}}\n')
            else:
                out.write(json.dumps(study(f"NCT{n:08d}", updated)) + "\n")
    return path


def snapshot(store: Store) -> dict:
    """Everything an ingest writes, minus the wall-clock timestamps."""
    with store.engine.connect() as conn:
        return {
            "studies": conn.exec_driver_sql(
                "SELECT nct_id, raw, source, change_seq, last_update, brief_title, overall_status, phases "
                "FROM studies ORDER BY nct_id").all(),
            "sites": conn.exec_driver_sql(
                "SELECT nct_id, position, facility, city, country, lat, lon, approximate FROM sites "
                "ORDER BY nct_id, position").all(),
            "changes": conn.exec_driver_sql("SELECT seq, nct_id, op FROM changes ORDER BY seq").all(),
            "rejects": conn.exec_driver_sql("SELECT source, position, nct_id, field, reason FROM rejects "
                                            "ORDER BY id").all(),
        }


def open_store(tmp_path: Path, name: str) -> Store:
    return Store.open(f"sqlite:///{tmp_path / name / 'store.sqlite3'}")


def test_worker_and_in_process_paths_write_the_same_store(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(ingest_files, "BATCH_SIZE", 700)  # several batches, one split inside a worker chunk
    corpus = write_lines(tmp_path / "corpus.jsonl", 2500, bad_at=(5, 1800))
    seen: dict[int, list] = {0: [], 1: []}
    results = {}
    for workers in (0, 1):
        store = open_store(tmp_path, f"w{workers}")

        def on_record(item, workers=workers) -> None:
            kind = "rejected" if isinstance(item, Rejected) else "record"
            seen[workers].append((kind, item.source, item.position))

        report = ingest_paths(store, [corpus], workers=workers, on_record=on_record)
        results[workers] = (report.summary, report.records, [r.position for r in report.rejected], snapshot(store))
        store.close()
    assert results[0] == results[1]
    assert seen[0] == seen[1] and len(seen[1]) == 2500
    summary, records, rejected, stored = results[1]
    assert summary == "added 2498, updated 0, unchanged 0, rejected 2" and records == 2498
    assert rejected == ["line 5", "line 1800"]
    assert len(stored["sites"]) == 3 * 2498 and len(stored["changes"]) == 2498
    assert multiprocessing.active_children() == [], "the worker process is gone after the ingest"


def test_worker_records_decode_their_study_on_demand(tmp_path: Path):
    corpus = write_lines(tmp_path / "corpus.jsonl", 3)
    store = open_store(tmp_path, "s")
    got: list[Record] = []
    report = ingest_paths(store, [corpus], workers=1, on_record=got.append)
    assert report.worker_cpu_seconds is not None and report.worker_cpu_seconds > 0
    assert [r.study.nct_id for r in got] == ["NCT00000001", "NCT00000002", "NCT00000003"]
    assert [r.position for r in got] == ["line 1", "line 2", "line 3"]
    assert got[0].raw == store.raw("NCT00000001")
    store.close()


def test_worker_path_is_idempotent_and_newer_versions_win(tmp_path: Path):
    store = open_store(tmp_path, "s")
    old = write_lines(tmp_path / "old.jsonl", 1200, updated="2023-01-01")
    new = write_lines(tmp_path / "new.jsonl", 600, updated="2024-06-01")
    assert ingest_paths(store, [old], workers=1).counts.added == 1200
    again = ingest_paths(store, [old], workers=1).counts
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1200)
    assert ingest_paths(store, [new], workers=1).counts.updated == 600
    assert ingest_paths(store, [old], workers=1).counts.unchanged == 1200
    assert store.study("NCT00000001").last_update_posted == "2024-06-01"
    assert store.study("NCT00001000").last_update_posted == "2023-01-01"
    store.close()


def test_strict_stops_at_the_first_reject_and_stops_the_worker(tmp_path: Path):
    corpus = write_lines(tmp_path / "corpus.jsonl", 3000, bad_at=(1501,))
    store = open_store(tmp_path, "s")
    with pytest.raises(StrictIngestError, match=r"corpus.jsonl line 1501"):
        ingest_paths(store, [corpus], workers=1, strict=True)
    assert store.count() == 1500, "everything read before the reject is committed, nothing after it"
    assert len(store.rejects()) == 1
    assert multiprocessing.active_children() == []
    store.close()


def test_a_failing_worker_is_reported(tmp_path: Path, monkeypatch):
    corpus = write_lines(tmp_path / "corpus.jsonl", 10)

    def broken(record):
        raise ValueError("boom in the worker")

    monkeypatch.setattr(ingest_files, "prepare_record", broken)  # the forked worker inherits the patch
    store = open_store(tmp_path, "s")
    with pytest.raises(IngestWorkerError, match="boom in the worker"):
        ingest_paths(store, [corpus], workers=1)
    assert store.count() == 0
    assert multiprocessing.active_children() == []
    store.close()


def test_the_worker_is_used_for_large_inputs_only(tmp_path: Path, monkeypatch):
    small = write_lines(tmp_path / "small.jsonl", 5)
    monkeypatch.delenv("TRIALFINDER_INGEST_WORKERS", raising=False)
    monkeypatch.setattr(ingest_files, "_available_cpus", lambda: 2)
    assert ingest_files._default_workers([small]) == 0
    monkeypatch.setattr(ingest_files, "PARALLEL_MIN_BYTES", 100)
    assert ingest_files._default_workers([small]) == 1
    assert ingest_files._default_workers([tmp_path]) == 1
    monkeypatch.setattr(ingest_files, "_available_cpus", lambda: 1)
    assert ingest_files._default_workers([small]) == 0
    monkeypatch.setenv("TRIALFINDER_INGEST_WORKERS", "1")
    assert ingest_files._default_workers([small]) == 1
    monkeypatch.setenv("TRIALFINDER_INGEST_WORKERS", "0")
    monkeypatch.setattr(ingest_files, "_available_cpus", lambda: 2)
    assert ingest_files._default_workers([small]) == 0


def test_bulk_load_settings_are_restored(tmp_path: Path):
    store = open_store(tmp_path, "s")
    corpus = write_lines(tmp_path / "corpus.jsonl", 20)
    ingest_paths(store, [corpus], workers=1)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
    store.close()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_kill_during_a_worker_ingest_leaves_a_consistent_store_and_no_worker(tmp_path: Path, monkeypatch):
    from test_crash_safety import TOTAL, run_ingest, write_corpus

    monkeypatch.setenv("TRIALFINDER_INGEST_WORKERS", "1")
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus)
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = Store.open(url)
    process = run_ingest(url, tmp_path / "data", corpus)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while store.count() < 2000 and time.monotonic() < deadline and process.poll() is None:
        workers = workers or _children(process.pid)
        time.sleep(0.05)
    workers = workers or _children(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    landed = store.count()
    assert 0 < landed < TOTAL
    assert workers, "the ingest ran in a worker process"
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in workers), "the worker exits when the writer dies"
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
        bad = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM studies s WHERE (SELECT COUNT(*) FROM sites t WHERE t.nct_id = s.nct_id) <> 2"
        ).scalar_one()
        logged = conn.exec_driver_sql("SELECT COUNT(DISTINCT nct_id) FROM changes").scalar_one()
    assert bad == 0 and logged == landed
    rerun = run_ingest(url, tmp_path / "data", corpus)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()
    assert store.count() == TOTAL
    assert f"added {TOTAL - landed}," in out.decode() and f"unchanged {landed}," in out.decode()
    store.close()
