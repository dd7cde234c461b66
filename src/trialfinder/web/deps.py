"""What route handlers read from the app: the services (store, search engine) and the location directory."""

from __future__ import annotations

from starlette.requests import Request

from trialfinder.server import Services
from trialfinder.web.directory import LocationDirectory


def services(request: Request) -> Services:
    """The app's services (opened by the lifespan, or given by a test)."""
    return request.app.state.services


def directory(request: Request) -> LocationDirectory:
    """The location directory over the app's store, made on first use."""
    store = services(request).store
    current = getattr(request.app.state, "location_directory", None)
    if current is None or current.store is not store:
        current = LocationDirectory(store)
        request.app.state.location_directory = current
    return current
