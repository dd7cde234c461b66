"""The JSON APIs: trialfinder's own under /api and ClinicalTrials.gov API v2 compatible under /api/v2."""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.routing import Mount


def register_api(app: FastAPI) -> None:
    """Mount the API application at /api (its OpenAPI at /api/openapi.json, docs at /api/docs)."""
    from trialfinder.api.app import API_PREFIX, create_api_app

    mount = Mount(API_PREFIX, app=create_api_app(app))
    # Starlette's mount pattern stops at a newline, so /api/studies/a%0Ab would fall through to the website's 404;
    # matching across newlines keeps every /api path answered by the API's own error handlers.
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    app.router.routes.append(mount)


__all__ = ["register_api"]
