"""Website pages for matching: "Match a patient" (/match) and a trial's "Check your eligibility" panel
(/study/{NCT_ID}/eligibility, a full page, or the panel alone when htmx asks for it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from trialfinder.match.types import CriterionVerdict, TrialMatch
from trialfinder.web.deps import services
from trialfinder.web.errors import PageNotFound, canonical_study_id
from trialfinder.web.templating import is_htmx, render

router = APIRouter()

MAX_NOTE_CHARS = 20_000
PAGE_RESULTS = 20
STATUS_CHOICES = (("all", "Any status"), ("open", "Open to enrolment"), ("recruiting", "Recruiting"))
VERDICT_LABELS = {"met": "Fits", "not_met": "Does not fit", "unknown": "Not known"}


@dataclass
class MatchForm:
    """What the "Match a patient" form holds."""

    text: str = ""
    place: str = ""
    radius: str = "50mi"
    status: str = "all"
    errors: list[str] = field(default_factory=list)


def _run_page_match(svc, form: MatchForm) -> list[TrialMatch]:
    from trialfinder.geo import UnknownPlace
    from trialfinder.match import PatientInputError, as_patient, match_patient
    from trialfinder.match.llm import LlmJudge
    from trialfinder.match.places import near_place
    from trialfinder.search import STATUS_GROUPS

    try:
        near = near_place(form.place, form.radius)
    except (ValueError, UnknownPlace) as error:
        form.errors.append(str(error))
        return []
    try:
        patient = as_patient(form.text)
    except PatientInputError as error:
        form.errors.append(str(error))
        return []
    statuses = STATUS_GROUPS.get(form.status, [])
    return match_patient(svc.engine, svc.store, patient, near=near, statuses=statuses, limit=PAGE_RESULTS,
                         judge=LlmJudge.from_env())


@router.get("/match", include_in_schema=False)
async def match_form(request: Request) -> Response:
    """The empty form (a patient note is posted, never put in a URL)."""
    return render(request, "match.html", {"form": MatchForm(), "matches": None, "choices": STATUS_CHOICES,
                                          "labels": VERDICT_LABELS})


@router.post("/match", include_in_schema=False)
async def match_results(request: Request) -> Response:
    """Ranked trials for the posted note, each with what fits and what does not."""
    data = await request.form()
    form = MatchForm(text=str(data.get("text") or "")[:MAX_NOTE_CHARS], place=str(data.get("place") or "").strip(),
                     radius=str(data.get("radius") or "50mi"), status=str(data.get("status") or "all"))
    if form.status not in dict(STATUS_CHOICES):
        form.status = "all"
    matches: list[TrialMatch] | None = None
    if not form.text.strip():
        form.errors.append("Describe the patient: age, sex, diagnoses, treatments so far.")
    else:
        matches = await run_in_threadpool(_run_page_match, services(request), form)
    template = "partials/match_results.html" if is_htmx(request) else "match.html"
    return render(request, template, {"form": form, "matches": matches, "choices": STATUS_CHOICES,
                                      "labels": VERDICT_LABELS}, status_code=400 if form.errors else 200)


@dataclass
class EligibilityCheck:
    """The panel: the trial, its questions with the answers so far, and the verdicts when answered."""

    nct_id: str
    title: str
    questions: list
    answers: dict[str, str]
    verdicts: list[CriterionVerdict] | None
    errors: list[str]

    @property
    def counts(self) -> dict[str, int]:
        found = {"met": 0, "not_met": 0, "unknown": 0}
        for verdict in self.verdicts or []:
            found[verdict.status] += 1
        return found

    @property
    def excluded(self) -> bool:
        return any(v.status == "not_met" and v.hard for v in self.verdicts or [])


def build_check(store, nct_id: str, answers: dict[str, str]) -> EligibilityCheck | None:
    """Questions for the trial and, when any answer is given, the verdict of every criterion (blocking)."""
    from trialfinder.match import PatientInputError, assess, patient_from_fields
    from trialfinder.match.questions import answers_to_fields, eligibility_questions

    study = store.study(nct_id)
    if study is None:
        return None
    questions = eligibility_questions(study)
    verdicts, errors = None, []
    if any(value.strip() for value in answers.values()):
        try:
            patient = patient_from_fields(answers_to_fields(questions, answers))
            verdicts = assess(study, patient)
        except PatientInputError as error:
            errors.append(str(error))
    return EligibilityCheck(nct_id, study.title, questions, answers, verdicts, errors)


@router.get("/study/{nct_id}/eligibility", include_in_schema=False)
async def eligibility_check(request: Request, nct_id: str) -> Response:
    """The "Check your eligibility" panel: a GET form of this trial's questions, re-rendered with verdicts."""
    canonical = canonical_study_id(nct_id)
    if canonical != nct_id:
        return RedirectResponse(f"/study/{canonical}/eligibility", status_code=301)
    answers = {key: value[:MAX_NOTE_CHARS] for key, value in request.query_params.items()}
    check = await run_in_threadpool(build_check, services(request).store, canonical, answers)
    if check is None:
        raise PageNotFound("trial", canonical)
    template = "partials/eligibility_check.html" if is_htmx(request) else "match_eligibility.html"
    return render(request, template, {"check": check, "labels": VERDICT_LABELS},
                  status_code=400 if check.errors else 200)
