"""store/locations.py: the read-only queries behind the trials-by-location pages, on SQLite and PostgreSQL,
over real records from ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trialfinder.model import study_from_dict
from trialfinder.store import StudyWrite, sites_from_record
from trialfinder.store import locations

SOURCE = ("ctgov", "v2_json", "dgg32_graph_bigquery", "ctg-studies.json")


@pytest.fixture
def filled(store, shared_data: Path):
    """The store with 100 real studies and their sites (plus one site with an empty state)."""
    records = json.loads(shared_data.joinpath(*SOURCE).read_text(encoding="utf-8"))
    writes = [StudyWrite(raw=json.dumps(r), study=(s := study_from_dict(r)), source="test", sites=sites_from_record(s))
              for r in records]
    writes[0].sites.append(sites_from_record(writes[0].study)[0].__class__(
        facility="Empty-state clinic", city="Nowhere", state="", zip=None, country="Testland", status="RECRUITING",
        lat=None, lon=None))
    store.upsert(writes)
    return store, writes


def _expected_countries(writes) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for write in writes:
        for site in write.sites:
            if site.country:
                found.setdefault(site.country, set()).add(write.nct_id)
    return found


def test_country_counts_are_distinct_studies(filled):
    store, writes = filled
    counted = {item.name: item.studies for item in locations.country_counts(store)}
    assert counted == {country: len(ids) for country, ids in _expected_countries(writes).items()}


def test_states_and_cities_narrow_down(filled):
    store, writes = filled
    states = {item.name: item.studies for item in locations.state_counts(store, ["United States"])}
    assert states and all(n > 0 for n in states.values())
    busiest = max((s for s in states if s), key=lambda s: states[s])
    cities = locations.city_counts(store, ["United States"], [busiest])
    expected = {site.city for w in writes for site in w.sites
                if site.country == "United States" and site.state == busiest and site.city}
    assert {c.name for c in cities} == expected


def test_empty_state_counts_as_missing(filled):
    store, _ = filled
    assert [(s.name, s.studies) for s in locations.state_counts(store, ["Testland"])] == [(None, 1)]
    assert [c.name for c in locations.city_counts(store, ["Testland"], [None])] == ["Nowhere"]


def test_studies_in_city_filters_by_status_and_pages(filled):
    store, writes = filled
    city_sites = [(w, site) for w in writes for site in w.sites if site.country == "United States" and site.city]
    _, site = city_sites[0]
    every = locations.studies_in_city(store, ["United States"], [site.state], [site.city], limit=1000)
    expected = {w.nct_id for w, s in city_sites if (s.state, s.city) == (site.state, site.city)}
    assert {s.nct_id for s in every.studies} == expected and every.total == len(expected)
    assert sum(every.by_status.values()) == every.total
    status = every.studies[0].overall_status
    only = locations.studies_in_city(store, ["United States"], [site.state], [site.city], [status])
    assert only.total == every.by_status[status]
    assert all(s.overall_status == status for s in only.studies)
    first = locations.studies_in_city(store, ["United States"], [site.state], [site.city], limit=1)
    assert len(first.studies) == 1 and first.studies[0].sites and first.studies[0].sites[0].facility is not None


def test_sites_of_studies_and_all_places(filled):
    store, writes = filled
    ids = [w.nct_id for w in writes[:3]]
    grouped = locations.sites_of_studies(store, ids)
    with_points = {w.nct_id: sum(s.lat is not None for s in w.sites) for w in writes[:3]}
    assert {k: len(v) for k, v in grouped.items()} == {k: n for k, n in with_points.items() if n}
    site = next(s for w in writes[:3] for s in w.sites if s.lat is not None)
    boxed = locations.sites_of_studies(store, ids, (site.lat - .01, site.lat + .01, site.lon - .01, site.lon + .01))
    assert boxed and all(abs(s["lat"] - site.lat) <= .01 for found in boxed.values() for s in found)
    places = set(locations.all_places(store))
    assert ("Testland", None, "Nowhere") in places
    assert locations.sites_of_studies(store, []) == {}


def test_sites_of_studies_per_study_keeps_each_studys_first_sites(filled):
    store, writes = filled
    ids = [w.nct_id for w in writes]
    everything = locations.sites_of_studies(store, ids)
    capped = locations.sites_of_studies(store, ids, per_study=2)
    assert any(len(found) > 2 for found in everything.values())
    assert capped.keys() == everything.keys()
    assert all(capped[nct_id] == found[:2] for nct_id, found in everything.items())


def test_study_updates_pages_through_every_study_in_id_order(filled):
    store, writes = filled
    pages = [locations.study_updates(store, offset, 30) for offset in range(0, len(writes) + 30, 30)]
    listed = [row for page in pages for row in page]
    assert [nct_id for nct_id, _ in listed] == sorted(w.nct_id for w in writes)
    by_id = dict(listed)
    assert all(by_id[w.nct_id] == (w.study.last_update_posted or None) for w in writes)
