"""The store's bulk-load path (what an ingest uses): raw text round trips, versions, settings put back, checkpoints."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from trialfinder.model import study_from_dict
from trialfinder.store import SiteRow, Store, StudyWrite

from test_store import make_record

# Text outside ASCII in several scripts and planes: stored as UTF-8 bytes, it must come back as the same str.
NON_ASCII = "Zürich · ≥ 18 ans · 北京 · Ελλάδα · 😀"


def non_ascii_write(nct_id: str, updated: str = "2024-01-15", note: str = NON_ASCII,
                    sites: list[SiteRow] | None = None) -> StudyWrite:
    record = make_record(nct_id, updated, descriptionModule={"briefSummary": note})
    text = json.dumps(record, ensure_ascii=False, indent=1)
    return StudyWrite(raw=text, study=study_from_dict(record), source="test", sites=sites or [])


def test_non_ascii_raw_is_stored_as_the_same_text(store):
    written = non_ascii_write("NCT00000101")
    with store.bulk_load():
        store.upsert([written])
    store.upsert([non_ascii_write("NCT00000102")])  # outside bulk_load too
    assert store.raw("NCT00000101") == written.raw
    assert store.raws(["NCT00000102"])["NCT00000102"] == non_ascii_write("NCT00000102").raw
    assert dict(store.iter_raw())["NCT00000101"] == written.raw
    assert NON_ASCII in store.study("NCT00000101").description.brief_summary
    if store.dialect == "sqlite":
        with store.engine.connect() as conn:
            kinds = conn.exec_driver_sql("SELECT DISTINCT typeof(raw) FROM studies").scalars().all()
        assert kinds == ["text"], "raw must be stored as text, not as a blob of its UTF-8 bytes"


def test_re_ingesting_non_ascii_records_changes_nothing(store):
    writes = [non_ascii_write(f"NCT0000020{i}") for i in range(3)]
    with store.bulk_load():
        assert store.upsert(writes).added == 3
    counter = store.change_counter()
    with store.bulk_load():
        again = store.upsert(writes)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert store.change_counter() == counter


def test_same_date_fuller_copy_wins_and_shorter_never_replaces_it(store):
    short = non_ascii_write("NCT00000301", note="ü")
    full = non_ascii_write("NCT00000301", note="ü" * 50)
    with store.bulk_load():
        store.upsert([short])
        assert store.upsert([full]).updated == 1
        assert store.upsert([short]).unchanged == 1
    assert store.raw("NCT00000301") == full.raw


def test_replacing_a_study_in_a_bulk_load_replaces_its_sites(store):
    site = SiteRow("Clinic", "Zürich", None, "8000", "Switzerland", "RECRUITING", 47.37, 8.54)
    with store.bulk_load():
        store.upsert([non_ascii_write("NCT00000401", "2024-01-01", sites=[site, site, site])])
        store.upsert([non_ascii_write("NCT00000401", "2024-02-01", sites=[site])])
    sites = store.sites_of("NCT00000401")
    assert len(sites) == 1 and sites[0]["city"] == "Zürich"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sites").scalar_one() == 1


def test_bulk_load_puts_sqlite_settings_back_and_stops_its_checkpoint_thread(tmp_path: Path):
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        with store.bulk_load():
            store.upsert([non_ascii_write("NCT00000501")])
            with store.engine.connect() as other:
                # a second connection keeps the default settings while the bulk load runs
                assert other.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert not [t for t in threading.enumerate() if t.name == "sqlite-checkpoints"]
        # the pool hands the bulk-load connection out again: its settings must be the defaults again
        connections = [store.engine.connect() for _ in range(3)]
        try:
            for conn in connections:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
                assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
        finally:
            for conn in connections:
                conn.close()
    finally:
        store.close()


def test_bulk_load_checkpoints_committed_batches_while_it_runs(tmp_path: Path):
    database = tmp_path / "store.sqlite3"
    store = Store.open(f"sqlite:///{database}")
    try:
        empty_size = database.stat().st_size
        with store.bulk_load():
            # far below the writer's own autocheckpoint: only the background checkpoint copies this into the file
            store.upsert([non_ascii_write(f"NCT{600 + i:08d}") for i in range(50)])
            deadline = time.monotonic() + 30
            while database.stat().st_size <= empty_size and time.monotonic() < deadline:
                time.sleep(0.05)
            assert database.stat().st_size > empty_size, "the committed batch never reached the database file"
        assert store.count() == 50
    finally:
        store.close()
