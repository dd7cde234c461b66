"""The API application mounted at /api: our endpoints, the ClinicalTrials.gov-compatible ones, docs and CORS."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from trialfinder.api import compat, ours
from trialfinder.api.errors import install_error_handlers

API_PREFIX = "/api"
SWAGGER_ASSETS = "/static/vendor/swagger-ui"  # npm swagger-ui-dist, copied there by the website's asset step
CORS_ENV = "TRIALFINDER_CORS_ORIGINS"
DESCRIPTION = """\
trialfinder's JSON API over its local copy of the ClinicalTrials.gov registry.

* `/api/search`, `/api/facets`, `/api/studies/{nct_id}`, `/api/locations`, `/api/stats`, `/api/sync`: described here.
* `/api/v2/...`: compatible with ClinicalTrials.gov's API v2 (same parameters, same responses); its contract is
  ClinicalTrials.gov's own OpenAPI document, so it is not repeated here. See docs/api.md for the differences.

Errors are `{"error": {"message": ..., "parameter": ...}}` with status 400 (bad input) or 404 (unknown id).
"""


def cors_origins() -> list[str]:
    """Origins allowed to call the API from a browser: TRIALFINDER_CORS_ORIGINS, comma-separated ('*' for any)."""
    return [origin.strip() for origin in os.environ.get(CORS_ENV, "").split(",") if origin.strip()]


from trialfinder.api import match as match_api  # noqa: E402


def create_api_app(host_app: FastAPI) -> FastAPI:
    """The API as its own FastAPI application, reading its services from host_app."""
    api = FastAPI(
        title="trialfinder API",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.host_app = host_app
    api.state.size_stats_cache = {}
    install_error_handlers(api)
    api.include_router(ours.router)
    api.include_router(compat.router)
    api.include_router(match_api.router)

    @api.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        host_root = root[: -len(API_PREFIX)] if root.endswith(API_PREFIX) else ""
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="trialfinder API",
            swagger_js_url=f"{host_root}{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{host_root}{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{host_root}{SWAGGER_ASSETS}/favicon-32x32.png",
        )

    origins = cors_origins()
    if origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["ETag", "x-next-page-token", "x-total-count"],
            max_age=600,
        )
    return api
