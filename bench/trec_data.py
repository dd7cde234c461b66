"""TREC Clinical Trials topics, qrels and the ranking metrics the TREC benchmark reports."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Topic:
    """One TREC patient: its id in the qrels, the text the matcher reads, and structured answers (2023)."""

    topic_id: str
    text: str
    fields: dict[str, str] = field(default_factory=dict)
    patient: dict | None = None  # structured patient fields (match.patient_from_fields) when the topic has them


def load_topics(data: Path, year: int) -> list[Topic]:
    """Official topics; the 2023 questionnaire fields are also written out as one plain-English note."""
    root = ET.parse(data / "trec_ct_official" / f"topics{year}.xml").getroot()
    topics = []
    for node in root.iter("topic"):
        number = node.get("number")
        if year == 2023:
            fields = {f.get("name"): (f.text or "").strip() for f in node.iter("field")}
            template = node.get("template") or ""
            note = questionnaire_note(template, fields)
            topics.append(Topic(number, note, fields, questionnaire_patient(template, fields, note)))
        else:
            topics.append(Topic(number, " ".join((node.text or "").split())))
    return topics


_NEGATIVE_ANSWERS = {"no", "none", "never", "negative"}
_AGE = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*(?:y|yo|yrs?|years?(?:\s+old)?)?\s*$", re.IGNORECASE)


def questionnaire_note(template: str, fields: dict[str, str]) -> str:
    """A 2023 questionnaire as a note: yes/no answers become "has X" / "no X", other answers "X: value"."""
    sentences = [f"Patient with {template}."]
    for name, value in fields.items():
        lowered = value.lower()
        if not value:
            continue
        if name == "definitive diagnosis":
            named = named_diagnosis(template, value)
            sentences.append(f"No definitive diagnosis of {template}." if lowered in _NEGATIVE_ANSWERS
                             else f"Diagnosed with {named or template}.")
        elif lowered in _NEGATIVE_ANSWERS:
            sentences.append(f"No {name}.")
        elif lowered in {"yes", "positive"}:
            sentences.append(f"Has {name}.")
        elif name == "age":
            age = _AGE.match(value)
            sentences.append(f"{age.group(1)} years old." if age else f"Age: {value}.")
        elif name in {"gender", "sex"}:
            sentences.append(f"Sex: {value}.")
        else:
            sentences.append(f"{name}: {value}.")
    return " ".join(sentences)


def named_diagnosis(template: str, answer: str) -> str | None:
    """A descriptive diagnosis answer as a condition name: "pigmentary" -> "pigmentary glaucoma" (None for yes/no)."""
    answer = answer.strip()
    if not answer or answer.lower() in {"yes", "positive", *_NEGATIVE_ANSWERS}:
        return None
    head = template.split()[-1].lower() if template.split() else ""
    return answer if head and head in answer.lower() else f"{answer} {template}".strip()


def questionnaire_patient(template: str, fields: dict[str, str], note: str) -> dict:
    """A 2023 questionnaire as structured patient fields: the template (and a named diagnosis) are the conditions.

    The template is the disease the questionnaire is about, so it is the patient's main condition unless the
    definitive diagnosis is answered "no"; comorbidity answers stay in the note only, they are not what the
    patient looks for trials about.
    """
    patient: dict = {"text": note}
    diagnosis = fields.get("definitive diagnosis", "").strip()
    conditions = [] if diagnosis.lower() in _NEGATIVE_ANSWERS else [template]
    named = named_diagnosis(template, diagnosis)
    if named:
        conditions.append(named)
    if conditions:
        patient["conditions"] = conditions
    age = _AGE.match(fields.get("age", ""))
    if age:
        patient["age"] = float(age.group(1))
    sex = (fields.get("gender") or fields.get("sex") or "").strip().lower()
    if sex in {"female", "male", "f", "m", "woman", "man"}:
        patient["sex"] = sex
    return patient


def load_qrels(data: Path, year: int) -> dict[str, dict[str, int]]:
    """topic -> NCT id -> label (0 not relevant, 1 excluded, 2 eligible)."""
    name = {2021: "qrels2021.txt", 2022: "qrels2022.txt", 2023: "2023-qrels.txt"}[year]
    qrels: dict[str, dict[str, int]] = {}
    for line in (data / "trec_ct_official" / name).read_text().splitlines():
        parts = line.split()
        if len(parts) == 4:
            qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    return qrels


def dcg(gains: list[float]) -> float:
    return sum((2 ** gain - 1) / math.log2(rank + 2) for rank, gain in enumerate(gains))


def ndcg_at(ranking: list[str], labels: dict[str, int], k: int, gain_of) -> float:
    """NDCG@k with exponential gains; the ideal ranks every judged document (unjudged count 0)."""
    ideal = dcg(sorted((gain_of(label) for label in labels.values()), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([gain_of(labels.get(doc, 0)) for doc in ranking[:k]]) / ideal


def precision_at(ranking: list[str], labels: dict[str, int], k: int, relevant) -> float:
    return sum(relevant(labels.get(doc, 0)) for doc in ranking[:k]) / k


def reciprocal_rank(ranking: list[str], labels: dict[str, int], relevant) -> float:
    for rank, doc in enumerate(ranking, start=1):
        if relevant(labels.get(doc, 0)):
            return 1 / rank
    return 0.0


# The two readings of the labels the report gives side by side.
SETTINGS = {
    "eligible only": (lambda label: 1 if label == 2 else 0, lambda label: label == 2),
    "graded": (lambda label: label, lambda label: label >= 1),
}


def score_run(run: dict[str, list[str]], qrels: dict[str, dict[str, int]], setting: str) -> dict[str, float]:
    """Mean NDCG@10, P@10 and MRR over the topics that have at least one relevant judged document."""
    gain_of, relevant = SETTINGS[setting]
    topics = [t for t, labels in qrels.items() if any(relevant(label) for label in labels.values())]
    if not topics:
        return {"topics": 0, "ndcg@10": 0.0, "p@10": 0.0, "mrr": 0.0}
    totals = {"ndcg@10": 0.0, "p@10": 0.0, "mrr": 0.0}
    for topic in topics:
        ranking = run.get(topic, [])
        totals["ndcg@10"] += ndcg_at(ranking, qrels[topic], 10, gain_of)
        totals["p@10"] += precision_at(ranking, qrels[topic], 10, relevant)
        totals["mrr"] += reciprocal_rank(ranking, qrels[topic], relevant)
    return {"topics": len(topics), **{name: value / len(topics) for name, value in totals.items()}}


def restrict(qrels: dict[str, dict[str, int]], available: set[str]) -> dict[str, dict[str, int]]:
    """The judgments whose trial has text in the bench store."""
    kept = {topic: {doc: label for doc, label in labels.items() if doc in available} for topic, labels in qrels.items()}
    return {topic: labels for topic, labels in kept.items() if labels}


def dump_run(path: Path, run: dict[str, list[str]]) -> None:
    """Write a run as JSON (topic -> ranked NCT ids) for later inspection."""
    path.write_text(json.dumps(run))


