"""Stable URL slugs for place names ("São Paulo" -> "sao-paulo"), used by the trials-by-location pages.

City slugs go further than folding case, accents and spacing: the registry spells one city many ways
("Ft. Lauderdale" / "Fort Lauderdale", "St. Gallen" / "Saint Gallen", "Saint Etienne Cedex 2", "New York City" /
"New York"), and each city should have one page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

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


# A leading abbreviation, as registry addresses write it, and the word it stands for.
_CITY_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}
# French postal routing ("CEDEX 2") is part of an address, never of a city's name.
_CEDEX = re.compile(r"-cedex(?:-\d+)?$")
# "Taipei City", "Sapporo-shi": merged with the plain name when the same region also lists that.
_CITY_SUFFIXES = ("-city", "-shi")


def city_slug(name: str | None) -> str:
    """A city's slug with leading abbreviations spelt out and postal suffixes dropped ("Ft. Worth" -> "fort-worth")."""
    slug = slugify(name)
    first, _, rest = slug.partition("-")
    if rest and first in _CITY_ABBREVIATIONS:
        slug = f"{_CITY_ABBREVIATIONS[first]}-{rest}"
    return _CEDEX.sub("", slug) or slug


def city_slugs(names: Iterable[str | None]) -> dict[str | None, str]:
    """The page slug of each spelling of one region's cities: city_slug, and "X City" goes with "X" if listed."""
    slugs = {name: city_slug(name) for name in names}
    plain = set(slugs.values())
    for name, slug in slugs.items():
        for suffix in _CITY_SUFFIXES:
            if slug.endswith(suffix) and slug[: -len(suffix)] in plain:
                slugs[name] = slug[: -len(suffix)]
    return slugs
