"""The website's error pages (400, 404, 500), scoped to its own paths; the JSON APIs keep their own handlers."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from trialfinder.web.security import FOREIGN_PREFIXES
from trialfinder.web.templating import render

log = logging.getLogger(__name__)


class BadRequest(Exception):
    """A malformed query string on a website page: shown as a 400 page naming the parameter."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class PageNotFound(Exception):
    """A website page that does not exist (an unknown NCT id or place slug), with what was asked for."""

    def __init__(self, what: str, query: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.query = query


def is_website_path(request: Request) -> bool:
    """True for paths the website answers; the APIs and their docs answer the rest."""
    return not request.url.path.startswith(FOREIGN_PREFIXES)


def bad_request_page(request: Request, error: BadRequest) -> Response:
    """The 400 page."""
    return render(request, "errors/400.html", {"error": error}, status_code=400)


def not_found_page(request: Request, what: str = "", query: str = "") -> Response:
    """The 404 page, with a search box prefilled with what was asked for."""
    return render(request, "errors/404.html", {"what": what, "query": query}, status_code=404)


def install_error_pages(app: FastAPI) -> None:
    """Register HTML handlers that defer to any handler already registered (the API's) outside the website."""
    previous_http = app.exception_handlers.get(StarletteHTTPException)
    previous_any = app.exception_handlers.get(Exception)

    async def on_bad_request(request: Request, exc: BadRequest) -> Response:
        return bad_request_page(request, exc)

    async def on_not_found(request: Request, exc: PageNotFound) -> Response:
        return not_found_page(request, exc.what, exc.query)

    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_website_path(request) and previous_http is not None:
            return await previous_http(request, exc)
        if exc.status_code == 404:
            return not_found_page(request, "page")
        if exc.status_code == 405:
            return render(request, "errors/400.html",
                          {"error": BadRequest("method", f"{request.method} is not allowed here")},
                          status_code=405, headers={"allow": (exc.headers or {}).get("allow", "GET, HEAD")})
        return render(request, "errors/400.html", {"error": BadRequest("request", str(exc.detail))},
                      status_code=exc.status_code)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if not is_website_path(request) and previous_any is not None:
            return await previous_any(request, exc)
        log.exception("unhandled error for %s", request.url.path)
        return render(request, "errors/500.html", {}, status_code=500)

    app.add_exception_handler(BadRequest, on_bad_request)
    app.add_exception_handler(PageNotFound, on_not_found)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def canonical_study_id(nct_id: str) -> str:
    """The canonical form of an NCT id from a URL; anything that is not one is the trial 404 page."""
    from trialfinder.model.ids import canonical_nct_id

    canonical = canonical_nct_id(nct_id)
    if canonical is None:
        raise PageNotFound("trial", nct_id[:40])
    return canonical
