"""One study as one index document: searchable text, filter values, sort keys and the stored result card."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import tantivy

from trialfinder.geo import canonical_country
from trialfinder.index.schema import (
    BODY_FIELDS,
    OPEN_MAX_AGE,
    OPEN_MIN_AGE,
    VALUE_SET_FACETS,
    VALUE_SET_SEPARATOR,
)
from trialfinder.model import Study, age_in_years
from trialfinder.model.dates import iso_date
from trialfinder.model.labels import funder_type

# Statuses a patient can still join: they get the mild relevance boost and sort first among equals.
OPEN_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE"})
# Score multiplier of open studies; tantivy applies log2(2 + status_weight), so 0.17 gives about 1.12.
OPEN_STATUS_WEIGHT = 0.1734

# A sort key packs (value, NCT number) into one integer: NCT numbers stay below 2**27.
NCT_BITS = 27
MAX_SORT_VALUE = (1 << NCT_BITS) - 1

ADULT_AGE = 18.0
OLDER_ADULT_AGE = 65.0


def nct_number(nct_id: str) -> int:
    """NCT06111846 -> 6111846 (0 when the id is not an NCT id)."""
    digits = nct_id[3:] if nct_id[:3].upper() == "NCT" else ""
    return int(digits) if digits.isdigit() else 0


def nct_id_of(number: int) -> str:
    """6111846 -> NCT06111846."""
    return f"NCT{number:08d}"


def date_number(iso: str | None) -> int | None:
    """2024-12-16 -> 20241216, the form date filters and sorts compare."""
    return int(iso.replace("-", "")) if iso else None


def age_groups(study: Study, min_age: float | None, max_age: float | None) -> list[str]:
    """The record's standard age groups, else the groups its age range overlaps (a missing bound is open)."""
    if study.eligibility.std_ages:
        return list(study.eligibility.std_ages)
    low = OPEN_MIN_AGE if min_age is None else min_age
    high = OPEN_MAX_AGE if max_age is None else max_age
    groups = []
    if low < ADULT_AGE:
        groups.append("CHILD")
    if low < OLDER_ADULT_AGE and high >= ADULT_AGE:
        groups.append("ADULT")
    if high >= OLDER_ADULT_AGE:
        groups.append("OLDER_ADULT")
    return groups


def sex_values(sex: str | None) -> list[str]:
    """Sexes a study is open to: ALL (or unstated) matches both FEMALE and MALE filters."""
    if sex in ("FEMALE", "MALE"):
        return [sex]
    return ["FEMALE", "MALE"]


def sort_keys(nct: int, values: dict[str, int | None], is_open: bool) -> dict[str, int]:
    """Ascending and descending sort keys with the NCT number as tie-break; a missing value sorts last both ways."""
    keys: dict[str, int] = {}
    for name, value in values.items():
        value = None if value is None else max(0, min(value, MAX_SORT_VALUE))
        ascending = MAX_SORT_VALUE if value is None else value
        descending = MAX_SORT_VALUE + 1 if value is None else MAX_SORT_VALUE - value
        keys[f"k_{name}"] = (ascending << NCT_BITS) | nct
        keys[f"k_{name}_desc"] = (descending << NCT_BITS) | nct
    keys["k_open_first"] = ((0 if is_open else 1) << NCT_BITS) | nct
    return keys


def _struct_iso(struct) -> str | None:
    return iso_date(struct.date) if struct is not None else None


def _texts(*values: str | None) -> list[str]:
    return [value for value in values if value]


def study_document(study: Study, geo_cells: Iterable[int] = ()) -> tantivy.Document:
    """The index document of a study; geo_cells are the grid cells of its sites (sites.SiteArrays.geo_cells)."""
    doc = tantivy.Document()
    ident = study.identification
    status = study.status
    design = study.design
    eligibility = study.eligibility
    nct_id = study.nct_id
    nct = nct_number(nct_id)

    def add_texts(field: str, values: list[str]) -> None:
        for value in values:
            doc.add_text(field, value)
            if field in BODY_FIELDS:
                doc.add_text("body", value)

    def add_facet_values(field: str, values: list[str]) -> None:
        """The filter field, plus the single-valued form facet counting reads (schema.FACET_COUNT_FIELDS)."""
        add_texts(field, values)
        if not values:
            return
        if field in VALUE_SET_FACETS:
            doc.add_text(f"{field}_set", VALUE_SET_SEPARATOR.join(sorted(set(values))))
        else:
            doc.add_text(f"{field}_first", values[0])
            add_texts(f"{field}_rest", values[1:])

    ids = [nct_id, *ident.nct_id_aliases]
    if ident.org_study_id_info:
        ids.append(ident.org_study_id_info.id)
    ids.extend(info.id for info in ident.secondary_id_infos)
    add_texts("ids", _texts(*ids))
    add_texts("title", _texts(ident.acronym, ident.brief_title, ident.official_title))
    add_texts("condition", [*study.conditions.conditions, *study.conditions.keywords])
    add_texts("mesh", study.mesh_terms("condition"))
    add_texts("mesh_ancestor", study.mesh_terms("condition", ancestors=True))
    interventions = study.arms_interventions.interventions
    add_texts("intervention", _texts(*(i.name for i in interventions)))
    add_texts("intervention", [name for i in interventions for name in i.other_names])
    add_texts("intervention_mesh", study.mesh_terms("intervention") + study.mesh_terms("intervention", ancestors=True))
    sponsors = study.sponsors
    add_texts("lead_sponsor", _texts(study.lead_sponsor_name))
    add_texts("sponsor", _texts(study.lead_sponsor_name, *(c.name for c in sponsors.collaborators)))
    add_texts("summary", _texts(study.description.brief_summary))
    add_texts("description", _texts(study.description.detailed_description))
    outcomes = study.outcomes
    for outcome in (*outcomes.primary_outcomes, *outcomes.secondary_outcomes, *outcomes.other_outcomes):
        add_texts("outcome", _texts(outcome.measure, outcome.description))
    add_texts("eligibility", _texts(eligibility.eligibility_criteria, eligibility.study_population))
    locations = study.contacts_locations.locations
    add_texts("location", [", ".join(_texts(loc.facility, loc.city, loc.state, loc.country)) for loc in locations])

    overall_status = status.overall_status
    doc.add_text("nct_id", nct_id)
    doc.add_unsigned("nct_num", nct)
    add_texts("status", _texts(overall_status))
    add_facet_values("phase", list(design.phases))
    add_texts("study_type", _texts(design.study_type))
    doc.add_text("funder_type", funder_type(study.lead_sponsor_class))
    add_texts("sponsor_class", _texts(study.lead_sponsor_class))
    doc.add_text("has_results", "true" if study.has_results else "false")
    add_facet_values("sex", sex_values(eligibility.sex))
    doc.add_text("healthy_volunteers", "true" if eligibility.healthy_volunteers else "false")
    # spelled as the country filter spells it, so that a facet value, once applied, finds the same studies
    add_facet_values("country", sorted({canonical_country(loc.country) for loc in locations if loc.country}))
    min_age = age_in_years(eligibility.minimum_age)
    max_age = age_in_years(eligibility.maximum_age)
    add_facet_values("age_group", age_groups(study, min_age, max_age))
    doc.add_float("min_age", OPEN_MIN_AGE if min_age is None else min_age)
    doc.add_float("max_age", OPEN_MAX_AGE if max_age is None else max_age)

    enrollment = design.enrollment_info.count if design.enrollment_info else None
    if enrollment is not None:
        doc.add_integer("enrollment", enrollment)
    dates = {
        "start_date": _struct_iso(status.start_date_struct),
        "primary_completion_date": _struct_iso(status.primary_completion_date_struct),
        "completion_date": _struct_iso(status.completion_date_struct),
        "first_posted": _struct_iso(status.study_first_post_date_struct),
        "last_update": iso_date(study.last_update_posted),
    }
    for name, iso in dates.items():
        if iso:
            doc.add_integer(name, date_number(iso))
    is_open = overall_status in OPEN_STATUSES
    keyed = {
        "last_updated": date_number(dates["last_update"]),
        "start_date": date_number(dates["start_date"]),
        "enrollment": enrollment,
        "first_posted": date_number(dates["first_posted"]),
    }
    for name, value in sort_keys(nct, keyed, is_open).items():
        doc.add_integer(name, value)
    doc.add_float("status_weight", OPEN_STATUS_WEIGHT if is_open else 0.0)
    doc.add_unsigned("geo", nct)  # a distance filter names the studies near its edge one by one
    for cell in geo_cells:
        doc.add_unsigned("geo", cell)

    card = {
        "title": study.title,
        "overall_status": overall_status,
        "phases": list(design.phases),
        "study_type": design.study_type,
        "conditions": list(study.conditions.conditions),
        "sponsor": study.lead_sponsor_name,
        "last_update": dates["last_update"],
        "start_date": dates["start_date"],
        "enrollment": enrollment,
        "site_count": len(locations),
    }
    doc.add_text("card", orjson.dumps(card).decode())
    return doc

