"""Query formulation for matching: the note's key words and condition-name feedback from the best trials."""

from __future__ import annotations

import pytest

from trialfinder.match import as_patient
from trialfinder.match.queries import key_words, text_words
from trialfinder.match.service import RelevanceWeights, feedback_names
from trialfinder.model import study_from_dict

NOTE = ("A 45-year-old man presents with crushing chest pain radiating to the left arm. He denies fever. "
        "Physical examination is unremarkable. ECG shows ST elevation.")


def test_key_words_drop_boilerplate_and_negated_findings():
    words = key_words(NOTE)
    assert {"crushing", "chest", "pain", "ecg", "elevation"} <= set(words)
    assert "fever" not in words  # only ever negated
    assert not {"presents", "physical", "examination", "unremarkable", "shows"} & set(words)
    assert "fever" in text_words(NOTE)  # the plain word list (the BM25 baseline's) keeps everything
    assert key_words("He denies fever. Fever since Monday.").count("fever") == 1  # affirmed somewhere: kept


def test_key_words_can_keep_either_part():
    assert "fever" in key_words(NOTE, drop_negated=False)
    assert "examination" in key_words(NOTE, drop_boilerplate=False)


class _Store:
    def __init__(self, records: dict[str, dict]):
        import json

        self.records = {nct_id: json.dumps(record) for nct_id, record in records.items()}

    def raws(self, nct_ids):
        return {nct_id: self.records[nct_id] for nct_id in nct_ids if nct_id in self.records}


def _record(nct_id: str, conditions: list[str]) -> dict:
    return {"protocolSection": {"identificationModule": {"nctId": nct_id, "briefTitle": nct_id},
                                "conditionsModule": {"conditions": conditions}}}


def test_feedback_names_weigh_condition_names_by_rank():
    store = _Store({"NCT1": _record("NCT1", ["Myocardial Infarction", "Coronary Disease"]),
                    "NCT2": _record("NCT2", ["Myocardial Infarction"]),
                    "NCT3": _record("NCT3", ["Asthma"])})
    assert study_from_dict(_record("NCT1", ["X"])).nct_id == "NCT1"
    patient = as_patient(NOTE)
    scores = {"NCT1": 1.0, "NCT2": 0.8, "NCT3": 0.1}
    unanchored = RelevanceWeights(feedback=0.5, feedback_anchored=False, feedback_docs=3, feedback_names=2)
    assert feedback_names(store, patient, scores, unanchored) == ["Myocardial Infarction", "Coronary Disease"]
    top_two = RelevanceWeights(feedback=0.5, feedback_anchored=False, feedback_docs=2, feedback_names=5)
    assert "Asthma" not in feedback_names(store, patient, scores, top_two)
    anchored = RelevanceWeights(feedback=0.5, feedback_anchored=True, feedback_docs=3)
    assert feedback_names(store, patient, scores, anchored) == []  # the note names none of these conditions


@pytest.mark.parametrize(("note", "criterion", "hit"), [
    ("type 2 diabetes", "Type 1 diabetes", None),  # another numbered kind
    ("type 1 diabetes", "Type 1 diabetes", "diabetes"),
    ("type 2 diabetes", "History of diabetes", "diabetes"),  # the criterion names no kind: any will do
    ("No diabetes.", "Type 1 diabetes", "diabetes"),  # none of any kind
    ("NYHA class III heart failure", "NYHA class IV heart failure", None),
    ("Class 2 obesity", "Class 3 obesity", None),
    ("She is on lisinopril 10 mg", "Prior lisinopril", "lisinopril"),  # a dose is no kind
])
def test_a_phrase_hit_keeps_the_numbered_kind_the_criterion_names(note: str, criterion: str, hit: str | None) -> None:
    from trialfinder.match.phrases import PatientText

    found = [h.phrase for h in PatientText(note).find(criterion)]
    assert found == ([hit] if hit else [])
