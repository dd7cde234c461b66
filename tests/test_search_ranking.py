"""Ranking and synonyms: aPAP, titles over passing mentions, the recruiting boost."""

from __future__ import annotations

import pytest

from test_search_support import ACETAMINOPHEN_ID, APAP_ID, LONG_FORM_ONLY_ID, real_corpus
from trialfinder.search import SearchRequest


@pytest.fixture(scope="module")
def engine(shared_data, tmp_path_factory):
    return real_corpus(shared_data, tmp_path_factory.getbasetemp() / "search-corpus")[2]


def top(engine, n: int = 3, **kwargs) -> list[str]:
    return [hit.nct_id for hit in engine.search(SearchRequest(limit=n, **kwargs)).hits]


def test_apap_finds_the_autoimmune_pulmonary_alveolar_proteinosis_studies(engine):
    assert APAP_ID in top(engine, query="aPAP")
    assert APAP_ID in top(engine, condition="aPAP")


def test_mined_abbreviation_reaches_a_study_that_never_writes_it(engine):
    result = engine.search(SearchRequest(query="aPAP", limit=5))
    assert LONG_FORM_ONLY_ID in [hit.nct_id for hit in result.hits]
    assert "autoimmune pulmonary alveolar proteinosis" in [term.lower() for term in result.expanded_terms]
    without = engine.search(SearchRequest(query="aPAP", synonyms=False, limit=5))
    assert LONG_FORM_ONLY_ID not in [hit.nct_id for hit in without.hits]


def test_long_form_finds_the_abbreviation(engine):
    assert APAP_ID in top(engine, 5, condition="autoimmune pulmonary alveolar proteinosis")


def test_lower_case_abbreviation_prefers_its_own_meaning(engine):
    ranked = top(engine, 10, query="aPAP")
    assert ranked.index(APAP_ID) < ranked.index(ACETAMINOPHEN_ID) if ACETAMINOPHEN_ID in ranked else True


def test_title_and_condition_matches_rank_above_passing_mentions(engine):
    hits = engine.search(SearchRequest(query="asthma", limit=10)).hits
    for hit in hits[:5]:
        assert "asthma" in (hit.title + " " + " ".join(hit.conditions)).lower()


def test_recruiting_studies_get_a_mild_boost(engine):
    hits = engine.search(SearchRequest(query="diabetes", limit=50)).hits
    open_scores = [h.score for h in hits if h.overall_status == "RECRUITING"]
    assert hits[0].score >= max(open_scores or [0])
    # mild: a much better closed match still wins over a weak recruiting one
    assert any(h.overall_status != "RECRUITING" for h in hits[:5])


def test_mesh_terms_and_ancestors_match_conditions(shared_data, tmp_path_factory, engine):
    import json

    store = real_corpus(shared_data, tmp_path_factory.getbasetemp() / "search-corpus")[1]
    only_by_mesh = set()
    for nct_id, raw in store.iter_raw():
        record = json.loads(raw)
        conditions = " ".join(record["protocolSection"].get("conditionsModule", {}).get("conditions", [])).lower()
        browse = record.get("derivedSection", {}).get("conditionBrowseModule", {})
        terms = {t.get("term") for t in browse.get("meshes", []) + browse.get("ancestors", [])}
        if "Diabetes Mellitus" in terms and "mellitus" not in conditions:
            only_by_mesh.add(nct_id)
    assert only_by_mesh
    found = {hit.nct_id for hit in engine.search(SearchRequest(condition="diabetes mellitus", limit=1000)).hits}
    assert only_by_mesh <= found
