"""Ingest benchmark: parse ceiling, then ingest throughput and peak memory into SQLite and PostgreSQL.

Every phase runs in its own child process, measured with wait4 (wall time, CPU time, peak RSS of that process only):

  parse       read each line and decode it into the typed Study (msgspec): the ceiling for any ingest
  reader      the project's reader (read_paths: streaming, Record objects), no store
  sqlite      ingest_paths into a fresh SQLite data dir
  reingest    ingest the same corpus again into that SQLite store (every study unchanged: the idempotent path)
  postgres    ingest_paths into a fresh PostgreSQL database (created and dropped by this script)
  cli         `trialfinder --data-dir DIR ingest CORPUS` into a fresh data dir (what users run; DIR is kept)

    .venv/bin/python bench/ingest_bench.py --corpus /tmp/trialfinder-corpus/corpus.jsonl --label after
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEFAULT_CORPUS_DIR,
    VENV_BIN,
    ChildRun,
    ResultTable,
    load_average,
    machine_markdown,
    python_executable,
    run_measured,
    write_result,
)

ALL_PHASES = ("parse", "reader", "sqlite", "reingest", "postgres", "cli")
DEFAULT_PHASES = "parse,sqlite,postgres"
POSTGRES_ADMIN_URL = os.environ.get("TRIALFINDER_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SQLITE_TARGET_PER_SECOND = 5_000
RSS_TARGET_MIB = 2048


# child-process workers ------------------------------------------------------------------------------------------


def worker_parse(corpus: Path) -> dict:
    """Read lines and decode each into the typed Study; nothing else."""
    import gzip

    from trialfinder.model import decode_study

    opener = gzip.open if corpus.name.endswith(".gz") else open
    started = time.perf_counter()
    count = 0
    with opener(corpus, "rb") as handle:
        for line in handle:
            if line.strip():
                decode_study(line)
                count += 1
    return {"records": count, "seconds": time.perf_counter() - started}


def worker_reader(corpus: Path) -> dict:
    """The project's reader over the corpus, records counted and dropped."""
    from trialfinder.ingest.readers import Record, read_paths

    started = time.perf_counter()
    records = rejected = 0
    for item in read_paths([corpus]):
        if isinstance(item, Record):
            records += 1
        else:
            rejected += 1
    return {"records": records, "rejected": rejected, "seconds": time.perf_counter() - started}


def worker_ingest(corpus: Path, database_url: str) -> dict:
    """ingest_paths into the store at database_url (schema migration timed separately)."""
    from trialfinder.ingest import ingest_paths
    from trialfinder.store import Store

    opened = time.perf_counter()
    store = Store.open(database_url)
    started = time.perf_counter()
    main_thread_started = time.thread_time()
    report = ingest_paths(store, [corpus])
    seconds = time.perf_counter() - started
    main_thread_cpu = time.thread_time() - main_thread_started
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    stored = store.count()
    store.close()
    counts = report.counts
    return {"records": report.records, "added": counts.added, "updated": counts.updated,
            "unchanged": counts.unchanged, "rejected": len(report.rejected), "stored": stored,
            "seconds": seconds, "open_seconds": started - opened,
            # CPU of this (writer) process, and of the worker process that read and prepared the records (if any):
            # the worker is a grandchild (forkserver), so wait4 on this child does not see it.
            "writer_cpu": usage.ru_utime + usage.ru_stime, "worker_cpu": report.worker_cpu_seconds,
            # the writer's main thread alone (without its pipe-receiver and checkpoint threads): the serial part
            "writer_main_thread_cpu": main_thread_cpu,
            "worker_peak_rss_mib": report.worker_peak_rss_mib}


def run_worker(args: argparse.Namespace) -> None:
    """Entry point of a child: run one phase, print its result as one JSON line."""
    corpus = Path(args.corpus)
    if args.worker == "parse":
        result = worker_parse(corpus)
    elif args.worker == "reader":
        result = worker_reader(corpus)
    else:
        result = worker_ingest(corpus, args.database_url)
    print(json.dumps(result))


# orchestration ---------------------------------------------------------------------------------------------------


def _child(args: argparse.Namespace, worker: str, *extra: str) -> ChildRun:
    command = [python_executable(), str(Path(__file__).resolve()), "--worker", worker, "--corpus", str(args.corpus),
               *extra]
    return run_measured(command)


def _postgres_database(admin_url: str, name: str, *, create: bool) -> str:
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _worker_result(run: ChildRun, phase: str) -> dict:
    if run.returncode != 0:
        raise SystemExit(f"phase {phase} failed ({run.returncode}):\n{run.stderr[-4000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def _directory_size_gib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**30


def run_phases(args: argparse.Namespace) -> tuple[ResultTable, list[str]]:
    """Run the chosen phases in order; return the results table and the exact commands run."""
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(ALL_PHASES)
    if unknown:
        raise SystemExit(f"unknown phases {sorted(unknown)}; choose from {', '.join(ALL_PHASES)}")
    table = ResultTable(["phase", "studies", "studies/s", "wall s", "CPU s (user+sys)", "peak RSS MiB", "notes"])
    commands: list[str] = []
    sqlite_dir = Path(args.work_dir) / "bench-sqlite"
    for phase in phases:
        load_before = load_average()
        notes: list[str] = []
        if phase in ("parse", "reader"):
            run = _child(args, phase)
            result = _worker_result(run, phase)
        elif phase in ("sqlite", "reingest"):
            if phase == "sqlite":
                shutil.rmtree(sqlite_dir, ignore_errors=True)
            url = f"sqlite:///{sqlite_dir / 'trialfinder.sqlite3'}"
            run = _child(args, "ingest", "--database-url", url)
            result = _worker_result(run, phase)
            notes.append(f"store {_directory_size_gib(sqlite_dir):.1f} GiB")
        elif phase == "postgres":
            url = _postgres_database(args.postgres_admin_url, args.postgres_database, create=True)
            run = _child(args, "ingest", "--database-url", url)
            result = _worker_result(run, phase)
            if not args.keep_postgres:
                _postgres_database(args.postgres_admin_url, args.postgres_database, create=False)
            notes.append("client process RSS only (server not counted)")
        else:  # cli
            data_dir = Path(args.cli_data_dir)
            shutil.rmtree(data_dir, ignore_errors=True)
            run = run_measured([str(VENV_BIN / "trialfinder"), "--data-dir", str(data_dir), "ingest", str(args.corpus)])
            if run.returncode != 0:
                raise SystemExit(f"cli ingest failed:\n{run.stderr[-4000:]}")
            summary = next((line for line in run.stdout.splitlines() if "Ingest finished" in line), "")
            result = {"records": None, "seconds": run.wall_seconds}
            notes.append(summary.strip())
            notes.append(f"data dir {_directory_size_gib(data_dir):.1f} GiB kept")
        commands.append(run.shell_command)
        records = result.get("records")
        if records is None and phase == "cli":
            records = args.expected_count
        seconds = result["seconds"]
        if "added" in result:
            notes.insert(0, f"added {result['added']:,}, updated {result['updated']:,}, "
                            f"unchanged {result['unchanged']:,}, rejected {result['rejected']:,}; "
                            f"stored {result['stored']:,}")
        if result.get("writer_cpu") is not None and records:
            notes.append(f"writer process CPU {result['writer_cpu']:.1f} s = {records / result['writer_cpu']:,.0f} "
                         "studies/CPU-s")
            if result.get("writer_main_thread_cpu"):
                notes.append(f"of which its main thread {result['writer_main_thread_cpu']:.1f} s = "
                             f"{records / result['writer_main_thread_cpu']:,.0f} studies/CPU-s")
        if result.get("worker_cpu") and records:
            notes.append(f"worker process CPU {result['worker_cpu']:.1f} s = {records / result['worker_cpu']:,.0f} "
                         f"studies/CPU-s, peak RSS {result['worker_peak_rss_mib']:,.0f} MiB")
        notes.append(f"load {load_before}")
        rate = records / seconds if records else float("nan")
        table.add(phase, f"{records:,}" if records else "?", f"{rate:,.0f}", f"{run.wall_seconds:.1f}",
                  f"{run.user_seconds + run.system_seconds:.1f}", f"{run.peak_rss_mib:,.0f}", "; ".join(notes))
        print(f"{phase}: {records} studies in {seconds:.1f} s = {rate:,.0f}/s, peak RSS {run.peak_rss_mib:,.0f} MiB",
              file=sys.stderr)
    return table, commands


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS_DIR / "corpus.jsonl")
    parser.add_argument("--phases", default=DEFAULT_PHASES, help=f"comma-separated, from {', '.join(ALL_PHASES)}")
    parser.add_argument("--label", default="run", help="heading of this run in the results file")
    parser.add_argument("--work-dir", default=str(DEFAULT_CORPUS_DIR), help="where scratch stores go")
    parser.add_argument("--cli-data-dir", default=str(DEFAULT_CORPUS_DIR / "data"), help="data dir of the cli phase")
    parser.add_argument("--postgres-admin-url", default=POSTGRES_ADMIN_URL)
    parser.add_argument("--postgres-database", default="tf_bench")
    parser.add_argument("--keep-postgres", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--results", default="ingest", help="results file name under bench/results (no .md)")
    parser.add_argument("--append", action="store_true", help="keep the runs already in the results file (this one goes above them)")
    parser.add_argument("--no-write", action="store_true", help="print the table, write no results file")
    parser.add_argument("--expected-count", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=("parse", "reader", "ingest"), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    if not args.corpus.exists():
        raise SystemExit(f"no corpus at {args.corpus}: build it with bench/make_corpus.py")
    if args.expected_count is None:
        args.expected_count = _count_lines(args.corpus)
    table, commands = run_phases(args)
    invocation = "PYTHONPATH=" + os.environ["PYTHONPATH"] + " " if os.environ.get("PYTHONPATH") else ""
    invocation += " ".join([".venv/bin/python", "bench/ingest_bench.py", *(argv or sys.argv[1:])])
    body = "\n\n".join([
        f"Corpus: `{args.corpus}` ({args.corpus.stat().st_size / 1e9:.2f} GB, {args.expected_count:,} studies).",
        f"Command: `{invocation}`",
        table.markdown(),
        f"Targets: >= {SQLITE_TARGET_PER_SECOND:,} studies/s into SQLite with peak RSS < {RSS_TARGET_MIB:,} MiB.",
        "Child commands:\n\n" + "\n".join(f"    {command}" for command in commands),
        "Machine:\n\n" + machine_markdown(),
    ])
    print(table.markdown())
    if not args.no_write:
        path = write_result(args.results, [(args.label, body)], title="Ingest benchmark", keep_earlier=args.append)
        print(f"results: {path}", file=sys.stderr)


def _count_lines(path: Path) -> int:
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


if __name__ == "__main__":
    main()
