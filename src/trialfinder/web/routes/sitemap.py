"""/robots.txt, and /sitemap.xml: a sitemap index over paged sitemaps of trial pages and location pages."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from trialfinder.store.locations import study_updates
from trialfinder.web.deps import directory, services
from trialfinder.web.errors import PageNotFound
from trialfinder.web.templating import environment

router = APIRouter()

URLS_PER_SITEMAP = 40_000  # the protocol allows 50,000 URLs and 50 MB per file; stay well inside both
XML = "application/xml; charset=utf-8"


def _pages(count: int) -> int:
    return max(1, -(-count // URLS_PER_SITEMAP))


def _xml(template: str, **context) -> Response:
    return Response(environment().get_template(template).render(**context), media_type=XML)


@router.api_route("/robots.txt", methods=["GET", "HEAD"], include_in_schema=False)
async def robots(request: Request) -> Response:
    """Allow crawling of the pages; point crawlers at the sitemap; keep them off exports."""
    base = str(request.base_url).rstrip("/")
    return PlainTextResponse(
        f"User-agent: *\nDisallow: /search.csv\nDisallow: /search.json\nDisallow: /api/\nSitemap: {base}/sitemap.xml\n")


@router.api_route("/sitemap.xml", methods=["GET", "HEAD"], include_in_schema=False)
async def sitemap_index(request: Request) -> Response:
    """The sitemap index."""
    places = directory(request)
    studies = await run_in_threadpool(places.study_count)
    locations = len(await run_in_threadpool(places.all_paths))
    base = str(request.base_url).rstrip("/")
    maps = [f"{base}/sitemaps/studies-{n}.xml" for n in range(1, _pages(studies) + 1)]
    maps += [f"{base}/sitemaps/locations-{n}.xml" for n in range(1, _pages(locations) + 1)]
    return _xml("sitemap_index.xml", maps=maps)


@router.api_route("/sitemaps/{kind}-{number}.xml", methods=["GET", "HEAD"], include_in_schema=False)
async def sitemap_page(request: Request, kind: str, number: str) -> Response:
    """One page of trial URLs (with their last update as lastmod) or location URLs."""
    places = directory(request)
    if kind not in ("studies", "locations") or not number.isdigit() or len(number) > 6:
        raise PageNotFound("sitemap")
    index = int(number) - 1
    base = str(request.base_url).rstrip("/")
    if kind == "studies":
        if not 0 <= index < _pages(await run_in_threadpool(places.study_count)):
            raise PageNotFound("sitemap")
        chunk = await run_in_threadpool(study_updates, services(request).store, index * URLS_PER_SITEMAP,
                                        URLS_PER_SITEMAP)
        urls = [(f"{base}/study/{nct_id}", updated) for nct_id, updated in chunk]
    else:
        paths = await run_in_threadpool(places.all_paths)
        if not 0 <= index < _pages(len(paths)):
            raise PageNotFound("sitemap")
        urls = [(base + path, None) for path in paths[index * URLS_PER_SITEMAP:(index + 1) * URLS_PER_SITEMAP]]
    return _xml("sitemap.xml", urls=urls)
