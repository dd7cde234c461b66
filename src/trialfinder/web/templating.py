"""The Jinja2 environment (autoescaped) and the helpers that turn a template into a response."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from trialfinder.web import formatting
from trialfinder.web.security import tile_attribution, tile_url

TEMPLATES_DIR = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one template environment: every value escaped unless a presenter marked it safe."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["human_date"] = formatting.human_date
    env.filters["status_label"] = formatting.status_label
    env.filters["status_tone"] = formatting.status_tone
    env.filters["phases_label"] = formatting.phases_label
    env.globals["plural"] = formatting.plural
    return env


def is_htmx(request: Request) -> bool:
    """A request made by htmx for a fragment (a history restore wants the whole page)."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render a template with the request, its CSP nonce and the map settings available to it."""
    page = environment().get_template(template).render(
        request=request,
        csp_nonce=getattr(request.state, "csp_nonce", ""),
        map_settings={"tiles": tile_url(), "attribution": tile_attribution()},
        **context,
    )
    response = HTMLResponse(page, status_code=status_code, headers=headers)
    response.headers["vary"] = "HX-Request"
    return response
