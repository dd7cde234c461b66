"""Stable URL slugs for place names ("São Paulo" -> "sao-paulo"), used by the trials-by-location pages."""

from __future__ import annotations

import re
import unicodedata

# The slug of a site without a state or region, so that every site has a full country/state/city path.
NO_REGION_SLUG = "unspecified"
_NOT_WORD = re.compile(r"[^\w]+|_+")


def slugify(name: str | None) -> str:
    """Lowercase ASCII where the name allows it, words joined by hyphens; non-Latin letters are kept."""
    if not name or not name.strip():
        return NO_REGION_SLUG
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    slug = _NOT_WORD.sub("-", folded.lower()).strip("-")
    return slug or NO_REGION_SLUG
