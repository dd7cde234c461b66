"""The index split into shards answers as one index would: same totals, facets, field-sorted pages and hit sets."""

from __future__ import annotations

import pytest
from test_search_support import real_corpus

from trialfinder.config import Settings
from trialfinder.index import build, current_generation, open_shards, read_meta
from trialfinder.index.build import build_index, shard_of
from trialfinder.index.schema import INDEX_SHARDS
from trialfinder.search import Near, SearchEngine, SearchRequest, SortKey


@pytest.fixture(scope="module")
def engines(shared_data, tmp_path_factory):
    """(store, an engine over the store dealt into shards, the corpus engine: a small index stays one shard)."""
    settings, store, single = real_corpus(shared_data, tmp_path_factory.getbasetemp() / "search-corpus")
    sharded_settings = Settings(data_dir=tmp_path_factory.mktemp("sharded"), database_url=settings.database_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build, "SHARDED_FROM_STUDIES", 0)  # as a registry-sized index is
        build_index(sharded_settings, store)
    sharded = SearchEngine.open(sharded_settings, store)
    assert sharded.meta.shards == INDEX_SHARDS >= 2 and single.meta.shards == 1
    return store, sharded, single


def ids(result) -> list[str]:
    return [hit.nct_id for hit in result.hits]


def test_every_study_is_in_exactly_one_shard(engines):
    store, sharded, single = engines
    generation = current_generation(sharded.settings.index_dir)
    shards = open_shards(generation, read_meta(generation).shards)
    counts = [shard.searcher().num_docs for shard in shards]
    assert all(count > 0 for count in counts)
    assert sum(counts) == store.count() == sharded.search(SearchRequest(limit=0)).total
    for nct_id in store.nct_ids()[:50]:
        holders = [number for number, shard in enumerate(shards)
                   if shard.searcher().doc_freq("nct_id", nct_id) == 1]
        assert holders == [shard_of(nct_id, len(shards))]


@pytest.mark.parametrize("request_kwargs", [
    {"sort": [SortKey("last_updated")]},
    {"query": "cancer", "sort": [SortKey("start_date", False)]},
    {"statuses": ["COMPLETED"], "sort": [SortKey("enrollment")]},
    {"query": "cancer", "sort": [SortKey("nct_id", False)]},
    {"near": Near(42.3601, -71.0589, 300.0), "sort": [SortKey("distance", False)]},
    {"statuses": ["COMPLETED"]},  # no words: open studies first, then NCT id
])
def test_pages_sorted_by_a_field_are_the_same_as_one_index(engines, request_kwargs):
    store, sharded, single = engines
    for offset in (0, 10, 137):
        request = SearchRequest(offset=offset, limit=10, **request_kwargs)
        one, many = single.search(request), sharded.search(request)
        assert many.total == one.total > offset
        assert ids(many) == ids(one)


@pytest.mark.parametrize("request_kwargs", [
    {"query": "cancer"}, {"query": "diabetes", "statuses": ["RECRUITING", "COMPLETED"]},
    {"query": "breast cancer", "phases": ["PHASE2"], "age": 40},
])
def test_totals_and_facets_are_the_same_as_one_index(engines, request_kwargs):
    store, sharded, single = engines
    request = SearchRequest(facets=True, limit=0, **request_kwargs)
    one, many = single.search(request), sharded.search(request)
    assert many.total == one.total > 0
    assert many.facets == one.facets


def test_relevance_finds_the_same_studies_and_nearly_the_same_top(engines):
    """Each shard scores with its own word statistics, so the order can differ a little; the set of results cannot,
    and the best hits stay the best."""
    store, sharded, single = engines
    for words in ("cancer", "aPAP", "type 2 diabetes", "hepatitis c"):
        everything = SearchRequest(query=words, limit=1000)
        one_all, many_all = single.search(everything), sharded.search(everything)
        assert many_all.total == one_all.total > 0
        if one_all.total <= 1000:
            assert set(ids(many_all)) == set(ids(one_all))
        top = SearchRequest(query=words, limit=10)
        one, many = ids(single.search(top)), ids(sharded.search(top))
        assert len(set(one) & set(many)) >= 0.7 * len(one), words


def test_distance_filters_send_each_shard_its_own_studies(engines):
    """Studies whose in-range sites all sit in cells cut by the circle are named by NCT number, each only to the
    shard that holds it: the results must still be those of one index, whatever the place and radius."""
    store, sharded, single = engines
    cities = [(42.3601, -71.0589), (40.7128, -74.0060), (48.8566, 2.3522), (51.5074, -0.1278), (41.8781, -87.6298)]
    named_by_number = 0
    for lat, lon in cities:
        for radius_km in (5.0, 15.0, 40.0, 120.0):
            for recruiting_only in (False, True):
                near = Near(lat, lon, radius_km, recruiting_only)
                codes = sharded._snapshot.sites.near(lat, lon, radius_km, recruiting_only).filter_codes
                named_by_number += int((codes < 2**27).sum())
                request = SearchRequest(near=near, sort=[SortKey("distance", False)], limit=1000)
                one, many = single.search(request), sharded.search(request)
                assert many.total == one.total, (lat, lon, radius_km, recruiting_only)
                assert ids(many) == ids(one)
    assert named_by_number > 0  # the per-shard split of NCT numbers was exercised
