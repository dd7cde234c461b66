"""Search, exports, 400 pages, trials by location and the sitemap, through the ASGI app."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from trialfinder.geo.distance import haversine_km

from test_web_fixtures import (  # noqa: F401
    REFERENCE_ID, in_order, visible_text, web, web_app, web_data_dir, web_services,
)


def test_home_leads_with_a_labelled_search_form(web):
    html = web.get("/").text
    form = html[html.index("<form"):html.index("</form>")]
    assert 'action="/search"' in form and 'method="get"' in form
    for name in ("q", "loc", "radius", "age", "sex", "hv", "status"):
        ids = re.findall(rf'<(?:input|select)[^>]*id="([^"]+)"[^>]*name="{name}"', form)
        assert ids, name
        assert all(f'<label for="{i}"' in form for i in ids), name
    assert re.search(r'name="status" type="radio" value="recruiting" checked', form)


def test_search_shows_count_cards_facets_and_defaults_to_recruiting(web):
    html = web.get("/search", params={"q": "cancer"}).text
    text = visible_text(html)
    assert re.search(r"\b\d[\d,]* trials?\b", text)
    assert 'value="recruiting" checked' in html
    cards = re.findall(r'<li class="card">(.*?)</li>\s*(?=<li class="card">|</ol>)', html, re.S)
    assert cards and all("Recruiting" in visible_text(card) for card in cards)
    assert 'name="phase"' in html and re.search(r'<span class="count">\d', html)


def test_search_near_a_place_shows_nearest_site_distance_and_map(web):
    html = web.get("/search", params={"q": "cancer", "loc": "Boston, MA", "radius": "250mi", "status": "all"}).text
    text = visible_text(html)
    assert "within 250 miles of Boston" in text
    assert re.search(r"Nearest site .*? \d[\d.,]* mi", text)
    assert 'class="map results-map"' in html
    data = json.loads(unescape(re.search(r"data-map='([^']*)'", html).group(1)))
    assert "sites" not in data and data["source"].startswith("/search/sites.json?")
    answer = web.get(data["source"])
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    sites = answer.json()["sites"]
    assert sites and all({"lat", "lon", "title", "detail", "href"} <= set(site) for site in sites)
    card_ids = re.findall(r'<h3 class="card-title"><a href="/study/(NCT\d{8})"', html)
    assert {site["href"].removeprefix("/study/") for site in sites} <= set(card_ids)
    boston = (42.3601, -71.0589)
    assert all(haversine_km(*boston, site["lat"], site["lon"]) <= 250 * 1.609344 + 5 for site in sites)


def test_map_sites_are_those_of_the_named_studies_within_the_circle(web):
    html = web.get("/search", params={"q": "cancer", "status": "all"}).text
    ids = re.findall(r'<h3 class="card-title"><a href="/study/(NCT\d{8})"', html)[:5]
    everywhere = web.get("/search/sites.json", params={"ids": ",".join(ids)}).json()["sites"]
    assert everywhere and {site["href"].removeprefix("/study/") for site in everywhere} <= set(ids)
    first = everywhere[0]
    near = web.get("/search/sites.json", params={"ids": ",".join(ids), "lat": first["lat"], "lon": first["lon"],
                                                   "km": 1}).json()["sites"]
    assert near and len(near) <= len(everywhere)
    assert all(haversine_km(first["lat"], first["lon"], site["lat"], site["lon"]) <= 1 for site in near)
    lowercase = web.get("/search/sites.json", params={"ids": ids[0].lower()}).json()["sites"]
    assert lowercase == [site for site in everywhere if site["href"] == f"/study/{ids[0]}"]


@pytest.mark.parametrize("params, parameter", [
    ({"ids": "NCT1234,DROP TABLE"}, "ids"), ({"ids": ",".join(["NCT00000001"] * 51)}, "ids"), ({}, "ids"),
    ({"ids": "NCT00000001", "lat": "40"}, "lat"), ({"ids": "NCT00000001", "lat": "nan", "lon": "1", "km": "5"}, "lat"),
    ({"ids": "NCT00000001", "lat": "1", "lon": "181", "km": "5"}, "lon"), ({"ids": "NCT00000001", "colour": "red"}, "colour"),
])
def test_a_malformed_map_request_is_a_400_naming_the_parameter(web, params, parameter):
    response = web.get("/search/sites.json", params=params)
    assert response.status_code == 400
    assert parameter in visible_text(response.text)


def test_status_filter_narrows(web):
    every = web.get("/search", params={"status": "all"}).text
    completed = web.get("/search", params={"status": "completed"}).text
    count = lambda html: int(re.search(r"([\d,]+) trials?", visible_text(html)).group(1).replace(",", ""))
    assert 0 < count(completed) < count(every)


def test_htmx_gets_a_fragment_and_plain_get_a_page(web):
    full = web.get("/search", params={"q": "asthma"})
    fragment = web.get("/search", params={"q": "asthma"}, headers={"HX-Request": "true"})
    assert "<html" in full.text and "<html" not in fragment.text
    assert 'id="filters"' in fragment.text and "results-heading" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    restore = web.get("/search", params={"q": "asthma"},
                      headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_facet_links_and_pager_keep_the_query(web):
    html = web.get("/search", params={"status": "all", "per_page": "10"}).text
    pager = re.search(r'<nav class="pager".*?</nav>', html, re.S).group(0)
    next_href = re.search(r'rel="next" hx-get="([^"]+)"', pager).group(1).replace("&amp;", "&")
    params = parse_qs(urlsplit(next_href).query)
    assert params["status"] == ["all"] and params["page"] == ["2"] and params["per_page"] == ["10"]
    second = web.get(next_href).text
    assert "Showing 11–20" in visible_text(second)


def test_unknown_place_explains_and_suggests(web):
    response = web.get("/search", params={"q": "cancer", "loc": "Bostn, Massachusets"})
    assert response.status_code == 200
    text = visible_text(response.text)
    assert "We could not find the place “Bostn, Massachusets”" in text
    assert "Did you mean" in text or "Try a US ZIP code" in text
    assert "No trials match" not in text


def test_exports_as_csv_and_json(web):
    params = {"q": "cancer", "status": "all"}
    as_json = web.get("/search.json", params=params)
    assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
    body = as_json.json()
    assert body["total"] >= body["count"] == len(body["studies"]) > 0
    as_csv = web.get("/search.csv", params=params)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["nct_id"] for r in rows] == [s["nct_id"] for s in body["studies"]]
    assert web.get("/search", params={**params, "format": "csv"}).text == as_csv.text


@pytest.mark.parametrize("query", [
    "age=abc", "age=-3", "age=500", "age=nan", "radius=far", "radius=-5mi", "radius=99999mi", "status=sleeping",
    "phase=phase9", "type=nonsense", "sort=random", "page=0", "page=abc", "page=999999999999", "per_page=7",
    "sex=other", "format=xml", "q=" + "x" * 600, "loc=" + "y" * 300, "q=a&q=b", "loc=91,200",
])
def test_malformed_query_strings_are_400_pages(web, query):
    response = web.get("/search?" + query)
    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert "We could not read that request" in response.text


def test_bad_city_status_and_page_are_400(web):
    assert web.get("/locations/united-states/massachusetts/boston?status=nope").status_code == 400
    assert web.get("/locations/united-states/massachusetts/boston?page=100000").status_code == 400


def test_locations_drill_down_country_state_city(web):
    countries = web.get("/locations")
    assert countries.status_code == 200
    assert in_order(visible_text(countries.text), "Clinical trials by location", "United States")
    assert 'href="/locations/united-states"' in countries.text
    country = web.get("/locations/united-states").text
    assert 'href="/locations/united-states/massachusetts"' in country
    state = web.get("/locations/united-states/massachusetts").text
    assert 'href="/locations/united-states/massachusetts/boston"' in state
    city = web.get("/locations/united-states/massachusetts/boston")
    text = visible_text(city.text)
    assert city.status_code == 200 and "Clinical trials in Boston" in text
    total = int(re.search(r"([\d,]+) trials?", text.split("Clinical trials in Boston", 1)[1]).group(1))
    recruiting = visible_text(web.get("/locations/united-states/massachusetts/boston?status=recruiting").text)
    assert int(re.search(r"([\d,]+) trials?", recruiting.split("Status", 1)[1].split(")", 1)[1]).group(1)) <= total
    assert "/study/NCT" in city.text


def test_sites_without_a_region_have_a_path(web):
    html = web.get("/locations/france").text
    assert 'href="/locations/france/unspecified"' in html
    cities = web.get("/locations/france/unspecified").text
    first_city = re.search(r'href="(/locations/france/unspecified/[^"]+)"', cities).group(1)
    assert web.get(first_city).status_code == 200


def test_site_on_trial_page_links_to_its_city(web):
    html = web.get(f"/study/{REFERENCE_ID}").text
    assert 'href="/locations/china/unspecified/beijing"' in html
    assert web.get("/locations/china/unspecified/beijing").status_code == 200


def test_sitemap_index_lists_study_and_location_pages(web, web_services):
    index = web.get("/sitemap.xml")
    assert index.status_code == 200 and index.headers["content-type"].startswith("application/xml")
    maps = re.findall(r"<loc>([^<]+)</loc>", index.text)
    assert any("/sitemaps/studies-1.xml" in m for m in maps) and any("/sitemaps/locations-1.xml" in m for m in maps)
    studies = web.get("/sitemaps/studies-1.xml").text
    assert studies.count("<url>") == web_services.store.count()
    assert f"/study/{REFERENCE_ID}</loc>" in studies
    locations = web.get("/sitemaps/locations-1.xml").text
    assert "/locations/united-states/massachusetts/boston</loc>" in locations
    assert "Sitemap:" in web.get("/robots.txt").text


def test_sitemap_pages_split_large_sets(web, monkeypatch):
    from trialfinder.web.routes import sitemap

    monkeypatch.setattr(sitemap, "URLS_PER_SITEMAP", 500)
    maps = re.findall(r"<loc>([^<]+)</loc>", web.get("/sitemap.xml").text)
    study_maps = [m for m in maps if "/sitemaps/studies-" in m]
    assert len(study_maps) > 1
    last = urlsplit(study_maps[-1]).path
    assert 0 < web.get(last).text.count("<url>") <= 500


def test_status_choices_show_their_result_counts(web):
    html = web.get("/search?q=cancer&status=all").text
    counts = {value: int(n.replace(",", "")) for value, n in re.findall(
        r'for="f-status-(\w+)">[^<]*<span class="count">([\d,]+)</span>', html)}
    assert set(counts) == {"recruiting", "not_yet_recruiting", "open", "active", "completed", "closed", "all"}
    assert counts["open"] >= counts["recruiting"] + counts["not_yet_recruiting"]
    assert counts["all"] >= counts["closed"] + counts["recruiting"]
    # each count is what choosing that status gives, whichever status is chosen now
    recruiting = visible_text(web.get("/search?q=cancer&status=recruiting").text)
    assert f"{counts['recruiting']:,} trial" in recruiting
    again = web.get("/search?q=cancer&status=recruiting").text
    assert re.search(rf'for="f-status-all">[^<]*<span class="count">{counts["all"]:,}</span>', again)


def test_home_form_status_choices_have_no_counts(web):
    assert 'class="count"' not in web.get("/").text


def test_study_sitemap_gives_each_trial_its_last_update(web, web_services):
    studies = web.get("/sitemaps/studies-1.xml").text
    assert f"<loc>http://testserver/study/{REFERENCE_ID}</loc><lastmod>2024-06-10</lastmod>" in studies
    lastmods = re.findall(r"<lastmod>([^<]+)</lastmod>", studies)
    with web_services.store.engine.connect() as conn:
        dated = conn.exec_driver_sql("SELECT count(*) FROM studies WHERE last_update <> ''").scalar_one()
    assert len(lastmods) == dated and studies.count("<url>") == web_services.store.count()
    assert all(re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value) for value in lastmods)
    assert web.get("/sitemaps/studies-1000000000.xml").status_code == 404
