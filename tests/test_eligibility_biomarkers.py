"""Tumour biomarker status: read from criteria and from patient notes, checked marker by marker."""

from __future__ import annotations

import pytest

from trialfinder.eligibility import evaluate, extract_constraints, profile_from_text
from trialfinder.eligibility.biomarkers import find_biomarkers
from trialfinder.eligibility.model import BiomarkerConstraint
from trialfinder.match import PatientInputError, as_patient, assess, patient_from_fields
from trialfinder.match.assess import ParsedCriterion, _combine_rules
from trialfinder.eligibility import Criterion
from trialfinder.match.questions import answers_to_fields, eligibility_questions
from trialfinder.model import study_from_dict

from test_match import record


def readings(text: str) -> list[tuple[tuple[str, ...], str, str, tuple[str, ...]]]:
    return [(f.markers, f.status, f.combine, f.variants) for f in find_biomarkers(text)]


@pytest.mark.parametrize("text, expected", [
    ("HER2-positive breast cancer", [(("HER2",), "positive", "all", ())]),
    ("ER+HER2- metastatic breast cancer", [(("ER",), "positive", "all", ()), (("HER2",), "negative", "all", ())]),
    # a list takes the status written after it; negatives hold for each, positives for any one
    ("ER/PR negative", [(("ER", "PR"), "negative", "all", ())]),
    ("ER/PgR+ (defined as >=10% by IHC staining)", [(("ER", "PR"), "positive", "any", ())]),
    ("No EGFR, ALK, ROS1 positive tumor mutations", [(("EGFR", "ALK", "ROS1"), "positive", "any", ())]),
    ("negative for EGFR, ALK and ROS1", [(("EGFR", "ALK", "ROS1"), "negative", "all", ())]),
    ("HR+/HER2+ patients", [(("HR", "HER2"), "positive", "all", ())]),
    ("Known EGFR mutation or ALK translocation", [(("EGFR", "ALK"), "positive", "any", ())]),
    ("Documented activating EGFR mutation (exon 19 deletion or L858R)",
     [(("EGFR",), "positive", "all", ("EXON 19 DELETION", "L858R"))]),
    ("KRAS G12C mutation", [(("KRAS",), "positive", "all", ("G12C",))]),
    ("HER2 expression: IHC1+, IHC2+/FISH-", [(("HER2",), "negative", "all", ("LOW",))]),
    ("Triple-negative breast cancer", [(("ER", "PR", "HER2"), "negative", "all", ())]),
    ("MSI-H or dMMR colorectal cancer", [(("dMMR/MSI-H",), "positive", "all", ())]),
    ("EGFR mutation negative", [(("EGFR",), "negative", "all", ())]),
    ("microsatellite stable disease", [(("dMMR/MSI-H",), "negative", "all", ())]),
    ("Philadelphia chromosome-positive ALL", [(("BCR-ABL",), "positive", "all", ())]),
    # "PR+ or PR-": the criterion leaves the progesterone receptor open
    ("ER+ PR+ or PR- HER2- breast cancer", [(("ER",), "positive", "all", ()), (("HER2",), "negative", "all", ())]),
])
def test_statuses_lists_and_variants(text, expected):
    assert readings(text) == expected


@pytest.mark.parametrize("text", [
    "Prior anti-HER2 therapy", "Previous EGFR TKI", "ALK inhibitors are prohibited", "Alk P: 53 U/L",
    "eGFR > 60 mL/min", "presented to the ER with chest pain", "achieved a PR after two cycles", "HR 110 bpm",
    "Non-triple-negative breast cancer", "Known EGFR mutation status",
    "Estrogen receptor status positive, negative, or unknown", "Any ER and PR expressions are permitted but must be known",
])
def test_drug_targets_and_look_alikes_are_no_status(text):
    assert readings(text) == []


def biomarker_constraints(text: str, kind: str = "inclusion") -> list[BiomarkerConstraint]:
    return [c for c in extract_constraints(text, kind) if isinstance(c, BiomarkerConstraint)]


def test_polarity_negation_and_subgroups():
    assert [c.polarity for c in biomarker_constraints("Known EGFR mutation", "exclusion")] == ["forbid"]
    assert [c.polarity for c in biomarker_constraints("Lacking an EGFR-sensitizing mutation")] == ["forbid"]
    assert [c.polarity for c in biomarker_constraints("There has been no diagnosis of HER2 positive")] == ["forbid"]
    # what a subgroup must do, a cohort, a test to be done: nothing the patient must have
    for text in ("Participants with BRAF mutant melanoma must have had a prior BRAF inhibitor",
                 "For patients with known BRAF V600E mutation: must have received encorafenib",
                 "Cohort B: HER2-negative breast cancer"):
        assert all(c.hypothetical for c in biomarker_constraints(text)), text
    assert biomarker_constraints("Tissue available for detection of PIK3CA mutation") == []
    assert not biomarker_constraints("Patients with HER2-positive breast cancer")[0].hypothetical
    # an exclusion's "Participants with X" is whom it excludes, whatever a bracket after it says
    excluded = biomarker_constraints("Participants with known EGFR mutations or ALK translocations (non-squamous "
                                     "NSCLC subjects must have confirmed EGFR/ALK mutation status)", "exclusion")
    assert [(c.markers, c.polarity, c.hypothetical) for c in excluded] == [(("EGFR", "ALK"), "forbid", False)]


def test_notes_give_marker_statuses():
    profile = profile_from_text("58F, stage IV lung adenocarcinoma with EGFR exon 19 deletion; no ALK rearrangement. "
                                "Her sister is BRCA1 positive.")
    assert profile.biomarkers["EGFR"].status == "positive"
    assert profile.biomarkers["EGFR"].variants == ("EXON 19 DELETION",)
    assert profile.biomarkers["ALK"].status == "negative"
    assert "BRCA1" not in profile.biomarkers  # a relative's result
    breast = profile_from_text("The tumor was HER2-positive and ER/PR negative.").biomarkers
    assert {m: r.status for m, r in breast.items()} == {"HER2": "positive", "ER": "negative", "PR": "negative"}
    assert profile_from_text("ER/PR positive breast cancer").biomarkers["HR"].status == "positive"


@pytest.mark.parametrize("criterion, kind, note, status", [
    ("HER2-negative breast cancer", "inclusion", "HER2-positive, ER/PR negative breast cancer", "not_met"),
    ("Hormone receptor positive breast cancer", "inclusion", "ER-positive, PR-negative breast cancer", "met"),
    ("Hormone receptor positive breast cancer", "inclusion", "ER/PR negative breast cancer", "not_met"),
    ("Triple-negative breast cancer", "inclusion", "triple negative breast cancer", "met"),
    ("Estrogen receptor positive", "inclusion", "hormone receptor negative breast cancer", "not_met"),
    ("EGFR exon 19 deletion or L858R", "inclusion", "NSCLC, EGFR L858R", "met"),
    ("EGFR-sensitizing mutation", "inclusion", "NSCLC with EGFR exon 19 deletion", "met"),
    # one variant named leaves another open, unless at the same codon
    ("EGFR T790M mutation", "inclusion", "NSCLC with EGFR exon 19 deletion", "unknown"),
    ("BRAF V600E mutation", "inclusion", "melanoma, BRAF V600K", "not_met"),
    ("BRAF V600 mutation", "inclusion", "melanoma, BRAF V600K", "met"),
    ("KRAS/NRAS wild-type", "inclusion", "colon cancer, RAS wild-type", "met"),
    ("KRAS/NRAS wild-type", "inclusion", "colon cancer, KRAS wild-type", "unknown"),
    ("Known EGFR mutation or ALK translocation", "exclusion", "NSCLC, EGFR and ALK negative", "met"),
    ("Known EGFR mutation or ALK translocation", "exclusion", "NSCLC with ALK rearrangement", "not_met"),
    ("HER2-low breast cancer", "inclusion", "breast cancer, HER2 1+", "met"),
    ("HER2-low breast cancer", "inclusion", "breast cancer, HER2 0 by IHC", "not_met"),
    ("MSI-H colorectal cancer", "inclusion", "colon cancer, MSS", "not_met"),
    ("HER2-positive breast cancer", "inclusion", "breast cancer", "unknown"),
])
def test_verdicts(criterion, kind, note, status):
    constraints = biomarker_constraints(criterion, kind)
    assert constraints, criterion
    profile = profile_from_text(note)
    assert evaluate(constraints[0], profile).status == status


def _criterion_verdict(text: str, note: str, kind: str = "inclusion"):
    item = ParsedCriterion(Criterion(text, kind, None, (), 0, len(text)), tuple(extract_constraints(text, kind)))
    return _combine_rules(item, as_patient(note))


def test_a_marker_qualifying_the_disease_fails_the_criterion_but_an_alternative_does_not():
    fails = _criterion_verdict("HER2-positive breast cancer", "52-year-old woman with breast cancer, HER2 negative.")
    assert fails.status == "not_met" and fails.hard and fails.evidence == "HER2 negative"
    either = "Histologically confirmed TNBC, HR+ breast cancer, or epithelial ovarian cancer"
    assert _criterion_verdict(either, "woman with ER-positive breast cancer").status == "met"


def test_trial_verdicts_and_questions():
    study = study_from_dict(record("NCT7", "HER2 trial", ["Breast Cancer"],
                                   "Inclusion Criteria:\n\n* HER2-positive metastatic breast cancer\n\n"
                                   "Exclusion Criteria:\n\n* Known BRCA1 or BRCA2 mutation\n"))
    questions = eligibility_questions(study)
    keys = [q.key for q in questions]
    assert "biomarker.HER2" in keys and "biomarker.BRCA1" in keys and "biomarker.BRCA2" in keys
    fields = answers_to_fields(questions, {"biomarker.HER2": "no", "biomarker.BRCA1": "", "age": "50"})
    assert fields["biomarkers"] == {"HER2": "no"}
    verdicts = {v.criterion: v for v in assess(study, patient_from_fields(fields))}
    assert verdicts["HER2-positive metastatic breast cancer"].status == "not_met"
    assert verdicts["Known BRCA1 or BRCA2 mutation"].status == "unknown"


def test_structured_biomarkers():
    profile = patient_from_fields({"biomarkers": {"egfr": "exon 19 deletion", "HER2": "negative", "pd-l1": "yes",
                                                  "Estrogen receptor": "positive"}}).profile
    assert profile.biomarkers["EGFR"].variants == ("EXON 19 DELETION",)
    assert {m: r.status for m, r in profile.biomarkers.items()} == {
        "EGFR": "positive", "HER2": "negative", "PD-L1": "positive", "ER": "positive"}
    phrases = patient_from_fields({"biomarkers": "ER/PR negative; HER2 3+"}).profile.biomarkers
    assert phrases["HER2"].status == "positive" and phrases["PR"].status == "negative"
    with pytest.raises(PatientInputError, match="biomarker 'EGFR'"):
        patient_from_fields({"biomarkers": {"EGFR": "maybe"}})
    with pytest.raises(PatientInputError, match="cannot read 'blue'"):
        patient_from_fields({"biomarkers": "blue"})
