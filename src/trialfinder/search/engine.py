"""The search service: one SearchEngine behind the website, both JSON APIs, the CLI and matching."""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import orjson
import sqlalchemy as sa
import tantivy

from trialfinder.config import Settings
from trialfinder.index import IndexBusy, SiteArrays, SynonymTable, current_generation, open_shards, read_meta
from trialfinder.index import refresh_index as apply_store_changes
from trialfinder.index.documents import nct_id_of
from trialfinder.index.layout import IndexMeta
from trialfinder.index.sites import NearbyStudies
from trialfinder.model.ids import NCT_ID_RE
from trialfinder.search import query as query_language
from trialfinder.search.compile import Compiled, QueryCompiler
from trialfinder.search.facets import count_facets
from trialfinder.search.filters import request_filters
from trialfinder.search.ordering import Ranked, ranked_page
from trialfinder.search.shards import ShardedSearcher
from trialfinder.search.types import Hit, SearchRequest, SearchResult, SiteHit
from trialfinder.store import Store
from trialfinder.store.schema import sites as sites_table

log = logging.getLogger(__name__)

REFRESH_INTERVAL_SECONDS = 1.0
MAX_LIMIT = 1000
_ONLY_IDS_SEPARATORS = re.compile(r"(?:\bOR\b|[\s,;|])+")

# Request text fields -> the scope their words are searched in.
TEXT_SCOPES = (("query", "all"), ("condition", "condition"), ("intervention", "intervention"), ("title", "title"),
               ("outcome", "outcome"), ("sponsor", "sponsor"), ("lead_sponsor", "lead_sponsor"),
               ("location", "location"), ("advanced", "all"))


@dataclass
class _Snapshot:
    """One opened index generation: what a search reads, swapped whole on refresh."""

    generation: Path
    meta: IndexMeta
    shards: list[tantivy.Index]
    schema: tantivy.Schema
    sites: SiteArrays
    synonyms: SynonymTable


class SearchEngine:
    """Searches the tantivy index derived from the store; refresh() follows rebuilds and store changes."""

    def __init__(self, settings: Settings, store: Store, snapshot: _Snapshot):
        self.settings = settings
        self.store = store
        self._snapshot = snapshot
        self._lock = threading.Lock()
        self._checked_at = time.monotonic()

    @classmethod
    def open(cls, settings: Settings, store: Store) -> SearchEngine:
        """Open the index of settings.index_dir, building or updating it from the store first."""
        try:
            apply_store_changes(settings, store)
        except IndexBusy:
            pass
        generation = current_generation(settings.index_dir)
        if generation is None:
            raise RuntimeError(f"no search index in {settings.index_dir}")
        return cls(settings, store, _open_snapshot(generation))

    @property
    def meta(self) -> IndexMeta:
        """The meta of the index generation being served."""
        return self._snapshot.meta

    def refresh(self, force: bool = False) -> int:
        """Follow a rebuild or applied changes on disk, applying the store's new changes first; changes applied.

        Cheap per request: it looks at most once a second (unless force).
        """
        now = time.monotonic()
        if not force and now - self._checked_at < REFRESH_INTERVAL_SECONDS:
            return 0
        with self._lock:
            self._checked_at = now
            applied = 0
            if self.store.change_counter() > self._snapshot.meta.seq:
                try:
                    applied = apply_store_changes(self.settings, self.store)
                except IndexBusy:
                    log.info("search index busy in another process; serving the current one")
            generation = current_generation(self.settings.index_dir)
            if generation is None:
                return applied
            meta = read_meta(generation)
            served = self._snapshot
            if generation != served.generation:
                self._snapshot = _open_snapshot(generation)
            elif meta is not None and meta.seq != served.meta.seq:
                for shard in served.shards:
                    shard.reload()
                self._snapshot = _Snapshot(generation, meta, served.shards, served.schema, SiteArrays.load(generation),
                                           served.synonyms)
            return applied

    def search(self, request: SearchRequest) -> SearchResult:
        """Hits, total, and (when asked) facet counts for a request."""
        self.refresh()
        snapshot = self._snapshot
        offset = max(0, int(request.offset or 0))
        limit = max(0, min(int(request.limit if request.limit is not None else 10), MAX_LIMIT))
        compiler = QueryCompiler(snapshot.schema, snapshot.synonyms, use_synonyms=request.synonyms)
        ids = list(request.ids)
        texts: list[Compiled] = []
        for name, scope in TEXT_SCOPES:
            text = getattr(request, name) or ""
            if name in ("query", "advanced") and (only_ids := nct_ids_only(text)):
                ids += only_ids
                continue
            compiled = compiler.compile(query_language.parse(text, scope))
            if compiled is not None:
                texts.append(compiled)
        effective = request if ids == list(request.ids) else _with_ids(request, ids)
        nearby = None
        if request.near is not None:
            near = request.near
            nearby = snapshot.sites.near(near.lat, near.lon, near.radius_km, near.recruiting_sites_only)
        filters = request_filters(snapshot.schema, effective, nearby, len(snapshot.shards))
        expanded = list(dict.fromkeys(term for compiled in texts for term in compiled.expanded))
        if filters.matches_nothing:
            return SearchResult(total=0, hits=[], facets={}, offset=offset, limit=limit, expanded_terms=expanded)
        parts = [compiled.query for compiled in texts]
        scored = any(compiled.scored for compiled in texts)
        searcher = ShardedSearcher([shard.searcher() for shard in snapshot.shards])
        query = filters.queries(parts)
        total, ranked = ranked_page(searcher, query, scored, request.sort or [], offset, limit, nearby)
        facets = count_facets(searcher, parts, filters, request.facet_names) if request.facets else {}
        hits = self._hits(searcher, ranked, nearby)
        return SearchResult(total=total, hits=hits, facets=facets, offset=offset, limit=limit, expanded_terms=expanded)

    def _hits(self, searcher: ShardedSearcher, ranked: list[Ranked], nearby: NearbyStudies | None) -> list[Hit]:
        nearest = {r.nct: nearby.nearest_site(r.nct) for r in ranked} if nearby is not None else {}
        sites = self._site_rows([site.site_id for site in nearest.values() if site is not None])
        hits = []
        for item in ranked:
            card = orjson.loads(searcher.doc(item.address).get_first("card"))
            site_hit = None
            site = nearest.get(item.nct)
            if site is not None:
                row = sites.get(site.site_id, {})
                site_hit = SiteHit(facility=row.get("facility"), city=row.get("city"), state=row.get("state"),
                                  country=row.get("country"), status=row.get("status"), lat=site.lat, lon=site.lon,
                                  distance_km=round(site.distance_km, 3), approximate=site.approximate)
            hits.append(Hit(nct_id=nct_id_of(item.nct), score=item.score, title=card["title"],
                            overall_status=card["overall_status"], phases=card["phases"],
                            study_type=card["study_type"], conditions=card["conditions"], sponsor=card["sponsor"],
                            last_update=card["last_update"], start_date=card["start_date"],
                            enrollment=card["enrollment"], nearest_site=site_hit, site_count=card["site_count"]))
        return hits

    def _site_rows(self, site_ids: list[int]) -> dict[int, dict]:
        if not site_ids:
            return {}
        columns = (sites_table.c.id, sites_table.c.facility, sites_table.c.city, sites_table.c.state,
                   sites_table.c.country, sites_table.c.status)
        with self.store.engine.connect() as conn:
            rows = conn.execute(sa.select(*columns).where(sites_table.c.id.in_(site_ids)))
            return {row.id: dict(row._mapping) for row in rows}


def nct_ids_only(text: str) -> list[str]:
    """The NCT ids of a query made of nothing but NCT ids (separated by spaces, commas or OR), else []."""
    if not text or not NCT_ID_RE.search(text):
        return []
    ids = [f"NCT{int(match.group(1)):08d}" for match in NCT_ID_RE.finditer(text)]
    rest = _ONLY_IDS_SEPARATORS.sub("", NCT_ID_RE.sub("", text))
    return list(dict.fromkeys(ids)) if not rest else []


def _with_ids(request: SearchRequest, ids: list[str]) -> SearchRequest:
    return replace(request, ids=ids)


def _open_snapshot(generation: Path) -> _Snapshot:
    meta = read_meta(generation)
    if meta is None:
        raise RuntimeError(f"search index {generation} has no meta file")
    shards = open_shards(generation, meta.shards)
    return _Snapshot(generation, meta, shards, shards[0].schema, SiteArrays.load(generation),
                     SynonymTable.load(generation))
