"""Getting studies into the store: from files and archives, and from ClinicalTrials.gov."""

from trialfinder.ingest.files import IngestReport, StrictIngestError, describe_reject, ingest_items, ingest_paths
from trialfinder.ingest.readers import Record, Rejected, read_bytes, read_paths

__all__ = ["IngestReport", "StrictIngestError", "describe_reject", "ingest_items", "ingest_paths", "Record",
           "Rejected", "read_bytes", "read_paths"]
