"""ClinicalTrials.gov API v2 adapter: paging, retries, rate limiting."""

from trialfinder.ctgov.client import (
    DEFAULT_BASE_URL,
    MAX_PAGE_SIZE,
    USER_AGENT,
    CtgovClient,
    CtgovError,
    RateLimiter,
    StudiesPage,
    StudyNotFound,
    TransientCtgovError,
    registry_reachable,
    since_query,
    status_filter,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_PAGE_SIZE",
    "USER_AGENT",
    "CtgovClient",
    "CtgovError",
    "RateLimiter",
    "StudiesPage",
    "StudyNotFound",
    "TransientCtgovError",
    "registry_reachable",
    "since_query",
    "status_filter",
]
