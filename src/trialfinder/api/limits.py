"""Per-client rate limiting (token buckets) and a request body size limit, as pure ASGI middleware.

Configuration comes from the environment (see docs/operations.md):
  TRIALFINDER_RATE_LIMIT        requests per client on /api/..., e.g. "120/minute"; "off" or unset: no limit
  TRIALFINDER_WEB_RATE_LIMIT    the same for the website's pages (off unless set)
  TRIALFINDER_TRUSTED_PROXIES   comma-separated addresses or networks whose X-Forwarded-For is believed
  TRIALFINDER_MAX_BODY_BYTES    largest request body accepted (default 1 MiB); larger ones get 413
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RATE_LIMIT_ENV = "TRIALFINDER_RATE_LIMIT"
WEB_RATE_LIMIT_ENV = "TRIALFINDER_WEB_RATE_LIMIT"
TRUSTED_PROXIES_ENV = "TRIALFINDER_TRUSTED_PROXIES"
MAX_BODY_BYTES_ENV = "TRIALFINDER_MAX_BODY_BYTES"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
API_PREFIX = "/api"
COMPAT_PREFIX = "/api/v2"
# Probes and scrapes come from the load balancer and Prometheus: limiting them would take a healthy node out.
EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics")
MAX_TRACKED_CLIENTS = 100_000

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:/|\s+per\s+)\s*(\d+(?:\.\d+)?)?\s*([a-z]+?)s?\s*", re.IGNORECASE)
_PERIOD_ABBREVIATIONS = {"s": "second", "sec": "second", "m": "minute", "min": "minute", "h": "hour", "hr": "hour",
                         "d": "day"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rate:
    """`requests` per `period_seconds`; the bucket holds that many tokens, so a burst of a full period is allowed."""

    requests: float
    period_seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.period_seconds

    def __str__(self) -> str:
        return f"{self.requests:g}/{self.period_seconds:g}s"


def parse_rate(text: str | None) -> Rate | None:
    """"120/minute", "10/second", "5000/hour", "30/10s", "100 per minute" -> Rate; "", "off", "0" -> None."""
    if text is None or text.strip().lower() in ("", "off", "none", "0", "false", "no"):
        return None
    match = _RATE_RE.fullmatch(text)
    if not match:
        raise ValueError(f"rate limit {text!r} is not like '120/minute'")
    count, multiple, unit = float(match.group(1)), float(match.group(2) or 1), match.group(3).lower()
    unit = _PERIOD_ABBREVIATIONS.get(unit, unit)
    if unit not in _PERIODS or count <= 0 or multiple <= 0:
        raise ValueError(f"rate limit {text!r} is not like '120/minute' (periods: {', '.join(_PERIODS)})")
    return Rate(count, multiple * _PERIODS[unit])


def parse_networks(text: str | None) -> list[Network]:
    """"10.0.0.0/8, 127.0.0.1, ::1" -> networks; raises ValueError naming a bad entry."""
    networks = []
    for entry in (text or "").split(","):
        if entry.strip():
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{TRUSTED_PROXIES_ENV}: {entry.strip()!r} is not an address or network") from None
    return networks


@dataclass(frozen=True)
class LimitsConfig:
    """What the limits middleware enforces."""

    api_rate: Rate | None = None
    web_rate: Rate | None = None
    trusted_proxies: Sequence[Network] = field(default_factory=tuple)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LimitsConfig:
        """The configuration named by the TRIALFINDER_* variables (defaults: no rate limit, 1 MiB bodies)."""
        env = os.environ if environ is None else environ
        body = env.get(MAX_BODY_BYTES_ENV, "").strip()
        if body and (not body.isdigit() or int(body) <= 0):
            raise ValueError(f"{MAX_BODY_BYTES_ENV} must be a positive number of bytes, not {body!r}")
        return cls(
            api_rate=_named_rate(env, RATE_LIMIT_ENV),
            web_rate=_named_rate(env, WEB_RATE_LIMIT_ENV),
            trusted_proxies=tuple(parse_networks(env.get(TRUSTED_PROXIES_ENV))),
            max_body_bytes=int(body) if body else DEFAULT_MAX_BODY_BYTES,
        )


def _named_rate(env: dict[str, str], variable: str) -> Rate | None:
    try:
        return parse_rate(env.get(variable))
    except ValueError as error:
        raise ValueError(f"{variable}: {error}") from None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(scope: Scope, trusted: Sequence[Network]) -> str:
    """The client's address: the peer, or (when the peer is a trusted proxy) the first untrusted X-Forwarded-For hop.

    X-Forwarded-For is read right to left, so a client cannot pick its own bucket by sending the header itself:
    only hops appended by trusted proxies are skipped.
    """
    peer = scope.get("client")
    peer_host = peer[0] if peer else "unknown"
    if not trusted:
        return peer_host

    def is_trusted(host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in network for network in trusted)

    if not is_trusted(peer_host):
        return peer_host
    forwarded = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
    hops = [hop.strip() for header in forwarded for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if _address(hop) is None:
            break  # a malformed hop: everything left of it is unverifiable, so the last trusted hop answers
        if not is_trusted(hop):
            return hop
        peer_host = hop
    return peer_host


class TokenBuckets:
    """One token bucket per key; thread-safe, and bounded (the least recently seen keys are dropped)."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_TRACKED_CLIENTS):
        self.rate = rate
        self.capacity = max(1.0, rate.requests)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, updated_at)
        self._lock = threading.Lock()

    def take(self, key: str) -> tuple[bool, float, float]:
        """Spend one token of key's bucket: (allowed, tokens left, seconds until a token is available)."""
        with self._lock:
            now = self._clock()
            tokens, updated = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - updated) * self.rate.per_second)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate.per_second
            return allowed, tokens, wait


def _is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


async def _send_error(send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]],
                      path: str = "") -> None:
    # Each API answers errors in its own shape: ClinicalTrials.gov's declares text/plain, ours a JSON object.
    if path == COMPAT_PREFIX or path.startswith(COMPAT_PREFIX + "/"):
        body, content_type = message.encode(), b"text/plain; charset=utf-8"
    else:
        body, content_type = json.dumps({"error": {"message": message, "parameter": None}}).encode(), b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class RateLimitMiddleware:
    """429 with Retry-After once a client has spent its bucket: one bucket set for /api, another for the website."""

    def __init__(self, app: ASGIApp, config: LimitsConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.trusted = tuple(config.trusted_proxies)
        self.api = TokenBuckets(config.api_rate, clock) if config.api_rate else None
        self.web = TokenBuckets(config.web_rate, clock) if config.web_rate else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = client_address(scope, self.trusted)
        scope.setdefault("state", {})["client_ip"] = client
        path = scope["path"]
        buckets = self.api if _is_api(path) else None if path in EXEMPT_PATHS else self.web
        if buckets is None:
            await self.app(scope, receive, send)
            return
        allowed, remaining, wait = buckets.take(client)
        limit_headers = [(b"ratelimit-limit", f"{buckets.capacity:g}".encode()),
                         (b"ratelimit-remaining", str(int(remaining)).encode())]
        if not allowed:
            retry_after = max(1, math.ceil(wait))
            await _send_error(send, 429, f"too many requests: at most {buckets.rate} per client; "
                                         f"retry in {retry_after} s",
                              [(b"retry-after", str(retry_after).encode()), *limit_headers], path)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *limit_headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """413 for a request whose body exceeds max_bytes: at once from Content-Length, or while it streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        too_large = f"request body larger than {self.max_bytes} bytes"
        if declared is not None:
            if not declared.strip().isdigit():
                await _send_error(send, 400, "invalid Content-Length", [], scope["path"])
                return
            if int(declared) > self.max_bytes:
                await _send_error(send, 413, too_large, [(b"connection", b"close")], scope["path"])
                return
        received = 0
        overflowed = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, overflowed
            if overflowed:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # The app sees the client go away; whatever it answers is replaced by the 413 below.
                    overflowed = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if overflowed and not response_started:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not overflowed or response_started:
                raise
        if overflowed and not response_started:
            await _send_error(send, 413, too_large, [(b"connection", b"close")], scope["path"])


class NulByteGuardMiddleware:
    """400 for a URL carrying a NUL byte (%00): no parameter means anything with one, and PostgreSQL cannot
    even compare a text value holding it, so it would otherwise surface as a 500 deep inside a query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"]
                                        or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))):
            await _send_error(send, 400, "the URL contains a NUL character (%00)", [], scope["path"])
            return
        await self.app(scope, receive, send)
