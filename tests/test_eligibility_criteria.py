"""Splitting eligibility text into nested inclusion / exclusion criteria, on hand-made and real records."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialfinder.eligibility import Criterion, clean_text, parse_criteria

MARKDOWN = """Inclusion Criteria:

* Age ≥ 18 years
* Adequate organ function:

  * ANC ≥ 1.5 x 10\\^9/L
  * Platelets \\> 100,000/mm3
* Life expectancy \\> 3 months

Exclusion Criteria:

1. Pregnant or breastfeeding
2. Prior chemotherapy
   within 4 weeks
"""


def test_markdown_sections_nesting_and_unescaping() -> None:
    sections = parse_criteria(MARKDOWN)
    assert [c.text for c in sections.inclusion] == [
        "Age ≥ 18 years", "Adequate organ function:", "Life expectancy > 3 months",
    ]
    organ = sections.inclusion[1]
    assert [c.text for c in organ.children] == ["ANC ≥ 1.5 x 10^9/L", "Platelets > 100,000/mm3"]
    assert all(child.kind == "inclusion" for child in organ.children)
    assert [c.text for c in sections.exclusion] == ["Pregnant or breastfeeding", "Prior chemotherapy within 4 weeks"]
    assert all(c.kind == "exclusion" for c in sections.exclusion)


def test_spans_point_into_the_original_text() -> None:
    sections = parse_criteria(MARKDOWN)
    for criterion in sections.all():
        source = MARKDOWN[criterion.start : criterion.end]
        assert clean_text(source) == criterion.text
    assert MARKDOWN[sections.exclusion[1].start : sections.exclusion[1].end].endswith("within 4 weeks")


def test_heading_variants_and_lead_in_sentences() -> None:
    text = (
        "KEY INCLUSION CRITERIA\n\nPatients must meet all of the following criteria:\n\n- Adults\n- Signed consent\n\n"
        "Subjects will be excluded if they meet any of the following:\n\n• Active infection\n• Dementia\n"
    )
    sections = parse_criteria(text)
    assert [c.text for c in sections.inclusion] == ["Adults", "Signed consent"]
    assert [c.text for c in sections.exclusion] == ["Active infection", "Dementia"]
    assert any("following" in note for note in sections.notes)


def test_numbered_variants_and_lettered_sub_items() -> None:
    text = "Inclusion Criteria:\n\n1) First item\n2) Second item:\n   a. sub one\n   b. sub two\n3) Third\n"
    inclusion = parse_criteria(text).inclusion
    assert [c.text for c in inclusion] == ["First item", "Second item:", "Third"]
    assert [c.text for c in inclusion[1].children] == ["sub one", "sub two"]


def test_text_without_headings_is_inclusion() -> None:
    sections = parse_criteria("Healthy volunteers aged 18 to 45.\n\nBMI between 18.5 and 30 kg/m2.")
    assert [c.text for c in sections.inclusion] == ["Healthy volunteers aged 18 to 45.", "BMI between 18.5 and 30 kg/m2."]
    assert sections.exclusion == []


def test_inline_headings_with_semicolons() -> None:
    text = "Inclusion Criteria: Adults aged 18-65; HbA1c 7-10%. Exclusion Criteria: Type 1 diabetes; pregnancy."
    sections = parse_criteria(text)
    assert [c.text for c in sections.inclusion] == ["Adults aged 18-65", "HbA1c 7-10%."]
    assert [c.text for c in sections.exclusion] == ["Type 1 diabetes", "pregnancy."]


LEGACY = """
        DISEASE CHARACTERISTICS:

          -  Histologically confirmed unresectable stage IIIB non-small cell lung
             cancer

               -  Squamous cell carcinoma

               -  Adenocarcinoma

        PATIENT CHARACTERISTICS:

        Age:

          -  18 and over

        Hematopoietic:

          -  Platelet count at least 100,000/mm^3

        PRIOR CONCURRENT THERAPY:

          -  No prior chemotherapy
"""


def test_legacy_plain_text_with_section_headings() -> None:
    sections = parse_criteria(LEGACY)
    first = sections.inclusion[0]
    assert first.text == "Histologically confirmed unresectable stage IIIB non-small cell lung cancer"
    assert first.heading == "DISEASE CHARACTERISTICS"
    assert [c.text for c in first.children] == ["Squamous cell carcinoma", "Adenocarcinoma"]
    headings = {c.text: c.heading for c in sections.inclusion}
    assert headings["18 and over"] == "PATIENT CHARACTERISTICS: Age"
    assert headings["Platelet count at least 100,000/mm^3"] == "PATIENT CHARACTERISTICS: Hematopoietic"
    assert headings["No prior chemotherapy"] == "PRIOR CONCURRENT THERAPY"
    assert sections.exclusion == []


def test_empty_and_none() -> None:
    assert parse_criteria(None).inclusion == [] and parse_criteria("   ").exclusion == []


def _v2_texts(root: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted((root / "ctgov" / "v2_json").rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        studies = data.get("studies", [data]) if isinstance(data, dict) else data
        for study in studies:
            try:
                protocol = study["protocolSection"]
                texts.setdefault(protocol["identificationModule"]["nctId"],
                                 protocol["eligibilityModule"]["eligibilityCriteria"])
            except (KeyError, TypeError):
                continue
    return texts


def _legacy_texts(root: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted((root / "ctgov" / "legacy_xml" / "aact_spec_fixtures").glob("*.xml")):
        text = ET.parse(path).getroot().findtext("eligibility/criteria/textblock")
        if text:
            texts[path.stem] = text
    return texts


def _check_real(texts: dict[str, str]) -> tuple[int, int]:
    both_headings = both_lists = 0
    for nct, text in texts.items():
        sections = parse_criteria(text)
        for criterion in sections.all():
            assert isinstance(criterion, Criterion)
            assert 0 <= criterion.start < criterion.end <= len(text), nct
            assert criterion.text and "\\>" not in criterion.text and "\\<" not in criterion.text, nct
        lowered = text.lower()
        if "inclusion criteria" in lowered and "exclusion criteria" in lowered:
            both_headings += 1
            both_lists += bool(sections.inclusion and sections.exclusion)
    return both_headings, both_lists


@pytest.mark.shared
def test_every_real_v2_record_parses(shared_data: Path) -> None:
    texts = _v2_texts(shared_data)
    assert len(texts) > 400
    both_headings, both_lists = _check_real(texts)
    assert both_headings > 300
    # A few records mention the other heading only in prose; nearly all must yield both lists.
    assert both_lists >= 0.98 * both_headings


@pytest.mark.shared
def test_every_legacy_xml_record_parses(shared_data: Path) -> None:
    texts = _legacy_texts(shared_data)
    assert len(texts) > 50
    both_headings, both_lists = _check_real(texts)
    assert both_lists >= 0.95 * both_headings


@pytest.mark.shared
def test_real_nested_and_legacy_heading_examples(shared_data: Path) -> None:
    texts = _v2_texts(shared_data)
    nested = parse_criteria(texts["NCT00293423"]).inclusion
    glioma = next(c for c in nested if c.text.startswith("Histologically confirmed malignant recurrent glioma"))
    assert glioma.children[0].text == "Glioblastoma"
    assert glioma.children[0].children[0].text == "Glioblastoma multiforme"
    assert any(c.heading == "PATIENT CHARACTERISTICS" and c.text.startswith("Platelet count") for c in nested)
    lead_in = parse_criteria(texts["NCT01742767"])
    assert len(lead_in.inclusion) == 12 and len(lead_in.exclusion) == 20
    assert lead_in.inclusion[4].text == "≥ 18 years of age < 75 years"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc XYZ:*-•1.)\n\t\\<>≥(")) | st.characters(), max_size=400))
def test_parse_never_crashes_and_spans_are_valid(text: str) -> None:
    sections = parse_criteria(text)
    for criterion in sections.all():
        assert 0 <= criterion.start <= criterion.end <= len(text)


def _all_record_texts(root: Path) -> dict[str, str]:
    """Eligibility text of every record in the shared data, read through the project's own readers."""
    from trialfinder.ingest.readers import Record, read_paths

    texts: dict[str, str] = {}
    for item in read_paths([root / "ctgov", root / "trialgpt_trial_texts" / "as_ctgov_v2.json"]):
        if isinstance(item, Record):
            texts.setdefault(item.study.nct_id, item.study.eligibility.eligibility_criteria or "")
    return {nct: text for nct, text in texts.items() if text.strip()}


# A line left out of every item may only be a heading: a short title, or a label that ends in a colon.
_HEADING_LINE = re.compile(r"^[^.;]{0,100}:$|^[^.;:]{0,60}$")


def _unplaced_lines(text: str) -> list[str]:
    """Non-blank lines that land in no item and are neither a heading nor shown as a note or preamble."""
    sections = parse_criteria(text)
    spans = [(c.start, c.end) for c in sections.all()]
    shown = " ".join([sections.preamble, *sections.notes])
    unplaced: list[str] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.strip()
        start = offset + len(line) - len(line.lstrip())
        offset += len(line)
        if not body or any(a < start + len(body) and start < b for a, b in spans):
            continue
        cleaned = clean_text(body)
        if cleaned in shown or _HEADING_LINE.match(cleaned):
            continue
        unplaced.append(cleaned)
    return unplaced


@pytest.mark.shared
def test_no_criterion_text_is_lost_on_any_real_record(shared_data: Path) -> None:
    texts = _all_record_texts(shared_data)
    assert len(texts) > 8000  # v2 JSON, the three legacy XML sets, the TrialGPT texts
    lines = sum(1 for text in texts.values() for line in text.splitlines() if line.strip())
    unplaced = {nct: lost for nct, text in texts.items() if (lost := _unplaced_lines(text))}
    # What remains are remarks like "Other protocol-defined inclusion/exclusion criteria may apply" that read as
    # section titles; a real regression (a whole section glued into one note) costs thousands of lines.
    assert sum(map(len, unplaced.values())) <= 0.0005 * lines, list(unplaced.items())[:20]


def test_lost_text_regressions() -> None:
    # Paragraph criteria that each start with one space are separate items, not one paragraph.
    spaced = "Exclusion Criteria:\n\nPrior stroke. \n\n Carcinoembryonic antigen > 1.5 x ULN. \n\n Serious infection.\n"
    assert [c.text for c in parse_criteria(spaced).exclusion] == [
        "Prior stroke.", "Carcinoembryonic antigen > 1.5 x ULN.", "Serious infection."]
    # A criterion that introduces sub-items stays an item; only a bare lead-in becomes a note.
    nested = ("DISEASE CHARACTERISTICS:\n\n"
              "  -  Complete clinical response after first-line platinum-based chemotherapy\n"
              "     defined by all of the following criteria:\n\n       -  CA 125 no greater than 35 units/mL\n")
    (parent,) = parse_criteria(nested).inclusion
    assert parent.text.startswith("Complete clinical response") and parent.children[0].text.startswith("CA 125")
    # Bulleted headings with a qualifier switch the section instead of hiding the text before them in a preamble.
    qualified = ("-  INCLUSION CRITERIA - BLOOD DRAW/ASTHMA:\n\nAge 18-65.\n\n"
                 "EXCLUSION CRITERIA - BLOOD DRAW/ASTHMA:\n\nSmoker.\n")
    sections = parse_criteria(qualified)
    assert [c.text for c in sections.inclusion] == ["Age 18-65."]
    assert [c.text for c in sections.exclusion] == ["Smoker."]
    # Text above a lone exclusion heading is the unheaded inclusion list; a short criterion is not a sub-heading.
    unheaded = ("Age 18 or older.\n\nECOG performance status ≤ 2\n  1. Adequate organ function\n\n"
                "Exclusion criteria:\n\nPregnancy.\n")
    sections = parse_criteria(unheaded)
    assert [c.text for c in sections.inclusion][:2] == ["Age 18 or older.", "ECOG performance status ≤ 2"]
    # A sentence that merely mentions inclusion is a criterion, not a section heading.
    unsuitable = "Patients deemed unsuitable for inclusion by the investigator."
    mention = f"Inclusion Criteria:\n\n* Age 18 or older\n\nExclusion Criteria:\n\n{unsuitable}\n"
    assert [c.text for c in parse_criteria(mention).exclusion] == [unsuitable]


@pytest.mark.parametrize("text", [
    "Inclusion Criteria:\n* Age >= 18 years\n* Documented EGFR mutation\nExclusion Criteria:\n* Prior anti-PD-1\n* Brain metastases\n",
    "Inclusion Criteria:\n1. Age >= 18 years\n2. Documented EGFR mutation\nEXCLUSION CRITERIA\n1. Prior anti-PD-1\n2. Brain metastases\n",
    "Inclusion Criteria:\n  * Age >= 18 years\n  * Documented EGFR mutation\n  Key Exclusion Criteria (all cohorts):\n"
    "  * Prior anti-PD-1\n  * Brain metastases\n",
    "Inclusion Criteria:\n- Age >= 18 years\n- Documented EGFR mutation\nExclusion criteria for both parts:\n"
    "- Prior anti-PD-1\n- Brain metastases\n",
    "INCLUSION:\n1) Age >= 18 years\n2) Documented EGFR mutation\nEXCLUSION:\n1) Prior anti-PD-1\n2) Brain metastases\n",
    "Participants are eligible only if all of the following apply:\n* Age >= 18 years\n* Documented EGFR mutation\n"
    "Participants are excluded from the study if any of the following criteria apply:\n* Prior anti-PD-1\n"
    "* Brain metastases\n",
    "- Inclusion Criteria:\n  - Age >= 18 years\n  - Documented EGFR mutation\n- Exclusion Criteria:\n"
    "  - Prior anti-PD-1\n  - Brain metastases\n",
])
def test_a_section_title_right_under_the_last_item_opens_the_next_section(text: str) -> None:
    # with no blank line before it, the title was glued to the last inclusion and every exclusion became an inclusion
    sections = parse_criteria(text)
    assert [c.text for c in sections.inclusion] == ["Age >= 18 years", "Documented EGFR mutation"]
    assert [c.text for c in sections.exclusion] == ["Prior anti-PD-1", "Brain metastases"]


def test_a_wrapped_line_that_mentions_exclusion_criteria_is_no_title() -> None:
    sections = parse_criteria("Inclusion Criteria:\n* Patients who do not meet the\nexclusion criteria of study A\n* Adults\n")
    assert [c.text for c in sections.inclusion] == ["Patients who do not meet the exclusion criteria of study A", "Adults"]
    assert sections.exclusion == []
    # a sentence wrapping onto a line that reads like a lead-in stays one item
    sections = parse_criteria("Inclusion Criteria:\n* Children on the inpatient unit at\n"
                              "NIH, may be eligible if they meet the following additional criteria:\n* Adults\n")
    assert sections.inclusion[0].text.startswith("Children on the inpatient unit at NIH, may be eligible")
