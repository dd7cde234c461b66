"""Approximate coordinates for study sites that came without a geoPoint (legacy XML records)."""

from __future__ import annotations

import re

from trialfinder.geo.cities import City, best_city, find_cities, us_town_point
from trialfinder.geo.countries import (
    HISTORIC_COUNTRIES,
    US_TERRITORIES,
    country_code,
    provinces_named,
    us_state_code,
    us_state_name,
)
from trialfinder.geo.distance import haversine_km
from trialfinder.geo.places import Place, city_place, us_place, zip_place

_US_ZIP_PREFIX = re.compile(r"\s*(\d{5})(?:\b|-)")
# postal routing words and placeholders that registries leave in a site's city field
_CITY_NOISE = re.compile(r"\bcedex\b(\s*\d+)?|\bs/n\b|\bn/a\b|\bcity\b$", re.IGNORECASE)
# how far from the city named by the state field ("Osaka", "Tokyo", "Gaziantep") a same-named town may lie
ANCHOR_RADIUS_KM = 100.0
ANCHOR_MIN_POPULATION = 200_000


def geocode_site(city: str | None, state: str | None, zip: str | None, country: str | None) -> Place | None:
    """Approximate coordinates of a site lacking a geoPoint: US ZIP centroid, else its city, else None."""
    try:
        return _geocode_site(city, state, zip, country)
    except Exception:  # noqa: BLE001 - a site without coordinates must never stop an ingest
        return None


def _geocode_site(city: str | None, state: str | None, zip: str | None, country: str | None) -> Place | None:
    code = country_code(country) if country else None
    if code in HISTORIC_COUNTRIES:
        code = HISTORIC_COUNTRIES[code][1]
    state_code = us_state_code(state) if code in (None, "US") else None
    if code is None and state_code:
        code = "US"
    zip_match = _US_ZIP_PREFIX.match(zip) if isinstance(zip, str) else None
    has_us_zip = bool(zip_match) and (code == "US" or code in US_TERRITORIES)
    by_zip = zip_place(zip_match[1], bulk=True) if has_us_zip else None
    # a ZIP contradicting the state is more likely a typo than the state is
    if by_zip is not None and (state_code is None or by_zip.state == us_state_name(state_code)):
        return by_zip
    if isinstance(city, str) and city.strip():
        by_city = _city_of_site(city_variants(city), state, code, state_code)
        if by_city is not None:
            return by_city
    return by_zip


def _city_of_site(
    variants: list[str], state: str | None, code: str | None, state_code: str | None
) -> Place | None:
    # a known state or province confines the search: the same name elsewhere in the country is a
    # different town ("Danville, Pennsylvania" is not Danville, California), and no answer beats that
    if state_code:
        for variant in variants:
            if found := best_city(find_cities(variant, "US", state_code)):
                return city_place(found)
            # towns too small for the GeoNames tiers still have ZIP codes
            if town := us_town_point(variant, state_code):
                return us_place(town.city, state_code, town.lat, town.lon, "city")
        return None
    provinces = [p for p in provinces_named(state) if p.country_code == code] if code else []
    if provinces:
        found = _first_city(variants, code, provinces[0].admin1)
        return city_place(found) if found else None
    found = _first_city(variants, code, None)
    anchor = _anchor_city(state, code)
    if anchor is None:
        return city_place(found) if found else None
    # elsewhere the state field often names the region's main city ("Osaka", "Gaziantep"), which tells
    # same-named towns apart, and stands in for a town missing from the gazetteer
    for variant in variants:
        nearby = [
            match
            for match in find_cities(variant, code)
            if haversine_km(match.city.lat, match.city.lon, anchor.lat, anchor.lon) <= ANCHOR_RADIUS_KM
        ]
        if nearby:
            return city_place(best_city(nearby))
    return city_place(found or anchor)


def _first_city(variants: list[str], code: str | None, admin1: str | None) -> City | None:
    return next(filter(None, (best_city(find_cities(v, code, admin1)) for v in variants)), None)


def _anchor_city(state: str | None, code: str | None) -> City | None:
    if not (isinstance(state, str) and state.strip() and code):
        return None
    # only a real regional centre: a province's name is often also some village's
    candidates = [
        match
        for match in find_cities(state, code, small_towns=False)
        if match.by_main_name and match.city.population >= ANCHOR_MIN_POPULATION
    ]
    return best_city(candidates)


def city_variants(city: str) -> list[str]:
    """The city field as written, then readings of the clutter registries put in it, likeliest first.

    Seen in real records: "Paris Cedex 10", "Brussels (Bruxelles)", "Hampstead, London", "Homburg/Saar",
    "Nantes-Saint Herblain", "Torquay Devon", "Isehara City, Kanagawa", "Barcelona N/A".
    """
    variants = [city]
    cleaned = _CITY_NOISE.sub(" ", city).strip(" ,-/")
    variants.append(cleaned)
    outside, _, inside = cleaned.partition("(")
    variants.append(outside)
    variants += re.split(r"[,;]", inside.rstrip(")"))
    for piece in re.split(r"[,;/]", outside):
        variants.append(piece)
        variants += piece.split("-")
        words = piece.split()
        variants += [" ".join(words[:count]) for count in range(len(words) - 1, 0, -1)]
    # fragments like the "'s" of "'s-Gravenhage" are too short to name a place
    return list(dict.fromkeys(v.strip() for v in variants if len(v.strip()) >= 3 or v is city))
