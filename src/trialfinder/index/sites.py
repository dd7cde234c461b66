"""Site coordinates as compact arrays sorted by latitude, for "studies with a site within R km" queries.

A latitude band found by binary search, a longitude test, then vectorised haversine: 600k studies' sites fit in
a few tens of MB, and a 50-mile search touches only the band around the point.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import sqlalchemy as sa

from trialfinder.geo import bounding_box
from trialfinder.geo.distance import EARTH_RADIUS_KM
from trialfinder.index.documents import nct_number
from trialfinder.store import Store
from trialfinder.store.schema import sites as sites_table

SITES_FILE = "sites.npz"
RECRUITING_SITE_STATUS = "RECRUITING"
_COLUMNS = ("lat", "lon", "nct", "site_id", "recruiting", "approximate")


class NearSite(NamedTuple):
    """The nearest in-range site of one study."""

    distance_km: float
    site_id: int
    lat: float
    lon: float
    approximate: bool


class NearbyStudies:
    """Studies with a site in range, with their nearest site; kept as arrays, so a dense city costs no objects."""

    def __init__(self, numbers: np.ndarray, distances: np.ndarray, rows: np.ndarray, arrays: SiteArrays | None):
        self.numbers = numbers  # NCT numbers, ascending
        self.distances = distances
        self._rows = rows
        self._arrays = arrays
        self._distance_of: dict[int, float] | None = None

    def __len__(self) -> int:
        return len(self.numbers)

    def __contains__(self, nct: int) -> bool:
        return nct in self.distance_of

    @property
    def distance_of(self) -> dict[int, float]:
        """NCT number -> distance in km of its nearest in-range site."""
        if self._distance_of is None:
            self._distance_of = dict(zip(self.numbers.tolist(), self.distances.tolist()))
        return self._distance_of

    def nearest_site(self, nct: int) -> NearSite | None:
        """The nearest in-range site of one study."""
        position = int(np.searchsorted(self.numbers, nct))
        if position >= len(self.numbers) or self.numbers[position] != nct or self._arrays is None:
            return None
        row = int(self._rows[position])
        columns = self._arrays.columns
        return NearSite(float(self.distances[position]), int(columns["site_id"][row]), float(columns["lat"][row]),
                        float(columns["lon"][row]), bool(columns["approximate"][row]))


class SiteArrays:
    """Every geolocated site: latitude, longitude, NCT number, store site id, recruiting and approximate flags."""

    def __init__(self, columns: dict[str, np.ndarray]):
        order = np.argsort(columns["lat"], kind="stable")
        self.columns = {name: np.ascontiguousarray(columns[name][order]) for name in _COLUMNS}

    @classmethod
    def empty(cls) -> SiteArrays:
        return cls(_empty_columns())

    @classmethod
    def from_rows(cls, rows: Iterable[tuple]) -> SiteArrays:
        """Arrays from (site_id, nct_id, lat, lon, status, approximate) rows."""
        columns = _columns_from_rows(rows)
        return cls(columns)

    def __len__(self) -> int:
        return len(self.columns["lat"])

    def replace_studies(self, nct_ids: Iterable[str], rows: Iterable[tuple]) -> SiteArrays:
        """New arrays with every site of these studies replaced by rows (their current sites)."""
        numbers = np.array([nct_number(nct_id) for nct_id in nct_ids], dtype=np.int64)
        keep = ~np.isin(self.columns["nct"], numbers)
        fresh = _columns_from_rows(rows)
        return SiteArrays({name: np.concatenate([self.columns[name][keep], fresh[name]]) for name in _COLUMNS})

    def near(self, lat: float, lon: float, radius_km: float, recruiting_only: bool = False) -> NearbyStudies:
        """The nearest in-range site of every study with at least one site within radius_km of (lat, lon)."""
        min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_km)
        lats = self.columns["lat"]
        start = int(np.searchsorted(lats, min_lat, side="left"))
        stop = int(np.searchsorted(lats, max_lat, side="right"))
        band = slice(start, stop)
        band_lat, band_lon = lats[band], self.columns["lon"][band]
        candidates = (band_lon >= min_lon) & (band_lon <= max_lon)
        if recruiting_only:
            candidates &= self.columns["recruiting"][band]
        index = np.nonzero(candidates)[0] + start
        if index.size == 0:
            return NearbyStudies(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), self)
        distances = haversine_km_array(lat, lon, lats[index], self.columns["lon"][index])
        inside = distances <= radius_km
        index, distances = index[inside], distances[inside]
        studies = self.columns["nct"][index]
        # nearest site per study: sort by (study, distance), keep the first row of each study
        order = np.lexsort((distances, studies))
        studies, distances, index = studies[order], distances[order], index[order]
        first = np.ones(len(studies), dtype=bool)
        first[1:] = studies[1:] != studies[:-1]
        return NearbyStudies(studies[first], distances[first], index[first], self)

    def save(self, directory: Path) -> None:
        """Write the arrays into an index directory (atomically: readers see the old or the new file)."""
        temporary = directory / (SITES_FILE + ".tmp")
        with open(temporary, "wb") as handle:
            np.savez(handle, **self.columns)
        os.replace(temporary, directory / SITES_FILE)

    @classmethod
    def load(cls, directory: Path) -> SiteArrays:
        """Read the arrays of an index directory (empty when there are none)."""
        path = directory / SITES_FILE
        if not path.exists():
            return cls.empty()
        with np.load(path) as data:
            return cls({name: data[name] for name in _COLUMNS})


def haversine_km_array(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances in km from one point to many (the same formula as geo.haversine_km)."""
    phi1, phi2 = np.radians(lat), np.radians(lats)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = np.radians(lons - lon) / 2
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))


def site_rows(store: Store, nct_ids: list[str] | None = None, batch: int = 500) -> Iterable[tuple]:
    """(site_id, nct_id, lat, lon, status, approximate) of geolocated sites: all, or those of some studies."""
    columns = (sites_table.c.id, sites_table.c.nct_id, sites_table.c.lat, sites_table.c.lon, sites_table.c.status,
               sites_table.c.approximate)
    base = sa.select(*columns).where(sites_table.c.lat.is_not(None), sites_table.c.lon.is_not(None))
    if nct_ids is None:
        with store.engine.connect() as conn:
            yield from conn.execute(base.execution_options(yield_per=20_000))
        return
    for offset in range(0, len(nct_ids), batch):
        chunk = nct_ids[offset:offset + batch]
        with store.engine.connect() as conn:
            yield from conn.execute(base.where(sites_table.c.nct_id.in_(chunk)))


def _empty_columns() -> dict[str, np.ndarray]:
    return {"lat": np.zeros(0), "lon": np.zeros(0), "nct": np.zeros(0, np.int64), "site_id": np.zeros(0, np.int64),
            "recruiting": np.zeros(0, bool), "approximate": np.zeros(0, bool)}


def _columns_from_rows(rows: Iterable[tuple]) -> dict[str, np.ndarray]:
    site_ids, ncts, lats, lons, recruiting, approximate = [], [], [], [], [], []
    for site_id, nct_id, lat, lon, status, approx in rows:
        site_ids.append(site_id)
        ncts.append(nct_number(nct_id))
        lats.append(lat)
        lons.append(lon)
        recruiting.append(status == RECRUITING_SITE_STATUS)
        approximate.append(bool(approx))
    if not site_ids:
        return _empty_columns()
    return {"lat": np.array(lats, dtype=np.float64), "lon": np.array(lons, dtype=np.float64),
            "nct": np.array(ncts, dtype=np.int64), "site_id": np.array(site_ids, dtype=np.int64),
            "recruiting": np.array(recruiting, dtype=bool), "approximate": np.array(approximate, dtype=bool)}
