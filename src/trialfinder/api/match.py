"""POST /api/match: rank trials for a patient, with a verdict for every criterion."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trialfinder.api.deps import services
from trialfinder.api.errors import bad_request
from trialfinder.server import Services

router = APIRouter(tags=["match"])

MAX_TEXT = 20_000
MAX_AMONG = 1000


class MatchRequest(BaseModel):
    """A patient (free text and/or structured answers) and where to look."""

    text: str = Field("", max_length=MAX_TEXT, description="The patient's description or clinical note.")
    age: float | None = Field(None, ge=0, le=130, description="Age in years.")
    sex: Literal["female", "male"] | None = None
    conditions: list[str] = Field(default_factory=list, description="Conditions the patient has.")
    no_conditions: list[str] = Field(default_factory=list, description="Conditions the patient does not have.")
    therapies: list[str] = Field(default_factory=list, description="Treatments the patient has had or takes.")
    no_therapies: list[str] = Field(default_factory=list, description="Treatments the patient has never had.")
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    smoking: Literal["current", "former", "never"] | None = Field(None, description="Smokes now, used to, or never.")
    ecog: int | None = Field(None, ge=0, le=5, description="ECOG performance status.")
    karnofsky: int | None = Field(None, ge=0, le=100, description="Karnofsky performance status.")
    labs: dict[str, float | str] = Field(default_factory=dict,
                                         description='Lab values by name, e.g. {"hba1c": "7.5 %", "platelets": 150000}.')
    biomarkers: dict[str, str] = Field(default_factory=dict, description=(
        'Tumour markers by name: positive, negative or a variant, e.g. {"EGFR": "exon 19 deletion", '
        '"HER2": "negative", "ER": "positive"}.'))
    near: str | None = Field(None, max_length=200, description="Only trials with a site near this place.")
    radius: str = Field("50mi", max_length=20, description="Distance for `near`, e.g. 50mi or 80km.")
    statuses: list[str] = Field(default_factory=list, description="Only these overall statuses, e.g. RECRUITING.")
    among: list[str] | None = Field(None, max_length=MAX_AMONG,
                                    description="Rank exactly these NCT ids (filters apply only when also given).")
    limit: int = Field(10, ge=1, le=100)


class VerdictModel(BaseModel):
    """One criterion and whether it lets the patient in (for exclusions: met = does not exclude)."""

    criterion: str
    kind: Literal["inclusion", "exclusion"]
    status: Literal["met", "not_met", "unknown"]
    reason: str
    evidence: str | None = Field(None, description="The patient's words the verdict rests on.")
    span: list[int] | None = Field(None, description="[start, end) of the criterion in the eligibility text.")
    source: Literal["structured", "rules", "terms", "llm"]
    hard: bool = Field(description="A not_met that rules the patient out.")


class TrialMatchModel(BaseModel):
    """One ranked trial."""

    nct_id: str
    title: str
    score: float
    relevance: float
    excluded: bool
    overall_status: str | None
    conditions: list[str]
    met: int
    not_met: int
    unknown: int
    verdicts: list[VerdictModel]


class PatientSummary(BaseModel):
    """What the matcher understood about the patient."""

    age: float | None
    sex: str | None
    conditions: list[str]
    absent_conditions: list[str]
    therapies: list[str]
    biomarkers: dict[str, str] = Field(description='Tumour markers read, e.g. {"EGFR": "positive (EXON 19 DELETION)"}.')
    smoking: str | None = Field(None, description="Smoking as read: current, former, never, not_current (a non-smoker "
                                                   "who may have smoked before) or ever (a smoking history, now or not "
                                                   "said).")


class MatchResponse(BaseModel):
    """Ranked trials, best fit first."""

    patient: PatientSummary
    matches: list[TrialMatchModel]


def _run_match(svc: Services, body: MatchRequest) -> MatchResponse:
    from trialfinder.geo import UnknownPlace
    from trialfinder.match import PatientInputError, match_patient, patient_from_fields
    from trialfinder.match.llm import LlmJudge
    from trialfinder.match.places import near_place
    from trialfinder.model.ids import canonical_nct_id
    from trialfinder.search import STATUS_GROUPS

    fields = body.model_dump(include={"text", "age", "sex", "conditions", "no_conditions", "therapies",
                                      "no_therapies", "pregnant", "breastfeeding", "smoking", "ecog", "karnofsky", "labs",
                                      "biomarkers"})
    try:
        patient = patient_from_fields(fields)
    except PatientInputError as error:
        raise bad_request(str(error)) from error
    if not patient.text.strip() and not patient.profile.diagnoses and body.among is None:
        raise bad_request("describe the patient: give `text` or at least one of `conditions`", "text")
    try:
        near = near_place(body.near, body.radius)
    except (ValueError, UnknownPlace) as error:
        raise bad_request(str(error), "near") from error
    among = None
    if body.among is not None:
        among = []
        for value in body.among:
            canonical = canonical_nct_id(value)
            if canonical is None:
                raise bad_request(f"{value!r} is not an NCT id", "among")
            among.append(canonical)
    statuses = [s for value in body.statuses for s in STATUS_GROUPS.get(value.lower(), [value.upper()])]
    matches = match_patient(svc.engine, svc.store, patient, near=near, statuses=statuses, limit=body.limit,
                            among=among, judge=LlmJudge.from_env())
    profile = patient.profile
    return MatchResponse(
        patient=PatientSummary(
            age=profile.age_years, sex=profile.sex, conditions=[m.term for m in profile.diagnoses],
            absent_conditions=[m.term for m in profile.absent_conditions], therapies=[m.term for m in profile.therapies],
            biomarkers={marker: result.describe() for marker, result in profile.biomarkers.items()},
            smoking=profile.smoking,
        ),
        matches=[TrialMatchModel(**item.to_dict()) for item in matches],
    )


@router.post("/match", response_model=MatchResponse, summary="Match a patient to trials")
async def match(body: MatchRequest, svc: Services = Depends(services)) -> MatchResponse:
    """Rank trials for a patient: topical relevance, inclusion criteria met, and exclusions that rule them out."""
    return await run_in_threadpool(_run_match, svc, body)
