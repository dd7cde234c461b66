"""Ingest from files: every shape, idempotency, versions, rejects that name file/position/field, --strict."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from trialfinder.ingest import StrictIngestError, ingest_paths, read_paths
from trialfinder.ingest.readers import Record, Rejected


def study(nct_id: str, updated: str = "2024-01-15", status: str = "RECRUITING") -> dict:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": f"Trial {nct_id}"},
            "statusModule": {"overallStatus": status, "lastUpdatePostDateStruct": {"date": updated}},
        },
        "hasResults": False,
    }


def test_every_json_shape_is_read(tmp_path: Path):
    (tmp_path / "download.json").write_text(json.dumps([study("NCT00000001"), study("NCT00000002")]))
    (tmp_path / "page.json").write_text(json.dumps({"studies": [study("NCT00000003")], "nextPageToken": "x"}))
    (tmp_path / "single.json").write_text(json.dumps(study("NCT00000004")))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(study(f"NCT0000000{i}")) for i in (5, 6)) + "\n")
    (tmp_path / "lines-as.json").write_text(json.dumps(study("NCT00000007")) + "\n" + json.dumps(study("NCT00000008")))
    bulk = io.BytesIO()
    with zipfile.ZipFile(bulk, "w") as archive:
        for n in (9, 10):
            archive.writestr(f"ctg-studies/NCT{n:08d}.json", json.dumps(study(f"NCT{n:08d}")))
    (tmp_path / "bulk.zip").write_bytes(bulk.getvalue())
    tarred = io.BytesIO()
    with tarfile.open(fileobj=tarred, mode="w:gz") as archive:
        data = json.dumps(study("NCT00000011")).encode()
        info = tarfile.TarInfo("dir/NCT00000011.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "more.tar.gz").write_bytes(tarred.getvalue())
    items = list(read_paths([tmp_path]))
    assert all(isinstance(i, Record) for i in items), [i for i in items if isinstance(i, Rejected)]
    assert sorted(i.study.nct_id for i in items) == [f"NCT{n:08d}" for n in range(1, 12)]


def test_bad_inputs_are_rejected_with_file_position_and_field(tmp_path: Path):
    bad_types = study("NCT00000002")
    bad_types["protocolSection"]["designModule"] = {"enrollmentInfo": {"count": "many"}}
    no_id = {"protocolSection": {"identificationModule": {"briefTitle": "no id"}}}
    (tmp_path / "mixed.json").write_text(json.dumps([study("NCT00000001"), bad_types, no_id]))
    (tmp_path / "broken.json").write_text('{"protocolSection": ')
    (tmp_path / "classic.json").write_text(json.dumps({"FullStudiesResponse": {"FullStudies": []}}))
    items = list(read_paths([tmp_path]))
    rejected = {(Path(r.source).name, r.position): r for r in items if isinstance(r, Rejected)}
    assert [i.study.nct_id for i in items if isinstance(i, Record)] == ["NCT00000001"]
    wrong = rejected[("mixed.json", "[1]")]
    assert wrong.nct_id == "NCT00000002"
    assert wrong.field == "$.protocolSection.designModule.enrollmentInfo.count"
    assert "NCT id" in rejected[("mixed.json", "[2]")].reason
    assert "invalid JSON" in rejected[("broken.json", None)].reason
    assert "classic" in rejected[("classic.json", None)].reason


def test_ingest_is_idempotent_and_versions_win(store, tmp_path: Path):
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    old.write_text(json.dumps([study("NCT00000001", "2023-01-01", "RECRUITING"), study("NCT00000002")]))
    new.write_text(json.dumps([study("NCT00000001", "2024-06-01", "COMPLETED")]))
    first = ingest_paths(store, [old])
    assert (first.counts.added, first.counts.unchanged) == (2, 0)
    again = ingest_paths(store, [old])
    assert (again.counts.added, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    assert ingest_paths(store, [new]).counts.updated == 1
    assert ingest_paths(store, [old]).counts.unchanged == 2
    assert store.study("NCT00000001").overall_status == "COMPLETED"


def test_rejects_are_kept_and_never_stop_the_rest(store, tmp_path: Path):
    (tmp_path / "a.json").write_text("not json at all")
    (tmp_path / "b.json").write_text(json.dumps([study("NCT00000001")]))
    report = ingest_paths(store, [tmp_path])
    assert report.counts.added == 1 and len(report.rejected) == 1
    (kept,) = store.rejects()
    assert kept.source.endswith("a.json")


def test_strict_stops_at_first_reject(store, tmp_path: Path):
    (tmp_path / "a.json").write_text(json.dumps([study("NCT00000001"), {"protocolSection": {}}, study("NCT00000003")]))
    with pytest.raises(StrictIngestError, match=r"a.json \[1\]"):
        ingest_paths(store, [tmp_path], strict=True)
    assert store.nct_ids() == ["NCT00000001"]


def test_every_shared_v2_record_lands_once_and_classic_files_are_rejected(store, shared_data: Path):
    folder = shared_data / "ctgov" / "v2_json"
    expected: set[str] = set()
    for path in folder.rglob("*.json"):
        data = json.loads(path.read_text())
        records = data if isinstance(data, list) else data.get("studies", [data])
        for record in records:
            nct_id = record.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
            if nct_id:
                expected.add(nct_id)
    report = ingest_paths(store, [folder])
    assert set(store.nct_ids()) == expected
    assert store.count() == len(expected)
    classic = sorted(Path(r.source).stem for r in report.rejected if "classic" in r.reason)
    assert classic == ["NCT00023673", "NCT02028676", "NCT04780763"]
    assert len(report.rejected) == 3


def test_undecodable_bytes_and_malformed_ids_are_rejected_not_fatal(tmp_path: Path):
    (tmp_path / "latin1.json").write_bytes(b'{"\x80": 1}')
    (tmp_path / "bad-id.json").write_text(json.dumps([study("NCT123"), study("NCT00000001")]))
    items = list(read_paths([tmp_path]))
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert sorted(Path(r.source).name for r in rejected) == ["bad-id.json", "latin1.json"]
    assert any("not NCT followed by 8 digits" in r.reason for r in rejected)
    assert [i.study.nct_id for i in items if isinstance(i, Record)] == ["NCT00000001"]


def test_nul_characters_in_text_fields_do_not_break_the_store(store, tmp_path: Path):
    record = study("NCT00000001")
    record["protocolSection"]["identificationModule"]["briefTitle"] = "Bad\u0000title"
    record["protocolSection"]["contactsLocationsModule"] = {
        "locations": [{"facility": "Clinic\u0000", "city": "Boston", "geoPoint": {"lat": 42.3, "lon": -71.1}}]}
    (tmp_path / "nul.json").write_text(json.dumps([record]))
    report = ingest_paths(store, [tmp_path])
    assert report.counts.added == 1
    assert json.loads(store.raw("NCT00000001"))["protocolSection"]["identificationModule"]["briefTitle"] == "Bad\u0000title"
    assert store.sites_of("NCT00000001")[0]["facility"] == "Clinic"
