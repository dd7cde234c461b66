"""Liveness and readiness: /healthz says the process answers, /readyz says this node should get traffic.

A node is ready when its store answers, it has a search index, and that index is fresh: the lag (the store's
change counter minus the change seq the served index has reached) is at most TRIALFINDER_READY_MAX_LAG.
Otherwise /readyz answers 503 with a JSON body listing the reasons, so a load balancer takes the node out and
an operator can read why.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from trialfinder.index import IndexMeta
    from trialfinder.server import Services

READY_MAX_LAG_ENV = "TRIALFINDER_READY_MAX_LAG"
DEFAULT_READY_MAX_LAG = 10_000
STORE_CHECK_TIMEOUT_SECONDS = 3.0


def ready_max_lag() -> int:
    """The largest index lag (in store changes) at which a node still calls itself ready."""
    value = os.environ.get(READY_MAX_LAG_ENV, "").strip()
    if not value:
        return DEFAULT_READY_MAX_LAG
    if not value.isdigit():
        raise ValueError(f"{READY_MAX_LAG_ENV} must be a whole number of changes, not {value!r}")
    return int(value)


@dataclass
class IndexStatus:
    """How the served index compares with the store."""

    store_reachable: bool
    store_error: str | None = None
    change_counter: int | None = None
    index_present: bool = False
    index_seq: int | None = None
    index_studies: int | None = None
    index_built_at: str | None = None

    @property
    def lag(self) -> int | None:
        if self.change_counter is None or self.index_seq is None:
            return None
        return max(0, self.change_counter - self.index_seq)


def served_index_meta(services: Services) -> IndexMeta | None:
    """The meta of the index generation the engine serves (or, for an engine without one, the one on disk)."""
    meta = getattr(services.engine, "meta", None)
    if meta is not None:
        return meta
    from trialfinder.index import current_generation, read_meta

    generation = current_generation(services.settings.index_dir)
    return read_meta(generation) if generation else None


def index_status(services: Services) -> IndexStatus:
    """Read the store's change counter and the served index's seq (blocking: run it in a thread)."""
    try:
        counter = services.store.change_counter()
    except Exception as error:  # noqa: BLE001  (any driver error means the same thing here: the store cannot be read)
        status = IndexStatus(store_reachable=False, store_error=f"{type(error).__name__}: {error}"[:300])
    else:
        status = IndexStatus(store_reachable=True, change_counter=counter)
    try:
        meta = served_index_meta(services)
    except Exception:  # noqa: BLE001  (an unreadable meta file is reported as "no index", not a 500)
        meta = None
    if meta is not None:
        status.index_present = True
        status.index_seq = getattr(meta, "seq", None)
        status.index_studies = getattr(meta, "studies", None)
        status.index_built_at = getattr(meta, "built_at", None)
    return status


@dataclass
class Readiness:
    """The /readyz verdict and its evidence."""

    ready: bool
    reasons: list[str] = field(default_factory=list)
    status: IndexStatus | None = None
    max_lag: int = DEFAULT_READY_MAX_LAG

    def body(self) -> dict:
        """The JSON body of /readyz."""
        evidence = asdict(self.status) if self.status else {}
        if self.status:
            evidence["lag"] = self.status.lag
        return {"status": "ready" if self.ready else "not ready", "reasons": self.reasons,
                "max_lag": self.max_lag, **evidence}


async def check_readiness(services: Services | None, max_lag: int) -> Readiness:
    """Whether this node should receive traffic, and why not."""
    if services is None:
        return Readiness(False, ["starting: the store and the search index are not open yet"], max_lag=max_lag)
    try:
        status = await asyncio.wait_for(asyncio.to_thread(index_status, services), STORE_CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return Readiness(False, [f"store did not answer within {STORE_CHECK_TIMEOUT_SECONDS:g} s"], max_lag=max_lag)
    reasons = []
    if not status.store_reachable:
        reasons.append(f"store unreachable: {status.store_error}")
    if not status.index_present:
        reasons.append(f"no search index in {services.settings.index_dir}")
    elif status.lag is not None and status.lag > max_lag:
        reasons.append(f"search index is {status.lag} changes behind the store (at most {max_lag} allowed)")
    return Readiness(not reasons, reasons, status, max_lag)


def register_health(app: FastAPI, max_lag: int | None = None) -> None:
    """Add GET /healthz and GET /readyz to the app."""
    threshold = ready_max_lag() if max_lag is None else max_lag

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        verdict = await check_readiness(getattr(request.app.state, "services", None), threshold)
        return JSONResponse(verdict.body(), status_code=200 if verdict.ready else 503,
                            headers={"cache-control": "no-store"})
