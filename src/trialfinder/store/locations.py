"""Read-only queries for browsing trials by location: countries, their states, their cities, a city's studies;
and the pages of the sitemap (every place, every study with its last update).

Names are returned exactly as the registry spells them; callers that merge spellings (by URL slug) pass every
spelling back in. A missing state is None (an empty string in a record counts as missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from trialfinder.store.database import Store
from trialfinder.store.schema import sites, studies


@dataclass(frozen=True)
class NameCount:
    """A place name as spelt in the registry and how many distinct studies have a site there."""

    name: str | None
    studies: int


@dataclass(frozen=True)
class CitySite:
    """One site of a study in the city being browsed."""

    facility: str | None
    status: str | None


@dataclass(frozen=True)
class CityStudy:
    """A study with at least one site in the city, and those sites."""

    nct_id: str
    title: str | None
    overall_status: str | None
    phases: list[str]
    study_type: str | None
    last_update: str | None
    sites: list[CitySite] = field(default_factory=list)


@dataclass(frozen=True)
class CityStudies:
    """A page of a city's studies, the total, and the count of the city's studies by overall status."""

    total: int
    studies: list[CityStudy]
    by_status: dict[str, int]


def _state_filter(states: Sequence[str | None]):
    named = [s for s in states if s]
    conditions = [sites.c.state.in_(named)] if named else []
    if any(not s for s in states):
        conditions.append(sites.c.state.is_(None))
        conditions.append(sites.c.state == "")
    return sa.or_(*conditions) if conditions else sa.false()


def _counts(store: Store, column, where) -> list[NameCount]:
    query = (
        sa.select(column.label("name"), sa.func.count(sa.distinct(sites.c.nct_id)).label("n"))
        .where(where)
        .group_by(column)
    )
    with store.engine.connect() as conn:
        return [NameCount(row.name if row.name != "" else None, row.n) for row in conn.execute(query)]


def country_counts(store: Store) -> list[NameCount]:
    """Every country with sites, and its number of distinct studies."""
    return _counts(store, sites.c.country, sites.c.country.is_not(None) & (sites.c.country != ""))


def state_counts(store: Store, countries: Sequence[str]) -> list[NameCount]:
    """The states/regions of the given country spellings (None for sites without one), with study counts."""
    return _counts(store, sites.c.state, sites.c.country.in_(list(countries)))


def city_counts(store: Store, countries: Sequence[str], states: Sequence[str | None]) -> list[NameCount]:
    """The cities of the given states (None: sites without a state) of a country, with study counts."""
    where = sites.c.country.in_(list(countries)) & _state_filter(states) & sites.c.city.is_not(None) & (sites.c.city != "")
    return _counts(store, sites.c.city, where)


def studies_in_city(
    store: Store,
    countries: Sequence[str],
    states: Sequence[str | None],
    cities: Sequence[str],
    statuses: Sequence[str] = (),
    offset: int = 0,
    limit: int = 50,
) -> CityStudies:
    """Studies with a site in the city, most recently updated first, optionally limited to overall statuses."""
    in_city = sites.c.country.in_(list(countries)) & _state_filter(states) & sites.c.city.in_(list(cities))
    city_ids = sa.select(sites.c.nct_id).where(in_city).distinct().subquery()
    joined = studies.join(city_ids, city_ids.c.nct_id == studies.c.nct_id)
    status_filter = studies.c.overall_status.in_(list(statuses)) if statuses else sa.true()
    with store.engine.connect() as conn:
        by_status = {
            (row.overall_status or "UNKNOWN"): row.n
            for row in conn.execute(
                sa.select(studies.c.overall_status, sa.func.count().label("n")).select_from(joined)
                .group_by(studies.c.overall_status)
            )
        }
        total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(status_filter)).scalar_one()
        rows = conn.execute(
            sa.select(studies.c.nct_id, studies.c.brief_title, studies.c.overall_status, studies.c.phases,
                      studies.c.study_type, studies.c.last_update)
            .select_from(joined).where(status_filter)
            .order_by(studies.c.last_update.desc(), studies.c.nct_id)
            .offset(offset).limit(limit)
        ).all()
        ids = [row.nct_id for row in rows]
        site_rows = conn.execute(
            sa.select(sites.c.nct_id, sites.c.facility, sites.c.status)
            .where(in_city & sites.c.nct_id.in_(ids)).order_by(sites.c.nct_id, sites.c.position)
        ).all() if ids else []
    sites_by_study: dict[str, list[CitySite]] = {}
    for site in site_rows:
        sites_by_study.setdefault(site.nct_id, []).append(CitySite(site.facility, site.status))
    found = [
        CityStudy(row.nct_id, row.brief_title, row.overall_status, (row.phases or "").split("|") if row.phases else [],
                  row.study_type, row.last_update or None, sites_by_study.get(row.nct_id, []))
        for row in rows
    ]
    return CityStudies(total=total, studies=found, by_status=by_status)


MAP_COLUMNS = ("nct_id", "position", "facility", "city", "state", "country", "status", "lat", "lon", "approximate")


def sites_of_studies(
    store: Store, nct_ids: Sequence[str], box: tuple[float, float, float, float] | None = None,
    per_study: int | None = None,
) -> dict[str, list[dict]]:
    """Sites with coordinates of several studies, keyed by NCT id, in record order (one query, for result maps).

    box (min_lat, max_lat, min_lon, max_lon) keeps only the sites inside it, so a search near a place does not
    fetch the thousand far-away sites of a large trial; per_study keeps only each study's first sites.
    """
    if not nct_ids:
        return {}
    columns = [sites.c[name] for name in MAP_COLUMNS]
    where = sites.c.nct_id.in_(list(nct_ids)) & sites.c.lat.is_not(None) & sites.c.lon.is_not(None)
    if box is not None:
        min_lat, max_lat, min_lon, max_lon = box
        where &= sites.c.lat.between(min_lat, max_lat) & sites.c.lon.between(min_lon, max_lon)
    if per_study is None:
        query = sa.select(*columns).where(where).order_by(sites.c.nct_id, sites.c.position)
    else:
        rank = sa.func.row_number().over(partition_by=sites.c.nct_id, order_by=sites.c.position).label("rank")
        ranked = sa.select(*columns, rank).where(where).subquery()
        query = (sa.select(*(ranked.c[name] for name in MAP_COLUMNS)).where(ranked.c.rank <= per_study)
                 .order_by(ranked.c.nct_id, ranked.c.position))
    grouped: dict[str, list[dict]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            grouped.setdefault(row.nct_id, []).append(dict(row._mapping))
    return grouped


def brief_titles(store: Store, nct_ids: Sequence[str]) -> dict[str, str]:
    """NCT id -> brief title of these studies (those in the store)."""
    if not nct_ids:
        return {}
    query = sa.select(studies.c.nct_id, studies.c.brief_title).where(studies.c.nct_id.in_(list(nct_ids)))
    with store.engine.connect() as conn:
        return {row.nct_id: row.brief_title or row.nct_id for row in conn.execute(query)}


def all_places(store: Store) -> list[tuple[str, str | None, str | None]]:
    """Every distinct (country, state, city) of the sites, for sitemaps; a missing state or city is None."""
    query = (
        sa.select(sites.c.country, sites.c.state, sites.c.city)
        .where(sites.c.country.is_not(None) & (sites.c.country != ""))
        .distinct()
    )
    with store.engine.connect() as conn:
        return [(row.country, row.state or None, row.city or None) for row in conn.execute(query)]


def study_updates(store: Store, offset: int, limit: int) -> list[tuple[str, str | None]]:
    """(NCT id, last update date or None) of `limit` studies from `offset` on, in NCT id order, for one sitemap page.

    Read a page at a time rather than all at once: at registry size, every id with its date would cost each
    server process a hundred megabytes to keep.
    """
    query = (sa.select(studies.c.nct_id, studies.c.last_update).order_by(studies.c.nct_id)
             .offset(offset).limit(limit))
    with store.engine.connect() as conn:
        return [(row.nct_id, row.last_update or None) for row in conn.execute(query)]
