"""The query language: words, "phrases", AND/OR/NOT, parentheses, `field:` scopes and ClinicalTrials.gov's
AREA[Field]value, AREA[Field]RANGE[a,b] and AREA[Field]MISSING.

parse() never raises: text it cannot read as an expression is searched as plain words. Precedence follows
ClinicalTrials.gov: NOT binds tightest, then AND (also implied between neighbours), then OR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 2000
MAX_DEPTH = 40


@dataclass(frozen=True)
class Words:
    """Words to find (all of them) or, when phrase, the exact phrase; scope names the fields searched."""

    text: str
    scope: str = "all"
    phrase: bool = False


@dataclass(frozen=True)
class Area:
    """An exact value of an enum-like field (AREA[Phase]PHASE2, AREA[LocationCountry]United States)."""

    area: str
    value: str


@dataclass(frozen=True)
class Range:
    """AREA[Field]RANGE[low, high]; None is MIN or MAX."""

    area: str
    low: str | None
    high: str | None


@dataclass(frozen=True)
class Missing:
    """AREA[Field]MISSING: records without a value in the field."""

    area: str


@dataclass(frozen=True)
class And:
    items: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class Or:
    items: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class Everything:
    """ALL: every study."""


Node = Words | Area | Range | Missing | And | Or | Not | Everything

# `field:value` prefixes people type -> scope names (schema.SCOPES).
SCOPE_PREFIXES = {
    "condition": "condition", "cond": "condition", "disease": "condition",
    "intervention": "intervention", "intr": "intervention", "treatment": "intervention", "drug": "intervention",
    "title": "title", "titles": "title", "outcome": "outcome", "outc": "outcome",
    "sponsor": "sponsor", "spons": "sponsor", "lead": "lead_sponsor", "location": "location", "locn": "location",
    "id": "id", "summary": "summary", "eligibility": "eligibility",
}

# ClinicalTrials.gov search areas searched as text -> scope.
TEXT_AREAS = {
    "condition": "condition", "conditionsearch": "condition", "keyword": "condition",
    "conditionmeshterm": "condition", "conditionancestorterm": "condition", "conditionbrowseleafname": "condition",
    "interventionname": "intervention", "interventionothername": "intervention", "interventionsearch": "intervention",
    "interventionmeshterm": "intervention", "interventionancestorterm": "intervention",
    "brieftitle": "title", "officialtitle": "title", "acronym": "title", "titlesearch": "title",
    "leadsponsorname": "lead_sponsor", "collaboratorname": "sponsor", "sponsorsearch": "sponsor",
    "briefsummary": "summary", "detaileddescription": "summary",
    "eligibilitycriteria": "eligibility",
    "primaryoutcomemeasure": "outcome", "secondaryoutcomemeasure": "outcome", "outcomesearch": "outcome",
    "locationfacility": "location", "locationcity": "location", "locationstate": "location",
    "locationsearch": "location", "basicsearch": "all",
    "nctid": "id", "orgstudyid": "id", "secondaryid": "id", "idsearch": "id", "nctidalias": "id",
}

# Areas with exact values (filters) or ranges; compile.py knows their fields.
VALUE_AREAS = {"phase", "studytype", "leadsponsorclass", "sex", "healthyvolunteers", "overallstatus",
               "locationcountry", "stdage", "funder_type", "hasresults", "locationstatus"}
RANGE_AREAS = {"minimumage", "maximumage", "startdate", "primarycompletiondate", "completiondate",
               "studyfirstpostdate", "lastupdatepostdate", "enrollmentcount"}

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<quote>"(?:[^"\\]|\\.)*"?)
      | (?P<open>\()
      | (?P<close>\))
      | (?P<op>(?:AREA|RANGE|SEARCH|EXPANSION|COVERAGE|TILT|DISTANCE)\[[^\]]*\]?)
      | (?P<scope>[A-Za-z]+:(?=\S))
      | (?P<word>[^\s()"]+)""",
    re.VERBOSE,
)


class QuerySyntaxError(ValueError):
    """Raised inside the parser only; parse() turns it into a plain-words query."""


@dataclass
class _Token:
    kind: str
    text: str


def area_key(name: str) -> str:
    """AREA[Lead_Sponsor Class] -> "leadsponsorclass"."""
    return re.sub(r"[^a-z]", "", name.lower()) if name.lower() != "funder_type" else "funder_type"


def tokenize(text: str) -> list[_Token]:
    """The tokens of a query (spaces dropped)."""
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "word"
        if kind == "space":
            continue
        value = match.group()
        if kind == "word" and value in ("AND", "OR", "NOT", "MISSING"):
            kind = value.lower()
        elif kind == "word" and value == "&&":
            kind = "and"
        elif kind == "word" and value == "||":
            kind = "or"
        elif kind == "scope" and value[:-1].lower() not in SCOPE_PREFIXES:
            kind = "word"
        tokens.append(_Token(kind, value))
    return tokens


def parse(text: str, scope: str = "all") -> Node | None:
    """The expression of a query; None for a query with nothing to search. Never raises."""
    text = (text or "")[:MAX_QUERY_CHARS]
    if not text.strip():
        return None
    if text.strip() == "ALL":
        return Everything()
    try:
        node = _Parser(tokenize(text), scope).parse()
    except (QuerySyntaxError, RecursionError):
        node = plain_words(text, scope)
    return node


def plain_words(text: str, scope: str = "all") -> Node | None:
    """The fallback reading: every word of the text, operators and punctuation ignored."""
    words = [w for w in re.findall(r"[\w][\w\-.'/+]*", text or "") if w not in ("AND", "OR", "NOT")]
    return Words(" ".join(words), scope) if words else None


class _Parser:
    def __init__(self, tokens: list[_Token], scope: str):
        self.tokens = tokens
        self.position = 0
        self.scope = scope
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("unexpected end of query")
        self.position += 1
        return token

    def parse(self) -> Node | None:
        node = self.or_expression()
        if self.peek() is not None:
            raise QuerySyntaxError(f"unexpected {self.peek().text!r}")
        return node

    def or_expression(self) -> Node | None:
        items = [self.and_expression()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            items.append(self.and_expression())
        items = [item for item in items if item is not None]
        if not items:
            return None
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expression(self) -> Node | None:
        items = [self.unary()]
        while (token := self.peek()) is not None and token.kind not in ("or", "close"):
            if token.kind == "and":
                self.take()
            items.append(self.unary())
        items = _merge_words([item for item in items if item is not None])
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node | None:
        token = self.take()
        if token.kind == "not":
            inner = self.unary()
            if inner is None:
                raise QuerySyntaxError("NOT without a term")
            return Not(inner)
        if token.kind == "op":
            return self.operator(token)
        if token.kind == "scope":
            return self.scoped(SCOPE_PREFIXES[token.text[:-1].lower()])
        return self.source(token)

    def source(self, token: _Token) -> Node | None:
        if token.kind == "open":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QuerySyntaxError("too deeply nested")
            node = self.or_expression()
            if self.take().kind != "close":
                raise QuerySyntaxError("missing )")
            self.depth -= 1
            return node
        if token.kind == "quote":
            inner = _unquote(token.text)
            return Words(inner, self.scope, phrase=True) if inner.strip() else None
        if token.kind == "word":
            return Words(token.text, self.scope)
        raise QuerySyntaxError(f"unexpected {token.text!r}")

    def scoped(self, scope: str) -> Node | None:
        outer, self.scope = self.scope, scope
        try:
            return self.source(self.take())
        finally:
            self.scope = outer

    def operator(self, token: _Token) -> Node | None:
        name, _, argument = token.text.partition("[")
        argument = argument.rstrip("]")
        if name != "AREA":
            # SEARCH, EXPANSION, COVERAGE and TILT only refine how ClinicalTrials.gov matches: the operand stands
            return self.unary() if self.peek() is not None else None
        key = area_key(argument)
        following = self.peek()
        if following is None:
            raise QuerySyntaxError("AREA without a value")
        if following.kind == "op" and following.text.startswith("RANGE["):
            self.take()
            low, _, high = following.text[len("RANGE["):].rstrip("]").partition(",")
            return Range(key, _bound(low, "MIN"), _bound(high, "MAX"))
        if following.kind == "missing":
            self.take()
            return Missing(key)
        if key in VALUE_AREAS:
            return self.area_value(key)
        scope = TEXT_AREAS.get(key, "all")
        if following.kind == "word":
            return Words(self.word_run(), scope)
        return self.scoped(scope)

    def area_value(self, key: str) -> Node | None:
        token = self.peek()
        if token.kind == "quote":
            self.take()
            return Area(key, _unquote(token.text))
        if token.kind == "open":
            self.take()
            values = []
            while (inner := self.take()).kind != "close":
                if inner.kind in ("word", "quote"):
                    values.append(_unquote(inner.text) if inner.kind == "quote" else self.word_run(inner.text))
            return Or(tuple(Area(key, value) for value in values)) if values else None
        return Area(key, self.word_run())

    def word_run(self, first: str | None = None) -> str:
        """Neighbouring plain words as one value ("AREA[LocationCountry]United States")."""
        words = [first] if first is not None else []
        while (token := self.peek()) is not None and token.kind == "word":
            words.append(self.take().text)
        return " ".join(words)


def _merge_words(items: list[Node]) -> list[Node]:
    """Join neighbouring unquoted words of one scope, so "heart attack" is one group (for phrase boosts and
    multi-word synonyms) that still needs every word."""
    merged: list[Node] = []
    for item in items:
        previous = merged[-1] if merged else None
        if (isinstance(item, Words) and isinstance(previous, Words) and not item.phrase and not previous.phrase
                and item.scope == previous.scope):
            merged[-1] = Words(f"{previous.text} {item.text}", item.scope)
        else:
            merged.append(item)
    return merged


def _unquote(text: str) -> str:
    inner = text[1:-1] if len(text) >= 2 and text.endswith('"') else text[1:]
    return inner.replace('\\"', '"')


def _bound(text: str, open_word: str) -> str | None:
    text = text.strip()
    return None if not text or text.upper() in ("MIN", "MAX", open_word) else text
