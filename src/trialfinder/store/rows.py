"""Rows written for a study: the filter columns derived from the typed model, and its sites."""

from __future__ import annotations

from dataclasses import dataclass, field

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

    @property
    def version(self) -> tuple[str, int]:
        """Which of two copies of one study wins: the later update, then the fuller record."""
        return (last_update_date(self.study) or "", len(self.raw))


def study_columns(study: Study) -> dict:
    """The filter and stats columns of the studies table for one study."""
    status = study.status
    eligibility = study.eligibility
    return {
        "brief_title": study.title,
        "overall_status": status.overall_status,
        "study_type": study.design.study_type,
        "phases": "|".join(study.design.phases) or None,
        "sponsor_class": study.lead_sponsor_class,
        "funder_type": funder_type(study.lead_sponsor_class),
        "has_results": bool(study.has_results),
        "sex": eligibility.sex,
        "healthy_volunteers": eligibility.healthy_volunteers,
        "min_age_years": age_in_years(eligibility.minimum_age),
        "max_age_years": age_in_years(eligibility.maximum_age),
        "start_date": _struct_date(status.start_date_struct),
        "primary_completion_date": _struct_date(status.primary_completion_date_struct),
        "first_posted": _struct_date(status.study_first_post_date_struct),
        "last_update": last_update_date(study) or "",
    }


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
