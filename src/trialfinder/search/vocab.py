"""Filter values as people write them ("phase 2", "recruiting", "women") -> the API v2 enum spellings.

The website, both APIs and the CLI all normalise through here, so "Phase 2", "PHASE2" and "phase ii" mean the
same everywhere.
"""

from __future__ import annotations

import difflib
import re

from trialfinder.model.labels import FUNDER_TYPE, FUNDER_TYPE_OF_SPONSOR_CLASS, OVERALL_STATUS, PHASE, SEX, STANDARD_AGE, STUDY_TYPE
from trialfinder.search.types import STATUS_GROUPS


class UnknownValue(ValueError):
    """A filter value that names nothing known, with the closest known spellings."""

    def __init__(self, kind: str, value: str, suggestions: list[str]):
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown {kind} {value!r}{hint}")
        self.kind, self.value, self.suggestions = kind, value, suggestions


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _table(labels: dict[str, str], extra: dict[str, str | list[str]] | None = None) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for value, label in labels.items():
        table[_key(value)] = [value]
        table[_key(label)] = [value]
    for alias, values in (extra or {}).items():
        table[_key(alias)] = [values] if isinstance(values, str) else list(values)
    return table


_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}

VOCABULARIES: dict[str, dict[str, list[str]]] = {
    "status": _table(OVERALL_STATUS, {name: values for name, values in STATUS_GROUPS.items() if values}
                     | {"unknown": ["UNKNOWN"]}),
    "phase": _table(PHASE, {
        "phase 0": "EARLY_PHASE1", "early phase 1": "EARLY_PHASE1", "early 1": "EARLY_PHASE1", "0": "EARLY_PHASE1",
        "1": "PHASE1", "2": "PHASE2", "3": "PHASE3", "4": "PHASE4", "n/a": "NA", "not applicable": "NA",
        "phase 1/2": ["PHASE1", "PHASE2"], "phase 1 2": ["PHASE1", "PHASE2"], "phase 2/3": ["PHASE2", "PHASE3"],
        "phase 2 3": ["PHASE2", "PHASE3"], "1/2": ["PHASE1", "PHASE2"], "2/3": ["PHASE2", "PHASE3"],
    }),
    "study_type": _table(STUDY_TYPE, {"expanded": "EXPANDED_ACCESS", "trial": "INTERVENTIONAL",
                                      "clinical trial": "INTERVENTIONAL"}),
    "funder_type": _table(FUNDER_TYPE, {cls: funder for cls, funder in FUNDER_TYPE_OF_SPONSOR_CLASS.items()}
                          | {"federal": "FED", "us fed": "FED", "u.s. fed": "FED", "pharma": "INDUSTRY"}),
    "sponsor_class": _table({cls: cls for cls in FUNDER_TYPE_OF_SPONSOR_CLASS}, {
        "us fed": "FED", "other gov": "OTHER_GOV", "individual": "INDIV", "ambiguous": "AMBIG"}),
    "sex": _table(SEX, {"f": "FEMALE", "women": "FEMALE", "woman": "FEMALE", "m": "MALE", "men": "MALE",
                        "man": "MALE", "both": "ALL", "any": "ALL"}),
    "age_group": _table(STANDARD_AGE, {"children": "CHILD", "kids": "CHILD", "pediatric": "CHILD",
                                       "paediatric": "CHILD", "adults": "ADULT", "older adults": "OLDER_ADULT",
                                       "older": "OLDER_ADULT", "senior": "OLDER_ADULT", "seniors": "OLDER_ADULT",
                                       "elderly": "OLDER_ADULT"}),
}


def _roman_to_digits(text: str) -> str:
    return re.sub(r"\b(i{1,3}|iv)\b", lambda m: _ROMAN[m.group(1)], text.lower())


def normalize(kind: str, value: str) -> list[str]:
    """API v2 values for one value as written (a group such as "open" or "phase 1/2" gives several).

    Raises UnknownValue with suggestions when nothing matches.
    """
    if kind == "country":
        return [normalize_country(value)]
    table = VOCABULARIES[kind]
    for candidate in (value, _roman_to_digits(value) if kind == "phase" else value):
        found = table.get(_key(candidate))
        if found:
            return list(found)
    if kind == "phase":
        bare = re.sub(r"phases?", " ", _roman_to_digits(value))
        if re.fullmatch(r"\s*[0-4](\s*(?:[/,&+-]|and|\s)\s*[0-4])*\s*", bare):
            return [table[d][0] for d in dict.fromkeys(re.findall(r"[0-4]", bare))]
    suggestions = difflib.get_close_matches(_key(value), list(table), n=3, cutoff=0.6)
    raise UnknownValue(kind.replace("_", " "), value, [table[s][0] for s in dict.fromkeys(suggestions)])


def normalize_all(kind: str, values: list[str], *, strict: bool = False) -> list[str]:
    """Normalise many values, also splitting "a, b" lists; unknown values are kept upper-cased unless strict."""
    result: dict[str, None] = {}
    for value in values:
        try:
            result.update(dict.fromkeys(normalize(kind, value)))
            continue
        except UnknownValue:
            parts = [part for part in re.split(r"\s*,\s*", value) if part]
            if len(parts) < 2 and strict:
                raise
        for part in parts:
            try:
                result.update(dict.fromkeys(normalize(kind, part)))
            except UnknownValue:
                if strict:
                    raise
                result[part.strip() if kind == "country" else part.strip().upper()] = None
    return list(result)


def normalize_country(value: str) -> str:
    """A country as ClinicalTrials.gov spells it ("usa" -> "United States"); unknown names are kept as given."""
    from trialfinder.geo import canonical_country

    try:
        return canonical_country(value)
    except Exception:  # the gazetteer is a convenience here; an odd name just filters on itself
        return value.strip()


def parse_bool(value: str | bool | None) -> bool | None:
    """yes/no/true/false/1/0 -> bool; None or "" -> None; raises ValueError otherwise."""
    if value is None or isinstance(value, bool):
        return value
    key = _key(value)
    if not key:
        return None
    if key in ("yes", "true", "1", "y", "accepts", "accepted"):
        return True
    if key in ("no", "false", "0", "n"):
        return False
    raise ValueError(f"expected yes or no, not {value!r}")
