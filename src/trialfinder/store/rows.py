"""Rows written for a study: the filter columns derived from the typed model, and its sites."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import NamedTuple

from trialfinder.model import Study, age_in_years
from trialfinder.model.dates import iso_date
from trialfinder.model.labels import funder_type


@dataclass
class SiteRow:
    """One location of a study, with coordinates when known."""

    facility: str | None
    city: str | None
    state: str | None
    zip: str | None
    country: str | None
    status: str | None
    lat: float | None
    lon: float | None
    approximate: bool = False


SITE_FIELDS = tuple(f.name for f in fields(SiteRow))
# A SiteRow as a tuple of its fields, in SITE_FIELDS order.
site_values = attrgetter(*SITE_FIELDS)


@dataclass
class StudyWrite:
    """A study to upsert: its original JSON text, the typed model parsed from it, and its sites."""

    raw: str
    study: Study
    source: str
    sites: list[SiteRow] = field(default_factory=list)

    @property
    def nct_id(self) -> str:
        return self.study.nct_id

    def prepared(self) -> PreparedWrite:
        """The same write as plain values: what the store inserts (and what an ingest worker process sends)."""
        nct_id = self.nct_id
        return PreparedWrite(nct_id, self.raw.encode(), self.source, _without_nul(study_column_values(self.study)),
                             tuple((nct_id, position, *_without_nul(site_values(site)))
                                   for position, site in enumerate(self.sites)))


def _without_nul(values: tuple) -> tuple:
    # PostgreSQL text cannot hold NUL, which a record may carry as "\u0000"; the raw JSON keeps it, escaped.
    if any(isinstance(value, str) and "\x00" in value for value in values):
        return tuple(value.replace("\x00", "") if isinstance(value, str) else value for value in values)
    return values


# The derived columns of the studies table, in the order study_column_values gives them.
STUDY_COLUMN_NAMES = ("brief_title", "overall_status", "study_type", "phases", "sponsor_class", "funder_type",
                      "has_results", "sex", "healthy_volunteers", "min_age_years", "max_age_years", "start_date",
                      "primary_completion_date", "first_posted", "last_update")
_LAST_UPDATE_INDEX = STUDY_COLUMN_NAMES.index("last_update")


class PreparedWrite(NamedTuple):
    """A StudyWrite reduced to the values the store writes: small and cheap to pickle between processes.

    raw is the original JSON text encoded as UTF-8: bytes cross the pipe from an ingest worker as one copy and go to
    SQLite as they are, where a str would be decoded on unpickling and encoded again when bound (~20 us a study of
    the single writer's time). columns follow STUDY_COLUMN_NAMES; each site is a ready sites-table row:
    (nct_id, position, *SITE_FIELDS).
    """

    nct_id: str
    raw: bytes
    source: str
    columns: tuple
    sites: tuple[tuple, ...]

    @property
    def version(self) -> tuple[str, int]:
        """Which of two copies of one study wins: the later update, then the fuller record (more UTF-8 bytes)."""
        return (self.columns[_LAST_UPDATE_INDEX], len(self.raw))


def study_column_values(study: Study) -> tuple:
    """The filter and stats columns of the studies table for one study, in STUDY_COLUMN_NAMES order."""
    status = study.status
    eligibility = study.eligibility
    design = study.design
    sponsor_class = study.lead_sponsor_class
    return (
        study.title,
        status.overall_status,
        design.study_type,
        "|".join(design.phases) or None,
        sponsor_class,
        funder_type(sponsor_class),
        bool(study.has_results),
        eligibility.sex,
        eligibility.healthy_volunteers,
        age_in_years(eligibility.minimum_age),
        age_in_years(eligibility.maximum_age),
        _struct_date(status.start_date_struct),
        _struct_date(status.primary_completion_date_struct),
        _struct_date(status.study_first_post_date_struct),
        last_update_date(study) or "",
    )


def study_columns(study: Study) -> dict:
    """The filter and stats columns of the studies table for one study."""
    return dict(zip(STUDY_COLUMN_NAMES, study_column_values(study)))


def sites_from_record(study: Study) -> list[SiteRow]:
    """The sites of a study as the record gives them (coordinates only where the record has a geoPoint)."""
    rows = []
    for location in study.contacts_locations.locations:
        point = location.geo_point
        rows.append(
            SiteRow(
                facility=location.facility,
                city=location.city,
                state=location.state,
                zip=location.zip,
                country=location.country,
                status=location.status,
                lat=point.lat if point else None,
                lon=point.lon if point else None,
            )
        )
    return rows


def last_update_date(study: Study) -> str | None:
    """When the study was last updated: the posted date, else (old records lack it) the submitted date."""
    return iso_date(study.last_update_posted) or iso_date(study.status.last_update_submit_date)


def _struct_date(struct) -> str | None:
    return iso_date(struct.date) if struct is not None else None
