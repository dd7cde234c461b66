"""The Place value and its constructors from gazetteer entries (cities, ZIP codes, countries, states)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trialfinder.geo.cities import City, best_city, find_cities, largest_city, zip_point
from trialfinder.geo.countries import (
    HISTORIC_COUNTRIES,
    PROVINCES,
    US_TERRITORIES,
    country_name_for_code,
    geonames_countries,
    us_state_name,
)

PlaceKind = Literal["zip", "city", "state", "country", "latlon"]


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved place: display name, coordinates, what kind of thing it is, and its country.

    For kind "country" and "state" the point is the capital or biggest city; filter such searches by
    country / state rather than by a radius around it.
    """

    name: str
    lat: float
    lon: float
    kind: PlaceKind
    country_code: str | None  # ISO-2; None for bare coordinates
    country: str | None  # as ClinicalTrials.gov spells it, e.g. "Korea, Republic of"
    state: str | None = None  # full US state name, for US places


class UnknownPlace(LookupError):
    """No gazetteer entry matches the text; `suggestions` holds close names the user may have meant."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown place {query!r}{hint}")


def city_place(city: City) -> Place:
    """The Place of a GeoNames city, named "City, State/Province, Country"."""
    if city.country_code == "US":
        return us_place(city.name, city.admin1, city.lat, city.lon, "city")
    country = country_name_for_code(city.country_code)
    province = next(
        (p.name for p in PROVINCES if (p.country_code, p.admin1) == (city.country_code, city.admin1)), None
    )
    name = ", ".join(part for part in (city.name, province, country) if part)
    return Place(name, city.lat, city.lon, "city", city.country_code, country)


def us_place(label: str, state_code: str, lat: float, lon: float, kind: PlaceKind) -> Place:
    """A Place in the United States, named "label, State, United States"."""
    state = us_state_name(state_code)
    name = ", ".join(part for part in (label, state or state_code, "United States") if part)
    return Place(name, lat, lon, kind, "US", "United States", state)


def zip_place(zip5: str, *, bulk: bool = False) -> Place | None:
    """The centroid of a US ZIP code; None when unknown (bulk: for many lookups, see zip_point)."""
    point = zip_point(zip5, bulk=bulk)
    if point is None:
        return None
    if point.state in US_TERRITORIES:  # ClinicalTrials.gov lists Puerto Rico etc. as countries
        country = country_name_for_code(point.state)
        return Place(f"{point.city} {zip5}, {country}", point.lat, point.lon, "zip", point.state, country)
    return us_place(f"{point.city} {zip5}", point.state, point.lat, point.lon, "zip")


def country_place(code: str) -> Place | None:
    """A country, placed at its capital (else its biggest city); None for countries without any city."""
    name = country_name_for_code(code)
    if code in HISTORIC_COUNTRIES:
        code = HISTORIC_COUNTRIES[code][1]
    capital = geonames_countries().get(code, {}).get("capital", "").strip()
    city = best_city(find_cities(capital, code, small_towns=False)) if capital else None
    city = city or largest_city(code)
    if city is None:
        return None
    return Place(name or code, city.lat, city.lon, "country", code, name)


def state_place(state_code: str) -> Place | None:
    """A US state, placed at its biggest city: a point users recognise, unlike a rural centroid."""
    state = us_state_name(state_code)
    city = largest_city("US", state_code)
    if state is None or city is None:
        return None
    return Place(f"{state}, United States", city.lat, city.lon, "state", "US", "United States", state)


def lat_lon_place(lat: float, lon: float) -> Place:
    """A bare coordinate pair; ValueError when out of range."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(
            f"coordinates out of range: latitude {lat} must be within ±90, longitude {lon} within ±180"
        )
    return Place(f"{lat:.5g}, {lon:.5g}", lat, lon, "latlon", None, None)
