"""Convert one legacy ClinicalTrials.gov XML record (`<clinical_study>`, public.xsd) into an API v2 dict.

The legacy format is what AllPublicXML and the TREC clinical-trials collections ship. The result has the JSON
shape the v2 API returns (camelCase modules, upper-snake enums), so the store, index and matcher treat both
sources alike.

Conversion is strict about structure (the document must parse, be a `<clinical_study>` and carry a valid
nct_id) and lenient about values: an enum spelling this module does not know is upper-snaked rather than
dropped, and a date or count that cannot be read is left out rather than failing the whole record.
"""

from __future__ import annotations

import datetime
import re
import textwrap
import xml.etree.ElementTree as ET
from typing import Any

from trialfinder.model.ages import age_in_years

__all__ = ["LegacyXmlError", "legacy_xml_to_study_dict"]


class LegacyXmlError(ValueError):
    """A legacy XML document that cannot be converted; `field` names the element at fault, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def legacy_xml_to_study_dict(xml: bytes | str) -> dict[str, Any]:
    """Convert one `<clinical_study>` document into an API v2 study dict; LegacyXmlError when unusable."""
    root = _parse(xml)
    nct_id = _nct_id(root)
    protocol = {
        "identificationModule": _identification(root, nct_id),
        "statusModule": _status(root),
        "sponsorCollaboratorsModule": _sponsors(root),
        "oversightModule": _oversight(root),
        "descriptionModule": {
            "briefSummary": _textblock(root.find("brief_summary")),
            "detailedDescription": _textblock(root.find("detailed_description")),
        },
        "conditionsModule": {"conditions": _texts(root, "condition"), "keywords": _texts(root, "keyword")},
        "designModule": _design(root),
        "armsInterventionsModule": _arms_interventions(root),
        "outcomesModule": {
            "primaryOutcomes": _outcomes(root, "primary_outcome"),
            "secondaryOutcomes": _outcomes(root, "secondary_outcome"),
            "otherOutcomes": _outcomes(root, "other_outcome"),
        },
        "eligibilityModule": _eligibility(root.find("eligibility")),
        "contactsLocationsModule": _contacts_locations(root),
        "referencesModule": _references(root),
        "ipdSharingStatementModule": _ipd_sharing(root.find("patient_data")),
    }
    study = {
        "protocolSection": protocol,
        "derivedSection": _derived(root),
        "hasResults": root.find("clinical_results") is not None,
    }
    return _compact(study)


# parsing ----------------------------------------------------------------------------------------------------

_NCT_RE = re.compile(r"NCT[0-9]{8}")


def _parse(xml: bytes | str) -> ET.Element:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise LegacyXmlError(f"not well-formed XML: {exc}") from None
    # Expat reports a few input problems (bad encoding names, unencodable text) outside ParseError.
    except (ValueError, LookupError, TypeError) as exc:
        raise LegacyXmlError(f"unreadable XML: {exc}") from None
    if root.tag != "clinical_study":
        raise LegacyXmlError(
            f"root element is <{root.tag}>, expected <clinical_study>", field="clinical_study"
        )
    return root


def _nct_id(root: ET.Element) -> str:
    raw = _text(root.find("id_info/nct_id"))
    if not raw:
        raise LegacyXmlError("record has no id_info/nct_id", field="id_info/nct_id")
    nct_id = raw.upper()
    if not _NCT_RE.fullmatch(nct_id):
        raise LegacyXmlError(f"nct_id {raw!r} is not NCT followed by 8 digits", field="id_info/nct_id")
    return nct_id


# text helpers -----------------------------------------------------------------------------------------------


def _text(element: ET.Element | None) -> str | None:
    """Stripped text of a simple element; None when absent or blank."""
    if element is None or element.text is None:
        return None
    # Legacy files encode Windows line ends as &#xD;, which survives XML newline normalisation.
    text = element.text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def _texts(parent: ET.Element | None, path: str) -> list[str]:
    if parent is None:
        return []
    return [text for text in (_text(el) for el in parent.findall(path)) if text]


def _textblock(parent: ET.Element | None) -> str | None:
    """A `<textblock>` (or plain text) dedented, with its line structure and blank lines kept."""
    if parent is None:
        return None
    block = parent.find("textblock")
    raw = (block.text if block is not None else parent.text) or ""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in textwrap.dedent(raw).split("\n")]
    return "\n".join(lines).strip("\n") or None


def _person_name(element: ET.Element) -> str | None:
    """Join public.xsd's first/middle/last name and degrees the way v2 writes a name ("Ann Lee, MD")."""
    name = " ".join(
        _texts(element, "first_name") + _texts(element, "middle_name") + _texts(element, "last_name")
    )
    degrees = _text(element.find("degrees"))
    if name and degrees:
        return f"{name}, {degrees}"
    return name or degrees


# enums, booleans, dates -------------------------------------------------------------------------------------

# Legacy spellings whose v2 value is not simply the upper-snaked legacy text.
_STATUS = {"unknown status": "UNKNOWN"}
_AGENCY_CLASS = {"u.s. fed": "FED"}
_ALLOCATION = {"n/a": "NA"}
_PRIMARY_PURPOSE = {"educational/counseling/training": "ECT"}
_STUDY_TYPE = {"observational [patient registry]": "OBSERVATIONAL", "n/a": None}
_DATE_TYPE = {"anticipated": "ESTIMATED", "estimate": "ESTIMATED"}
_WHO_MASKED = {"subject": "PARTICIPANT", "caregiver": "CARE_PROVIDER"}
_IPD_INFO_TYPE = {
    "statistical analysis plan (sap)": "SAP",
    "informed consent form (icf)": "ICF",
    "clinical study report (csr)": "CSR",
}
_NOT_APPLICABLE = {"n/a", "na", "not applicable"}


def _upper_snake(text: str) -> str | None:
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_") or None


def _enum(text: str | None, special: dict[str, str | None] | None = None) -> str | None:
    """Map a legacy display value to its v2 enum; unknown values are upper-snaked so they stay readable."""
    if not text:
        return None
    key = " ".join(text.split()).lower()
    if special and key in special:
        return special[key]
    return _upper_snake(text)


def _bool(text: str | None) -> bool | None:
    if not text:
        return None
    return {"yes": True, "no": False, "accepts healthy volunteers": True}.get(text.strip().lower())


def _phases(text: str | None) -> list[str]:
    """Legacy phase text as v2 phases: "Phase 1/Phase 2" -> ["PHASE1", "PHASE2"], "N/A" -> ["NA"]."""
    if not text:
        return []
    if text.strip().lower() in _NOT_APPLICABLE:
        return ["NA"]
    phases = []
    for part in text.split("/"):
        match = re.fullmatch(r"\s*(early\s+)?phase\s*([0-9])\s*", part, re.IGNORECASE)
        phase = f"{'EARLY_' if match.group(1) else ''}PHASE{match.group(2)}" if match else _upper_snake(part)
        if phase and phase not in phases:
            phases.append(phase)
    return phases


def _masking(text: str | None) -> dict[str, Any]:
    """Masking "Double (Participant, Investigator)" -> DOUBLE with whoMasked; reads pre-2017 wording too."""
    if not text:
        return {}
    level, _, who = text.partition("(")
    level_key = " ".join(level.lower().replace("blind", "").split())
    masking = "NONE" if level_key in {"none", "open label", ""} else _upper_snake(level_key)
    who_masked = []
    if masking != "NONE":
        for role in who.rstrip(")").split(","):
            value = _enum(role, _WHO_MASKED)
            if value and value not in who_masked:
                who_masked.append(value)
    return {"masking": masking, "whoMasked": who_masked}


_MONTHS = {
    name.lower(): number
    for number in range(1, 13)
    for name in (datetime.date(2000, number, 1).strftime("%B"), datetime.date(2000, number, 1).strftime("%b"))
}
_LEGACY_DATE_RE = re.compile(r"([A-Za-z]+)\.?\s+(?:([0-9]{1,2}),?\s+)?([0-9]{4})")
_ISO_DATE_RE = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")
_DOWNLOAD_DATE_RE = re.compile(r"processed this data on (.+)$")


def _iso_date(text: str | None) -> str | None:
    """Dates: "January 2005" -> "2005-01", "January 15, 2005" -> "2005-01-15"; None for unreadable text."""
    if not text:
        return None
    text = text.strip()
    if _ISO_DATE_RE.fullmatch(text):
        return text
    match = _LEGACY_DATE_RE.fullmatch(text)
    if not match or match.group(1).lower() not in _MONTHS:
        return None
    month, year = _MONTHS[match.group(1).lower()], int(match.group(3))
    if match.group(2) is None:
        return f"{year:04d}-{month:02d}"
    try:
        return datetime.date(year, month, int(match.group(2))).isoformat()
    except ValueError:
        return None


def _date_struct(element: ET.Element | None) -> dict[str, Any] | None:
    date = _iso_date(_text(element))
    if element is None or date is None:
        return None
    return {"date": date, "type": _enum(element.get("type"), _DATE_TYPE)}


def _age(text: str | None) -> str | None:
    if not text or text.strip().lower() in _NOT_APPLICABLE:
        return None
    return " ".join(text.split())


def _std_ages(minimum: str | None, maximum: str | None) -> list[str]:
    """v2's derived age groups: CHILD under 18, ADULT 18-64, OLDER_ADULT 65 and over."""
    low = age_in_years(minimum) or 0.0
    high = age_in_years(maximum)
    high = float("inf") if high is None else high
    groups = []
    if low < 18:
        groups.append("CHILD")
    if low < 65 and high >= 18:
        groups.append("ADULT")
    if high >= 65:
        groups.append("OLDER_ADULT")
    return groups


# protocol modules -------------------------------------------------------------------------------------------


def _identification(root: ET.Element, nct_id: str) -> dict[str, Any]:
    lead = root.find("sponsors/lead_sponsor")
    source = _text(root.find("source"))
    lead_name = _text(lead.find("agency")) if lead is not None else None
    # `source` is the organisation that submits the record; its class is known only when it is the lead.
    source_class = _enum(_text(lead.find("agency_class")), _AGENCY_CLASS) if lead is not None else None
    return {
        "nctId": nct_id,
        "nctIdAliases": _texts(root, "id_info/nct_alias"),
        "orgStudyIdInfo": {"id": _text(root.find("id_info/org_study_id"))},
        "secondaryIdInfos": [{"id": sid} for sid in _texts(root, "id_info/secondary_id")],
        "organization": {"fullName": source, "class": source_class if source == lead_name else None},
        "briefTitle": _text(root.find("brief_title")),
        "officialTitle": _text(root.find("official_title")),
        "acronym": _text(root.find("acronym")),
    }


def _status(root: ET.Element) -> dict[str, Any]:
    def date(*names: str) -> str | None:
        # Pre-2017 files use older element names (firstreceived_date ...) for the same dates.
        return next(
            (_iso_date(_text(root.find(name))) for name in names if root.find(name) is not None), None
        )

    return {
        "statusVerifiedDate": date("verification_date"),
        "overallStatus": _enum(_text(root.find("overall_status")), _STATUS),
        "lastKnownStatus": _enum(_text(root.find("last_known_status")), _STATUS),
        "whyStopped": _text(root.find("why_stopped")),
        "expandedAccessInfo": {"hasExpandedAccess": _bool(_text(root.find("has_expanded_access")))},
        "startDateStruct": _date_struct(root.find("start_date")),
        "primaryCompletionDateStruct": _date_struct(root.find("primary_completion_date")),
        "completionDateStruct": _date_struct(root.find("completion_date")),
        "studyFirstSubmitDate": date("study_first_submitted", "firstreceived_date"),
        "studyFirstSubmitQcDate": date("study_first_submitted_qc"),
        "studyFirstPostDateStruct": _date_struct(root.find("study_first_posted")),
        "resultsFirstSubmitDate": date("results_first_submitted", "firstreceived_results_date"),
        "resultsFirstSubmitQcDate": date("results_first_submitted_qc"),
        "resultsFirstPostDateStruct": _date_struct(root.find("results_first_posted")),
        "dispFirstSubmitDate": date("disposition_first_submitted", "firstreceived_results_disposition_date"),
        "dispFirstSubmitQcDate": date("disposition_first_submitted_qc"),
        "dispFirstPostDateStruct": _date_struct(root.find("disposition_first_posted")),
        "lastUpdateSubmitDate": date("last_update_submitted", "lastchanged_date"),
        "lastUpdatePostDateStruct": _date_struct(root.find("last_update_posted")),
    }


def _sponsor(element: ET.Element) -> dict[str, Any]:
    return {
        "name": _text(element.find("agency")),
        "class": _enum(_text(element.find("agency_class")), _AGENCY_CLASS),
    }


def _sponsors(root: ET.Element) -> dict[str, Any]:
    lead = root.find("sponsors/lead_sponsor")
    party = root.find("responsible_party")
    responsible = {}
    if party is not None:
        responsible = {
            "type": _enum(_text(party.find("responsible_party_type"))),
            "investigatorFullName": _text(party.find("investigator_full_name")),
            "investigatorTitle": _text(party.find("investigator_title")),
            "investigatorAffiliation": _text(party.find("investigator_affiliation")),
            "oldNameTitle": _text(party.find("name_title")),
            "oldOrganization": _text(party.find("organization")),
        }
    return {
        "responsibleParty": responsible,
        "leadSponsor": _sponsor(lead) if lead is not None else None,
        "collaborators": [_sponsor(el) for el in root.findall("sponsors/collaborator")],
    }


def _oversight(root: ET.Element) -> dict[str, Any]:
    def flag(name: str) -> bool | None:
        return _bool(_text(root.find(f"oversight_info/{name}")))

    return {
        "oversightHasDmc": flag("has_dmc"),
        "isFdaRegulatedDrug": flag("is_fda_regulated_drug"),
        "isFdaRegulatedDevice": flag("is_fda_regulated_device"),
        "isUnapprovedDevice": flag("is_unapproved_device"),
        "isPpsd": flag("is_ppsd"),
        "isUsExport": flag("is_us_export"),
    }


def _design(root: ET.Element) -> dict[str, Any]:
    study_type_text = _text(root.find("study_type"))
    design = root.find("study_design_info")

    def design_text(name: str) -> str | None:
        return _text(design.find(name)) if design is not None else None

    model = design_text("intervention_model")
    enrollment = root.find("enrollment")
    expanded_access = root.find("expanded_access_info")
    return {
        "studyType": _enum(study_type_text, _STUDY_TYPE),
        "expandedAccessTypes": {
            "individual": _bool(_text(root.find("expanded_access_info/expanded_access_type_individual"))),
            "intermediate": _bool(_text(root.find("expanded_access_info/expanded_access_type_intermediate"))),
            "treatment": _bool(_text(root.find("expanded_access_info/expanded_access_type_treatment"))),
        }
        if expanded_access is not None
        else None,
        "patientRegistry": True
        if study_type_text and "patient registry" in study_type_text.lower()
        else None,
        "targetDuration": _text(root.find("target_duration")),
        "phases": _phases(_text(root.find("phase"))),
        "designInfo": {
            "allocation": _enum(design_text("allocation"), _ALLOCATION),
            "interventionModel": _enum(re.sub(r"(?i)\s+assignment$", "", model)) if model else None,
            "interventionModelDescription": design_text("intervention_model_description"),
            "primaryPurpose": _enum(design_text("primary_purpose"), _PRIMARY_PURPOSE),
            "observationalModel": _enum(design_text("observational_model")),
            "timePerspective": _enum(design_text("time_perspective")),
            "maskingInfo": _masking(design_text("masking"))
            | {"maskingDescription": design_text("masking_description")},
        },
        "bioSpec": {
            "retention": _enum(_text(root.find("biospec_retention"))),
            "description": _textblock(root.find("biospec_descr")),
        },
        "enrollmentInfo": {
            "count": _count(_text(enrollment)),
            "type": _enum(enrollment.get("type"), _DATE_TYPE) if enrollment is not None else None,
        },
    }


def _count(text: str | None) -> int | None:
    return int(text) if text and re.fullmatch(r"[0-9]{1,9}", text) else None


def _arms_interventions(root: ET.Element) -> dict[str, Any]:
    interventions = []
    names_by_arm: dict[str, list[str]] = {}
    for element in root.findall("intervention"):
        type_text, name = _text(element.find("intervention_type")), _text(element.find("intervention_name"))
        arm_labels = _texts(element, "arm_group_label")
        interventions.append(
            {
                "type": _enum(type_text),
                "name": name,
                "description": _text(element.find("description")),
                "armGroupLabels": arm_labels,
                "otherNames": _texts(element, "other_name"),
            }
        )
        # v2 lists, on each arm, the interventions that name it, as "Type: Name".
        display = f"{type_text}: {name}" if type_text and name else name
        for label in arm_labels:
            if display:
                names_by_arm.setdefault(label, []).append(display)
    arms = []
    for element in root.findall("arm_group"):
        label = _text(element.find("arm_group_label"))
        arms.append(
            {
                "label": label,
                "type": _enum(_text(element.find("arm_group_type"))),
                "description": _text(element.find("description")),
                "interventionNames": names_by_arm.get(label or "", []),
            }
        )
    return {"armGroups": arms, "interventions": interventions}


def _outcomes(root: ET.Element, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "measure": _text(el.find("measure")),
            "description": _text(el.find("description")),
            "timeFrame": _text(el.find("time_frame")),
        }
        for el in root.findall(tag)
    ]


def _eligibility(element: ET.Element | None) -> dict[str, Any]:
    if element is None:
        return {}
    minimum, maximum = _age(_text(element.find("minimum_age"))), _age(_text(element.find("maximum_age")))
    return {
        "eligibilityCriteria": _textblock(element.find("criteria")),
        "healthyVolunteers": _bool(_text(element.find("healthy_volunteers"))),
        "sex": _enum(_text(element.find("gender"))),
        "genderBased": _bool(_text(element.find("gender_based"))),
        "genderDescription": _text(element.find("gender_description")),
        "minimumAge": minimum,
        "maximumAge": maximum,
        "stdAges": _std_ages(minimum, maximum),
        "studyPopulation": _textblock(element.find("study_pop")),
        "samplingMethod": _enum(_text(element.find("sampling_method"))),
    }


def _contact(element: ET.Element, role: str | None) -> dict[str, Any]:
    return {
        "name": _person_name(element),
        "role": role,
        "phone": _text(element.find("phone")),
        "phoneExt": _text(element.find("phone_ext")),
        "email": _text(element.find("email")),
    }


def _location(element: ET.Element) -> dict[str, Any]:
    contacts = [
        _contact(el, "CONTACT") for el in element.findall("contact") + element.findall("contact_backup")
    ]
    contacts += [_contact(el, _enum(_text(el.find("role")))) for el in element.findall("investigator")]
    return {
        "facility": _text(element.find("facility/name")),
        "status": _enum(_text(element.find("status")), _STATUS),
        "city": _text(element.find("facility/address/city")),
        "state": _text(element.find("facility/address/state")),
        "zip": _text(element.find("facility/address/zip")),
        "country": _text(element.find("facility/address/country")),
        "contacts": contacts,
    }


def _contacts_locations(root: ET.Element) -> dict[str, Any]:
    central = root.findall("overall_contact") + root.findall("overall_contact_backup")
    return {
        "centralContacts": [_contact(el, "CONTACT") for el in central],
        "overallOfficials": [
            {
                "name": _person_name(el),
                "affiliation": _text(el.find("affiliation")),
                "role": _enum(_text(el.find("role"))),
            }
            for el in root.findall("overall_official")
        ],
        "locations": [_location(el) for el in root.findall("location")],
    }


def _references(root: ET.Element) -> dict[str, Any]:
    def reference(element: ET.Element, kind: str) -> dict[str, Any]:
        return {
            "pmid": _text(element.find("PMID")),
            "type": kind,
            "citation": _text(element.find("citation")),
        }

    return {
        "references": [reference(el, "BACKGROUND") for el in root.findall("reference")]
        + [reference(el, "RESULT") for el in root.findall("results_reference")],
        "seeAlsoLinks": [
            {"label": _text(el.find("description")), "url": _text(el.find("url"))}
            for el in root.findall("link")
        ],
        "availIpds": [
            {
                "id": _text(el.find("doc_id")),
                "type": _text(el.find("doc_type")),
                "url": _text(el.find("doc_url")),
                "comment": _text(el.find("doc_comment")),
            }
            for el in root.findall("study_docs/study_doc")
        ],
    }


def _ipd_sharing(element: ET.Element | None) -> dict[str, Any]:
    if element is None:
        return {}
    return {
        "ipdSharing": _enum(_text(element.find("sharing_ipd"))),
        "description": _text(element.find("ipd_description")),
        "infoTypes": [_enum(text, _IPD_INFO_TYPE) for text in _texts(element, "ipd_info_type")],
        "timeFrame": _text(element.find("ipd_time_frame")),
        "accessCriteria": _text(element.find("ipd_access_criteria")),
        "url": _text(element.find("ipd_url")),
    }


def _derived(root: ET.Element) -> dict[str, Any]:
    download = _DOWNLOAD_DATE_RE.search(_text(root.find("required_header/download_date")) or "")
    return {
        "miscInfoModule": {
            # The day the registry exported this record: the closest legacy equivalent of v2's versionHolder.
            "versionHolder": _iso_date(download.group(1)) if download else None,
            "removedCountries": _texts(root, "removed_countries/country"),
        },
        "conditionBrowseModule": {
            "meshes": [{"term": t} for t in _texts(root, "condition_browse/mesh_term")]
        },
        "interventionBrowseModule": {
            "meshes": [{"term": t} for t in _texts(root, "intervention_browse/mesh_term")]
        },
    }


def _compact(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty objects, as the v2 API omits absent fields."""
    if isinstance(value, dict):
        items = ((key, _compact(item)) for key, item in value.items())
        return {key: item for key, item in items if item not in (None, "", [], {})}
    if isinstance(value, list):
        items = (_compact(item) for item in value)
        return [item for item in items if item not in (None, "", [], {})]
    return value
