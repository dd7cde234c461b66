"""Our own JSON API: search, a study with derived fields, facets, locations, registry stats and sync status."""

from __future__ import annotations

from dataclasses import asdict

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trialfinder.api.caching import cached_response
from trialfinder.api.deps import services
from trialfinder.api.errors import bad_request, not_found
from trialfinder.api.paging import decode_token, encode_token, query_fingerprint
from trialfinder.api.schemas import (
    ErrorBody,
    FacetsResponse,
    HitModel,
    LocationCount,
    LocationsResponse,
    SearchResponse,
    StatsResponse,
    StudyResponse,
    SyncRun,
    SyncStatusResponse,
)
from trialfinder.api.search_params import SearchParameters, search_parameters
from trialfinder.model import age_in_years, decode_study, describe_age_range
from trialfinder.model.ids import canonical_nct_id
from trialfinder.model.labels import OVERALL_STATUS, PHASE, funder_type, label
from trialfinder.search.types import SearchResult
from trialfinder.server import Services
from trialfinder.store import locations

ERRORS = {400: {"model": ErrorBody, "description": "Bad input"}}
NOT_FOUND = {404: {"model": ErrorBody, "description": "Unknown id"}}

router = APIRouter(tags=["trialfinder"], responses=ERRORS)

_CURSOR_INDEPENDENT = ("cursor", "limit")


async def _run_search(svc: Services, params: SearchParameters) -> SearchResult:
    try:
        return await run_in_threadpool(svc.engine.search, params.request)
    except ValueError as error:
        raise bad_request(str(error)) from None


@router.get("/search", response_model=SearchResponse, summary="Search studies")
async def search(
    request: Request,
    params: SearchParameters = Depends(search_parameters),
    limit: int = Query(10, ge=1, le=100, description="studies per page"),
    cursor: str | None = Query(None, description="the `next_cursor` of the previous page"),
    facets: bool = Query(False, description="also count results by status, phase, country..."),
    svc: Services = Depends(services),
) -> SearchResponse:
    """Studies matching text queries and filters, optionally near a place, one page at a time."""
    fingerprint = query_fingerprint(request.query_params.multi_items(), _CURSOR_INDEPENDENT)
    offset = decode_token(cursor, fingerprint, "cursor") if cursor else 0
    params.request.offset, params.request.limit, params.request.facets = offset, limit, facets
    result = await _run_search(svc, params)
    end = offset + len(result.hits)
    return SearchResponse(
        total=result.total,
        hits=[HitModel(**asdict(hit), url=f"{request.scope.get('root_path', '')}/studies/{hit.nct_id}")
              for hit in result.hits],
        facets=result.facets,
        next_cursor=encode_token(end, fingerprint) if end < result.total else None,
        expanded_terms=result.expanded_terms,
        place=params.place,
    )


@router.get("/facets", response_model=FacetsResponse, summary="Facet counts only")
async def facets(
    params: SearchParameters = Depends(search_parameters), svc: Services = Depends(services)
) -> FacetsResponse:
    """Counts of matching studies by status, phase, study type, funder, sex, country... without the hits."""
    params.request.offset, params.request.limit, params.request.facets = 0, 1, True
    result = await _run_search(svc, params)
    return FacetsResponse(total=result.total, facets=result.facets)


@router.get(
    "/studies/{nct_id}",
    response_model=StudyResponse,
    responses={**NOT_FOUND, 304: {"description": "Not modified (If-None-Match matched the ETag)"}},
    summary="One study",
)
async def study(nct_id: str, request: Request, svc: Services = Depends(services)) -> Response:
    """The stored record, verbatim, and the fields we derive from it; ETag and Cache-Control for caches."""
    canonical = canonical_nct_id(nct_id)
    if canonical is None:
        raise bad_request(f"{nct_id!r} is not an NCT number", "nct_id")
    raw = await run_in_threadpool(svc.store.raw, canonical)
    if raw is None:
        raise not_found(f"no study {canonical}", "nct_id")
    derived = _derived(raw)
    # The record is spliced in as stored so that no field is lost or reformatted.
    body = b'{"nct_id":%s,"derived":%s,"record":%s}' % (orjson.dumps(canonical), orjson.dumps(derived), raw.encode())
    return cached_response(request, body, "application/json")


def _derived(raw: str) -> dict:
    parsed = decode_study(raw)
    eligibility = parsed.eligibility
    status = parsed.overall_status
    phases = list(parsed.design.phases)
    return {
        "title": parsed.title,
        "overall_status": status,
        "overall_status_label": label(OVERALL_STATUS, status) or None,
        "phases": phases,
        "phase_labels": [label(PHASE, phase) for phase in phases],
        "study_type": parsed.design.study_type,
        "funder_type": funder_type(parsed.lead_sponsor_class),
        "minimum_age_years": age_in_years(eligibility.minimum_age),
        "maximum_age_years": age_in_years(eligibility.maximum_age),
        "age_range": describe_age_range(eligibility.minimum_age, eligibility.maximum_age),
        "conditions": list(parsed.conditions.conditions),
        "lead_sponsor": parsed.lead_sponsor_name,
        "last_update": parsed.last_update_posted,
        "has_results": parsed.has_results,
        "site_count": len(parsed.contacts_locations.locations),
        "ctgov_url": f"https://clinicaltrials.gov/study/{parsed.nct_id}",
    }


@router.get("/locations", response_model=LocationsResponse, summary="Browse by location")
async def browse_locations(
    country: str | None = Query(None, description="a country as the registry spells it; omit for all countries"),
    region: str | None = Query(None, description="a state or region of that country ('' for sites without one)"),
    svc: Services = Depends(services),
) -> LocationsResponse:
    """Countries with study counts; a country's regions; a region's cities."""
    if region is not None and not country:
        raise bad_request("region needs a country", "region")
    if country is None:
        counts = await run_in_threadpool(locations.country_counts, svc.store)
        level = "country"
    elif region is None:
        counts = await run_in_threadpool(locations.state_counts, svc.store, [country])
        level = "region"
    else:
        counts = await run_in_threadpool(locations.city_counts, svc.store, [country], [region or None])
        level = "city"
    items = sorted(
        (LocationCount(name=c.name or "", studies=c.studies) for c in counts),
        key=lambda item: (-item.studies, item.name),
    )
    return LocationsResponse(level=level, country=country, region=region, items=items)


@router.get("/stats", response_model=StatsResponse, summary="Registry statistics")
async def stats(svc: Services = Depends(services)) -> StatsResponse:
    """How many studies we hold, by status, phase and type; sites, rejects and the change counter."""
    counts = await run_in_threadpool(svc.store.stats)
    return StatsResponse(**{key: counts[key] for key in StatsResponse.model_fields})


@router.get("/sync", response_model=SyncStatusResponse, summary="Sync status")
async def sync_status(svc: Services = Depends(services)) -> SyncStatusResponse:
    """Recent sync runs with ClinicalTrials.gov, the last successful one and the store's change counter."""
    runs = await run_in_threadpool(svc.store.sync_runs, 20)
    last = await run_in_threadpool(svc.store.last_successful_sync)
    return SyncStatusResponse(
        change_counter=await run_in_threadpool(svc.store.change_counter),
        studies=await run_in_threadpool(svc.store.count),
        last_success=SyncRun(**_run_fields(last)) if last else None,
        runs=[SyncRun(**_run_fields(run)) for run in runs],
    )


def _run_fields(run: dict) -> dict:
    return {key: run.get(key) for key in SyncRun.model_fields}

