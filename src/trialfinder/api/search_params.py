"""Our API's search parameters -> SearchRequest; a place given as text is resolved with the offline gazetteer."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Query

from trialfinder.api.errors import bad_request
from trialfinder.api.schemas import PlaceModel
from trialfinder.geo import UnknownPlace, parse_radius, resolve_place
from trialfinder.search.types import SORT_KEYS, STATUS_GROUPS, DateRange, Near, SearchRequest, SortKey
from trialfinder.search.vocab import UnknownValue, normalize_all

_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"


@dataclass
class SearchParameters:
    """The translated request and, for a place search, the place it was centred on."""

    request: SearchRequest
    place: PlaceModel | None = None


def _items(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _enum(values: list[str], kind: str) -> list[str]:
    """Filter values in API v2 spelling, from any case, display label or group name (the search vocabulary)."""
    try:
        return normalize_all(kind, values, strict=True)
    except UnknownValue as unknown:
        raise bad_request(str(unknown), kind, suggestions=unknown.suggestions) from None


def _range(start: str | None, end: str | None) -> DateRange | None:
    if start is None and end is None:
        return None
    return DateRange(_full_date(start, first=True), _full_date(end, first=False))


def _full_date(text: str | None, first: bool) -> str | None:
    if text is None:
        return None
    parts = text.split("-")
    if len(parts) == 1:
        return f"{parts[0]}-01-01" if first else f"{parts[0]}-12-31"
    if len(parts) == 2:
        return f"{text}-01" if first else f"{text}-31"
    return text


def _sort(values: list[str]) -> list[SortKey]:
    keys = []
    for item in _items(values):
        descending = None
        name = item
        if name.startswith("-"):
            name, descending = name[1:], True
        if ":" in name:
            name, _, direction = name.partition(":")
            if direction not in ("asc", "desc"):
                raise bad_request(f"sort: direction of {item!r} must be asc or desc", "sort")
            descending = direction == "desc"
        if name not in SORT_KEYS:
            raise bad_request(f"sort: unknown key {name!r}; expected one of {', '.join(SORT_KEYS)}", "sort")
        if descending is None:
            descending = name not in ("nct_id", "distance")
        keys.append(SortKey(name, descending))
    if len(keys) > 2:
        raise bad_request("sort takes at most 2 keys", "sort")
    return keys


def search_parameters(
    q: str = Query("", max_length=2000, description="words anywhere in the record; AREA[Field]value syntax works"),
    condition: str = Query("", max_length=2000),
    intervention: str = Query("", max_length=2000),
    title: str = Query("", max_length=2000),
    outcome: str = Query("", max_length=2000),
    sponsor: str = Query("", max_length=2000, description="lead sponsor or collaborator"),
    lead_sponsor: str = Query("", max_length=2000),
    location: str = Query("", max_length=2000, description="facility, city, state or country words"),
    ids: list[str] = Query([], description="NCT ids or other study identifiers"),
    advanced: str = Query("", max_length=4000, description="ClinicalTrials.gov filter.advanced expression"),
    status: list[str] = Query([], description="API v2 statuses (RECRUITING...) or groups: " + ", ".join(STATUS_GROUPS)),
    phase: list[str] = Query([], description="EARLY_PHASE1, PHASE1, PHASE2, PHASE3, PHASE4, NA"),
    study_type: list[str] = Query([], description="INTERVENTIONAL, OBSERVATIONAL, EXPANDED_ACCESS"),
    funder_type: list[str] = Query([], description="NIH, FED, INDUSTRY, OTHER"),
    sex: list[str] = Query([], description="FEMALE or MALE (studies open to all match both)"),
    age: float | None = Query(None, ge=0, le=150, description="the patient's age in years"),
    age_group: list[str] = Query([], description="CHILD, ADULT, OLDER_ADULT"),
    healthy_volunteers: bool | None = Query(None),
    has_results: bool | None = Query(None),
    country: list[str] = Query([], description="countries as ClinicalTrials.gov spells them"),
    start_from: str | None = Query(None, pattern=_DATE),
    start_to: str | None = Query(None, pattern=_DATE),
    primary_completion_from: str | None = Query(None, pattern=_DATE),
    primary_completion_to: str | None = Query(None, pattern=_DATE),
    first_posted_from: str | None = Query(None, pattern=_DATE),
    first_posted_to: str | None = Query(None, pattern=_DATE),
    last_updated_from: str | None = Query(None, pattern=_DATE),
    last_updated_to: str | None = Query(None, pattern=_DATE),
    near: str | None = Query(None, max_length=200, description="a place: ZIP, 'City, ST', city, country or 'lat,lon'"),
    lat: float | None = Query(None, ge=-90, le=90),
    lon: float | None = Query(None, ge=-180, le=180),
    radius: str = Query("50mi", max_length=20, description="distance from the place: 50mi, 80km, 25"),
    recruiting_sites_only: bool = Query(False),
    sort: list[str] = Query([], description="keys among " + ", ".join(SORT_KEYS) + "; '-key' or 'key:desc'"),
    synonyms: bool = Query(True, description="expand conditions with MeSH terms, abbreviations, rare-disease names"),
) -> SearchParameters:
    """FastAPI dependency: validate and translate every search parameter."""
    request = SearchRequest(
        query=q, condition=condition, intervention=intervention, title=title, outcome=outcome, sponsor=sponsor,
        lead_sponsor=lead_sponsor, location=location, ids=_items(ids), advanced=advanced,
        statuses=_enum(status, "status") if "all" not in _items(status) else [],
        phases=_enum(phase, "phase"),
        study_types=_enum(study_type, "study_type"),
        funder_types=_enum(funder_type, "funder_type"),
        sexes=[s for s in _enum(sex, "sex") if s != "ALL"],
        age=age,
        age_groups=_enum(age_group, "age_group"),
        healthy_volunteers=healthy_volunteers,
        has_results=has_results,
        countries=_items(country),
        start=_range(start_from, start_to),
        primary_completion=_range(primary_completion_from, primary_completion_to),
        first_posted=_range(first_posted_from, first_posted_to),
        last_updated=_range(last_updated_from, last_updated_to),
        synonyms=synonyms,
    )
    place = None
    if near is not None or lat is not None or lon is not None:
        request.near, place = _near(near, lat, lon, radius, recruiting_sites_only)
    request.sort = _sort(sort) or ([SortKey("distance", False)] if request.near and not _has_text(request)
                                   else [SortKey("relevance", True)])
    if any(key.key == "distance" for key in request.sort) and request.near is None:
        raise bad_request("sort by distance needs a place (near, or lat and lon)", "sort")
    return SearchParameters(request=request, place=place)


def _has_text(request: SearchRequest) -> bool:
    return any((request.query, request.condition, request.intervention, request.title, request.outcome,
                request.sponsor, request.lead_sponsor, request.location))


def _near(text: str | None, lat: float | None, lon: float | None, radius: str,
          recruiting_only: bool) -> tuple[Near, PlaceModel]:
    try:
        radius_km = parse_radius(radius)
    except ValueError as error:
        raise bad_request(str(error), "radius") from None
    if text is not None and (lat is not None or lon is not None):
        raise bad_request("give either near or lat and lon, not both", "near")
    if text is None:
        if lat is None or lon is None:
            raise bad_request("lat and lon go together", "lat" if lat is None else "lon")
        name, kind, country = f"{lat:.4f},{lon:.4f}", "latlon", None
    else:
        try:
            resolved = resolve_place(text)
        except UnknownPlace as unknown:
            raise bad_request(str(unknown), "near", suggestions=unknown.suggestions) from None
        except ValueError as error:
            raise bad_request(str(error), "near") from None
        name, kind, country, lat, lon = resolved.name, resolved.kind, resolved.country, resolved.lat, resolved.lon
    near = Near(lat=lat, lon=lon, radius_km=radius_km, recruiting_sites_only=recruiting_only, label=name)
    return near, PlaceModel(name=name, lat=lat, lon=lon, kind=kind, country=country, radius_km=radius_km)
