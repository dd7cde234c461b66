"""Folding place names into lookup keys, so "São Paulo", "Sao Paulo" and "SAO-PAULO" meet."""

from __future__ import annotations

import string
import unicodedata

# one str.translate pass does the case folding and punctuation in bulk: the gazetteer index folds
# ~350k names at load time, and a regex per name doubled that load time.
# Dots and apostrophes vanish rather than split words: "U.S.A." -> "usa", "St. John's" -> "saint johns".
_ASCII_FOLD = str.maketrans(
    {
        **{chr(code): " " for code in range(128)},
        **{letter: letter.lower() for letter in string.ascii_letters},
        **{digit: digit for digit in string.digits},
        **{mark: None for mark in ".'`"},
    }
)
# typographic apostrophes: right single quote, acute accent, Hawaiian okina
_NON_ASCII_MARKS = str.maketrans({"\u2019": None, "\u00b4": None, "\u02bb": None})
# abbreviations spelt both ways in addresses and in the gazetteer
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}


def fold_name(text: str) -> str:
    """Lower-case ASCII words of a name, accents stripped and common abbreviations spelt out."""
    if not text.isascii():
        text = text.translate(_NON_ASCII_MARKS)
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = text.translate(_ASCII_FOLD).split()
    if _ABBREVIATIONS.keys().isdisjoint(words):
        return " ".join(words)
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)
