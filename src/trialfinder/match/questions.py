"""The questions one trial's criteria raise (age, sex, pregnancy, performance status, labs, tumour markers,
conditions, therapies) and the patient fields that a set of answers gives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from trialfinder.eligibility.model import (
    BiomarkerConstraint,
    MentionConstraint,
    PerformanceConstraint,
    ThresholdConstraint,
)
from trialfinder.model import Study, age_in_years

from .assess import parsed_criteria

QuestionKind = Literal["number", "sex", "yes_no", "smoking", "ecog", "karnofsky", "lab"]
MAX_MENTION_QUESTIONS = 12


@dataclass(frozen=True)
class Question:
    """One form field: its parameter name, the question, the kind of answer, and a unit hint for labs."""

    key: str
    label: str
    kind: QuestionKind
    unit: str | None = None


def eligibility_questions(study: Study) -> list[Question]:
    """Questions in a fixed order: age, sex, pregnancy, breastfeeding, smoking, performance status, labs, tumour
    markers, conditions, therapies."""
    items = parsed_criteria(study)
    constraints = [c for item in items for c in item.constraints if not c.hypothetical]
    types = {c.type for c in constraints}
    eligibility = study.eligibility
    questions: list[Question] = []
    has_age_field = age_in_years(eligibility.minimum_age) is not None or age_in_years(eligibility.maximum_age) is not None
    if "age" in types or has_age_field:
        questions.append(Question("age", "How old are you (years)?", "number"))
    if "sex" in types or eligibility.sex in ("FEMALE", "MALE") or {"pregnancy", "breastfeeding"} & types:
        questions.append(Question("sex", "Sex", "sex"))
    if "pregnancy" in types:
        questions.append(Question("pregnant", "Are you pregnant?", "yes_no"))
    if "breastfeeding" in types:
        questions.append(Question("breastfeeding", "Are you breastfeeding?", "yes_no"))
    if {"smoking", "ever_smoked"} & types:
        questions.append(Question("smoking", "Do you smoke?", "smoking"))
    scales = {c.scale for c in constraints if isinstance(c, PerformanceConstraint)}
    if "ecog" in scales:
        questions.append(Question("ecog", "ECOG performance status (0 = fully active ... 4 = bedridden)", "ecog"))
    if "karnofsky" in scales:
        questions.append(Question("karnofsky", "Karnofsky performance status (0-100)", "karnofsky"))
    labs: dict[str, str | None] = {}
    for constraint in constraints:
        if isinstance(constraint, ThresholdConstraint) and constraint.type == "lab":
            labs.setdefault(constraint.analyte, constraint.unit)
    for analyte, unit in labs.items():
        questions.append(Question(f"lab.{analyte}", _lab_label(analyte), "lab", unit))
    markers = dict.fromkeys(marker for constraint in constraints if isinstance(constraint, BiomarkerConstraint)
                            for marker in constraint.markers)
    for marker in markers:
        questions.append(Question(f"biomarker.{marker}", _MARKER_QUESTIONS.get(
            marker, f"Has the tumour tested {marker}-positive (a mutation, fusion or overexpression)?"), "yes_no"))
    mentions: dict[tuple[str, str], MentionConstraint] = {}
    for constraint in constraints:
        if isinstance(constraint, MentionConstraint) and constraint.concept:
            mentions.setdefault((constraint.type, constraint.concept), constraint)
    for (kind, concept), _ in list(mentions.items())[:MAX_MENTION_QUESTIONS]:
        label = f"Do you have {concept}?" if kind == "condition" else f"Have you had or are you taking {concept}?"
        questions.append(Question(f"{kind}.{concept}", label, "yes_no"))
    return questions


_LAB_NAMES = {"anc": "Absolute neutrophil count", "wbc": "White blood cell count", "hba1c": "HbA1c",
              "egfr": "eGFR", "ast": "AST", "alt": "ALT", "inr": "INR", "aptt": "aPTT", "bmi": "BMI",
              "lvef": "LVEF (ejection fraction)", "qtc": "QTc", "psa": "PSA", "tsh": "TSH", "ldl": "LDL cholesterol",
              "bun": "BUN", "cd4": "CD4 count", "fev1": "FEV1", "spo2": "Oxygen saturation", "pao2": "PaO2",
              "pao2_fio2": "PaO2/FiO2 ratio",
              "pd_l1": "PD-L1 tumour proportion score (TPS)", "pd_l1_cps": "PD-L1 combined positive score (CPS)",
              "mmse": "MMSE score", "moca": "MoCA score", "cdr_sb": "CDR sum of boxes", "cdr": "CDR global score",
              "edss": "EDSS score", "nihss": "NIHSS score", "modified_rankin": "Modified Rankin Scale score",
              "hamd": "HAM-D score", "hama": "HAM-A score", "madrs": "MADRS score", "phq9": "PHQ-9 score",
              "gad7": "GAD-7 score", "bdi": "BDI score", "ymrs": "YMRS score", "panss": "PANSS total score",
              "meld": "MELD score", "das28": "DAS28 score", "iop": "Intraocular pressure",
              "pack_years": "Pack-years smoked (packs a day × years)"}


_MARKER_QUESTIONS = {
    "ER": "Is the tumour estrogen receptor (ER) positive?",
    "PR": "Is the tumour progesterone receptor (PR) positive?",
    "HR": "Is the tumour hormone receptor (ER or PR) positive?",
    "HER2": "Is the tumour HER2-positive?",
    "PD-L1": "Is the tumour PD-L1 positive?",
    "dMMR/MSI-H": "Is the tumour mismatch-repair deficient or MSI-high (dMMR/MSI-H)?",
    "BCR-ABL": "Is the leukaemia Philadelphia chromosome / BCR-ABL positive?",
    "BRCA": "Has a BRCA1 or BRCA2 mutation been found?",
    "BRCA1": "Has a BRCA1 mutation been found?",
    "BRCA2": "Has a BRCA2 mutation been found?",
}


def _lab_label(analyte: str) -> str:
    return _LAB_NAMES.get(analyte, analyte.replace("_", " ").capitalize())


def answers_to_fields(questions: list[Question], answers: Mapping[str, str]) -> dict:
    """Patient fields (match.patient_from_fields) from the answers given; blank answers mean "don't know"."""
    fields: dict = {"conditions": [], "no_conditions": [], "therapies": [], "no_therapies": [], "labs": {}}
    for question in questions:
        value = (answers.get(question.key) or "").strip()
        if not value:
            continue
        if question.key in ("age", "sex", "pregnant", "breastfeeding", "smoking", "ecog", "karnofsky"):
            fields[question.key] = value
        elif question.kind == "lab":
            fields["labs"][question.key.split(".", 1)[1]] = value
        elif question.key.startswith("biomarker."):
            if value in ("yes", "no"):
                fields.setdefault("biomarkers", {})[question.key.split(".", 1)[1]] = value
        else:
            kind, concept = question.key.split(".", 1)
            plural = "conditions" if kind == "condition" else "therapies"
            if value == "yes":
                fields[plural].append(concept)
            elif value == "no":
                fields[f"no_{plural}"].append(concept)
    if answers.get("text"):
        fields["text"] = answers["text"]
    return fields
