"""Shared test fixtures: where ../shared/data lives, and skip rules that never skip under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TRIALFINDER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip outside CI when a service or data set is missing; under CI a missing requirement is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder (or $TRIALFINDER_SHARED_DATA)."""
    require(SHARED_DATA.is_dir(), f"shared data not found at {SHARED_DATA} (set TRIALFINDER_SHARED_DATA)")
    return SHARED_DATA
