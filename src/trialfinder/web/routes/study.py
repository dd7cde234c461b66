"""The trial page: /study/{NCT_ID}."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from trialfinder.web.deps import services
from trialfinder.web.errors import PageNotFound, canonical_study_id
from trialfinder.web.presenters.study import StudyPage, present_study
from trialfinder.web.templating import render

router = APIRouter()


def load_study_page(store, nct_id: str) -> StudyPage | None:
    """Read the study and its sites and present them (blocking: run in a worker thread)."""
    study = store.study(nct_id)
    if study is None:
        return None
    return present_study(study, store.sites_of(nct_id))


@router.api_route("/study/{nct_id}", methods=["GET", "HEAD"], include_in_schema=False)
async def study_page(request: Request, nct_id: str) -> Response:
    """A trial page; other spellings of an NCT id redirect to the canonical URL."""
    canonical = canonical_study_id(nct_id)
    if canonical != nct_id:
        return RedirectResponse(f"/study/{canonical}", status_code=301)
    page = await run_in_threadpool(load_study_page, services(request).store, canonical)
    if page is None:
        raise PageNotFound("trial", canonical)
    return render(request, "study.html", {"page": page})
