"""Small display helpers shared by the presenters: dates, counts, labels of registry enums."""

from __future__ import annotations

import re

from trialfinder.model.labels import OVERALL_STATUS, PHASE, label

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")

# Statuses a patient can still join, for the badge colour.
OPEN_STATUSES = {"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE"}


def human_date(text: str | None) -> str:
    """"2023-11-07" -> "November 7, 2023"; "2023-11" -> "November 2023"; unreadable text is returned as is."""
    if not text:
        return ""
    match = _ISO.match(text.strip())
    if not match:
        return text
    year, month, day = match.groups()
    if not month or not 1 <= int(month) <= 12:
        return year
    name = _MONTHS[int(month) - 1]
    return f"{name} {int(day)}, {year}" if day else f"{name} {year}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """"1 site", "3 sites"."""
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


def status_label(status: str | None) -> str:
    """The display label of an overall or site status ("" when missing)."""
    return label(OVERALL_STATUS, status)


def status_tone(status: str | None) -> str:
    """A CSS modifier for a status badge: open, closed or unknown."""
    if not status:
        return "unknown"
    return "open" if status in OPEN_STATUSES else "closed"


def phases_label(phases: list[str]) -> str:
    """"Phase 1, Phase 2"; "" when the record gives no phase."""
    return ", ".join(label(PHASE, phase) for phase in phases)
