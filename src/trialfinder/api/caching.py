"""Conditional GET for study responses: a strong ETag over the body, Cache-Control, and 304 on a match."""

from __future__ import annotations

import hashlib

from fastapi import Request
from fastapi.responses import Response

STUDY_CACHE_CONTROL = "public, max-age=300"


def cached_response(request: Request, body: bytes, media_type: str, **headers: str) -> Response:
    """The body with ETag and Cache-Control, or an empty 304 when If-None-Match already names it."""
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    common = {"ETag": etag, "Cache-Control": STUDY_CACHE_CONTROL, **headers}
    wanted = request.headers.get("if-none-match", "")
    if wanted and (wanted.strip() == "*" or etag in {tag.strip().removeprefix("W/") for tag in wanted.split(",")}):
        return Response(status_code=304, headers=common)
    return Response(content=body, media_type=media_type, headers=common)
