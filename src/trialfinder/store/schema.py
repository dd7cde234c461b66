"""The store's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# One row per study: the original record verbatim plus the columns that filters and stats need. Columns holding
# record values the registry controls are unbounded text (migration 0002): a new, longer enum value must not make
# PostgreSQL refuse the batch.
studies = Table(
    "studies",
    metadata,
    Column("nct_id", String(16), primary_key=True),
    Column("raw", Text, nullable=False),
    Column("last_update", String(10), nullable=False, server_default=""),
    Column("brief_title", Text),
    Column("overall_status", Text),
    Column("study_type", Text),
    Column("phases", Text),
    Column("sponsor_class", Text),
    Column("funder_type", String(16)),
    Column("has_results", Boolean, nullable=False, server_default="0"),
    Column("sex", Text),
    Column("healthy_volunteers", Boolean),
    Column("min_age_years", Float),
    Column("max_age_years", Float),
    Column("start_date", String(10)),
    Column("primary_completion_date", String(10)),
    Column("first_posted", String(10)),
    Column("source", Text),
    Column("change_seq", Integer, nullable=False, index=True),
    Column("ingested_at", String(32), nullable=False),
)
Index("ix_studies_status", studies.c.overall_status)

# One row per location of a study; coordinates either from the record or from the gazetteer (approximate).
sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("nct_id", String(16), ForeignKey("studies.nct_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("facility", Text),
    Column("city", Text),
    Column("state", Text),
    Column("zip", Text),
    Column("country", Text),
    Column("status", Text),
    Column("lat", Float),
    Column("lon", Float),
    Column("approximate", Boolean, nullable=False, server_default="0"),
)
Index("ix_sites_geo", sites.c.lat, sites.c.lon)
Index("ix_sites_place", sites.c.country, sites.c.state, sites.c.city)

# The change counter: every write to a study appends a row; derived indexes remember the last seq they applied.
changes = Table(
    "changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("nct_id", String(16), nullable=False),
    Column("op", String(8), nullable=False),
    Column("at", String(32), nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("state", String(16), nullable=False),
    Column("params", Text, nullable=False),
    Column("since", String(10)),
    Column("next_page_token", Text),
    Column("pages", Integer, nullable=False, server_default="0"),
    Column("added", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("error", Text),
)

rejects = Table(
    "rejects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("position", Text),
    Column("nct_id", String(16)),
    Column("field", Text),
    Column("reason", Text, nullable=False),
    Column("at", String(32), nullable=False),
)

# Small key/value state, e.g. the change seq a derived index has reached.
state = Table(
    "state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
