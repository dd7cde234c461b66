"""The search service: SearchEngine and the request/result types every entry point uses."""

from trialfinder.search.engine import SearchEngine, nct_ids_only
from trialfinder.search.types import (
    FACETS,
    SORT_KEYS,
    STATUS_GROUPS,
    DateRange,
    Hit,
    Near,
    SearchRequest,
    SearchResult,
    SiteHit,
    SortKey,
)
from trialfinder.search.vocab import UnknownValue, normalize, normalize_all

__all__ = ["SearchEngine", "SearchRequest", "SearchResult", "Hit", "SiteHit", "Near", "DateRange", "SortKey",
           "STATUS_GROUPS", "SORT_KEYS", "FACETS", "UnknownValue", "normalize", "normalize_all", "nct_ids_only"]
