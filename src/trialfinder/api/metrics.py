"""Prometheus metrics at /metrics: request latency by route template, search latency, index lag, sync results.

Request and search latencies are measured as they happen. The index and sync figures are read when Prometheus
scrapes: the store is the record of truth for sync runs (whichever node ran them), and the lag is what this
node's served index lacks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trialfinder.api.health import index_status

if TYPE_CHECKING:
    from trialfinder.search import SearchRequest, SearchResult
    from trialfinder.server import Services
    from trialfinder.store import Store

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "<unmatched>"
SYNC_COUNTS = ("added", "updated", "unchanged", "rejected", "pages")


class Metrics:
    """The app's own registry (so two apps in one test process never share counters) and its instruments."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_seconds = Histogram(
            "trialfinder_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.search_seconds = Histogram(
            "trialfinder_search_duration_seconds", "Time the search engine took to answer one search.",
            buckets=LATENCY_BUCKETS, registry=self.registry)

    def watch_store(self, services_of: Callable[[], Services | None]) -> None:
        """Report index lag and sync results of the services services_of() returns, on every scrape."""
        self.registry.register(StoreCollector(services_of))


def route_template(scope: Scope) -> str:
    """The matched route's path template ("/api/studies/{nct_id}"), so metrics do not get one series per URL."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    mounted_at = scope.get("root_path", "") or ""
    if template is None:
        # StaticFiles (a mounted app, not a route) leaves no route behind; one series covers all its files.
        return mounted_at + "/{path}" if mounted_at.endswith("/static") else UNMATCHED_ROUTE
    return mounted_at + template


class MetricsMiddleware:
    """Pure ASGI middleware: observe every HTTP request's latency under its route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            # Starlette's routers update this scope dict in place, so by now it names the matched route.
            self.metrics.request_seconds.labels(scope["method"], route_template(scope), str(status)).observe(
                time.perf_counter() - started)


class TimedSearchEngine:
    """Wraps a search engine so every search() is timed; everything else passes through."""

    def __init__(self, engine: object, histogram: Histogram) -> None:
        self._engine = engine
        self._histogram = histogram

    def search(self, request: SearchRequest) -> SearchResult:
        """Search, observing the time taken."""
        started = time.perf_counter()
        try:
            return self._engine.search(request)
        finally:
            self._histogram.observe(time.perf_counter() - started)

    @property
    def wrapped(self) -> object:
        """The engine being timed."""
        return self._engine

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)


class StoreCollector(Collector):
    """Index seq, store change counter and lag, and sync run totals read from the store's sync_runs table."""

    def __init__(self, services_of: Callable[[], Services | None]) -> None:
        self._services_of = services_of

    def describe(self) -> list[Metric]:
        return []  # collected lazily: describing must not touch the store

    def collect(self) -> Iterator[Metric]:
        services = self._services_of()
        if services is None:
            return
        status = index_status(services)
        yield _gauge("trialfinder_store_up", "1 when the store answered the last scrape.", int(status.store_reachable))
        yield _gauge("trialfinder_index_present", "1 when this node has a search index.", int(status.index_present))
        if status.change_counter is not None:
            yield _gauge("trialfinder_store_change_seq", "The store's change counter.", status.change_counter)
        if status.index_seq is not None:
            yield _gauge("trialfinder_index_seq", "The store change seq the served index has reached.", status.index_seq)
        if status.index_studies is not None:
            yield _gauge("trialfinder_index_studies", "Studies in the served index.", status.index_studies)
        if status.lag is not None:
            yield _gauge("trialfinder_index_lag", "Store changes not yet in the served index.", status.lag)
        if status.store_reachable:
            try:
                yield from _sync_metrics(services.store)
            except Exception:  # noqa: BLE001, S110  (a failing query must not take the other metrics with it)
                pass


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _sync_metrics(store: Store) -> Iterator[Metric]:
    from trialfinder.store.schema import sync_runs

    totals = [sa.func.coalesce(sa.func.sum(getattr(sync_runs.c, name)), 0) for name in SYNC_COUNTS]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(sync_runs.c.state, sa.func.count(), *totals).group_by(sync_runs.c.state)).all()
        last_success = conn.execute(
            sa.select(sa.func.max(sync_runs.c.finished_at)).where(sync_runs.c.state == "succeeded")).scalar()
    runs = CounterMetricFamily("trialfinder_sync_runs", "Sync runs recorded in the store, by final state.",
                               labels=["state"])
    studies = CounterMetricFamily("trialfinder_sync_studies", "Studies handled by sync runs, by outcome.",
                                  labels=["outcome"])
    pages = CounterMetricFamily("trialfinder_sync_pages", "Registry pages fetched by sync runs.")
    sums = dict.fromkeys(SYNC_COUNTS, 0)
    for state, count, *values in rows:
        runs.add_metric([state], count)
        for name, value in zip(SYNC_COUNTS, values):
            sums[name] += int(value)
    for outcome in ("added", "updated", "unchanged", "rejected"):
        studies.add_metric([outcome], sums[outcome])
    pages.add_metric([], sums["pages"])
    yield runs
    yield studies
    yield pages
    if last_success:
        from datetime import datetime

        yield _gauge("trialfinder_sync_last_success_timestamp_seconds",
                     "When the last successful sync finished (Unix time).",
                     datetime.fromisoformat(last_success).timestamp())


def register_metrics(app: FastAPI, metrics: Metrics) -> None:
    """Add GET /metrics (Prometheus text format) to the app."""

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        body = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"cache-control": "no-store"})
