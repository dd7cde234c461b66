"""Find clinical trials: /search (HTML page or htmx fragment), /search.csv and /search.json exports, and
/search/sites.json, the sites of a page's results for its map."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from trialfinder.geo import Place, UnknownPlace, bounding_box, resolve_place
from trialfinder.model.ids import canonical_nct_id
from trialfinder.search.types import Near, SearchResult
from trialfinder.server import Services
from trialfinder.store.locations import brief_titles, sites_of_studies
from trialfinder.web import forms
from trialfinder.web.deps import services
from trialfinder.web.errors import BadRequest
from trialfinder.web.forms import MAX_RESULT_WINDOW, SearchForm, parse_search_form
from trialfinder.web.presenters import search as present
from trialfinder.web.templating import is_htmx, render

router = APIRouter()

EXPORT_LIMIT = 1000  # rows in one export: the first thousand results of the search, in its order
EXPORT_PAGE = 200
# Sites per result on the results map: a trial with a thousand sites would otherwise put most of the map's weight
# into one trial (the trial page maps them all).
MAP_SITES_PER_STUDY = 50
MAP_STUDIES = max(forms.PER_PAGE_CHOICES)  # studies one map request may name: a whole results page
MAP_CACHE_SECONDS = 300


@dataclass
class SearchOutcome:
    """What a search produced: the resolved place, or why the place is unknown; the result."""

    place: Place | None = None
    unknown_place: UnknownPlace | None = None
    result: SearchResult | None = None


def _resolve(form: SearchForm) -> Place | None:
    if not form.loc:
        return None
    try:
        return resolve_place(form.loc)
    except ValueError as error:  # too long, bad coordinates: a malformed request rather than an unknown place
        raise BadRequest("loc", str(error)) from None


def run_search(svc: Services, form: SearchForm) -> SearchOutcome:
    """Resolve the place and search (blocking). The map's sites are not fetched here: the map script asks
    /search/sites.json for them, so the page does not wait for what only a browser with scripts shows."""
    outcome = SearchOutcome()
    try:
        outcome.place = _resolve(form)
    except UnknownPlace as unknown:
        outcome.unknown_place = unknown
        return outcome
    request = form.to_request(outcome.place)
    request.facet_names = present.PAGE_FACETS
    outcome.result = svc.engine.search(request)
    return outcome


def map_sites(svc: Services, nct_ids: list[str], near: Near | None) -> list[dict]:
    """The map points of these studies' sites (near a place: within its radius), in the studies' order
    (blocking)."""
    box = bounding_box(near.lat, near.lon, near.radius_km) if near else None
    sites = sites_of_studies(svc.store, nct_ids, box, per_study=MAP_SITES_PER_STUDY)
    titles = brief_titles(svc.store, list(sites))
    return [vars(point) for point in present.map_points(nct_ids, titles, sites, near)]


def run_export(svc: Services, form: SearchForm) -> tuple[SearchResult | None, list, UnknownPlace | None]:
    """Up to EXPORT_LIMIT hits of the search from the current page's first result on (blocking)."""
    try:
        place = _resolve(form)
    except UnknownPlace as unknown:
        return None, [], unknown
    hits: list = []
    first: SearchResult | None = None
    offset = form.offset
    while len(hits) < EXPORT_LIMIT:
        request = form.to_request(place, facets=False)
        request.offset, request.limit = offset, min(EXPORT_PAGE, EXPORT_LIMIT - len(hits))
        page = svc.engine.search(request)
        first = first or page
        hits.extend(page.hits)
        offset += len(page.hits)
        if not page.hits or not page.has_more:
            break
    return first, hits, None


@router.api_route("/search", methods=["GET", "HEAD"], include_in_schema=False)
async def search_page(request: Request) -> Response:
    """The results page; with HX-Request, only the results region; ?format=csv|json exports."""
    form = parse_search_form(request.query_params)
    if form.format != "html":
        return await _export(request, form, form.format)
    outcome = await run_in_threadpool(run_search, services(request), form)
    context = _context(form, outcome)
    template = "partials/results.html" if is_htmx(request) else "search.html"
    return render(request, template, context)


@router.api_route("/search/sites.json", methods=["GET", "HEAD"], include_in_schema=False)
async def search_map_sites(request: Request) -> Response:
    """The sites of the named studies for a results map: ?ids=NCT…,NCT…[&lat=&lon=&km=]."""
    nct_ids, near = _map_request(request)
    points = await run_in_threadpool(map_sites, services(request), nct_ids, near)
    return Response(json.dumps({"sites": points}, ensure_ascii=False), media_type="application/json",
                    headers={"cache-control": f"public, max-age={MAP_CACHE_SECONDS}"})


def _map_request(request: Request) -> tuple[list[str], Near | None]:
    """The NCT ids and the optional circle of a map request; BadRequest naming the parameter otherwise."""
    params = request.query_params
    unknown = sorted(set(params) - {"ids", "lat", "lon", "km"})
    if unknown:
        raise BadRequest(unknown[0], "not a parameter of this page")
    nct_ids = []
    for part in (params.get("ids") or "").split(","):
        canonical = canonical_nct_id(part.strip())
        if canonical is None:
            raise BadRequest("ids", f"{part.strip()[:40]!r} is not an NCT id")
        nct_ids.append(canonical)
    if len(nct_ids) > MAP_STUDIES:
        raise BadRequest("ids", f"at most {MAP_STUDIES} studies")
    nct_ids = list(dict.fromkeys(nct_ids))
    given = [name for name in ("lat", "lon", "km") if params.get(name) is not None]
    if not given:
        return nct_ids, None
    if len(given) < 3:
        raise BadRequest("lat", "give lat, lon and km together")
    bounds = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0), "km": (0.0, 20_040.0)}
    values = {}
    for name, (low, high) in bounds.items():
        try:
            values[name] = float(params[name])
        except ValueError:
            raise BadRequest(name, "not a number") from None
        if not low <= values[name] <= high:  # also refuses nan
            raise BadRequest(name, f"between {low:g} and {high:g}")
    return nct_ids, Near(values["lat"], values["lon"], values["km"])


@router.api_route("/search.csv", methods=["GET", "HEAD"], include_in_schema=False)
async def search_csv(request: Request) -> Response:
    """The current search's results as CSV."""
    return await _export(request, parse_search_form(request.query_params), "csv")


@router.api_route("/search.json", methods=["GET", "HEAD"], include_in_schema=False)
async def search_json(request: Request) -> Response:
    """The current search's results as JSON."""
    return await _export(request, parse_search_form(request.query_params), "json")


def _context(form: SearchForm, outcome: SearchOutcome) -> dict:
    result = outcome.result
    context: dict = {"form": form, "choices": forms, "outcome": outcome, "cards": [], "facets": [], "pager": [],
                     "map_source": "", "suggestions": [], "export_query": _export_query(form), "status_counts": {}}
    if outcome.unknown_place is not None:
        context["suggestions"] = [(s, form.url(loc=s)) for s in outcome.unknown_place.suggestions]
        return context
    assert result is not None
    near = form.to_request(outcome.place, facets=False).near
    context.update(
        cards=[present.card(hit, form) for hit in result.hits],
        facets=present.facets(result, form),
        status_counts=present.status_counts(result),
        pager=present.pager(result, form, MAX_RESULT_WINDOW // form.per_page),
        map_source=present.map_source(result, near),
        first=form.offset + 1,
        last=form.offset + len(result.hits),
    )
    return context


def _export_query(form: SearchForm) -> str:
    return urlencode([(k, v) for k, v in form.params() if k != "page"])


async def _export(request: Request, form: SearchForm, kind: str) -> Response:
    result, hits, unknown = await run_in_threadpool(run_export, services(request), form)
    if unknown is not None:
        raise BadRequest("loc", str(unknown))
    base = str(request.base_url).rstrip("/")
    rows = [present.export_row(hit, base) for hit in hits]
    if kind == "json":
        body = {"total": result.total if result else 0, "offset": form.offset, "count": len(rows),
                "limit": EXPORT_LIMIT, "query": dict(form.params()), "studies": rows}
        return Response(json.dumps(body, ensure_ascii=False, indent=1), media_type="application/json",
                        headers={"content-disposition": 'inline; filename="trialfinder-search.json"'})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=present.EXPORT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_safe(v) for k, v in row.items()})
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="trialfinder-search.csv"'})


def _csv_safe(value):
    """Neutralise spreadsheet formulas: registry text starting with = + - @ is prefixed with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
