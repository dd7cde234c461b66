"""Patient profiles from text, merging, and evaluation of constraints against a profile."""

from __future__ import annotations

import pytest

from trialfinder.eligibility import (
    LabValue,
    Mention,
    PatientProfile,
    evaluate,
    extract_constraints,
    profile_from_text,
)

TREC_LIKE = (
    "A 58-year-old African-American woman presents to the ER with episodic pressing/burning anterior chest pain "
    "that began two days earlier. She has a history of T2DM and HTN, no history of MI or stroke. "
    "Labs: hemoglobin 10.2 g/dL, platelets 150,000/mm3, creatinine 1.1 mg/dL. ECOG 1. She is not pregnant. "
    "She takes metformin."
)


@pytest.fixture(scope="module")
def patient() -> PatientProfile:
    return profile_from_text(TREC_LIKE)


def test_profile_from_text_fields(patient: PatientProfile) -> None:
    assert patient.age_years == 58 and patient.sex == "female"
    present = {m.concept for m in patient.diagnoses}
    absent = {m.concept for m in patient.absent_conditions}
    assert {"type 2 diabetes", "hypertension", "chest pain"} <= present
    assert {"myocardial infarction", "stroke"} <= absent
    assert not present & absent
    assert {m.concept for m in patient.therapies} == {"metformin"}
    assert patient.labs["hemoglobin"].normalized_value == pytest.approx(10.2)
    assert patient.labs["platelets"].normalized_value == pytest.approx(150000)
    assert patient.pregnant is False and patient.ecog == 1


def test_negated_diagnosis_is_never_present() -> None:
    profile = profile_from_text("No history of diabetes. Denies chest pain.")
    assert not profile.diagnoses
    assert {m.concept for m in profile.absent_conditions} == {"diabetes", "chest pain"}


def test_male_patient_and_abbreviations() -> None:
    profile = profile_from_text("67 yo M with NSCLC and COPD, CKD stage 3; Karnofsky 70.")
    assert profile.age_years == 67 and profile.sex == "male" and profile.karnofsky == 70
    assert {"non-small cell lung cancer", "copd", "chronic kidney disease"} <= {m.concept for m in profile.diagnoses}


def test_merge_structured_overrides_text(patient: PatientProfile) -> None:
    structured = PatientProfile(
        age_years=59, labs={"hemoglobin": LabValue(12.0, "g/dL", 12.0, "g/dL")},
        diagnoses=(Mention("myocardial infarction", "myocardial infarction"),), location="Boston, MA",
    )
    merged = patient.merge(structured)
    assert merged.age_years == 59 and merged.sex == "female" and merged.location == "Boston, MA"
    assert merged.labs["hemoglobin"].value == 12.0 and "platelets" in merged.labs
    assert "myocardial infarction" in {m.concept for m in merged.diagnoses}
    assert "myocardial infarction" not in {m.concept for m in merged.absent_conditions}


def verdicts(text: str, kind: str, profile: PatientProfile) -> list[str]:
    return [evaluate(c, profile).status for c in extract_constraints(text, kind)]


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("Age 18-75 years", "inclusion", ["met"]),
        ("Age 65 years or older", "inclusion", ["not_met"]),
        ("Men aged 18 or older", "inclusion", ["not_met", "met"]),
        ("History of diabetes", "inclusion", ["met"]),
        ("Type 1 diabetes", "exclusion", ["met"]),  # the patient has type 2, and nobody has both
        ("Hypertension", "exclusion", ["not_met"]),
        ("History of myocardial infarction", "exclusion", ["met"]),
        ("Platelets ≥ 100 x 10^9/L", "inclusion", ["met"]),
        ("Hemoglobin ≥ 110 g/L", "inclusion", ["not_met"]),
        ("ECOG 0-1", "inclusion", ["met"]),
        ("Karnofsky ≥ 90", "inclusion", ["not_met"]),
        ("Pregnant or breastfeeding", "exclusion", ["met", "unknown"]),
        ("Bilirubin ≤ 1.5 mg/dL", "inclusion", ["unknown"]),
        ("Receiving metformin", "inclusion", ["met"]),
        ("Prior chemotherapy", "exclusion", ["unknown"]),
    ],
)
def test_evaluate(patient: PatientProfile, text: str, kind: str, expected: list[str]) -> None:
    assert verdicts(text, kind, patient) == expected


def test_verdict_carries_reason_and_evidence(patient: PatientProfile) -> None:
    (constraint,) = extract_constraints("Platelet count > 100,000/mm3")
    verdict = evaluate(constraint, patient)
    assert verdict.status == "met" and "platelets" in verdict.reason
    assert verdict.evidence == "platelets 150,000/mm3"


def test_time_limited_exclusion_is_unknown_when_patient_has_the_condition() -> None:
    profile = profile_from_text("Patient had a myocardial infarction in 2015.")
    statuses = {c.type: evaluate(c, profile).status for c in extract_constraints(
        "Myocardial infarction within 6 months before enrollment", "exclusion")}
    assert statuses == {"condition": "unknown", "time_window": "unknown"}


def test_time_window_met_when_patient_never_had_the_event() -> None:
    profile = profile_from_text("She has never received chemotherapy.")
    (window,) = [c for c in extract_constraints("Chemotherapy within 4 weeks", "exclusion") if c.type == "time_window"]
    assert evaluate(window, profile).status == "met"


def test_hypothetical_constraints_are_unknown(patient: PatientProfile) -> None:
    constraints = extract_constraints("Planned surgery during the study", "exclusion")
    assert constraints and {evaluate(c, patient).status for c in constraints} == {"unknown"}


def test_unknown_when_profile_is_empty() -> None:
    empty = PatientProfile()
    for text in ("Age ≥ 18 years", "ECOG 0-2", "No history of stroke", "ANC ≥ 1500/µL", "Not pregnant"):
        assert {evaluate(c, empty).status for c in extract_constraints(text)} == {"unknown"}


@pytest.mark.parametrize(("note", "criterion", "expected"), [
    ("65-year-old man with hypertension, well controlled on lisinopril.", "Uncontrolled hypertension", "unknown"),
    ("70-year-old woman with poorly controlled hypertension.", "Uncontrolled hypertension", "not_met"),
    ("History of hepatitis B, treated in 2010.", "Active hepatitis B infection", "unknown"),
    ("Known symptomatic brain metastases.", "Symptomatic brain metastases", "not_met"),
    ("Known brain metastases.", "Asymptomatic brain metastases", "not_met"),
    ("History of myocardial infarction.", "History of myocardial infarction", "not_met"),
    # a disease's stage or course, beside the name or anywhere in the note
    ("62-year-old woman with breast cancer.", "Metastatic breast cancer (Stage IV)", "unknown"),
    ("Breast cancer diagnosed 2 years ago; CT now shows liver metastases.", "Metastatic breast cancer", "not_met"),
    ("Stage IV breast cancer.", "Metastatic breast cancer", "not_met"),
    ("Breast cancer, no evidence of metastases.", "Metastatic breast cancer", "unknown"),
    ("Newly diagnosed multiple myeloma.", "Smoldering myeloma", "unknown"),
    ("Diffuse large B-cell lymphoma.", "Resistant or refractory lymphoma", "unknown"),
    ("Lymphoma that relapsed after R-CHOP.", "Relapsed lymphoma", "not_met"),
    ("Invasive ductal carcinoma of the breast.", "Inflammatory breast cancer", "unknown"),
    ("Diffuse large B-cell lymphoma.", "Therapy-related lymphoma", "unknown"),
    ("HIV-associated lymphoma.", "HIV-associated lymphoma", "not_met"),
])
def test_a_qualified_exclusion_needs_the_same_state_in_the_patient(note: str, criterion: str, expected: str) -> None:
    """"Uncontrolled hypertension" excludes only a patient whose hypertension is said to be uncontrolled."""
    profile = profile_from_text(note)
    verdicts = [evaluate(c, profile) for c in extract_constraints(criterion, "exclusion") if c.type == "condition"]
    assert verdicts and verdicts[0].status == expected, verdicts


COPD_NOTE = ("64-year-old man with COPD and type 2 diabetes. Spirometry: FEV1 65% predicted, FEV1/FVC 0.62. "
             "Hemoglobin 8.7 g/dL, HbA1c 5.5%.")


@pytest.mark.parametrize(("criterion", "kind", "analyte", "expected"), [
    # the ratio is its own analyte: "< 0.7" is no bound on FEV1 (65%), which would read as "not met"
    ("Post-bronchodilator FEV1/FVC < 0.7", "inclusion", "fev1_fvc", "met"),
    ("FEV1/FVC ratio less than 70%", "inclusion", "fev1_fvc", "met"),
    ("FEV1/FVC ratio > 0.70", "exclusion", "fev1_fvc", "met"),
    ("FEV1 < 80% predicted and FEV1/FVC < 0.70", "inclusion", "fev1", "met"),
    # a share of hemoglobin (here the glycated one) is not the hemoglobin concentration
    ("Hemoglobin A1c >= 7.5%", "inclusion", "hba1c", "not_met"),
    ("Hemoglobin at least 9 g/dL", "inclusion", "hemoglobin", "not_met"),
])
def test_lab_criteria_are_compared_with_the_same_measure(criterion: str, kind: str, analyte: str,
                                                         expected: str) -> None:
    profile = profile_from_text(COPD_NOTE)
    verdicts = [evaluate(c, profile).status for c in extract_constraints(criterion, kind)
                if getattr(c, "analyte", None) == analyte]
    assert verdicts == [expected] or verdicts and set(verdicts) == {expected}


@pytest.mark.parametrize("criterion", ["Hemoglobin A greater than 5 percent", "Hemoglobin S > 50%",
                                       "hemoglobin F level of at least 10%", "Hb >= 7 percent"])
def test_a_hemoglobin_fraction_is_not_the_hemoglobin_concentration(criterion: str) -> None:
    profile = profile_from_text(COPD_NOTE)
    assert {evaluate(c, profile).status for c in extract_constraints(criterion)} <= {"unknown"}


def test_the_fev1_fvc_ratio_is_read_from_a_note_and_in_percent() -> None:
    ratio = profile_from_text("FEV1/FVC ratio of 58%").labs["fev1_fvc"]
    assert (ratio.normalized_value, ratio.normalized_unit) == (pytest.approx(0.58), "ratio")
    assert "fev1" not in profile_from_text("FEV1/FVC 0.58").labs


@pytest.mark.parametrize("criterion", ["Type 1 (insulin-dependent) diabetes mellitus",
                                       "Type I (insulin dependent) diabetes", "Type 1 diabetes mellitus"])
def test_type_1_diabetes_written_with_a_gloss_is_not_met_by_type_2(criterion: str) -> None:
    profile = profile_from_text(COPD_NOTE)
    conditions = [c for c in extract_constraints(criterion, "exclusion") if c.type in {"condition", "therapy"}]
    assert [c.concept for c in conditions] == ["type 1 diabetes"]
    # a type 2 patient has not type 1: the exclusion is met (it was read as "diabetes mellitus" and not met)
    assert evaluate(conditions[0], profile).status == "met"
    type_1 = profile_from_text("Has type 1 (juvenile) diabetes since age 9.")
    assert [m.concept for m in type_1.diagnoses] == ["type 1 diabetes"]
    assert evaluate(conditions[0], type_1).status == "not_met"


@pytest.mark.parametrize(("note", "criterion", "expected"), [
    # a TIA is not a stroke, and one seizure is not epilepsy; epilepsy does mean seizures
    ("62-year-old man with an acute stroke.", "Transient ischemic attack (TIA) as the qualifying event", "unknown"),
    ("44 year old woman with a seizure after an intracranial bleed.", "History of seizure disorder", "unknown"),
    ("30-year-old woman with epilepsy since childhood.", "History of seizures", "not_met"),
    # "Type 1 or type 2 diabetes" names both types
    ("Has type 1 (juvenile) diabetes since age 9.", "Type 1 or type 2 diabetes", "not_met"),
    # suicidal thoughts, behaviour and risk are one thing to ask about
    ("Has suicidal ideation.", "Current suicidal ideation", "not_met"),
    ("Denies suicidal thoughts.", "Current suicidal ideation", "met"),
])
def test_names_the_lexicon_keeps_apart(note: str, criterion: str, expected: str) -> None:
    profile = profile_from_text(note)
    verdicts = [evaluate(c, profile).status for c in extract_constraints(criterion, "exclusion")
                if c.type == "condition"]
    assert verdicts == [expected]


@pytest.mark.parametrize(("note", "pregnant"), [
    ("34 year old woman. Past Medical History: History of gestational diabetes mellitus, Hypertension with "
     "pregnancy, c-section x 2", None),
    ("A 2-day-old girl. She was born at 38 weeks gestation, after an uncomplicated pregnancy.", None),
    ("The baby's mother had a normal pregnancy with no complication.", None),
    ("19 yo Hispanic female G1P1 at 32+ 6 weeks of gestational age presented to the OB clinic.", True),
    ("25-year-old G1 P1 pregnant woman who is 24W3D gestational old.", True),
    ("Beta hcg: negative for pregnancy.", False),
    ("Her pregnancy test is negative and she is not breastfeeding.", False),
])
def test_the_patient_is_pregnant_only_when_the_note_says_so_now(note: str, pregnant: bool | None) -> None:
    assert profile_from_text(note).pregnant is pregnant


def test_a_negated_narrower_kind_does_not_rule_out_the_condition() -> None:
    profile = profile_from_text("Lipase is high. Cross-sectional imaging was negative for obstructive pancreatitis.")
    assert not profile.absent_conditions
    plain = profile_from_text("Imaging was negative for pancreatitis. She has never received chemotherapy.")
    assert [m.concept for m in plain.absent_conditions] == ["pancreatitis"]
    assert [m.concept for m in plain.absent_therapies] == ["chemotherapy"]


@pytest.mark.parametrize(("note", "own", "relatives"), [
    ("Family history is notable for a hip fracture in her mother. She has asthma.", {"asthma"}, {"hip fracture"}),
    ("Her mother had breast cancer and she has diabetes.", {"diabetes"}, {"breast cancer"}),
    ("Hypertension; his father died of myocardial infarction.", {"hypertension"}, {"myocardial infarction"}),
    ("Family history: diabetes, hypertension and stroke. She smokes. She has COPD.", {"copd"},
     {"diabetes", "hypertension", "stroke"}),
    ("Diabetes in his father and two brothers. He has asthma.", {"asthma"}, {"diabetes"}),
    ("A 30-year-old mother with postpartum depression.", {"depression"}, set()),
    ("Her mother had type I diabetes. She has asthma.", {"asthma"}, {"type 1 diabetes", "diabetes"}),
    ("My mother had breast cancer and I have diabetes.", {"diabetes"}, {"breast cancer"}),
    ("My father has COPD. I have asthma.", {"asthma"}, {"copd"}),
])
def test_a_relatives_condition_is_not_the_patients(note: str, own: set[str], relatives: set[str]) -> None:
    profile = profile_from_text(note)
    present = {m.concept for m in profile.diagnoses}
    assert own <= present
    assert not present & relatives
    assert not {m.concept for m in profile.absent_conditions} & relatives


@pytest.mark.parametrize(("note", "condition"), [
    ("No significant past medical history other than hypertension.", "hypertension"),
    ("Past medical history is unremarkable except for asthma.", "asthma"),
    ("She has no medical problems apart from type 2 diabetes.", "type 2 diabetes"),
    ("Healthy with the exception of asthma.", "asthma"),
])
def test_an_exception_in_the_patients_account_is_a_condition_they_have(note: str, condition: str) -> None:
    profile = profile_from_text(note)
    assert condition in {m.concept for m in profile.diagnoses}
    assert condition not in {m.concept for m in profile.absent_conditions}


def test_an_exception_in_a_criterion_still_exempts_it() -> None:
    constraints = extract_constraints("No other malignancy except adequately treated basal cell carcinoma", "exclusion")
    assert [c.text for c in constraints] == ["malignancy"]
    assert not extract_constraints("Breast cancer in her mother or sister", "inclusion")


@pytest.mark.parametrize("note", [
    "Diagnosed with metastatic breast cancer last year, HER2 negative.",
    "Breast cancer, ER positive, PR negative, treated with letrozole.",
])
def test_a_biomarker_result_after_the_name_does_not_negate_the_disease(note: str) -> None:
    profile = profile_from_text(note)
    assert "breast cancer" in {m.concept for m in profile.diagnoses}
    assert "breast cancer" not in {m.concept for m in profile.absent_conditions}


@pytest.mark.parametrize("note", ["HIV negative.", "HIV test was negative.", "Hepatitis C antibody: negative."])
def test_a_negative_result_right_after_the_name_rules_it_out(note: str) -> None:
    profile = profile_from_text(note)
    assert not profile.diagnoses and profile.absent_conditions


@pytest.mark.parametrize(("note", "present", "absent"), [
    ("She has breast cancer, brain metastases were ruled out.", {"breast cancer"}, {"brain metastases"}),
    ("He has COPD and a stroke was ruled out.", {"copd"}, {"stroke"}),
    ("Stroke was ruled out.", set(), {"stroke"}),
])
def test_a_negation_after_the_name_binds_to_the_nearest_finding(note: str, present: set[str],
                                                                 absent: set[str]) -> None:
    profile = profile_from_text(note)
    assert {m.concept for m in profile.diagnoses} == present
    assert {m.concept for m in profile.absent_conditions} == absent


@pytest.mark.parametrize(("note", "taken", "not_taken"), [
    # drugs the hand-written lexicon does not list, known from the vocabulary mined from registry records
    ("Active DMARD treatment: methotrexate. Other RA medications: naproxen.", {"methotrexate", "naproxen"}, set()),
    ("Current medications: lisinopril, atorvastatin and aspirin.", {"lisinopril", "atorvastatin", "aspirin"}, set()),
    ("He is on adalimumab. He never received rituximab.", {"adalimumab"}, {"rituximab"}),
    # a relative's medication is not the patient's
    ("Her mother takes warfarin. She has asthma.", set(), set()),
])
def test_drug_names_from_the_mined_vocabulary_are_read_from_a_note(note: str, taken: set[str],
                                                                    not_taken: set[str]) -> None:
    profile = profile_from_text(note)
    assert {m.term for m in profile.therapies} == taken
    assert {m.term for m in profile.absent_therapies} == not_taken


@pytest.mark.parametrize("note", [
    "Metastatic NSCLC with an EGFR exon 19 deletion, progressed on osimertinib.",
    "EGFR T790M mutation detected.", "EGFR L858R positive adenocarcinoma.", "EGFR del19, stage 4.",
    "EGFR-mutant NSCLC stage 4.", "EGFR 19del.",
])
def test_an_egfr_mutation_is_no_filtration_rate(note: str) -> None:
    # the gene shares its name with the kidney's eGFR: a mutation's exon or codon number is no lab value
    assert "egfr" not in profile_from_text(note).labs


def test_the_kidneys_egfr_is_still_read() -> None:
    assert profile_from_text("eGFR 52. Creatinine 1.3 mg/dL.").labs["egfr"].value == 52
    assert profile_from_text("EGFR 45 mL/min/1.73m2 (CKD stage 3).").labs["egfr"].value == 45


@pytest.mark.parametrize(("note", "conditions"), [
    ("Adenocarcinoma of the lung, PD-L1 TPS 50%.", {"adenocarcinoma of the lung"}),  # PD-L1: no Parkinson's
    ("Progressed on a PD-1 inhibitor.", set()),
    ("He has PD and RA.", {"pd", "ra"}),
    ("RA-associated interstitial lung disease.", {"ra", "ra-associated interstitial lung disease"}),
])
def test_a_marker_named_with_a_disease_abbreviation_is_not_the_disease(note: str, conditions: set[str]) -> None:
    assert {m.term for m in profile_from_text(note).diagnoses} == conditions


@pytest.mark.parametrize(("note", "age"), [
    ("Woman, 58, with asthma.", 58), ("Male, 45 years, smoker.", 45), ("Patient is 72.", 72),
    ("He is 45 and has diabetes.", 45), ("45M with chest pain", 45), ("A 30-year-old mother with depression.", 30),
    ("A 6-month-old infant with eczema.", 0.5), ("A 3-day-old neonate with jaundice.", 3 / 365),
    ("A 15-week-old infant with hypotonia.", 15 / 52),
    # a relative's age is not the patient's ...
    ("Her 80-year-old mother has dementia. She is 50.", 50), ("Her 2 year old son has asthma; she is 31 years old.", 31),
    ("Her 80-year-old mother has dementia.", None),
    # ... unless a caregiver writes about the one they look for a trial for
    ("My 6-month-old baby has eczema.", 0.5), ("I am 52; my 80-year-old mother has dementia.", 52),
    # no age
    ("She is 5 feet tall.", None), ("He is 80 kg.", None), ("The patient is 3 days post-op.", None),
])
def test_the_patients_age_in_the_ways_notes_write_it(note: str, age: float | None) -> None:
    found = profile_from_text(note).age_years
    assert found == pytest.approx(age) if age is not None else found is None


@pytest.mark.parametrize(("note", "sex"), [
    ("A 50-year-old man whose mother and sister had breast cancer.", "male"),
    ("A 45-year-old man. His mother had breast cancer; she died at 60.", "male"),
    ("The patient, a 40-year-old woman, says her father and brother had MI; he died.", "female"),
    ("Male, 60. Wife says she noticed confusion.", "male"),
    ("A 15-week-old infant. He was born on the 39th week to a 39-year-old woman.", "male"),
    ("A 30-year-old mother of two with asthma.", "female"),
    ("She has asthma.", "female"),
    ("I am 52; my mother has dementia.", None),
])
def test_the_patients_sex_from_the_words_that_name_it_before_pronouns(note: str, sex: str | None) -> None:
    assert profile_from_text(note).sex == sex


@pytest.mark.parametrize(("note", "criterion", "kind", "status"), [
    ("T1DM since age 8.", "Type 2 diabetes mellitus", "inclusion", "not_met"),
    ("Extensive-stage small cell lung cancer.", "Non-small cell lung cancer", "inclusion", "not_met"),
    ("NSCLC, adenocarcinoma.", "Small cell lung cancer", "exclusion", "met"),
    ("Diabetes for ten years.", "Type 1 diabetes", "exclusion", "unknown"),  # which kind is not said
])
def test_a_patient_with_one_kind_of_a_disease_has_not_the_other(note: str, criterion: str, kind: str,
                                                               status: str) -> None:
    profile = profile_from_text(note)
    (condition,) = [c for c in extract_constraints(criterion, kind) if c.type == "condition"]
    assert evaluate(condition, profile).status == status


def test_a_caregivers_words_about_the_patient() -> None:
    profile = profile_from_text("My husband is 67 and has Parkinson's for 5 years. He takes levodopa.")
    assert profile.age_years == 67 and profile.sex == "male"
    assert [m.concept for m in profile.diagnoses] == ["parkinson's disease"]
    assert profile_from_text("Her husband is 70. She is 66.").age_years == 66


@pytest.mark.parametrize(("note", "never_had"), [
    ("She is chemotherapy-naive.", "chemotherapy"), ("PD-1 inhibitor naive.", "pd-1 inhibitor"),
    ("Imatinib naïve CML.", "imatinib"), ("Received chemotherapy; naive to immunotherapy.", "immunotherapy"),
])
def test_naive_to_a_treatment_is_never_having_had_it(note: str, never_had: str) -> None:
    profile = profile_from_text(note)
    assert never_had in {m.term for m in profile.absent_therapies}
    assert never_had not in {m.term for m in profile.therapies}


@pytest.mark.parametrize("criterion", ["Chemotherapy-naive patients", "Patients must be chemotherapy naive"])
def test_a_naive_inclusion_forbids_the_treatment(criterion: str) -> None:
    # it required chemotherapy: a chemotherapy-naive patient failed the very trial written for them
    (therapy,) = [c for c in extract_constraints(criterion, "inclusion") if c.type == "therapy"]
    assert therapy.polarity == "forbid"
    assert evaluate(therapy, profile_from_text("No prior chemotherapy.")).status == "met"


@pytest.mark.parametrize(("note", "present", "absent"), [
    ("Negative for hepatitis B and C.", set(), {"hepatitis b", "hepatitis c"}),
    ("Hepatitis B and C negative.", set(), {"hepatitis b", "hepatitis c"}),
    ("She has hepatitis B and C.", {"hepatitis b", "hepatitis c"}, set()),
])
def test_hepatitis_b_and_c_in_a_note(note: str, present: set[str], absent: set[str]) -> None:
    profile = profile_from_text(note)
    assert {m.concept for m in profile.diagnoses} == present
    assert {m.concept for m in profile.absent_conditions} == absent


def test_a_man_is_neither_pregnant_nor_breastfeeding() -> None:
    from trialfinder.eligibility import evaluate, extract_constraints
    from trialfinder.match import as_patient

    (pregnancy,) = [c for c in extract_constraints("Pregnant or breastfeeding", "exclusion") if c.type == "pregnancy"]
    assert evaluate(pregnancy, as_patient("A 45-year-old man with asthma.").profile).status == "met"
    assert evaluate(pregnancy, as_patient("A 45-year-old woman with asthma.").profile).status == "unknown"


@pytest.mark.parametrize(("note", "concepts"), [
    ("A 61-year-old woman with ovarian cancer and NSCLC", {"ovarian cancer", "non-small cell lung cancer"}),
    ("HCC on a background of cirrhosis", {"hepatocellular carcinoma", "cirrhosis"}),
    ("Metastatic pancreatic ductal adenocarcinoma", {"pancreatic cancer"}),
    ("Primary open angle glaucoma, treated with drops", {"glaucoma"}),
    ("ALS diagnosed in 2021", {"amyotrophic lateral sclerosis"}),
    # abbreviations that are ordinary words in lower case
    ("She wrote it on a pad; als in German means 'as'", set()),
])
def test_common_diseases_are_read_from_a_note(note: str, concepts: set[str]) -> None:
    assert {m.concept for m in profile_from_text(note).diagnoses} == concepts


def test_a_named_cancer_is_a_cancer_and_meets_its_own_name() -> None:
    patient = profile_from_text("A 61-year-old woman with ovarian cancer.")
    assert verdicts("Histologically confirmed ovarian carcinoma", "inclusion", patient) == ["met"]
    assert verdicts("History of malignancy", "exclusion", patient) == ["not_met"]


def test_the_neutrophil_absolute_value_is_the_anc() -> None:
    (lab,) = [c for c in extract_constraints("Neutrophil absolute value >= 1.5 x 10^9/L") if c.type == "lab"]
    assert (lab.analyte, lab.normalized_value) == ("anc", 1500)


@pytest.mark.parametrize(("note", "criterion", "expected"), [
    # one kind of surgery is not another: LASIK is no cataract surgery, but it is surgery
    ("Has prior LASIK surgery.", "History of cataract surgery", "unknown"),
    ("Has prior LASIK surgery.", "Prior surgery of any kind", "not_met"),
    ("She underwent cataract surgery in 2019.", "History of cataract surgery", "not_met"),
    # "no cataract surgery" rules out that kind only; "no surgery" rules out every kind
    ("No prior cataract surgery.", "History of cataract surgery", "met"),
    ("No prior cataract surgery.", "Prior surgery of any kind", "unknown"),
    ("Denies prior surgery.", "History of cataract surgery", "met"),
    # a short or other spelling of the same kind
    ("Relapsed after autologous stem cell transplant.", "Previous auto transplant", "not_met"),
    ("Relapsed after an allogeneic transplant.", "Prior allogenic transplantation", "not_met"),
    # the patient's sex says which kind theirs is
    ("58-year-old woman with breast cancer.", "Male breast cancer", "met"),
    ("62-year-old man with breast cancer.", "Male breast cancer", "not_met"),
    # raised pressure in the eye or the portal vein is no high blood pressure
    ("Has ocular hypertension.", "History of hypertension", "unknown"),
    ("Known hypertension on two drugs.", "Portal hypertension", "unknown"),
])
def test_a_kind_of_a_thing_answers_only_for_that_kind(note: str, criterion: str, expected: str) -> None:
    profile = profile_from_text(note)
    verdicts = [evaluate(c, profile).status for c in extract_constraints(criterion, "exclusion")
                if c.type in {"condition", "therapy"}]
    assert verdicts == [expected]


def test_a_notes_name_keeps_its_kind_and_not_the_words_around_it() -> None:
    profile = profile_from_text("Denies hypertension, diabetes. No prior cataract surgery. Had LASIK surgery. "
                                "PMH: hypothyroidism - schizophrenia - COPD.")
    assert {m.term for m in profile.absent_conditions} == {"hypertension", "diabetes"}
    assert {m.term for m in profile.absent_therapies} == {"cataract surgery"}
    assert {m.term for m in profile.therapies} == {"lasik surgery"}
    assert {m.term for m in profile.diagnoses} >= {"copd"}


@pytest.mark.parametrize(("term", "concept", "kind", "words"), [
    ("cataract surgery", "surgery", "therapy", {"cataract"}),
    ("metastatic breast cancer", "breast cancer", "condition", set()),  # a stage, not a kind
    ("hr+ breast cancer", "breast cancer", "condition", set()),  # the tumour markers judge this
    ("refused surgery", "surgery", "therapy", set()),  # what was done, not a kind
    ("nonmelanoma skin cancer", "cancer", "condition", {"nonmelanoma", "skin"}),
    ("congestive heart failure", "heart failure", "condition", set()),  # a form the lexicon knows
])
def test_kind_words(term: str, concept: str, kind: str, words: set[str]) -> None:
    from trialfinder.eligibility.constraints import kind_words

    assert kind_words(term, concept, kind) == words


def test_bypass_surgery_and_coronary_stents_are_read() -> None:
    profile = profile_from_text("History of myocardial infarction in 2019, s/p CABG. Prior PCI with stent.")
    assert {m.concept for m in profile.therapies} >= {"coronary artery bypass graft", "percutaneous coronary intervention"}
    [bypass] = [c for c in extract_constraints("Prior coronary artery bypass graft surgery", "exclusion")
                if c.type == "therapy"]
    assert evaluate(bypass, profile).status == "not_met"


def test_a_checklists_answers_are_read() -> None:
    """ "Dementia: no" is no dementia, in a note pasted from a form; "AML: no remission" is still AML."""
    profile = profile_from_text("Dementia: no. Suicidal ideation: yes. Prior cataract surgery: no. "
                                "Hypertension - denied. Smoker: no. Refractory AML: no remission after induction.")
    assert {m.term for m in profile.absent_conditions} == {"dementia", "hypertension"}
    assert {m.concept for m in profile.diagnoses} == {"suicidality", "leukemia"}
    assert {m.term for m in profile.absent_therapies} == {"cataract surgery"}
    assert profile.smoking == "not_current"
    [hiv] = [c for c in extract_constraints("Are HIV-negative.", "inclusion") if c.type == "condition"]
    assert hiv.polarity == "forbid"
