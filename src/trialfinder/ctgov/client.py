"""Adapter for the ClinicalTrials.gov API v2 (`/studies`, `/studies/{nctId}`) over httpx.

Waiting has two owners. The rate limiter paces every request (the registry asks for about 50 requests a minute
per client) and honours a 429's Retry-After; it uses an injectable clock and sleep so tests never wait.
stamina owns the retry loop and its exponential backoff; tests switch the backoff off with
`stamina.set_testing(True, attempts=..., cap=True)`.

What is retried (up to `max_attempts` requests in all): 429, any 5xx, timeouts and connection errors, and a
200 whose body is not JSON (an HTML maintenance page or a truncated body is usually transient; retrying a
deterministic one costs only a few requests). Once retries run out, TransientCtgovError (a CtgovError) is
raised. Any other 4xx, and JSON that is not a studies page (a changed contract, not a glitch), raise
CtgovError at once.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Self

import httpx
import orjson
import stamina

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_PAGE_SIZE",
    "USER_AGENT",
    "CtgovClient",
    "CtgovError",
    "RateLimiter",
    "StudiesPage",
    "StudyNotFound",
    "TransientCtgovError",
    "registry_reachable",
    "since_query",
    "status_filter",
]

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
MAX_PAGE_SIZE = 1000
_BODY_EXCERPT_CHARS = 300
_NCT_ID_RE = re.compile(r"NCT[0-9]{8}", re.IGNORECASE)


def _user_agent() -> str:
    try:
        version = metadata.version("trialfinder")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"trialfinder/{version} (self-hosted clinical trial finder; httpx/{httpx.__version__})"


USER_AGENT = _user_agent()


# errors -----------------------------------------------------------------------------------------------------


class CtgovError(Exception):
    """The registry answered with an error, or with something that is not an API v2 response."""

    def __init__(self, message: str, *, status: int | None = None, body_excerpt: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body_excerpt = body_excerpt


class TransientCtgovError(CtgovError):
    """A failure worth retrying (429, 5xx, network, malformed page); raised as-is once retries run out."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body_excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, body_excerpt=body_excerpt)
        self.retry_after = retry_after


class StudyNotFound(CtgovError):
    """The registry has no study with this NCT id (HTTP 404)."""

    def __init__(self, nct_id: str) -> None:
        super().__init__(f"no study {nct_id} on ClinicalTrials.gov", status=404)
        self.nct_id = nct_id


# query helpers ----------------------------------------------------------------------------------------------


def since_query(date: dt.date | str) -> str:
    """Essie expression (for `query.term`): studies whose last update was posted on or after `date`."""
    if isinstance(date, dt.datetime):
        date = date.date()
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(date)
    return f"AREA[LastUpdatePostDate]RANGE[{day.isoformat()},MAX]"


def status_filter(statuses: Sequence[str]) -> str:
    """Value for `filter.overallStatus`: v2 status enums joined with the spec's pipe delimiter."""
    cleaned = [status.strip().upper() for status in statuses if status.strip()]
    if not cleaned or any(not re.fullmatch(r"[A-Z_]+", status) for status in cleaned):
        raise ValueError(f"statuses must be API v2 enum names such as RECRUITING, got {list(statuses)!r}")
    return "|".join(cleaned)


# rate limiting ----------------------------------------------------------------------------------------------


class RateLimiter:
    """Spaces calls at least 60/requests_per_minute seconds apart, and holds them while a Retry-After runs."""

    def __init__(
        self,
        requests_per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / requests_per_minute if requests_per_minute > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._last_start: float | None = None
        self._hold_until = float("-inf")

    def wait(self) -> None:
        """Block until the next request may start, then record that it starts now."""
        now = self._clock()
        ready_at = self._hold_until
        if self._last_start is not None:
            ready_at = max(ready_at, self._last_start + self.interval)
        if ready_at > now:
            self._sleep(ready_at - now)
            now = max(self._clock(), ready_at)
        self._last_start = now

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds` from now (a server's Retry-After)."""
        self._hold_until = max(self._hold_until, self._clock() + seconds)


# client -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StudiesPage:
    """One page of `/studies`: the raw study objects as the registry sent them, and where to go next."""

    studies: list[dict[str, Any]]
    next_page_token: str | None = None
    total_count: int | None = None


class CtgovClient:
    """Polite, retrying client for the ClinicalTrials.gov API v2; use as a context manager or call close()."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.BaseTransport | None = None,
        requests_per_minute: float = 50,
        timeout: float = 60.0,
        max_attempts: int = 6,
        page_size: int = MAX_PAGE_SIZE,
        max_retry_after: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.page_size = _clamp_page_size(page_size)
        self.max_attempts = max_attempts
        # A hostile or buggy Retry-After must not stall a sync for hours.
        self.max_retry_after = max_retry_after
        self.rate_limiter = RateLimiter(requests_per_minute, clock=clock, sleep=sleep)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    # public API ---------------------------------------------------------------------------------------------

    def fetch_page(self, params: Mapping[str, Any], page_token: str | None = None) -> StudiesPage:
        """GET one page of /studies for the given query/filter params (first page when page_token is None)."""
        query = {"format": "json", "pageSize": str(self.page_size)}
        query |= {key: _param_value(value) for key, value in params.items()}
        query["pageSize"] = str(_clamp_page_size(int(query["pageSize"])))
        if page_token:
            query["pageToken"] = page_token
        else:
            query["countTotal"] = "true"
        body = self._get_json("/studies", query)
        studies = body.get("studies") if isinstance(body, dict) else None
        if not isinstance(studies, list) or not all(isinstance(study, dict) for study in studies):
            raise CtgovError(f"malformed page from /studies: no 'studies' list (keys: {_keys(body)})")
        next_token = body.get("nextPageToken")
        total = body.get("totalCount")
        return StudiesPage(
            studies=studies,
            next_page_token=next_token if isinstance(next_token, str) and next_token else None,
            total_count=total if isinstance(total, int) else None,
        )

    def iter_pages(self, params: Mapping[str, Any], start_token: str | None = None) -> Iterator[StudiesPage]:
        """Yield every page of a /studies query, following nextPageToken (resume with start_token)."""
        token = start_token
        seen_tokens: set[str] = set()
        while True:
            page = self.fetch_page(params, token)
            yield page
            token = page.next_page_token
            if token is None:
                return
            if token in seen_tokens:
                raise CtgovError(f"pagination loop: nextPageToken {token!r} was already followed")
            seen_tokens.add(token)

    def fetch_study(self, nct_id: str) -> dict[str, Any]:
        """GET /studies/{nctId} as the raw study object; raises StudyNotFound on 404."""
        if not _NCT_ID_RE.fullmatch(nct_id):
            raise ValueError(f"not an NCT id: {nct_id!r}")
        nct_id = nct_id.upper()
        try:
            body = self._get_json(f"/studies/{nct_id}", {"format": "json"})
        except CtgovError as exc:
            if exc.status == 404:
                raise StudyNotFound(nct_id) from None
            raise
        if not isinstance(body, dict) or not isinstance(body.get("protocolSection"), dict):
            raise CtgovError(f"malformed study {nct_id}: no 'protocolSection' (keys: {_keys(body)})")
        return body

    def fetch_version(self) -> dict[str, Any]:
        """GET /version: the API version and the registry's data timestamp."""
        body = self._get_json("/version", {})
        if not isinstance(body, dict) or "apiVersion" not in body:
            raise CtgovError(f"malformed /version answer (keys: {_keys(body)})")
        return body

    def is_reachable(self, timeout: float = 10.0) -> bool:
        """True when /version answers within `timeout` on a single attempt (no retries: a quick yes/no)."""
        try:
            body = self._get_json_once("/version", {}, timeout=timeout)
        except CtgovError:
            return False
        return isinstance(body, dict) and "apiVersion" in body

    # transport ----------------------------------------------------------------------------------------------

    def _get_json(self, path: str, query: Mapping[str, str]) -> Any:
        """One logical GET, retried through stamina; returns the decoded JSON body."""
        retrying = stamina.retry_context(
            on=self._should_retry,
            attempts=self.max_attempts,
            timeout=None,  # bounded by attempts; a 1000-study page can legitimately take a while
            wait_initial=1.0,
            wait_max=60.0,
            wait_jitter=1.0,
        )
        for attempt in retrying:
            with attempt:
                return self._get_json_once(path, query)
        raise AssertionError("unreachable: stamina re-raises the last error")

    def _should_retry(self, exc: Exception) -> bool:
        return isinstance(exc, TransientCtgovError)

    def _get_json_once(self, path: str, query: Mapping[str, str], timeout: float | None = None) -> Any:
        self.rate_limiter.wait()
        try:
            if timeout is None:
                response = self._http.get(path, params=query)
            else:
                response = self._http.get(path, params=query, timeout=timeout)
        except httpx.TransportError as exc:  # connect/read/write errors, timeouts, dropped connections
            raise TransientCtgovError(f"GET {path} failed: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            if retry_after is not None:
                self.rate_limiter.hold(min(retry_after, self.max_retry_after))
            raise TransientCtgovError(
                f"GET {path} answered HTTP {status}: {_excerpt(response)}",
                status=status,
                body_excerpt=_excerpt(response),
                retry_after=retry_after,
            )
        if status >= 400:
            raise CtgovError(
                f"GET {response.url} answered HTTP {status}: {_excerpt(response)}",
                status=status,
                body_excerpt=_excerpt(response),
            )
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise TransientCtgovError(
                f"malformed page from {path}: body is not JSON "
                f"({response.headers.get('content-type', '?')}): {_excerpt(response)}",
                status=status,
                body_excerpt=_excerpt(response),
            ) from None


def registry_reachable(client: CtgovClient) -> bool:
    """True when the client's ClinicalTrials.gov endpoint answers right now (one quick attempt)."""
    return client.is_reachable()


def _clamp_page_size(size: int) -> int:
    return max(1, min(MAX_PAGE_SIZE, size))


def _param_value(value: Any) -> str:
    """Render a query value as the API expects: lists pipe-delimited, booleans lowercase."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "|".join(str(item) for item in value)
    return str(value)


def _retry_after_seconds(header: str | None) -> float | None:
    """Retry-After as seconds from now; it is either delta-seconds or an HTTP date."""
    if not header:
        return None
    header = header.strip()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", header):
        return float(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _excerpt(response: httpx.Response) -> str:
    text = response.content[: _BODY_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text[:_BODY_EXCERPT_CHARS] + ("…" if len(text) > _BODY_EXCERPT_CHARS else "")


def _keys(body: Any) -> str:
    return ", ".join(sorted(body)[:10]) if isinstance(body, dict) else type(body).__name__
