"""NCT identifiers: recognising them and writing them the canonical way."""

from __future__ import annotations

import re

NCT_ID_RE = re.compile(r"\bNCT0*(\d{1,8})\b", re.IGNORECASE)
_WHOLE_RE = re.compile(r"^\s*NCT0*(\d{1,8})\s*$", re.IGNORECASE)


def canonical_nct_id(text: str) -> str | None:
    """"nct123" -> "NCT00000123"; None when text is not an NCT id."""
    match = _WHOLE_RE.match(text or "")
    return f"NCT{int(match.group(1)):08d}" if match else None


def find_nct_ids(text: str) -> list[str]:
    """Every NCT id mentioned in text, canonical, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in NCT_ID_RE.finditer(text or ""):
        seen.setdefault(f"NCT{int(match.group(1)):08d}", None)
    return list(seen)
