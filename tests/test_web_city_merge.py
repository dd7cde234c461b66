"""Trials by location: one page per city however the registry spells it, and the old per-spelling URLs redirect."""

from __future__ import annotations

import re

import sqlalchemy as sa

from test_web_fixtures import visible_text, web, web_app, web_data_dir, web_services  # noqa: F401
from trialfinder.store.locations import NameCount
from trialfinder.web.directory import merge_by_slug
from trialfinder.web.slugs import city_slug, city_slugs, slugify


def test_city_slug_spells_out_abbreviations_and_drops_postal_suffixes():
    assert city_slug("Ft. Lauderdale") == city_slug("Ft Lauderdale") == city_slug("Fort Lauderdale") == "fort-lauderdale"
    assert city_slug("St. Gallen") == city_slug("Saint Gallen") == "saint-gallen"
    assert city_slug("Mt. Vernon") == "mount-vernon"
    assert city_slug("SAINT ÉTIENNE CEDEX 2") == city_slug("Saint-Etienne") == "saint-etienne"
    assert city_slug("Stanford") == "stanford"  # only a whole first word is an abbreviation
    assert city_slug("St") == "st" and city_slug("Cedex") == "cedex"


def test_city_suffix_merges_only_when_the_plain_name_is_listed():
    slugs = city_slugs(["New York", "NEW YORK CITY", "Kansas City", "Sapporo-shi", "Sapporo"])
    assert slugs["NEW YORK CITY"] == slugs["New York"] == "new-york"
    assert slugs["Kansas City"] == "kansas-city"
    assert slugs["Sapporo-shi"] == "sapporo"


def test_merged_city_keeps_every_spelling_and_the_commonest_name():
    counts = [NameCount("New York", 40), NameCount("New York City", 2), NameCount("NEW YORK", 3)]
    [entry] = merge_by_slug(counts, slugs=city_slugs(c.name for c in counts))
    assert (entry.slug, entry.name, entry.studies) == ("new-york", "New York", 45)
    assert set(entry.spellings) == {"New York", "New York City", "NEW YORK"}


def test_state_page_lists_one_new_york_and_its_page_includes_every_spelling(web, web_services):
    state = web.get("/locations/united-states/new-york").text
    assert 'href="/locations/united-states/new-york/new-york"' in state
    assert "/new-york/new-york-city" not in state
    with web_services.store.engine.connect() as conn:
        spelled_city = conn.exec_driver_sql(
            "SELECT DISTINCT nct_id FROM sites WHERE country = 'United States' AND state = 'New York' "
            "AND city = 'New York City'").scalars().all()
    assert spelled_city, "the shared data lists sites in 'New York City'"
    city = web.get("/locations/united-states/new-york/new-york?status=all")
    assert city.status_code == 200
    total = int(re.search(r"([\d,]+) trials?", visible_text(city.text).split("Clinical trials in New York", 1)[1])
                .group(1).replace(",", ""))
    pages = [city.text] + [web.get(f"/locations/united-states/new-york/new-york?status=all&page={n}").text
                           for n in range(2, -(-total // 50) + 1)]
    listed = set(re.findall(r'href="/study/(NCT\d{8})"', "".join(pages)))
    assert set(spelled_city) <= listed


def test_old_spelling_urls_redirect_to_the_merged_page(web):
    response = web.get("/locations/united-states/new-york/new-york-city?status=recruiting", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/locations/united-states/new-york/new-york?status=recruiting"
    response = web.get("/locations/united-states/florida/ft-lauderdale", follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"].endswith("/florida/fort-lauderdale")
    assert web.get("/locations/united-states/florida/fort-lauderdale").status_code == 200
    assert web.get("/locations/united-states/florida/no-such-town").status_code == 404


def test_sitemap_lists_merged_city_pages_only(web):
    locations = web.get("/sitemaps/locations-1.xml").text
    assert "/locations/united-states/new-york/new-york</loc>" in locations
    assert "/new-york/new-york-city</loc>" not in locations and "/florida/ft-lauderdale</loc>" not in locations


def test_trial_page_links_a_site_to_its_merged_city(web, web_services):
    with web_services.store.engine.connect() as conn:
        nct_id, country, state, city = conn.execute(sa.text(
            "SELECT nct_id, country, state, city FROM sites WHERE facility <> '' AND state <> '' "
            "AND (city LIKE 'Ft%' OR city LIKE 'St.%' OR city LIKE 'St %' OR city LIKE 'Mt%') "
            "ORDER BY nct_id LIMIT 1")).one()
    assert city_slug(city) != slugify(city)
    href = f"/locations/{slugify(country)}/{slugify(state)}/{city_slug(city)}"
    assert f'href="{href}"' in web.get(f"/study/{nct_id}").text
    assert web.get(href).status_code == 200
