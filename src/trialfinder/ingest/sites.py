"""A study's sites: countries spelled one way, and gazetteer coordinates (marked approximate) where missing."""

from __future__ import annotations

from functools import lru_cache

from trialfinder.geo import Place, country_name, geocode_site
from trialfinder.model import Study
from trialfinder.store import SiteRow, sites_from_record

# Registry-sized ingests repeat a few thousand spellings and places across millions of sites, and each lookup
# costs 10 µs (country) to 1 ms (city): answers are remembered, within a bound so a long-lived server stays small.
_LOOKUP_CACHE_SIZE = 65_536


def site_rows(study: Study) -> list[SiteRow]:
    """Sites of a study; those without a geoPoint are placed by city/state/ZIP/country when the gazetteer knows it."""
    rows = sites_from_record(study)
    for row in rows:
        # The registry has renamed countries over the years ("Korea, Republic of" -> "South Korea"): one spelling
        # keeps country filters and location pages whole. The original text stays in the raw record.
        if row.country:
            row.country = _canonical_country(row.country) or row.country
        if row.lat is None and (row.city or row.zip):
            place = _geocode(row.city, row.state, row.zip, row.country)
            if place is not None:
                row.lat, row.lon, row.approximate = place.lat, place.lon, True
    return rows


@lru_cache(maxsize=_LOOKUP_CACHE_SIZE)
def _canonical_country(text: str) -> str | None:
    """country_name, remembered (a pure lookup)."""
    return country_name(text)


@lru_cache(maxsize=_LOOKUP_CACHE_SIZE)
def _geocode(city: str | None, state: str | None, zip: str | None, country: str | None) -> Place | None:
    """geocode_site, remembered (a pure lookup; callers copy lat/lon out, never change the Place)."""
    return geocode_site(city, state, zip, country)
