"""Registry text (ClinicalTrials.gov markdown with backslash escapes, or legacy plain text) as safe HTML."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "sub", "sup", "a", "h3", "h4", "h5", "h6",
    "blockquote", "table", "thead", "tbody", "tr", "th", "td", "code", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
# Record headings sit inside page sections that already use h2/h3, so "# x" becomes h3 at most.
HEADING_FLOOR = 3

# Legacy records converted from XML separate paragraphs with "~" ("...cancer.~PURPOSE: ...").
_LEGACY_PARAGRAPH_MARK = re.compile(r"(?<=[.:;)])\s*~(?=\s*[A-Z])")


def _shift_headings(md: MarkdownIt) -> None:
    def rule(state) -> None:
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close"):
                level = min(6, int(token.tag[1]) + HEADING_FLOOR - 1)
                token.tag = f"h{level}"

    md.core.ruler.push("shift_headings", rule)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # html=False: raw HTML in a record is shown as text, never passed through.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    # Registry text is often indented for layout; an indented block is never meant as code.
    md.disable(["code", "fence", "html_block", "html_inline", "image"])
    md.enable("table")
    _shift_headings(md)
    return md


def render_markdown(text: str | None) -> Markup:
    """Render registry text to sanitized HTML: escapes resolved, lists and headings kept, no raw HTML."""
    if not text or not text.strip():
        return Markup("")
    source = _LEGACY_PARAGRAPH_MARK.sub("\n\n", text)
    html = _parser().render(source)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(clean)


def render_inline(text: str | None) -> Markup:
    """Render a short registry string (an arm description, an outcome) without wrapping paragraph tags."""
    html = str(render_markdown(text)).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)
