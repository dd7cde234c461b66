"""`trialfinder index` and `trialfinder search`: build the search index, and search it from the terminal."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated, Optional

import typer
from rich.table import Table

from trialfinder.cli.main import app, console, errors, fail
from trialfinder.search.types import SORT_KEYS, Near, SearchRequest, SortKey

# Sorts whose natural direction is ascending (nearest, lowest NCT id first); the rest default to newest/largest.
_ASCENDING_BY_DEFAULT = {"distance", "nct_id"}


@app.command()
def index(
    ctx: typer.Context,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build the whole index again (swapped in when done).")] = False,
) -> None:
    """Bring the search index up to date with the store (or rebuild it from scratch with --rebuild)."""
    import time

    from trialfinder.index import build_index, refresh_index
    from trialfinder.index.build import IndexBusy

    settings, store = ctx.obj.settings, ctx.obj.store
    started = time.monotonic()
    if not rebuild:
        try:
            applied = refresh_index(settings, store, console=errors)
        except IndexBusy as error:
            fail(f"the index is being updated by another process: {error}")
        console.print(f"Search index up to date ({applied} changes applied, {time.monotonic() - started:.1f}s).")
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("Indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=errors) as progress:
        task = progress.add_task("index", total=store.count())
        meta = build_index(settings, store, progress=lambda done, total: progress.update(task, completed=done))
    console.print(f"Search index rebuilt: {meta.studies} studies in {time.monotonic() - started:.1f}s "
                  f"({settings.index_dir}).", highlight=False)


def parse_sort(text: str) -> SortKey:
    """"last_updated", "-start_date" (descending), "+enrollment" (ascending) or "distance" -> SortKey."""
    text = text.strip().lower().replace("-", "_") if not text.startswith(("-", "+")) else text.strip().lower()
    direction = None
    if text[:1] in "+-":
        direction, text = text[0], text[1:].replace("-", "_")
    for suffix, sign in ((":asc", "+"), (":desc", "-")):
        if text.endswith(suffix):
            direction, text = sign, text[: -len(suffix)]
    if text not in SORT_KEYS:
        raise typer.BadParameter(f"unknown sort {text!r}; choose from {', '.join(SORT_KEYS)}")
    descending = (direction == "-") if direction else text not in _ASCENDING_BY_DEFAULT
    return SortKey(text, descending)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[Optional[str], typer.Argument(help='Words, "phrases", AND/OR/NOT, AREA[Field]value; NCT ids.')] = None,
    condition: Annotated[Optional[str], typer.Option("--condition", help="Condition or disease (with synonyms).")] = None,
    intervention: Annotated[Optional[str], typer.Option("--intervention", help="Treatment or intervention.")] = None,
    status: Annotated[Optional[list[str]], typer.Option("--status", help="Overall status, e.g. recruiting, RECRUITING, open (repeatable).")] = None,
    phase: Annotated[Optional[list[str]], typer.Option("--phase", help='Phase, e.g. PHASE2 or "phase 2" (repeatable).')] = None,
    study_type: Annotated[Optional[list[str]], typer.Option("--type", help="Study type: interventional, observational, expanded access.")] = None,
    funder: Annotated[Optional[list[str]], typer.Option("--funder", help="Funder type: NIH, FED, INDUSTRY, OTHER.")] = None,
    sex: Annotated[Optional[str], typer.Option("--sex", help="Participant sex: female or male (studies open to all match).")] = None,
    age: Annotated[Optional[float], typer.Option("--age", help="Participant age in years (studies without a limit match).")] = None,
    healthy: Annotated[bool, typer.Option("--healthy", help="Only studies accepting healthy volunteers.")] = False,
    country: Annotated[Optional[list[str]], typer.Option("--country", help="Countries with a site (repeatable).")] = None,
    near: Annotated[Optional[str], typer.Option("--near", help='A place: ZIP, "City, State", country or "lat,lon".')] = None,
    radius: Annotated[str, typer.Option("--radius", help="Distance from --near, e.g. 50mi or 80km.")] = "50mi",
    recruiting_sites: Annotated[bool, typer.Option("--recruiting-sites", help="With --near: only recruiting sites count.")] = False,
    sort: Annotated[Optional[list[str]], typer.Option("--sort", help=f"Sort key ({', '.join(SORT_KEYS)}); prefix - or + for direction.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many results.")] = 10,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many results.")] = 0,
    facets: Annotated[bool, typer.Option("--facets", help="Also print facet counts.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines: one per hit, then facets if asked.")] = False,
) -> None:
    """Search the studies, with filters, distance and sorting."""
    from trialfinder.search import SearchEngine
    from trialfinder.search.vocab import UnknownValue, normalize_all

    try:
        request = SearchRequest(
            query=query or "", condition=condition or "", intervention=intervention or "",
            statuses=normalize_all("status", status or [], strict=True),
            phases=normalize_all("phase", phase or [], strict=True),
            study_types=normalize_all("study_type", study_type or [], strict=True),
            funder_types=normalize_all("funder_type", funder or [], strict=True),
            sexes=normalize_all("sex", [sex], strict=True) if sex else [],
            age=age, healthy_volunteers=True if healthy else None, countries=list(country or []),
            sort=[parse_sort(item) for item in sort] if sort else [SortKey()],
            limit=limit, offset=offset, facets=facets,
        )
    except UnknownValue as error:
        fail(str(error))
    if near:
        request.near = _near(near, radius, recruiting_sites)
        if not sort and not (query or condition or intervention):
            request.sort = [SortKey("distance", descending=False)]
    result = SearchEngine.open(ctx.obj.settings, ctx.obj.store).search(request)
    if as_json:
        for hit in result.hits:
            sys.stdout.write(json.dumps(asdict(hit), ensure_ascii=False) + "\n")
        if facets:
            sys.stdout.write(json.dumps({"total": result.total, "facets": result.facets}, ensure_ascii=False) + "\n")
        return
    _print_table(result, request)


def _near(place_text: str, radius_text: str, recruiting_only: bool) -> Near:
    from trialfinder.geo import UnknownPlace, parse_radius, resolve_place

    try:
        radius_km = parse_radius(radius_text)
        place = resolve_place(place_text)
    except UnknownPlace as error:
        hint = f" Did you mean: {'; '.join(error.suggestions)}?" if error.suggestions else ""
        fail(f"unknown place {place_text!r}.{hint} Try a ZIP code, \"City, State\", a country or \"lat,lon\".")
    except ValueError as error:
        fail(str(error))
    return Near(lat=place.lat, lon=place.lon, radius_km=radius_km, recruiting_sites_only=recruiting_only,
                label=place.name)


def _print_table(result, request: SearchRequest) -> None:
    from trialfinder.model.labels import OVERALL_STATUS, PHASE, label

    where = f" within {request.near.radius_km:.0f} km of {request.near.label}" if request.near else ""
    console.print(f"[bold]{result.total}[/] studies{where}", highlight=False)
    if result.expanded_terms:
        console.print(f"Also searched: {', '.join(result.expanded_terms)}", highlight=False)
    table = Table(expand=True)
    table.add_column("NCT id", no_wrap=True)
    table.add_column("Title", ratio=3, overflow="ellipsis", no_wrap=True)
    table.add_column("Status", ratio=1, overflow="ellipsis", no_wrap=True)
    table.add_column("Phase", ratio=1, overflow="ellipsis", no_wrap=True)
    table.add_column("Updated", no_wrap=True)
    if request.near:
        table.add_column("Nearest site", ratio=2, overflow="ellipsis", no_wrap=True)
    for hit in result.hits:
        row = [hit.nct_id, hit.title, label(OVERALL_STATUS, hit.overall_status),
               ", ".join(label(PHASE, p) for p in hit.phases), hit.last_update or ""]
        if request.near:
            site = hit.nearest_site
            row.append(f"{site.distance_km:.0f} km, {site.city or site.facility or ''}"
                       f"{' (approx.)' if site.approximate else ''}" if site else "")
        table.add_row(*row)
    console.print(table)
    if result.has_more:
        console.print(f"Showing {result.offset + 1}-{result.offset + len(result.hits)}; more with --offset "
                      f"{result.offset + len(result.hits)}.")
    for name, counts in result.facets.items():
        if counts:
            console.print(f"[bold]{name}[/]: " + ", ".join(f"{value} {count}" for value, count in counts.items()),
                          highlight=False)
