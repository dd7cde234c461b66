"""A real third-party ClinicalTrials.gov API v2 client, PyPI `pytrials` (1.x speaks API v2), pointed at a
trialfinder server on loopback instead of clinicaltrials.gov: its search and fetch calls work unchanged."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from test_api_fixtures import api_data_dir, api_services, make_app  # noqa: F401

import pytrials.client as pytrials_client


@pytest.fixture(scope="module")
def server_url(api_services):
    """A real uvicorn server on a free loopback port, serving the API; its base URL for API v2 clients."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(api_services), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/api/v2/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def ct(server_url, monkeypatch):
    # pytrials has no base-URL setting: its class constant is the documented way to retarget it.
    monkeypatch.setattr(pytrials_client.ClinicalTrials, "_BASE_URL", server_url)
    return pytrials_client.ClinicalTrials()


def test_client_reads_our_version(ct, api_services):
    api_version, data_timestamp = ct.api_info
    assert api_version == "2.0.0" and data_timestamp


def test_client_search_as_csv(ct, api_services):
    rows = ct.get_full_studies(search_expr="", max_studies=50)
    from trialfinder.api.csv_export import COLUMNS

    assert rows[0] == list(COLUMNS)
    assert len(rows) == 1 + min(50, api_services.store.count())
    stored = set(api_services.store.nct_ids())
    assert all(row[0] in stored for row in rows[1:])


def test_client_search_as_json_and_chosen_fields(ct, api_services):
    full = ct.get_full_studies(search_expr="", max_studies=5, fmt="json")
    assert len(full["studies"]) == 5 and "protocolSection" in full["studies"][0]
    chosen = ct.get_study_fields(search_expr="", fields=["NCTId", "Condition", "BriefTitle"], max_studies=20,
                                 fmt="json")
    for study in chosen["studies"]:
        assert set(study["protocolSection"]) <= {"identificationModule", "conditionsModule"}
    columns = ct.get_study_fields(search_expr="", fields=["NCT Number", "Conditions", "Study Title"],
                                  max_studies=20)
    assert columns[0] == ["NCT Number", "Conditions", "Study Title"] and len(columns) == 21


def test_client_fetches_a_study_by_id(ct, api_services):
    nct_id = "NCT00001177"
    found = ct.get_full_studies(search_expr=nct_id, max_studies=1, fmt="json")
    import orjson

    assert found["studies"] == [orjson.loads(api_services.store.raw(nct_id))]
    fields = ct.get_study_fields(search_expr=nct_id, fields=["NCT Number", "Study Status"], max_studies=1)
    assert fields == [["NCT Number", "Study Status"], [nct_id, "RECRUITING"]]
