"""The `fields` parameter: resolving piece names, module names and dotted paths, and trimming records to them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from trialfinder.api.errors import bad_request
from trialfinder.api.field_catalog import STUDY_FIELDS

# Area names a `fields` list may use; an area stands for the fields searched in it.
_AREAS: dict[str, tuple[str, ...]] = {
    "conditionsearch": ("Condition", "Keyword", "ConditionMeshTerm", "ConditionAncestorTerm", "BriefTitle",
                        "OfficialTitle"),
    "interventionsearch": ("InterventionName", "InterventionOtherName", "InterventionDescription",
                           "ArmGroupLabel", "ArmGroupDescription", "InterventionMeshTerm"),
    "titlesearch": ("BriefTitle", "OfficialTitle", "Acronym"),
    "outcomesearch": ("PrimaryOutcomeMeasure", "PrimaryOutcomeDescription", "SecondaryOutcomeMeasure",
                      "SecondaryOutcomeDescription", "OtherOutcomeMeasure", "OtherOutcomeDescription"),
    "sponsorsearch": ("LeadSponsorName", "CollaboratorName"),
    "locationsearch": ("LocationFacility", "LocationCity", "LocationState", "LocationZip", "LocationCountry"),
    "idsearch": ("NCTId", "NCTIdAlias", "Acronym", "OrgStudyId", "SecondaryId"),
}
# "@query" would expand to the fields a search read; we answer it with the identifying summary.
_QUERY_FIELDS = ("NCTId", "BriefTitle", "OfficialTitle", "Acronym", "Condition", "Keyword", "InterventionName",
                 "OverallStatus")


@lru_cache(maxsize=1)
def _names() -> dict[str, tuple[str, ...]]:
    """Lower-cased piece name, full dotted path or last path segment -> dotted paths."""
    names: dict[str, list[str]] = {}
    for path, piece, *_ in STUDY_FIELDS:
        names.setdefault(piece.lower(), []).append(path)
        names.setdefault(path.lower(), []).append(path)
    # A module or section named by its own key (ConditionsModule, protocolSection) is unique already;
    # other bare keys resolve only when exactly one field carries them.
    segments: dict[str, list[str]] = {}
    for path, *_ in STUDY_FIELDS:
        segments.setdefault(path.rsplit(".", 1)[-1].lower(), []).append(path)
    for segment, paths in segments.items():
        if len(paths) == 1:
            names.setdefault(segment, paths)
    for area, pieces in _AREAS.items():
        names[area] = [p for piece in pieces for p in names[piece.lower()]]
    names["@query"] = [p for piece in _QUERY_FIELDS for p in names[piece.lower()]]
    return {key: tuple(dict.fromkeys(paths)) for key, paths in names.items()}


def resolve_fields(items: list[str], parameter: str = "fields") -> dict:
    """The projection tree for a `fields` list: nested dicts of path segments ending in True."""
    tree: dict = {}
    for item in items:
        paths = _names().get(item.strip().lower())
        if not paths:
            raise bad_request(f"unknown field in {parameter}: {item!r}", parameter)
        for path in paths:
            _add_path(tree, path.split("."))
    return tree


def _add_path(tree: dict, segments: list[str]) -> None:
    node = tree
    for segment in segments[:-1]:
        child = node.get(segment)
        if child is True:
            return  # an ancestor is already wanted whole
        node = node.setdefault(segment, {})
    node[segments[-1]] = True


def trim(value: Any, tree: dict | bool) -> Any:
    """The part of a record that the projection tree selects; lists are trimmed element by element."""
    if tree is True:
        return value
    if isinstance(value, list):
        trimmed = [trim(item, tree) for item in value]
        return [item for item in trimmed if item not in (None, {}, [])]
    if isinstance(value, dict):
        out = {}
        for key, sub in tree.items():
            if key in value:
                kept = trim(value[key], sub)
                if kept not in (None, {}, []) or sub is True:
                    out[key] = kept
        return out
    return None


def field_exists(name: str) -> bool:
    """True when name is a piece name, dotted path or area the `fields` parameter accepts."""
    return name.strip().lower() in _names()
