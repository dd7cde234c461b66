"""SQL metacharacters (quotes, comment and LIKE wildcards, backslashes, NUL) in every parameter of both APIs and
the website are harmless on both stores: never a 5xx, and the store is exactly as it was afterwards."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
import yaml
from conftest import SHARED_DATA, require
from fastapi.testclient import TestClient

PAYLOADS = ["'; DROP TABLE studies; --", "%", "_", "\\", '"', "'", "\x00", "' OR '1'='1", "%' OR 1=1 --",
            "1); SELECT pg_sleep(5); --", "NCT0%", "a\\%b_c", "\x00'; DELETE FROM sites; --"]
COMPAT_SPEC = SHARED_DATA.parent / "reference" / "ctgov-api-v2-openapi.yaml"
WEB_PAGES = {
    "/search": ["q", "cond", "intr", "loc", "radius", "age", "sex", "hv", "status", "results", "country", "sort",
                "page", "per_page", "format", "phase", "type", "funder", "age_group"],
    "/search.json": ["q", "cond", "loc", "country", "sort"],
    "/search.csv": ["q", "cond", "loc", "country"],
    "/locations": ["status", "page"],
    "/": ["q"],
}
WEB_PATH_TEMPLATES = ["/study/{}", "/locations/{}", "/locations/United States/{}", "/locations/{}/x/{}",
                      "/sitemaps/{}-1.xml"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hostile_app(request, shared_data: Path, tmp_path_factory):
    """The whole app over the shared v2 studies, on an SQLite file and on a fresh PostgreSQL database."""
    from trialfinder.api.limits import LimitsConfig
    from trialfinder.config import load_settings
    from trialfinder.index import build_index
    from trialfinder.ingest import ingest_paths
    from trialfinder.server import create_app
    from trialfinder.store import Store

    data_dir = tmp_path_factory.mktemp(f"hostile-{request.param}")
    admin = database = None
    if request.param == "postgresql":
        admin_url = request.getfixturevalue("postgres_admin_url")
        database = f"tf_hostile_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
        settings = load_settings(data_dir=data_dir, database_url=admin_url.rsplit("/", 1)[0] + "/" + database)
    else:
        settings = load_settings(data_dir=data_dir)
    store = Store.open(settings.database_url)
    ingest_paths(store, [shared_data / "ctgov" / "v2_json"])
    build_index(settings, store)
    store.close()
    with TestClient(create_app(settings, follow_interval=0, limits=LimitsConfig())) as client:
        yield client
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def store_fingerprint(client: TestClient) -> tuple:
    """Row counts of every table, and the table names: what an injection would change."""
    store = client.app.state.services.store
    with store.engine.connect() as conn:
        tables = sorted(sa.inspect(conn).get_table_names())
        counts = tuple(conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one() for table in tables)
    return tuple(tables), counts


def our_operations(client: TestClient) -> list[tuple[str, list[str], list[str]]]:
    """(path template, path parameters, query parameters) of every GET in our OpenAPI document, under /api."""
    document = client.get("/api/openapi.json").json()
    operations = []
    for path, methods in document["paths"].items():
        if "get" in methods:
            parameters = methods["get"].get("parameters", [])
            operations.append(("/api" + path, [p["name"] for p in parameters if p["in"] == "path"],
                               [p["name"] for p in parameters if p["in"] == "query"]))
    return operations


def compat_operations() -> list[tuple[str, list[str], list[str]]]:
    """The same for ClinicalTrials.gov's own API v2 document, served under /api/v2."""
    require(COMPAT_SPEC.is_file(), f"ClinicalTrials.gov spec not found at {COMPAT_SPEC}")
    document = yaml.safe_load(COMPAT_SPEC.read_text())
    operations = []
    for path, methods in document["paths"].items():
        if "get" not in methods:
            continue
        parameters = [p if "$ref" not in p else _resolve(document, p["$ref"])
                      for p in methods["get"].get("parameters", [])]
        operations.append(("/api/v2" + path, [p["name"] for p in parameters if p["in"] == "path"],
                           [p["name"] for p in parameters if p["in"] == "query"]))
    return operations


def _resolve(document: dict, reference: str) -> dict:
    node = document
    for part in reference.lstrip("#/").split("/"):
        node = node[part]
    return node


def fill(template: str, names: list[str], value: str) -> str:
    for name in names:
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return template


def assert_harmless(client: TestClient, url: str, params: dict | None = None) -> None:
    response = client.get(url, params=params)
    assert response.status_code < 500, f"{url} {params!r} -> {response.status_code}: {response.text[:300]}"


def test_sql_metacharacters_in_every_parameter_are_harmless(hostile_app):
    client = hostile_app
    before = store_fingerprint(client)
    operations = our_operations(client) + compat_operations()
    assert len(operations) >= 12
    requests = 0
    for template, path_names, query_names in operations:
        for payload in PAYLOADS:
            url = fill(template, path_names, payload if path_names else "")
            if not path_names:
                url = template
            for name in query_names:
                assert_harmless(client, fill(template, path_names, "NCT03475563") if path_names else url,
                                {name: payload})
                requests += 1
            if path_names:
                assert_harmless(client, url)
                requests += 1
    for page, names in WEB_PAGES.items():
        for payload in PAYLOADS:
            for name in names:
                assert_harmless(client, page, {name: payload})
                requests += 1
    for template in WEB_PATH_TEMPLATES:
        for payload in PAYLOADS:
            assert_harmless(client, template.replace("{}", quote(payload, safe="")))
            requests += 1
    assert store_fingerprint(client) == before, "no table or row changed"
    assert requests > 1000
