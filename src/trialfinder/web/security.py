"""Security headers on every response, and a per-request CSP nonce for the website's pages."""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'

# Paths whose pages are built by other parts of the app (the API's docs load Swagger UI with its own script).
FOREIGN_PREFIXES = ("/api", "/v2", "/docs", "/redoc", "/openapi")


def tile_url() -> str:
    """The map tile URL template: $TRIALFINDER_TILE_URL, else OpenStreetMap's."""
    return os.environ.get("TRIALFINDER_TILE_URL") or DEFAULT_TILE_URL


def tile_attribution() -> str:
    """The attribution the tile server requires: $TRIALFINDER_TILE_ATTRIBUTION, else OpenStreetMap's."""
    return os.environ.get("TRIALFINDER_TILE_ATTRIBUTION") or DEFAULT_TILE_ATTRIBUTION


def tile_origin(url: str) -> str:
    """Scheme and host of a tile URL template, for the CSP img-src list ("'self'" for a relative URL)."""
    parts = urlsplit(url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return "'self'"
    host = parts.netloc
    if "{s}" in url:  # Leaflet's {s} subdomains: a., b., c.
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def content_security_policy(nonce: str, tiles: str) -> str:
    """The CSP of a website page: scripts only from this origin or carrying the request's nonce."""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self'",
        f"img-src 'self' data: {tile_origin(tiles)}",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(self)",
}
# As raw ASGI header pairs, encoded once: every response carries them.
_RAW_BASE_HEADERS = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in BASE_HEADERS.items()]


class SecurityHeadersMiddleware:
    """Pure ASGI middleware: sets scope["state"]["csp_nonce"] and adds the headers to each response.

    Every response gets the base headers unless it already set them; HTML responses outside FOREIGN_PREFIXES
    also get the CSP, so the API's Swagger page keeps the policy its owner gives it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tiles = tile_url()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        ours = not scope["path"].startswith(FOREIGN_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Raw header pairs rather than MutableHeaders: this runs on every response, and the names Starlette
                # writes are already lower-case.
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [pair for pair in _RAW_BASE_HEADERS if pair[0] not in present]
                content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
                if ours and content_type.startswith(b"text/html") and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy",
                                    content_security_policy(nonce, self.tiles).encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
