"""Fixtures shared by the website tests (imported by tests/test_web_*.py and tests/browser): a store ingested
from ../shared/data plus two records written here, the search engine over it, and the whole app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

V2_JSON = ("ctgov", "v2_json")
LEGACY_FIXTURES = ("ctgov", "legacy_xml", "aact_spec_fixtures")
SPARSE_RECORDS = ("trialgpt_trial_texts", "as_ctgov_v2.json")

REFERENCE_ID = "NCT06111846"
XSS_ID = "NCT09999901"
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(document.cookie)">'


def reference_record() -> dict:
    """NCT06111846 as API v2 shapes it, rebuilt from the reference page (the study is not in ../shared/data).

    Every value shown on ../shared/reference/ctv-trial-page-NCT06111846.txt is copied from there; the one site
    is a stand-in (the page names only its count), and the arm description keeps the registry's "10\\^6" escape.
    """
    inclusion = [
        "Male or female aged 18 years or older",
        "Patients diagnosed with aPAP by both CT and biopsy (TBLB, TBCB, or surgical lung biopsy) or bronchoalveolar "
        "perfusion (BAL) as well as GM-CSF autoantibodies in serum positive",
        "No remission was demonstrated by CT, pulmonary function test results,or blood gas analysis at least 2 times "
        "(at least 3 months apart) before enrollment",
        "At rest PaO2≤70 mmHg",
        "Fertile participants must receive effective medical contraception (for both male and female participants, "
        "up to one year after the last study dosing)",
        "Voluntary signed informed consent",
    ]
    exclusion = [
        "Diagnosed with hereditary PAP, secondary PAP, or another type of PAP",
        "Received whole lung lavage(WLL) therapy within 6 months before enrollment",
        "Received previous GM-CSF therapy within 6 months before enrollment",
        "Received other clinical trial treatment within 3 months before enrollment",
        "Participated in other stem cell studies within 1 year before enrollment",
        "Inflammatory disease or autoimmune disorder requiring treatment associated with significant "
        "immunosuppression (e.g. more than 10 mg/day systemic prednisolone)",
        "Active infection (viral, bacterial, fungal or mycobacterial), which may affect the assessment of efficacy "
        "in the trial",
        "History of malignant tumors",
        "Known allergic reactions to any of the ingredients in the study drug",
        "Participants who, in the opinion of the investigator, would aggravate any other serious pre-existing "
        "medical condition are not suitable for this trial",
        "Women who are known to be pregnant, breastfeeding, have a positive pregnancy test (which will be detected "
        "during the screening process), or plan to become pregnant during the trial",
    ]
    criteria = ("Inclusion Criteria:\n\n" + "\n".join(f"* {c}" for c in inclusion)
                + "\n\nExclusion Criteria:\n\n" + "\n".join(f"* {c}" for c in exclusion))
    drug = "human Bone Marrow Mesenchymal Stem Cell (hBMMSC)"
    return {"protocolSection": {
        "identificationModule": {
            "nctId": REFERENCE_ID, "orgStudyIdInfo": {"id": "MKMSC-CT-001"},
            "organization": {"fullName": "Jiuzhitang", "class": "OTHER"},
            "briefTitle": "Study of Human Bone Marrow Mesenchymal Stem Cells in APAP",
        },
        "statusModule": {
            "overallStatus": "ACTIVE_NOT_RECRUITING",
            "startDateStruct": {"date": "2023-11-15", "type": "ACTUAL"},
            "primaryCompletionDateStruct": {"date": "2025-06", "type": "ESTIMATED"},
            "completionDateStruct": {"date": "2025-12", "type": "ESTIMATED"},
            "studyFirstPostDateStruct": {"date": "2023-11-01", "type": "ACTUAL"},
            "lastUpdatePostDateStruct": {"date": "2024-06-10", "type": "ACTUAL"},
        },
        "sponsorCollaboratorsModule": {"leadSponsor": {"name": "Jiuzhitang", "class": "OTHER"}},
        "descriptionModule": {
            "briefSummary": "The purpose of this open-label phase IIa clinical trial study is to evaluate the safety "
                            "and preliminary efficacy of hBMMSC intravenous treatment in patients with aPAP.",
            "detailedDescription": "Autoimmune pulmonary alveolar proteinosis (aPAP) is a rare lung disease for which "
                                   "there is no specific drug treatment. Currently, the standard treatment strategy "
                                   "for PAP is whole-lung lavage (WLL), which is invasive and has limited therapeutic "
                                   "efficacy.",
        },
        "conditionsModule": {"conditions": ["Autoimmune Pulmonary Alveolar Proteinosis"]},
        "designModule": {
            "studyType": "INTERVENTIONAL", "phases": ["PHASE2"],
            "designInfo": {"allocation": "NA", "interventionModel": "SEQUENTIAL", "primaryPurpose": "TREATMENT",
                           "maskingInfo": {"masking": "NONE"}},
            "enrollmentInfo": {"count": 10, "type": "ESTIMATED"},
        },
        "armsInterventionsModule": {
            "armGroups": [{
                "label": "hBMMSC", "type": "EXPERIMENTAL",
                "description": "1.0×10\\^6/kg hBMMSC (participant's body weight) single dose 2.0×10\\^6/kg hBMMSC "
                               "(participant's body weight) single dose 2.0×10\\^6/kg hBMMSC (participant's body "
                               "weight) administered twice",
                "interventionNames": [f"Drug: {drug}"],
            }],
            "interventions": [{"type": "DRUG", "name": drug, "armGroupLabels": ["hBMMSC"]}],
        },
        "outcomesModule": {"primaryOutcomes": [
            {"measure": "Incidence of adverse events", "timeFrame": "up to 12 months"}]},
        "eligibilityModule": {
            "eligibilityCriteria": criteria, "healthyVolunteers": False, "sex": "ALL", "minimumAge": "18 Years",
            "stdAges": ["ADULT", "OLDER_ADULT"],
        },
        "contactsLocationsModule": {"locations": [{
            "facility": "Study site (stand-in)", "city": "Beijing", "country": "China",
            "geoPoint": {"lat": 39.9075, "lon": 116.39723},
        }]},
    }, "hasResults": False}


def hostile_record() -> dict:
    """A study whose every text field tries to inject markup (the registry is outside input)."""
    evil = f"Evil {SCRIPT} {IMG}"
    return {"protocolSection": {
        "identificationModule": {"nctId": XSS_ID, "briefTitle": f"Title {SCRIPT}", "officialTitle": evil,
                                 "orgStudyIdInfo": {"id": IMG}},
        "statusModule": {"overallStatus": "RECRUITING", "whyStopped": evil,
                         "lastUpdatePostDateStruct": {"date": "2024-01-02", "type": "ACTUAL"}},
        "sponsorCollaboratorsModule": {"leadSponsor": {"name": f"Sponsor {IMG}", "class": "OTHER"},
                                       "collaborators": [{"name": evil, "class": "OTHER"}]},
        "descriptionModule": {"briefSummary": f"Summary {SCRIPT}\n\n[click](javascript:alert(1)) {IMG}",
                              "detailedDescription": f"<b onmouseover=alert(1)>x</b> {evil}"},
        "conditionsModule": {"conditions": [f"Condition {SCRIPT}"], "keywords": [evil]},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE1"],
                         "enrollmentInfo": {"count": 5, "type": "ACTUAL"}},
        "armsInterventionsModule": {
            "armGroups": [{"label": f"Arm {SCRIPT}", "type": "EXPERIMENTAL", "description": evil,
                           "interventionNames": [f"Drug: {IMG}"]}],
            "interventions": [{"type": "DRUG", "name": IMG}]},
        "outcomesModule": {"primaryOutcomes": [{"measure": evil, "description": evil, "timeFrame": SCRIPT}]},
        "eligibilityModule": {"eligibilityCriteria": f"Inclusion Criteria:\n\n* {SCRIPT}\n* {IMG}\n\n"
                                                     f"Exclusion Criteria:\n\n* {evil}",
                              "sex": "ALL", "healthyVolunteers": True},
        "contactsLocationsModule": {
            "centralContacts": [{"name": f"Dr {SCRIPT}", "phone": "javascript:alert(1)",
                                 "email": 'x@y.z" onclick="alert(1)'}],
            "locations": [{"facility": f"Clinic {IMG}", "city": "Boston", "state": "Massachusetts",
                           "country": "United States", "status": "RECRUITING",
                           "geoPoint": {"lat": 42.36, "lon": -71.06},
                           "contacts": [{"name": SCRIPT, "email": "ok@example.org", "phone": "+1 617-555-0100"}]}]},
        "referencesModule": {"seeAlsoLinks": [{"label": evil, "url": "javascript:alert(1)"}],
                             "references": [{"citation": evil, "pmid": "123<script>"}]},
    }, "hasResults": False}


def written_records_file(directory: Path) -> Path:
    """The two records written here, as a list file the ingest reads like any download."""
    path = directory / "web-test-records.json"
    path.write_text(json.dumps([reference_record(), hostile_record()], ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def web_data_dir(shared_data: Path, tmp_path_factory) -> Path:
    """A data dir whose store holds the v2 JSON studies, the sparse and legacy ones, and the two written here."""
    from trialfinder.config import load_settings
    from trialfinder.ingest import ingest_paths
    from trialfinder.store import Store

    directory = tmp_path_factory.mktemp("web-data")
    settings = load_settings(data_dir=directory)
    store = Store.open(settings.database_url)
    ingest_paths(store, [shared_data.joinpath(*V2_JSON), shared_data.joinpath(*LEGACY_FIXTURES),
                         shared_data.joinpath(*SPARSE_RECORDS), written_records_file(directory)])
    store.close()
    return directory


def open_services(data_dir: Path):
    """Services over a data dir: its store and the real search engine (which builds its index on first open)."""
    from trialfinder.config import load_settings
    from trialfinder.search import SearchEngine
    from trialfinder.server import Services
    from trialfinder.store import Store

    settings = load_settings(data_dir=data_dir)
    store = Store.open(settings.database_url)
    return Services(settings=settings, store=store, engine=SearchEngine.open(settings, store))


@pytest.fixture(scope="session")
def web_services(web_data_dir: Path):
    """The services the website tests share."""
    services = open_services(web_data_dir)
    yield services
    services.store.close()


@pytest.fixture(scope="session")
def web_app(web_services) -> FastAPI:
    """The whole app (website and APIs), as `trialfinder serve` builds it."""
    from trialfinder.server import create_app

    return create_app(web_services.settings, web_services)


@pytest.fixture(scope="session")
def web(web_app) -> TestClient:
    """A client that does not follow redirects, so tests see them."""
    with TestClient(web_app, follow_redirects=False) as client:
        yield client


def visible_text(html: str) -> str:
    """The text a reader sees: tags dropped, scripts and styles skipped, whitespace collapsed."""
    from html.parser import HTMLParser

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.skipping = 0

        def handle_starttag(self, tag, attrs) -> None:
            if tag in ("script", "style", "title"):
                self.skipping += 1
            self.parts.append(" ")

        def handle_endtag(self, tag) -> None:
            if tag in ("script", "style", "title"):
                self.skipping -= 1
            self.parts.append(" ")

        def handle_data(self, data) -> None:
            if not self.skipping:
                self.parts.append(data)

    collector = Collector()
    collector.feed(html)
    return " ".join("".join(collector.parts).split())


def in_order(text: str, *needles: str) -> bool:
    """Whether every needle occurs in text, each after the previous one."""
    position = 0
    for needle in needles:
        found = text.find(needle, position)
        if found < 0:
            raise AssertionError(f"{needle!r} not found after position {position}")
        position = found + len(needle)
    return True
