"""Shared by the search and index tests (no tests here): a real store and index built once per session, the
aPAP records, and a brute-force evaluator of filters over the raw records."""

from __future__ import annotations

import json
from pathlib import Path

from trialfinder.config import Settings
from trialfinder.ingest import ingest_items, ingest_paths
from trialfinder.ingest.readers import record_from_json
from trialfinder.model.ages import age_in_years
from trialfinder.store import Store

APAP_ID = "NCT06111846"
LONG_FORM_ONLY_ID = "NCT09900001"
ACETAMINOPHEN_ID = "NCT09900002"


def reference_apap_record() -> dict:
    """NCT06111846 rebuilt from ../shared/reference/ctv-trial-page-NCT06111846.txt (it is not in ../shared/data)."""
    return {"protocolSection": {
        "identificationModule": {"nctId": APAP_ID, "orgStudyIdInfo": {"id": "MKMSC-CT-001"},
                                 "briefTitle": "Study of Human Bone Marrow Mesenchymal Stem Cells in APAP"},
        "statusModule": {"overallStatus": "ACTIVE_NOT_RECRUITING", "lastUpdatePostDateStruct": {"date": "2024-05-01"}},
        "sponsorCollaboratorsModule": {"leadSponsor": {"name": "Jiuzhitang", "class": "OTHER"}},
        "descriptionModule": {
            "briefSummary": "The purpose of this open-label phase IIa clinical trial study is to evaluate the safety "
                            "and preliminary efficacy of hBMMSC intravenous treatment in patients with aPAP.",
            "detailedDescription": "Autoimmune pulmonary alveolar proteinosis (aPAP) is a rare lung disease for which "
                                   "there is no specific drug treatment. Currently, the standard treatment strategy for "
                                   "PAP is whole-lung lavage (WLL), which is invasive and has limited therapeutic "
                                   "efficacy."},
        "conditionsModule": {"conditions": ["Autoimmune Pulmonary Alveolar Proteinosis"]},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"], "enrollmentInfo": {"count": 10}},
        "armsInterventionsModule": {"interventions": [
            {"type": "DRUG", "name": "human Bone Marrow Mesenchymal Stem Cell (hBMMSC)"}]},
        "eligibilityModule": {"sex": "ALL", "minimumAge": "18 Years", "healthyVolunteers": False},
    }}


def long_form_only_record() -> dict:
    """A test-only study that names the disease in full and never writes "aPAP": found only through the
    abbreviation mined from the reference record."""
    return {"protocolSection": {
        "identificationModule": {"nctId": LONG_FORM_ONLY_ID,
                                 "briefTitle": "Inhaled GM-CSF in Autoimmune Pulmonary Alveolar Proteinosis"},
        "statusModule": {"overallStatus": "RECRUITING", "lastUpdatePostDateStruct": {"date": "2024-06-01"}},
        "conditionsModule": {"conditions": ["Autoimmune Pulmonary Alveolar Proteinosis"]},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE3"]},
    }}


def acetaminophen_record() -> dict:
    """A test-only decoy where APAP means acetaminophen, written in capitals."""
    return {"protocolSection": {
        "identificationModule": {"nctId": ACETAMINOPHEN_ID, "briefTitle": "Intravenous APAP After Knee Surgery"},
        "statusModule": {"overallStatus": "COMPLETED", "lastUpdatePostDateStruct": {"date": "2020-01-01"}},
        "descriptionModule": {"briefSummary": "N-acetyl-para-aminophenol (APAP) for pain after knee surgery."},
        "conditionsModule": {"conditions": ["Postoperative Pain"]},
    }}


def ingest_records(store: Store, records: list[dict], source: str = "test") -> None:
    """Upsert API v2 records given as dicts."""
    items = [record_from_json(source, str(i), json.dumps(record)) for i, record in enumerate(records)]
    ingest_items(store, items)


def shared_inputs(shared_data: Path, full: bool = True) -> list[Path]:
    """The real record files: everything, or only the v2 JSON files (a quicker corpus)."""
    paths = [shared_data / "ctgov" / "v2_json"]
    if full:
        paths += [shared_data / "ctgov" / "legacy_xml", shared_data / "trialgpt_trial_texts" / "as_ctgov_v2.json"]
    return paths


_CORPUS: dict[str, tuple] = {}


def real_corpus(shared_data: Path, root: Path):
    """(settings, store, engine) over every real record plus the aPAP records, on SQLite; built once per process."""
    if "corpus" not in _CORPUS:
        from trialfinder.search import SearchEngine

        settings = Settings(data_dir=root, database_url=f"sqlite:///{root / 'store.sqlite3'}")
        store = Store.open(settings.database_url)
        ingest_paths(store, shared_inputs(shared_data))
        ingest_records(store, [reference_apap_record(), long_form_only_record(), acetaminophen_record()])
        _CORPUS["corpus"] = (settings, store, SearchEngine.open(settings, store))
    return _CORPUS["corpus"]


# brute force over the raw records ---------------------------------------------------------------------------


class RawStudy:
    """The facts filters look at, read straight from a raw record (independently of the index code)."""

    def __init__(self, raw: str):
        record = json.loads(raw)
        protocol = record.get("protocolSection", {})
        self.nct_id = protocol["identificationModule"]["nctId"]
        self.status = protocol.get("statusModule", {}).get("overallStatus")
        design = protocol.get("designModule", {})
        self.phases = set(design.get("phases", []))
        self.study_type = design.get("studyType")
        eligibility = protocol.get("eligibilityModule", {})
        self.sex = eligibility.get("sex")
        self.healthy = eligibility.get("healthyVolunteers") is True
        self.min_age = age_in_years(eligibility.get("minimumAge"))
        self.max_age = age_in_years(eligibility.get("maximumAge"))
        self.std_ages = set(eligibility.get("stdAges", []))
        self.has_results = bool(record.get("hasResults"))
        self.sponsor_class = protocol.get("sponsorCollaboratorsModule", {}).get("leadSponsor", {}).get("class")
        locations = protocol.get("contactsLocationsModule", {}).get("locations", [])
        self.countries = {loc["country"] for loc in locations if loc.get("country")}
        self.last_update = protocol.get("statusModule", {}).get("lastUpdatePostDateStruct", {}).get("date")

    def open_to(self, sex: str) -> bool:
        return self.sex in (None, "ALL", sex)

    def admits_age(self, age: float) -> bool:
        return (self.min_age is None or self.min_age <= age + 1e-9) and (self.max_age is None or self.max_age >= age - 1e-9)


def raw_studies(store: Store) -> dict[str, RawStudy]:
    """Every stored study as a RawStudy."""
    return {nct_id: RawStudy(raw) for nct_id, raw in store.iter_raw()}
