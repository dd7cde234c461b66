"""Abbreviations defined in text, "long form (SF)", found with the Schwartz-Hearst algorithm (PSB 2003).

Written here rather than taken from the PyPI `abbreviations` package, which recompiles its regular expressions
on every call: that made mining 8k records take 20 s, too slow for 570k.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_PARENTHESIS = re.compile(r"\(([^()]{2,40})\)")
_CLAUSE_END = re.compile(r"[.;:!?\[\]()\n]\s")
MAX_SHORT_FORM = 10


def abbreviation_pairs(text: str) -> Iterator[tuple[str, str]]:
    """(short form, long form) for every "long form (SF)" in text."""
    for match in _PARENTHESIS.finditer(text):
        short = re.split(r"[;,]", match.group(1), maxsplit=1)[0].strip()
        if not _candidate_short_form(short):
            continue
        before = text[max(0, match.start() - 400):match.start()]
        ends = list(_CLAUSE_END.finditer(before))
        if ends:
            before = before[ends[-1].end():]
        words = before.split()
        window = words[-min(len(short) + 5, len(short) * 2):]
        long = best_long_form(short, " ".join(window))
        if long and len(long) > len(short) and short.lower() not in long.lower().split():
            yield short, long


def _candidate_short_form(short: str) -> bool:
    return (2 <= len(short) <= MAX_SHORT_FORM and len(short.split()) <= 2 and short[0].isalnum()
            and any(ch.isalpha() for ch in short))


def best_long_form(short: str, candidate: str) -> str | None:
    """The shortest tail of candidate whose letters spell short, in order, the first starting a word.

    Walk both strings right to left: each letter or digit of the short form must be found, going left, in the
    candidate; its first character must also begin a word there.
    """
    s, c = len(short) - 1, len(candidate) - 1
    while s >= 0:
        char = short[s].lower()
        if not char.isalnum():
            s -= 1
            continue
        while c >= 0 and (candidate[c].lower() != char or (s == 0 and c > 0 and candidate[c - 1].isalnum())):
            c -= 1
        if c < 0:
            return None
        c -= 1
        s -= 1
    start = candidate.rfind(" ", 0, c + 1) + 1
    return candidate[start:].strip() or None
