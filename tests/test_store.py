"""The store on both backends: upserts, versions, change log, rejects, sync runs, stats."""

from __future__ import annotations

import json

import msgspec

from trialfinder.model import study_from_dict
from trialfinder.store import SiteRow, StudyWrite


def make_record(nct_id: str, updated: str = "2024-01-15", status: str = "RECRUITING", **extra) -> dict:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": f"Study {nct_id}"},
            "statusModule": {"overallStatus": status, "lastUpdatePostDateStruct": {"date": updated}},
            "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE1", "PHASE2"]},
            "eligibilityModule": {"minimumAge": "18 Years", "sex": "FEMALE"},
            **extra,
        },
        "hasResults": False,
    }


def write(record: dict, sites: list[SiteRow] | None = None) -> StudyWrite:
    return StudyWrite(raw=json.dumps(record), study=study_from_dict(record), source="test", sites=sites or [])


def test_upsert_adds_then_leaves_identical_data_unchanged(store):
    writes = [write(make_record(f"NCT0000000{i}")) for i in range(5)]
    first = store.upsert(writes)
    assert (first.added, first.updated, first.unchanged) == (5, 0, 0)
    counter = store.change_counter()
    second = store.upsert(writes)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 5)
    assert store.change_counter() == counter, "re-ingesting the same data must not log changes"
    assert store.count() == 5


def test_newer_version_replaces_older_and_older_never_overwrites(store):
    store.upsert([write(make_record("NCT00000001", "2024-01-15", "RECRUITING"))])
    newer = store.upsert([write(make_record("NCT00000001", "2024-06-01", "COMPLETED"))])
    assert newer.updated == 1
    older = store.upsert([write(make_record("NCT00000001", "2023-01-01", "WITHDRAWN"))])
    assert older.unchanged == 1
    assert store.study("NCT00000001").overall_status == "COMPLETED"


def test_two_copies_in_one_batch_keep_the_newest(store):
    counts = store.upsert([write(make_record("NCT00000009", "2024-06-01", "COMPLETED")),
                           write(make_record("NCT00000009", "2022-06-01", "RECRUITING"))])
    assert counts.added == 1
    assert store.study("NCT00000009").overall_status == "COMPLETED"


def test_raw_is_kept_verbatim_including_unknown_fields(store):
    record = make_record("NCT00000002")
    record["protocolSection"]["someFutureModule"] = {"novel": [1, 2, 3]}
    text = json.dumps(record, indent=3)
    store.upsert([StudyWrite(raw=text, study=study_from_dict(record), source="t")])
    assert store.raw("NCT00000002") == text


def test_columns_for_filters(store):
    store.upsert([write(make_record("NCT00000003"))])
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT phases, min_age_years, max_age_years, sex, last_update FROM studies").one()
    assert row == ("PHASE1|PHASE2", 18.0, None, "FEMALE", "2024-01-15")


def test_sites_replaced_with_their_study(store):
    site = SiteRow("Clinic", "Boston", "Massachusetts", "02115", "United States", "RECRUITING", 42.3, -71.1)
    store.upsert([write(make_record("NCT00000004", "2024-01-01"), [site, site])])
    assert len(store.sites_of("NCT00000004")) == 2
    store.upsert([write(make_record("NCT00000004", "2024-02-01"), [site])])
    sites = store.sites_of("NCT00000004")
    assert len(sites) == 1 and sites[0]["city"] == "Boston" and sites[0]["lat"] == 42.3


def test_change_log_and_delete(store):
    store.upsert([write(make_record("NCT00000005")), write(make_record("NCT00000006"))])
    start = store.change_counter()
    store.upsert([write(make_record("NCT00000005", "2025-01-01"))])
    assert store.delete(["NCT00000006", "NCT99999999"]) == 1
    changes = store.changes_since(start)
    assert [(c.nct_id, c.op) for c in changes] == [("NCT00000005", "upsert"), ("NCT00000006", "delete")]
    assert store.study("NCT00000006") is None


def test_rejects_and_sync_runs(store):
    store.add_rejects([{"source": "a.json", "position": "[3]", "reason": "record without an NCT id"}])
    (reject,) = store.rejects()
    assert (reject.source, reject.position) == ("a.json", "[3]")
    params = {"query.term": "x"}
    run_id = store.start_sync_run(params, None)
    store.update_sync_run(run_id, next_page_token="tok", pages=2)
    assert store.unfinished_sync_run(params)["next_page_token"] == "tok"
    store.update_sync_run(run_id, state="succeeded")
    assert store.unfinished_sync_run(params) is None
    assert store.last_successful_sync()["id"] == run_id


def test_stats(store):
    store.upsert([write(make_record("NCT00000007")), write(make_record("NCT00000008", status="COMPLETED"))])
    figures = store.stats()
    assert figures["studies"] == 2
    assert figures["by_status"] == {"RECRUITING": 1, "COMPLETED": 1}
    assert figures["by_phase"] == {"PHASE1": 2, "PHASE2": 2}


def test_iter_raw_pages_through_everything(store):
    store.upsert([write(make_record(f"NCT{i:08d}")) for i in range(1, 26)])
    seen = [nct for nct, _ in store.iter_raw(batch_size=7)]
    assert seen == [f"NCT{i:08d}" for i in range(1, 26)]
    assert all(msgspec.json.decode(raw)["protocolSection"] for _, raw in store.iter_raw())
