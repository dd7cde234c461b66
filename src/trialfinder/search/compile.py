"""Query-language expressions -> tantivy queries, with field weights and synonym expansion."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tantivy
from tantivy import FieldType, Occur, Query

from trialfinder.index.documents import date_number
from trialfinder.index.schema import ID_FIELD_WEIGHT, SCOPES, TEXT_FIELD_WEIGHTS, analyze
from trialfinder.index.synonyms import SynonymTable
from trialfinder.model import age_in_years
from trialfinder.model.dates import iso_date
from trialfinder.search import query as q
from trialfinder.search.filters import any_value, identifier_query
from trialfinder.search.vocab import normalize_all, normalize_country, parse_bool

SYNONYM_WEIGHT = 0.8  # a synonym match counts a little less than the words the user typed
PROXIMITY_WEIGHT = 1.5  # neighbouring query words found together in a title or condition
PROXIMITY_SLOP = 2
DISMAX_TIE = 0.3  # a match in several fields counts for somewhat more than the best field alone
SYNONYM_SCOPES = ("all", "condition")
# Synonyms are looked for only in the fields that say what a study is about: a long form spelled out in a
# description is a passing mention, and searching every field for every expansion dominated broad queries' time.
SYNONYM_FIELDS = ("title", "condition", "mesh", "mesh_ancestor", "intervention")

# Value areas -> (index field, vocabulary used to normalise the value).
VALUE_FIELDS = {
    "phase": ("phase", "phase"), "studytype": ("study_type", "study_type"),
    "leadsponsorclass": ("sponsor_class", "sponsor_class"), "funder_type": ("funder_type", "funder_type"),
    "sex": ("sex", "sex"), "overallstatus": ("status", "status"), "locationstatus": ("status", "status"),
    "locationcountry": ("country", "country"), "stdage": ("age_group", "age_group"),
    "healthyvolunteers": ("healthy_volunteers", None), "hasresults": ("has_results", None),
}
RANGE_FIELDS = {
    "minimumage": ("min_age", "age"), "maximumage": ("max_age", "age"), "startdate": ("start_date", "date"),
    "primarycompletiondate": ("primary_completion_date", "date"), "completiondate": ("completion_date", "date"),
    "studyfirstpostdate": ("first_posted", "date"), "lastupdatepostdate": ("last_update", "date"),
    "enrollmentcount": ("enrollment", "int"),
}
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass
class Compiled:
    """A tantivy query, whether it scores by text (else every hit scores the same), and synonyms added."""

    query: Query
    scored: bool
    expanded: list[str] = field(default_factory=list)


class QueryCompiler:
    """Compiles expressions against one index schema and synonym table."""

    def __init__(self, schema: tantivy.Schema, synonyms: SynonymTable, use_synonyms: bool = True):
        self.schema = schema
        self.synonyms = synonyms
        self.use_synonyms = use_synonyms
        self.expanded: list[str] = []

    def compile(self, node: q.Node | None) -> Compiled | None:
        """The tantivy query of an expression (None when it has nothing to search)."""
        if node is None:
            return None
        built = self._node(node)
        if built is None:
            return None
        query, scored = built
        return Compiled(query, scored, list(dict.fromkeys(self.expanded)))

    # expressions ------------------------------------------------------------------------------------------------

    def _node(self, node) -> tuple[Query, bool] | None:
        if isinstance(node, q.Words):
            query = self._words(node)
            return (query, True) if query is not None else None
        if isinstance(node, q.Area):
            query = self._area(node)
            return (Query.const_score_query(query, 0.0), False) if query is not None else None
        if isinstance(node, q.Range):
            return (Query.const_score_query(self._range(node), 0.0), False)
        if isinstance(node, q.Missing):
            return (Query.const_score_query(self._missing(node), 0.0), False)
        if isinstance(node, q.Everything):
            return (Query.const_score_query(Query.all_query(), 0.0), False)
        if isinstance(node, q.Not):
            inner = self._node(node.item)
            if inner is None:
                return None
            return (Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, inner[0])]), False)
        if isinstance(node, q.And):
            return self._and(node.items)
        if isinstance(node, q.Or):
            parts = [part for part in (self._node(item) for item in node.items) if part is not None]
            if not parts:
                return None
            if len(parts) == 1:
                return parts[0]
            return (Query.boolean_query([(Occur.Should, query) for query, _ in parts]), any(s for _, s in parts))
        raise TypeError(f"not a query node: {node!r}")

    def _and(self, items) -> tuple[Query, bool] | None:
        clauses: list[tuple[Occur, Query]] = []
        scored = False
        for item in items:
            if isinstance(item, q.Not):
                inner = self._node(item.item)
                if inner is not None:
                    clauses.append((Occur.MustNot, inner[0]))
                continue
            part = self._node(item)
            if part is not None:
                clauses.append((Occur.Must, part[0]))
                scored = scored or part[1]
        if not clauses:
            return None
        if all(occur == Occur.MustNot for occur, _ in clauses):
            clauses.append((Occur.Must, Query.const_score_query(Query.all_query(), 0.0)))
        if len(clauses) == 1 and clauses[0][0] == Occur.Must:
            return clauses[0][1], scored
        return Query.boolean_query(clauses), scored

    # text ----------------------------------------------------------------------------------------------------

    def _words(self, node: q.Words) -> Query | None:
        if node.scope == "id":
            return self._identifiers(node.text.split())
        fields = SCOPES.get(node.scope, SCOPES["all"])
        expand = self.use_synonyms and node.scope in SYNONYM_SCOPES
        if node.phrase:
            unit = self._phrase(node.text, fields, with_ids=node.scope == "all")
            return self._with_synonyms(unit, node.text, fields) if expand else unit
        words = node.text.split()
        units = []
        for span in _spans(words, self.synonyms.max_words if expand else 1, self._has_synonyms if expand else None):
            parts = [self._phrase(word, fields, with_ids=node.scope == "all") for word in span]
            parts = [part for part in parts if part is not None]
            if not parts:
                continue
            unit = parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Must, p) for p in parts])
            units.append(self._with_synonyms(unit, " ".join(span), fields) if expand else unit)
        if not units:
            return None
        clauses = [(Occur.Must, unit) for unit in units]
        terms = analyze(node.text)
        if len(terms) > 1:
            for name in ("title", "condition"):
                if name in fields:
                    proximity = Query.phrase_query(self.schema, name, terms, slop=PROXIMITY_SLOP)
                    clauses.append((Occur.Should, Query.boost_query(proximity, PROXIMITY_WEIGHT)))
        return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)

    def _has_synonyms(self, span: str) -> bool:
        return bool(self.synonyms.expansions(span))

    def _phrase(self, text: str, fields: tuple[str, ...], with_ids: bool = False) -> Query | None:
        """Text found in any of the fields (as a phrase when it has several terms), best field counting most."""
        terms = analyze(text)
        options = []
        if terms:
            for name in fields:
                if len(terms) == 1:
                    match = Query.term_query(self.schema, name, terms[0])
                else:
                    match = Query.phrase_query(self.schema, name, terms)
                options.append(Query.boost_query(match, TEXT_FIELD_WEIGHTS[name]))
        if with_ids and " " not in text.strip():
            options.append(Query.boost_query(self._identifiers([text]), ID_FIELD_WEIGHT))
        if not options:
            return None
        return options[0] if len(options) == 1 else Query.disjunction_max_query(options, tie_breaker=DISMAX_TIE)

    def _identifiers(self, values: list[str]) -> Query:
        return identifier_query(self.schema, values)

    def _with_synonyms(self, unit: Query | None, text: str, fields: tuple[str, ...]) -> Query | None:
        expansions = self.synonyms.expansions(text)
        fields = tuple(name for name in fields if name in SYNONYM_FIELDS) or fields
        alternatives = [Query.boost_query(p, SYNONYM_WEIGHT)
                        for p in (self._phrase(e, fields) for e in expansions) if p is not None]
        if not alternatives:
            return unit
        self.expanded.extend(expansions)
        options = ([unit] if unit is not None else []) + alternatives
        return Query.boolean_query([(Occur.Should, option) for option in options])

    # filters written in the query --------------------------------------------------------------------------

    def _area(self, node: q.Area) -> Query | None:
        value = node.value.strip()
        if not value:
            return None
        name, vocabulary = VALUE_FIELDS[node.area]
        if vocabulary is None:
            try:
                flag = parse_bool(value)
            except ValueError:
                return Query.empty_query()
            return Query.term_query(self.schema, name, "true" if flag else "false")
        if vocabulary == "country":
            values = [normalize_country(value)]
        else:
            values = normalize_all(vocabulary, [value])
        if name == "sex" and "ALL" in values:
            # open to all = open to both
            return Query.boolean_query([(Occur.Must, Query.term_query(self.schema, "sex", s)) for s in ("FEMALE", "MALE")])
        return any_value(self.schema, name, values)

    def _range(self, node: q.Range) -> Query:
        if node.area not in RANGE_FIELDS:
            return Query.all_query()
        name, kind = RANGE_FIELDS[node.area]
        low, high = _range_value(node.low, kind), _range_value(node.high, kind)
        if low is None and high is None:
            return Query.exists_query(name) if kind != "age" else Query.all_query()
        field_type = FieldType.Float if kind == "age" else FieldType.Integer
        return Query.range_query(self.schema, name, field_type, low, high)

    def _missing(self, node: q.Missing) -> Query:
        name = RANGE_FIELDS.get(node.area, VALUE_FIELDS.get(node.area, (None,)))[0]
        if name is None or name in ("min_age", "max_age"):
            return Query.empty_query()  # open age bounds are encoded as values: "missing" cannot be told apart
        return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, Query.exists_query(name))])


def _range_value(text: str | None, kind: str) -> float | int | None:
    if text is None:
        return None
    text = text.strip()
    if kind == "age":
        years = age_in_years(text) if not _is_number(text) else float(text)
        return years
    if kind == "int":
        return int(float(text)) if _is_number(text) else None
    match = _US_DATE.match(text)
    if match:
        text = f"{match.group(3)}-{int(match.group(1)):02d}-{int(match.group(2)):02d}"
    return date_number(iso_date(text))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _spans(words: list[str], longest: int, is_known) -> list[list[str]]:
    """Words grouped greedily into the longest spans the synonym table knows; other words stand alone."""
    spans, start = [], 0
    while start < len(words):
        size = 1
        if is_known is not None:
            for width in range(min(longest, len(words) - start), 0, -1):
                if is_known(" ".join(words[start:start + width])):
                    size = width
                    break
        spans.append(words[start:start + size])
        start += size
    return spans
