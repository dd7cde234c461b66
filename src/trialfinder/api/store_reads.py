"""Read-only queries the API needs that the Store does not offer: record sizes and the data timestamp."""

from __future__ import annotations

import sqlalchemy as sa

from trialfinder.store import Store
from trialfinder.store.schema import changes, studies


def record_sizes(store: Store) -> list[tuple[str, int]]:
    """(nct_id, length of the stored JSON text) for every study."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(studies.c.nct_id, sa.func.length(studies.c.raw)))
        return [(nct_id, int(size or 0)) for nct_id, size in rows]


def data_timestamp(store: Store) -> str | None:
    """When the data last changed: the newest change-log entry (ISO 8601 UTC), None for an empty store."""
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(changes.c.at))).scalar_one_or_none()
