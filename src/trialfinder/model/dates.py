"""Registry dates ("2024-12", "2024-12-16", "December 2024") as sortable ISO strings."""

from __future__ import annotations

import re

_ISO_RE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def iso_date(text: str | None) -> str | None:
    """Normalise a registry date to YYYY-MM-DD; a month-only date becomes the first of the month."""
    if not text:
        return None
    match = _ISO_RE.match(text.strip())
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "1", match.group(3) or "1"
    return f"{year}-{int(month):02d}-{int(day):02d}"
