"""Hypothesis strategies for ClinicalTrials.gov API v2 study records, built from the registry's own OpenAPI spec.

Every module and field of the spec's Study schema can appear (results, annotation, document and derived sections
too), each optional, with the shapes real records take and the ones the registry may start sending: enum values
the spec does not list yet, empty lists and strings, long texts, unicode, markdown escapes and raw HTML in text,
partial dates ("2024", "2024-05", "2024-05-17"), ages ("18 Years", "6 Months", "N/A"), sites with and without a
geoPoint, and fields the spec does not know. The spec is read from ../shared/reference at test time.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from conftest import REPO_ROOT

SPEC_PATH = Path(os.environ.get("TRIALFINDER_CTGOV_SPEC",
                                REPO_ROOT.parent / "shared" / "reference" / "ctgov-api-v2-openapi.yaml"))

# Text that has broken renderers before: markdown escapes as the registry writes them, raw HTML and script,
# entities, template syntax, odd whitespace and line ends, right-to-left and astral characters.
TRICKY_TEXTS = (
    "",
    " ",
    "Plain text.",
    "Ünïcödé — 中文 — العربية — עברית — 🧬🩺",
    "* first item\n* second item\n  * nested item\n\n1. one\n2. two",
    "Age \\>= 18 years, \\< 65 years; 1.0×10\\^6 cells/kg \\[see above\\] a\\_b \\*not bold\\*",
    "<b onmouseover=alert(1)>bold</b> <script>alert(2)</script> <img src=x onerror=alert(3)>",
    "<!-- comment --><iframe src=\"javascript:alert(4)\"></iframe><svg onload=alert(5)>",
    "&amp; &lt;script&gt;alert(6)&lt;/script&gt; &#x3C;script&#x3E; &#60;",
    "[click](javascript:alert(7)) [ok](https://example.org/a?b=1&c=2) ![image](http://x.invalid/y.png)",
    "```\n<script>alert(8)</script>\n```\n\n    indented code",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Windows\r\nline\r\nends\rand a lone CR",
    "tab\there, no-break\u00a0space, zero\u200bwidth, line\u2028separator, bidi \u202egnp.exe",
    "{{ 7*7 }} {% if true %}jinja{% endif %} ${jndi:x} %s %(name)s",
    "'; DROP TABLE studies; -- \" OR 1=1",
    "Inclusion Criteria:\n\n* Age 18 years or older\n* ECOG 0-1\n\nExclusion Criteria:\n\n* Pregnant\n* HbA1c > 9%",
    "\\",
    "NCT01234567 and nct 2345678",
    # Nested far deeper than any record: recursive walkers (criteria tree, page macros) must not overflow.
    "Inclusion Criteria:\n\n" + "".join("  " * level + "* level\n" for level in range(400)),
    "> " * 300 + "quoted",
)
_SENTENCE = "Patients with metastatic disease \\>= 2 lines <b>prior</b> therapy, ü中🧬. "
NEW_ENUM_VALUES = ("NEW_VALUE_ADDED_LATER", "PHASE5", "Recruiting", "phase 2", "")
AGE_UNITS = ("Year", "Years", "Month", "Months", "Week", "Weeks", "Day", "Days", "Hour", "Hours", "Minute",
             "Minutes")
# Names of string fields whose values have a shape of their own.
_NAMED_STRINGS: dict[str, st.SearchStrategy[str]] = {}


@functools.lru_cache(maxsize=1)
def load_spec_schemas() -> dict[str, dict]:
    """The component schemas of the registry's OpenAPI spec."""
    import yaml

    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["components"]["schemas"]


def texts() -> st.SearchStrategy[str]:
    """Free text as a record may carry it: tricky samples, random unicode, several joined, or very long."""
    return st.one_of(
        st.sampled_from(TRICKY_TEXTS),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
        st.lists(st.sampled_from(TRICKY_TEXTS), min_size=2, max_size=5).map("\n\n".join),
        st.integers(50, 400).map(lambda n: _SENTENCE * n),
    )


def partial_dates() -> st.SearchStrategy[str]:
    """Dates as the registry writes them: year, year-month or a full date."""
    return st.builds(
        lambda year, month, day, precision: [f"{year}", f"{year}-{month:02d}", f"{year}-{month:02d}-{day:02d}"][precision],
        st.integers(1900, 2100), st.integers(1, 12), st.integers(1, 28), st.integers(0, 2),
    )


def ages() -> st.SearchStrategy[str]:
    """Ages and durations: "18 Years", "6 Months", "1 Day" ... and the legacy "N/A"."""
    return st.one_of(
        st.builds(lambda number, unit: f"{number} {unit}", st.integers(0, 120), st.sampled_from(AGE_UNITS)),
        st.just("N/A"),
    )


def nct_ids() -> st.SearchStrategy[str]:
    """Well-formed NCT ids."""
    return st.integers(0, 99_999_999).map(lambda n: f"NCT{n:08d}")


def _named_strings() -> dict[str, st.SearchStrategy[str]]:
    if not _NAMED_STRINGS:
        _NAMED_STRINGS.update({
            "nctIdAliases": nct_ids(),
            "url": st.sampled_from(("https://example.org/trial", "http://example.org/a?b=<c>", "javascript:alert(9)",
                                    "", "ftp://example.org/x", "//example.org/protocol-relative")),
            "email": st.sampled_from(("site@example.org", "x@y.z\" onclick=\"alert(10)", "", "not an email")),
            "phone": st.sampled_from(("+1 617-555-0100", "617.555.0100 ext 12", "javascript:alert(11)", "", "n/a")),
            "phoneExt": st.sampled_from(("12", "", "abc")),
            "pmid": st.sampled_from(("12345678", "", "123<script>alert(12)</script>")),
        })
    return _NAMED_STRINGS


def schema_strategy(schema: dict, name: str = "", *, max_list: int = 2) -> st.SearchStrategy[Any]:
    """A strategy for values of one OpenAPI schema (refs resolved against the spec), every property optional."""
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        return st.deferred(lambda: _component(ref, name, max_list))
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties") or {}
        if not properties:  # free-form objects (ModelPredictions, BmiLimits)
            return st.dictionaries(st.sampled_from(("minBmi", "maxBmi", "model", "score")),
                                   st.one_of(st.integers(0, 100), st.text(max_size=10)), max_size=2)
        optional = {key: schema_strategy(value, key, max_list=max_list) for key, value in properties.items()}
        return st.fixed_dictionaries({}, optional=optional)
    if kind == "array":
        return st.lists(schema_strategy(schema["items"], name, max_list=max_list), max_size=max_list)
    if kind == "string":
        if "enum" in schema:
            return st.one_of(st.sampled_from(schema["enum"]), st.sampled_from(NEW_ENUM_VALUES))
        if "pattern" in schema:  # ages and target durations are the only patterned strings of a study
            return ages()
        if schema.get("format") == "date" or name.endswith("Date"):
            return partial_dates()
        if name in _named_strings():
            return _named_strings()[name]
        return texts()
    if kind == "integer":
        limit = 2**31 - 1 if schema.get("format") != "int64" else 2**63 - 1
        return st.one_of(st.integers(0, 1000), st.sampled_from((0, limit, -1)))
    if kind == "number":
        return st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False))
    if kind == "boolean":
        return st.booleans()
    raise ValueError(f"schema {name!r} has no type the generator knows: {schema}")


def _component(ref: str, name: str, max_list: int) -> st.SearchStrategy[Any]:
    schemas = load_spec_schemas()
    if ref == "GeoPoint":  # required lat/lon, on the globe
        return st.fixed_dictionaries({"lat": st.floats(-90, 90, allow_nan=False),
                                      "lon": st.floats(-180, 180, allow_nan=False)})
    if ref in ("PartialDate", "DateTimeMinutes"):
        return partial_dates() if ref == "PartialDate" else partial_dates().map(lambda d: f"{d[:4]}-01-01T12:30")
    return schema_strategy(schemas[ref], name, max_list=max_list)


def _with_identity(record: dict, nct_id: str, extra: dict | None) -> dict:
    protocol = record.setdefault("protocolSection", {})
    identification = protocol.setdefault("identificationModule", {})
    identification["nctId"] = nct_id
    if extra:
        # Fields the spec does not know yet (the registry adds some every year) must be kept, never dropped.
        record.update(extra)
    return record


def study_records(nct_id: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict]:
    """Whole API v2 study records, valid for ingest (they always carry an NCT id)."""
    study = schema_strategy({"$ref": "#/components/schemas/Study"}, "Study")
    extra = st.one_of(st.none(), st.fixed_dictionaries({"futureSection": st.fixed_dictionaries(
        {"futureModule": st.fixed_dictionaries({"newField": texts(), "newList": st.lists(st.integers(), max_size=2)})})}))
    return st.builds(_with_identity, study, nct_id if nct_id is not None else nct_ids(), extra)
