"""The `trialfinder` command line: a thin layer over the library's services."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from trialfinder.config import Settings, load_settings
from trialfinder.store import Store

app = typer.Typer(help="trialfinder: a local mirror of ClinicalTrials.gov you can search, serve and match against.",
                  no_args_is_help=True, add_completion=False)
console = Console()
errors = Console(stderr=True)


class Context:
    """What every command gets: the settings, and the store opened on first use."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings.database_url)
        return self._store


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Data directory (default $TRIALFINDER_DATA or ./trialfinder-data).")] = None,
    database_url: Annotated[Optional[str], typer.Option("--database-url", help="Store URL (default $TRIALFINDER_DATABASE_URL or SQLite in the data directory).")] = None,
) -> None:
    """Global options shared by every command."""
    ctx.obj = Context(load_settings(data_dir, database_url))


def fail(message: str, code: int = 1) -> None:
    """Print an error to stderr and exit with a non-zero status."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def print_json(value) -> None:
    """Print a value as JSON on stdout (no colours, so it can be piped)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


@app.command()
def show(
    ctx: typer.Context,
    nct_id: Annotated[str, typer.Argument(help="The study's NCT id, e.g. NCT06111846.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored original record.")] = False,
) -> None:
    """Show one study."""
    from trialfinder.model.ids import canonical_nct_id
    from trialfinder.model import decode_study
    from trialfinder.model.labels import OVERALL_STATUS, PHASE, STUDY_TYPE, label

    canonical = canonical_nct_id(nct_id)
    raw = ctx.obj.store.raw(canonical) if canonical else None
    if raw is None:
        fail(f"no study {nct_id!r} in the store")
    if as_json:
        sys.stdout.write(raw + "\n")
        return
    study = decode_study(raw)
    console.print(f"[bold]{study.title}[/]  ({study.nct_id})", highlight=False)
    rows = [
        ("Status", label(OVERALL_STATUS, study.overall_status)),
        ("Phase", ", ".join(label(PHASE, p) for p in study.design.phases)),
        ("Study type", label(STUDY_TYPE, study.design.study_type)),
        ("Sponsor", study.lead_sponsor_name or ""),
        ("Conditions", "; ".join(study.conditions.conditions)),
        ("Last updated", study.last_update_posted or ""),
        ("Sites", str(len(study.contacts_locations.locations))),
    ]
    table = Table(show_header=False, box=None)
    for name, value in rows:
        table.add_row(f"[bold]{name}[/]", value)
    console.print(table)
    if study.description.brief_summary:
        console.print(study.description.brief_summary, highlight=False)


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Counts of studies by status, phase and study type; sites; last sync."""
    figures = ctx.obj.store.stats()
    if as_json:
        print_json(figures)
        return
    console.print(f"[bold]{figures['studies']}[/] studies, {figures['sites']} sites, {figures['rejects']} rejects")
    for title, key in (("Status", "by_status"), ("Phase", "by_phase"), ("Study type", "by_study_type")):
        table = Table(title=title)
        table.add_column(title)
        table.add_column("Studies", justify="right")
        for name, count in figures[key].items():
            table.add_row(name, str(count))
        console.print(table)
    last = figures["last_sync"]
    console.print(f"Last sync: {last['finished_at']} ({last['added']} added, {last['updated']} updated)" if last
                  else "Last sync: never")


@app.command()
def rejects(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many to list, newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON lines.")] = False,
) -> None:
    """List the inputs that ingest or sync could not take, with file, position and reason."""
    items = ctx.obj.store.rejects(limit)
    if as_json:
        for item in items:
            sys.stdout.write(json.dumps(vars(item), ensure_ascii=False) + "\n")
        return
    if not items:
        console.print("No rejects.")
        return
    table = Table()
    for column in ("when", "source", "position", "NCT id", "reason"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(item.at, item.source, item.position or "", item.nct_id or "", item.reason)
    console.print(table)


from trialfinder.cli import ingest_commands  # noqa: E402,F401  (registers ingest and sync)
from trialfinder.cli import search_commands  # noqa: E402,F401  (registers index and search)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    follow: Annotated[bool, typer.Option("--follow", envvar="TRIALFINDER_FOLLOW",
                                         help="Keep this node's search index up to date from the store's change "
                                              "counter (for several web nodes sharing one PostgreSQL store).")] = False,
    follow_interval: Annotated[float, typer.Option("--follow-interval", min=0.1,
                                                   help="Seconds between index refreshes with --follow.")] = 2.0,
    log_format: Annotated[str, typer.Option("--log-format", envvar="TRIALFINDER_LOG_FORMAT",
                                            help="json (one object per line) or text.")] = "json",
    log_level: Annotated[str, typer.Option("--log-level", envvar="TRIALFINDER_LOG_LEVEL",
                                           help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the website, the JSON APIs, /healthz, /readyz and /metrics."""
    import os

    import uvicorn

    from trialfinder.api.health import ready_max_lag
    from trialfinder.api.limits import LimitsConfig
    from trialfinder.logging_setup import logging_config

    if log_format not in ("json", "text"):
        fail(f"--log-format must be json or text, not {log_format!r}")
    if log_level.lower() not in ("debug", "info", "warning", "error", "critical"):
        fail(f"--log-level must be debug, info, warning or error, not {log_level!r}")
    try:  # refuse a bad setting here, with a clear message, rather than in every worker
        limits = LimitsConfig.from_env()
        ready_max_lag()
    except ValueError as error:
        fail(str(error))
    settings = ctx.obj.settings
    # Workers are separate processes: they read the settings from the environment.
    os.environ["TRIALFINDER_DATA"] = str(settings.data_dir)
    os.environ["TRIALFINDER_DATABASE_URL"] = settings.database_url
    os.environ["TRIALFINDER_FOLLOW_INTERVAL"] = str(follow_interval) if follow else "0"
    # X-Forwarded-For and -Proto are believed only from the proxies the operator names; uvicorn's own default
    # would trust 127.0.0.1, which is any local process.
    trusted = ",".join(str(network) for network in limits.trusted_proxies)
    errors.print(f"Serving trialfinder on http://{host}:{port}/ (data: {settings.data_dir}"
                 f"{', following the store every %gs' % follow_interval if follow else ''})", highlight=False,
                 soft_wrap=True)
    uvicorn.run("trialfinder.server:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=logging_config(log_format, log_level.upper()), access_log=False,
                proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None, server_header=False)


from trialfinder.cli import match_commands  # noqa: E402,F401  (registers match)
from trialfinder.logging_setup import exit_on_environment_failure  # noqa: E402

# The console script: a full disk or an unreachable store ends with one clear line, not a traceback.
run = exit_on_environment_failure(app)
