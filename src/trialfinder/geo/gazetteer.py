"""Turning what a user types ("02115", "Rochester, MN", "Germany", "42.36,-71.06") or what a study site
record says (city/state/ZIP/country) into coordinates, from bundled offline gazetteers."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

from trialfinder.geo.cities import (
    City,
    best_city,
    city_index,
    find_cities,
    largest_city,
    us_town_point,
    zip_point,
)
from trialfinder.geo.countries import (
    HISTORIC_COUNTRIES,
    PROVINCES,
    US_TERRITORIES,
    all_country_names,
    all_us_state_names,
    country_code,
    country_name,
    country_name_for_code,
    geonames_countries,
    provinces_named,
    us_state_code,
    us_state_name,
)
from trialfinder.geo.names import fold_name

__all__ = [
    "Place",
    "UnknownPlace",
    "resolve_place",
    "geocode_site",
    "country_name",
    "country_code",
    "us_state_name",
]

PlaceKind = Literal["zip", "city", "country", "latlon"]

MAX_QUERY_LENGTH = 200
_US_ZIP = re.compile(r"(\d{5})(?:-\d{4})?")
_LAT_LON = re.compile(r"([-+]?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)")


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved place: display name, coordinates, what kind of thing it is, and its country."""

    name: str
    lat: float
    lon: float
    kind: PlaceKind
    country_code: str | None  # ISO-2; None for bare coordinates
    country: str | None  # as ClinicalTrials.gov spells it, e.g. "Korea, Republic of"
    state: str | None = None  # US state name, for US places


class UnknownPlace(LookupError):
    """No gazetteer entry matches the text; `suggestions` holds close names the user may have meant."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown place {query!r}{hint}")


class _Region(NamedTuple):
    """Where to look for a city: a country, optionally narrowed to a US state or a province."""

    country_code: str
    admin1: str | None
    label: str  # for display names: the state/province name, or None-like empty for countries


def resolve_place(text: str) -> Place:
    """Coordinates for a US ZIP, "city[, state/province][, country]", a country, or "lat,lon"; raises UnknownPlace."""
    if not isinstance(text, str):
        raise ValueError(f"a place must be text, not {type(text).__name__}")
    query = " ".join(text.split())
    if not query:
        raise ValueError("empty place: type a ZIP code, a city, a country or 'lat,lon'")
    if len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"place text longer than {MAX_QUERY_LENGTH} characters")
    if match := _LAT_LON.fullmatch(query):
        return _lat_lon_place(float(match[1]), float(match[2]))
    if match := _US_ZIP.fullmatch(query):
        place = _zip_place(match[1])
        if place is None:
            raise UnknownPlace(query, [])
        return place
    if code := country_code(query):
        place = _country_place(code)
        if place is None:
            raise UnknownPlace(query, [])
        return place
    for city, qualifier in _city_and_qualifier(query):
        regions = _regions(qualifier) if qualifier else [None]
        if not regions:
            continue
        for region in regions:
            place = _city_place(city, region)
            if place is not None:
                return place
    raise UnknownPlace(query, _suggestions(query))


def geocode_site(
    city: str | None, state: str | None, zip: str | None, country: str | None
) -> Place | None:
    """Approximate coordinates of a study site without a geoPoint: US ZIP centroid, else city; None if unknown."""
    try:
        return _geocode_site(city, state, zip, country)
    except Exception:  # a site without coordinates must never stop an ingest
        return None


def _geocode_site(city: str | None, state: str | None, zip: str | None, country: str | None) -> Place | None:
    code = country_code(country) if country else None
    if code in HISTORIC_COUNTRIES:
        code = HISTORIC_COUNTRIES[code][1]
    state_code = us_state_code(state) if code in (None, "US") else None
    if code is None and state_code:
        code = "US"
    zip_digits = _US_ZIP.match(zip.strip()) if isinstance(zip, str) else None
    zip_place = None
    if zip_digits and (code == "US" or code in US_TERRITORIES):
        zip_place = _zip_place(zip_digits[1])
        # a ZIP contradicting the state is more likely a typo than the state is
        if zip_place is not None and (state_code is None or zip_place.state == us_state_name(state_code)):
            return zip_place
    if isinstance(city, str) and city.strip():
        for region in _site_regions(code, state, state_code):
            place = _city_place(city, region)
            if place is not None:
                return place
        if code == "US" and state_code and (town := us_town_point(city, state_code)):
            return _us_place(town.city, state_code, town.lat, town.lon, "city")
    return zip_place


def _site_regions(code: str | None, state: str | None, state_code: str | None) -> list[_Region | None]:
    if code is None:
        return [None]
    regions: list[_Region | None] = []
    if state_code:
        regions.append(_Region("US", state_code, us_state_name(state_code) or ""))
    regions += [_Region(p.country_code, p.admin1, p.name) for p in provinces_named(state) if p.country_code == code]
    regions.append(_Region(code, None, ""))
    return regions


def _city_and_qualifier(query: str) -> list[tuple[str, str | None]]:
    """Ways to read the text as a city plus an optional state/country qualifier, likeliest first."""
    parts = [part.strip() for part in query.split(",") if part.strip()]
    if len(parts) > 1:
        return [(parts[0], ", ".join(parts[1:]))]
    # without commas: "Rochester MN", "Paris France", "Saint Louis Missouri" - the whole text first, as a city
    words = query.split()
    readings: list[tuple[str, str | None]] = [(query, None)]
    for qualifier_words in (1, 2, 3):
        if len(words) > qualifier_words:
            readings.append((" ".join(words[:-qualifier_words]), " ".join(words[-qualifier_words:])))
    return readings


def _regions(qualifier: str) -> list[_Region]:
    """Regions a qualifier may name ("MN", "New York", "Canada", "BC", "MN, USA"), likeliest first."""
    whole = _regions_named(qualifier)
    if whole:
        return whole
    pieces = [piece.strip() for piece in qualifier.split(",") if piece.strip()]
    if len(pieces) == 2:  # "state, country"
        code = country_code(pieces[1])
        return [region for region in _regions_named(pieces[0]) if region.country_code == code]
    return []


def _regions_named(text: str) -> list[_Region]:
    code = country_code(text)
    state = us_state_code(text)
    looks_like_abbreviation = len(text.replace(".", "").strip()) <= 3
    country_regions = [_Region(code, None, "")] if code else []
    state_regions = [_Region("US", state, us_state_name(state) or "")] if state else []
    province_regions = [_Region(p.country_code, p.admin1, p.name) for p in provinces_named(text)]
    if looks_like_abbreviation:  # "CA" is California before Canada, "WA" Washington before Western Australia
        return state_regions + province_regions + country_regions
    return country_regions + state_regions + province_regions


def _city_place(city_name: str, region: _Region | None) -> Place | None:
    matches = find_cities(
        city_name,
        region.country_code if region else None,
        region.admin1 if region else None,
    )
    city = best_city(matches)
    return _place_of_city(city) if city else None


def _place_of_city(city: City) -> Place:
    if city.country_code == "US":
        return _us_place(city.name, city.admin1, city.lat, city.lon, "city")
    country = country_name_for_code(city.country_code)
    province = next(
        (p.name for p in PROVINCES if (p.country_code, p.admin1) == (city.country_code, city.admin1)), None
    )
    name = ", ".join(part for part in (city.name, province, country) if part)
    return Place(name, city.lat, city.lon, "city", city.country_code, country)


def _us_place(city: str, state_code: str, lat: float, lon: float, kind: PlaceKind) -> Place:
    state = us_state_name(state_code)
    name = ", ".join(part for part in (city, state or state_code, "United States") if part)
    return Place(name, lat, lon, kind, "US", "United States", state)


def _zip_place(zip5: str) -> Place | None:
    point = zip_point(zip5)
    if point is None:
        return None
    if point.state in US_TERRITORIES:  # ClinicalTrials.gov lists Puerto Rico etc. as countries
        country = country_name_for_code(point.state)
        return Place(f"{point.city} {zip5}, {country}", point.lat, point.lon, "zip", point.state, country)
    place = _us_place(f"{point.city.title()} {zip5}", point.state, point.lat, point.lon, "zip")
    return place


def _country_place(code: str) -> Place | None:
    name = country_name_for_code(code)
    if code in HISTORIC_COUNTRIES:
        code = HISTORIC_COUNTRIES[code][1]
    capital = geonames_countries().get(code, {}).get("capital", "").strip()
    city = best_city(find_cities(capital, code)) if capital else None
    city = city or largest_city(code)
    if city is None:  # uninhabited territories have no city to stand for them
        return None
    return Place(name or code, city.lat, city.lon, "country", code, name)


def _lat_lon_place(lat: float, lon: float) -> Place:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"coordinates out of range: latitude {lat} must be within ±90, longitude {lon} within ±180")
    return Place(f"{lat:.5g}, {lon:.5g}", lat, lon, "latlon", None, None)


def _suggestions(query: str, limit: int = 5) -> list[str]:
    """Close city, state and country names, written so that resolve_place accepts them back."""
    city_text, _, qualifier = query.partition(",")
    key = fold_name(city_text)
    if not key:
        return []
    suggestions: list[str] = []
    main_names = city_index().main_names
    for close in _close(key, main_names, limit):
        city = main_names[close]
        place = _place_of_city(city)
        region = place.state if city.country_code == "US" else place.country
        suggestions.append(f"{city.name}, {region}")
    regions = {fold_name(name): name for name in all_country_names() + all_us_state_names()}
    suggestions += [regions[close] for close in _close(key, regions, limit)]
    if qualifier.strip():
        qualifier_key = fold_name(qualifier)
        suggestions += [f"{city_text.strip()}, {regions[close]}" for close in _close(qualifier_key, regions, 3)]
    return list(dict.fromkeys(suggestions))[:limit]


def _close(key: str, names: dict[str, object], limit: int) -> list[str]:
    close = difflib.get_close_matches(key, names, n=limit, cutoff=0.8)
    return close or difflib.get_close_matches(key, names, n=limit, cutoff=0.6)
