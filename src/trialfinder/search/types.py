"""The search service's request and result types: what the website, both JSON APIs, the CLI and matching use."""

from __future__ import annotations

from dataclasses import dataclass, field

# Status groups offered by the website's status filter, each a set of API v2 overall statuses.
STATUS_GROUPS: dict[str, list[str]] = {
    "recruiting": ["RECRUITING"],
    "not_yet_recruiting": ["NOT_YET_RECRUITING"],
    "open": ["RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE"],
    "active": ["ACTIVE_NOT_RECRUITING", "ENROLLING_BY_INVITATION"],
    "completed": ["COMPLETED"],
    "closed": ["ACTIVE_NOT_RECRUITING", "COMPLETED", "SUSPENDED", "TERMINATED", "WITHDRAWN", "UNKNOWN",
               "NO_LONGER_AVAILABLE", "TEMPORARILY_NOT_AVAILABLE", "APPROVED_FOR_MARKETING", "WITHHELD"],
    "all": [],
}

SORT_KEYS = ("relevance", "distance", "last_updated", "start_date", "enrollment", "first_posted", "nct_id")

FACETS = ("status", "phase", "study_type", "funder_type", "has_results", "sex", "healthy_volunteers", "country",
          "age_group")


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of ISO dates (YYYY-MM-DD); a missing end is open."""

    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class Near:
    """Studies with at least one site within radius_km of a point."""

    lat: float
    lon: float
    radius_km: float = 80.4672  # 50 miles, ClinicalTrials.gov's default
    recruiting_sites_only: bool = False
    label: str | None = None  # the place as the user named it, for display


@dataclass(frozen=True)
class SortKey:
    """One sort key: a name from SORT_KEYS and a direction."""

    key: str = "relevance"
    descending: bool = True


@dataclass
class SearchRequest:
    """Everything a search can ask: text queries by scope, filters, distance, sort, paging and facets.

    Text fields accept plain words, "quoted phrases", AND/OR/NOT, parentheses, and ClinicalTrials.gov's
    AREA[Field]value / RANGE[a,b] syntax; a malformed query degrades to a plain-words search.
    Enum filters use the API v2 spellings (RECRUITING, PHASE2, INDUSTRY, FEMALE).
    """

    query: str = ""  # query.term: everything
    condition: str = ""  # query.cond
    intervention: str = ""  # query.intr
    title: str = ""  # query.titles (titles and acronym)
    outcome: str = ""  # query.outc
    sponsor: str = ""  # query.spons (lead sponsor and collaborators)
    lead_sponsor: str = ""  # query.lead
    location: str = ""  # query.locn (facility, city, state, country text)
    ids: list[str] = field(default_factory=list)  # filter.ids / query.id: NCT ids and other identifiers
    advanced: str = ""  # filter.advanced, AREA[...] syntax
    statuses: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    study_types: list[str] = field(default_factory=list)
    funder_types: list[str] = field(default_factory=list)  # NIH, FED, INDUSTRY, OTHER
    sexes: list[str] = field(default_factory=list)  # FEMALE, MALE (a study open to ALL matches either)
    age: float | None = None  # patient age in years: minimum <= age <= maximum, a missing bound is open
    age_groups: list[str] = field(default_factory=list)  # CHILD, ADULT, OLDER_ADULT
    healthy_volunteers: bool | None = None
    has_results: bool | None = None
    countries: list[str] = field(default_factory=list)  # as ClinicalTrials.gov spells them
    start: DateRange | None = None
    primary_completion: DateRange | None = None
    first_posted: DateRange | None = None
    last_updated: DateRange | None = None
    near: Near | None = None
    sort: list[SortKey] = field(default_factory=lambda: [SortKey()])
    offset: int = 0
    limit: int = 10
    facets: bool = False
    facet_names: tuple[str, ...] = FACETS  # which facets `facets` counts: each costs a pass over the matches
    synonyms: bool = True  # expand condition words with MeSH, mined abbreviations and rare-disease names


@dataclass(frozen=True)
class SiteHit:
    """The site of a study nearest to the place searched."""

    facility: str | None
    city: str | None
    state: str | None
    country: str | None
    status: str | None
    lat: float
    lon: float
    distance_km: float
    approximate: bool = False


@dataclass
class Hit:
    """One study in a result list, with what a result card shows."""

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
    nearest_site: SiteHit | None = None
    site_count: int = 0


@dataclass
class SearchResult:
    """A page of hits, the total, and (when asked) facet counts: facet name -> value -> count."""

    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    offset: int = 0
    limit: int = 10
    expanded_terms: list[str] = field(default_factory=list)  # synonyms that were added, to show the user

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total
