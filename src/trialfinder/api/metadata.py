"""What /api/v2/studies/metadata, /studies/enums and /stats/size answer: the field tree, enum types, sizes."""

from __future__ import annotations

from functools import lru_cache

from trialfinder.api.field_catalog import STUDY_FIELDS
from trialfinder.model.labels import ENUMS


@lru_cache(maxsize=1)
def field_tree() -> list[dict]:
    """The study data model as ClinicalTrials.gov's FieldNode list (name, piece, sourceType, type, children)."""
    roots: list[dict] = []
    nodes: dict[str, dict] = {}
    for path, piece, source_type, type_name, is_enum, _is_list in STUDY_FIELDS:
        parent_path, _, name = path.rpartition(".")
        node = {"name": name, "piece": piece, "sourceType": source_type, "type": type_name}
        if is_enum:
            node["isEnum"] = True
        nodes[path] = node
        if parent_path:
            nodes[parent_path].setdefault("children", []).append(node)
        else:
            roots.append(node)
    return roots


@lru_cache(maxsize=1)
def enum_infos() -> list[dict]:
    """Every enum type we label, with the pieces that carry it and its values (legacyValue: the display label)."""
    pieces_by_type: dict[str, list[str]] = {}
    for _path, piece, _source, type_name, is_enum, _is_list in STUDY_FIELDS:
        if is_enum:
            pieces_by_type.setdefault(type_name.removesuffix("[]"), []).append(piece)
    pieces_by_type.setdefault("Status", [])
    return [
        {
            "type": enum_type,
            "pieces": pieces_by_type.get(enum_type, []),
            "values": [{"value": value, "legacyValue": legacy} for value, legacy in values.items()],
        }
        for enum_type, values in ENUMS.items()
    ]


def size_stats(sizes: list[tuple[str, int]]) -> dict:
    """GzipStats for (nct_id, bytes) pairs: average, largest ten, percentiles and a histogram."""
    ordered = sorted(size for _id, size in sizes)
    total = len(ordered)
    if not total:
        return {"averageSizeBytes": 0, "largestStudies": [], "percentiles": {}, "ranges": [], "totalStudies": 0}
    largest = sorted(sizes, key=lambda pair: (-pair[1], pair[0]))[:10]
    percentiles = {str(p): ordered[min(total - 1, (total * p) // 100)] for p in (5, 10, 25, 50, 75, 90, 95, 99)}
    bounds = [0, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]
    ranges = []
    for low, high in zip(bounds, bounds[1:] + [None]):
        count = sum(1 for size in ordered if size >= low and (high is None or size < high))
        label = f"{low // 1000}KB-{high // 1000}KB" if high else f"{low // 1000}KB+"
        ranges.append({"sizeRange": label, "studiesCount": count})
    return {
        "averageSizeBytes": sum(ordered) // total,
        "largestStudies": [{"id": nct_id, "sizeBytes": size} for nct_id, size in largest],
        "percentiles": percentiles,
        "ranges": ranges,
        "totalStudies": total,
    }
