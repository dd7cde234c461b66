"""Property-based tests of every parser that reads outside input: the query language (also what filter.advanced
uses), the eligibility criteria parser and constraint extractor, the ingest readers and the legacy XML converter.

Each may refuse input only in its documented way (the query parser never raises and the search raises only
ValueError, which the APIs turn into a 400; readers yield Rejected items; the XML converter raises LegacyXmlError)
and round-trips where there is something to round-trip.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trialfinder.eligibility import extract_constraints, parse_criteria
from trialfinder.ingest.legacy_xml import LegacyXmlError, legacy_xml_to_study_dict
from trialfinder.ingest.readers import Record, Rejected, read_bytes
from trialfinder.model import decode_study
from trialfinder.search import query as query_language

EXAMPLES = int(os.environ.get("TRIALFINDER_HYPOTHESIS_EXAMPLES", "200"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)

# Pieces of the query language, so generated queries reach the parser's corners and not just its fallback.
QUERY_PIECES = st.sampled_from([
    "AND", "OR", "NOT", "&&", "||", "(", ")", '"', '"heart attack"', "AREA[", "]", "AREA[Phase]PHASE2",
    "AREA[OverallStatus]RECRUITING", "AREA[MinimumAge]RANGE[18 years, MAX]", "AREA[StartDate]RANGE[2020-01-01,",
    "RANGE[", "MISSING", "AREA[LastUpdatePostDate]MISSING", "SEARCH[Location](", "EXPANSION[None]", "COVERAGE[Full]",
    "cond:", "title:", "intr:", "drug:", "ALL", "asthma", "cancer", "covid-19", "NCT01234567", "*", "\\", "'", "%",
    "_", ";", "--", "\x00", "é", "日本", "\u202e", " ",
])
QUERIES = st.one_of(st.text(max_size=300), st.lists(QUERY_PIECES | st.text(max_size=8), max_size=40).map(" ".join),
                    st.lists(QUERY_PIECES, max_size=60).map("".join))


@fuzz
@given(text=QUERIES, scope=st.sampled_from(["all", "condition", "intervention", "title", "location"]))
def test_query_parser_never_raises(text, scope):
    node = query_language.parse(text, scope)
    assert node is None or isinstance(node, query_language.Node.__args__)


@fuzz
@given(words=st.lists(st.from_regex(r"[a-z]{2,12}", fullmatch=True), min_size=1, max_size=6))
def test_a_quoted_phrase_parses_back_to_its_words(words):
    assume(not {"and", "or", "not", "all"} & set(words))
    node = query_language.parse('"' + " ".join(words) + '"')
    assert isinstance(node, query_language.Words) and node.phrase and node.text.split() == words


@pytest.fixture(scope="module")
def engine(shared_data: Path, tmp_path_factory):
    """The real search engine over the shared v2 studies."""
    from trialfinder.config import load_settings
    from trialfinder.ingest import ingest_paths
    from trialfinder.search import SearchEngine
    from trialfinder.store import Store

    settings = load_settings(data_dir=tmp_path_factory.mktemp("hostile-index"))
    store = Store.open(settings.database_url)
    ingest_paths(store, [shared_data / "ctgov" / "v2_json"])
    yield SearchEngine.open(settings, store)
    store.close()


def test_search_engine_answers_or_refuses_hostile_queries_and_advanced_filters(engine):
    from trialfinder.search import SearchRequest

    @fuzz
    @given(text=QUERIES, field=st.sampled_from(["query", "advanced", "condition", "location", "sponsor"]))
    def check(text, field):
        try:
            result = engine.search(SearchRequest(**{field: text}, limit=5))
        except ValueError:
            return  # documented: the APIs answer 400 with the message
        assert result.total >= len(result.hits)

    check()


CRITERIA_PIECES = st.sampled_from([
    "Inclusion Criteria:", "Exclusion Criteria:", "\n", "\n\n", "* ", "- ", "1. ", "  * ", "\t", "Age >= 18 years",
    "aged 18 to 65", "ECOG 0-1", "Karnofsky > 70", "not pregnant", "within 6 months", "women only", "male",
    "\\>", "\\<", "&gt;", "&#x3c;", "≥", "≤", "(", ")", ":", "KEY INCLUSION CRITERIA:", "<script>", "\u00a0", "\r\n",
])
CRITERIA = st.one_of(st.text(max_size=500), st.lists(CRITERIA_PIECES | st.text(max_size=20), max_size=60).map("".join))


@fuzz
@given(text=CRITERIA)
def test_eligibility_parser_never_raises_and_keeps_spans_inside_the_text(text):
    sections = parse_criteria(text)
    for criterion in sections.all():
        assert 0 <= criterion.start <= criterion.end <= len(text)
        assert criterion.kind in ("inclusion", "exclusion")
        for constraint in extract_constraints(criterion.text, criterion.kind, criterion.heading):
            assert constraint is not None


@fuzz
@given(text=CRITERIA, kind=st.sampled_from(["inclusion", "exclusion"]), heading=st.none() | st.text(max_size=20))
def test_constraint_extraction_never_raises(text, kind, heading):
    extract_constraints(text, kind, heading)


# ingest -----------------------------------------------------------------------------------------------------

FILE_NAMES = st.sampled_from(["a.json", "a.jsonl", "a.ndjson", "a.xml", "a.json.gz", "a.zip", "a.tar.gz", "a.tgz",
                              "noext", "A.JSON", "a.xml.gz"])


def check_items(items) -> list:
    """Every item is a Record or a Rejected with a reason; nothing else, and no exception."""
    items = list(items)
    for item in items:
        assert isinstance(item, (Record, Rejected))
        if isinstance(item, Rejected):
            assert item.reason
        else:
            assert item.study.nct_id
    return items


@fuzz
@given(name=FILE_NAMES, data=st.binary(max_size=2000))
def test_readers_take_arbitrary_bytes(name, data):
    check_items(read_bytes(name, data))


@pytest.fixture(scope="module")
def real_study_bytes(shared_data: Path) -> bytes:
    from fake_ctgov import load_v2_studies

    return json.dumps(load_v2_studies(shared_data / "ctgov" / "v2_json")[0]).encode()


def test_readers_take_damaged_real_records(real_study_bytes):
    @fuzz
    @given(cut=st.integers(0, len(real_study_bytes)), flips=st.lists(
        st.tuples(st.integers(0, len(real_study_bytes) - 1), st.integers(0, 255)), max_size=8),
        name=FILE_NAMES)
    def check(cut, flips, name):
        data = bytearray(real_study_bytes[:cut] if cut else real_study_bytes)
        for position, value in flips:
            if position < len(data):
                data[position] = value
        check_items(read_bytes(name, bytes(data)))

    check()


def wrapped(name: str, payload: bytes) -> bytes:
    """payload packed the way `name` says: gzip, zip or tar.gz (one member), else as is."""
    if name.endswith(".gz") and not name.endswith(".tar.gz"):
        return gzip.compress(payload)
    if name.endswith(".zip"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("inner/study.json", payload)
        return buffer.getvalue()
    if name.endswith(".tar.gz"):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            member = tarfile.TarInfo("inner/study.json")
            member.size = len(payload)
            archive.addfile(member, io.BytesIO(payload))
        return buffer.getvalue()
    return payload


def test_a_valid_record_round_trips_through_every_container(real_study_bytes):
    original = json.loads(real_study_bytes)

    @fuzz
    @given(name=st.sampled_from(["a.json", "a.json.gz", "a.zip", "a.tar.gz"]),
           shape=st.sampled_from(["single", "list", "page", "lines"]))
    def check(name, shape):
        payload = {"single": lambda: real_study_bytes, "list": lambda: b"[" + real_study_bytes + b"]",
                   "page": lambda: b'{"studies": [' + real_study_bytes + b"]}",
                   "lines": lambda: real_study_bytes + b"\n"}[shape]()
        file_name = name.replace("a.json", "a.jsonl") if shape == "lines" and name == "a.json" else name
        (item,) = check_items(read_bytes(file_name, wrapped(file_name, payload)))
        assert isinstance(item, Record), item
        assert json.loads(item.raw) == original, "the original record is kept verbatim"

    check()


XML_TAGS = ["brief_title", "official_title", "overall_status", "phase", "study_type", "start_date",
            "completion_date", "enrollment", "condition", "keyword", "gender", "minimum_age", "maximum_age",
            "healthy_volunteers", "acronym", "why_stopped", "has_expanded_access", "last_update_posted",
            "study_first_posted", "verification_date"]
XML_VALUES = st.one_of(st.text(max_size=40), st.sampled_from([
    "N/A", "18 Years", "65 years", "6 Months", "Phase 1/Phase 2", "Recruiting", "Interventional", "All", "Female",
    "January 2020", "March 3, 2021", "2020-01-01", "Yes", "No", "100", "-5", "Accepts Healthy Volunteers", "",
]))
XML_NESTED = [
    ("eligibility", "criteria", "textblock"), ("location", "facility", "name"), ("sponsors", "lead_sponsor", "agency"),
    ("intervention", "intervention_name", None), ("arm_group", "arm_group_label", None),
    ("primary_outcome", "measure", None), ("brief_summary", "textblock", None), ("enrollment", None, None),
]


@st.composite
def legacy_documents(draw) -> str:
    """A <clinical_study> with an NCT id (or a broken one) and random, often odd, known elements."""
    nct = draw(st.one_of(st.from_regex(r"NCT[0-9]{8}", fullmatch=True), st.text(max_size=12)))
    parts = [f"<id_info><nct_id>{escape(nct)}</nct_id></id_info>"]
    for _ in range(draw(st.integers(0, 12))):
        value = escape(draw(XML_VALUES))
        if draw(st.booleans()):
            parts.append(f"<{draw(st.sampled_from(XML_TAGS))}>{value}</{draw(st.sampled_from(XML_TAGS))}>"
                         if draw(st.integers(0, 9)) == 0 else f"<{(tag := draw(st.sampled_from(XML_TAGS)))}>{value}</{tag}>")
        else:
            outer, middle, inner = draw(st.sampled_from(XML_NESTED))
            body = value if middle is None else (f"<{middle}>{value}</{middle}>" if inner is None
                                                 else f"<{middle}><{inner}>{value}</{inner}></{middle}>")
            parts.append(f"<{outer}>{body}</{outer}>")
    return "<clinical_study>" + "".join(parts) + "</clinical_study>"


@fuzz
@given(document=legacy_documents())
def test_legacy_xml_converts_or_raises_its_documented_error(document):
    try:
        study = legacy_xml_to_study_dict(document)
    except LegacyXmlError as error:
        assert error.message
        return
    items = check_items(read_bytes("study.xml", document.encode()))
    assert len(items) == 1
    if isinstance(items[0], Record):
        assert items[0].study.nct_id == study["protocolSection"]["identificationModule"]["nctId"]
        assert decode_study(items[0].raw).nct_id == items[0].study.nct_id


@fuzz
@given(data=st.binary(max_size=500) | st.text(max_size=500).map(str.encode))
def test_legacy_xml_converter_on_arbitrary_input(data):
    try:
        legacy_xml_to_study_dict(b"<" + data)
    except LegacyXmlError:
        pass
