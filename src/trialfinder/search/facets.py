"""Facet counts: for each facet, the results under every filter but its own (see filters.py for why)."""

from __future__ import annotations

import tantivy
from tantivy import Query

from trialfinder.search.filters import FACET_FIELDS, Filters, combine
from trialfinder.search.types import FACETS

MAX_FACET_VALUES = 500


def count_facets(searcher: tantivy.Searcher, parts: list[Query], filters: Filters) -> dict[str, dict[str, int]]:
    """facet -> value -> number of results; one aggregation for all facets without an active filter, plus one per
    facet with an active filter."""
    facets: dict[str, dict[str, int]] = {}
    unfiltered = [name for name in FACETS if name not in filters.by_facet]
    if unfiltered:
        facets.update(_aggregate(searcher, combine(parts, filters.all()), unfiltered))
    for name in FACETS:
        if name in filters.by_facet:
            facets.update(_aggregate(searcher, combine(parts, filters.all(except_facet=name)), [name]))
    return {name: facets.get(name, {}) for name in FACETS}


def _aggregate(searcher: tantivy.Searcher, query: Query, names: list[str]) -> dict[str, dict[str, int]]:
    spec = {name: {"terms": {"field": FACET_FIELDS[name], "size": MAX_FACET_VALUES}} for name in names}
    result = searcher.aggregate(query, spec)
    return {name: {str(bucket["key"]): int(bucket["doc_count"]) for bucket in result.get(name, {}).get("buckets", [])}
            for name in names}
