"""A patient as the matcher sees it: free text, structured answers, or both, folded into one PatientProfile."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from trialfinder.eligibility import LabValue, Mention, PatientProfile, profile_from_text
from trialfinder.eligibility.biomarkers import KNOWN_MARKERS, BiomarkerStatus, find_biomarkers
from trialfinder.eligibility.constraints import kind_words, name_concept
from trialfinder.eligibility.patient import BiomarkerResult, biomarkers_from_text, with_pd_l1_status
from trialfinder.eligibility.measures import canonical_unit, normalize_lab
from trialfinder.eligibility.model import SmokingStatus
from trialfinder.eligibility.terms import LAB_ANALYTES, LAB_GROUPS

# Structured keys a patient file or form may use, beside "text".
STRUCTURED_KEYS = ("age", "sex", "conditions", "no_conditions", "therapies", "no_therapies", "pregnant",
                   "breastfeeding", "smoking", "ecog", "karnofsky", "labs", "biomarkers", "location")


@dataclass(frozen=True)
class Patient:
    """The patient's own words (may be empty) and the profile built from them and from structured answers."""

    text: str = ""
    profile: PatientProfile = field(default_factory=PatientProfile)

    @property
    def condition_terms(self) -> list[str]:
        """Every condition the patient has, as written, most specific first."""
        return [m.evidence or m.term for m in self.profile.diagnoses]


class PatientInputError(ValueError):
    """A patient description that cannot be read (bad JSON shape, unreadable value)."""


def as_patient(value: Patient | PatientProfile | str | dict[str, Any]) -> Patient:
    """Accept whatever a caller holds: a Patient, a bare profile, free text, or a dict of structured fields."""
    if isinstance(value, Patient):
        return value
    if isinstance(value, PatientProfile):
        return Patient(text="", profile=value)
    if isinstance(value, str):
        return Patient(text=value, profile=profile_from_text(value))
    if isinstance(value, dict):
        return patient_from_fields(value)
    raise PatientInputError(f"cannot read a patient from {type(value).__name__}")


def read_patient_file(path: Path) -> Patient:
    """A patient file: JSON with structured fields and/or "text", else the whole file as free text."""
    content = path.read_text(encoding="utf-8")
    stripped = content.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(content)
        except json.JSONDecodeError as error:
            raise PatientInputError(f"{path}: invalid JSON ({error})") from error
        return patient_from_fields(data)
    return as_patient(content)


def patient_from_fields(data: dict[str, Any]) -> Patient:
    """Build a patient from structured fields; structured answers override what the text says."""
    text = str(data.get("text") or "")
    unknown = sorted(set(data) - set(STRUCTURED_KEYS) - {"text"})
    if unknown:
        raise PatientInputError(f"unknown patient fields: {', '.join(unknown)} (allowed: text, "
                                f"{', '.join(STRUCTURED_KEYS)})")
    from_text = profile_from_text(text) if text.strip() else PatientProfile()
    return Patient(text=text, profile=from_text.merge(structured_profile(data)))


def structured_profile(data: dict[str, Any]) -> PatientProfile:
    """The profile that the structured fields alone describe."""
    evidence: dict[str, str] = {}
    age = _number(data.get("age"), "age")
    if age is not None:
        evidence["age_years"] = f"age {age:g}"
    for scale in ("ecog", "karnofsky"):
        if data.get(scale) is not None:
            evidence[scale] = f"{scale} {data[scale]}"
    return PatientProfile(
        age_years=age,
        sex=_sex(data.get("sex")),
        diagnoses=_mentions(data.get("conditions"), "condition"),
        absent_conditions=_mentions(data.get("no_conditions"), "condition"),
        therapies=_mentions(data.get("therapies"), "therapy"),
        absent_therapies=_mentions(data.get("no_therapies"), "therapy"),
        labs=(labs := _labs(data.get("labs") or {})),
        biomarkers=with_pd_l1_status(_biomarkers(data.get("biomarkers")), labs),
        pregnant=_flag(data.get("pregnant"), "pregnant"),
        breastfeeding=_flag(data.get("breastfeeding"), "breastfeeding"),
        smoking=_smoking(data.get("smoking")),
        ecog=_integer(data.get("ecog"), "ecog", 0, 5),
        karnofsky=_integer(data.get("karnofsky"), "karnofsky", 0, 100),
        location=str(data["location"]) if data.get("location") else None,
        evidence=evidence,
    )


def _number(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise PatientInputError(f"{name} must be a number, not {value!r}") from error


def _integer(value: Any, name: str, low: int, high: int) -> int | None:
    number = _number(value, name)
    if number is None:
        return None
    if not low <= number <= high:
        raise PatientInputError(f"{name} must lie between {low} and {high}, not {value!r}")
    return int(number)


def _sex(value: Any) -> Literal["female", "male"] | None:
    if value is None or value == "":
        return None
    lowered = str(value).strip().lower()
    if lowered in {"f", "female", "woman", "w"}:
        return "female"
    if lowered in {"m", "male", "man"}:
        return "male"
    raise PatientInputError(f"sex must be female or male, not {value!r}")


_SMOKING_ANSWERS: dict[str, SmokingStatus] = {
    "current": "current", "yes": "current", "smoker": "current", "current smoker": "current",
    "former": "former", "ex": "former", "ex-smoker": "former", "former smoker": "former", "quit": "former",
    "never": "never", "no": "never", "never smoked": "never", "never smoker": "never",
    "non-smoker": "not_current", "nonsmoker": "not_current", "not now": "not_current"}


def _smoking(value: Any) -> SmokingStatus | None:
    if value is None or value == "":
        return None
    lowered = str(value).strip().lower()
    if lowered not in _SMOKING_ANSWERS:
        raise PatientInputError(f"smoking must be current, former or never, not {value!r}")
    return _SMOKING_ANSWERS[lowered]


def _flag(value: Any, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in {"yes", "y", "true", "1", "on"}:
        return True
    if lowered in {"no", "n", "false", "0", "off"}:
        return False
    raise PatientInputError(f"{name} must be yes or no, not {value!r}")


def _mentions(values: Any, kind: str) -> tuple[Mention, ...]:
    if not values:
        return ()
    if isinstance(values, str):
        values = [part for part in re.split(r"[;,\n]", values)]
    found = []
    for value in values:
        term = str(value).strip()
        if term:
            concept = name_concept(term.lower(), kind)
            found.append(Mention(term=term.lower(), concept=concept, evidence=term,
                                 kind_words=kind_words(term.lower(), concept, kind)))
    return tuple(found)


_LAB_VALUE = re.compile(r"^\s*(?P<bound>[<>]=?|≤|≥)?\s*(?P<value>-?\d+(?:[.,]\d+)?)\s*(?P<unit>.*?)\s*$")
_BOUNDS = {"≤": "<=", "≥": ">="}


def lab_analyte(name: str) -> str | None:
    """The lexicon's analyte key for a lab name as a user writes it ("HbA1c", "platelet count")."""
    lowered = name.strip().lower().replace("_", " ")
    for analyte, forms in LAB_ANALYTES.items():
        if lowered == analyte.replace("_", " ") or lowered in forms:
            return analyte
    return None


def _labs(values: dict[str, Any]) -> dict[str, LabValue]:
    labs: dict[str, LabValue] = {}
    for name, raw in values.items():
        analyte = lab_analyte(name)
        if analyte is None:
            raise PatientInputError(f"unknown lab {name!r}; known: {', '.join(sorted(LAB_ANALYTES))}")
        match = _LAB_VALUE.match(str(raw))
        if not match:
            raise PatientInputError(f"lab {name} must be a number with an optional unit, not {raw!r}")
        value = float(match.group("value").replace(",", "."))
        unit = canonical_unit(match.group("unit")) if match.group("unit") else None
        for member in LAB_GROUPS.get(analyte, (analyte,)):  # "transaminases" gives AST and ALT
            normalized, normalized_unit = normalize_lab(member, value, unit)
            bound = match.group("bound")
            labs[member] = LabValue(value, unit, normalized, normalized_unit, f"{name} {raw}",
                                    _BOUNDS.get(bound, bound))
    return labs


_MARKER_KEYS = {re.sub(r"[\s\-/]", "", marker).upper(): marker for marker in KNOWN_MARKERS}
# A plain answer for a known marker (the panel's yes/no too); anything else ("exon 19 deletion") is read as text.
_PLAIN_STATUS: dict[str, BiomarkerStatus] = {
    **dict.fromkeys(("positive", "pos", "+", "yes", "y", "true"), "positive"),
    **dict.fromkeys(("negative", "neg", "no", "n", "false"), "negative"),
}


def _biomarkers(values: Any) -> dict[str, BiomarkerResult]:
    """Tumour markers as {"EGFR": "exon 19 deletion", "HER2": "negative"} or as phrases ("ER/PR negative")."""
    if not values:
        return {}
    if isinstance(values, (str, list)):
        phrases = re.split(r"[;\n]", values) if isinstance(values, str) else [str(v) for v in values]
        found: dict[str, BiomarkerResult] = {}
        for phrase in phrases:
            if not phrase.strip():
                continue
            read = biomarkers_from_text(phrase)
            if not read:
                raise PatientInputError(f"biomarkers: cannot read {phrase.strip()!r}; write e.g. 'HER2 negative'")
            found.update(read)
        return found
    if not isinstance(values, dict):
        raise PatientInputError("biomarkers must map a marker to its status, e.g. {\"EGFR\": \"positive\"}")
    found = {}
    for name, raw in values.items():
        value = str(raw).strip()
        # a known symbol in any case ("her2", "pd-l1"); else the name as written ("estrogen receptor", "MSI")
        marker = _MARKER_KEYS.get(re.sub(r"[\s\-/]", "", str(name)).upper())
        if marker and (status := _PLAIN_STATUS.get(value.lower())):
            found[marker] = BiomarkerResult(status, (), f"{name} {value}")
            continue
        words = _PLAIN_STATUS.get(value.lower(), value)
        findings = [f for f in find_biomarkers(f"{marker or name} {words}") if len(f.markers) == 1]
        if not findings or not value:
            raise PatientInputError(f"biomarker {name!r}: cannot read {value!r}; give positive, negative or a variant "
                                    f"(e.g. V600E); known markers: {', '.join(KNOWN_MARKERS)}")
        finding = findings[0]
        found[finding.markers[0]] = BiomarkerResult(finding.status, finding.variants, f"{name} {value}")
    return found
