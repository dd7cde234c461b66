"""Facet counts: for each facet, the results under every filter but its own (see filters.py for why)."""

from __future__ import annotations

from tantivy import Query

from trialfinder.index.schema import VALUE_SET_FACETS, VALUE_SET_SEPARATOR
from trialfinder.search.filters import FACET_FIELDS, Filters
from trialfinder.search.shards import ShardedSearcher
from trialfinder.search.types import FACETS

MAX_FACET_VALUES = 500


def count_facets(searcher: ShardedSearcher, parts: list[Query], filters: Filters,
                 names: tuple[str, ...] = FACETS) -> dict[str, dict[str, int]]:
    """facet -> value -> number of results for the named facets; one aggregation for those without an active
    filter, plus one per facet with an active filter."""
    unknown = [name for name in names if name not in FACETS]
    if unknown:
        raise ValueError(f"unknown facets: {', '.join(unknown)}")
    facets: dict[str, dict[str, int]] = {}
    unfiltered = [name for name in names if name not in filters.by_facet]
    if unfiltered:
        facets.update(_aggregate(searcher, filters.queries(parts), unfiltered))
    for name in names:
        if name in filters.by_facet:
            facets.update(_aggregate(searcher, filters.queries(parts, name), [name]))
    return {name: facets.get(name, {}) for name in names}


def _count_fields(name: str) -> tuple[str, ...]:
    """The index fields whose terms counts add up to a facet's counts (see schema.FACET_COUNT_FIELDS)."""
    if name in VALUE_SET_FACETS:
        return (f"{name}_set",)
    if name == "country":
        return ("country_first", "country_rest")
    return (FACET_FIELDS[name],)


def _aggregate(searcher: ShardedSearcher, query: list[Query], names: list[str]) -> dict[str, dict[str, int]]:
    spec = {field: {"terms": {"field": field, "size": MAX_FACET_VALUES}}
            for name in names for field in _count_fields(name)}
    result = searcher.aggregate(query, spec)
    facets: dict[str, dict[str, int]] = {}
    for name in names:
        counts: dict[str, int] = {}
        for field in _count_fields(name):
            for bucket in result.get(field, {}).get("buckets", []):
                key = str(bucket["key"])
                for value in key.split(VALUE_SET_SEPARATOR) if name in VALUE_SET_FACETS else (key,):
                    counts[value] = counts.get(value, 0) + int(bucket["doc_count"])
        facets[name] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return facets
