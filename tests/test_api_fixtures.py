"""Fixtures shared by the API tests (imported by each tests/test_api_*.py, since conftest.py is shared by all):
a store built from ../shared/data, the search engine over it, and an app with only the API mounted."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

V2_JSON = ("ctgov", "v2_json")
LEGACY_FIXTURES = ("ctgov", "legacy_xml", "aact_spec_fixtures")


@pytest.fixture(scope="session")
def api_data_dir(shared_data: Path, tmp_path_factory) -> Path:
    """A data dir whose SQLite store holds every v2 JSON study and the AACT legacy XML fixtures."""
    from trialfinder.config import load_settings
    from trialfinder.ingest import ingest_paths
    from trialfinder.store import Store

    directory = tmp_path_factory.mktemp("api-data")
    settings = load_settings(data_dir=directory)
    store = Store.open(settings.database_url)
    ingest_paths(store, [shared_data.joinpath(*V2_JSON), shared_data.joinpath(*LEGACY_FIXTURES)])
    store.close()
    return directory


@pytest.fixture(scope="session")
def api_services(api_data_dir: Path):
    """Services over the shared-data store and its search index (built on first open)."""
    from trialfinder.config import load_settings
    from trialfinder.search import SearchEngine
    from trialfinder.server import Services
    from trialfinder.store import Store

    settings = load_settings(data_dir=api_data_dir)
    store = Store.open(settings.database_url)
    yield Services(settings=settings, store=store, engine=SearchEngine.open(settings, store))
    store.close()


def make_app(services) -> FastAPI:
    """A bare app with only the API mounted (the website is tested elsewhere)."""
    from trialfinder.api import register_api

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    register_api(app)
    return app


@pytest.fixture(scope="session")
def api_app(api_services) -> FastAPI:
    return make_app(api_services)


@pytest.fixture(scope="session")
def client(api_app) -> TestClient:
    return TestClient(api_app)
