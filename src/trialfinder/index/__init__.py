"""The search index adapter: a tantivy index derived from the store, with site arrays and mined synonyms."""

from trialfinder.index.build import IndexBusy, build_index, open_shards, refresh_index, shard_of_codes
from trialfinder.index.layout import IndexMeta, current_generation, read_meta
from trialfinder.index.sites import NearbyStudies, NearSite, SiteArrays
from trialfinder.index.synonyms import SynonymTable

__all__ = ["build_index", "refresh_index", "open_shards", "shard_of_codes", "IndexBusy", "IndexMeta", "current_generation",
           "read_meta", "SiteArrays", "NearbyStudies", "NearSite", "SynonymTable"]
