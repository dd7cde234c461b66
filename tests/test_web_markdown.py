"""Registry text as HTML: the plain-text shortcut must give exactly what the markdown parser and sanitizer give."""

from __future__ import annotations

import random

import pytest
from markupsafe import Markup

from test_web_fixtures import web_data_dir, web_services  # noqa: F401
from trialfinder.web import markdown

EDGE_CASES = [
    "One line.", "  Indented first line\n    and a deeper second.\n", "Two\n\nparagraphs\n \n\n  here",
    "Quotes \"double\" and 'single', 50% of 10 (approx.) = 5? ~ ok", "Line with trailing space \nnext",
    "Ends with spaces   ", "Phase 2/3: 10 mg/kg q3w; OS, PFS.", "1 in 3 patients", "e.g. 2.5 mg",
]
# Each of these needs the parser: list, heading, quote, emphasis, escape, entity, link, table, hard break.
NOT_PLAIN = ["- item", "1. first", "2) second", "# Heading", "> quoted", "*em*", "a_b_c", "10\\^6", "&amp;",
             "[x](http://e.org)", "a | b", "hard  \nbreak", "Title\n===", "x < y", "<b>bold</b>", "tab\tstop",
             "non-breaking\u00a0space", "Fort Lauderdale\r\nFL"]


def full_render(text: str) -> str:
    source = markdown._LEGACY_PARAGRAPH_MARK.sub("\n\n", text)
    return markdown._cleaner().clean(markdown._parser().render(source))


@pytest.mark.parametrize("text", EDGE_CASES)
def test_plain_text_takes_the_shortcut_and_renders_the_same(text):
    assert not markdown._NOT_PLAIN.search(text)
    assert str(markdown.render_markdown(text)) == full_render(text)


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_text_with_markup_goes_through_the_parser(text):
    assert markdown._NOT_PLAIN.search(text)


def test_random_plain_texts_render_the_same_either_way():
    alphabet = list("ab Z1. )(\n\n  \"'~!=-+#:/%$@^{};?,") + ["http://x.y ", "    ", "1. ", "1) ", "---", "===",
                                                                   "\n    x", " ~", "9999999999. "]
    rng = random.Random(7)
    checked = 0
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        if not text.strip() or markdown._NOT_PLAIN.search(markdown._LEGACY_PARAGRAPH_MARK.sub("\n\n", text)):
            continue
        checked += 1
        assert str(markdown.render_markdown(text)) == full_render(text), repr(text)
    assert checked > 5_000


def test_registry_texts_render_the_same_either_way(web_services):
    checked = 0
    for nct_id in web_services.store.nct_ids()[:1500]:
        study = web_services.store.study(nct_id)
        texts = [study.description.brief_summary, study.description.detailed_description,
                 study.eligibility.study_population, *(a.description for a in study.arms_interventions.arm_groups)]
        for text in texts:
            if text and text.strip() and not markdown._NOT_PLAIN.search(markdown._LEGACY_PARAGRAPH_MARK.sub("\n\n", text)):
                checked += 1
                assert str(markdown.render_markdown(text)) == full_render(text), nct_id
    assert checked > 100


def test_shortcut_output_is_escaped_markup():
    rendered = markdown.render_markdown("A plain sentence.")
    assert isinstance(rendered, Markup) and str(rendered) == "<p>A plain sentence.</p>\n"
    assert "<script" not in str(markdown.render_markdown("<script>alert(1)</script>"))
