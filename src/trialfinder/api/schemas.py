"""Response models of our own API (/api/...): what the OpenAPI document promises."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    message: str
    parameter: str | None = None
    suggestions: list[str] | None = None


class ErrorBody(BaseModel):
    """Every 4xx answer of our API."""

    error: ErrorDetail


class NearestSite(BaseModel):
    facility: str | None
    city: str | None
    state: str | None
    country: str | None
    status: str | None
    lat: float
    lon: float
    distance_km: float
    approximate: bool = False


class HitModel(BaseModel):
    """One study in a result list."""

    nct_id: str
    score: float
    title: str
    overall_status: str | None
    phases: list[str]
    study_type: str | None
    conditions: list[str]
    sponsor: str | None
    last_update: str | None
    start_date: str | None = None
    enrollment: int | None = None
    nearest_site: NearestSite | None = None
    site_count: int = 0
    url: str = Field(description="path of this study in our API")


class PlaceModel(BaseModel):
    """The place a search was centred on, as resolved from the user's text."""

    name: str
    lat: float
    lon: float
    kind: str
    country: str | None = None
    radius_km: float


class SearchResponse(BaseModel):
    total: int
    hits: list[HitModel]
    facets: dict[str, dict[str, int]] = {}
    next_cursor: str | None = Field(None, description="pass as `cursor` to get the next page; absent on the last")
    expanded_terms: list[str] = []
    place: PlaceModel | None = None


class FacetsResponse(BaseModel):
    total: int
    facets: dict[str, dict[str, int]]


class DerivedFields(BaseModel):
    """What we compute from a record, worded for people."""

    title: str
    overall_status: str | None
    overall_status_label: str | None
    phases: list[str]
    phase_labels: list[str]
    study_type: str | None
    funder_type: str
    minimum_age_years: float | None
    maximum_age_years: float | None
    age_range: str
    conditions: list[str]
    lead_sponsor: str | None
    last_update: str | None
    has_results: bool
    site_count: int
    ctgov_url: str


class StudyResponse(BaseModel):
    nct_id: str
    derived: DerivedFields
    record: dict[str, Any] = Field(description="the study exactly as ingested (ClinicalTrials.gov API v2 JSON)")


class LocationCount(BaseModel):
    name: str
    studies: int


class LocationsResponse(BaseModel):
    level: str = Field(description="country, region or city")
    country: str | None = None
    region: str | None = None
    items: list[LocationCount]


class StatsResponse(BaseModel):
    studies: int
    by_status: dict[str, int]
    by_phase: dict[str, int]
    by_study_type: dict[str, int]
    sites: int
    rejects: int
    change_counter: int


class SyncRun(BaseModel):
    id: int
    started_at: str
    finished_at: str | None
    state: str
    since: str | None
    pages: int
    added: int
    updated: int
    unchanged: int
    rejected: int
    error: str | None


class SyncStatusResponse(BaseModel):
    change_counter: int
    studies: int
    last_success: SyncRun | None
    runs: list[SyncRun]
