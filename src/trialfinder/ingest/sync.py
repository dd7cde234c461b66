"""Live sync: page through ClinicalTrials.gov API v2 into the store, resumable from the last committed page."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from trialfinder.ctgov import CtgovClient, CtgovError, since_query
from trialfinder.ingest.files import ingest_items
from trialfinder.ingest.readers import record_from_json
from trialfinder.store import Store, UpsertCounts, utc_now

LIVE_DEFAULT_STATUSES = ["RECRUITING", "NOT_YET_RECRUITING"]


class SyncError(Exception):
    """A sync that stopped before the end; the run is recorded and the next sync resumes it."""


@dataclass
class SyncOptions:
    """What to fetch: everything updated since a date, optionally narrowed by status, condition or query."""

    since: str | None = None
    full: bool = False
    statuses: list[str] = field(default_factory=list)
    condition: str | None = None
    query: str | None = None


@dataclass
class SyncResult:
    """What a sync run did."""

    run_id: int
    pages: int
    counts: UpsertCounts
    rejected: int
    resumed: bool

    @property
    def summary(self) -> str:
        c = self.counts
        resumed = " (resumed an interrupted run)" if self.resumed else ""
        return (f"{self.pages} pages, added {c.added}, updated {c.updated}, unchanged {c.unchanged}, "
                f"rejected {self.rejected}{resumed}")


def request_params(options: SyncOptions, since: str | None) -> dict[str, str]:
    """The API v2 query parameters for a sync (the same on every page, as the API requires)."""
    params: dict[str, str] = {}
    terms = [f"({options.query})"] if options.query else []
    if since:
        terms.append(since_query(date.fromisoformat(since)))
    if terms:
        params["query.term"] = " AND ".join(terms)
    if options.condition:
        params["query.cond"] = options.condition
    if options.statuses:
        params["filter.overallStatus"] = ",".join(options.statuses)
    return params


def run_sync(
    store: Store,
    client: CtgovClient,
    options: SyncOptions,
    *,
    on_page: Callable[[int, int, int | None], None] | None = None,
) -> SyncResult:
    """Fetch every matching page into the store; an interrupted run with the same parameters is resumed."""
    since = None if options.full else (options.since or _last_sync_date(store))
    params = request_params(options, since)
    unfinished = store.unfinished_sync_run(params)
    resumed = bool(unfinished and unfinished["next_page_token"])
    if unfinished:
        run_id = unfinished["id"]
        counts = UpsertCounts(unfinished["added"], unfinished["updated"], unfinished["unchanged"])
        pages, rejected = unfinished["pages"], unfinished["rejected"]
        token = unfinished["next_page_token"]
        store.update_sync_run(run_id, state="running", error=None)
    else:
        run_id = store.start_sync_run(params, since)
        counts, pages, rejected, token = UpsertCounts(), 0, 0, None
    fetched = 0
    try:
        for page in client.iter_pages(params, start_token=token):
            items = [record_from_json(f"ClinicalTrials.gov page {pages + 1}", f"studies[{i}]",
                                      json.dumps(study, ensure_ascii=False))
                     for i, study in enumerate(page.studies)]
            report = ingest_items(store, items)
            counts += report.counts
            rejected += len(report.rejected)
            pages += 1
            fetched += len(page.studies)
            # The token is saved only after the page is committed, so a crash re-fetches at most one page.
            store.update_sync_run(run_id, pages=pages, added=counts.added, updated=counts.updated,
                                  unchanged=counts.unchanged, rejected=rejected,
                                  next_page_token=page.next_page_token)
            if on_page is not None:
                on_page(pages, fetched, page.total_count)
    except CtgovError as error:
        store.update_sync_run(run_id, state="failed", error=str(error), finished_at=utc_now())
        raise SyncError(f"sync stopped after {pages} pages: {error}. Run `trialfinder sync` again to resume.") from error
    except BaseException as error:
        store.update_sync_run(run_id, state="interrupted", error=repr(error), finished_at=utc_now())
        raise
    store.update_sync_run(run_id, state="succeeded", finished_at=utc_now(), next_page_token=None)
    return SyncResult(run_id, pages, counts, rejected, resumed)


def _last_sync_date(store: Store) -> str | None:
    last = store.last_successful_sync()
    return last["started_at"][:10] if last else None
