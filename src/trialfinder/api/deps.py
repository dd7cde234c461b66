"""Request-scoped access to the app's services from inside the mounted API application."""

from __future__ import annotations

from fastapi import Request

from trialfinder.server import Services


def services(request: Request) -> Services:
    """The services of the app the API is mounted in (the API app keeps a reference to it)."""
    host = request.app.state.host_app
    found = getattr(host.state, "services", None)
    if found is None:
        raise RuntimeError("the app's services are not open yet")
    return found
