"""ClinicalTrials.gov API v2 compatible endpoints under /api/v2: existing clients work unchanged against us.

Studies are served as stored: without `fields` the original JSON text goes out byte for byte.
"""

from __future__ import annotations

import io
import re
import zipfile

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from trialfinder.api import store_reads
from trialfinder.api.caching import cached_response
from trialfinder.api.compat_query import MatchesNothing, list_parameter, parse_bool, search_request, single
from trialfinder.api.csv_export import csv_columns, write_csv
from trialfinder.api.deps import services
from trialfinder.api.errors import bad_request, not_found
from trialfinder.api.fields import resolve_fields, trim
from trialfinder.api.metadata import enum_infos, field_tree, size_stats
from trialfinder.api.paging import decode_token, encode_token, query_fingerprint
from trialfinder.model.ids import canonical_nct_id
from trialfinder.search.types import SearchResult
from trialfinder.server import Services

API_VERSION = "2.0.0"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000
# Parameters that may change between pages without changing the result set.
_PAGE_INDEPENDENT = ("pageToken", "pageSize", "countTotal", "format", "fields", "markupFormat")
_NCT_PATTERN = re.compile(r"^(NCT|nct)\d{8}$")

router = APIRouter(prefix="/v2", include_in_schema=False)


def _choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = single(request.query_params, name)
    if value is None:
        return default
    if value not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}, not {value!r}", name)
    return value


def _page_size(request: Request) -> int:
    value = single(request.query_params, "pageSize")
    if value is None or value.strip() == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(value)
    except ValueError:
        raise bad_request(f"pageSize must be an integer, not {value!r}", "pageSize") from None
    if size < 0:
        raise bad_request("pageSize must not be negative", "pageSize")
    # As ClinicalTrials.gov does: 0 means the default, anything larger than the maximum is coerced down.
    return min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _fields(request: Request) -> list[str] | None:
    items = list_parameter(request.query_params, "fields")
    if items is not None and not items:
        raise bad_request("fields, when given, must list at least one field", "fields")
    return items


@router.get("/studies")
async def list_studies(request: Request, svc: Services = Depends(services)) -> Response:
    """listStudies: one page of studies matching the query and filter parameters."""
    params = request.query_params
    output = _choice(request, "format", ("json", "csv"), "json")
    _choice(request, "markupFormat", ("markdown", "legacy"), "markdown")
    page_size = _page_size(request)
    count_total = parse_bool(params, "countTotal")
    fields = _fields(request)
    projection = resolve_fields(fields) if fields and output == "json" else None
    columns = csv_columns(fields) if output == "csv" else None

    fingerprint = query_fingerprint(params.multi_items(), _PAGE_INDEPENDENT)
    token = single(params, "pageToken")
    offset = decode_token(token, fingerprint, "pageToken") if token else 0
    first_page = not token

    try:
        search = search_request(params)
    except MatchesNothing:
        result = SearchResult(total=0, hits=[], offset=offset, limit=page_size)
    else:
        search.offset, search.limit, search.facets = offset, page_size, False
        try:
            result = await run_in_threadpool(svc.engine.search, search)
        except ValueError as error:
            raise bad_request(str(error)) from None

    ids = [hit.nct_id for hit in result.hits]
    raws = await run_in_threadpool(svc.store.raws, ids) if ids else {}
    ordered = [raws[nct_id] for nct_id in ids if nct_id in raws]
    # No token after the last page, even one that is exactly full (ClinicalTrials.gov sends one there).
    next_token = encode_token(offset + len(ids), fingerprint) if offset + len(ids) < result.total else None

    if output == "csv":
        text = write_csv((orjson.loads(raw) for raw in ordered), columns, header=first_page)
        headers = {}
        if next_token:
            headers["x-next-page-token"] = next_token
        if count_total and first_page:
            headers["x-total-count"] = str(result.total)
        return Response(text, media_type="text/csv; charset=utf-8", headers=headers)

    if projection is None:
        studies = b",".join(raw.encode() for raw in ordered)
    else:
        studies = b",".join(orjson.dumps(trim(orjson.loads(raw), projection)) for raw in ordered)
    body = [b'{"studies":[', studies, b"]"]
    if count_total and first_page:
        body.append(b',"totalCount":%d' % result.total)
    if next_token:
        body.append(b',"nextPageToken":' + orjson.dumps(next_token))
    body.append(b"}")
    return Response(b"".join(body), media_type="application/json")


@router.get("/studies/metadata")
async def studies_metadata(request: Request) -> JSONResponse:
    """studiesMetadata: the study data model's fields, as far as we serve them."""
    parse_bool(request.query_params, "includeIndexedOnly")
    parse_bool(request.query_params, "includeHistoricOnly")
    return JSONResponse(field_tree())


@router.get("/studies/enums")
async def studies_enums() -> JSONResponse:
    """enums: every enum type, its values and the pieces that carry it."""
    return JSONResponse(enum_infos())


@router.get("/studies/{nct_id}")
async def fetch_study(nct_id: str, request: Request, svc: Services = Depends(services)) -> Response:
    """fetchStudy: one stored study, whole (byte for byte) or trimmed to `fields`; JSON, CSV or zipped JSON."""
    if not _NCT_PATTERN.match(nct_id):
        raise bad_request(f"{nct_id!r} is not an NCT number (NCT followed by 8 digits)", "nctId")
    output = _choice(request, "format", ("json", "csv", "json.zip", "fhir.json"), "json")
    _choice(request, "markupFormat", ("markdown", "legacy"), "markdown")
    if output == "fhir.json":
        raise bad_request("format fhir.json is not supported by this server", "format")
    fields = _fields(request)
    projection = resolve_fields(fields) if fields and output != "csv" else None
    columns = csv_columns(fields) if output == "csv" else None

    canonical = canonical_nct_id(nct_id) or nct_id.upper()
    raw = await run_in_threadpool(svc.store.raw, canonical)
    if raw is None:
        raise not_found(f"Study {canonical} not found", "nctId")

    if output == "csv":
        body = write_csv([orjson.loads(raw)], columns).encode()
        return cached_response(request, body, "text/csv; charset=utf-8")
    body = raw.encode() if projection is None else orjson.dumps(trim(orjson.loads(raw), projection))
    if output == "json.zip":
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr(f"{canonical}.json", body)
        return cached_response(request, archive.getvalue(), "application/zip",
                               **{"Content-Disposition": f'attachment; filename="{canonical}.zip"'})
    return cached_response(request, body, "application/json")


@router.get("/version")
async def version(svc: Services = Depends(services)) -> JSONResponse:
    """version: the API version we mimic and when our data last changed (yyyy-MM-ddTHH:mm:ss, UTC)."""
    stamp = await run_in_threadpool(store_reads.data_timestamp, svc.store)
    body = {"apiVersion": API_VERSION}
    if stamp:
        body["dataTimestamp"] = stamp[:19]
    return JSONResponse(body)


@router.get("/stats/size")
async def size_statistics(request: Request, svc: Services = Depends(services)) -> JSONResponse:
    """sizeStats: sizes of the stored study JSON texts (uncompressed bytes), cached per store version."""
    counter = await run_in_threadpool(svc.store.change_counter)
    cache = request.app.state.size_stats_cache
    if cache.get("counter") != counter:
        sizes = await run_in_threadpool(store_reads.record_sizes, svc.store)
        cache.update(counter=counter, stats=size_stats(sizes))
    return JSONResponse(cache["stats"])
