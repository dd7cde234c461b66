"""Every real record in ../shared/data, once, through the trial page, both APIs and the index document builder.

Marked slow (a couple of CPU minutes) but run by default and in CI: `-m "not slow"` skips it while iterating.
The other web and API tests look closely at a few chosen records; this sweep only checks that no record of any
shape (API v2 JSON in every saved form, legacy XML, the sparse TrialGPT conversions) breaks a path: status 200,
nothing executable from the record on the page, the stored record served back as it was read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from test_robustness_records import app_client, script_and_handler_tags
from test_web_fixtures import open_services

SOURCES = (("ctgov", "v2_json"), ("ctgov", "legacy_xml"), ("trialgpt_trial_texts", "as_ctgov_v2.json"))
# Tags or attributes that could only come from a record if escaping failed (our own scripts carry src or nonce).
_SUSPICIOUS = re.compile(r"<script(?![^>]*\b(?:src|nonce)=)|<(?:img|iframe|svg|object|embed)\b|<[a-z][^>]*\son[a-z]+\s*=|"
                         r"(?:href|src)=\"\s*(?:javascript|data):", re.IGNORECASE)
# Records that legacy XML, sparse conversions and v2 files must all reach (one of each shape at least).
EXPECTED_MINIMUM = 8000


@pytest.fixture(scope="module")
def sweep_services(shared_data: Path, tmp_path_factory):
    """A store with every readable record of ../shared/data, and the search engine over it."""
    from trialfinder.config import load_settings
    from trialfinder.ingest import ingest_paths
    from trialfinder.store import Store

    data_dir = tmp_path_factory.mktemp("sweep-data")
    store = Store.open(load_settings(data_dir=data_dir).database_url)
    report = ingest_paths(store, [shared_data.joinpath(*parts) for parts in SOURCES])
    # The only rejects in the shared data are the retired classic-API files, which must be rejected.
    assert all("classic" in rejected.reason for rejected in report.rejected), report.rejected[:3]
    store.close()
    services = open_services(data_dir)
    yield services
    services.store.close()


@pytest.fixture(scope="module")
def sweep_client(sweep_services) -> TestClient:
    with app_client(sweep_services) as client:
        yield client


@pytest.mark.shared
@pytest.mark.slow
def test_every_shared_record_renders_and_is_served(sweep_services, sweep_client):
    """About 8,500 records; the patient evaluation is left to the property tests, which cost less per record."""
    from trialfinder.index.documents import study_document
    from trialfinder.model import decode_study

    store, client = sweep_services.store, sweep_client
    nct_ids = store.nct_ids()
    assert len(nct_ids) >= EXPECTED_MINIMUM
    failures: list[str] = []
    for nct_id in nct_ids:
        raw = store.raw(nct_id)
        try:
            page = client.get(f"/study/{nct_id}")
            assert page.status_code == 200, f"page {page.status_code}"
            # A cheap screen on every page; the full tag walk only where it finds something.
            if _SUSPICIOUS.search(page.text):
                assert not script_and_handler_tags(page.text), script_and_handler_tags(page.text)[:3]
            ours = client.get(f"/api/studies/{nct_id}")
            assert ours.status_code == 200 and ours.json()["record"] == json.loads(raw), "our API"
            compat = client.get(f"/api/v2/studies/{nct_id}")
            assert compat.status_code == 200 and compat.content == raw.encode(), "compat API"
            study_document(decode_study(raw))
        except Exception as error:  # noqa: BLE001 - collect every broken record, then fail once with all of them
            failures.append(f"{nct_id}: {type(error).__name__}: {str(error)[:300]}")
    assert not failures, f"{len(failures)} records broke a path:\n" + "\n".join(failures[:20])


@pytest.mark.shared
def test_every_shared_record_is_in_the_index(sweep_services, sweep_client):
    """The index took every record: each is found by its NCT id through the compat list endpoint."""
    nct_ids = sweep_services.store.nct_ids()
    sweep_services.engine.refresh(force=True)
    missing: list[str] = []
    for start in range(0, len(nct_ids), 500):
        chunk = nct_ids[start:start + 500]
        response = sweep_client.get("/api/v2/studies", params={"filter.ids": ",".join(chunk), "pageSize": 1000,
                                                               "fields": "NCTId"})
        assert response.status_code == 200, response.text[:300]
        found = {s["protocolSection"]["identificationModule"]["nctId"] for s in response.json()["studies"]}
        missing += sorted(set(chunk) - found)
    assert not missing, f"{len(missing)} records not in the index, e.g. {missing[:10]}"
