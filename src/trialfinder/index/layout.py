"""Where an index lives on disk: generation directories, the `current` symlink, and each one's meta file.

A full rebuild writes a new generation beside the served one and then repoints `current` with one atomic
rename, so a server keeps answering from the old generation until the swap. The meta file records the store
change seq the generation has reached: each web node keeps its own index, so this is not kept in the store.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

CURRENT = "current"
META_FILE = "trialfinder-meta.json"  # tantivy owns meta.json
GENERATION_PREFIX = "gen-"
SHARD_PREFIX = "shard-"


@dataclass
class IndexMeta:
    """What a generation holds: schema version, the store change seq reached, study count, build time, and how many
    tantivy indexes (shards) the studies are dealt into."""

    schema_version: int
    seq: int
    studies: int
    built_at: str
    generation: str = ""
    shards: int = 1


def read_meta(generation: Path) -> IndexMeta | None:
    """The meta of a generation directory, or None when it is missing or unreadable."""
    try:
        data = json.loads((generation / META_FILE).read_text())
        return IndexMeta(**{key: data[key] for key in IndexMeta.__dataclass_fields__ if key in data})
    except (OSError, ValueError, TypeError):
        return None


def write_meta(generation: Path, meta: IndexMeta) -> None:
    """Replace the meta file of a generation atomically."""
    meta.generation = generation.name
    temporary = generation / (META_FILE + ".tmp")
    temporary.write_text(json.dumps(asdict(meta), indent=2))
    os.replace(temporary, generation / META_FILE)


def shard_dirs(generation: Path, count: int) -> list[Path]:
    """The directories of a generation's shards, each one tantivy index."""
    return [generation / f"{SHARD_PREFIX}{number}" for number in range(count)]


def current_generation(index_dir: Path) -> Path | None:
    """The generation `current` points at, or None when no index has been built."""
    link = index_dir / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    generation = index_dir / target
    return generation if (generation / META_FILE).exists() else None


def new_generation(index_dir: Path) -> Path:
    """A fresh, empty generation directory."""
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    generation = index_dir / f"{GENERATION_PREFIX}{stamp}-{os.getpid()}-{time.monotonic_ns() % 1_000_000:06d}"
    generation.mkdir()
    return generation


def swap_current(index_dir: Path, generation: Path) -> None:
    """Point `current` at generation in one atomic rename."""
    temporary = index_dir / f"{CURRENT}.{os.getpid()}.tmp"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(generation.name, temporary)
    os.replace(temporary, index_dir / CURRENT)


def prune_generations(index_dir: Path, keep: int = 2) -> list[Path]:
    """Delete all but the newest `keep` generations (the previous one stays for searchers still holding it)."""
    current = current_generation(index_dir)
    generations = sorted((p for p in index_dir.glob(f"{GENERATION_PREFIX}*") if p.is_dir()),
                         key=lambda p: p.stat().st_mtime_ns, reverse=True)
    survivors = [g for g in generations if g == current] + [g for g in generations if g != current][: keep - 1]
    removed = [g for g in generations if g not in survivors]
    for generation in removed:
        shutil.rmtree(generation, ignore_errors=True)
    return removed
