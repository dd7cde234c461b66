"""`trialfinder ingest` and `trialfinder sync`: bring studies into the store, with progress and a summary."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from trialfinder.cli.main import app, console, errors, fail
from trialfinder.ingest import StrictIngestError, describe_reject, ingest_paths
from trialfinder.ingest.readers import Rejected, count_inputs


PROGRESS_EVERY = 500  # records between updates of the progress bar


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[records]} records"), TimeElapsedColumn(), console=errors,
                    transient=False)


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files, folders, .zip or .tar.gz archives of study records.")],
    strict: Annotated[bool, typer.Option("--strict", help="Stop with an error at the first rejected record.")] = False,
) -> None:
    """Load study records (API v2 JSON in any shape, JSON Lines, legacy XML) into the store."""
    store = ctx.obj.store
    total_files = count_inputs(paths)
    seen_files: set[str] = set()
    with _progress() as progress:
        task = progress.add_task("Ingesting", total=total_files, records=0)
        records = 0

        def on_record(item) -> None:
            nonlocal records
            records += 1
            source = item.source.split("!", 1)[0]
            if source not in seen_files:
                if seen_files:
                    progress.advance(task)
                seen_files.add(source)
            # The bar redraws ten times a second; updating its counter for every record would cost the single
            # writer process more than the redraws show.
            if records % PROGRESS_EVERY == 0:
                progress.update(task, records=records)
            if isinstance(item, Rejected):
                progress.console.print(f"[yellow]rejected[/] {describe_reject(item)}", highlight=False)

        try:
            report = ingest_paths(store, list(paths), strict=strict, on_record=on_record)
        except StrictIngestError as error:
            fail(f"--strict: {error}")
        progress.update(task, completed=total_files, records=records)
    refresh_derived(ctx)
    console.print(f"Ingest finished: {report.summary}", highlight=False)
    if report.rejected:
        console.print("See `trialfinder rejects` for every rejected input.")


@app.command()
def sync(
    ctx: typer.Context,
    since: Annotated[Optional[str], typer.Option(help="Only studies updated on or after this date (YYYY-MM-DD); default: the last successful sync.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Fetch everything that matches, ignoring the last sync date.")] = False,
    status: Annotated[Optional[list[str]], typer.Option("--status", help="Only these overall statuses (repeatable), e.g. RECRUITING.")] = None,
    condition: Annotated[Optional[str], typer.Option(help="Only studies matching this condition (query.cond).")] = None,
    query: Annotated[Optional[str], typer.Option(help="Only studies matching this query (query.term).")] = None,
    base_url: Annotated[str, typer.Option(envvar="TRIALFINDER_CTGOV_URL", help="ClinicalTrials.gov API v2 base URL.")] = "https://clinicaltrials.gov/api/v2",
    requests_per_minute: Annotated[float, typer.Option(envvar="TRIALFINDER_CTGOV_RPM", help="Politeness limit on requests to the registry.")] = 50,
) -> None:
    """Download new and updated studies from the ClinicalTrials.gov API v2 (resumable)."""
    from trialfinder.ctgov import CtgovClient
    from trialfinder.ingest.sync import SyncError, SyncOptions, run_sync

    if since:
        try:
            date.fromisoformat(since)
        except ValueError:
            fail(f"--since must be a date like 2025-01-31, not {since!r}")
    options = SyncOptions(since=since, full=full, statuses=[s.upper() for s in status or []], condition=condition,
                          query=query)
    with CtgovClient(base_url=base_url, requests_per_minute=requests_per_minute) as client, _progress() as progress:
        task = progress.add_task("Syncing", total=None, records=0)

        def on_page(page_number: int, fetched: int, total: int | None) -> None:
            progress.update(task, completed=page_number, total=None, records=fetched)

        try:
            result = run_sync(ctx.obj.store, client, options, on_page=on_page)
        except SyncError as error:
            progress.stop()
            fail(str(error))
    refresh_derived(ctx)
    console.print(f"Sync finished: {result.summary}", highlight=False)


def refresh_derived(ctx: typer.Context) -> None:
    """Bring the search index up to date with the store after a write."""
    from trialfinder.index import refresh_index

    refresh_index(ctx.obj.settings, ctx.obj.store, console=errors)


@app.command()
def init(
    ctx: typer.Context,
    source: Annotated[Optional[Path], typer.Option("--source", help="Ingest these local files instead of downloading.")] = None,
    base_url: Annotated[str, typer.Option(envvar="TRIALFINDER_CTGOV_URL", help="ClinicalTrials.gov API v2 base URL.")] = "https://clinicaltrials.gov/api/v2",
) -> None:
    """Load data into an empty store: local files with --source, else the recruiting studies from ClinicalTrials.gov."""
    from trialfinder.ctgov import CtgovClient, registry_reachable
    from trialfinder.ingest.sync import LIVE_DEFAULT_STATUSES

    store = ctx.obj.store
    existing = store.count()
    if existing:
        console.print(f"The store already holds {existing} studies; nothing to load "
                      "(use `trialfinder ingest` or `trialfinder sync` to add more).")
        refresh_derived(ctx)
        return
    if source is not None:
        if not source.exists():
            fail(f"--source {source} does not exist")
        ctx.invoke(ingest, ctx=ctx, paths=[source], strict=False)
        return
    with CtgovClient(base_url=base_url) as probe:
        reachable = registry_reachable(probe)
    if not reachable:
        fail(f"ClinicalTrials.gov ({base_url}) cannot be reached from this machine. To load local files instead, "
             "run `make run SOURCE=path/to/records` (e.g. SOURCE=../shared/data/ctgov) or "
             "`trialfinder ingest PATH...`.")
    ctx.invoke(sync, ctx=ctx, since=None, full=True, status=LIVE_DEFAULT_STATUSES, condition=None, query=None,
               base_url=base_url, requests_per_minute=50)
