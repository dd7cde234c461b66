"""A study's sites, with gazetteer coordinates (marked approximate) where the record has none."""

from __future__ import annotations

from trialfinder.model import Study
from trialfinder.store import SiteRow, sites_from_record


def site_rows(study: Study) -> list[SiteRow]:
    """Sites of a study; those without a geoPoint are placed by city/state/ZIP/country when the gazetteer knows it."""
    rows = sites_from_record(study)
    for row in rows:
        if row.lat is None and (row.city or row.zip):
            place = _geocode(row)
            if place is not None:
                row.lat, row.lon, row.approximate = place.lat, place.lon, True
    return rows


def _geocode(row: SiteRow):
    from trialfinder.geo import geocode_site

    return geocode_site(row.city, row.state, row.zip, row.country)
