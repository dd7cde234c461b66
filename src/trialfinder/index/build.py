"""Building the search index from the store, and keeping it up to date from the store's change log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np
import tantivy

from trialfinder.config import Settings
from trialfinder.index.documents import NCT_BITS, nct_number, study_document
from trialfinder.index.layout import (
    IndexMeta,
    current_generation,
    new_generation,
    prune_generations,
    read_meta,
    shard_dirs,
    swap_current,
    write_meta,
)
from trialfinder.index.schema import (
    INDEX_SHARDS,
    SCHEMA_VERSION,
    SHARDED_FROM_STUDIES,
    build_schema,
    register_analyzers,
)
from trialfinder.index.sites import SiteArrays, site_rows
from trialfinder.index.synonyms import SynonymMiner
from trialfinder.model import decode_study
from trialfinder.store import Store, utc_now

log = logging.getLogger(__name__)

# A bigger indexing heap writes fewer, larger segments: every segment costs each query a fixed share (100k studies
# in 14 segments answer the bench queries 45% slower than in one; 256 MB left 11 segments at 600k). Each shard
# gets its own writer with one thread and an equal share.
BUILD_HEAP_BYTES = 1_000_000_000
REFRESH_HEAP_BYTES = 64_000_000
CHANGES_PER_BATCH = 5000

Progress = Callable[[int, int], None]


class IndexBusy(RuntimeError):
    """Another process holds the index writer (a refresh or build is already running)."""


def open_shards(generation: Path, count: int) -> list[tantivy.Index]:
    """Open (creating when new) the tantivy index of every shard of a generation, with analyzers registered."""
    shards = []
    for path in shard_dirs(generation, count):
        path.mkdir(exist_ok=True)
        index = tantivy.Index(build_schema(), str(path), reuse=True)
        register_analyzers(index)
        shards.append(index)
    return shards


def shard_of(nct_id: str, count: int) -> int:
    """The shard that holds a study: its NCT number modulo the shard count (numbers are dealt out evenly)."""
    return nct_number(nct_id) % count


def shard_of_codes(codes: np.ndarray, count: int) -> list[np.ndarray]:
    """A distance filter's `geo` codes for each shard: every cell code, and only the NCT numbers that shard holds."""
    is_number = codes < np.uint64(1 << NCT_BITS)
    cells, numbers = codes[~is_number], codes[is_number]
    shard_of_number = numbers % np.uint64(count)
    return [np.concatenate([cells, numbers[shard_of_number == np.uint64(shard)]]) for shard in range(count)]


def build_index(settings: Settings, store: Store, progress: Progress | None = None) -> IndexMeta:
    """Build a complete index in a new generation directory, swap it in, then catch up with later changes."""
    seq = store.change_counter()
    total = store.count()
    generation = new_generation(settings.index_dir)
    shards = INDEX_SHARDS if total >= SHARDED_FROM_STUDIES else 1  # decided again at every rebuild
    writers = [shard.writer(heap_size=BUILD_HEAP_BYTES // shards, num_threads=1)
               for shard in open_shards(generation, shards)]
    sites = SiteArrays.from_rows(site_rows(store))
    cells = sites.geo_cells()
    miner = SynonymMiner()
    indexed = 0
    for nct_id, raw in store.iter_raw():
        try:
            study = decode_study(raw)
        except msgspec.ValidationError as error:  # the store validated it once; never let one record stop a build
            log.warning("not indexed: %s: %s", nct_id, error)
            continue
        writers[shard_of(nct_id, shards)].add_document(study_document(study, cells.of(nct_number(nct_id))))
        miner.add(study)
        indexed += 1
        if progress is not None and indexed % 500 == 0:
            progress(indexed, total)
    for writer in writers:
        writer.commit()
    for writer in writers:
        writer.wait_merging_threads()
    sites.save(generation)
    miner.table().save(generation)
    meta = IndexMeta(schema_version=SCHEMA_VERSION, seq=seq, studies=indexed, built_at=utc_now(), shards=shards)
    write_meta(generation, meta)
    if progress is not None:
        progress(indexed, total)
    swap_current(settings.index_dir, generation)
    prune_generations(settings.index_dir)
    _apply_changes(generation, store)
    return read_meta(generation) or meta


def refresh_index(settings: Settings, store: Store, console=None) -> int:
    """Apply the store's changes since the index's seq (building the index when there is none); changes applied."""
    generation = current_generation(settings.index_dir)
    meta = read_meta(generation) if generation else None
    if generation is None or meta is None or meta.schema_version != SCHEMA_VERSION:
        built = _build_with_console(settings, store, console)
        return built.studies
    try:
        applied = _apply_changes(generation, store)
    except IndexBusy:
        if console is not None:
            console.print("Search index: another process is updating it; skipped.")
        return 0
    if console is not None and applied:
        console.print(f"Search index: applied {applied} changes.", highlight=False)
    return applied


def _build_with_console(settings: Settings, store: Store, console) -> IndexMeta:
    if console is None:
        return build_index(settings, store)
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(TextColumn("Indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("index", total=store.count())
        meta = build_index(settings, store, progress=lambda done, total: bar.update(task, completed=done))
    console.print(f"Search index built: {meta.studies} studies.", highlight=False)
    return meta


def _apply_changes(generation: Path, store: Store) -> int:
    """Upsert (delete by NCT id, add the stored version) or delete every study changed after the meta's seq."""
    meta = read_meta(generation)
    if meta is None:
        return 0
    changes = store.changes_since(meta.seq)
    if not changes:
        return 0
    shards = open_shards(generation, meta.shards)
    writers = []
    try:
        for shard in shards:
            writers.append(shard.writer(heap_size=REFRESH_HEAP_BYTES, num_threads=1))
    except ValueError as error:  # tantivy reports a held writer lock as a ValueError
        writers.clear()  # drops the writers opened so far, releasing their locks
        raise IndexBusy(str(error)) from error
    sites = SiteArrays.load(generation)
    applied = 0
    for start in range(0, len(changes), CHANGES_PER_BATCH):
        batch = changes[start:start + CHANGES_PER_BATCH]
        nct_ids = sorted({change.nct_id for change in batch})
        for nct_id in nct_ids:
            writers[shard_of(nct_id, meta.shards)].delete_documents_by_term("nct_id", nct_id)
        sites = sites.replace_studies(nct_ids, site_rows(store, nct_ids))
        cells = sites.geo_cells([nct_number(nct_id) for nct_id in nct_ids])
        # the store's current row is the truth: a study changed twice is indexed once, a deleted one not at all
        for nct_id, raw in store.raws(nct_ids).items():
            document = study_document(decode_study(raw), cells.of(nct_number(nct_id)))
            writers[shard_of(nct_id, meta.shards)].add_document(document)
        applied += len(batch)
    for writer in writers:
        writer.commit()
    for writer in writers:
        writer.wait_merging_threads()
    sites.save(generation)
    meta.seq = changes[-1].seq
    for shard in shards:
        shard.reload()
    meta.studies = sum(shard.searcher().num_docs for shard in shards)
    write_meta(generation, meta)
    return applied
