"""Trials by location: /locations -> country -> state/region -> city -> the trials there."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from trialfinder.search.types import STATUS_GROUPS
from trialfinder.store.locations import studies_in_city
from trialfinder.web.deps import directory, services
from trialfinder.web.directory import LocationDirectory, PlaceEntry
from trialfinder.web.errors import BadRequest, PageNotFound
from trialfinder.web.forms import STATUS_CHOICES
from trialfinder.web.slugs import slugify
from trialfinder.web.templating import render

router = APIRouter()

CITY_PAGE_SIZE = 50
MAX_CITY_PAGE = 200


def _canonical(slug: str) -> str:
    return slugify(slug.replace("-", " "))


def _redirect_if_noncanonical(request: Request, parts: list[str]) -> Response | None:
    """Old or hand-typed spellings ("United States") redirect to the slugged URL."""
    canonical = [_canonical(p) for p in parts]
    if canonical == parts:
        return None
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse("/locations/" + "/".join(canonical) + query, status_code=301)


def _find(entries: list[PlaceEntry], slug: str, what: str) -> PlaceEntry:
    entry = next((e for e in entries if e.slug == slug), None)
    if entry is None:
        raise PageNotFound(what, slug.replace("-", " "))
    return entry


def _merged_into(cities: list[PlaceEntry], slug: str) -> PlaceEntry | None:
    """The city whose page now has the spelling this slug was made from ("new-york-city" -> New York), if any.

    Before spellings were merged beyond case and accents, every spelling had its own page; those URLs stay valid.
    """
    if any(entry.slug == slug for entry in cities):
        return None
    return next((entry for entry in cities if any(slugify(name) == slug for name in entry.spellings)), None)


@router.api_route("/locations", methods=["GET", "HEAD"], include_in_schema=False)
async def countries_page(request: Request) -> Response:
    """Every country with trial sites, with its number of trials."""
    places: LocationDirectory = directory(request)
    countries = await run_in_threadpool(places.countries)
    return render(request, "locations/countries.html", {"countries": countries})


@router.api_route("/locations/{country}", methods=["GET", "HEAD"], include_in_schema=False)
async def country_page(request: Request, country: str) -> Response:
    """The states or regions of a country."""
    if redirect := _redirect_if_noncanonical(request, [country]):
        return redirect
    places = directory(request)
    entry = _find(await run_in_threadpool(places.countries), country, "country")
    states = await run_in_threadpool(places.states, entry)
    return render(request, "locations/country.html", {"country": entry, "states": states})


@router.api_route("/locations/{country}/{state}", methods=["GET", "HEAD"], include_in_schema=False)
async def state_page(request: Request, country: str, state: str) -> Response:
    """The cities of a state or region."""
    if redirect := _redirect_if_noncanonical(request, [country, state]):
        return redirect
    places = directory(request)
    country_entry = _find(await run_in_threadpool(places.countries), country, "country")
    state_entry = _find(await run_in_threadpool(places.states, country_entry), state, "region")
    cities = await run_in_threadpool(places.cities, country_entry, state_entry)
    return render(request, "locations/state.html", {"country": country_entry, "state": state_entry, "cities": cities})


@router.api_route("/locations/{country}/{state}/{city}", methods=["GET", "HEAD"], include_in_schema=False)
async def city_page(request: Request, country: str, state: str, city: str) -> Response:
    """The trials with a site in a city, filtered by status, most recently updated first."""
    if redirect := _redirect_if_noncanonical(request, [country, state, city]):
        return redirect
    status = _status(request)
    page = _page(request)
    places = directory(request)
    country_entry = _find(await run_in_threadpool(places.countries), country, "country")
    state_entry = _find(await run_in_threadpool(places.states, country_entry), state, "region")
    cities = await run_in_threadpool(places.cities, country_entry, state_entry)
    if (merged := _merged_into(cities, city)) is not None:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/locations/{country_entry.slug}/{state_entry.slug}/{merged.slug}{query}",
                                status_code=301)
    city_entry = _find(cities, city, "city")
    found = await run_in_threadpool(
        studies_in_city, services(request).store,
        [n for n in country_entry.spellings if n], state_entry.spellings, [n for n in city_entry.spellings if n],
        STATUS_GROUPS[status], (page - 1) * CITY_PAGE_SIZE, CITY_PAGE_SIZE,
    )
    base = f"/locations/{country_entry.slug}/{state_entry.slug}/{city_entry.slug}"
    status_options = [
        (key, name, sum(found.by_status.get(s, 0) for s in STATUS_GROUPS[key]) if key != "all"
         else sum(found.by_status.values()))
        for key, name in STATUS_CHOICES.items()
    ]
    pages = max(1, -(-found.total // CITY_PAGE_SIZE))
    return render(request, "locations/city.html", {
        "country": country_entry, "state": state_entry, "city": city_entry, "found": found, "status": status,
        "status_options": status_options, "base": base, "page": page, "pages": pages,
    })


def _status(request: Request) -> str:
    values = request.query_params.getlist("status")
    status = (values[0] if values else "all").strip().lower() or "all"
    if len(values) > 1 or status not in STATUS_CHOICES:
        raise BadRequest("status", f"choose one of {', '.join(STATUS_CHOICES)}")
    return status


def _page(request: Request) -> int:
    text = request.query_params.get("page", "1").strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= MAX_CITY_PAGE:
        raise BadRequest("page", f"a page number from 1 to {MAX_CITY_PAGE}")
    return int(text)
