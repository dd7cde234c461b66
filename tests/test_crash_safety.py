"""kill -9 during an ingest leaves a consistent store, and running it again completes the work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from trialfinder.store import Store

TOTAL = 30_000


def write_corpus(path: Path) -> None:
    with path.open("w") as out:
        for n in range(1, TOTAL + 1):
            record = {
                "protocolSection": {
                    "identificationModule": {"nctId": f"NCT{n:08d}", "briefTitle": f"Trial {n}"},
                    "statusModule": {"overallStatus": "RECRUITING", "lastUpdatePostDateStruct": {"date": "2024-01-01"}},
                    "contactsLocationsModule": {"locations": [
                        {"facility": "Clinic", "city": "Boston", "country": "United States",
                         "geoPoint": {"lat": 42.36, "lon": -71.06}},
                        {"facility": "Hospital", "city": "Paris", "country": "France",
                         "geoPoint": {"lat": 48.85, "lon": 2.35}},
                    ]},
                },
            }
            out.write(json.dumps(record) + "\n")


def run_ingest(database_url: str, data_dir: Path, corpus: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "trialfinder", "--data-dir", str(data_dir), "--database-url", database_url,
               "ingest", str(corpus)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_kill_during_ingest_then_rerun_completes(database_url: str, tmp_path: Path):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus)
    store = Store.open(database_url)
    process = run_ingest(database_url, tmp_path / "data", corpus)
    deadline = time.monotonic() + 120
    while store.count() < 2000 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    landed = store.count()
    assert 0 < landed < TOTAL, f"the kill should land mid-ingest, found {landed} of {TOTAL}"

    with store.engine.connect() as conn:
        sites_per_study = conn.execute(sa.text(
            "SELECT COUNT(*) FROM studies s WHERE (SELECT COUNT(*) FROM sites t WHERE t.nct_id = s.nct_id) <> 2"
        )).scalar_one()
        orphans = conn.execute(sa.text(
            "SELECT COUNT(*) FROM sites t WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.nct_id = t.nct_id)"
        )).scalar_one()
        logged = conn.execute(sa.text("SELECT COUNT(DISTINCT nct_id) FROM changes")).scalar_one()
        if store.dialect == "sqlite":
            assert conn.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
    assert (sites_per_study, orphans) == (0, 0), "every committed study has exactly its sites"
    assert logged == landed, "the change log holds every committed study, and nothing uncommitted"

    rerun = run_ingest(database_url, tmp_path / "data", corpus)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()
    assert store.count() == TOTAL
    summary = out.decode()
    assert f"added {TOTAL - landed}," in summary and f"unchanged {landed}," in summary, summary
    store.close()
