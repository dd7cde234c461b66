"""Our own API (/api/...): studies with derived fields and caching headers, search paging by cursor, facets,
locations, stats, sync status, error bodies, CORS and the offline docs page."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from test_api_fixtures import api_app, api_data_dir, api_services, client, make_app  # noqa: F401


def test_study_has_the_record_verbatim_and_derived_fields(client, api_services):
    response = client.get("/api/studies/NCT00001177")
    assert response.status_code == 200
    body = response.json()
    assert body["nct_id"] == "NCT00001177"
    assert body["record"] == orjson.loads(api_services.store.raw("NCT00001177"))
    assert api_services.store.raw("NCT00001177").encode() in response.content
    derived = body["derived"]
    assert derived["overall_status_label"] == "Recruiting" and derived["age_range"] == "18 to 50 years old"


def test_study_etag_and_not_modified(client):
    first = client.get("/api/studies/nct1177")
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")
    assert client.get("/api/studies/NCT00001177", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/api/studies/NCT00001177", headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    ("url", "status", "parameter"),
    [
        ("/api/studies/NCT99999999", 404, "nct_id"),
        ("/api/studies/not-an-id", 400, "nct_id"),
        ("/api/search?limit=0", 400, "limit"),
        ("/api/search?age=abc", 400, "age"),
        ("/api/search?status=NOPE", 400, "status"),
        ("/api/search?sort=distance", 400, "sort"),
        ("/api/search?start_from=2020-1", 400, "start_from"),
        ("/api/search?cursor=garbage", 400, "cursor"),
        ("/api/search?lat=10", 400, "lon"),
        ("/api/locations?region=Bavaria", 400, "region"),
        ("/api/no/such/thing", 404, None),
    ],
)
def test_errors_have_one_shape(client, url, status, parameter):
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["message"] and error["parameter"] == parameter


def test_unknown_place_suggests_names(client):
    body = client.get("/api/search", params={"near": "Bostn, MA"}).json()
    assert body["error"]["parameter"] == "near"
    assert isinstance(body["error"]["suggestions"], list)


def test_search_pages_by_cursor_through_every_hit(client):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 100, "status": "recruiting"}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/api/search", params=params).json()
        seen += [hit["nct_id"] for hit in body["hits"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == body["total"] and pages == -(-body["total"] // 100)
    assert all(hit["url"] == f"/api/studies/{hit['nct_id']}" for hit in body["hits"])


def test_cursor_belongs_to_its_query(client):
    cursor = client.get("/api/search", params={"limit": 1}).json()["next_cursor"]
    assert client.get("/api/search", params={"limit": 5, "cursor": cursor}).status_code == 200  # limit may change
    response = client.get("/api/search", params={"limit": 1, "cursor": cursor, "phase": "PHASE2"})
    assert response.status_code == 400 and response.json()["error"]["parameter"] == "cursor"


def test_search_near_a_place_reports_the_place(client):
    body = client.get("/api/search", params={"near": "Boston, MA", "radius": "25mi"}).json()
    assert body["place"]["kind"] in ("city", "zip") and round(body["place"]["radius_km"]) == 40


def test_facets_alone(client):
    body = client.get("/api/facets", params={"status": "RECRUITING"}).json()
    assert set(body) == {"total", "facets"} and body["total"] > 0


def test_locations_drill_down(client):
    countries = client.get("/api/locations").json()
    assert countries["level"] == "country"
    top = countries["items"][0]
    regions = client.get("/api/locations", params={"country": top["name"]}).json()
    assert regions["level"] == "region" and regions["items"]
    region = regions["items"][0]["name"]
    cities = client.get("/api/locations", params={"country": top["name"], "region": region}).json()
    assert cities["level"] == "city" and all(city["studies"] <= top["studies"] for city in cities["items"])


def test_stats_and_sync(client, api_services):
    stats = client.get("/api/stats").json()
    assert stats["studies"] == api_services.store.count() and sum(stats["by_status"].values()) == stats["studies"]
    sync = client.get("/api/sync").json()
    assert sync["studies"] == stats["studies"] and sync["change_counter"] == api_services.store.change_counter()


def test_cors_follows_the_environment(api_services, monkeypatch):
    monkeypatch.setenv("TRIALFINDER_CORS_ORIGINS", "https://example.org")
    allowed = TestClient(make_app(api_services))
    response = allowed.get("/api/stats", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    monkeypatch.delenv("TRIALFINDER_CORS_ORIGINS")
    closed = TestClient(make_app(api_services))
    assert "access-control-allow-origin" not in closed.get("/api/stats", headers={"Origin": "https://x.org"}).headers


def test_docs_page_uses_local_swagger_ui(client):
    import trialfinder.web

    html = client.get("/api/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "/api/openapi.json" in html
    assert "cdn" not in html.lower() and "https://" not in html
    vendor = Path(trialfinder.web.__file__).parent / "static" / "vendor" / "swagger-ui"
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert (vendor / asset).is_file(), f"{asset} missing: run the website's asset step (npm swagger-ui-dist)"


def test_openapi_document_lists_our_endpoints_only(client):
    document = client.get("/api/openapi.json").json()
    assert document["servers"][0]["url"] == "/api"
    assert set(document["paths"]) == {"/search", "/facets", "/studies/{nct_id}", "/locations", "/stats", "/sync", "/match"}
