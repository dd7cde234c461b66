"""Opaque page tokens and cursors: the offset of the next page, bound to the query that produced it."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable

from trialfinder.api.errors import bad_request


def query_fingerprint(params: Iterable[tuple[str, str]], ignore: Iterable[str]) -> str:
    """A short hash of the query parameters that define a result set (order of parameters ignored)."""
    skipped = set(ignore)
    canonical = sorted((key, value) for key, value in params if key not in skipped)
    digest = hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
    return digest[:12]


def encode_token(offset: int, fingerprint: str) -> str:
    """An opaque, URL-safe token for the page starting at offset."""
    raw = json.dumps({"o": offset, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, fingerprint: str, parameter: str) -> int:
    """The offset a token points at; 400 when it is malformed or was made for another query."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        offset = data["o"]
        made_for = data["q"]
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise bad_request(f"{parameter} is not a token this server issued", parameter) from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise bad_request(f"{parameter} is not a token this server issued", parameter)
    if made_for != fingerprint:
        raise bad_request(
            f"{parameter} belongs to a different query: repeat the first page's parameters on every page", parameter
        )
    return offset
