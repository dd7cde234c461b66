"""Adapter to the SQL store (SQLite by default, PostgreSQL for several nodes)."""

from trialfinder.store.database import Change, Reject, Store, UpsertCounts, utc_now
from trialfinder.store.rows import SiteRow, StudyWrite, sites_from_record, study_columns

__all__ = ["Store", "UpsertCounts", "Change", "Reject", "StudyWrite", "SiteRow", "sites_from_record",
           "study_columns", "utc_now"]
