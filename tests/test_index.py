"""The index adapter on SQLite and PostgreSQL stores: build, refresh from the change log, rebuild and swap."""

from __future__ import annotations

import copy

import pytest

from test_search_support import (
    APAP_ID,
    LONG_FORM_ONLY_ID,
    ingest_records,
    long_form_only_record,
    reference_apap_record,
    shared_inputs,
)
from trialfinder.config import Settings
from trialfinder.index import build_index, current_generation, read_meta, refresh_index
from trialfinder.ingest import ingest_paths
from trialfinder.search import Near, SearchEngine, SearchRequest


@pytest.fixture
def loaded(store, shared_data, tmp_path):
    """A store holding the real v2 JSON records and the reference aPAP study, and settings for its index."""
    ingest_paths(store, shared_inputs(shared_data, full=False))
    ingest_records(store, [reference_apap_record()])
    return Settings(data_dir=tmp_path / "node", database_url=str(store.engine.url)), store


def found(engine: SearchEngine, **kwargs) -> list[str]:
    return [hit.nct_id for hit in engine.search(SearchRequest(limit=50, **kwargs)).hits]


def test_refresh_builds_then_follows_new_updated_and_deleted_studies(loaded):
    settings, store = loaded
    assert refresh_index(settings, store) == store.count()
    assert read_meta(current_generation(settings.index_dir)).seq == store.change_counter()
    engine = SearchEngine.open(settings, store)
    assert APAP_ID in found(engine, query="aPAP")
    assert LONG_FORM_ONLY_ID not in found(engine, query="GM-CSF inhaled")

    record = long_form_only_record()
    record["protocolSection"]["contactsLocationsModule"] = {"locations": [
        {"facility": "Test Lung Center", "city": "Lyon", "country": "France", "status": "RECRUITING",
         "geoPoint": {"lat": 45.764, "lon": 4.8357}}]}
    ingest_records(store, [record])
    assert engine.refresh(force=True) == 1
    assert LONG_FORM_ONLY_ID in found(engine, query="GM-CSF inhaled")
    near_lyon = engine.search(SearchRequest(near=Near(45.75, 4.85, 20.0), limit=50))
    assert LONG_FORM_ONLY_ID in [hit.nct_id for hit in near_lyon.hits]

    newer = copy.deepcopy(record)
    newer["protocolSection"]["identificationModule"]["briefTitle"] = "Nebulised molgramostim for proteinosis"
    newer["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"] = {"date": "2025-02-01"}
    newer["protocolSection"]["contactsLocationsModule"]["locations"][0].update(
        city="Paris", geoPoint={"lat": 48.8566, "lon": 2.3522})
    ingest_records(store, [newer])
    assert engine.refresh(force=True) == 1
    assert LONG_FORM_ONLY_ID in found(engine, query="molgramostim")
    assert LONG_FORM_ONLY_ID not in found(engine, query="GM-CSF inhaled")
    assert found(engine, query=LONG_FORM_ONLY_ID) == [LONG_FORM_ONLY_ID]  # one document, not two
    assert LONG_FORM_ONLY_ID not in [h.nct_id for h in engine.search(SearchRequest(near=Near(45.75, 4.85, 20.0))).hits]

    store.delete([LONG_FORM_ONLY_ID])
    assert engine.refresh(force=True) == 1
    assert found(engine, query=LONG_FORM_ONLY_ID) == []
    assert read_meta(current_generation(settings.index_dir)).seq == store.change_counter()
    assert refresh_index(settings, store) == 0


def test_rebuild_keeps_serving_the_old_index_until_the_swap(loaded):
    settings, store = loaded
    build_index(settings, store)
    engine = SearchEngine.open(settings, store)
    old_generation = current_generation(settings.index_dir)
    seen_during_build: list[list[str]] = []

    def progress(done: int, total: int) -> None:
        # mid-build: `current` still names the old generation and searches answer from it
        assert current_generation(settings.index_dir) == old_generation
        seen_during_build.append(found(engine, query="aPAP"))

    meta = build_index(settings, store, progress=progress)
    assert seen_during_build and all(APAP_ID in hits for hits in seen_during_build)
    assert current_generation(settings.index_dir) != old_generation
    assert APAP_ID in found(engine, query="aPAP")  # the old generation still answers before refresh()
    engine.refresh(force=True)
    assert engine.meta.generation == meta.generation
    assert APAP_ID in found(engine, query="aPAP")
    assert engine.search(SearchRequest(limit=0)).total == store.count()
