"""Eligibility ages as ClinicalTrials.gov writes them ("18 Years", "6 Months", "N/A"), as comparable values."""

from __future__ import annotations

import re

_DAYS_PER_UNIT = {
    "year": 365.25,
    "month": 365.25 / 12,
    "week": 7.0,
    "day": 1.0,
    "hour": 1 / 24,
    "minute": 1 / 1440,
}
_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$")


def age_in_years(text: str | None) -> float | None:
    """Parse an age such as "18 Years" or "6 Months" into years; None for missing, "N/A" or unreadable text.

    None means the bound is open: a study with no minimum age has no lower limit, never a limit of zero.
    """
    if not text:
        return None
    match = _AGE_RE.match(text)
    if not match:
        return None
    unit = match.group(2).lower()
    if unit not in _DAYS_PER_UNIT:
        return None
    return float(match.group(1)) * _DAYS_PER_UNIT[unit] / 365.25


def age_eligible(age_years: float, minimum: float | None, maximum: float | None) -> bool:
    """True when the age lies within [minimum, maximum], a missing bound being open."""
    if minimum is not None and age_years < minimum - 1e-9:
        return False
    if maximum is not None and age_years > maximum + 1e-9:
        return False
    return True


def describe_age_range(minimum_text: str | None, maximum_text: str | None) -> str:
    """Human wording of an age range, as a trial page shows it: "18+ years old", "2 to 17 years old", "Any age"."""
    low = _short_age(minimum_text)
    high = _short_age(maximum_text)
    if low and high:
        if low[1] == high[1]:
            return f"{low[0]} to {high[0]} {high[1]} old"
        return f"{low[0]} {low[1]} to {high[0]} {high[1]} old"
    if low:
        return f"{low[0]}+ {low[1]} old"
    if high:
        return f"Up to {high[0]} {high[1]} old"
    return "Any age"


def _short_age(text: str | None) -> tuple[str, str] | None:
    if not text or age_in_years(text) is None:
        return None
    match = _AGE_RE.match(text)
    assert match is not None
    number, unit = match.group(1), match.group(2).lower()
    if number.endswith(".0"):
        number = number[:-2]
    return number, unit + ("" if number == "1" else "s")
