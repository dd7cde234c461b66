"""The distance filter's grid cells: the `geo` codes of a search must match exactly the studies in range."""

from __future__ import annotations

import numpy as np
import pytest

from trialfinder.index.sites import SiteArrays, haversine_km_array


def random_sites(seed: int, count: int, lat: float, lon: float, spread: float) -> SiteArrays:
    rng = np.random.default_rng(seed)
    lats = np.clip(lat + rng.normal(0, spread, count), -89.9, 89.9)
    lons = (lon + rng.normal(0, spread * 1.5, count) + 180.0) % 360.0 - 180.0
    return SiteArrays({"lat": lats, "lon": lons, "nct": rng.integers(1, count // 3, count),
                       "site_id": np.arange(count), "recruiting": rng.random(count) < 0.3,
                       "approximate": np.zeros(count, bool)})


def studies_matched(arrays: SiteArrays, codes: np.ndarray) -> set[int]:
    """What the index would return for these codes: studies whose own number or any site cell is among them."""
    cells = arrays.geo_cells()
    wanted = set(codes.tolist())
    return {nct for nct in set(arrays.columns["nct"].tolist()) if nct in wanted or wanted & set(cells.of(nct))}


@pytest.mark.parametrize(("lat", "lon", "radius_km", "spread"), [
    (42.36, -71.06, 80.47, 0.8),  # Boston, 50 miles: many inner cells
    (42.36, -71.06, 3.0, 0.05),  # smaller than a cell: studies named one by one
    (-33.9, 151.2, 600.0, 4.0),  # a coarser level
    (78.2, 15.6, 150.0, 2.0),  # far north, narrow cells
    (0.5, 179.8, 120.0, 1.0),  # across the antimeridian
])
@pytest.mark.parametrize("recruiting_only", [False, True])
def test_geo_codes_match_exactly_the_studies_in_range(lat, lon, radius_km, spread, recruiting_only):
    arrays = random_sites(7, 6000, lat, lon, spread)
    nearby = arrays.near(lat, lon, radius_km, recruiting_only)
    columns = arrays.columns
    distances = haversine_km_array(lat, lon, columns["lat"], columns["lon"])
    in_range = distances <= radius_km
    if recruiting_only:
        in_range &= columns["recruiting"]
    expected = set(columns["nct"][in_range].tolist())
    assert expected, "the fixture must put some sites in range"
    assert set(nearby.numbers.tolist()) == expected
    assert studies_matched(arrays, nearby.filter_codes) == expected


def test_inner_cells_replace_most_study_numbers():
    arrays = random_sites(3, 20000, 42.36, -71.06, 0.4)
    nearby = arrays.near(42.36, -71.06, 80.47)
    assert len(nearby.filter_codes) < len(nearby) / 2


def test_a_repeated_place_reuses_its_lookup_until_the_sites_change():
    arrays = random_sites(5, 3000, 48.85, 2.35, 0.5)
    first = arrays.near(48.85, 2.35, 50.0)
    assert arrays.near(48.85, 2.35, 50.0) is first
    assert arrays.near(48.85, 2.35, 50.0, recruiting_only=True) is not first
    moved = int(first.numbers[0])
    replaced = arrays.replace_studies([f"NCT{moved:08d}"], [(1, f"NCT{moved:08d}", -33.9, 151.2, "RECRUITING", False)])
    assert moved not in set(replaced.near(48.85, 2.35, 50.0).numbers.tolist())
    assert moved in set(first.numbers.tolist())  # the old arrays still answer for the snapshot that holds them
