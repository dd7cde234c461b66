"""Sorting and paging: every result exactly once across pages, ties always broken by NCT id.

Single-key sorts run inside tantivy on integer keys that pack (value, NCT number), so tantivy's own top-k is
already in the final order. Relevance is sorted by score, fetching past the page end until the score drops, so
studies tied at the page boundary are ordered by NCT id too. Distance and multi-key sorts sort in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from tantivy import Order

from trialfinder.index.documents import MAX_SORT_VALUE, NCT_BITS
from trialfinder.index.sites import NearbyStudies
from trialfinder.search.shards import ShardAddress, ShardedSearcher, ShardQuery
from trialfinder.search.types import SortKey

STATUS_WEIGHT_FIELD = "status_weight"
MAX_TIE_FETCH = 100_000  # beyond this many tied hits, tantivy's own (document) order breaks the tie
MAX_PYTHON_SORT = 200_000  # multi-key sorts of bigger result sets use the first key only
_NCT_MASK = (1 << NCT_BITS) - 1

PACKED_SORT_FIELDS = {"last_updated": "k_last_updated", "start_date": "k_start_date", "enrollment": "k_enrollment",
                      "first_posted": "k_first_posted"}


@dataclass(frozen=True)
class Ranked:
    """One hit in final order: its NCT number, score and address in the searcher."""

    nct: int
    score: float
    address: ShardAddress


def ranked_page(searcher: ShardedSearcher, query: ShardQuery, scored: bool, sort: list[SortKey], offset: int,
                limit: int, nearby: NearbyStudies | None) -> tuple[int, list[Ranked]]:
    """(total, the hits of one page) in the requested order."""
    keys = [key for key in sort if key.key != "distance" or nearby is not None] or [SortKey()]
    primary = keys[0]
    if len(keys) > 1 or primary.key == "distance":
        return _python_sorted(searcher, query, scored, keys, offset, limit, nearby)
    if primary.key == "relevance" and scored:
        return _by_score(searcher, query, offset, limit)
    if primary.key == "nct_id":
        return _by_field(searcher, query, "nct_num", Order.Desc if primary.descending else Order.Asc, offset, limit)
    if primary.key in PACKED_SORT_FIELDS:
        name = PACKED_SORT_FIELDS[primary.key] + ("_desc" if primary.descending else "")
        return _by_field(searcher, query, name, Order.Asc, offset, limit)
    # relevance without words to score: open studies first, then by NCT id
    return _by_field(searcher, query, "k_open_first", Order.Asc, offset, limit)


def _by_field(searcher, query, name: str, order: Order, offset: int, limit: int) -> tuple[int, list[Ranked]]:
    result = searcher.search(query, limit=max(limit, 1), offset=offset, order_by_field=name, order=order)
    hits = result.hits[:limit]
    return result.count, [Ranked(int(value) & _NCT_MASK, 0.0, address) for value, address in hits]


def _by_score(searcher, query, offset: int, limit: int) -> tuple[int, list[Ranked]]:
    need = offset + limit
    fetch = max(need + 20, 50)
    while True:
        result = searcher.search(query, limit=fetch, weight_by_field=STATUS_WEIGHT_FIELD)
        hits = result.hits
        if len(hits) >= result.count or len(hits) < need or need == 0 or fetch >= MAX_TIE_FETCH:
            break
        if hits[-1][0] < hits[need - 1][0]:
            break  # every study tied with the last one on the page is in hand
        fetch = min(fetch * 4, MAX_TIE_FETCH)
    numbers = searcher.fast_field_values("nct_num", [address for _, address in hits]) if hits else []
    ranked = sorted((Ranked(int(nct), float(score), address) for (score, address), nct in zip(hits, numbers)),
                    key=lambda hit: (-hit.score, hit.nct))
    return result.count, ranked[offset:need]


def _python_sorted(searcher, query, scored: bool, keys: list[SortKey], offset: int, limit: int,
                   nearby: NearbyStudies | None) -> tuple[int, list[Ranked]]:
    first = searcher.search(query, limit=1, count=True)
    total = first.count
    if total == 0:
        return 0, []
    if total > MAX_PYTHON_SORT and keys[0].key != "distance":
        return ranked_page(searcher, query, scored, keys[:1], offset, limit, nearby)
    result = (searcher.search(query, limit=total, weight_by_field=STATUS_WEIGHT_FIELD) if scored
              else searcher.search(query, limit=total))
    addresses = [address for _, address in result.hits]
    numbers = searcher.fast_field_values("nct_num", addresses)
    columns = {key.key: searcher.fast_field_values(PACKED_SORT_FIELDS[key.key], addresses)
               for key in keys if key.key in PACKED_SORT_FIELDS}
    rows = []
    for position, ((score, address), nct) in enumerate(zip(result.hits, numbers)):
        sort_key = []
        for key in keys:
            if key.key == "relevance":
                sort_key.append(-float(score) if scored else 0.0)
            elif key.key == "distance":
                sort_key.append(nearby.distance_of.get(nct, float("inf")))
                if scored and len(keys) == 1:
                    sort_key.append(-float(score))  # many sites share a city centroid: the better match first
            elif key.key == "nct_id":
                sort_key.append(-nct if key.descending else nct)
            elif key.key in columns:
                value = columns[key.key][position] >> NCT_BITS
                missing = value >= MAX_SORT_VALUE
                sort_key.append((missing, -value if key.descending else value))
        sort_key.append(nct)
        rows.append((tuple(sort_key), Ranked(int(nct), float(score) if scored else 0.0, address)))
    rows.sort(key=lambda row: row[0])
    return total, [ranked for _, ranked in rows[offset:offset + limit]]
