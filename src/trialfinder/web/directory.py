"""The trials-by-location directory: registry place names merged by URL slug, cached until the store changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trialfinder.store import Store
from trialfinder.store import locations as store_locations
from trialfinder.store.locations import NameCount
from trialfinder.web.slugs import NO_REGION_SLUG, city_slugs, slugify

NO_REGION_NAME = "Region not given"
# How long a cached listing is trusted before the change counter is read again.
RECHECK_SECONDS = 30.0


@dataclass(frozen=True)
class PlaceEntry:
    """A place as the website lists it: its slug, display name, study count, and every registry spelling."""

    slug: str
    name: str
    studies: int
    spellings: tuple[str | None, ...]


def merge_by_slug(counts: list[NameCount], missing_name: str = NO_REGION_NAME,
                  slugs: dict[str | None, str] | None = None) -> list[PlaceEntry]:
    """Group spellings with one slug ("Beijing", "BEIJING"); the commonest spelling names the group.

    slugs maps a spelling to its slug when plain slugify() is not enough (cities: see city_slugs). Counts are
    summed, so a study listing one city under two spellings counts twice: rare, and cheaper than counting
    distinct studies across spellings in SQL (the city page itself counts distinct studies).
    """
    groups: dict[str, list[NameCount]] = {}
    for item in counts:
        slug = slugs[item.name] if slugs is not None and item.name in slugs else slugify(item.name)
        groups.setdefault(slug, []).append(item)
    entries = []
    for slug, items in groups.items():
        best = max(items, key=lambda i: (i.studies, i.name or ""))
        name = best.name if best.name else missing_name
        entries.append(PlaceEntry(slug, name, sum(i.studies for i in items), tuple(i.name for i in items)))
    return sorted(entries, key=lambda e: (e.slug == NO_REGION_SLUG, e.name.casefold()))


class LocationDirectory:
    """Countries, states and cities with study counts, for the location pages and the sitemap."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[tuple, Any] = {}
        self._seq: int | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def _cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            now = time.monotonic()
            if now - self._checked_at > RECHECK_SECONDS:
                seq = self.store.change_counter()
                if seq != self._seq:
                    self._cache.clear()
                    self._seq = seq
                self._checked_at = now
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
        return value

    def countries(self) -> list[PlaceEntry]:
        """Every country with at least one site."""
        return self._cached(("countries",), lambda: merge_by_slug(store_locations.country_counts(self.store)))

    def country(self, slug: str) -> PlaceEntry | None:
        """The country with this slug."""
        return next((c for c in self.countries() if c.slug == slug), None)

    def states(self, country: PlaceEntry) -> list[PlaceEntry]:
        """The states/regions of a country (sites without one are grouped as "Region not given")."""
        return self._cached(("states", country.slug), lambda: merge_by_slug(
            store_locations.state_counts(self.store, [n for n in country.spellings if n])))

    def state(self, country: PlaceEntry, slug: str) -> PlaceEntry | None:
        """The state/region with this slug in a country."""
        return next((s for s in self.states(country) if s.slug == slug), None)

    def cities(self, country: PlaceEntry, state: PlaceEntry) -> list[PlaceEntry]:
        """The cities of a state/region."""
        def compute() -> list[PlaceEntry]:
            counts = store_locations.city_counts(self.store, [n for n in country.spellings if n], state.spellings)
            return merge_by_slug(counts, slugs=city_slugs(item.name for item in counts))

        return self._cached(("cities", country.slug, state.slug), compute)

    def city(self, country: PlaceEntry, state: PlaceEntry, slug: str) -> PlaceEntry | None:
        """The city with this slug in a state/region."""
        return next((c for c in self.cities(country, state) if c.slug == slug), None)

    def all_paths(self) -> list[str]:
        """The path of every country, state and city page, sorted, for the sitemap."""
        def compute() -> list[str]:
            paths: set[str] = {"/locations"}
            cities_by_region: dict[str, set[str]] = {}
            for country, state, city in store_locations.all_places(self.store):
                region = f"/locations/{slugify(country)}/{slugify(state)}"
                paths.add(region.rsplit("/", 1)[0])
                paths.add(region)
                if city:
                    cities_by_region.setdefault(region, set()).add(city)
            for region, cities in cities_by_region.items():
                paths.update(f"{region}/{slug}" for slug in city_slugs(cities).values())
            return sorted(paths)

        return self._cached(("paths",), compute)

    def study_count(self) -> int:
        """How many studies are stored, for the sitemap index."""
        return self._cached(("study_count",), self.store.count)
