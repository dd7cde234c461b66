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


POSTGRES_ADMIN_URL = os.environ.get("TRIALFINDER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _postgres_available() -> bool:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """URL of the PostgreSQL server's maintenance database (skips outside CI when the server is down)."""
    require(_postgres_available(), f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}")
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield postgres_admin_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    """A fresh store URL, once for an SQLite file and once for the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url: str):
    """An empty, migrated store on each backend."""
    from trialfinder.store import Store

    opened = Store.open(database_url)
    yield opened
    opened.close()
