"""Split ClinicalTrials.gov eligibility text into nested inclusion and exclusion criteria."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Literal

CriterionKind = Literal["inclusion", "exclusion"]

_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~^=&\"'$%:;,/@])")
_WHITESPACE = re.compile(r"\s+")

# A list marker must be followed by whitespace so that "1.5 mg/dL" or "a.m." never start an item.
_BULLET = re.compile(
    r"""^(?P<indent>[ \t]*)
        (?P<marker>[*\-•+·▪◦o]|\d{1,3}\\?[.)]|\(\d{1,3}\)|[a-zA-Z]\\?[.)]|\([a-zA-Z]\)|\(?[ivxIVX]{1,5}\))
        (?P<gap>[ \t]+)(?=\S)""",
    re.VERBOSE,
)
_INCLUSION_HEADING = re.compile(
    r"""^(?:\*\*)?\s*(?:[\w/\- ]{0,40}?\s)?(?:key\s+|main\s+|major\s+|general\s+)?
        (?:inclusion|eligibility)(?:\s+criteria|\s+criterion)?\b""",
    re.IGNORECASE | re.VERBOSE,
)
_EXCLUSION_HEADING = re.compile(
    r"^(?:\*\*)?\s*(?:[\w/\- ]{0,40}?\s)?(?:key\s+|main\s+|major\s+|general\s+)?exclusion(?:\s+criteria|\s+criterion)?\b",
    re.IGNORECASE,
)
# Lead-in sentences that introduce a list rather than state a criterion.
_INCLUSION_LEAD_IN = re.compile(
    r"\b(must (?:meet|fulfil+|satisfy|have) (?:all|each)|eligible (?:for|to)|(?:are|is) eligible if|"
    r"(?:all|each) of the following|meet the following|included (?:in the study )?if|inclusion if)\b",
    re.IGNORECASE,
)
_EXCLUSION_LEAD_IN = re.compile(
    r"\b(excluded|ineligible|not (?:be )?eligible|exclusion|(?:any|one) of the following criteria (?:will|are|is))\b",
    re.IGNORECASE,
)
# A section title on a line of its own, capitalized as titles are: "Exclusion Criteria", "KEY INCLUSION CRITERIA:",
# "Exclusion criteria (all cohorts):"; a wrapped line "exclusion criteria of study A" is no title.
_SECTION_TITLE = re.compile(
    r"^[*_\s]*(?=[A-Z])(?i:(?:key\s+|main\s+)?(?:inclusion|exclusion)\s+criteria\s*(?:\([^)]{0,40}\)\s*)?:?"
    r"|(?:key\s+|main\s+)?(?:inclusion|exclusion)\s+criteria\b[^.;:]{0,40}:)[*_\s]*$")
_LEGACY_SECTION = re.compile(r"^[A-Z][A-Z/ ,&\-]{3,60}:$")


@dataclass(frozen=True)
class Criterion:
    """One eligibility item: clean text, its section kind, sub-heading, nested children and source span."""

    text: str
    kind: CriterionKind
    heading: str | None
    children: tuple[Criterion, ...]
    start: int
    end: int


@dataclass(frozen=True)
class CriteriaSections:
    """The parsed eligibility text: inclusion and exclusion items plus any non-criterion prose."""

    inclusion: list[Criterion]
    exclusion: list[Criterion]
    preamble: str = ""
    notes: list[str] = field(default_factory=list)

    def all(self) -> list[Criterion]:
        """Every criterion (inclusion first), flattened depth-first with children after their parent."""
        flat: list[Criterion] = []

        def walk(items: list[Criterion] | tuple[Criterion, ...]) -> None:
            for item in items:
                flat.append(item)
                walk(item.children)

        walk(self.inclusion)
        walk(self.exclusion)
        return flat


def clean_text(raw: str) -> str:
    """Remove markdown escapes and emphasis, decode HTML entities and collapse whitespace."""
    text = _MARKDOWN_ESCAPE.sub(r"\1", raw)
    text = html.unescape(text)
    text = re.sub(r"(?<!\w)\*\*(?=\S)(.+?)(?<=\S)\*\*(?!\w)", r"\1", text)
    return _WHITESPACE.sub(" ", text).strip()


@dataclass
class _Line:
    start: int
    end: int
    raw: str
    indent: int
    bullet: re.Match[str] | None

    @property
    def content(self) -> str:
        return self.raw[self.bullet.end() :] if self.bullet else self.raw.strip()

    @property
    def content_start(self) -> int:
        return self.start + (self.bullet.end() if self.bullet else self.indent)

    @property
    def content_column(self) -> int:
        return self.bullet.end() if self.bullet else self.indent


@dataclass
class _Node:
    kind: CriterionKind
    heading: str | None
    column: int
    marker_indent: int
    start: int
    end: int
    parts: list[str]
    children: list[_Node] = field(default_factory=list)
    bulleted: bool = True

    def freeze(self) -> Criterion:
        return Criterion(
            text=clean_text(" ".join(self.parts)),
            kind=self.kind,
            heading=self.heading,
            children=tuple(child.freeze() for child in self.children),
            start=self.start,
            end=self.end,
        )


# Some records run the exclusion heading into the last inclusion line: "... therapy. Exclusion Criteria: ...".
_INLINE_EXCLUSION = re.compile(r"(?i)(?<=[.;])[ \t]+(?=(?:key\s+)?exclusion\s+criteria\b)")


def _split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    offset = 0
    for raw_with_end in text.splitlines(keepends=True):
        raw_line = raw_with_end.rstrip("\r\n")
        cuts = [0, *(m.end() for m in _INLINE_EXCLUSION.finditer(raw_line)), len(raw_line)]
        for cut_start, cut_end in zip(cuts, cuts[1:]):
            raw = raw_line[cut_start:cut_end].rstrip()
            start = offset + cut_start
            expanded_indent = len(raw) - len(raw.lstrip(" \t"))
            lines.append(_Line(start, start + len(raw), raw, expanded_indent, _BULLET.match(raw)))
        offset += len(raw_with_end)
    return lines


def _section_switch(line_text: str) -> tuple[CriterionKind, str] | None:
    """Return (kind, remainder) when a non-list line opens an inclusion or exclusion section."""
    stripped = clean_text(line_text).strip("*_[] ")
    if len(stripped) > 160 and not re.match(r"(?i)(key\s+)?(inclusion|exclusion)\s+criteria\s*:", stripped):
        return None
    head, sep, remainder = stripped.partition(":")
    if not sep and len(stripped) > 70:
        return None
    # Without a colon only a real title is a heading ("Inclusion Criteria"), not a sentence that mentions inclusion
    # ("Patients deemed unsuitable for inclusion by the investigator.").
    if not sep and not re.search(r"(?i)criteri", head) and len(head.split()) > 3:
        return None
    for kind, pattern in (("exclusion", _EXCLUSION_HEADING), ("inclusion", _INCLUSION_HEADING)):
        if pattern.match(head) and len(head) <= 90:
            return kind, remainder.strip()
    if (sep and not remainder.strip() or stripped.endswith(":")) and _is_generic_lead_in(stripped.rstrip(":") + ":"):
        if _EXCLUSION_LEAD_IN.search(stripped):
            return "exclusion", ""
        if _INCLUSION_LEAD_IN.search(stripped) and len(stripped) <= 140:
            return "inclusion", ""
    return None


# "... on the pediatric unit at" / "NIH, may be eligible if they meet the following criteria:": a sentence that
# wraps onto the next line, whatever that line looks like.
_ENDS_MID_SENTENCE = re.compile(
    r"\b(?:a|an|the|of|at|to|in|on|for|from|by|with|and|or|who|that|which|than|as|if|is|are|be|must|may)\s*$",
    re.IGNORECASE)


def _looks_like_a_title(line_text: str) -> bool:
    """Whether a line that switches sections is capitalized and set apart as titles are ("EXCLUSION:", "Exclusion
    Criteria", "Participants are excluded if any of the following apply:"), so it opens its section even glued to
    the item above it."""
    cleaned = clean_text(line_text).strip("*_ ")
    return cleaned[:1].isupper() and (cleaned.endswith(":") or bool(_SECTION_TITLE.match(cleaned)))


def _is_lead_in(text: str) -> bool:
    """A list item like "Patients must meet all of the following criteria:" that only introduces its children."""
    cleaned = clean_text(text)
    return cleaned.endswith(":") and bool(
        _INCLUSION_LEAD_IN.search(cleaned) or _EXCLUSION_LEAD_IN.search(cleaned)
    )


def _inline_parts(line: _Line, remainder: str) -> list[tuple[int, int]]:
    """Spans of the criteria written on a heading line itself, split at semicolons when it lists several."""
    colon = line.raw.find(":")
    body_start = colon + 1 if colon >= 0 else line.indent
    spans: list[tuple[int, int]] = []
    pieces = line.raw[body_start:].split(";") if remainder.count(";") >= 1 else [line.raw[body_start:]]
    cursor = line.start + body_start
    for piece in pieces:
        lead = len(piece) - len(piece.lstrip())
        body = piece.strip()
        if body:
            spans.append((cursor + lead, cursor + lead + len(body)))
        cursor += len(piece) + 1
    return spans


def _is_bulleted_heading(content: str) -> bool:
    """A list item that is really a section heading, e.g. "-  INCLUSION CRITERIA:"."""
    cleaned = clean_text(content).strip("*_ ")
    return bool(
        re.fullmatch(r"(?i)(key\s+|main\s+|patient\s+|subject\s+)?(inclusion|exclusion)(\s+criteria)?\s*:?", cleaned)
        # "-  INCLUSION CRITERIA - BLOOD DRAW/ASTHMA:", "-  INCLUSION CRITERIA FOR NORMAL VOLUNTEERS:"
        or (len(cleaned) <= 80 and bool(re.match(r"(?i)(inclusion|exclusion)\s+criteria\b[^.;]*$", cleaned))
            and (cleaned.endswith(":") or cleaned.isupper()))
    )


# A line ending in a colon is a sub-heading ("Performance status:", "PER AMENDMENT 1/10/97:") when this short;
# longer ones are criteria that introduce sub-items ("Excluded 30 days prior to study entry:") and stay items.
_HEADING_MAX_WORDS = 5
_MAX_NESTING = 8


def _looks_like_heading(text: str) -> bool:
    """A short label without a colon ("Performance status", "Hepatic") rather than a criterion ("ECOG ≤ 2")."""
    return len(text.split()) <= _HEADING_MAX_WORDS and not re.search(r"[\d<>=≤≥%.;]", text)


def _next_nonblank(lines: list[_Line], index: int) -> _Line | None:
    for line in lines[index + 1 :]:
        if line.raw.strip():
            return line
    return None


def parse_criteria(text: str | None) -> CriteriaSections:
    """Parse eligibility criteria text (markdown or legacy plain text) into ordered, nested sections."""
    if not text or not text.strip():
        return CriteriaSections(inclusion=[], exclusion=[])
    lines = _split_lines(text)
    switch_by_line = {index: switch for index, line in enumerate(lines)
                      if (not line.bullet or _is_bulleted_heading(line.content))
                      and (switch := _section_switch(line.content))}
    switches = list(switch_by_line.values())
    # Text before the first heading is a preamble, except when that heading opens the exclusions: then the text
    # above it is the inclusion list written without a heading (common in older records).
    has_preamble = bool(switches) and switches[0][0] != "exclusion"

    roots: dict[CriterionKind, list[_Node]] = {"inclusion": [], "exclusion": []}
    notes: list[str] = []
    preamble: list[str] = []
    kind: CriterionKind = "inclusion"
    seen_heading = False
    major_heading: str | None = None
    minor_heading: str | None = None
    stack: list[_Node] = []
    previous_blank = True
    previous_was_item_text = False

    def current_heading() -> str | None:
        if major_heading and minor_heading:
            return f"{major_heading}: {minor_heading}"
        return major_heading or minor_heading

    def add_item(column: int, marker_indent: int, start: int, end: int, content: str, bulleted: bool = True) -> None:
        node = _Node(kind, current_heading(), column, marker_indent, start, end, [content], bulleted=bulleted)
        while stack and (stack[-1].marker_indent >= marker_indent or (
            not bulleted and not stack[-1].bulleted and marker_indent < stack[-1].marker_indent + 2
        )):
            stack.pop()
        # Items indented deeper than any real record nests become siblings at the deepest level: the tree is
        # walked recursively (here, by the page and by matching), and hundreds of levels overflowed the stack.
        del stack[_MAX_NESTING - 1:]
        (stack[-1].children if stack else roots[kind]).append(node)
        stack.append(node)

    for index, line in enumerate(lines):
        stripped = line.raw.strip()
        if not stripped:
            previous_blank = True
            continue
        if line.bullet and not _is_bulleted_heading(line.content):
            add_item(line.content_column, line.indent, line.content_start, line.end, line.content)
            previous_blank = False
            previous_was_item_text = True
            continue

        # A paragraph after a blank line belongs to a plain (unbulleted) item only when clearly indented under it;
        # records that start every paragraph with one space would otherwise glue all their criteria together.
        new_paragraph = previous_blank and stack and not stack[-1].bulleted and line.indent < stack[-1].marker_indent + 2
        # "Exclusion Criteria:" right under the last item, with no blank line, opens the next section all the same
        new_paragraph = new_paragraph or (index in switch_by_line and _looks_like_a_title(line.content) and not (
            stack and _ENDS_MID_SENTENCE.search(stack[-1].parts[-1])))
        if stack and not new_paragraph and (line.indent >= stack[-1].column - 1 and line.indent > stack[-1].marker_indent):
            # Indented past the item's marker: a wrapped line or a paragraph belonging to that item.
            stack[-1].parts.append(stripped)
            stack[-1].end = line.end
            previous_blank = False
            continue
        glued_heading = stripped.endswith(":") and stack[-1].parts[-1].rstrip().endswith((".", ";", ":")) if stack else False
        if stack and previous_was_item_text and not previous_blank and not glued_heading and not new_paragraph:
            # Markdown lazy continuation: an unindented line glued to the item above it.
            stack[-1].parts.append(stripped)
            stack[-1].end = line.end
            continue

        switch = switch_by_line.get(index)
        if switch:
            kind, remainder = switch
            seen_heading = True
            major_heading = minor_heading = None
            stack.clear()
            label = clean_text(line.content).strip("*_ ")
            is_plain_heading = re.fullmatch(
                r"(?i)(key\s+|main\s+)?(inclusion|exclusion)(\s+criteria)?\s*:?", label.partition(":")[0] + ":"
            )
            if remainder and not remainder.endswith(":"):
                for part_start, part_end in _inline_parts(line, remainder):
                    add_item(line.indent + 1, line.indent, part_start, part_end, text[part_start:part_end])
                    stack.clear()
            elif remainder:
                notes.append(remainder)
            elif not is_plain_heading and not _INCLUSION_HEADING.match(label) and not _EXCLUSION_HEADING.match(label):
                notes.append(label)
            elif not is_plain_heading and not re.fullmatch(r"(?i)[\w\s]*(inclusion|exclusion)[\w\s]*criteria:?", label):
                major_heading = label.rstrip(":")
            previous_blank = False
            previous_was_item_text = False
            continue

        cleaned = clean_text(stripped)
        following = _next_nonblank(lines, index)
        introduces_list = following is not None and following.bullet is not None
        if _LEGACY_SECTION.match(cleaned):
            major_heading, minor_heading = cleaned.rstrip(":"), None
            stack.clear()
        elif introduces_list and _is_generic_lead_in(cleaned):
            notes.append(cleaned)
            stack.clear()
        elif len(cleaned) <= 80 and (
            (cleaned.endswith(":") and len(cleaned.split()) <= _HEADING_MAX_WORDS and not re.search(r"[<>=≤≥%]", cleaned))
            or (introduces_list and _looks_like_heading(cleaned))
        ):
            minor_heading = cleaned.rstrip(":").strip()
            stack.clear()
        elif has_preamble and not seen_heading:
            preamble.append(cleaned)
        else:
            add_item(line.indent + 1, line.indent, line.start + line.indent, line.end, stripped, bulleted=False)
            previous_blank = False
            previous_was_item_text = True
            continue
        previous_blank = False
        previous_was_item_text = False

    inclusion = _hoist_lead_ins([node.freeze() for node in roots["inclusion"]], notes)
    exclusion = _hoist_lead_ins([node.freeze() for node in roots["exclusion"]], notes)
    return CriteriaSections(inclusion=inclusion, exclusion=exclusion, preamble=" ".join(preamble), notes=notes)


# Words a bare lead-in may carry before its trigger ("All patients must meet ..."); more than this and the item
# states a criterion of its own ("Complete response after chemotherapy, defined by all of the following:").
_LEAD_IN_MAX_WORDS_BEFORE = 6


def _is_generic_lead_in(text: str) -> bool:
    if not _is_lead_in(text):
        return False
    trigger = _INCLUSION_LEAD_IN.search(text) or _EXCLUSION_LEAD_IN.search(text)
    return trigger is not None and len(text[: trigger.start()].split()) <= _LEAD_IN_MAX_WORDS_BEFORE


def _hoist_lead_ins(items: list[Criterion], notes: list[str]) -> list[Criterion]:
    """Replace "must meet all of the following:" items by their children, keeping the lead-in as a note."""
    result: list[Criterion] = []
    for item in items:
        if item.children and _is_generic_lead_in(item.text):
            notes.append(item.text)
            result.extend(item.children)
        else:
            result.append(item)
    return result
