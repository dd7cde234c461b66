"""`trialfinder match`: rank trials for a patient described in a file, with a verdict per criterion."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from trialfinder.cli.main import Context, app, console, errors, fail, print_json

STATUS_MARKS = {"met": "[green]met[/]", "not_met": "[red]not met[/]", "unknown": "[dim]unknown[/]"}


def _read_ids(path: Path) -> list[str]:
    from trialfinder.model.ids import canonical_nct_id

    ids = []
    for word in path.read_text(encoding="utf-8").replace(",", " ").split():
        canonical = canonical_nct_id(word)
        if canonical is None:
            fail(f"{path}: {word!r} is not an NCT id")
        ids.append(canonical)
    return ids


def _expanded_statuses(values: list[str] | None) -> list[str]:
    """Overall statuses as the user typed them, groups ("open", "recruiting", "closed") spelled out."""
    from trialfinder.search import STATUS_GROUPS

    statuses: list[str] = []
    for value in values or []:
        statuses.extend(STATUS_GROUPS.get(value.lower(), [value.upper()]))
    return statuses


@app.command()
def match(
    ctx: typer.Context,
    patient_file: Annotated[Path, typer.Argument(help="Patient description: plain text, or JSON with \"text\" and/or structured fields (age, sex, conditions, no_conditions, therapies, no_therapies, pregnant, breastfeeding, smoking, ecog, karnofsky, labs, biomarkers, location); '-' reads stdin.")],
    near: Annotated[Optional[str], typer.Option("--near", help="Only trials with a site near this place (ZIP, city, country or 'lat,lon').")] = None,
    radius: Annotated[str, typer.Option("--radius", help="Distance for --near, e.g. 50mi or 80km.")] = "50mi",
    status: Annotated[Optional[list[str]], typer.Option("--status", help="Only these overall statuses (repeatable), e.g. RECRUITING, or a group: open, recruiting, closed.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many trials to list.")] = 10,
    among: Annotated[Optional[Path], typer.Option("--among", help="Rank exactly the NCT ids listed in this file (whitespace or comma separated).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranked trials with every verdict as JSON.")] = False,
    details: Annotated[bool, typer.Option("--details", help="Show every criterion's verdict, not just the summary.")] = False,
) -> None:
    """Rank trials for a patient: relevance, inclusion criteria met, and exclusions that rule them out."""
    from trialfinder.geo import UnknownPlace
    from trialfinder.match import PatientInputError, as_patient, match_patient, read_patient_file
    from trialfinder.match.llm import LlmJudge
    from trialfinder.match.places import near_place
    from trialfinder.search import SearchEngine

    obj: Context = ctx.obj
    try:
        if str(patient_file) == "-":
            content = sys.stdin.read()
            patient = as_patient(content) if not content.lstrip().startswith("{") else _patient_json(content)
        else:
            if not patient_file.is_file():
                fail(f"no such patient file: {patient_file}")
            patient = read_patient_file(patient_file)
    except PatientInputError as error:
        fail(str(error))
    if not patient.text.strip() and not patient.profile.diagnoses:
        fail("the patient description names no condition and has no text to search with")
    try:
        where = near_place(near, radius)
    except (ValueError, UnknownPlace) as error:
        fail(str(error))
    statuses = _expanded_statuses(status)
    ids = _read_ids(among) if among else None
    engine = SearchEngine.open(obj.settings, obj.store)
    matches = match_patient(engine, obj.store, patient, near=where, statuses=statuses, limit=limit, among=ids,
                            judge=LlmJudge.from_env())
    if as_json:
        print_json([m.to_dict() for m in matches])
        return
    if not matches:
        console.print("No trials matched.")
        return
    table = Table()
    for column, justify in (("#", "right"), ("NCT id", "left"), ("score", "right"), ("fit", "left"),
                            ("met / not met / unknown", "center"), ("title", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for rank, item in enumerate(matches, start=1):
        fit = "[red]excluded[/]" if item.excluded else ("[yellow]check[/]" if item.not_met else "[green]possible[/]")
        table.add_row(str(rank), item.nct_id, f"{item.score:.3f}", fit, f"{item.met} / {item.not_met} / {item.unknown}",
                      item.title)
    console.print(table)
    for item in matches:
        shown = item.verdicts if details else [v for v in item.verdicts if v.status == "not_met"][:3]
        if not shown:
            continue
        console.print(f"[bold]{item.nct_id}[/]", highlight=False)
        for verdict in shown:
            evidence = f' — "{verdict.evidence}"' if verdict.evidence else ""
            console.print(f"  {STATUS_MARKS[verdict.status]} ({verdict.kind}) {verdict.criterion[:140]}: "
                          f"{verdict.reason}{evidence}", highlight=False)


def _patient_json(content: str):
    import json

    from trialfinder.match import PatientInputError, patient_from_fields

    try:
        return patient_from_fields(json.loads(content))
    except json.JSONDecodeError as error:
        raise PatientInputError(f"invalid JSON on stdin ({error})") from error


@app.command()
def embed(
    ctx: typer.Context,
    status: Annotated[Optional[list[str]], typer.Option("--status", help="Only studies with these overall statuses (repeatable), e.g. a group: open, recruiting, closed. Default: every study.")] = None,
) -> None:
    """Compute ahead of time the sentence vectors that matching compares notes with (else each is made on first use)."""
    from trialfinder.index.vectors import open_study_vectors
    from trialfinder.model import decode_study

    obj: Context = ctx.obj
    vectors = open_study_vectors(obj.settings.index_dir)
    if vectors is None:
        fail("sentence vectors need the embeddings extra: pip install -e '.[embeddings]' (make install does it)")
    wanted = set(_expanded_statuses(status))
    seen = 0

    def studies():
        nonlocal seen
        for _, raw in obj.store.iter_raw():
            study = decode_study(raw)
            if not wanted or study.overall_status in wanted:
                seen += 1
                if seen % 5000 == 0:
                    errors.print(f"{seen:,} studies ...", highlight=False)
                yield study

    counts = vectors.embed_ahead(studies())
    console.print(f"{seen:,} studies: {counts.embedded:,} embedded, {counts.cached:,} already cached, "
                  f"{counts.no_text:,} with no text; vectors in {vectors.path}", highlight=False)
