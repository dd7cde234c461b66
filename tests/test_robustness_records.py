"""Any record the registry can send (per its API v2 OpenAPI spec) is ingested without loss and shown without error.

Records are generated from the spec (tests/strategies.py) and go through the real parts: ingest into an SQLite
store (and a PostgreSQL one), `trialfinder show --json`, the trial page and its eligibility panel, our API, the
/api/v2 compat API, the search index and every listing, the eligibility parser, the patient evaluation and matching.
"""

from __future__ import annotations

import codecs
import gzip
import itertools
import json
import os
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import require
from strategies import SPEC_PATH, study_records
from test_web_fixtures import open_services

PATIENTS = (
    "55 year old woman with metastatic breast cancer, ECOG 1, HbA1c 7.2%, creatinine 1.1 mg/dL, not pregnant.",
    "8 month old boy with asthma.",
    "",
)
# Answers to the "Check your eligibility" questions (labs 1.5, any other question "yes").
PANEL_ANSWERS = {"age": "55", "sex": "female", "pregnant": "no", "breastfeeding": "no", "ecog": "1",
                 "karnofsky": "80", "text": PATIENTS[0]}
# What the compat test asks for with `fields`: every section and some modules.
COMPAT_FIELDS = ("protocolSection.identificationModule", "protocolSection.statusModule",
                 "protocolSection.eligibilityModule", "protocolSection.contactsLocationsModule", "resultsSection",
                 "annotationSection", "documentSection", "derivedSection", "hasResults")
# A modest, fixed set of examples keeps CI fast and stable; TRIALFINDER_PROPERTY_EXAMPLES=500 hunts for more.
EXAMPLES = int(os.environ.get("TRIALFINDER_PROPERTY_EXAMPLES", "25"))
RECORD_SETTINGS = settings(max_examples=EXAMPLES, derandomize=EXAMPLES <= 25, deadline=None, database=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                  HealthCheck.large_base_example])
_fresh_numbers = itertools.count(90_000_001)


@pytest.fixture(scope="module")
def spec() -> Path:
    require(SPEC_PATH.is_file(), f"ClinicalTrials.gov OpenAPI spec not found at {SPEC_PATH}")
    return SPEC_PATH


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """Services over an empty SQLite store, with the real search engine."""
    from trialfinder.store import Store
    from trialfinder.config import load_settings

    data_dir = tmp_path_factory.mktemp("robust-data")
    Store.open(load_settings(data_dir=data_dir).database_url).close()
    opened = open_services(data_dir)
    yield opened
    opened.store.close()


def app_client(services) -> TestClient:
    """A client of the whole app over these services, not following redirects; use it as a context manager."""
    from trialfinder.server import create_app

    return TestClient(create_app(services.settings, services), follow_redirects=False)


@pytest.fixture(scope="module")
def client(services) -> TestClient:
    with app_client(services) as test_client:
        yield test_client


def fresh_nct_id(record: dict) -> str:
    """Give the record an NCT id no other example used, so upsert rules never keep an older example."""
    nct_id = f"NCT{next(_fresh_numbers):08d}"
    record["protocolSection"]["identificationModule"]["nctId"] = nct_id
    return nct_id


def ingest_record(store, record: dict) -> None:
    from trialfinder.ingest import ingest_items
    from trialfinder.ingest.readers import Rejected, record_from_json

    item = record_from_json("generated.json", None, json.dumps(record, ensure_ascii=False))
    assert not isinstance(item, Rejected), item
    report = ingest_items(store, [item])
    assert not report.rejected and report.counts.added == 1, report.summary


def script_and_handler_tags(html: str) -> list[str]:
    """Tags the record could have smuggled in: inline scripts without our nonce, frames, images, event handlers,
    javascript: links."""
    found: list[str] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs) -> None:
            names = dict(attrs)
            if tag == "script" and "src" not in names and "nonce" not in names:
                found.append(f"<script {attrs}>")
            if tag in ("img", "iframe", "svg", "object", "embed"):
                found.append(f"<{tag}>")
            found.extend(f"{tag} {name}=" for name in names if name.startswith("on"))
            found.extend(f"{tag} {name}={value}" for name, value in attrs
                         if value and re.sub(r"\s", "", value).lower().startswith(("javascript:", "data:text")))

    Collector().feed(html)
    return found


def check_page(client: TestClient, nct_id: str, record: dict | None = None) -> str:
    """The trial page: 200, nothing executable from the record, and a section for every part it has."""
    response = client.get(f"/study/{nct_id}")
    assert response.status_code == 200, response.text[:500]
    html = response.text
    assert not script_and_handler_tags(html)
    assert "<script>alert" not in html.lower()
    assert nct_id in html and 'id="details"' in html
    if record is not None:
        from markupsafe import escape

        protocol = record.get("protocolSection", {})
        identification = protocol.get("identificationModule", {})
        title = identification.get("briefTitle") or identification.get("officialTitle")
        if title:
            assert str(escape(title)) in html
        conditions = protocol.get("conditionsModule", {}).get("conditions")
        if conditions:
            assert "<dt>Conditions</dt>" in html and str(escape(conditions[0])) in html
        if protocol.get("contactsLocationsModule", {}).get("locations"):
            assert 'id="locations"' in html
        if protocol.get("armsInterventionsModule", {}).get("armGroups"):
            assert 'id="design"' in html
        outcomes = protocol.get("outcomesModule", {})
        if any(outcomes.get(key) for key in ("primaryOutcomes", "secondaryOutcomes", "otherOutcomes")):
            assert 'id="outcomes"' in html
        if any(r.get("citation") or r.get("pmid") for r in protocol.get("referencesModule", {}).get("references", [])):
            assert 'id="references"' in html
        if record.get("hasResults"):
            assert "see the results on ClinicalTrials.gov" in html
    panel = client.get(f"/study/{nct_id}/eligibility")
    assert panel.status_code == 200 and not script_and_handler_tags(panel.text)
    names = dict.fromkeys(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', panel.text))
    answers = {name: PANEL_ANSWERS.get(name, "1.5" if name.startswith("lab.") else "yes") for name in names}
    answered = client.get(f"/study/{nct_id}/eligibility", params=answers)
    assert answered.status_code == 200, answered.text[:500]
    assert not script_and_handler_tags(answered.text)
    return html


def check_apis(client: TestClient, nct_id: str, record: dict) -> None:
    """Our API and the compat API return the record as it was sent, whole and trimmed to fields."""
    ours = client.get(f"/api/studies/{nct_id}")
    assert ours.status_code == 200, ours.text[:500]
    assert ours.json()["record"] == record
    compat = client.get(f"/api/v2/studies/{nct_id}")
    assert compat.status_code == 200 and compat.json() == record
    trimmed = client.get(f"/api/v2/studies/{nct_id}", params={"fields": ",".join(COMPAT_FIELDS)})
    assert trimmed.status_code == 200, trimmed.text[:500]
    expected: dict = {}
    for path in COMPAT_FIELDS:
        source, target = record, expected
        *parents, leaf = path.split(".")
        for key in parents:
            source = source.get(key, {})
        if leaf in source:
            for key in parents:
                target = target.setdefault(key, {})
            target[leaf] = source[leaf]
    assert trimmed.json() == expected


def check_domain(raw: str) -> None:
    """The typed model, the index document, the criteria parser and the patient evaluation all take the record."""
    from trialfinder.eligibility import evaluate, extract_constraints, parse_criteria, profile_from_text
    from trialfinder.index.documents import study_document
    from trialfinder.match.assess import assess
    from trialfinder.match.patient import as_patient
    from trialfinder.model import decode_study

    study = decode_study(raw)
    study_document(study)
    sections = parse_criteria(study.eligibility.eligibility_criteria)
    profile = profile_from_text(PATIENTS[0])
    for criterion in sections.all():
        for constraint in extract_constraints(criterion.text, criterion.kind, criterion.heading):
            evaluate(constraint, profile)
    for text in PATIENTS:
        assess(study, as_patient(text))


def check_every_path(client: TestClient, services, record: dict) -> None:
    nct_id = record["protocolSection"]["identificationModule"]["nctId"]
    ingest_record(services.store, record)
    raw = services.store.raw(nct_id)
    assert json.loads(raw) == record  # nothing lost, nothing reformatted into other values
    check_page(client, nct_id, record)
    check_apis(client, nct_id, record)
    check_domain(raw)


@RECORD_SETTINGS
@given(record=study_records())
def test_any_spec_record_is_kept_whole_and_served(spec, client, services, record):
    fresh_nct_id(record)
    check_every_path(client, services, record)


@settings(RECORD_SETTINGS, max_examples=max(5, EXAMPLES // 5))
@given(record=study_records())
def test_show_json_prints_the_record_as_sent(spec, services, record):
    from trialfinder.cli.main import app

    nct_id = fresh_nct_id(record)
    ingest_record(services.store, record)
    result = CliRunner().invoke(app, ["--data-dir", str(services.settings.data_dir), "show", nct_id, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == record
    plain = CliRunner().invoke(app, ["--data-dir", str(services.settings.data_dir), "show", nct_id])
    assert plain.exit_code == 0, plain.output


def _site(number: int) -> dict:
    """One of many varied sites: some without a geoPoint, status or city; unicode names; new status values."""
    site: dict = {"facility": f"Site {number} — Hôpital «{number}» <b>x</b>",
                  "country": ("United States", "Canada", "China", "Côte d'Ivoire", "")[number % 5]}
    if number % 3:
        site["city"] = ("Boston", "Montréal", "北京", "Zürich")[number % 4]
    if number % 4 == 0:
        site["state"] = "Massachusetts"
    if number % 2 == 0:
        site["geoPoint"] = {"lat": (number % 180) - 89.5, "lon": (number % 360) - 179.5}
    site["status"] = ("RECRUITING", "NOT_YET_RECRUITING", "NEW_SITE_STATUS", "COMPLETED")[number % 4]
    if number % 7 == 0:
        site["contacts"] = [{"name": f"Contact {number}", "role": "CONTACT", "phone": "+1 617-555-0100",
                             "email": f"site{number}@example.org"}]
    return site


@pytest.mark.parametrize("site_count", [0, 1, 5000])
def test_records_with_no_one_or_thousands_of_sites(spec, client, services, site_count):
    record = {"protocolSection": {
        "identificationModule": {"nctId": "NCT00000000", "briefTitle": f"Trial with {site_count} sites"},
        "statusModule": {"overallStatus": "RECRUITING", "lastUpdatePostDateStruct": {"date": "2025-01"}},
        "contactsLocationsModule": {"locations": [_site(n) for n in range(site_count)]},
    }, "hasResults": False}
    fresh_nct_id(record)
    check_every_path(client, services, record)
    nct_id = record["protocolSection"]["identificationModule"]["nctId"]
    stored_sites = services.store.sites_of(nct_id)
    assert len(stored_sites) == site_count
    if site_count:
        html = client.get(f"/study/{nct_id}").text
        assert f"{site_count:,} site" in html or f"{site_count} site" in html


@settings(RECORD_SETTINGS, max_examples=max(3, EXAMPLES // 8))
@given(records=st.lists(study_records(), min_size=4, max_size=8))
def test_generated_records_are_searchable_and_listed(spec, client, services, records):
    """The search index takes them, and every listing (search page, both APIs, CSV, locations, sitemap) shows them."""
    for record in records:
        fresh_nct_id(record)
        ingest_record(services.store, record)
    services.engine.refresh(force=True)
    ids = [record["protocolSection"]["identificationModule"]["nctId"] for record in records]
    found = client.get("/api/v2/studies", params={"query.term": " ".join(ids), "pageSize": 100})
    assert found.status_code == 200, found.text[:500]
    by_id = {s["protocolSection"]["identificationModule"]["nctId"]: s for s in found.json()["studies"]}
    assert by_id == {record["protocolSection"]["identificationModule"]["nctId"]: record for record in records}
    for path, params in (
        ("/search", {"q": ids[0]}), ("/search", {"q": "metastatic", "sort": "start_date"}),
        ("/search", {"q": "patients", "sort": "enrollment", "age": "40"}),
        ("/search", {"status": "recruiting", "facets": "1"}), ("/search.csv", {"q": " ".join(ids)}),
        ("/search.json", {"q": " ".join(ids)}), ("/api/search", {"q": " ".join(ids), "facets": "true"}),
        ("/api/facets", {}), ("/api/v2/studies", {"query.term": " ".join(ids), "format": "csv"}),
        ("/api/v2/studies", {"query.term": " ".join(ids), "fields": "NCTId,BriefTitle,LocationCity"}),
        ("/locations", {}), ("/api/locations", {}), ("/api/stats", {}), ("/sitemap.xml", {}),
        ("/sitemaps/studies-1.xml", {}),
    ):
        response = client.get(path, params=params)
        assert response.status_code == 200, (path, params, response.text[:500])
        if "html" in response.headers["content-type"]:
            assert not script_and_handler_tags(response.text) and "<script>alert" not in response.text.lower()
    for body in ({"text": PATIENTS[0], "among": ids, "limit": 100}, {"text": PATIENTS[0]},
                 {"age": 9, "sex": "male", "conditions": ["asthma"], "near": "Boston, MA"}):
        matched = client.post("/api/match", json=body)
        assert matched.status_code == 200, (body, matched.text[:500])
    page = client.post("/match", data={"text": PATIENTS[0]})
    assert page.status_code == 200 and not script_and_handler_tags(page.text)
    # Every place link on the trial pages leads to a page (slugs of any unicode name work). The
    # directory trusts its cached listings for a while; here each example's new places must show at once.
    from trialfinder.web import directory

    with mock.patch.object(directory, "RECHECK_SECONDS", -1.0):
        for nct_id in ids:
            for href in set(re.findall(r'href="(/locations/[^"]*)"', client.get(f"/study/{nct_id}").text)):
                response = client.get(unescape(href), follow_redirects=True)
                assert response.status_code == 200, (nct_id, href, response.status_code)


@pytest.fixture(scope="module")
def postgres_store(postgres_admin_url):
    """One PostgreSQL store for the module (hypothesis runs many examples in one test)."""
    import uuid

    import sqlalchemy as sa

    from trialfinder.store import Store

    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = Store.open(postgres_admin_url.rsplit("/", 1)[0] + "/" + name)
    yield store
    store.close()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
@settings(RECORD_SETTINGS, max_examples=max(10, EXAMPLES // 2))
@given(records=st.lists(study_records(), min_size=1, max_size=3))
def test_any_spec_record_is_kept_whole_on_postgresql(spec, postgres_store, records):
    """The PostgreSQL store's typed columns (varchar lengths, integer ranges) never refuse a record or its batch."""
    for record in records:
        fresh_nct_id(record)
    from trialfinder.ingest import ingest_items
    from trialfinder.ingest.readers import record_from_json

    report = ingest_items(postgres_store, [record_from_json("generated.json", None, json.dumps(r, ensure_ascii=False))
                                           for r in records])
    assert not report.rejected and report.counts.added == len(records), report.summary
    for record in records:
        nct_id = record["protocolSection"]["identificationModule"]["nctId"]
        assert json.loads(postgres_store.raw(nct_id)) == record
        locations = record["protocolSection"].get("contactsLocationsModule", {}).get("locations", [])
        assert len(postgres_store.sites_of(nct_id)) == len(locations)


def test_criteria_nested_hundreds_deep_render(spec, client, services):
    """Criteria nested far deeper than any record (real ones reach 6 levels) overflowed the recursive walkers."""
    deep = "Inclusion Criteria:\n\n" + "".join("  " * level + f"* level {level}\n" for level in range(600))
    record = {"protocolSection": {
        "identificationModule": {"nctId": "NCT00000000", "briefTitle": "Deep criteria"},
        "eligibilityModule": {"eligibilityCriteria": deep, "minimumAge": "18 Years"},
        "descriptionModule": {"briefSummary": deep},
    }}
    fresh_nct_id(record)
    check_every_path(client, services, record)
    assert "level 599" in client.get(f"/study/{record['protocolSection']['identificationModule']['nctId']}").text


@pytest.mark.parametrize(("name", "encode"), [
    ("bom.json", lambda text: codecs.BOM_UTF8 + text.encode()),
    ("bom-list.json", lambda text: codecs.BOM_UTF8 + f"[{text}]".encode()),
    ("bom-page.json", lambda text: codecs.BOM_UTF8 + f'{{"studies": [{text}]}}'.encode()),
    ("bom.jsonl", lambda text: codecs.BOM_UTF8 + f"{text}\n{text}".encode()),
    ("bom.json.gz", lambda text: gzip.compress(codecs.BOM_UTF8 + text.encode())),
    ("utf16.json", lambda text: text.encode("utf-16")),
    ("utf16.jsonl", lambda text: f"{text}\n{text}".encode("utf-16")),
])
def test_files_saved_with_a_byte_order_mark_are_read(tmp_path, name, encode):
    """Windows tools save UTF-8 with a byte-order mark, or UTF-16: the records are read, the mark is not kept."""
    from trialfinder.ingest.readers import Record, read_paths

    record = {"protocolSection": {"identificationModule": {"nctId": "NCT01234567", "briefTitle": "Été 🧬"}}}
    path = tmp_path / name
    path.write_bytes(encode(json.dumps(record, ensure_ascii=False)))
    items = list(read_paths([path]))
    assert items and all(isinstance(item, Record) for item in items), items
    assert all(json.loads(item.raw) == record and not item.raw.startswith("\ufeff") for item in items)
