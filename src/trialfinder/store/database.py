"""The store: the record of truth for studies, sites, sync runs, rejects and the change counter."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from trialfinder.model import Study, decode_study
from trialfinder.store.rows import SITE_FIELDS, STUDY_COLUMN_NAMES, PreparedWrite, StudyWrite
from trialfinder.store.schema import changes, rejects, sites, state, studies, sync_runs

_MIGRATIONS = Path(__file__).with_name("migrations")

# Column order of the tuples that upsert writes: bookkeeping, then the derived columns (PreparedWrite.columns).
_STUDY_INSERT_COLUMNS = ("nct_id", "raw", "source", "change_seq", "ingested_at", *STUDY_COLUMN_NAMES)
_SITE_INSERT_COLUMNS = ("nct_id", "position", *SITE_FIELDS)
# SQLite settings of the writer connection during bulk_load (restored afterwards): a 512 MiB page cache instead of
# 2 MiB, a WAL checkpoint every 64k pages (256 MiB at 4 KiB) instead of every 1000, and no foreign-key checks: each
# site row would look its study up in the primary key index, and upsert writes a study and its sites in one
# transaction (and deletes a replaced study's sites itself), so the check could never fail there.
_BULK_SQLITE_PRAGMAS = {"cache_size": -524_288, "wal_autocheckpoint": 65_536, "foreign_keys": 0}
# The size of the stored raw JSON in UTF-8 bytes, the unit of PreparedWrite.version.
_RAW_BYTES_SQL = {"sqlite": "length(CAST(raw AS BLOB))", "postgresql": "octet_length(raw)"}


def utc_now() -> str:
    """The current UTC time as an ISO 8601 string (what every timestamp column holds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class UpsertCounts:
    """What an upsert did: studies added, replaced by a newer version, or left as they were."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass(frozen=True)
class Change:
    """One entry of the change log: a study written (upsert) or removed (delete) at seq."""

    seq: int
    nct_id: str
    op: str


@dataclass(frozen=True)
class Reject:
    """An input record or file that could not be ingested, and why."""

    id: int
    source: str
    position: str | None
    nct_id: str | None
    field: str | None
    reason: str
    at: str


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web server read while an ingest writes; NORMAL sync is crash-safe for a killed process.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class _BackgroundCheckpoints:
    """A thread with its own SQLite connection that checkpoints the WAL after each commit of a bulk load.

    A checkpoint reads the committed pages back from the WAL, writes them into the database file and syncs it:
    about a tenth of the single writer's CPU, and the sync's wait, when the writer's commit does it itself
    (autocheckpoint). Here it overlaps the writer's next batch (SQLite runs without the GIL), typically on the core
    the ingest worker leaves idle. PASSIVE never blocks the writer; the writer's own autocheckpoint stays as a
    backstop should this thread fall behind.
    """

    def __init__(self, path: str):
        self._path = path
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """A batch was committed: checkpoint it (if a checkpoint is running, one more follows it)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the running checkpoint, if any, and end the thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            return  # the writer's own autocheckpoint and the final checkpoint of bulk_load still run
        finally:
            connection.close()


class Store:
    """Studies and their bookkeeping in one SQL database (SQLite file or PostgreSQL)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._bulk_connection: sa.Connection | None = None
        self._bulk_checkpoints: _BackgroundCheckpoints | None = None

    @classmethod
    def open(cls, database_url: str, *, migrate: bool = True) -> Store:
        """Connect to the database at database_url, creating or upgrading its schema."""
        if database_url.startswith("sqlite:///"):
            Path(database_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(database_url)
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(database_url, pool_pre_ping=True)
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest alembic revision."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                # Two processes starting at once must not both create the tables.
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(726354)"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    # writing studies ------------------------------------------------------------------------------------------

    def upsert(self, writes: Iterable[StudyWrite | PreparedWrite]) -> UpsertCounts:
        """Insert new studies and replace older versions, in one transaction; older copies never win.

        Writes come as StudyWrite or as PreparedWrite (the same write reduced to plain values, e.g. built by an
        ingest worker process); either way they are written by the code below.
        """
        best: dict[str, PreparedWrite] = {}
        for write in writes:
            if not isinstance(write, PreparedWrite):
                write = write.prepared()
            held = best.get(write.nct_id)
            if held is None or write.version > held.version:
                best[write.nct_id] = write
        counts = UpsertCounts()
        if not best:
            return counts
        now = utc_now()
        with self._writing() as conn:
            stored = {
                nct_id: (last_update, raw_length)
                for nct_id, last_update, raw_length in self._select_in(
                    conn, f"SELECT nct_id, last_update, {_RAW_BYTES_SQL[self.dialect]} FROM studies"
                    " WHERE nct_id IN ({})", list(best))
            }
            fresh: list[PreparedWrite] = []
            newer: list[PreparedWrite] = []
            for nct_id, write in best.items():
                if nct_id not in stored:
                    fresh.append(write)
                elif write.version > stored[nct_id]:
                    newer.append(write)
                else:
                    counts.unchanged += 1
            changed = fresh + newer
            if not changed:
                return counts
            seqs = self._log_changes(conn, [w.nct_id for w in changed], "upsert", now)
            study_rows = [
                (write.nct_id, write.raw, write.source, seq, now, *write.columns)
                for write, seq in zip(changed, seqs)
            ]
            if newer:
                ids = [w.nct_id for w in newer]
                conn.execute(sites.delete().where(sites.c.nct_id.in_(ids)))
                conn.execute(studies.delete().where(studies.c.nct_id.in_(ids)))
            self._insert_tuples(conn, studies.name, _STUDY_INSERT_COLUMNS, study_rows, utf8_columns={"raw"})
            site_rows = [site for write in changed for site in write.sites]
            if site_rows:
                self._insert_tuples(conn, sites.name, _SITE_INSERT_COLUMNS, site_rows)
            counts.added += len(fresh)
            counts.updated += len(newer)
        return counts

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Tune the store for one long run of upserts (an ingest), then put the settings back.

        Every upsert in the block goes through one held connection. On SQLite that connection gets a large page
        cache (the sites indexes take random inserts) and skips foreign-key lookups, and a thread of its own copies
        each committed batch from the WAL into the database file (a checkpoint) while the next batch is written.
        Durability is unchanged: each batch is still one committed transaction in the WAL.
        """
        if self._bulk_connection is not None:
            yield
            return
        conn = self.engine.connect()
        sqlite = self.dialect == "sqlite"
        checkpoints: _BackgroundCheckpoints | None = None
        try:
            if sqlite:
                previous = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in _BULK_SQLITE_PRAGMAS}
                for name, value in _BULK_SQLITE_PRAGMAS.items():
                    conn.exec_driver_sql(f"PRAGMA {name}={value}")
                conn.commit()  # end SQLAlchemy's autobegun transaction: each upsert begins its own
                if self.engine.url.database not in (None, "", ":memory:"):
                    checkpoints = _BackgroundCheckpoints(self.engine.url.database)
            self._bulk_connection = conn
            self._bulk_checkpoints = checkpoints
            try:
                yield
            finally:
                self._bulk_connection = None
                self._bulk_checkpoints = None
                if checkpoints is not None:
                    checkpoints.stop()
                if sqlite:
                    if conn.in_transaction():
                        conn.rollback()
                    for name, value in previous.items():
                        conn.exec_driver_sql(f"PRAGMA {name}={value}")
                    # Fold the (now larger) WAL into the database so readers and the next writer start small.
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                    conn.commit()
        finally:
            conn.close()

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        """One transaction: on the bulk-load connection when inside bulk_load, else on a pooled connection."""
        if self._bulk_connection is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._bulk_connection.begin():
            yield self._bulk_connection
        if self._bulk_checkpoints is not None:
            self._bulk_checkpoints.committed()

    def delete(self, nct_ids: Iterable[str]) -> int:
        """Remove studies (and their sites), logging the deletion for derived indexes."""
        ids = list(nct_ids)
        with self.engine.begin() as conn:
            present = [r.nct_id for r in conn.execute(sa.select(studies.c.nct_id).where(studies.c.nct_id.in_(ids)))]
            if not present:
                return 0
            conn.execute(sites.delete().where(sites.c.nct_id.in_(present)))
            conn.execute(studies.delete().where(studies.c.nct_id.in_(present)))
            self._log_changes(conn, present, "delete", utc_now())
        return len(present)

    def _insert_tuples(self, conn: sa.Connection, table: str, columns: tuple[str, ...], rows: list[tuple],
                       utf8_columns: frozenset[str] | set[str] = frozenset()) -> None:
        """Insert many rows given as tuples in column order, inside the caller's transaction.

        The rows go straight to the driver: SQLAlchemy's per-row parameter processing cost more than the database's
        own work on large batches. PostgreSQL gets COPY, its fastest bulk path. utf8_columns are text columns whose
        values come as UTF-8 bytes: SQLite stores them as text without a Python decode (CAST), PostgreSQL gets str.
        """
        quote = self.engine.dialect.identifier_preparer.quote
        column_list = ", ".join(quote(name) for name in columns)
        if self.dialect == "postgresql":
            decode = [index for index, name in enumerate(columns) if name in utf8_columns]
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {quote(table)} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    if decode:
                        row = list(row)
                        for index in decode:
                            row[index] = row[index].decode()
                    copy.write_row(row)
            return
        marker = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        placeholders = ", ".join(f"CAST({marker} AS TEXT)" if name in utf8_columns else marker for name in columns)
        conn.exec_driver_sql(f"INSERT INTO {quote(table)} ({column_list}) VALUES ({placeholders})", rows)

    def _select_in(self, conn: sa.Connection, sql: str, values: list) -> list[tuple]:
        """Rows of a query whose one IN list ({} in sql) takes values, run on the driver (no per-value processing)."""
        marker = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        return conn.exec_driver_sql(sql.format(", ".join(marker for _ in values)), tuple(values)).all()

    def _log_changes(self, conn: sa.Connection, nct_ids: list[str], op: str, at: str) -> list[int]:
        if self.dialect == "sqlite":
            return self._log_changes_sqlite(conn, nct_ids, op, at)
        rows = [{"nct_id": nct_id, "op": op, "at": at} for nct_id in nct_ids]
        result = conn.execute(changes.insert().returning(changes.c.seq, sort_by_parameter_order=True), rows)
        return [row.seq for row in result]

    def _log_changes_sqlite(self, conn: sa.Connection, nct_ids: list[str], op: str, at: str) -> list[int]:
        """The change-log rows as one executemany (SQLAlchemy's RETURNING path ran one statement per row here).

        The first insert takes the write lock, so no other writer can add rows until this transaction ends and the
        seqs (max + 1 each) come out consecutive; that is checked, and read back in order if it ever is not so.
        """
        insert = "INSERT INTO changes (nct_id, op, at) VALUES (?, ?, ?)"
        first = conn.exec_driver_sql(insert, (nct_ids[0], op, at)).lastrowid
        if len(nct_ids) > 1:
            conn.exec_driver_sql(insert, [(nct_id, op, at) for nct_id in nct_ids[1:]])
        last = conn.exec_driver_sql("SELECT max(seq) FROM changes").scalar_one()
        if last - first + 1 == len(nct_ids):
            return list(range(first, last + 1))
        rows = conn.exec_driver_sql("SELECT seq FROM changes WHERE seq >= ? ORDER BY seq", (first,)).scalars().all()
        return list(rows)

    # reading studies ------------------------------------------------------------------------------------------

    def raw(self, nct_id: str) -> str | None:
        """The original record of a study, exactly as it was ingested."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(studies.c.raw).where(studies.c.nct_id == nct_id)).scalar_one_or_none()

    def study(self, nct_id: str) -> Study | None:
        """The typed study for an NCT id, or None."""
        raw = self.raw(nct_id)
        return decode_study(raw) if raw is not None else None

    def raws(self, nct_ids: list[str]) -> dict[str, str]:
        """Original records for several NCT ids (missing ids are left out)."""
        if not nct_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(studies.c.nct_id, studies.c.raw).where(studies.c.nct_id.in_(nct_ids)))
            return {row.nct_id: row.raw for row in rows}

    def nct_ids(self) -> list[str]:
        """Every stored NCT id, sorted."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(studies.c.nct_id).order_by(studies.c.nct_id)).scalars())

    def count(self) -> int:
        """How many studies are stored."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(studies)).scalar_one()

    def iter_raw(self, batch_size: int = 2000) -> Iterator[tuple[str, str]]:
        """Every (nct_id, raw) pair in NCT id order, read in keyset-paged batches to bound memory."""
        after = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(studies.c.nct_id, studies.c.raw)
                    .where(studies.c.nct_id > after)
                    .order_by(studies.c.nct_id)
                    .limit(batch_size)
                ).all()
            if not rows:
                return
            yield from ((row.nct_id, row.raw) for row in rows)
            after = rows[-1].nct_id

    def sites_of(self, nct_id: str) -> list[dict]:
        """The stored sites of one study, in record order."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(sites).where(sites.c.nct_id == nct_id).order_by(sites.c.position))
            return [dict(row._mapping) for row in rows]

    # change counter -------------------------------------------------------------------------------------------

    def change_counter(self) -> int:
        """The newest change seq (0 for an empty store)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.coalesce(sa.func.max(changes.c.seq), 0))).scalar_one()

    def changes_since(self, seq: int, limit: int | None = None) -> list[Change]:
        """Changes after seq, oldest first."""
        query = sa.select(changes).where(changes.c.seq > seq).order_by(changes.c.seq)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [Change(row.seq, row.nct_id, row.op) for row in conn.execute(query)]

    def get_state(self, key: str) -> str | None:
        """A value from the key/value state table."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(state.c.value).where(state.c.key == key)).scalar_one_or_none()

    def set_state(self, key: str, value: str) -> None:
        """Store a value in the key/value state table."""
        with self.engine.begin() as conn:
            updated = conn.execute(state.update().where(state.c.key == key).values(value=value)).rowcount
            if not updated:
                conn.execute(state.insert().values(key=key, value=value))

    # rejects --------------------------------------------------------------------------------------------------

    def add_rejects(self, items: Iterable[dict]) -> int:
        """Record rejected inputs: dicts with source, position, nct_id, field, reason."""
        now = utc_now()
        rows = [
            {"source": i["source"], "position": i.get("position"), "nct_id": i.get("nct_id"),
             "field": i.get("field"), "reason": i["reason"], "at": now}
            for i in items
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(rejects.insert(), rows)
        return len(rows)

    def rejects(self, limit: int = 1000) -> list[Reject]:
        """The most recent rejects, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(rejects).order_by(rejects.c.id.desc()).limit(limit))
            return [Reject(**row._mapping) for row in rows]

    # sync runs ------------------------------------------------------------------------------------------------

    def start_sync_run(self, params: dict, since: str | None) -> int:
        """Record the start of a sync run and return its id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                sync_runs.insert().returning(sync_runs.c.id),
                {"started_at": utc_now(), "state": "running", "params": json.dumps(params, sort_keys=True),
                 "since": since},
            )
            return result.scalar_one()

    def update_sync_run(self, run_id: int, **values) -> None:
        """Change fields of a sync run (state, counts, next_page_token, error, finished_at)."""
        with self.engine.begin() as conn:
            conn.execute(sync_runs.update().where(sync_runs.c.id == run_id).values(**values))

    def sync_runs(self, limit: int = 20) -> list[dict]:
        """Recent sync runs, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(sync_runs).order_by(sync_runs.c.id.desc()).limit(limit))
            return [dict(row._mapping) for row in rows]

    def unfinished_sync_run(self, params: dict) -> dict | None:
        """The newest run with these params that did not finish (interrupted or failed), to resume from."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(sync_runs)
                .where(sync_runs.c.params == json.dumps(params, sort_keys=True))
                .order_by(sync_runs.c.id.desc())
                .limit(1)
            ).first()
        if row is None or row.state == "succeeded":
            return None
        return dict(row._mapping)

    def last_successful_sync(self) -> dict | None:
        """The newest sync run that finished without error."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(sync_runs).where(sync_runs.c.state == "succeeded").order_by(sync_runs.c.id.desc()).limit(1)
            ).first()
        return dict(row._mapping) if row else None

    # stats ----------------------------------------------------------------------------------------------------

    def stats(self) -> dict:
        """Counts of studies by status, phase and study type, sites, rejects and the last sync."""
        with self.engine.connect() as conn:
            def grouped(column) -> dict[str, int]:
                rows = conn.execute(sa.select(column, sa.func.count()).group_by(column).order_by(sa.func.count().desc()))
                return {(key if key is not None else "(none)"): n for key, n in rows}

            phase_counts: dict[str, int] = {}
            for phases, n in conn.execute(sa.select(studies.c.phases, sa.func.count()).group_by(studies.c.phases)):
                for phase in (phases or "(none)").split("|"):
                    phase_counts[phase] = phase_counts.get(phase, 0) + n
            return {
                "studies": conn.execute(sa.select(sa.func.count()).select_from(studies)).scalar_one(),
                "by_status": grouped(studies.c.overall_status),
                "by_phase": dict(sorted(phase_counts.items(), key=lambda kv: -kv[1])),
                "by_study_type": grouped(studies.c.study_type),
                "sites": conn.execute(sa.select(sa.func.count()).select_from(sites)).scalar_one(),
                "rejects": conn.execute(sa.select(sa.func.count()).select_from(rejects)).scalar_one(),
                "change_counter": conn.execute(sa.select(sa.func.coalesce(sa.func.max(changes.c.seq), 0))).scalar_one(),
                "last_sync": self.last_successful_sync(),
            }
