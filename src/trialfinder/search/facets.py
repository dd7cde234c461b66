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
    """facet -> value -> number of results for the named facets, in one aggregation pass.

    The pass runs over the results without any facet filter; a filter aggregation per group narrows them again:
    one group for the facets without an active filter (under every facet filter), one for each facet with an
    active filter (under all the others). Counting each group with its own query instead walked the query's
    matches once per group: twice for a recruiting-only search, which is nearly every search the website runs.
    """
    unknown = [name for name in names if name not in FACETS]
    if unknown:
        raise ValueError(f"unknown facets: {', '.join(unknown)}")
    groups: list[tuple[str, list[str]]] = []
    unfiltered = [name for name in names if name not in filters.by_facet]
    if unfiltered:
        groups.append((filters.facet_filter_text(), unfiltered))
    groups += [(filters.facet_filter_text(except_facet=name), [name]) for name in names if name in filters.by_facet]
    spec: dict[str, dict] = {}
    for number, (filter_text, group) in enumerate(groups):
        terms = {field: {"terms": {"field": field, "size": MAX_FACET_VALUES}}
                 for name in group for field in _count_fields(name)}
        if filter_text:
            spec[f"group{number}"] = {"filter": filter_text, "aggs": terms}
        else:
            spec.update(terms)
    result = searcher.aggregate(filters.queries(parts, except_facets=filters.by_facet), spec)
    facets: dict[str, dict[str, int]] = {}
    for number, (filter_text, group) in enumerate(groups):
        facets.update(_facet_counts(result[f"group{number}"] if filter_text else result, group))
    return {name: facets.get(name, {}) for name in names}


def _count_fields(name: str) -> tuple[str, ...]:
    """The index fields whose terms counts add up to a facet's counts (see schema.FACET_COUNT_FIELDS)."""
    if name in VALUE_SET_FACETS:
        return (f"{name}_set",)
    if name == "country":
        return ("country_first", "country_rest")
    return (FACET_FIELDS[name],)


def _facet_counts(result: dict, names: list[str]) -> dict[str, dict[str, int]]:
    """The facets' value counts from the terms aggregations of their count fields."""
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
