"""The public website: server-rendered pages (Jinja2) that work without JavaScript, enhanced by htmx and Leaflet."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")


def register_web(app: FastAPI) -> None:
    """Add the website's routes, static files, error pages and security headers to the app."""
    from trialfinder.web.errors import install_error_pages
    from trialfinder.web import match
    from trialfinder.web.routes import home, locations, search, sitemap, study
    from trialfinder.web.security import SecurityHeadersMiddleware

    for module in (home, study, search, locations, sitemap, match):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_pages(app)
    app.add_middleware(SecurityHeadersMiddleware)


__all__ = ["register_web"]
