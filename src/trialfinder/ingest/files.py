"""Ingest study records from files into the store, batch by batch, never stopping for one bad record."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from trialfinder.ingest.readers import Record, Rejected, read_paths
from trialfinder.ingest.sites import site_rows
from trialfinder.store import Store, StudyWrite, UpsertCounts

BATCH_SIZE = 1000
# A batch keeps ~1000 decoded studies (~150 small objects each) alive, so with the default threshold (700) the
# cyclic collector ran every few studies and re-scanned the batch: ~25% of ingest CPU, for objects that form no
# cycles. Raising only the first threshold while ingesting keeps the collector, just less often.
_INGEST_GC_THRESHOLD = 100_000


class StrictIngestError(Exception):
    """Raised in strict mode at the first rejected input."""

    def __init__(self, rejected: Rejected):
        super().__init__(describe_reject(rejected))
        self.rejected = rejected


@dataclass
class IngestReport:
    """The outcome of one ingest: counts, and the rejects met on the way."""

    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: list[Rejected] = field(default_factory=list)
    records: int = 0

    @property
    def summary(self) -> str:
        c = self.counts
        return f"added {c.added}, updated {c.updated}, unchanged {c.unchanged}, rejected {len(self.rejected)}"


def describe_reject(rejected: Rejected) -> str:
    """One line naming the file, the position, the record and the reason."""
    where = rejected.source + (f" {rejected.position}" if rejected.position else "")
    who = f" ({rejected.nct_id})" if rejected.nct_id else ""
    return f"{where}{who}: {rejected.reason}"


def to_write(record: Record) -> StudyWrite:
    """The store write for a record read from a file or the registry."""
    return StudyWrite(raw=record.raw, study=record.study, source=record.source, sites=site_rows(record.study))


def ingest_items(
    store: Store,
    items: Iterable[Record | Rejected],
    *,
    strict: bool = False,
    on_record: Callable[[Record | Rejected], None] | None = None,
) -> IngestReport:
    """Upsert readable records in batches, and keep every reject in the store's rejects table."""
    with _fewer_gc_passes():
        return _ingest_items(store, items, strict=strict, on_record=on_record)


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """Raise the collector's first threshold for the duration of an ingest, then restore it."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], _INGEST_GC_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _ingest_items(
    store: Store,
    items: Iterable[Record | Rejected],
    *,
    strict: bool,
    on_record: Callable[[Record | Rejected], None] | None,
) -> IngestReport:
    report = IngestReport()
    batch: list[StudyWrite] = []

    def flush() -> None:
        if batch:
            report.counts += store.upsert(batch)
            batch.clear()

    for item in items:
        if on_record is not None:
            on_record(item)
        if isinstance(item, Rejected):
            store.add_rejects([item.as_row()])
            report.rejected.append(item)
            if strict:
                flush()
                raise StrictIngestError(item)
            continue
        report.records += 1
        batch.append(to_write(item))
        if len(batch) >= BATCH_SIZE:
            flush()
    flush()
    return report


def ingest_paths(
    store: Store,
    paths: list[str | Path],
    *,
    strict: bool = False,
    on_record: Callable[[Record | Rejected], None] | None = None,
) -> IngestReport:
    """Ingest every record found in files, folders and archives."""
    return ingest_items(store, read_paths(paths), strict=strict, on_record=on_record)
