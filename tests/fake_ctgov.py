"""An in-memory ClinicalTrials.gov API v2 for httpx.MockTransport, with scripted failures and a fake clock.

    studies = load_v2_studies(shared_data / "ctgov/v2_json")
    registry = FakeRegistry(studies, page_size=100, failures=[429, None, 500])
    clock = FakeClock()
    client = CtgovClient(transport=registry.transport(clock), clock=clock, sleep=clock.sleep)

Each request consumes the next scripted failure (None = answer normally) before being served. Retries must run
with stamina's backoff off: `with stamina.set_testing(True, attempts=100, cap=True): ...`.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeAlias

import httpx

# A scripted answer: an HTTP status, an exception (class or instance) to raise as a network failure,
# a ready-made response (for headers such as Retry-After, or an HTML body), or None to serve normally.
Failure: TypeAlias = int | type[Exception] | Exception | httpx.Response | None

_SINCE_RE = re.compile(r"AREA\[LastUpdatePostDate\]RANGE\[(\d{4}-\d{2}-\d{2}),\s*MAX\]")
_STUDY_PATH_RE = re.compile(r"/studies/(NCT\d{8})$", re.IGNORECASE)
_DEFAULT_PAGE_SIZE = 10  # the real API's default when pageSize is absent or 0
_PAGING_PARAMS = {"countTotal", "pageSize", "pageToken"}


class FakeClock:
    """A monotonic clock whose sleep advances time at once and records how long each sleep was."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting."""
        assert seconds >= 0, f"negative sleep {seconds}"
        self.sleeps.append(seconds)
        self.now += seconds


class FakeRegistry:
    """Serves GET /studies (paged, filterable), /studies/{nctId} and /version from v2 study dicts."""

    def __init__(
        self, studies: Iterable[dict[str, Any]], page_size: int = 100, failures: Iterable[Failure] = ()
    ):
        self.studies = list(studies)
        self.page_size = page_size
        self.failures: deque[Failure] = deque(failures)
        self.requests: list[httpx.Request] = []
        self.request_times: list[float] = []
        self._clock: Callable[[], float] | None = None
        self._token_counter = itertools.count(1)
        self._cursors: dict[str, tuple[int, dict[str, str]]] = {}

    def transport(self, clock: Callable[[], float] | None = None) -> httpx.MockTransport:
        """A MockTransport over this registry; with a clock, each request's time is kept in request_times."""
        self._clock = clock
        return httpx.MockTransport(self.handler)

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: the next scripted failure if any, else the registry's real answer."""
        self.requests.append(request)
        if self._clock is not None:
            self.request_times.append(self._clock())
        scripted = self.failures.popleft() if self.failures else None
        if scripted is not None:
            return _scripted_response(scripted, request)
        if request.method != "GET":
            return _text(405, "Method not allowed")
        if request.url.path.endswith("/studies"):
            return self._studies_page(request)
        if match := _STUDY_PATH_RE.search(request.url.path):
            return self._study(match.group(1).upper())
        if request.url.path.endswith("/version"):
            return httpx.Response(
                200, json={"apiVersion": "2.0.0-fake", "dataTimestamp": "2025-01-01T00:00:00"}
            )
        return _text(404, f"no route {request.url.path}")

    # conveniences for tests ---------------------------------------------------------------------------------

    @staticmethod
    def html_page(status: int = 200) -> httpx.Response:
        """What a proxy or maintenance page looks like: HTML where JSON was expected."""
        return httpx.Response(status, text="<html><body><h1>Service maintenance</h1></body></html>",
                              headers={"content-type": "text/html"})  # fmt: skip

    @staticmethod
    def too_many_requests(retry_after: str | None = None) -> httpx.Response:
        """A 429, with a Retry-After header when given."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return httpx.Response(429, text="Too Many Requests", headers=headers)

    def matching(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """The studies a /studies query with these params selects, in serving order."""
        selected = self.studies
        if term := params.get("query.term"):
            since = _SINCE_RE.fullmatch(term.strip())
            if since is None:
                raise ValueError(f"fake registry understands only LastUpdatePostDate ranges, not {term!r}")
            selected = [s for s in selected if (_last_update(s) or "") >= since.group(1)]
        if statuses := params.get("filter.overallStatus"):
            wanted = set(re.split(r"[|,]", statuses))
            selected = [s for s in selected if _overall_status(s) in wanted]
        return selected

    # routes -------------------------------------------------------------------------------------------------

    def _studies_page(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if params.get("format", "json") != "json":
            return _text(400, "fake registry serves only format=json")
        query = {k: v for k, v in params.items() if k not in _PAGING_PARAMS}
        token = params.get("pageToken")
        if token:
            if token not in self._cursors:
                return _text(400, f"invalid pageToken {token}")
            offset, first_query = self._cursors[token]
            if query != first_query:  # the spec requires every page to repeat the first page's parameters
                return _text(400, "parameters differ from the first page's")
        else:
            offset = 0
        try:
            selected = self.matching(query)
            size = int(params.get("pageSize") or 0) or _DEFAULT_PAGE_SIZE
        except ValueError as exc:
            return _text(400, str(exc))
        size = min(size, 1000, self.page_size)
        body: dict[str, Any] = {"studies": selected[offset : offset + size]}
        if offset + size < len(selected):
            next_token = f"fake-{next(self._token_counter)}"
            self._cursors[next_token] = (offset + size, query)
            body["nextPageToken"] = next_token
        if not token and params.get("countTotal") == "true":
            body["totalCount"] = len(selected)
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    def _study(self, nct_id: str) -> httpx.Response:
        for study in self.studies:
            if _nct_id(study) == nct_id:
                return httpx.Response(200, json=study)
        return _text(404, f"Study not found: {nct_id}")


def load_v2_studies(folder: Path) -> list[dict[str, Any]]:
    """Every distinct API v2 study under folder (download lists, {"studies": [...]} pages, single studies)."""
    by_id: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*.json")):
        data = json.loads(path.read_bytes())
        candidates = (
            data if isinstance(data, list) else data.get("studies", [data]) if isinstance(data, dict) else []
        )
        for study in candidates:
            nct_id = _nct_id(study) if isinstance(study, dict) else None
            if nct_id:  # the retired classic format has no protocolSection and is skipped here
                by_id.setdefault(nct_id, study)
    return list(by_id.values())


def _scripted_response(scripted: Failure, request: httpx.Request) -> httpx.Response:
    if isinstance(scripted, httpx.Response):
        return scripted
    if isinstance(scripted, int):
        return _text(scripted, f"scripted HTTP {scripted}")
    if isinstance(scripted, type) and issubclass(scripted, httpx.RequestError):
        raise scripted(f"scripted {scripted.__name__}", request=request)
    if isinstance(scripted, type):
        raise scripted("scripted failure")
    raise scripted


def _text(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, text=message, headers={"content-type": "text/plain"})


def _nct_id(study: dict[str, Any]) -> str | None:
    ident = (study.get("protocolSection") or {}).get("identificationModule") or {}
    return ident.get("nctId")


def _last_update(study: dict[str, Any]) -> str | None:
    status = (study.get("protocolSection") or {}).get("statusModule") or {}
    return (status.get("lastUpdatePostDateStruct") or {}).get("date")


def _overall_status(study: dict[str, Any]) -> str | None:
    return ((study.get("protocolSection") or {}).get("statusModule") or {}).get("overallStatus")
