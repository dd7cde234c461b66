"""The query language: parsing, AREA syntax against brute force, NCT-id queries, malformed input never fails."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from test_search_support import APAP_ID, raw_studies, real_corpus
from trialfinder.search import SearchRequest, nct_ids_only
from trialfinder.search.query import And, Area, Not, Or, Range, Words, parse
from trialfinder.search.vocab import UnknownValue, normalize


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory):
    settings_, store, engine = real_corpus(shared_data, tmp_path_factory.getbasetemp() / "search-corpus")
    return store, engine, raw_studies(store)


def ids(engine, **kwargs) -> set[str]:
    result = engine.search(SearchRequest(limit=1000, **kwargs))
    assert result.total <= 1000
    return {hit.nct_id for hit in result.hits}


def test_parse_precedence_and_scopes():
    assert parse("heart attack") == Words("heart attack")
    assert parse('"heart attack" OR stroke') == Or((Words("heart attack", phrase=True), Words("stroke")))
    assert parse("dizziness AND NOT exhaustion") == And((Words("dizziness"), Not(Words("exhaustion"))))
    assert parse("a OR b c") == Or((Words("a"), Words("b c")))
    assert parse("condition:asthma") == Words("asthma", scope="condition")
    assert parse("AREA[LocationCountry]United States AND AREA[Phase]PHASE2") == And(
        (Area("locationcountry", "United States"), Area("phase", "PHASE2")))
    assert parse("AREA[MinimumAge]RANGE[MIN, 18 years]") == Range("minimumage", None, "18 years")
    assert parse("AREA[InterventionName]aspirin") == Words("aspirin", scope="intervention")


@pytest.mark.parametrize("text", ['"unclosed', "((a", "a)", "AND", "OR OR", "NOT", "AREA[", "AREA[Phase]",
                                  "RANGE[1,2]", "AREA[MinimumAge]RANGE[x,y]", ")(", '"', "AREA[Nope]x",
                                  "((((((((((((((((((((((((((((((((((((((((((((((((((a", "a AND (b OR"])
def test_malformed_queries_degrade_to_words(corpus, text):
    store, engine, raws = corpus
    parse(text)
    engine.search(SearchRequest(query=text))
    engine.search(SearchRequest(advanced=text, condition=text, intervention=text))


def test_unbalanced_query_searches_its_words(corpus):
    store, engine, raws = corpus
    assert ids(engine, query="(asthma AND") == ids(engine, query="asthma")


@given(st.text(max_size=80) | st.lists(st.sampled_from(
    ["AND", "OR", "NOT", "(", ")", '"', "AREA[Phase]", "RANGE[", "]", "MIN", ",", "cancer", "NCT00000620",
     "AREA[MinimumAge]", "condition:", "18 years", "aPAP", "-", "*", ":"]), max_size=12).map(" ".join))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_never_crashes(corpus, text):
    store, engine, raws = corpus
    parse(text)
    result = engine.search(SearchRequest(query=text, condition=text, limit=3))
    assert result.total >= len(result.hits)


def test_nct_id_only_queries_return_those_studies(corpus):
    store, engine, raws = corpus
    assert ids(engine, query="NCT00000620") == {"NCT00000620"}
    assert ids(engine, query="nct00000620, NCT00465816 OR NCT06111846") == {"NCT00000620", "NCT00465816", APAP_ID}
    assert ids(engine, query="NCT99999999") == set()
    assert nct_ids_only("NCT00000620 diabetes") == []
    assert ids(engine, ids=["MKMSC-CT-001"]) == {APAP_ID}


def test_area_phase_and_status_match_brute_force(corpus):
    store, engine, raws = corpus
    got = ids(engine, query="AREA[Phase]PHASE3 AND AREA[OverallStatus]TERMINATED")
    assert got == {n for n, s in raws.items() if "PHASE3" in s.phases and s.status == "TERMINATED"}


def test_area_age_range_treats_missing_bounds_as_open(corpus):
    store, engine, raws = corpus
    got = ids(engine, query="AREA[MinimumAge]RANGE[MIN, 1 year] AND AREA[Sex]FEMALE AND AREA[StudyType]OBSERVATIONAL")
    assert got == {n for n, s in raws.items() if (s.min_age is None or s.min_age <= 1) and s.open_to("FEMALE")
                   and s.study_type == "OBSERVATIONAL"}


def test_not_excludes(corpus):
    store, engine, raws = corpus
    both = ids(engine, query="asthma")
    without = ids(engine, query="asthma NOT children")
    assert without < both
    assert not without & ids(engine, query="asthma children")


def test_vocabulary_spellings():
    assert normalize("phase", "Phase 2") == ["PHASE2"]
    assert normalize("phase", "phase 1/2") == ["PHASE1", "PHASE2"]
    assert normalize("status", "recruiting") == ["RECRUITING"]
    assert normalize("sex", "Female") == ["FEMALE"]
    assert normalize("funder_type", "industry") == ["INDUSTRY"]
    with pytest.raises(UnknownValue) as error:
        normalize("status", "recruting")
    assert "RECRUITING" in error.value.suggestions
