"""A request's filters as tantivy queries, kept apart by facet so each facet can be counted without its own filter.

Facet counts follow the usual web convention (multi-select facets): the counts of facet X are computed with every
active filter except X's own, so each count equals the result total you get when you tick that value (for a
facet with no active filter) or add it to the ticked ones (for one with active filters, the count is what that
value alone would give).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

import tantivy
from tantivy import FieldType, Occur, Query

from trialfinder.index import shard_of_codes
from trialfinder.index.documents import date_number
from trialfinder.index.sites import NearbyStudies
from trialfinder.model.dates import iso_date
from trialfinder.model.ids import canonical_nct_id
from trialfinder.search.types import DateRange, SearchRequest
from trialfinder.search.vocab import normalize_all, normalize_country

AGE_TOLERANCE = 1e-9  # the same slack as model.age_eligible, so "18 Years" admits an 18-year-old exactly

# Facet name -> index field.
FACET_FIELDS = {
    "status": "status", "phase": "phase", "study_type": "study_type", "funder_type": "funder_type",
    "has_results": "has_results", "sex": "sex", "healthy_volunteers": "healthy_volunteers", "country": "country",
    "age_group": "age_group",
}


@dataclass
class Filters:
    """Filter queries: by facet (left out when counting that facet), the rest (always applied), and the distance
    filter, one query per index shard (each shard is sent only the NCT numbers it holds). values_by_facet keeps
    each facet filter's (index field, values), from which facet counting writes its filter aggregations."""

    by_facet: dict[str, Query] = field(default_factory=dict)
    values_by_facet: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    fixed: list[Query] = field(default_factory=list)
    near_by_shard: list[Query] = field(default_factory=list)
    shards: int = 1
    matches_nothing: bool = False

    def add_facet(self, facet: str, schema: tantivy.Schema, values: list[str]) -> None:
        """Keep only studies with any of these values of a facet."""
        name = FACET_FIELDS[facet]
        self.by_facet[facet] = any_value(schema, name, values)
        self.values_by_facet[facet] = (name, values)

    def all(self, except_facets: Collection[str] = (), shard: int = 0) -> list[Query]:
        """Every filter query for one shard, optionally without some facets'."""
        near = [self.near_by_shard[shard]] if self.near_by_shard else []
        return [query for name, query in self.by_facet.items() if name not in except_facets] + self.fixed + near

    def queries(self, parts: list[Query], except_facets: Collection[str] = ()) -> list[Query]:
        """The scored parts AND the filters (optionally without some facets'), one query per shard."""
        if not self.near_by_shard:
            return [combine(parts, self.all(except_facets))] * self.shards
        return [combine(parts, self.all(except_facets, shard)) for shard in range(self.shards)]

    def facet_filter_text(self, except_facet: str | None = None) -> str:
        """The facet filters but one, in tantivy's query language (for a filter aggregation); "" when none."""
        groups = []
        for facet, (name, values) in self.values_by_facet.items():
            if facet != except_facet:
                groups.append("(" + " OR ".join(f'{name}:"{_quoted(value)}"' for value in values) + ")")
        return " AND ".join(groups)


def request_filters(schema: tantivy.Schema, request: SearchRequest, nearby: NearbyStudies | None,
                    shards: int = 1) -> Filters:
    """The filters of a request (normalising values written the way people write them), for an index in shards."""
    filters = Filters(shards=shards)

    def keyword(facet: str, values: list[str]) -> None:
        if values:
            filters.add_facet(facet, schema, values)

    keyword("status", normalize_all("status", request.statuses))
    keyword("phase", normalize_all("phase", request.phases))
    keyword("study_type", normalize_all("study_type", request.study_types))
    keyword("funder_type", normalize_all("funder_type", request.funder_types))
    sexes = [sex for sex in normalize_all("sex", request.sexes) if sex != "ALL"]
    keyword("sex", sexes)
    keyword("country", [normalize_country(country) for country in request.countries if country.strip()])
    keyword("age_group", normalize_all("age_group", request.age_groups))
    for facet, flag in (("has_results", request.has_results), ("healthy_volunteers", request.healthy_volunteers)):
        if flag is not None:
            filters.add_facet(facet, schema, ["true" if flag else "false"])

    if request.age is not None:
        age = float(request.age)
        # a missing bound is stored open (0 / 10000 years), so studies without an age limit stay in
        filters.fixed.append(Query.range_query(schema, "min_age", FieldType.Float, None, age + AGE_TOLERANCE))
        filters.fixed.append(Query.range_query(schema, "max_age", FieldType.Float, age - AGE_TOLERANCE, None))
    for name, dates in (("start_date", request.start), ("primary_completion_date", request.primary_completion),
                        ("first_posted", request.first_posted), ("last_update", request.last_updated)):
        query = _date_range(schema, name, dates)
        if query is not None:
            filters.fixed.append(query)
    if request.ids:
        filters.fixed.append(identifier_query(schema, request.ids))
    if nearby is not None:
        if not len(nearby):
            filters.matches_nothing = True
        else:
            filters.near_by_shard = [Query.term_set_query(schema, "geo", codes.tolist())
                                     for codes in shard_of_codes(nearby.filter_codes, shards)]
    return filters


def _quoted(value: str) -> str:
    """A value inside a double-quoted term of tantivy's query language."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def any_value(schema: tantivy.Schema, name: str, values: list[str]) -> Query:
    """Documents with any of these values in a keyword field."""
    if len(values) == 1:
        return Query.term_query(schema, name, values[0])  # 4x cheaper than a one-value term set (100k studies)
    return Query.term_set_query(schema, name, values)


_IDENTIFIER_SEPARATORS = re.compile(r"[\s,;]+")


def identifier_query(schema: tantivy.Schema, values: list[str]) -> Query:
    """Studies with any of these NCT ids or other identifiers (org study ids, secondary ids, aliases)."""
    wanted: set[str] = set()
    for value in values:
        for part in _IDENTIFIER_SEPARATORS.split(value):
            if not part:
                continue
            wanted.add(part.lower())
            canonical = canonical_nct_id(part)
            if canonical:
                wanted.add(canonical.lower())
    if not wanted:
        return Query.empty_query()
    return Query.term_set_query(schema, "ids", sorted(wanted))


def combine(parts: list[Query], filters: list[Query]) -> Query:
    """Scored parts AND unscored filters; the filters add nothing to the score."""
    clauses = [(Occur.Must, part) for part in parts]
    clauses += [(Occur.Must, Query.const_score_query(query, 0.0)) for query in filters]
    if not clauses:
        return Query.all_query()
    if len(clauses) == 1 and parts:
        return parts[0]
    return Query.boolean_query(clauses)


def _date_range(schema: tantivy.Schema, name: str, dates: DateRange | None) -> Query | None:
    if dates is None:
        return None
    low = date_number(iso_date(dates.start)) if dates.start else None
    high = date_number(iso_date(dates.end)) if dates.end else None
    if low is None and high is None:
        return None
    return Query.range_query(schema, name, FieldType.Integer, low, high)
