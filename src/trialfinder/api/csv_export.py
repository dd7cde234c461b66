"""CSV output with the ClinicalTrials.gov website's download columns (one row per study)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from trialfinder.api.errors import bad_request

Record = dict[str, Any]


def _get(record: Record, path: str) -> Any:
    value: Any = record
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _joined(items: Iterable[Any]) -> str:
    return "|".join(_text(item) for item in items if item not in (None, ""))


def _listed(record: Record, path: str) -> list:
    value = _get(record, path)
    return value if isinstance(value, list) else []


def _parts(item: dict, *keys: str, separator: str = ", ") -> str:
    return separator.join(_text(item.get(key)) for key in keys if item.get(key) not in (None, ""))


def _outcomes(kind: str) -> Callable[[Record], str]:
    def column(record: Record) -> str:
        items = _listed(record, f"protocolSection.outcomesModule.{kind}Outcomes")
        return _joined(_parts(item, "measure", "description", "timeFrame") for item in items)

    return column


def _age(record: Record) -> str:
    eligibility = _get(record, "protocolSection.eligibilityModule") or {}
    low, high = eligibility.get("minimumAge"), eligibility.get("maximumAge")
    groups = ", ".join(eligibility.get("stdAges") or [])
    if low and high:
        span = f"{low} to {high}"
    elif low:
        span = f"{low} and older"
    elif high:
        span = f"up to {high}"
    else:
        span = ""
    return f"{span} ({groups})".strip() if groups else span


def _design(record: Record) -> str:
    info = _get(record, "protocolSection.designModule.designInfo") or {}
    masking = info.get("maskingInfo") or {}
    parts = [
        ("Allocation", info.get("allocation")),
        ("Intervention Model", info.get("interventionModel")),
        ("Masking", masking.get("masking") and (
            masking["masking"] + (f" ({', '.join(masking['whoMasked'])})" if masking.get("whoMasked") else ""))),
        ("Primary Purpose", info.get("primaryPurpose")),
        ("Observational Model", info.get("observationalModel")),
        ("Time Perspective", info.get("timePerspective")),
    ]
    return "|".join(f"{label}: {value}" for label, value in parts if value)


def _documents(record: Record) -> str:
    nct_id = _get(record, "protocolSection.identificationModule.nctId") or ""
    docs = _listed(record, "documentSection.largeDocumentModule.largeDocs")
    return _joined(
        f"{doc.get('label') or doc.get('typeAbbrev') or 'Document'}, "
        f"https://cdn.clinicaltrials.gov/large-docs/{nct_id[-2:]}/{nct_id}/{doc.get('filename')}"
        for doc in docs
        if doc.get("filename")
    )


def _field(path: str) -> Callable[[Record], str]:
    return lambda record: _text(_get(record, path))


COLUMNS: dict[str, Callable[[Record], str]] = {
    "NCT Number": _field("protocolSection.identificationModule.nctId"),
    "Study Title": _field("protocolSection.identificationModule.briefTitle"),
    "Study URL": lambda r: f"https://clinicaltrials.gov/study/{_get(r, 'protocolSection.identificationModule.nctId')}",
    "Acronym": _field("protocolSection.identificationModule.acronym"),
    "Study Status": _field("protocolSection.statusModule.overallStatus"),
    "Brief Summary": _field("protocolSection.descriptionModule.briefSummary"),
    "Study Results": lambda r: "YES" if r.get("hasResults") else "NO",
    "Conditions": lambda r: _joined(_listed(r, "protocolSection.conditionsModule.conditions")),
    "Interventions": lambda r: _joined(
        _parts(i, "type", "name", separator=": ") for i in _listed(r, "protocolSection.armsInterventionsModule.interventions")
    ),
    "Primary Outcome Measures": _outcomes("primary"),
    "Secondary Outcome Measures": _outcomes("secondary"),
    "Other Outcome Measures": _outcomes("other"),
    "Sponsor": _field("protocolSection.sponsorCollaboratorsModule.leadSponsor.name"),
    "Collaborators": lambda r: _joined(
        c.get("name") for c in _listed(r, "protocolSection.sponsorCollaboratorsModule.collaborators")
    ),
    "Sex": _field("protocolSection.eligibilityModule.sex"),
    "Age": _age,
    "Phases": lambda r: _joined(_listed(r, "protocolSection.designModule.phases")),
    "Enrollment": _field("protocolSection.designModule.enrollmentInfo.count"),
    "Funder Type": _field("protocolSection.sponsorCollaboratorsModule.leadSponsor.class"),
    "Study Type": _field("protocolSection.designModule.studyType"),
    "Study Design": _design,
    "Other IDs": lambda r: _joined(
        [_get(r, "protocolSection.identificationModule.orgStudyIdInfo.id")]
        + [s.get("id") for s in _listed(r, "protocolSection.identificationModule.secondaryIdInfos")]
    ),
    "Start Date": _field("protocolSection.statusModule.startDateStruct.date"),
    "Primary Completion Date": _field("protocolSection.statusModule.primaryCompletionDateStruct.date"),
    "Completion Date": _field("protocolSection.statusModule.completionDateStruct.date"),
    "First Posted": _field("protocolSection.statusModule.studyFirstPostDateStruct.date"),
    "Results First Posted": _field("protocolSection.statusModule.resultsFirstPostDateStruct.date"),
    "Last Update Posted": _field("protocolSection.statusModule.lastUpdatePostDateStruct.date"),
    "Locations": lambda r: _joined(
        _parts(site, "facility", "city", "state", "zip", "country")
        for site in _listed(r, "protocolSection.contactsLocationsModule.locations")
    ),
    "Study Documents": _documents,
}
_BY_LOWER = {name.lower(): name for name in COLUMNS}


def csv_columns(requested: list[str] | None, parameter: str = "fields") -> list[str]:
    """The CSV columns to write: the requested ones (names as on the download page) or all of them."""
    if not requested:
        return list(COLUMNS)
    columns = []
    for item in requested:
        name = _BY_LOWER.get(item.strip().lower())
        if name is None:
            raise bad_request(f"unknown CSV column in {parameter}: {item!r}; columns: {', '.join(COLUMNS)}", parameter)
        columns.append(name)
    return list(dict.fromkeys(columns))


def write_csv(records: Iterable[Record], columns: list[str], header: bool = True) -> str:
    """CSV text of the records, one row each, with a header row when asked."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for record in records:
        writer.writerow([COLUMNS[column](record) for column in columns])
    return buffer.getvalue()
