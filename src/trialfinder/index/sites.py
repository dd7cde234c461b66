"""Site coordinates as compact arrays sorted by latitude, for "studies with a site within R km" queries.

A latitude band found by binary search, a longitude test, then vectorised haversine: 600k studies' sites fit in
a few tens of MB, and a 50-mile search touches only the band around the point.

The nearby studies then become a filter inside tantivy. Naming thousands of studies one by one costs tantivy a term
lookup each (or a scan of every document), so each study is also indexed under the grid cells of its sites
(`geo` field, three cell sizes, recruiting sites once more under their own codes): the filter names the cells that
lie wholly inside the circle, plus, one by one, only the studies whose in-range sites all sit in cells crossed by
the circle's edge. Both halves are exact, so the filter matches exactly the nearby studies.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
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

# Grid cell sizes in degrees, finest first; a cell's code packs (level, recruiting, row, column) above the NCT
# numbers (< 2**27), which share the `geo` field.
CELL_DEGREES = (0.05, 0.25, 1.25)
MAX_COVER_CELLS = 5000  # a covering at one level tests at most this many cells (else the next coarser level)
_LEVEL_SHIFT, _RECRUITING_SHIFT, _ROW_SHIFT = 50, 49, 24
_INSIDE_SLACK_KM = 1e-6  # a cell counts as inside only with this margin, so rounding never admits a farther site
# Places searched lately: paging, ticking a filter or changing the words around one city reuse its site lookup
# (up to 9 ms of CPU around a big city at 600k studies).
NEAR_CACHE_SIZE = 32


def cell_codes(level: int, lats: np.ndarray, lons: np.ndarray, recruiting: bool) -> np.ndarray:
    """The `geo` codes of the cells (at one level of CELL_DEGREES) holding these points."""
    size = CELL_DEGREES[level]
    rows = np.floor((np.asarray(lats) + 90.0) / size).astype(np.uint64)
    columns = np.floor((np.asarray(lons) + 180.0) / size).astype(np.uint64)
    return _pack(level, recruiting, rows, columns)


def _pack(level: int, recruiting: bool, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    high = np.uint64(((level + 1) << _LEVEL_SHIFT) | (int(recruiting) << _RECRUITING_SHIFT))
    return high | (rows << np.uint64(_ROW_SHIFT)) | columns


class NearSite(NamedTuple):
    """The nearest in-range site of one study."""

    distance_km: float
    site_id: int
    lat: float
    lon: float
    approximate: bool


class NearbyStudies:
    """Studies with a site in range, with their nearest site; kept as arrays, so a dense city costs no objects."""

    def __init__(self, numbers: np.ndarray, distances: np.ndarray, rows: np.ndarray, arrays: SiteArrays | None,
                 filter_codes: np.ndarray | None = None):
        self.numbers = numbers  # NCT numbers, ascending
        self.distances = distances
        self._rows = rows
        self._arrays = arrays
        self._distance_of: dict[int, float] | None = None
        # `geo` codes matching exactly these studies: inner cells and edge studies (default: every study by number)
        self.filter_codes = numbers.astype(np.uint64) if filter_codes is None else filter_codes

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
        self._near_cache: OrderedDict[tuple, NearbyStudies] = OrderedDict()
        self._near_lock = threading.Lock()

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
        key = (float(lat), float(lon), float(radius_km), bool(recruiting_only))
        with self._near_lock:
            if key in self._near_cache:
                self._near_cache.move_to_end(key)
                return self._near_cache[key]
        nearby = self._near(*key)
        with self._near_lock:
            self._near_cache[key] = nearby
            while len(self._near_cache) > NEAR_CACHE_SIZE:
                self._near_cache.popitem(last=False)
        return nearby

    def _near(self, lat: float, lon: float, radius_km: float, recruiting_only: bool) -> NearbyStudies:
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
        first = _run_starts(studies)
        codes = self._filter_codes(lat, lon, radius_km, recruiting_only, index, first)
        return NearbyStudies(studies[first], distances[first], index[first], self, codes)

    def _filter_codes(self, lat: float, lon: float, radius_km: float, recruiting_only: bool, index: np.ndarray,
                      first: np.ndarray) -> np.ndarray:
        """`geo` codes matching the studies of the in-range sites (rows index, grouped by study, first marking
        each study's first row): the inner cells of those sites, then the studies with no site in one."""
        numbers = self.columns["nct"][index[first]].astype(np.uint64)
        level = _cover_level(lat, lon, radius_km)
        if level is None or not len(index):
            return numbers
        site_codes = cell_codes(level, self.columns["lat"][index], self.columns["lon"][index], recruiting_only)
        candidates = np.unique(site_codes)  # sorted, as searchsorted below needs
        inner_codes = candidates[_cells_inside(level, candidates, lat, lon, radius_km)]
        if not len(inner_codes):
            return numbers
        position = np.minimum(np.searchsorted(inner_codes, site_codes), len(inner_codes) - 1)
        in_inner_cell = inner_codes[position] == site_codes
        covered = np.logical_or.reduceat(in_inner_cell, np.flatnonzero(first))
        return np.concatenate([inner_codes, numbers[~covered]])

    def geo_cells(self, numbers: list[int] | None = None) -> GeoCells:
        """The `geo` cell codes of every study (or of the studies with these NCT numbers), for indexing."""
        if numbers is None:
            return GeoCells(self.columns)
        wanted = np.isin(self.columns["nct"], np.asarray(numbers, dtype=np.int64))
        return GeoCells({name: column[wanted] for name, column in self.columns.items()})

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


class GeoCells:
    """The grid cells of each study's sites, as sorted arrays: one lookup per indexed study."""

    def __init__(self, columns: dict[str, np.ndarray]):
        parts_nct, parts_code = [], []
        for level in range(len(CELL_DEGREES)):
            parts_nct.append(columns["nct"])
            parts_code.append(cell_codes(level, columns["lat"], columns["lon"], False))
            recruiting = columns["recruiting"]
            parts_nct.append(columns["nct"][recruiting])
            parts_code.append(cell_codes(level, columns["lat"][recruiting], columns["lon"][recruiting], True))
        ncts = np.concatenate(parts_nct) if parts_nct else np.zeros(0, np.int64)
        codes = np.concatenate(parts_code) if parts_code else np.zeros(0, np.uint64)
        order = np.lexsort((codes, ncts))
        ncts, codes = ncts[order], codes[order]
        keep = _run_starts(ncts, codes)
        self._ncts, self._codes = ncts[keep], codes[keep]

    def of(self, nct: int) -> list[int]:
        """The cell codes of one study (by NCT number)."""
        start, stop = np.searchsorted(self._ncts, [nct, nct + 1])
        return self._codes[start:stop].tolist()


def _run_starts(*keys: np.ndarray) -> np.ndarray:
    """Of rows sorted by keys, those that start a run of equal keys (the first row of each distinct value)."""
    starts = np.ones(len(keys[0]), dtype=bool)
    if len(starts) > 1:
        starts[1:] = np.logical_or.reduce([key[1:] != key[:-1] for key in keys])
    return starts


def _cover_level(lat: float, lon: float, radius_km: float) -> int | None:
    """The finest cell level whose cells in the circle's bounding box number at most MAX_COVER_CELLS."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_km)
    for level, size in enumerate(CELL_DEGREES):
        cells = ((max_lat - min_lat) / size + 1) * ((max_lon - min_lon) / size + 1)
        if cells <= MAX_COVER_CELLS:
            return level
    return None


def _cells_inside(level: int, codes: np.ndarray, lat: float, lon: float, radius_km: float) -> np.ndarray:
    """Which cells lie wholly within radius_km of (lat, lon).

    The distance from a point to a latitude/longitude cell is largest at one of its corners (along a parallel or a
    meridian the distance grows towards one end), so testing the four corners is exact.
    """
    size = CELL_DEGREES[level]
    rows = ((codes >> np.uint64(_ROW_SHIFT)) & np.uint64((1 << (_RECRUITING_SHIFT - _ROW_SHIFT)) - 1)).astype(float)
    columns = (codes & np.uint64((1 << _ROW_SHIFT) - 1)).astype(float)
    south, west = rows * size - 90.0, columns * size - 180.0
    farthest = np.zeros(len(codes))
    for corner_lat in (south, south + size):
        for corner_lon in (west, west + size):
            farthest = np.maximum(farthest, haversine_km_array(lat, lon, corner_lat, corner_lon))
    return farthest <= radius_km - _INSIDE_SLACK_KM


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
