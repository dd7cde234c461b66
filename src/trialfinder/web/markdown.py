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
# Text the markdown parser would only split into paragraphs: no inline syntax, entity, escape or table pipe
# anywhere, no block marker (list, heading, quote, setext underline) opening a line, no hard line break, nothing
# outside printable ASCII plus newline and space. Most arm and outcome descriptions are like this.
_NOT_PLAIN = re.compile(r"[^\n\x20-\x7e]|[\\`*_\[\]<>&|]|^ *(?:[-+=#]|\d+[.)])|  \n", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n(?: *\n)+")


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


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    # Built once: nh3.clean() would rebuild the same policy from these sets on every call (3x the cost).
    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


def render_markdown(text: str | None) -> Markup:
    """Render registry text to sanitized HTML: escapes resolved, lists and headings kept, no raw HTML."""
    if not text or not text.strip():
        return Markup("")
    source = _LEGACY_PARAGRAPH_MARK.sub("\n\n", text)
    if not _NOT_PLAIN.search(source):
        return _plain_paragraphs(source)
    html = _parser().render(source)
    return Markup(_cleaner().clean(html))


def _plain_paragraphs(source: str) -> Markup:
    # What parser + cleaner make of plain text, at a tenth of the cost: a <p> per blank-line-separated block,
    # lines trimmed. Nothing here can be markup: _NOT_PLAIN let no "<", ">" or "&" through.
    html = []
    for block in _BLANK_LINES.split(source.strip()):
        lines = "\n".join(line.strip() for line in block.strip().split("\n"))
        if lines:
            html.append(f"<p>{lines}</p>\n")
    return Markup("".join(html))


def render_inline(text: str | None) -> Markup:
    """Render a short registry string (an arm description, an outcome) without wrapping paragraph tags."""
    html = str(render_markdown(text)).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)
