"""ClinicalTrials.gov API v2 query parameters -> our SearchRequest (query strings are passed through unparsed)."""

from __future__ import annotations

import re
from starlette.datastructures import QueryParams

from trialfinder.api.errors import bad_request
from trialfinder.geo import parse_radius
from trialfinder.model.labels import OVERALL_STATUS
from trialfinder.search.types import Near, SearchRequest, SortKey

# query.* parameter -> SearchRequest attribute
QUERY_PARAMETERS = {
    "query.term": "query",
    "query.cond": "condition",
    "query.intr": "intervention",
    "query.titles": "title",
    "query.outc": "outcome",
    "query.spons": "sponsor",
    "query.lead": "lead_sponsor",
    "query.locn": "location",
    "query.id": "ids",
}
UNSUPPORTED_PARAMETERS = ("query.patient", "filter.synonyms", "postFilter.synonyms")

# aggFilters options, as the ClinicalTrials.gov website writes them in its search URLs.
AGG_FILTERS: dict[str, dict[str, object]] = {
    "status": {"rec": "RECRUITING", "not": "NOT_YET_RECRUITING", "act": "ACTIVE_NOT_RECRUITING",
               "enr": "ENROLLING_BY_INVITATION", "com": "COMPLETED", "ter": "TERMINATED", "sus": "SUSPENDED",
               "wit": "WITHDRAWN", "unk": "UNKNOWN", "ava": "AVAILABLE", "nla": "NO_LONGER_AVAILABLE",
               "tna": "TEMPORARILY_NOT_AVAILABLE", "afm": "APPROVED_FOR_MARKETING", "whd": "WITHHELD"},
    "phase": {"0": "EARLY_PHASE1", "1": "PHASE1", "2": "PHASE2", "3": "PHASE3", "4": "PHASE4", "na": "NA"},
    "sex": {"f": "FEMALE", "m": "MALE", "all": None},
    "healthy": {"y": True, "n": False},
    "results": {"with": True, "without": False},
    "studyType": {"int": "INTERVENTIONAL", "obs": "OBSERVATIONAL", "exp": "EXPANDED_ACCESS"},
    "funderType": {"nih": "NIH", "fed": "FED", "industry": "INDUSTRY", "other": "OTHER"},
    "ages": {"child": "CHILD", "adult": "ADULT", "older": "OLDER_ADULT"},
}
_AGG_TARGET = {"status": "statuses", "phase": "phases", "sex": "sexes", "studyType": "study_types",
               "funderType": "funder_types", "ages": "age_groups"}

# sort field -> (our sort key, default descending)
SORT_FIELDS = {
    "@relevance": ("relevance", True),
    "lastupdatepostdate": ("last_updated", True),
    "startdate": ("start_date", True),
    "studyfirstpostdate": ("first_posted", True),
    "enrollmentcount": ("enrollment", False),
    "nctid": ("nct_id", False),
}

_GEO = re.compile(r"^distance\((-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?),(\d+(?:\.\d+)?(?:km|mi)?)\)$")
_NCT = re.compile(r"^(NCT|nct)\d{8}$")
_ONLY_NCT_IDS = re.compile(r"^[\s,]*(?:(?:NCT|nct)\d{8}[\s,]*)+$")
_SORT_ITEM = re.compile(r"^((?:[a-zA-Z][a-zA-Z0-9\-. ]*)|(?:@relevance))(?::(asc|desc))?$")
_GEO_DECAY = re.compile(
    r"^func:(gauss|exp|linear),scale:(\d+(\.\d+)?(km|mi)),offset:(\d+(\.\d+)?(km|mi)),decay:(\d+(\.\d+)?)$"
)


def split_list(value: str) -> list[str]:
    """Items of a comma- or pipe-separated parameter, stripped, empties dropped."""
    return [item.strip() for item in re.split(r"[,|]", value) if item.strip()]


def list_parameter(params: QueryParams, name: str) -> list[str] | None:
    """A list parameter given once (a|b, a,b) or repeated; None when absent."""
    values = params.getlist(name)
    if not values:
        return None
    return [item for value in values for item in split_list(value)]


def single(params: QueryParams, name: str) -> str | None:
    """A scalar parameter; given twice it is ambiguous, so 400."""
    values = params.getlist(name)
    if len(values) > 1:
        raise bad_request(f"{name} may be given only once", name)
    return values[0] if values else None


def parse_bool(params: QueryParams, name: str) -> bool:
    """A boolean parameter spelled true/false (default false)."""
    value = single(params, name)
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise bad_request(f"{name} must be true or false, not {value!r}", name)
    return lowered == "true"


class MatchesNothing(Exception):
    """The filters contradict each other (e.g. disjoint id lists): the answer is an empty result."""


def search_request(params: QueryParams) -> SearchRequest:
    """Translate the query, filter, aggFilters and sort parameters (paging is the caller's)."""
    for name in UNSUPPORTED_PARAMETERS:
        if params.get(name):
            raise bad_request(f"{name} is not supported by this server", name)
    request = SearchRequest()
    ids_only: list[str] | None = None
    for name, attribute in QUERY_PARAMETERS.items():
        value = single(params, name)
        if value is None or not value.strip():
            continue
        if _ONLY_NCT_IDS.match(value):
            # As ClinicalTrials.gov does: a query of nothing but NCT ids fetches those studies, ignoring filters.
            ids_only = (ids_only or []) + [f"NCT{m[3:]}" for m in re.findall(r"(?:NCT|nct)\d{8}", value)]
        elif attribute == "ids":
            request.ids = [token for token in re.split(r"[\s,|]+|\bOR\b", value) if token]
        else:
            setattr(request, attribute, value)
    if ids_only is not None:
        request.ids = _intersect(request.ids, ids_only)
        return _with_sort(request, params)

    statuses = _statuses(params, "filter.overallStatus")
    post_statuses = _statuses(params, "postFilter.overallStatus")
    if statuses is not None and post_statuses is not None:
        statuses = [s for s in statuses if s in post_statuses]
        if not statuses:
            raise MatchesNothing
    request.statuses = statuses if statuses is not None else (post_statuses or [])

    for name in ("filter.ids", "postFilter.ids"):
        ids = list_parameter(params, name)
        if ids is not None:
            for item in ids:
                if not _NCT.match(item):
                    raise bad_request(f"{name}: {item!r} is not an NCT number (NCT followed by 8 digits)", name)
            request.ids = _intersect(request.ids, [item.upper() for item in ids])

    advanced = [value for name in ("filter.advanced", "postFilter.advanced")
                if (value := single(params, name)) and value.strip()]
    request.advanced = " AND ".join(f"({a})" for a in advanced) if len(advanced) > 1 else "".join(advanced)

    for name in ("filter.geo", "postFilter.geo"):
        value = single(params, name)
        if value is not None:
            request.near = _near(value, name)
    decay = single(params, "geoDecay")
    if decay is not None and not _GEO_DECAY.match(decay):
        raise bad_request("geoDecay must look like func:exp,scale:300mi,offset:0mi,decay:0.5", "geoDecay")

    aggregate = single(params, "aggFilters")
    if aggregate:
        _apply_agg_filters(request, aggregate)
    return _with_sort(request, params)


def _intersect(current: list[str], new: list[str]) -> list[str]:
    if not current:
        return list(dict.fromkeys(new))
    kept = [item for item in current if item in set(new)]
    if not kept:
        raise MatchesNothing
    return kept


def _statuses(params: QueryParams, name: str) -> list[str] | None:
    items = list_parameter(params, name)
    if items is None:
        return None
    for item in items:
        if item.upper() not in OVERALL_STATUS:
            raise bad_request(f"{name}: unknown status {item!r}; expected one of {', '.join(OVERALL_STATUS)}", name)
    return [item.upper() for item in items]


def _near(value: str, name: str) -> Near:
    match = _GEO.match(value.strip())
    if not match:
        raise bad_request(f"{name} must look like distance(39.0035707,-77.1013313,50mi)", name)
    lat, lon = float(match[1]), float(match[2])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad_request(f"{name}: latitude must be within ±90 and longitude within ±180", name)
    try:
        radius = parse_radius(match[3])
    except ValueError as error:
        raise bad_request(f"{name}: {error}", name) from None
    return Near(lat=lat, lon=lon, radius_km=radius)


def _apply_agg_filters(request: SearchRequest, text: str) -> None:
    for pair in split_list(text):
        name, sep, options = pair.partition(":")
        name = name.strip()
        table = AGG_FILTERS.get(name)
        if not sep or table is None:
            raise bad_request(
                f"aggFilters: {pair!r} is not filter:options with a filter among {', '.join(AGG_FILTERS)}",
                "aggFilters",
            )
        chosen = []
        for option in options.split():
            if option.lower() not in table:
                raise bad_request(
                    f"aggFilters: unknown {name} option {option!r}; expected one of {', '.join(table)}", "aggFilters"
                )
            chosen.append(table[option.lower()])
        if not chosen:
            raise bad_request(f"aggFilters: {name} needs at least one option", "aggFilters")
        if name in ("healthy", "results"):
            values = set(chosen)
            flag = values.pop() if len(values) == 1 else None
            if name == "healthy":
                request.healthy_volunteers = flag
            else:
                request.has_results = flag
        elif None not in chosen:  # sex:all asks for no restriction
            setattr(request, _AGG_TARGET[name], list(dict.fromkeys(chosen)))


def _with_sort(request: SearchRequest, params: QueryParams) -> SearchRequest:
    items = list_parameter(params, "sort")
    keys: list[SortKey] = []
    for item in items or []:
        match = _SORT_ITEM.match(item)
        if not match:
            raise bad_request(f"sort: {item!r} is not field[:asc|desc]", "sort")
        known = SORT_FIELDS.get(match[1].lower())
        if known is None:
            raise bad_request(
                f"sort: cannot sort by {match[1]!r}; sortable: @relevance, LastUpdatePostDate, StartDate, "
                "StudyFirstPostDate, EnrollmentCount, NCTId",
                "sort",
            )
        key, descending = known
        if match[2]:
            descending = match[2] == "desc"
        keys.append(SortKey(key=key, descending=descending))
    if len(keys) > 2:
        raise bad_request("sort takes at most 2 keys", "sort")
    # The engine breaks every tie by NCT id, so pages never overlap or skip a study whatever the sort.
    request.sort = keys or [SortKey("relevance", True)]
    return request
