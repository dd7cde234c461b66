"""The composition root: one ASGI app serving the website (web), both JSON APIs (api) and the operator's routes.

Operator routes and middleware (see docs/operations.md): /healthz, /readyz, /metrics; a JSON access log line and
an X-Request-ID per request; per-client rate limits and a request body size limit. With a follow interval
(`trialfinder serve --follow`), a background task keeps this node's search index up to date from the store's
change counter, so web nodes sharing one PostgreSQL store all see what any node or sync job writes.
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request

from trialfinder.config import Settings, load_settings
from trialfinder.store import Store

if TYPE_CHECKING:
    from trialfinder.api.limits import LimitsConfig
    from trialfinder.search import SearchEngine

FOLLOW_INTERVAL_ENV = "TRIALFINDER_FOLLOW_INTERVAL"

log = logging.getLogger("trialfinder.server")


@dataclass
class Services:
    """What request handlers use: the settings, the store and the search engine."""

    settings: Settings
    store: Store
    engine: SearchEngine


def get_services(request: Request) -> Services:
    """FastAPI dependency: the app's services."""
    return request.app.state.services


def open_services(settings: Settings) -> Services:
    """Open the store and the search engine for a server process."""
    from trialfinder.search import SearchEngine

    store = Store.open(settings.database_url)
    return Services(settings=settings, store=store, engine=SearchEngine.open(settings, store))


def follow_interval_from_env() -> float | None:
    """Seconds between index refreshes from TRIALFINDER_FOLLOW_INTERVAL; None (unset or 0) means no follower."""
    value = os.environ.get(FOLLOW_INTERVAL_ENV, "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{FOLLOW_INTERVAL_ENV} must be a number of seconds, not {value!r}") from None
    return seconds if seconds > 0 else None


def refresh_from_store(services: Services) -> int:
    """Apply the store's new changes to the local index and have the engine serve them; changes applied."""
    from trialfinder.index import IndexBusy, refresh_index

    try:
        applied = refresh_index(services.settings, services.store)
    except IndexBusy:  # another worker of this node holds the writer: it is doing this work right now
        applied = 0
    refresh = getattr(services.engine, "refresh", None)
    if refresh is not None:
        refresh(force=True)
    return applied


async def follow_store(services: Services, interval: float) -> None:
    """Forever: every interval seconds, bring the index up to date in a worker thread (never blocking requests).

    A failure (store down, disk full) is logged once when it starts and once when it clears; meanwhile the node
    keeps serving the last good index and /readyz reports the growing lag.
    """
    failing: str | None = None
    while True:
        await asyncio.sleep(interval)
        try:
            applied = await asyncio.to_thread(refresh_from_store, services)
        except Exception as error:  # noqa: BLE001  (any failure: keep the last good index, try again next round)
            message = f"{type(error).__name__}: {error}"
            if message != failing:
                log.warning("index follow failed", extra={"error": message})
            failing = message
            continue
        if failing is not None:
            log.info("index follow recovered")
            failing = None
        if applied:
            log.info("index refreshed", extra={"changes_applied": applied})


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    *,
    follow_interval: float | None = None,
    limits: LimitsConfig | None = None,
    ready_max_lag: int | None = None,
) -> FastAPI:
    """Build the app; tests pass ready services, `trialfinder serve` lets it open its own.

    Anything not passed is read from the environment (TRIALFINDER_FOLLOW_INTERVAL, TRIALFINDER_RATE_LIMIT, ...).
    """
    from trialfinder.api import register_api
    from trialfinder.api.health import register_health
    from trialfinder.api.limits import (
        BodySizeLimitMiddleware,
        LimitsConfig,
        NulByteGuardMiddleware,
        RateLimitMiddleware,
    )
    from trialfinder.api.metrics import Metrics, MetricsMiddleware, TimedSearchEngine, register_metrics
    from trialfinder.logging_setup import RequestLogMiddleware
    from trialfinder.web import register_web

    settings = settings or (services.settings if services else load_settings())
    follow_every = follow_interval if follow_interval is not None else follow_interval_from_env()
    limits = limits or LimitsConfig.from_env()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        opened_here = getattr(app.state, "services", None) is None
        if opened_here:
            opened = await asyncio.to_thread(open_services, settings)
            # Only services opened here are wrapped: ones a caller passed in stay exactly as given.
            opened.engine = TimedSearchEngine(opened.engine, metrics.search_seconds)
            app.state.services = opened
        running: Services = app.state.services
        follower = asyncio.create_task(follow_store(running, follow_every)) if follow_every else None
        if follower:
            log.info("following the store", extra={"interval_seconds": follow_every})
        try:
            yield
        finally:
            if follower:
                follower.cancel()
                with suppress(asyncio.CancelledError):
                    await follower
            if opened_here:
                running.store.close()

    app = FastAPI(title="trialfinder", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    app.state.metrics = metrics
    register_health(app, ready_max_lag)
    register_metrics(app, metrics)
    metrics.watch_store(lambda: getattr(app.state, "services", None))
    register_api(app)
    register_web(app)
    # Added last = outermost: the access log sees everything, metrics see 400s, 413s and 429s too.
    app.add_middleware(NulByteGuardMiddleware)
    app.add_middleware(RateLimitMiddleware, config=limits)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=limits.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestLogMiddleware)
    return app
