"""Every filter against a brute-force evaluation of the raw records; facets; paging; distance."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from test_search_support import raw_studies, real_corpus
from trialfinder.geo import haversine_km
from trialfinder.model.labels import funder_type
from trialfinder.search import Near, SearchRequest, SortKey
from trialfinder.store.schema import sites


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory):
    settings, store, engine = real_corpus(shared_data, tmp_path_factory.getbasetemp() / "search-corpus")
    return store, engine, raw_studies(store)


def all_ids(engine, request: SearchRequest) -> set[str]:
    request.limit, request.offset = 1000, 0
    found: list[str] = []
    while True:
        result = engine.search(request)
        found += [hit.nct_id for hit in result.hits]
        if not result.has_more:
            break
        request.offset += request.limit
    assert len(found) == len(set(found)) == result.total
    return set(found)


def expect(raws, predicate) -> set[str]:
    return {nct for nct, study in raws.items() if predicate(study)}


@pytest.mark.parametrize(("request_kwargs", "predicate"), [
    ({"statuses": ["RECRUITING"]}, lambda s: s.status == "RECRUITING"),
    ({"statuses": ["recruiting", "Not yet recruiting"]}, lambda s: s.status in ("RECRUITING", "NOT_YET_RECRUITING")),
    ({"phases": ["PHASE2"]}, lambda s: "PHASE2" in s.phases),
    ({"phases": ["phase 1", "PHASE3"]}, lambda s: bool({"PHASE1", "PHASE3"} & s.phases)),
    ({"study_types": ["OBSERVATIONAL"]}, lambda s: s.study_type == "OBSERVATIONAL"),
    ({"funder_types": ["INDUSTRY"]}, lambda s: funder_type(s.sponsor_class) == "INDUSTRY"),
    ({"funder_types": ["OTHER"]}, lambda s: funder_type(s.sponsor_class) == "OTHER"),
    ({"has_results": True}, lambda s: s.has_results),
    ({"sexes": ["FEMALE"]}, lambda s: s.open_to("FEMALE")),
    ({"sexes": ["male"]}, lambda s: s.open_to("MALE")),
    ({"healthy_volunteers": True}, lambda s: s.healthy),
    ({"healthy_volunteers": False}, lambda s: not s.healthy),
    ({"countries": ["France"]}, lambda s: "France" in s.countries),
    ({"countries": ["usa", "Canada"]}, lambda s: bool({"United States", "Canada"} & s.countries)),
    ({"age": 10}, lambda s: s.admits_age(10)),
    ({"age": 18}, lambda s: s.admits_age(18)),
    ({"age": 70.5}, lambda s: s.admits_age(70.5)),
    ({"age": 0.1}, lambda s: s.admits_age(0.1)),
    ({"statuses": ["COMPLETED"], "phases": ["PHASE3"], "age": 40, "sexes": ["FEMALE"]},
     lambda s: s.status == "COMPLETED" and "PHASE3" in s.phases and s.admits_age(40) and s.open_to("FEMALE")),
])
def test_filter_matches_brute_force(corpus, request_kwargs, predicate):
    store, engine, raws = corpus
    expected = expect(raws, predicate)
    assert expected, "the corpus should exercise this filter"
    assert all_ids(engine, SearchRequest(**request_kwargs)) == expected


def test_age_filter_keeps_studies_without_age_limits(corpus):
    store, engine, raws = corpus
    unbounded = expect(raws, lambda s: s.min_age is None and s.max_age is None)
    assert unbounded
    assert unbounded <= all_ids(engine, SearchRequest(age=99))


def test_keyword_with_filters_is_a_subset_of_keyword_alone(corpus):
    store, engine, raws = corpus
    words = all_ids(engine, SearchRequest(query="diabetes"))
    filtered = all_ids(engine, SearchRequest(query="diabetes", statuses=["COMPLETED"], age=50))
    assert filtered == {nct for nct in words if raws[nct].status == "COMPLETED" and raws[nct].admits_age(50)}


def test_last_updated_range(corpus):
    from trialfinder.search import DateRange

    store, engine, raws = corpus
    got = all_ids(engine, SearchRequest(last_updated=DateRange("2023-01-01", "2023-12-31")))
    assert got == expect(raws, lambda s: bool(s.last_update) and "2023-01-01" <= _pad(s.last_update) <= "2023-12-31")


def _pad(date: str) -> str:
    return date if len(date) == 10 else date + "-01"


@pytest.mark.parametrize("recruiting_only", [False, True])
@pytest.mark.parametrize(("lat", "lon", "radius_km"), [(42.3601, -71.0589, 80.47), (48.8566, 2.3522, 50.0),
                                                       (35.0, 139.0, 300.0)])
def test_distance_matches_haversine_over_every_site(corpus, lat, lon, radius_km, recruiting_only):
    store, engine, raws = corpus
    query = sa.select(sites.c.nct_id, sites.c.lat, sites.c.lon, sites.c.status).where(sites.c.lat.is_not(None))
    nearest: dict[str, float] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            if recruiting_only and row.status != "RECRUITING":
                continue
            distance = haversine_km(lat, lon, row.lat, row.lon)
            if distance <= radius_km:
                nearest[row.nct_id] = min(distance, nearest.get(row.nct_id, distance))
    request = SearchRequest(near=Near(lat, lon, radius_km, recruiting_only), sort=[SortKey("distance", False)])
    result = engine.search(SearchRequest(**{**vars(request), "limit": 1000}))
    assert {hit.nct_id for hit in result.hits} == set(nearest)
    distances = [hit.nearest_site.distance_km for hit in result.hits]
    assert distances == sorted(distances)
    for hit in result.hits:
        assert hit.nearest_site.distance_km == pytest.approx(nearest[hit.nct_id], abs=1e-3)


def test_every_hit_of_a_near_search_names_its_nearest_site(corpus):
    store, engine, raws = corpus
    result = engine.search(SearchRequest(query="cancer", near=Near(42.3601, -71.0589), limit=20))
    assert result.total > 0
    for hit in result.hits:
        site = hit.nearest_site
        assert site is not None and site.distance_km <= 80.4672 + 1e-6
        assert site.city or site.facility


@pytest.mark.parametrize("base", [SearchRequest(), SearchRequest(query="cancer"),
                                  SearchRequest(query="cancer", statuses=["COMPLETED"], phases=["PHASE2"]),
                                  SearchRequest(query="cancer", statuses=["RECRUITING", "COMPLETED"],
                                                countries=["United States", "France"], has_results=False)])
def test_facet_counts_equal_the_result_count_when_applied(corpus, base):
    store, engine, raws = corpus
    result = engine.search(SearchRequest(**{**vars(base), "facets": True, "limit": 0}))
    request_field = {"status": "statuses", "phase": "phases", "study_type": "study_types",
                     "funder_type": "funder_types", "sex": "sexes", "country": "countries", "age_group": "age_groups"}
    for facet, counts in result.facets.items():
        assert counts, facet
        for value, count in list(counts.items())[:4]:
            if facet in ("has_results", "healthy_volunteers"):
                applied = {facet: value == "true"}
            else:
                applied = {request_field[facet]: [value]}
            narrowed = engine.search(SearchRequest(**{**vars(base), **applied, "limit": 0}))
            assert narrowed.total == count, (facet, value)


@pytest.mark.parametrize("names", [("status",), ("country", "phase"), ("status", "phase", "country", "age_group")])
def test_only_the_named_facets_are_counted_and_their_counts_do_not_change(corpus, names):
    store, engine, raws = corpus
    base = dict(query="cancer", statuses=["RECRUITING", "COMPLETED"], phases=["PHASE2"], facets=True, limit=0)
    every = engine.search(SearchRequest(**base)).facets
    named = engine.search(SearchRequest(**base, facet_names=names)).facets
    assert list(named) == list(names)
    assert named == {name: every[name] for name in names}
    assert all(named[name] for name in names)


def test_a_facet_value_with_quotes_and_backslashes_is_counted_not_parsed(corpus):
    """Facet filters reach the counting as query text: a value typed with quote marks stays one value."""
    store, engine, raws = corpus
    result = engine.search(SearchRequest(countries=['Fo"o \\ bar" OR status:"RECRUITING'], facets=True, limit=0))
    assert result.total == 0
    assert result.facets["status"] == {}
    assert sum(result.facets["country"].values()) >= len(raws) // 2


def test_an_unknown_facet_name_is_an_error(corpus):
    store, engine, raws = corpus
    with pytest.raises(ValueError, match="colour"):
        engine.search(SearchRequest(facets=True, facet_names=("status", "colour")))


def test_every_value_of_the_multi_valued_facets_counts_exactly(corpus):
    """Phase, sex, age group and country are counted from single-valued copies (value sets, first + other
    countries): every value's count, not only the biggest, must equal the total with that value applied."""
    store, engine, raws = corpus
    result = engine.search(SearchRequest(query="cancer", facets=True, limit=0))
    request_field = {"phase": "phases", "sex": "sexes", "age_group": "age_groups", "country": "countries"}
    for facet, field_name in request_field.items():
        counts = result.facets[facet]
        assert len(counts) >= 2, facet
        assert all("|" not in value for value in counts), facet
        for value, count in counts.items():
            narrowed = engine.search(SearchRequest(query="cancer", limit=0, **{field_name: [value]}))
            assert narrowed.total == count, (facet, value)


@pytest.mark.parametrize("sort", [[SortKey()], [SortKey("last_updated")], [SortKey("start_date", False)],
                                  [SortKey("enrollment")], [SortKey("nct_id", False)],
                                  [SortKey("last_updated"), SortKey("enrollment", False)]])
@pytest.mark.parametrize("query", ["", "cancer"])
def test_paging_returns_every_result_exactly_once(corpus, sort, query):
    store, engine, raws = corpus
    whole = engine.search(SearchRequest(query=query, statuses=["COMPLETED"], sort=sort, limit=1000))
    reference = [hit.nct_id for hit in whole.hits]
    for page_size in (7, 10, 50):
        paged: list[str] = []
        offset = 0
        while offset < min(len(reference), 120):
            page = engine.search(SearchRequest(query=query, statuses=["COMPLETED"], sort=sort, offset=offset,
                                               limit=page_size))
            paged += [hit.nct_id for hit in page.hits]
            offset += page_size
        assert paged[:len(reference)] == reference[:len(paged)]
        assert len(paged) == len(set(paged))


def test_relevance_ties_are_broken_by_nct_id(corpus):
    store, engine, raws = corpus
    result = engine.search(SearchRequest(statuses=["COMPLETED"], limit=100))
    ids = [hit.nct_id for hit in result.hits]
    assert ids == sorted(ids)
