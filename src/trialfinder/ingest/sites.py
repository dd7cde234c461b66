"""A study's sites: countries spelled one way, and gazetteer coordinates (marked approximate) where missing."""

from __future__ import annotations

from trialfinder.geo import country_name, geocode_site
from trialfinder.model import Study
from trialfinder.store import SiteRow, sites_from_record


def site_rows(study: Study) -> list[SiteRow]:
    """Sites of a study; those without a geoPoint are placed by city/state/ZIP/country when the gazetteer knows it."""
    rows = sites_from_record(study)
    for row in rows:
        # The registry has renamed countries over the years ("Korea, Republic of" -> "South Korea"): one spelling
        # keeps country filters and location pages whole. The original text stays in the raw record.
        if row.country:
            row.country = country_name(row.country) or row.country
        if row.lat is None and (row.city or row.zip):
            place = geocode_site(row.city, row.state, row.zip, row.country)
            if place is not None:
                row.lat, row.lon, row.approximate = place.lat, place.lon, True
    return rows
