"""The ClinicalTrials.gov-compatible API (/api/v2) on the shared data: records verbatim, fields, paging, CSV,
errors in the spec's shape, and the same result sets as the search engine."""

from __future__ import annotations

import csv
import io
import zipfile
import orjson
import pytest
import yaml

from test_api_fixtures import api_app, api_data_dir, api_services, client  # noqa: F401

from conftest import SHARED_DATA

SPEC = SHARED_DATA.parent / "reference" / "ctgov-api-v2-openapi.yaml"


def all_pages(client, params: dict, page_size: int) -> tuple[list[str], list[dict]]:
    """Every NCT id over all pages, and each page's JSON body."""
    ids, pages, token = [], [], None
    while True:
        query = dict(params, pageSize=page_size, fields="NCTId")
        if token:
            query["pageToken"] = token
        response = client.get("/api/v2/studies", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        ids += [s["protocolSection"]["identificationModule"]["nctId"] for s in body["studies"]]
        token = body.get("nextPageToken")
        if not token:
            return ids, pages


@pytest.fixture(scope="module")
def ingested(shared_data) -> dict[str, list[bytes]]:
    """Every record read from the ingested files, by NCT id (duplicates kept: a store keeps the newest)."""
    from test_api_fixtures import LEGACY_FIXTURES, V2_JSON
    from trialfinder.ingest import Record, read_paths

    found: dict[str, list[bytes]] = {}
    for item in read_paths([shared_data.joinpath(*V2_JSON), shared_data.joinpath(*LEGACY_FIXTURES)]):
        if isinstance(item, Record):
            raw = item.raw.encode() if isinstance(item.raw, str) else item.raw
            found.setdefault(item.study.nct_id, []).append(raw)
    return found


def test_study_by_id_is_the_ingested_record_verbatim(client, api_services, ingested):
    assert len(ingested) == api_services.store.count()
    for nct_id, copies in ingested.items():
        response = client.get(f"/api/v2/studies/{nct_id}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == api_services.store.raw(nct_id).encode()  # byte for byte as stored
        assert orjson.loads(response.content) in [orjson.loads(copy) for copy in copies]


def test_lower_case_id_and_conditional_get(client):
    first = client.get("/api/v2/studies/nct00001177")
    assert first.status_code == 200 and first.headers["etag"] and "max-age" in first.headers["cache-control"]
    again = client.get("/api/v2/studies/NCT00001177", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_unknown_and_malformed_ids_are_plain_text_errors(client):
    missing = client.get("/api/v2/studies/NCT99999999")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/plain")
    assert "NCT99999999" in missing.text
    malformed = client.get("/api/v2/studies/12345")
    assert malformed.status_code == 400 and malformed.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("NCTId,BriefTitle", {"protocolSection": {"identificationModule": {"nctId": "NCT00001177",
                                                                          "briefTitle": "Study of Premenstrual "
                                                                          "Syndrome and Premenstrual Dysphoria"}}}),
        ("NCTId|OverallStatus", {"protocolSection": {"identificationModule": {"nctId": "NCT00001177"},
                                                     "statusModule": {"overallStatus": "RECRUITING"}}}),
    ],
)
def test_fields_trim_to_named_pieces(client, fields, expected):
    response = client.get("/api/v2/studies/NCT00001177", params={"fields": fields})
    assert response.status_code == 200
    assert response.json() == expected


def test_fields_take_modules_sections_and_dotted_paths(client, api_services):
    record = orjson.loads(api_services.store.raw("NCT00001177"))
    protocol = record["protocolSection"]
    by_module = client.get("/api/v2/studies/NCT00001177", params={"fields": "ConditionsModule"}).json()
    assert by_module == {"protocolSection": {"conditionsModule": protocol["conditionsModule"]}}
    by_path = client.get("/api/v2/studies/NCT00001177",
                         params={"fields": "protocolSection.identificationModule"}).json()
    assert by_path == {"protocolSection": {"identificationModule": protocol["identificationModule"]}}
    section = client.get("/api/v2/studies/NCT00001177", params={"fields": "ProtocolSection,HasResults"}).json()
    assert section == {"protocolSection": protocol, "hasResults": record["hasResults"]}


def test_fields_trim_inside_lists(client, api_services):
    nct_id = next(i for i in api_services.store.nct_ids()
                  if len(orjson.loads(api_services.store.raw(i))["protocolSection"]
                         .get("contactsLocationsModule", {}).get("locations", [])) > 2)
    record = orjson.loads(api_services.store.raw(nct_id))
    sites = record["protocolSection"]["contactsLocationsModule"]["locations"]
    body = client.get(f"/api/v2/studies/{nct_id}", params={"fields": "LocationCity,LocationCountry"}).json()
    trimmed = body["protocolSection"]["contactsLocationsModule"]["locations"]
    assert trimmed == [{k: s[k] for k in ("city", "country") if k in s} for s in sites if "city" in s or "country" in s]


def test_unknown_field_is_400(client):
    response = client.get("/api/v2/studies/NCT00001177", params={"fields": "NoSuchField"})
    assert response.status_code == 400 and "NoSuchField" in response.text


@pytest.mark.parametrize("page_size", [1, 7, 1000])
def test_paging_returns_every_study_once(client, api_services, page_size):
    ids, pages = all_pages(client, {}, page_size)
    assert sorted(ids) == api_services.store.nct_ids()
    assert len(ids) == len(set(ids))
    assert "nextPageToken" not in pages[-1]
    assert all("nextPageToken" in page for page in pages[:-1])


def test_no_token_after_an_exactly_full_last_page(client, api_services):
    chosen = api_services.store.nct_ids()[:14]
    ids, pages = all_pages(client, {"filter.ids": ",".join(chosen)}, 7)
    assert sorted(ids) == chosen and len(pages) == 2 and "nextPageToken" not in pages[-1]


def test_count_total_on_the_first_page_only(client, api_services):
    first = client.get("/api/v2/studies", params={"countTotal": "true", "pageSize": 5}).json()
    assert first["totalCount"] == api_services.store.count() and len(first["studies"]) == 5
    second = client.get("/api/v2/studies",
                        params={"countTotal": "true", "pageSize": 5, "pageToken": first["nextPageToken"]}).json()
    assert "totalCount" not in second


def test_page_token_must_belong_to_the_same_query(client):
    token = client.get("/api/v2/studies", params={"pageSize": 2}).json()["nextPageToken"]
    other = client.get("/api/v2/studies", params={"pageSize": 2, "pageToken": token,
                                                  "filter.overallStatus": "COMPLETED"})
    assert other.status_code == 400 and other.headers["content-type"].startswith("text/plain")
    garbage = client.get("/api/v2/studies", params={"pageToken": "not-a-token"})
    assert garbage.status_code == 400


def test_page_size_coercion_and_bad_values(client):
    assert len(client.get("/api/v2/studies", params={"pageSize": 0}).json()["studies"]) == 10
    assert len(client.get("/api/v2/studies", params={"pageSize": 5000}).json()["studies"]) <= 1000
    assert client.get("/api/v2/studies", params={"pageSize": -1}).status_code == 400
    assert client.get("/api/v2/studies", params={"pageSize": "ten"}).status_code == 400


def test_ids_filter_with_pipes_and_status_filter(client, api_services):
    chosen = api_services.store.nct_ids()[:3]
    body = client.get("/api/v2/studies", params={"filter.ids": "|".join(chosen), "fields": "NCTId"}).json()
    assert sorted(s["protocolSection"]["identificationModule"]["nctId"] for s in body["studies"]) == chosen
    assert client.get("/api/v2/studies", params={"filter.overallStatus": "NOPE"}).status_code == 400


def test_csv_has_the_download_columns_and_paging_headers(client, api_services):
    from trialfinder.api.csv_export import COLUMNS

    response = client.get("/api/v2/studies", params={"format": "csv", "pageSize": 3, "countTotal": "true"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == list(COLUMNS) and len(rows) == 4
    assert response.headers["x-total-count"] == str(api_services.store.count())
    following = client.get("/api/v2/studies", params={"format": "csv", "pageSize": 3,
                                                      "pageToken": response.headers["x-next-page-token"]})
    assert len(list(csv.reader(io.StringIO(following.text)))) == 3  # no header after the first page


def test_csv_columns_chosen_by_fields_and_single_study_csv(client):
    response = client.get("/api/v2/studies/NCT00001177",
                          params={"format": "csv", "fields": "NCT Number|Study Title|Conditions"})
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["NCT Number", "Study Title", "Conditions"]
    assert rows[1][0] == "NCT00001177" and "PMDD" in rows[1][2].split("|")


def test_single_study_as_zipped_json(client, api_services):
    response = client.get("/api/v2/studies/NCT00001177", params={"format": "json.zip"})
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        assert bundle.read("NCT00001177.json") == api_services.store.raw("NCT00001177").encode()


def test_version_enums_metadata_and_sizes(client, api_services):
    from trialfinder.model.labels import ENUMS

    version = client.get("/api/v2/version").json()
    assert version["apiVersion"] == "2.0.0" and len(version["dataTimestamp"]) == 19
    enums = client.get("/api/v2/studies/enums").json()
    assert {e["type"] for e in enums} == set(ENUMS)
    phase = next(e for e in enums if e["type"] == "Phase")
    assert {"value": "PHASE2", "legacyValue": "Phase 2"} in phase["values"] and "Phase" in phase["pieces"]
    metadata = client.get("/api/v2/studies/metadata").json()
    protocol = next(node for node in metadata if node["name"] == "protocolSection")
    assert any(child["piece"] == "IdentificationModule" for child in protocol["children"])
    sizes = client.get("/api/v2/stats/size").json()
    assert sizes["totalStudies"] == api_services.store.count()
    assert sum(r["studiesCount"] for r in sizes["ranges"]) == sizes["totalStudies"]


def _spec_validator(schema_name: str):
    from openapi_schema_validator import OAS30Validator

    spec = yaml.safe_load(SPEC.read_text())
    return OAS30Validator({"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]})


def test_every_stored_study_and_page_validates_against_the_spec(client, api_services):
    study = _spec_validator("Study")
    errors = {}
    for nct_id in api_services.store.nct_ids():
        problems = [e.message for e in study.iter_errors(client.get(f"/api/v2/studies/{nct_id}").json())]
        if problems:
            errors[nct_id] = problems[:3]
    assert not errors
    paged = _spec_validator("PagedStudies")
    paged.validate(client.get("/api/v2/studies", params={"pageSize": 50, "countTotal": "true"}).json())
    _spec_validator("FieldNodeList").validate(client.get("/api/v2/studies/metadata").json())
    _spec_validator("EnumInfoList").validate(client.get("/api/v2/studies/enums").json())
    _spec_validator("GzipStats").validate(client.get("/api/v2/stats/size").json())
    _spec_validator("Version").validate(client.get("/api/v2/version").json())


# --- the same result set as the search engine -------------------------------------------------------------------

COMPAT_QUERIES = [
    ({"query.cond": "diabetes"}, {"condition": "diabetes"}),
    ({"query.term": "lung cancer"}, {"query": "lung cancer"}),
    ({"query.intr": "metformin"}, {"intervention": "metformin"}),
    ({"query.cond": "cancer", "filter.overallStatus": "RECRUITING|NOT_YET_RECRUITING"},
     {"condition": "cancer", "statuses": ["RECRUITING", "NOT_YET_RECRUITING"]}),
    ({"aggFilters": "phase:2 3,status:rec"}, {"phases": ["PHASE2", "PHASE3"], "statuses": ["RECRUITING"]}),
    ({"filter.advanced": "AREA[Phase]PHASE2 AND AREA[StudyType]INTERVENTIONAL"},
     {"advanced": "AREA[Phase]PHASE2 AND AREA[StudyType]INTERVENTIONAL"}),
    ({"filter.geo": "distance(42.3601,-71.0589,50mi)"}, {"near": (42.3601, -71.0589, 80.467)}),
]


@pytest.mark.parametrize(("compat", "ours"), COMPAT_QUERIES, ids=[str(c) for c, _ in COMPAT_QUERIES])
def test_same_set_as_the_search_engine(client, api_services, compat, ours):
    engine = api_services.engine
    from trialfinder.search.types import Near, SearchRequest

    fields = dict(ours)
    if "near" in fields:
        lat, lon, radius = fields.pop("near")
        fields["near"] = Near(lat=lat, lon=lon, radius_km=radius)
    total = engine.search(SearchRequest(**fields, limit=1)).total
    expected = {hit.nct_id for hit in engine.search(SearchRequest(**fields, limit=max(total, 1))).hits}
    ids, _pages = all_pages(client, compat, 1000)
    assert set(ids) == expected
    assert len(ids) == len(set(ids))


def test_age_range_keeps_studies_without_that_bound(client, api_services):
    no_minimum = {
        nct_id for nct_id, raw in api_services.store.iter_raw()
        if not orjson.loads(raw)["protocolSection"].get("eligibilityModule", {}).get("minimumAge")
    }
    ids, _pages = all_pages(client, {"filter.advanced": "AREA[MinimumAge]RANGE[MIN, 16 years]"}, 1000)
    assert no_minimum and no_minimum <= set(ids)  # ClinicalTrials.gov would drop them


def test_records_and_paging_on_each_backend(store, database_url, tmp_path, shared_data):
    """SQLite and PostgreSQL both give the records back byte for byte and page through them exactly once."""
    from fastapi.testclient import TestClient

    from test_api_fixtures import make_app
    from trialfinder.config import Settings
    from trialfinder.ingest import ingest_paths
    from trialfinder.search import SearchEngine
    from trialfinder.server import Services

    ingest_paths(store, [shared_data / "ctgov" / "v2_json" / "dgg32_graph_bigquery"])
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    backend = TestClient(make_app(Services(settings, store, SearchEngine.open(settings, store))))
    ids, pages = all_pages(backend, {}, 7)
    assert sorted(ids) == store.nct_ids() and "nextPageToken" not in pages[-1]
    for nct_id in ids[:20]:
        assert backend.get(f"/api/v2/studies/{nct_id}").content == store.raw(nct_id).encode()
