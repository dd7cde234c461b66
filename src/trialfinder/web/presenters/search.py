"""A SearchResult as the search page shows it: result cards, facet options with counts, pager, map points,
and the flat rows of the CSV/JSON export."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from trialfinder.geo.distance import KM_PER_MILE, haversine_km
from trialfinder.model.labels import FUNDER_TYPE, PHASE, STANDARD_AGE, STUDY_TYPE, label
from trialfinder.search.types import STATUS_GROUPS, Hit, Near, SearchResult
from trialfinder.web.formatting import human_date, phases_label, status_label, status_tone
from trialfinder.web.forms import SearchForm

MAX_CARD_CONDITIONS = 4


@dataclass(frozen=True)
class Card:
    """One result: what a patient needs to decide whether to open the trial."""

    nct_id: str
    href: str
    title: str
    status_label: str
    status_tone: str
    phases: str
    study_type: str
    conditions: list[str]
    more_conditions: int
    sponsor: str
    last_updated: str
    nearest: str  # "Dana-Farber Cancer Institute, Boston, Massachusetts"
    distance: str  # "3.2 mi"
    site_count: int


@dataclass(frozen=True)
class FacetOption:
    """A filter value with its count and whether it is on; href toggles it (for use without JavaScript)."""

    parameter: str
    value: str
    label: str
    count: int
    selected: bool
    href: str
    input_id: str


@dataclass(frozen=True)
class Facet:
    """One filter group ("Phase") with its options."""

    title: str
    parameter: str
    options: list[FacetOption]


@dataclass(frozen=True)
class PageLink:
    """A link of the pager; href is "" for the current page or a gap."""

    text: str
    href: str
    current: bool = False
    rel: str = ""


@dataclass(frozen=True)
class MapPoint:
    """A site of a result on the results map."""

    lat: float
    lon: float
    title: str
    detail: str
    href: str
    approximate: bool


# Facets offered as filters: engine facet name -> (title, query parameter, label table or None)
FILTER_FACETS: list[tuple[str, str, str, dict[str, str] | None]] = [
    ("phase", "Phase", "phase", PHASE),
    ("study_type", "Study type", "type", STUDY_TYPE),
    ("funder_type", "Funder type", "funder", FUNDER_TYPE),
    ("age_group", "Age group", "age_group", STANDARD_AGE),
    ("country", "Country", "country", None),
]
MAX_COUNTRY_OPTIONS = 15
# The facets the page shows (the status choices with their counts, then the filter groups): the engine counts only
# these, since every facet counted costs a pass over all the matches.
PAGE_FACETS = ("status", *(name for name, *_ in FILTER_FACETS))


def distance_text(km: float, miles: bool) -> str:
    """"3.2 mi" or "5.1 km", in the unit the user searched with."""
    value = km / KM_PER_MILE if miles else km
    return f"{value:,.1f} {'mi' if miles else 'km'}" if value < 100 else f"{value:,.0f} {'mi' if miles else 'km'}"


def card(hit: Hit, form: SearchForm) -> Card:
    """The result card of one hit."""
    nearest, distance = "", ""
    if hit.nearest_site is not None:
        site = hit.nearest_site
        nearest = ", ".join(p for p in (site.facility, site.city, site.state, site.country) if p)
        distance = distance_text(site.distance_km, form.radius_in_miles)
    return Card(
        nct_id=hit.nct_id,
        href=f"/study/{hit.nct_id}",
        title=hit.title or hit.nct_id,
        status_label=status_label(hit.overall_status),
        status_tone=status_tone(hit.overall_status),
        phases=phases_label(hit.phases),
        study_type=label(STUDY_TYPE, hit.study_type),
        conditions=hit.conditions[:MAX_CARD_CONDITIONS],
        more_conditions=max(0, len(hit.conditions) - MAX_CARD_CONDITIONS),
        sponsor=hit.sponsor or "",
        last_updated=human_date(hit.last_update),
        nearest=nearest,
        distance=distance,
        site_count=hit.site_count,
    )


def facets(result: SearchResult, form: SearchForm) -> list[Facet]:
    """Filter groups with the engine's counts; selected values stay listed even when their count is 0."""
    groups = []
    for name, title, parameter, table in FILTER_FACETS:
        counts = {str(k): v for k, v in result.facets.get(name, {}).items()}
        chosen = form.countries if parameter == "country" else form.enums.get(parameter, ())
        for value in chosen:
            counts.setdefault(value, 0)
        values = sorted(counts, key=lambda v: (-counts[v], v))
        if parameter == "country":
            values = [v for v in values if v in chosen] + [v for v in values if v not in chosen]
            values = values[:max(MAX_COUNTRY_OPTIONS, len(chosen))]
        elif table is not None:
            order = list(table)
            values = sorted((v for v in values if v in table), key=order.index)
        options = [
            FacetOption(parameter, value, label(table, value) if table else value, counts[value],
                        form.selected(parameter, value), form.toggled(parameter, value),
                        f"f-{parameter}-{index}")
            for index, value in enumerate(values)
        ]
        if options:
            groups.append(Facet(title, parameter, options))
    return groups


def status_counts(result: SearchResult) -> dict[str, int]:
    """Results per status choice under every other filter (the engine counts its status facet without the
    status filter), so each choice can show how many results picking it would give."""
    by_status = result.facets.get("status", {})
    counts = {group: sum(by_status.get(status, 0) for status in statuses)
              for group, statuses in STATUS_GROUPS.items() if statuses}
    counts["all"] = sum(by_status.values())
    return counts


def pager(result: SearchResult, form: SearchForm, max_page: int) -> list[PageLink]:
    """Previous, a window of page numbers with first/last, next."""
    pages = min(max_page, max(1, -(-result.total // form.per_page)))
    if pages <= 1:
        return []
    current = form.page
    shown = sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})
    links: list[PageLink] = []
    if current > 1:
        links.append(PageLink("Previous", form.url(page=current - 1), rel="prev"))
    previous = 0
    for number in shown:
        if number - previous > 1:
            links.append(PageLink("…", ""))
        links.append(PageLink(str(number), "" if number == current else form.url(page=number), number == current))
        previous = number
    if current < pages:
        links.append(PageLink("Next", form.url(page=current + 1), rel="next"))
    return links


def map_points(nct_ids: list[str], titles: dict[str, str], sites_by_study: dict[str, list[dict]],
               near: Near | None) -> list[MapPoint]:
    """Sites of these studies for a results map, in the studies' order; near a place, only those within the
    radius."""
    points = []
    for nct_id in nct_ids:
        title = titles.get(nct_id, nct_id)
        for site in sites_by_study.get(nct_id, []):
            if site.get("lat") is None or site.get("lon") is None:
                continue
            if near is not None and haversine_km(near.lat, near.lon, site["lat"], site["lon"]) > near.radius_km:
                continue
            place = ", ".join(p for p in (site.get("city"), site.get("state"), site.get("country")) if p)
            points.append(MapPoint(site["lat"], site["lon"], site.get("facility") or place or "Study site",
                                   f"{title} · {place}", f"/study/{nct_id}", bool(site.get("approximate"))))
    return points


def map_source(result: SearchResult, near: Near | None) -> str:
    """The URL of the results map's sites (fetched by the map script; "" when no hit has a site)."""
    ids = [hit.nct_id for hit in result.hits if hit.site_count]
    if not ids:
        return ""
    params = [("ids", ",".join(ids))]
    if near is not None:
        params += [("lat", f"{near.lat:.6f}"), ("lon", f"{near.lon:.6f}"), ("km", f"{near.radius_km:.3f}")]
    return "/search/sites.json?" + urlencode(params)


EXPORT_COLUMNS = ("nct_id", "title", "status", "phases", "study_type", "conditions", "sponsor", "last_updated",
                  "start_date", "enrollment", "site_count", "nearest_site", "distance_km", "url")


def export_row(hit: Hit, base_url: str) -> dict:
    """One hit as a flat record for CSV and JSON exports (API v2 enum values, ISO dates)."""
    site = hit.nearest_site
    return {
        "nct_id": hit.nct_id,
        "title": hit.title,
        "status": hit.overall_status or "",
        "phases": "|".join(hit.phases),
        "study_type": hit.study_type or "",
        "conditions": "|".join(hit.conditions),
        "sponsor": hit.sponsor or "",
        "last_updated": hit.last_update or "",
        "start_date": hit.start_date or "",
        "enrollment": hit.enrollment if hit.enrollment is not None else "",
        "site_count": hit.site_count,
        "nearest_site": ", ".join(p for p in (site.facility, site.city, site.state, site.country) if p) if site else "",
        "distance_km": round(site.distance_km, 2) if site else "",
        "url": f"{base_url}/study/{hit.nct_id}",
    }
