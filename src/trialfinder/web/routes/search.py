"""Find clinical trials: /search (HTML page or htmx fragment), /search.csv and /search.json exports."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from trialfinder.geo import Place, UnknownPlace, bounding_box, resolve_place
from trialfinder.search.types import SearchResult
from trialfinder.server import Services
from trialfinder.store.locations import sites_of_studies
from trialfinder.web import forms
from trialfinder.web.deps import services
from trialfinder.web.errors import BadRequest
from trialfinder.web.forms import MAX_RESULT_WINDOW, SearchForm, parse_search_form
from trialfinder.web.presenters import search as present
from trialfinder.web.templating import is_htmx, render

router = APIRouter()

EXPORT_LIMIT = 1000  # rows in one export: the first thousand results of the search, in its order
EXPORT_PAGE = 200
# Sites per result on the results map: a trial with a thousand sites would otherwise put most of the page's weight
# into the map's JSON (the trial page maps them all).
MAP_SITES_PER_STUDY = 50


@dataclass
class SearchOutcome:
    """What a search produced: the resolved place, or why the place is unknown; the result; map sites."""

    place: Place | None = None
    unknown_place: UnknownPlace | None = None
    result: SearchResult | None = None
    sites: dict[str, list[dict]] = field(default_factory=dict)


def _resolve(form: SearchForm) -> Place | None:
    if not form.loc:
        return None
    try:
        return resolve_place(form.loc)
    except ValueError as error:  # too long, bad coordinates: a malformed request rather than an unknown place
        raise BadRequest("loc", str(error)) from None


def run_search(svc: Services, form: SearchForm) -> SearchOutcome:
    """Resolve the place, search, and fetch the sites of the hits for the map (blocking)."""
    outcome = SearchOutcome()
    try:
        outcome.place = _resolve(form)
    except UnknownPlace as unknown:
        outcome.unknown_place = unknown
        return outcome
    request = form.to_request(outcome.place)
    request.facet_names = present.PAGE_FACETS
    outcome.result = svc.engine.search(request)
    box = bounding_box(request.near.lat, request.near.lon, request.near.radius_km) if request.near else None
    outcome.sites = sites_of_studies(svc.store, [hit.nct_id for hit in outcome.result.hits], box,
                                     per_study=MAP_SITES_PER_STUDY)
    return outcome


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
                     "map_points": [], "suggestions": [], "export_query": _export_query(form), "status_counts": {}}
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
        map_points=[vars(p) for p in present.map_points(result, outcome.sites, near)],
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
