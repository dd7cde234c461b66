"""Ingest study records from files into the store, batch by batch, never stopping for one bad record."""

from __future__ import annotations

import fcntl
import gc
import io
import multiprocessing
import os
import pickle
import queue
import resource
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from trialfinder.ingest.readers import Record, Rejected, ShippedRecord, read_paths
from trialfinder.ingest.sites import site_rows
from trialfinder.store import Store, StudyWrite, UpsertCounts
from trialfinder.store.rows import PreparedWrite

# Studies per upsert transaction. Each commit costs a WAL sync and page writes of the B-tree interiors, so fewer,
# larger transactions are cheaper; 5000 studies (~65 MB of raw JSON) keep the writer's memory well bounded.
BATCH_SIZE = 5000
# Records per message from the worker process, and messages buffered in the writer (bounds memory: ~13 MB each).
_CHUNK_RECORDS = 500
_BUFFERED_CHUNKS = 8
_PIPE_BUFFER_BYTES = 1 << 20
# Inputs at least this large are prepared in a worker process when a second CPU is available.
PARALLEL_MIN_BYTES = 16 << 20
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
    # When a worker process prepared the records: its CPU seconds (user + sys) and peak RSS, for benchmarks.
    worker_cpu_seconds: float | None = None
    worker_peak_rss_mib: float | None = None

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


def prepare_record(record: Record) -> PreparedWrite:
    """The write for a record as plain values: the one place writes are built, in-process or in a worker."""
    return to_write(record).prepared()


# What the writer loop consumes: a record (None when no on_record callback wants it) with its prepared write, or a
# reject.
Prepared = tuple[Record | None, PreparedWrite] | Rejected


def ingest_items(
    store: Store,
    items: Iterable[Record | Rejected],
    *,
    strict: bool = False,
    on_record: Callable[[Record | Rejected], None] | None = None,
) -> IngestReport:
    """Upsert readable records in batches, and keep every reject in the store's rejects table."""
    with _fewer_gc_passes():
        return _write_prepared(store, _prepare_in_process(items), strict=strict, on_record=on_record)


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """Raise the collector's first threshold for the duration of an ingest, then restore it."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], _INGEST_GC_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _prepare_in_process(items: Iterable[Record | Rejected]) -> Iterator[Prepared]:
    for item in items:
        yield item if isinstance(item, Rejected) else (item, prepare_record(item))


def _write_prepared(
    store: Store,
    items: Iterable[Prepared],
    *,
    strict: bool,
    on_record: Callable[[Record | Rejected], None] | None,
    report: IngestReport | None = None,
) -> IngestReport:
    """The writer loop (the only one, whichever process prepared the writes)."""
    report = report if report is not None else IngestReport()
    batch: list[PreparedWrite] = []

    def flush() -> None:
        if batch:
            report.counts += store.upsert(batch)
            batch.clear()

    for item in items:
        if isinstance(item, Rejected):
            if on_record is not None:
                on_record(item)
            store.add_rejects([item.as_row()])
            report.rejected.append(item)
            if strict:
                flush()
                raise StrictIngestError(item)
            continue
        record, write = item
        if on_record is not None and record is not None:
            on_record(record)
        report.records += 1
        batch.append(write)
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
    workers: int | None = None,
) -> IngestReport:
    """Ingest every record found in files, folders and archives.

    workers=1 reads, decodes and prepares the writes in a worker process while this process only writes (both
    cores busy); workers=0 does everything here. The default (None) uses the worker when more than one CPU is
    available and the input is large (TRIALFINDER_INGEST_WORKERS=0/1 overrides). Results are the same either
    way: the worker sends records in input order and this process runs the same writer loop.
    """
    if workers is None:
        workers = _default_workers(paths)
    with _fewer_gc_passes(), store.bulk_load():
        if workers > 0:
            report = IngestReport()
            with prepared_in_worker(paths, report, records=on_record is not None) as items:
                return _write_prepared(store, items, strict=strict, on_record=on_record, report=report)
        return _write_prepared(store, _prepare_in_process(read_paths(paths)), strict=strict, on_record=on_record)


def _default_workers(paths: list[str | Path]) -> int:
    forced = os.environ.get("TRIALFINDER_INGEST_WORKERS", "").strip()
    if forced:
        return 1 if int(forced) > 0 else 0
    if _available_cpus() < 2:
        return 0
    return 1 if _input_bytes(paths, PARALLEL_MIN_BYTES) >= PARALLEL_MIN_BYTES else 0


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _input_bytes(paths: list[str | Path], enough: int) -> int:
    """Total size of the input files, counted until it reaches enough."""
    total = 0
    for path in map(Path, paths):
        files = (p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            try:
                total += file.stat().st_size
            except OSError:
                continue
            if total >= enough:
                return total
    return total


# the worker process ----------------------------------------------------------------------------------------------


class IngestWorkerError(RuntimeError):
    """The worker process that reads and prepares records failed."""


@contextmanager
def prepared_in_worker(
    paths: list[str | Path], report: IngestReport | None = None, *, records: bool = True
) -> Iterator[Iterator[Prepared]]:
    """Read, decode and prepare records in a worker process; yield them here, in input order.

    The worker sends pickled chunks of (position, PreparedWrite) or Rejected through a pipe. A thread here receives
    them into a small queue, so the worker keeps working while this process writes. Leaving the block (normally, on
    an error or in strict mode) stops the worker; if this process dies, the worker's next send fails and it exits.
    records=False yields None in place of each record (nobody looks at them), which saves the writer a decode.
    """
    context = _worker_context()
    receiver, sender = context.Pipe(duplex=False)
    _widen_pipe(receiver)
    worker = context.Process(target=_worker_main, args=(list(map(str, paths)), sender, receiver),
                             name="trialfinder-ingest", daemon=True)
    worker.start()
    sender.close()
    chunks: queue.Queue = queue.Queue(maxsize=_BUFFERED_CHUNKS)
    stop = threading.Event()
    thread = threading.Thread(target=_receive, args=(receiver, chunks, stop), name="ingest-receiver", daemon=True)
    thread.start()
    try:
        yield _unpack(chunks, report, records)
    finally:
        stop.set()
        if worker.is_alive():
            worker.terminate()
        worker.join()
        thread.join()
        receiver.close()


def _widen_pipe(connection) -> None:
    """Give the pipe a 1 MiB buffer (Linux) instead of 64 KiB.

    A message of a few MB then reaches the writer's receiver thread in 16 times fewer reads (and the worker's send
    in fewer wake-ups). The limit is /proc/sys/fs/pipe-max-size; where it cannot be raised the default still works.
    """
    try:
        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BUFFER_BYTES)
    except (AttributeError, OSError):
        pass


def _worker_context():
    # fork: the worker starts at once with the modules (and the gazetteer, if loaded) already in memory, and needs
    # no importable __main__ (forkserver and spawn re-run the caller's script, which breaks unguarded scripts).
    # The child only reads files and sends bytes: it never touches the parent's SQLite connections or threads, and
    # multiprocessing ends it with os._exit, so no inherited handle is closed or flushed twice.
    return multiprocessing.get_context("fork")


# Messages from the worker: one tag byte, then a pickle (none for the end).
_DATA, _FAILED, _END = b"D", b"F", b"E"


def _message(tag: bytes, payload: object) -> memoryview:
    buffer = io.BytesIO()
    buffer.write(tag)
    pickle.dump(payload, buffer, pickle.HIGHEST_PROTOCOL)
    return buffer.getbuffer()


def _worker_main(paths: list[str], sender, receiver) -> None:
    """Worker process: every item of read_paths, prepared, sent in chunks; then the end message."""
    # The forked worker holds a copy of the writer's end of the pipe: close it, so that when the writer dies the
    # pipe has no reader left and the next send fails (BrokenPipeError) instead of blocking forever.
    receiver.close()
    try:
        with _fewer_gc_passes():
            chunk: list = []
            for item in read_paths(paths):
                if isinstance(item, Rejected):
                    chunk.append(item)
                else:
                    chunk.append((item.position, prepare_record(item)))
                if len(chunk) >= _CHUNK_RECORDS:
                    sender.send_bytes(_message(_DATA, chunk))
                    chunk = []
            if chunk:
                sender.send_bytes(_message(_DATA, chunk))
            usage = resource.getrusage(resource.RUSAGE_SELF)
            sender.send_bytes(_message(_END, (usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)))
    except (BrokenPipeError, KeyboardInterrupt):
        return  # the writer is gone or stopping: nothing to report to
    except BaseException:  # noqa: BLE001 - any failure is sent to the writer, which raises it
        try:
            sender.send_bytes(_message(_FAILED, traceback.format_exc()))
        except OSError:
            pass
    finally:
        sender.close()


def _receive(receiver, chunks: queue.Queue, stop: threading.Event) -> None:
    """Receiver thread: messages from the worker into the queue (recv releases the GIL while it waits)."""
    while not stop.is_set():
        try:
            message = receiver.recv_bytes()
        except (EOFError, OSError):
            message = _FAILED + pickle.dumps("the ingest worker process ended without finishing")
        while not stop.is_set():
            try:
                chunks.put(message, timeout=0.2)
                break
            except queue.Full:
                continue
        if message[:1] != _DATA:
            return


def _unpack(chunks: queue.Queue, report: IngestReport | None, records: bool) -> Iterator[Prepared]:
    """The writer's side: chunks back into records (typed study decoded lazily) with their prepared writes."""
    while True:
        message = chunks.get()
        tag = message[:1]
        payload = pickle.loads(memoryview(message)[1:])
        if tag == _END:
            cpu_seconds, peak_rss_mib = payload
            if report is not None:
                report.worker_cpu_seconds, report.worker_peak_rss_mib = cpu_seconds, peak_rss_mib
            return
        if tag == _FAILED:
            raise IngestWorkerError(f"the ingest worker process failed: {payload}")
        for entry in payload:
            if isinstance(entry, Rejected):
                yield entry
            else:
                position, write = entry
                yield (ShippedRecord(write.source, position, write.raw) if records else None), write
