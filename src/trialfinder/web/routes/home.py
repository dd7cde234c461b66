"""The home page: the search form first."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from trialfinder.web import forms
from trialfinder.web.templating import render

router = APIRouter()


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def home(request: Request) -> Response:
    """Search form: condition or keyword, place and radius, patient questions, status."""
    return render(request, "home.html", {"form": forms.SearchForm(), "choices": forms})
