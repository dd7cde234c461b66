"""Great-circle distances, search radii and bounding boxes for prefiltering sites."""

from __future__ import annotations

import math
import re

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
KM_PER_MILE = 1.609344

_KM_PER_UNIT = {
    "": KM_PER_MILE,  # a bare number means miles, as on ClinicalTrials.gov
    "mi": KM_PER_MILE,
    "mile": KM_PER_MILE,
    "miles": KM_PER_MILE,
    "km": 1.0,
    "kms": 1.0,
    "kilometer": 1.0,
    "kilometers": 1.0,
    "kilometre": 1.0,
    "kilometres": 1.0,
}
_RADIUS_TEXT = re.compile(r"(?P<value>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-z]*)\.?")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points given in decimal degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    # rounding can push `a` a hair above 1 for antipodal points
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def parse_radius(text: str | float | None, default: str = "50mi") -> float:
    """A search radius in kilometres from "50mi", "80 km", "10 miles" or a bare number of miles."""
    if text is None or (isinstance(text, str) and not text.strip()):
        text = default
    if isinstance(text, int | float) and not isinstance(text, bool):
        return _positive_km(float(text) * KM_PER_MILE, text)
    if not isinstance(text, str):
        raise TypeError(f"a radius must be text or a number of miles, not {type(text).__name__}")
    match = _RADIUS_TEXT.fullmatch(text.strip().lower())
    if match is None or match["unit"] not in _KM_PER_UNIT:
        raise ValueError(
            f"invalid radius {text!r}: expected a number with an optional unit mi/miles/km "
            "(a bare number means miles), such as '50mi', '80 km' or '25'"
        )
    return _positive_km(float(match["value"]) * _KM_PER_UNIT[match["unit"]], text)


def _positive_km(km: float, original: object) -> float:
    if not math.isfinite(km) or km <= 0:
        raise ValueError(f"invalid radius {original!r}: it must be a positive, finite distance")
    return km


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing every point within radius_km of (lat, lon).

    The box is for a cheap SQL prefilter, so it errs on the wide side: when the circle reaches a pole or
    crosses the antimeridian the longitude range becomes the whole [-180, 180] instead of wrapping around.
    Confirm candidates with haversine_km.
    """
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"invalid coordinates ({lat!r}, {lon!r})")
    if not (math.isfinite(radius_km) and radius_km >= 0):
        raise ValueError(f"invalid radius {radius_km!r} km: it must be a non-negative, finite distance")
    angular = radius_km / EARTH_RADIUS_KM
    delta_lat = math.degrees(angular)
    min_lat, max_lat = lat - delta_lat, lat + delta_lat
    if min_lat <= -90.0 or max_lat >= 90.0:
        # the circle contains a pole, so every meridian passes through it
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    # widest longitude reached by the circle (where a meridian is tangent to it), not lon ± delta_lat/cos
    delta_lon = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(lat)))))
    min_lon, max_lon = lon - delta_lon, lon + delta_lon
    if min_lon < -180.0 or max_lon > 180.0:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, min_lon, max_lon
