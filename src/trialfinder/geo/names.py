"""Folding place names into lookup keys, so "São Paulo", "Sao Paulo" and "SAO-PAULO" meet."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# dots and apostrophes vanish rather than split words: "U.S.A." -> "usa", "St. John's" -> "saint johns"
_DROPPED = str.maketrans("", "", ".'’`´")
# abbreviations spelt both ways in addresses and in the gazetteer
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}


def fold_name(text: str) -> str:
    """Lower-case ASCII words of a name, accents stripped and common abbreviations spelt out."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = _NON_ALNUM.sub(" ", text.lower().translate(_DROPPED)).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)
