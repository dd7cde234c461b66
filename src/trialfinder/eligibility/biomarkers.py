"""Tumour biomarker status (EGFR, ALK, HER2, ER/PR, KRAS, BRAF, BRCA, MSI ...): found in criteria and in notes alike.

A finding is one or more markers with one status ("positive" or "negative"), the variants named ("exon 19
deletion", "V600E", "low") and how a list of markers combines: "EGFR, ALK or ROS1 positive" holds when any of
them is positive, "ER/PR negative" only when all are negative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby
from typing import Literal

BiomarkerStatus = Literal["positive", "negative"]
Combine = Literal["any", "all"]

# Short gene symbols are matched in capitals only ("ER" and "PR" also need a status right beside them, so "seen in
# the ER" or "achieved a PR" name no marker); long names in any case.
_MARKER_FORMS: dict[str, str] = {
    "EGFR": r"(?-i:EGFR)|epidermal\s+growth\s+factor\s+receptor(?![\s\-]*(?:2|type\s*2|II)\b)",
    "ALK": r"(?-i:ALK)(?!\s*(?:phos|P\b))|anaplastic\s+lymphoma\s+kinase",
    "ROS1": r"(?-i:ROS-?1)",
    "RET": r"(?-i:RET)(?=[\s\-]+(?:gene|fusion|rearrange|mutat|alteration|positive|negative))",
    "MET": r"(?-i:c-MET|MET)(?=[\s\-]+(?:exon|amplif|gene|alteration|fusion|mutat|overexpress|positive|negative))",
    "NTRK": r"(?-i:NTRK\s*[123]?(?:\s*/\s*[123])*)",
    "KRAS": r"(?-i:K-?RAS)",
    "NRAS": r"(?-i:N-?RAS)",
    "RAS": r"(?<![A-Za-z\-])(?-i:RAS)(?![a-z])",
    "BRAF": r"(?-i:B-?RAF)",
    "HER2": r"(?-i:HER-?2|ERBB-?2|ErbB-?2)(?:\s*/\s*(?:neu|(?-i:ERBB2|erbB-?2)))?"
            r"|human\s+epidermal\s+growth\s+factor\s+receptor[\s\-]*(?:2|type\s*2|II)\b",
    "ER": r"(?-i:ER)(?![\s\-]*beta)|o?estrogen[\s\-]+receptors?|o?estrogen(?=\s+(?:and|or|and/or)\s+progesterone)",
    "PR": r"(?-i:PR|PgR|PGR)|progesterone[\s\-]+receptors?|progestogen\s+receptors?",
    "HR": r"(?-i:HR)|hormone[\s\-]+receptors?",
    "BRCA1": r"(?-i:BRCA\s*1)(?!\s*/\s*2)",
    "BRCA2": r"(?-i:BRCA\s*2)",
    "BRCA": r"(?-i:BRCA)(?:\s*1\s*/\s*2)?(?!\s*[12])",
    "PD-L1": r"(?-i:PD-?L1)|programmed\s+(?:cell\s+)?death[\s\-]+ligand[\s\-]*1",
    "IDH1": r"(?-i:IDH\s*1)(?!\s*/\s*2)",
    "IDH2": r"(?-i:IDH\s*2)",
    "IDH": r"(?-i:IDH)(?:\s*1\s*/\s*2)?(?!\s*[12])",
    "FLT3": r"(?-i:FLT-?3)",
    "PIK3CA": r"(?-i:PIK3CA)",
    "BCR-ABL": r"(?-i:BCR[\s\-:/]*ABL1?)|philadelphia[\s\-]+chromosome(?:\s*\((?-i:Ph)\))?|(?-i:Ph)(?=[\s\-]*(?:\+|positive|negative))",
}
KNOWN_MARKERS = tuple(_MARKER_FORMS) + ("dMMR/MSI-H",)
# A family's status follows from its members': hormone receptor positive means ER or PR positive, BRCA negative
# means neither BRCA1 nor BRCA2 is mutated.
FAMILIES: dict[str, tuple[str, ...]] = {"HR": ("ER", "PR"), "BRCA": ("BRCA1", "BRCA2"), "RAS": ("KRAS", "NRAS"),
                                        "IDH": ("IDH1", "IDH2")}
_GROUP_NAME = {name: re.sub(r"\W", "_", name) for name in _MARKER_FORMS}  # "PD-L1" -> the regex group "PD_L1"
_MARKER = re.compile(
    r"(?<![\w\-])(?:" + "|".join(f"(?P<{_GROUP_NAME[name]}>{form})" for name, form in _MARKER_FORMS.items())
    + r")(?![a-z])",
    re.IGNORECASE,
)
_MARKER_OF_GROUP = {group: name for name, group in _GROUP_NAME.items()}
# Mismatch repair and microsatellite status name the status in the same words as the marker.
_MSI = re.compile(
    r"(?P<positive>(?<![\w\-])(?-i:dMMR|MSI-?H)(?![\w\-])|\bMSI[\s\-]+high\b|\bmicrosatellite[\s\-]+instability"
    r"(?:[\s\-]*\((?-i:MSI)\))?[\s\-]*(?:-|\()?\s*high\b|\b(?:DNA\s+)?mismatch[\s\-]+repair[\s\-]*(?:\((?-i:MMR)\)[\s\-]*)?"
    r"deficien(?:t|cy)\b|\bdeficient\s+(?:DNA\s+)?mismatch[\s\-]+repair\b|\bMMR[\s\-]+deficien(?:t|cy)\b)"
    r"|(?P<negative>(?<![\w\-])(?-i:pMMR|MSS|MSI-?L)(?![\w\-])|\bmicrosatellite[\s\-]+stable\b|"
    r"\b(?:mismatch[\s\-]+repair|MMR)[\s\-]+proficien(?:t|cy)\b|\bproficient\s+(?:DNA\s+)?mismatch[\s\-]+repair\b)",
    re.IGNORECASE,
)
_TRIPLE = re.compile(r"(?<![\w\-])(?:triple[\s\-]*(?P<status>negative|positive)|(?-i:TNBC))\b", re.IGNORECASE)
_NOT_TRIPLE = re.compile(r"\bnon[\s\-]*$", re.IGNORECASE)

# A protein change ("L858R", "V600E", "G12C", "G719X") or an exon event; normalised for comparison.
_VARIANT = (r"exon\s*19\s*(?:deletions?|del\b)|del\s*19\b|ex(?:on)?\s*19\s*del\b|19\s*del\b|"
            r"exon\s*20\s*(?:insertions?|ins\b)|ex20ins\b|exon\s*14\s*(?:skipping|skip\b|deletion|alteration|mutation)s?|"
            r"(?-i:[ACDEFGHIKLMNPQRSTVWY]\d{2,4}(?:[ACDEFGHIKLMNPQRSTVWYX]|_?del|fs)?)(?![\w\-])")
_VARIANT_TOKEN = re.compile(_VARIANT, re.IGNORECASE)
_QUALIFIER = (r"(?:(?:activating|sensitizing|sensitising|driver|oncogenic|deleterious|suspected\s+deleterious|"
              r"pathogenic|likely\s+pathogenic|somatic|germline|actionable|targetable|known|documented|"
              r"gene|genes|protein)[\s\-]+)*")
_POSITIVE_WORDS = (r"positiv(?:e|ity)|pos\b|\+\s*ve\b|\+{1,3}|\(\+\)|3\s*\+|over[\s\-]?expressi(?:ng|on)|over[\s\-]?expressed|"
                   r"amplifi(?:ed|cations?)|mutant|mutated|mutations?|rearranged|rearrangements?|fusions?|"
                   r"translocations?|translocated|alterations?|altered|aberrations?|driven|variants?|high\b")
_NEGATIVE_WORDS = (r"negativ(?:e|ity)|neg\b|-\s*ve\b|\(-\)|wild[\s\-]?type|wt\b|non[\s\-]?mutated|unmutated|"
                   r"non[\s\-]?amplified|not\s+amplified|(?P<zero>0)(?![\d.+%])|(?P<one>1\s*\+)|(?P<low>low)\b")
# "epidermal growth factor receptor (EGFR)", "progesterone receptor (PgR)": the name's abbreviation after it
_ABBREVIATION_IN_BRACKETS = r"(?:\s*\([A-Za-z0-9/\-]{1,12}\))?"
# Right after a marker: its abbreviation in brackets, filler words, optional variants, then the status.
_STATUS_AFTER = re.compile(
    rf"{_ABBREVIATION_IN_BRACKETS}[\s\-:]*(?:status\s*:?\s*|expression\s*:?\s*|testing\s*:?\s*|"
    rf"(?:by\s+)?(?:IHC|FISH|ISH|NGS|PCR)\s*:?\s*|in[\s\-]frame\s+){{0,3}}(?:(?:is|was|are|were|being)\s+)?"
    rf"(?P<variants>(?:(?:{_VARIANT})(?:\s*(?:,|/|or|and|and/or)\s*)?)*)\s*"
    rf"(?:{_QUALIFIER}(?P<positive>{_POSITIVE_WORDS})|(?P<negative>{_NEGATIVE_WORDS})"
    rf")?",
    re.IGNORECASE,
)
# "ER+HER2-", "ER-/PR-": a sign glued to the marker, before the next word or list item
_SIGN_AFTER = re.compile(rf"{_ABBREVIATION_IN_BRACKETS}(?P<sign>\+(?=[\s,;/)A-Z]|$)|-(?=[\s,;/)]|$))")
_EITHER_STATUS = re.compile(r"\s*(?:,|/|\bor\b|\band/or\b)\s*(?:or\s+)?(?:positive|negative|unknown)\b", re.IGNORECASE)
# After "EGFR mutation": a result still to come ("... status", "... testing") or written next ("... negative").
_AFTER_A_FINDING = re.compile(r"[\s\-]*(?:(?P<open>status|test(?:ing|s)?|analysis|results?|assessment|assay)\b|"
                              r"(?P<negative>negative)\b|(?P<positive>positive)\b)", re.IGNORECASE)
_VARIANTS_IN_BRACKETS = re.compile(rf"\s*\((?P<variants>(?:[^()]{{0,80}}))\)")
# Before a marker: "positive for", "wild-type for", "mutations in", "deleterious mutation of the".
_STATUS_BEFORE = re.compile(
    r"(?:(?P<positive>positive|mutations?(?:\(s\))?|alterations?|rearrangements?|fusions?|amplifications?|"
    r"translocations?|variants?|over[\s\-]?expression)|(?P<negative>negative|wild[\s\-]?type))"
    r"\s+(?:for|in|of|at)\s+(?:an?\s+|the\s+)?(?:genes?\s+)?$",
    re.IGNORECASE,
)
_LIST_SEPARATOR = re.compile(rf"^{_ABBREVIATION_IN_BRACKETS}[\s\-]*(?:,\s*(?:and\s*/\s*or|and|or)?|/|\+|&|"
                             r"and\s*/\s*or|and|or|nor)\s*$", re.IGNORECASE)
# "anti-HER2", "EGFR inhibitor": a drug's target, not the tumour's status.
_TARGET_BEFORE = re.compile(r"\banti[\s\-]*$", re.IGNORECASE)
_TARGET_AFTER = re.compile(r"[\s\-]*(?:targeted|directed|targeting|inhibitors?|TKIs?|tyrosine|antibod|blockers?|"
                           r"blockade|agents?|pathway|therapy|therapies|vaccine|CAR\b)", re.IGNORECASE)
_NEEDS_A_STATUS = frozenset({"ER", "PR", "HR", "BCR-ABL"})
_SENSITIZING_EGFR = ("EXON 19 DELETION", "L858R", "G719", "L861Q", "S768I")


@dataclass(frozen=True)
class BiomarkerFinding:
    """Markers with one status, where the text says so, the variants named, and how a list of them combines."""

    markers: tuple[str, ...]
    status: BiomarkerStatus
    start: int
    end: int
    variants: tuple[str, ...] = ()
    combine: Combine = "all"


@dataclass
class _Item:
    marker: str
    start: int
    end: int  # end of the marker and of its own status, when it has one
    status: BiomarkerStatus | None
    variants: tuple[str, ...]
    status_start: int | None = None  # where a status written before the marker starts
    own: bool = True  # the status is written beside this marker, not taken from the list


def normalize_variant(raw: str) -> str:
    """One spelling per variant: "del19" / "exon 19 del" -> "EXON 19 DELETION", "v600e" -> "V600E"."""
    compact = re.sub(r"\s+", " ", raw.strip()).upper()
    if "19" in compact and "DEL" in compact:
        return "EXON 19 DELETION"
    if "20" in compact and "INS" in compact:
        return "EXON 20 INSERTION"
    if compact.startswith("EXON 14"):
        return "EXON 14 SKIPPING"
    return compact.replace(" ", "")


def variants_conflict(wanted: str, have: str) -> bool:
    """Whether two variants cannot both be present: another change at the same codon (V600E vs V600K), or HER2
    "low" against "0"."""
    if {wanted, have} == {"LOW", "0"}:
        return True
    same_codon = re.fullmatch(r"([A-Z]\d{2,4})[A-Z]", wanted), re.fullmatch(r"([A-Z]\d{2,4})[A-Z]", have)
    return bool(same_codon[0] and same_codon[1]) and same_codon[0].group(1) == same_codon[1].group(1) and wanted != have


def variant_matches(wanted: str, have: str) -> bool:
    """Whether a patient's variant is the one a criterion names, or one of its class ("V600" holds V600E)."""
    if wanted == have:
        return True
    if wanted == "SENSITIZING":
        return any(have.startswith(form) for form in _SENSITIZING_EGFR)
    if wanted in {"LOW", "0"} or have in {"LOW", "0"}:
        return False
    return bool(re.fullmatch(r"[A-Z]\d{2,4}", wanted)) and have.startswith(wanted)


def _variants(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalize_variant(m.group(0)) for m in _VARIANT_TOKEN.finditer(text)))


def _item(text: str, match: re.Match[str]) -> _Item | None:
    marker = _MARKER_OF_GROUP[match.lastgroup or ""]
    if _TARGET_BEFORE.search(text, max(0, match.start() - 8), match.start()):
        return None
    status: BiomarkerStatus | None = None
    end = match.end()
    variants: tuple[str, ...] = ()
    if sign := _SIGN_AFTER.match(text, match.end()):
        status, end = ("positive" if sign.group("sign") == "+" else "negative"), sign.end()
    elif (after := _STATUS_AFTER.match(text, match.end())) and after.end() > match.end():
        groups, after_end = after.groupdict(), 0
        variants = _variants(groups["variants"] or "")
        if groups["positive"] and (tail := _AFTER_A_FINDING.match(text, after.end())) and tail.group("open"):
            status = None  # "EGFR mutation status", "KRAS mutation testing": a test, not its result
        elif groups["positive"]:
            status = "negative" if tail and tail.group("negative") else "positive"  # "EGFR mutation negative"
            if tail and (tail.group("negative") or tail.group("positive")):
                after_end = tail.end()
            if marker == "EGFR" and "sensiti" in after.group(0).lower():
                variants = variants or ("SENSITIZING",)
        elif groups["negative"]:
            status = "negative"
            if (groups["low"] or groups["one"]) and marker != "HER2":
                status = None  # "ER-low", "PD-L1 low": a weak positive on a scale, not a status
            elif groups["low"] or groups["one"]:
                variants = ("LOW",)
            elif groups["zero"]:
                variants = ("0",)
        elif variants:
            status = "positive"
        if status is not None:
            end = max(after.end(), after_end)
    if status is not None and _EITHER_STATUS.match(text, end):
        return None  # "Estrogen receptor status positive, negative, or unknown": any status will do
    abbreviation = bool(re.fullmatch(r"[A-Za-z]{2,3}", match.group(0)))
    if status is None and marker in _NEEDS_A_STATUS and abbreviation and not _followed_by_list(text, match.end()):
        # "ER", "PR", "HR", "Ph" name a receptor only with a status beside them or further along the list
        return None
    if status is None and _TARGET_AFTER.match(text, match.end()):
        return None
    if status == "positive" and (bracketed := _VARIANTS_IN_BRACKETS.match(text, end)):
        found = _variants(bracketed.group("variants"))
        if found and not variants or (variants == ("SENSITIZING",) and found):
            variants, end = found, bracketed.end()
    return _Item(marker, match.start(), _trimmed_end(text, match.end(), end), status, variants)


_TRAILING_SEPARATORS = re.compile(r"(?:[\s,/]|\b(?:and|or)\b)+$", re.IGNORECASE)


def _trimmed_end(text: str, start: int, end: int) -> int:
    """The end without the separators the variant list may have swallowed ("EGFR exon 19 deletion, ")."""
    trailing = _TRAILING_SEPARATORS.search(text, start, end)
    return trailing.start() if trailing else end


def _followed_by_list(text: str, end: int) -> bool:
    """Whether a status-less abbreviation starts or continues a list, which may end in a status ("ER/PR negative")."""
    return bool(re.match(r"^\s*(?:\((?:[A-Za-z]{1,5})\))?\s*(?:/|,|and/or|and|or|&)\s*", text[end : end + 40]))


def find_biomarkers(text: str) -> list[BiomarkerFinding]:
    """Every biomarker status the text states, lists resolved ("EGFR, ALK, ROS1 negative" is one finding)."""
    items = [item for match in _MARKER.finditer(text) if (item := _item(text, match))]
    findings: list[BiomarkerFinding] = []
    for run in _runs(text, items):
        findings.extend(_resolve_run(text, run))
    for match in _MSI.finditer(text):
        status: BiomarkerStatus = "positive" if match.group("positive") else "negative"
        if not any(f.start <= match.start() < f.end for f in findings):
            findings.append(BiomarkerFinding(("dMMR/MSI-H",), status, match.start(), match.end()))
    for match in _TRIPLE.finditer(text):
        if _NOT_TRIPLE.search(text, max(0, match.start() - 5), match.start()):
            continue
        status = "positive" if (match.group("status") or "").lower() == "positive" else "negative"
        findings.append(BiomarkerFinding(("ER", "PR", "HER2"), status, match.start(), match.end()))
    return sorted(_merge_same_marker(text, findings), key=lambda f: f.start)


def _merge_same_marker(text: str, findings: list[BiomarkerFinding]) -> list[BiomarkerFinding]:
    # "dMMR/MSI-H", "MSI-H (dMMR)": one statement written twice
    kept: list[BiomarkerFinding] = []
    for finding in sorted(findings, key=lambda f: f.start):
        last = kept[-1] if kept else None
        if last and last.markers == finding.markers and last.status == finding.status and (
                finding.start <= last.end or _LIST_SEPARATOR.match(text[last.end : finding.start])
                or re.fullmatch(r"\s*\(\s*", text[last.end : finding.start])):
            kept[-1] = BiomarkerFinding(last.markers, last.status, last.start, finding.end, last.variants, last.combine)
        else:
            kept.append(finding)
    return kept


def _runs(text: str, items: list[_Item]) -> list[list[_Item]]:
    """Markers joined by list separators ("EGFR, ALK or ROS1", "ER+/PR+/HER2-") form one run."""
    runs: list[list[_Item]] = []
    for item in items:
        if runs and _LIST_SEPARATOR.match(text[runs[-1][-1].end : item.start]):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _resolve_run(text: str, run: list[_Item]) -> list[BiomarkerFinding]:
    # a marker without a status takes the next one's ("ER/PR negative"), else one written before the list
    # ("negative for EGFR, ALK and ROS1")
    following: BiomarkerStatus | None = None
    for item in reversed(run):
        if item.status is None:
            item.status, item.own = following, False
        following = item.status
    if any(item.status is None for item in run):
        before = _STATUS_BEFORE.search(text, max(0, run[0].start - 40), run[0].start)
        if before is None:
            run = [item for item in run if item.status is not None]
        else:
            status: BiomarkerStatus = "positive" if before.group("positive") else "negative"
            for item in run:
                if item.status is None:
                    item.status, item.own = status, False
            run[0].status_start = before.start()
    open_markers = {a.marker for a, b in zip(run, run[1:]) if a.marker == b.marker and a.status != b.status
                    and re.search(r"\bor\b", text[a.end : b.start], re.IGNORECASE)}
    run = [item for item in run if item.marker not in open_markers]
    return [_finding(text, list(group)) for _, group in groupby(run, key=lambda item: item.status)]


def _finding(text: str, group: list[_Item]) -> BiomarkerFinding:
    status = group[0].status
    assert status is not None
    markers = tuple(dict.fromkeys(item.marker for item in group))
    separators = " ".join(text[a.end : b.start] for a, b in zip(group, group[1:])).lower()
    if re.search(r"\bor\b", separators):
        combine: Combine = "any"
    elif status == "negative":
        combine = "all"  # "ER/PR negative", "EGFR, ALK and ROS1 wild-type": each one negative
    elif set(markers) <= {"ER", "PR", "HR"}:
        # "ER/PR positive", "ER+/PR+" are hormone-receptor positive (either one); "ER and PR positive" asks for both
        combine = "all" if re.fullmatch(r"\s*and\s*", separators) else "any"
    elif all(item.own for item in group) and re.fullmatch(r"[\s/+]*", separators):
        combine = "all"  # "HR+/HER2+": one tumour described by each of its markers
    else:
        combine = "any"  # "EGFR/HER2 mutations", "EGFR mutations, ALK rearrangements, and ROS1 fusions": alternatives
    variants = group[0].variants if len(markers) == 1 else ()
    start = group[0].status_start if group[0].status_start is not None else group[0].start
    return BiomarkerFinding(markers, status, start, group[-1].end, variants, combine if len(markers) > 1 else "all")
