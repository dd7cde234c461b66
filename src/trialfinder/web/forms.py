"""The search page's query string: parsed strictly (a bad value is a 400 page), turned into a SearchRequest,
and written back into URLs for links that change one thing (a filter, the sort, the page)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from trialfinder.geo import Place, parse_radius
from trialfinder.search import vocab
from trialfinder.search.types import STATUS_GROUPS, Near, SearchRequest, SortKey
from trialfinder.web.errors import BadRequest

DEFAULT_STATUS = "recruiting"
DEFAULT_RADIUS = "50mi"
RADIUS_CHOICES = ("10mi", "25mi", "50mi", "100mi", "250mi", "500mi")
PER_PAGE_CHOICES = (10, 20, 50)
DEFAULT_PER_PAGE = 20
MAX_RESULT_WINDOW = 10_000  # deepest result a page may reach: page * per_page
MAX_TEXT = 500
MAX_MULTI = 30
MAX_RADIUS_KM = 20_038.0  # half the Earth's circumference: anything wider is everywhere
MAX_AGE = 125.0

# Sort choices offered to users, with the direction each one means.
SORTS: dict[str, tuple[str, SortKey]] = {
    "relevance": ("Best match", SortKey("relevance", True)),
    "distance": ("Nearest first", SortKey("distance", False)),
    "last_updated": ("Recently updated", SortKey("last_updated", True)),
    "first_posted": ("Newest first", SortKey("first_posted", True)),
    "start_date": ("Start date", SortKey("start_date", True)),
    "enrollment": ("Largest enrollment", SortKey("enrollment", True)),
}
STATUS_CHOICES: dict[str, str] = {
    "recruiting": "Recruiting",
    "not_yet_recruiting": "Not yet recruiting",
    "open": "Recruiting or about to",
    "active": "Active, not recruiting or by invitation",
    "completed": "Completed",
    "closed": "Closed (any)",
    "all": "Any status",
}
SEX_CHOICES = {"": "Any", "female": "Female", "male": "Male"}
YES_NO = {"": "Any", "yes": "Yes", "no": "No"}
FORMATS = ("html", "csv", "json")
# Multi-valued filters: query parameter -> (search vocabulary kind, SearchRequest field)
ENUM_FILTERS: dict[str, tuple[str, str]] = {
    "phase": ("phase", "phases"),
    "type": ("study_type", "study_types"),
    "funder": ("funder_type", "funder_types"),
    "age_group": ("age_group", "age_groups"),
}


@dataclass(frozen=True)
class SearchForm:
    """What the user asked for on the search page, validated, in URL terms."""

    q: str = ""
    cond: str = ""
    intr: str = ""
    loc: str = ""
    radius: str = DEFAULT_RADIUS
    radius_km: float = 80.4672
    age: float | None = None
    sex: str = ""
    hv: str = ""
    status: str = DEFAULT_STATUS
    results: str = ""
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)  # parameter -> API v2 values
    countries: tuple[str, ...] = ()
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    format: str = "html"

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def radius_in_miles(self) -> bool:
        return "km" not in self.radius.lower()

    @property
    def radius_label(self) -> str:
        """"50 miles", "80 km"."""
        number = self.radius.rstrip("abcdefghijklmnopqrstuvwxyz.") or self.radius
        return f"{number} {'miles' if self.radius_in_miles else 'km'}"

    @property
    def effective_sort(self) -> str:
        return "relevance" if self.sort == "distance" and not self.loc else self.sort

    @property
    def age_text(self) -> str:
        if self.age is None:
            return ""
        return str(int(self.age)) if self.age == int(self.age) else str(self.age)

    def selected(self, parameter: str, value: str) -> bool:
        """Whether a multi-valued filter includes a value (API v2 spelling)."""
        if parameter == "country":
            return value in self.countries
        return value in self.enums.get(parameter, ())

    def params(self) -> list[tuple[str, str]]:
        """The form as query parameters, defaults left out so that URLs stay short and canonical."""
        pairs: list[tuple[str, str]] = []
        for name in ("q", "cond", "intr", "loc"):
            if value := getattr(self, name):
                pairs.append((name, value))
        if self.loc and self.radius != DEFAULT_RADIUS:
            pairs.append(("radius", self.radius))
        if self.age is not None:
            pairs.append(("age", self.age_text))
        for name in ("sex", "hv", "results"):
            if value := getattr(self, name):
                pairs.append((name, value))
        if self.status != DEFAULT_STATUS:
            pairs.append(("status", self.status))
        for parameter in ENUM_FILTERS:
            pairs += [(parameter, value.lower()) for value in self.enums.get(parameter, ())]
        pairs += [("country", country) for country in self.countries]
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.per_page != DEFAULT_PER_PAGE:
            pairs.append(("per_page", str(self.per_page)))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def url(self, path: str = "/search", **changes) -> str:
        """The URL of this search with some fields changed (paging back to 1 unless the page is given)."""
        if "page" not in changes:
            changes["page"] = 1
        query = urlencode(replace(self, **changes).params())
        return f"{path}?{query}" if query else path

    def toggled(self, parameter: str, value: str) -> str:
        """The URL with one filter value switched on or off."""
        if parameter == "country":
            current = self.countries
            return self.url(countries=tuple(c for c in current if c != value) if value in current else current + (value,))
        current = self.enums.get(parameter, ())
        new = tuple(v for v in current if v != value) if value in current else current + (value,)
        return self.url(enums={**self.enums, parameter: new})

    def to_request(self, place: Place | None, *, facets: bool = True) -> SearchRequest:
        """The search service's request for this form; place is the resolved `loc`."""
        request = SearchRequest(
            query=self.q,
            condition=self.cond,
            intervention=self.intr,
            statuses=list(STATUS_GROUPS[self.status]),
            sexes=[self.sex.upper()] if self.sex else [],
            age=self.age,
            healthy_volunteers=True if self.hv == "yes" else None,
            has_results={"yes": True, "no": False}.get(self.results),
            countries=list(self.countries),
            sort=[SORTS[self.effective_sort][1]],
            offset=self.offset,
            limit=self.per_page,
            facets=facets,
        )
        for parameter, (_, attribute) in ENUM_FILTERS.items():
            setattr(request, attribute, list(self.enums.get(parameter, ())))
        if place is not None:
            request.near = Near(lat=place.lat, lon=place.lon, radius_km=self.radius_km, label=place.name)
        return request


def _text(params: QueryParams, name: str, limit: int = MAX_TEXT) -> str:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(name, "give this parameter once")
    value = " ".join((values[0] if values else "").split())
    if len(value) > limit:
        raise BadRequest(name, f"at most {limit} characters")
    return value


def _choice(params: QueryParams, name: str, choices, default: str) -> str:
    value = _text(params, name, 40).lower() or default
    if value not in choices:
        raise BadRequest(name, f"unknown value {value!r}; choose one of {', '.join(c for c in choices if c)}")
    return value


def _enum_values(params: QueryParams, name: str, kind: str) -> tuple[str, ...]:
    """API v2 values of a multi-valued filter, through the search vocabulary ("phase 2" -> PHASE2)."""
    values = [v.strip() for v in params.getlist(name) if v.strip()]
    if len(values) > MAX_MULTI or any(len(v) > 60 for v in values):
        raise BadRequest(name, f"at most {MAX_MULTI} values of at most 60 characters")
    chosen: dict[str, None] = {}
    for value in values:
        try:
            chosen.update(dict.fromkeys(vocab.normalize(kind, value)))
        except vocab.UnknownValue as error:
            raise BadRequest(name, str(error)) from None
    return tuple(chosen)


def _positive_int(params: QueryParams, name: str, default: int) -> int:
    text = _text(params, name, 12)
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise BadRequest(name, f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _age(params: QueryParams) -> float | None:
    text = _text(params, "age", 12)
    if not text:
        return None
    try:
        age = float(text)
    except ValueError:
        raise BadRequest("age", f"{text!r} is not a number of years") from None
    if not math.isfinite(age) or not 0 <= age <= MAX_AGE:
        raise BadRequest("age", f"an age must be between 0 and {MAX_AGE:g} years")
    return age


def _radius(params: QueryParams) -> tuple[str, float]:
    text = _text(params, "radius", 20) or DEFAULT_RADIUS
    try:
        km = parse_radius(text)
    except ValueError as error:
        raise BadRequest("radius", str(error)) from None
    if km > MAX_RADIUS_KM:
        raise BadRequest("radius", "a radius can be at most 12,450 miles (20,038 km)")
    return text.replace(" ", "").lower(), km


def parse_search_form(params: QueryParams) -> SearchForm:
    """Validate the search query string; raises BadRequest naming the first bad parameter."""
    radius, radius_km = _radius(params)
    per_page = _positive_int(params, "per_page", DEFAULT_PER_PAGE)
    if per_page not in PER_PAGE_CHOICES:
        raise BadRequest("per_page", f"choose one of {', '.join(map(str, PER_PAGE_CHOICES))}")
    page = _positive_int(params, "page", 1)
    if page * per_page > MAX_RESULT_WINDOW:
        raise BadRequest("page", f"results go at most {MAX_RESULT_WINDOW:,} deep; narrow the search instead")
    countries = tuple(dict.fromkeys(c.strip() for c in params.getlist("country") if c.strip()))
    if len(countries) > MAX_MULTI or any(len(c) > 100 for c in countries):
        raise BadRequest("country", f"at most {MAX_MULTI} countries of at most 100 characters")
    return SearchForm(
        q=_text(params, "q"),
        cond=_text(params, "cond"),
        intr=_text(params, "intr"),
        loc=_text(params, "loc", 200),
        radius=radius,
        radius_km=radius_km,
        age=_age(params),
        sex=_choice(params, "sex", SEX_CHOICES, ""),
        hv=_choice(params, "hv", YES_NO, ""),
        status=_choice(params, "status", STATUS_CHOICES, DEFAULT_STATUS),
        results=_choice(params, "results", YES_NO, ""),
        enums={name: _enum_values(params, name, kind) for name, (kind, _) in ENUM_FILTERS.items()},
        countries=countries,
        sort=_choice(params, "sort", SORTS, "relevance"),
        page=page,
        per_page=per_page,
        format=_choice(params, "format", FORMATS, "html"),
    )
