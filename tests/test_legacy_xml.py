"""Legacy `<clinical_study>` XML -> API v2 study dict, checked against real records from ../shared/data."""

from __future__ import annotations

import contextlib
import json
import re
import tarfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialfinder.ingest.legacy_xml import LegacyXmlError, legacy_xml_to_study_dict
from trialfinder.model import study_from_dict

LEGACY = Path("ctgov/legacy_xml")
TARBALL = LEGACY / "reesewang25_enrollment_and_studylength_AllPublicXML_subset.tar.gz"
FOLDERS = ["aact_spec_fixtures", "hantswilliams_clinicaltrials_trec_2022_sample"]
PARTIAL_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def _convert_file(shared_data: Path, relative: str) -> dict:
    return legacy_xml_to_study_dict((shared_data / LEGACY / relative).read_bytes())


def _tar_records(shared_data: Path) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(shared_data / TARBALL) as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".xml"):
                handle = archive.extractfile(member)
                assert handle is not None
                yield member.name, handle.read()


def _tar_record(shared_data: Path, nct_id: str) -> bytes:
    return next(raw for name, raw in _tar_records(shared_data) if name.endswith(f"/{nct_id}.xml"))


@pytest.fixture(scope="module")
def v2_enums() -> dict[str, set[str]]:
    """Every enum of the API v2 OpenAPI spec, by schema name."""
    yaml = pytest.importorskip("yaml")
    spec_path = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ctgov-api-v2-openapi.yaml"
    if not spec_path.exists():
        pytest.skip(f"OpenAPI spec not found at {spec_path}")
    schemas = yaml.safe_load(spec_path.read_text())["components"]["schemas"]
    return {name: set(schema["enum"]) for name, schema in schemas.items() if "enum" in schema}


# hand-inspected records -------------------------------------------------------------------------------------


def test_device_trial_active_not_recruiting(shared_data: Path) -> None:
    study = _convert_file(shared_data, "aact_spec_fixtures/NCT02586688.xml")
    protocol = study["protocolSection"]

    ident = protocol["identificationModule"]
    assert ident["nctId"] == "NCT02586688"
    assert ident["orgStudyIdInfo"] == {"id": "44-02219-000"}
    assert ident["briefTitle"].startswith("Safety and Effectiveness of NeuroStar® Transcranial")
    assert ident["organization"] == {"fullName": "Neuronetics", "class": "OTHER"}

    status = protocol["statusModule"]
    assert status["overallStatus"] == "ACTIVE_NOT_RECRUITING"
    assert status["startDateStruct"] == {"date": "2015-10"}
    assert status["completionDateStruct"] == {"date": "2018-12", "type": "ESTIMATED"}
    assert status["primaryCompletionDateStruct"] == {"date": "2018-01", "type": "ESTIMATED"}
    assert status["expandedAccessInfo"] == {"hasExpandedAccess": False}

    assert protocol["sponsorCollaboratorsModule"]["leadSponsor"] == {"name": "Neuronetics", "class": "OTHER"}
    assert protocol["oversightModule"] == {"oversightHasDmc": True}

    design = protocol["designModule"]
    assert design["studyType"] == "INTERVENTIONAL"
    assert design["phases"] == ["NA"]
    assert design["designInfo"] == {
        "allocation": "RANDOMIZED",
        "interventionModel": "PARALLEL",
        "primaryPurpose": "TREATMENT",
        "maskingInfo": {
            "masking": "QUADRUPLE",
            "whoMasked": ["PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR"],
        },
    }
    assert design["enrollmentInfo"] == {"count": 100, "type": "ESTIMATED"}

    arms = protocol["armsInterventionsModule"]["armGroups"]
    assert [(arm["label"], arm["type"]) for arm in arms] == [
        ("Phase I TMS Active", "ACTIVE_COMPARATOR"),
        ("Phase I TMS Sham", "SHAM_COMPARATOR"),
        ("Phase II Open Label Active TMS", "OTHER"),
        ("Phase III Long-Term Follow up TMS Active", "OTHER"),
    ]
    assert arms[3]["interventionNames"] == ["Device: Open Label Active NeuroStar® TMS"]
    third = protocol["armsInterventionsModule"]["interventions"][2]
    assert third == {
        "type": "DEVICE",
        "name": "Open Label Active NeuroStar® TMS",
        "description": "Open label NeuroStar® coil.",
        "armGroupLabels": ["Phase II Open Label Active TMS", "Phase III Long-Term Follow up TMS Active"],
        "otherNames": ["TMS", "NeuroStar®"],
    }

    assert protocol["outcomesModule"]["primaryOutcomes"] == [
        {
            "measure": "Hamilton Depression Rating Scale-24(HAMD24) total score change from baseline value.",
            "timeFrame": "6 weeks",
        }
    ]

    eligibility = protocol["eligibilityModule"]
    assert eligibility["sex"] == "ALL"
    assert eligibility["minimumAge"] == "12 Years"
    assert eligibility["maximumAge"] == "21 Years"
    assert eligibility["healthyVolunteers"] is False
    assert eligibility["stdAges"] == ["CHILD", "ADULT"]
    criteria = eligibility["eligibilityCriteria"].split("\n")
    assert criteria[:3] == [
        "Inclusion Criteria:",
        "",
        "  -  Primary diagnosis of unipolar major depressive disorder, in a current major depressive",
    ]
    assert criteria[3] == "     episode, without psychotic features"  # wrapped continuation keeps its indent
    assert "       -  Bipolar disorder," in criteria  # nested bullet keeps its deeper indent
    assert criteria[-1] == "       -  Eating disorder (lifetime)."

    contacts = protocol["contactsLocationsModule"]
    assert contacts["overallOfficials"] == [
        {"name": "Paul Croarkin, MD", "affiliation": "Mayo Clinic", "role": "PRINCIPAL_INVESTIGATOR"},
        {"name": "Karen Heart", "affiliation": "Neuronetics", "role": "STUDY_DIRECTOR"},
    ]
    assert contacts["locations"][0] == {
        "facility": "Dothan Behavioral Medicine",
        "city": "Dothan",
        "state": "Alabama",
        "zip": "36303",
        "country": "United States",
    }
    assert all("geoPoint" not in location for location in contacts["locations"])
    assert study["hasResults"] is False
    assert study["derivedSection"]["miscInfoModule"] == {
        "versionHolder": "2018-05-11",
        "removedCountries": ["Canada"],
    }


def test_unknown_status_observational_study(shared_data: Path) -> None:
    study = _convert_file(shared_data, "hantswilliams_clinicaltrials_trec_2022_sample/NCT00739817.xml")
    protocol = study["protocolSection"]

    status = protocol["statusModule"]
    assert status["overallStatus"] == "UNKNOWN"
    assert status["lastKnownStatus"] == "NOT_YET_RECRUITING"
    assert status["statusVerifiedDate"] == "2009-08"
    assert status["studyFirstSubmitDate"] == "2008-08-21"
    assert status["studyFirstPostDateStruct"] == {"date": "2008-08-22", "type": "ESTIMATED"}
    assert status["lastUpdateSubmitDate"] == "2009-08-15"
    assert status["lastUpdatePostDateStruct"] == {"date": "2009-08-18", "type": "ESTIMATED"}

    assert protocol["sponsorCollaboratorsModule"]["responsibleParty"] == {
        "oldNameTitle": "Israel Amirav",
        "oldOrganization": "Ziv Medical center",
    }
    assert protocol["designModule"] == {
        "studyType": "OBSERVATIONAL",
        "designInfo": {"timePerspective": "PROSPECTIVE"},
        "enrollmentInfo": {"count": 6000, "type": "ESTIMATED"},
    }
    assert protocol["outcomesModule"]["primaryOutcomes"] == [
        {"measure": "Nasal NO < 105 ppb", "timeFrame": "at enrollment"}
    ]

    summary = protocol["descriptionModule"]["briefSummary"]
    assert summary.startswith("Background: Primary ciliary dyskinesia (PCD) is a rare genetic disease")
    assert "\r" not in summary and "\n\nWorking hypothesis and aims:" in summary

    assert protocol["eligibilityModule"] == {
        "eligibilityCriteria": "Inclusion Criteria:\n\n  -  Voluntary willing to participate\n\n"
        "Exclusion Criteria:\n\n  -  Recent URTI\n\n  -  Steroids use 2 weeks prior to testing",
        "healthyVolunteers": True,
        "sex": "ALL",
        "stdAges": ["CHILD", "ADULT", "OLDER_ADULT"],  # "N/A" ages are open bounds, so every age group
        "studyPopulation": "community",
        "samplingMethod": "NON_PROBABILITY_SAMPLE",
    }

    contact = {"name": "Israel Amirav, MD", "role": "CONTACT", "email": "amirav@012.net.il"}
    assert protocol["contactsLocationsModule"] == {
        "centralContacts": [contact | {"phone": "97246828712"}],
        "locations": [
            {
                "facility": "Pediatric Department, Ziv Medical Center",
                "city": "Safed",
                "country": "Israel",
                "contacts": [contact | {"phone": "9726828712"}],
            }
        ],
    }
    assert study["derivedSection"]["conditionBrowseModule"] == {
        "meshes": [{"term": "Ciliary Motility Disorders"}, {"term": "Dyskinesias"}]
    }


def test_allpublicxml_record_with_references(shared_data: Path) -> None:
    study = legacy_xml_to_study_dict(_tar_record(shared_data, "NCT00000410"))
    protocol = study["protocolSection"]

    ident = protocol["identificationModule"]
    assert ident["acronym"] == "SPORT"
    assert ident["secondaryIdInfos"] == [{"id": "U01AR045444"}]

    sponsors = protocol["sponsorCollaboratorsModule"]
    assert sponsors["responsibleParty"] == {"type": "SPONSOR"}
    assert [c["class"] for c in sponsors["collaborators"]] == ["NIH", "FED", "NIH"]

    assert protocol["designModule"]["phases"] == ["PHASE4"]
    assert protocol["designModule"]["designInfo"]["maskingInfo"] == {"masking": "NONE"}
    assert protocol["conditionsModule"]["conditions"] == ["Herniated Disc", "Low Back Pain"]
    assert protocol["conditionsModule"]["keywords"][:2] == [
        "Intervertebral disc herniation (IDH)",
        "Stenosis with degenerative spondylolisthesis (DS)",
    ]
    assert protocol["eligibilityModule"]["minimumAge"] == "18 Years"
    assert "maximumAge" not in protocol["eligibilityModule"]
    assert protocol["eligibilityModule"]["stdAges"] == ["ADULT", "OLDER_ADULT"]

    references = protocol["referencesModule"]["references"]
    background = [r for r in references if r["type"] == "BACKGROUND"]
    results = [r for r in references if r["type"] == "RESULT"]
    assert background[0]["pmid"] == "12065987"
    assert background[0]["citation"].startswith("Birkmeyer NJ, Weinstein JN, Tosteson AN")
    assert results[-1]["pmid"] == "22048651"
    assert all(r["citation"] for r in references)

    assert study["derivedSection"]["conditionBrowseModule"]["meshes"][0] == {
        "term": "Intervertebral Disc Displacement"
    }
    assert study["derivedSection"]["miscInfoModule"]["versionHolder"] == "2023-02-03"


def test_matches_what_the_v2_api_returned_for_the_same_study(shared_data: Path) -> None:
    """NCT00000410 is also in v2_json as the v2 API served it: the modules that did not change must agree."""
    converted = legacy_xml_to_study_dict(_tar_record(shared_data, "NCT00000410"))["protocolSection"]
    v2_file = shared_data / "ctgov/v2_json/koy570_herniated_disc/ctg-studies.json"
    served = next(
        s["protocolSection"]
        for s in json.loads(v2_file.read_bytes())
        if s["protocolSection"]["identificationModule"]["nctId"] == "NCT00000410"
    )
    for module in ["statusModule", "sponsorCollaboratorsModule", "oversightModule", "conditionsModule",
                   "designModule", "armsInterventionsModule", "outcomesModule"]:  # fmt: skip
        assert converted[module] == served[module], module
    for location in served["contactsLocationsModule"]["locations"]:
        location.pop("geoPoint", None)
    assert converted["contactsLocationsModule"] == served["contactsLocationsModule"]
    served_eligibility = served["eligibilityModule"]
    # v2 rewrites the criteria as markdown; every other eligibility field must be the same.
    served_eligibility.pop("eligibilityCriteria")
    assert {k: v for k, v in converted["eligibilityModule"].items() if k != "eligibilityCriteria"} == (
        served_eligibility
    )
    identification = {k: v for k, v in converted["identificationModule"].items() if k != "secondaryIdInfos"}
    assert identification == {
        k: v for k, v in served["identificationModule"].items() if k != "secondaryIdInfos"
    }


def test_combined_phases_supplements_and_results(shared_data: Path) -> None:
    study = _convert_file(shared_data, "aact_spec_fixtures/NCT01534533.xml")
    design = study["protocolSection"]["designModule"]
    assert design["phases"] == ["PHASE2", "PHASE3"]
    assert design["designInfo"]["primaryPurpose"] == "PREVENTION"
    interventions = study["protocolSection"]["armsInterventionsModule"]["interventions"]
    assert {i["type"] for i in interventions} == {"DIETARY_SUPPLEMENT"}
    assert study["protocolSection"]["eligibilityModule"]["healthyVolunteers"] is True
    assert study["hasResults"] is True


def test_pre_2017_element_names_are_read(shared_data: Path) -> None:
    status = _convert_file(shared_data, "aact_spec_fixtures/NCT01339988.xml")["protocolSection"][
        "statusModule"
    ]
    assert status["studyFirstSubmitDate"] == "2011-04-20"  # from <firstreceived_date>
    assert status["lastUpdateSubmitDate"] == "2011-04-20"  # from <lastchanged_date>


# value mapping on small documents ---------------------------------------------------------------------------


def _doc(body: str, nct_id: str = "NCT01234567") -> str:
    return f"<clinical_study><id_info><nct_id>{nct_id}</nct_id></id_info>{body}</clinical_study>"


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        ("Phase 1/Phase 2", ["PHASE1", "PHASE2"]),
        ("N/A", ["NA"]),
        ("Early Phase 1", ["EARLY_PHASE1"]),
        ("Phase 4", ["PHASE4"]),
        ("Phase 5", ["PHASE5"]),
    ],
)
def test_phases(phase: str, expected: list[str]) -> None:
    study = legacy_xml_to_study_dict(_doc(f"<phase>{phase}</phase>"))
    assert study["protocolSection"]["designModule"]["phases"] == expected


@pytest.mark.parametrize(
    ("masking", "expected"),
    [
        ("None (Open Label)", {"masking": "NONE"}),
        (
            "Double (Participant, Investigator)",
            {"masking": "DOUBLE", "whoMasked": ["PARTICIPANT", "INVESTIGATOR"]},
        ),
        ("Double", {"masking": "DOUBLE"}),
        (
            "Double Blind (Subject, Caregiver)",
            {"masking": "DOUBLE", "whoMasked": ["PARTICIPANT", "CARE_PROVIDER"]},
        ),
        ("Open Label", {"masking": "NONE"}),
    ],
)
def test_masking(masking: str, expected: dict) -> None:
    study = legacy_xml_to_study_dict(
        _doc(f"<study_design_info><masking>{masking}</masking></study_design_info>")
    )
    assert study["protocolSection"]["designModule"]["designInfo"]["maskingInfo"] == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Active, not recruiting", "ACTIVE_NOT_RECRUITING"),
        ("Unknown status", "UNKNOWN"),
        ("Temporarily not available", "TEMPORARILY_NOT_AVAILABLE"),
        ("Some Future Status", "SOME_FUTURE_STATUS"),  # unknown values stay readable, never dropped
    ],
)
def test_overall_status(status: str, expected: str) -> None:
    study = legacy_xml_to_study_dict(_doc(f"<overall_status>{status}</overall_status>"))
    assert study["protocolSection"]["statusModule"]["overallStatus"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("January 2005", {"date": "2005-01"}),
        ("January 15, 2005", {"date": "2005-01-15"}),
        ("February 03, 2023", {"date": "2023-02-03"}),
        ("Sept. 2010", None),  # unreadable dates are left out, not guessed
        ("February 30, 2005", None),
    ],
)
def test_dates(text: str, expected: dict | None) -> None:
    status = legacy_xml_to_study_dict(_doc(f"<start_date>{text}</start_date>"))["protocolSection"]
    assert status.get("statusModule", {}).get("startDateStruct") == expected


def test_agency_classes_and_interventions() -> None:
    study = legacy_xml_to_study_dict(
        _doc(
            "<sponsors><lead_sponsor><agency>A</agency><agency_class>U.S. Fed</agency_class></lead_sponsor>"
            "<collaborator><agency>B</agency><agency_class>Industry</agency_class></collaborator></sponsors>"
            "<intervention><intervention_type>Dietary Supplement</intervention_type>"
            "<intervention_name>Vitamin D</intervention_name></intervention>"
            "<study_type>Observational [Patient Registry]</study_type>"
        )
    )["protocolSection"]
    assert study["sponsorCollaboratorsModule"]["leadSponsor"] == {"name": "A", "class": "FED"}
    assert study["sponsorCollaboratorsModule"]["collaborators"] == [{"name": "B", "class": "INDUSTRY"}]
    assert study["armsInterventionsModule"]["interventions"] == [
        {"type": "DIETARY_SUPPLEMENT", "name": "Vitamin D"}
    ]
    assert study["designModule"] == {"studyType": "OBSERVATIONAL", "patientRegistry": True}


def test_minimal_record_is_a_valid_study() -> None:
    study = legacy_xml_to_study_dict(_doc("", nct_id="nct00000001"))
    assert study == {
        "protocolSection": {"identificationModule": {"nctId": "NCT00000001"}},
        "hasResults": False,
    }
    assert study_from_dict(study).nct_id == "NCT00000001"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ("<clinical_study><brief_title>x</brief_title></clinical_study>", "id_info/nct_id"),
        ("<clinical_study><id_info><nct_id> </nct_id></id_info></clinical_study>", "id_info/nct_id"),
        ("<clinical_study><id_info><nct_id>12345</nct_id></id_info></clinical_study>", "id_info/nct_id"),
        ("<study><id_info><nct_id>NCT01234567</nct_id></id_info></study>", "clinical_study"),
        ("<clinical_study><id_info>", None),
        ("", None),
    ],
)
def test_unusable_documents_raise(document: str, field: str | None) -> None:
    with pytest.raises(LegacyXmlError) as caught:
        legacy_xml_to_study_dict(document)
    assert caught.value.field == field


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_legacy_xml_error(data: bytes) -> None:
    with contextlib.suppress(LegacyXmlError):
        legacy_xml_to_study_dict(data)


_TAGS = ["phase", "overall_status", "start_date", "enrollment", "study_type", "condition", "keyword",
         "eligibility/minimum_age", "eligibility/gender", "eligibility/healthy_volunteers",
         "study_design_info/masking", "location/facility/name", "intervention/intervention_type"]  # fmt: skip


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_TAGS), st.text(max_size=30)), max_size=8))
def test_any_values_in_known_elements_give_a_valid_study(fields: list[tuple[str, str]]) -> None:
    """Well-formed records with arbitrary text in real elements always convert to a typed Study."""
    root = ET.fromstring(_doc(""))
    for path, text in fields:
        parent = root
        for tag in path.split("/"):
            parent = ET.SubElement(parent, tag)
        parent.text = "".join(c for c in text if c.isprintable())
    study = legacy_xml_to_study_dict(ET.tostring(root))
    assert study_from_dict(study).nct_id == "NCT01234567"
    orjson.dumps(study)


# whole corpus -----------------------------------------------------------------------------------------------


def _check_record(name: str, raw: bytes, enums: dict[str, set[str]]) -> None:
    """Every record converts to a typed Study whose key fields are filled exactly when the XML has them."""
    study_dict = legacy_xml_to_study_dict(raw)
    orjson.dumps(study_dict)  # stored verbatim as JSON
    study = study_from_dict(study_dict)
    xml = ET.fromstring(raw)
    # A record may be filed under one of its aliases (aact's NCT00980226.xml holds NCT00081588).
    file_id = re.search(r"NCT\d{8}", name).group()
    assert file_id in {study.nct_id, *study.identification.nct_id_aliases}, name
    assert study.overall_status in enums["Status"], name
    assert study.design.study_type in enums["StudyType"] | {None}, name
    if xml.findtext("phase"):
        assert study.design.phases and set(study.design.phases) <= enums["Phase"], name
    eligibility = xml.find("eligibility")
    if eligibility is not None:
        assert study.eligibility.sex in enums["Sex"], name
        for tag, value in [("minimum_age", study.eligibility.minimum_age),
                           ("maximum_age", study.eligibility.maximum_age)]:  # fmt: skip
            text = eligibility.findtext(tag).strip()
            assert value == (None if text == "N/A" else text), name
        if (eligibility.findtext("criteria/textblock") or "").strip():
            assert study.eligibility.eligibility_criteria, name
    if xml.find("last_update_posted") is not None:
        assert PARTIAL_DATE.fullmatch(study.last_update_posted or ""), name
    for struct in (study.status.start_date_struct, study.status.completion_date_struct):
        assert struct is None or PARTIAL_DATE.fullmatch(struct.date or ""), name
    assert len(study.contacts_locations.locations) == len(xml.findall("location")), name
    assert all(location.geo_point is None for location in study.contacts_locations.locations)
    for arm in study.arms_interventions.arm_groups:
        assert arm.type is None or arm.type in enums["ArmGroupType"], name
    for intervention in study.arms_interventions.interventions:
        assert intervention.type in enums["InterventionType"], name
    assert study.has_results == (xml.find("clinical_results") is not None)


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_record_in_folder_converts(
    shared_data: Path, folder: str, v2_enums: dict[str, set[str]]
) -> None:
    paths = sorted((shared_data / LEGACY / folder).glob("*.xml"))
    assert len(paths) >= 60
    for path in paths:
        _check_record(path.name, path.read_bytes(), v2_enums)


def test_every_allpublicxml_record_converts(shared_data: Path, v2_enums: dict[str, set[str]]) -> None:
    started = time.perf_counter()
    count = 0
    for name, raw in _tar_records(shared_data):
        _check_record(name, raw, v2_enums)
        count += 1
    assert count == 6786
    assert time.perf_counter() - started < 60
