"""One searcher over the index's shards: each call runs on every shard side by side, and the answers are merged.

tantivy releases the GIL while it searches, so the shards of one query run on separate cores. Hits are merged
exactly as one index would order them: by score, or by the fast-field value a search is ordered by (the sort keys
are unique, see ordering.py); totals and facet buckets add up.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import tantivy
from tantivy import Order, Query

T = TypeVar("T")
# One query for every shard, or a list with one query per shard (a distance filter names each shard's own studies).
ShardQuery = Query | list[Query]

# Each query needs a thread per shard beyond the first (which runs in the caller's thread).
_POOL = ThreadPoolExecutor(max_workers=max(4, 2 * (os.cpu_count() or 2)), thread_name_prefix="shard")


@dataclass(frozen=True)
class ShardAddress:
    """A document's place: which shard, and its address inside that shard's searcher."""

    shard: int
    address: tantivy.DocAddress


@dataclass
class Found:
    """Hits (value, address) in order, and the number of matching documents (when counted)."""

    hits: list[tuple[Any, ShardAddress]]
    count: int


class ShardedSearcher:
    """The subset of tantivy.Searcher that search uses, answered over every shard at once."""

    def __init__(self, searchers: list[tantivy.Searcher]):
        self._searchers = searchers

    @property
    def num_docs(self) -> int:
        """Documents in all shards."""
        return sum(searcher.num_docs for searcher in self._searchers)

    def search(self, query: ShardQuery, limit: int = 10, count: bool = True, order_by_field: str | None = None,
               offset: int = 0, order: Order = Order.Desc, weight_by_field: str | None = None) -> Found:
        """Like tantivy's Searcher.search: the hits from offset to offset + limit over all shards, in order."""
        wanted = offset + limit
        options: dict[str, Any] = {"limit": max(wanted, 1), "count": count}
        if order_by_field is not None:
            options |= {"order_by_field": order_by_field, "order": order}
        if weight_by_field is not None:
            options["weight_by_field"] = weight_by_field
        results = self._each(query, lambda searcher, shard_query: searcher.search(shard_query, **options))
        per_shard = [[(value, ShardAddress(shard, address)) for value, address in result.hits]
                     for shard, result in enumerate(results)]
        descending = order_by_field is None or order == Order.Desc
        merged = list(heapq.merge(*per_shard, key=lambda hit: hit[0], reverse=descending))
        return Found(merged[offset:wanted], sum(result.count for result in results) if count else 0)

    def fast_field_values(self, field_name: str, addresses: list[ShardAddress]) -> list[Any]:
        """The values of a fast field for documents of any shards, in the order given."""
        values: list[Any] = [None] * len(addresses)
        positions: list[list[int]] = [[] for _ in self._searchers]
        for position, address in enumerate(addresses):
            positions[address.shard].append(position)
        for searcher, wanted in zip(self._searchers, positions):
            if wanted:
                found = searcher.fast_field_values(field_name, [addresses[i].address for i in wanted])
                for position, value in zip(wanted, found):
                    values[position] = value
        return values

    def doc(self, address: ShardAddress) -> tantivy.Document:
        """The stored document at an address."""
        return self._searchers[address.shard].doc(address.address)

    def aggregate(self, query: ShardQuery, spec: dict) -> dict:
        """Terms aggregations, optionally inside filter aggregations (the kinds search asks for), over every shard:
        bucket and document counts added up (buckets in no particular order: the caller orders them)."""
        results = self._each(query, lambda searcher, shard_query: searcher.aggregate(shard_query, spec))
        return _merged(spec, results)

    def _each(self, query: ShardQuery, call: Callable[[tantivy.Searcher, Query], T]) -> list[T]:
        """call on every shard's searcher with its query: all but the first on pool threads, the first here."""
        queries = query if isinstance(query, list) else [query] * len(self._searchers)
        if len(queries) != len(self._searchers):
            raise ValueError(f"{len(queries)} queries for {len(self._searchers)} shards")
        if len(self._searchers) == 1:
            return [call(self._searchers[0], queries[0])]
        futures = [_POOL.submit(call, searcher, shard_query)
                   for searcher, shard_query in zip(self._searchers[1:], queries[1:])]
        first = call(self._searchers[0], queries[0])
        return [first, *(future.result() for future in futures)]


def _merged(spec: dict, results: list[dict]) -> dict:
    """The shards' aggregation results added up, following the spec's nesting."""
    merged: dict[str, dict] = {}
    for name, request in spec.items():
        parts = [result.get(name, {}) for result in results]
        if "filter" in request:
            merged[name] = {"doc_count": sum(int(part.get("doc_count", 0)) for part in parts),
                            **_merged(request.get("aggs", {}), parts)}
            continue
        counts: dict[Any, int] = {}
        for part in parts:
            for bucket in part.get("buckets", []):
                counts[bucket["key"]] = counts.get(bucket["key"], 0) + int(bucket["doc_count"])
        merged[name] = {"buckets": [{"key": key, "doc_count": value} for key, value in counts.items()]}
    return merged
