"""The composition root: one ASGI app serving the website (web) and both JSON APIs (api)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request

from trialfinder.config import Settings, load_settings
from trialfinder.store import Store


@dataclass
class Services:
    """What request handlers use: the settings, the store and the search engine."""

    settings: Settings
    store: Store
    engine: "SearchEngine"  # noqa: F821  (trialfinder.search.SearchEngine)


def get_services(request: Request) -> Services:
    """FastAPI dependency: the app's services."""
    return request.app.state.services


def open_services(settings: Settings) -> Services:
    """Open the store and the search engine for a server process."""
    from trialfinder.search import SearchEngine

    store = Store.open(settings.database_url)
    return Services(settings=settings, store=store, engine=SearchEngine.open(settings, store))


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app; tests pass ready services, `trialfinder serve` lets it open its own."""
    from trialfinder.api import register_api
    from trialfinder.web import register_web

    settings = settings or (services.settings if services else load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "services", None) is None:
            app.state.services = open_services(settings)
        yield

    app = FastAPI(title="trialfinder", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    register_api(app)
    register_web(app)
    return app
