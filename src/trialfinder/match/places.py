"""The "near" filter of a match request, from a place name and a radius as people type them."""

from __future__ import annotations

from trialfinder.geo import parse_radius, resolve_place
from trialfinder.search.types import Near


def near_place(place: str | None, radius: str | float | None = None) -> Near | None:
    """Near(...) for a ZIP, city, country or "lat,lon" and a radius ("50mi", "80 km"); None without a place.

    Raises ValueError (or geo.UnknownPlace, a LookupError) with a message fit for the user.
    """
    if not place or not place.strip():
        return None
    resolved = resolve_place(place)
    return Near(lat=resolved.lat, lon=resolved.lon, radius_km=parse_radius(radius), label=resolved.name)
