"""match_patient on a small real store and index: negation, exclusions, age/sex, `among`, and the JSON API/pages."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trialfinder.match import as_patient, assess, match_patient, patient_from_fields
from trialfinder.match.assess import parsed_criteria
from trialfinder.model import study_from_dict

LUNG = "Non-small Cell Lung Cancer"


def record(nct_id: str, title: str, conditions: list[str], criteria: str, *, status: str = "RECRUITING",
           sex: str = "ALL", minimum_age: str | None = "18 Years", maximum_age: str | None = None,
           summary: str | None = None) -> dict:
    eligibility = {"eligibilityCriteria": criteria, "sex": sex}
    if minimum_age:
        eligibility["minimumAge"] = minimum_age
    if maximum_age:
        eligibility["maximumAge"] = maximum_age
    section = {
        "identificationModule": {"nctId": nct_id, "briefTitle": title},
        "statusModule": {"overallStatus": status},
        "conditionsModule": {"conditions": conditions},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"]},
        "eligibilityModule": eligibility,
    }
    if summary:
        section["descriptionModule"] = {"briefSummary": summary}
    return {"protocolSection": section}


RECORDS = [
    record("NCT90000001", "Drug A for non-small cell lung cancer", [LUNG],
           "Inclusion Criteria:\n\n* Histologically confirmed non-small cell lung cancer\n* ECOG 0-1\n\n"
           "Exclusion Criteria:\n\n* Pregnancy\n"),
    record("NCT90000002", "Drug B for non-small cell lung cancer", [LUNG],
           "Inclusion Criteria:\n\n* Histologically confirmed non-small cell lung cancer\n* ECOG 0-1\n\n"
           "Exclusion Criteria:\n\n* History of hypertension\n"),
    record("NCT90000003", "Metformin in type 2 diabetes", ["Type 2 Diabetes"],
           "Inclusion Criteria:\n\n* Type 2 diabetes mellitus\n* HbA1c between 7% and 10%\n\n"
           "Exclusion Criteria:\n\n* Type 1 diabetes\n"),
    record("NCT90000004", "Lung cancer screening in older adults", ["Lung Cancer"],
           "Inclusion Criteria:\n\n* Current or former smokers\n\nExclusion Criteria:\n\n* Prior pneumonectomy\n",
           minimum_age="50 Years", maximum_age="65 Years", status="COMPLETED"),
    record("NCT90000005", "Drug C for women with lung cancer", [LUNG],
           "Inclusion Criteria:\n\n* Non-small cell lung cancer\n\nExclusion Criteria:\n\n* Diabetes\n", sex="FEMALE"),
    record("NCT90000006", "Diet in diabetes without complications", ["Diabetes"],
           "Inclusion Criteria:\n\n* Adults\n\nExclusion Criteria:\n\n* History of diabetes complications\n"),
    # the same trial twice: one says in its criteria whom it is for, the other only in its summary, more often
    record("NCT90000007", "Inhaled therapy for chronic cough", ["Chronic Cough"],
           "Inclusion Criteria:\n\n* Cough for more than 8 weeks\n* Lifelong nonsmoker\n* Normal chest radiograph\n"),
    record("NCT90000008", "Inhaled therapy for chronic cough (extension)", ["Chronic Cough"],
           "Inclusion Criteria:\n\n* Completed the first part\n",
           summary="Lifelong nonsmoker adults with chronic cough and a normal chest radiograph took part in the "
                   "first part; this one follows those lifelong nonsmoker adults with cough whose chest radiograph "
                   "stayed normal."),
    record("NCT90000009", "Drug D for HER2-positive breast cancer", ["Breast Cancer"],
           "Inclusion Criteria:\n\n* HER2-positive metastatic breast cancer\n\n"
           "Exclusion Criteria:\n\n* Known BRCA1 or BRCA2 mutation\n", sex="FEMALE"),
]


def open_services(directory, records: list[dict]):
    """Store + index over the records (SQLite file in directory, real tantivy index)."""
    from trialfinder.config import load_settings
    from trialfinder.ingest import ingest_paths
    from trialfinder.search import SearchEngine
    from trialfinder.server import Services
    from trialfinder.store import Store

    source = directory / "records.json"
    source.write_text(json.dumps(records))
    settings = load_settings(data_dir=directory)
    store = Store.open(settings.database_url)
    ingest_paths(store, [source])
    return Services(settings=settings, store=store, engine=SearchEngine.open(settings, store))


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """Store + index over the records above."""
    opened = open_services(tmp_path_factory.mktemp("match-data"), RECORDS)
    yield opened
    opened.store.close()


def by_id(matches):
    return {m.nct_id: m for m in matches}


def test_no_history_of_diabetes_is_not_diabetic(services):
    patient = as_patient("58-year-old man with non-small cell lung cancer. No history of diabetes. ECOG 1.")
    assert not [m for m in patient.profile.diagnoses if "diabetes" in (m.concept or m.term)]
    assert [m for m in patient.profile.absent_conditions if "diabetes" in (m.concept or m.term)]
    study = study_from_dict(RECORDS[2])  # inclusion: type 2 diabetes
    inclusion = next(v for v in assess(study, patient) if v.criterion.startswith("Type 2 diabetes"))
    assert inclusion.status == "not_met"
    results = by_id(match_patient(services.engine, services.store, patient, limit=None,
                                  among=["NCT90000003", "NCT90000006"]))
    diabetes_exclusion = next(v for v in results["NCT90000006"].verdicts if "complications" in v.criterion)
    assert diabetes_exclusion.status != "not_met"
    assert not results["NCT90000006"].excluded


def test_exclusion_hit_marks_excluded_and_ranks_below(services):
    patient = as_patient("A 60-year-old man with non-small cell lung cancer and a history of hypertension. ECOG 1.")
    matches = match_patient(services.engine, services.store, patient, among=["NCT90000001", "NCT90000002"])
    assert [m.nct_id for m in matches] == ["NCT90000001", "NCT90000002"]
    excluded = matches[1]
    assert excluded.excluded and not matches[0].excluded
    hit = next(v for v in excluded.verdicts if v.status == "not_met")
    assert hit.kind == "exclusion" and "hypertension" in hit.criterion.lower()
    assert hit.evidence and "hypertension" in hit.evidence.lower()
    assert hit.span is not None
    assert matches[0].score > excluded.score
    assert excluded.not_met >= 1 and excluded.met >= 1


def test_exclusion_of_an_other_condition_is_only_soft():
    patient = as_patient("A 60-year-old man with non-small cell lung cancer and a history of hypertension.")
    plain = study_from_dict(record("NCT1", "t", [LUNG], "Exclusion Criteria:\n\n* Hypertension\n"))
    other = study_from_dict(record("NCT2", "t", [LUNG], "Exclusion Criteria:\n\n* Other serious illness such as "
                                                         "hypertension\n"))
    plain_hit = next(v for v in assess(plain, patient) if v.status == "not_met")
    other_hit = next(v for v in assess(other, patient) if v.status == "not_met")
    assert plain_hit.hard and not other_hit.hard


def test_the_trials_own_intervention_is_a_checkable_therapy():
    # "Kovexa" is in no lexicon and has no drug-like shape: only the record's own intervention list names it
    data = record("NCT3", "Kovexa in asthma", ["Asthma"], "Exclusion Criteria:\n\n* Prior exposure to Kovexa\n")
    data["protocolSection"]["armsInterventionsModule"] = {"interventions": [{"type": "DRUG", "name": "Kovexa"}]}
    study = study_from_dict(data)
    item = next(item for item in parsed_criteria(study) if "Kovexa" in item.criterion.text)
    therapy = next(c for c in item.constraints if c.type == "therapy")
    assert therapy.term == "kovexa" and therapy.polarity == "forbid"
    treated = patient_from_fields({"text": "adult with asthma", "therapies": ["Kovexa"]})
    verdict = next(v for v in assess(study, treated) if "Kovexa" in v.criterion)
    assert verdict.status == "not_met" and verdict.hard
    naive = patient_from_fields({"text": "adult with asthma", "no_therapies": ["kovexa"]})
    assert next(v for v in assess(study, naive) if "Kovexa" in v.criterion).status == "met"


def test_a_cohort_age_rule_does_not_exclude_on_its_own():
    criteria = ("Inclusion Criteria:\n\n* Cohort A (adults 18-65 years): diagnosis of asthma\n"
                "* Part 2 cohort: patients aged 12 to 17 with asthma\n")
    study = study_from_dict(record("NCT4", "Asthma cohorts", ["Asthma"], criteria, minimum_age="12 Years"))
    adult = as_patient("A 40-year-old woman with asthma.")
    verdicts = assess(study, adult)
    teen_cohort = next(v for v in verdicts if v.criterion.startswith("Part 2"))
    assert teen_cohort.status != "not_met" and not teen_cohort.hard
    assert not any(v.hard for v in verdicts)
    plain = study_from_dict(record("NCT5", "Asthma in teens", ["Asthma"],
                                   "Inclusion Criteria:\n\n* Patients aged 12 to 17 with asthma\n"))
    assert any(v.status == "not_met" and v.hard for v in assess(plain, adult))


def test_age_and_sex_are_hard_constraints(services):
    male = as_patient("A 70-year-old man with lung cancer, non-small cell lung cancer.")
    results = by_id(match_patient(services.engine, services.store, male, limit=None,
                                  among=["NCT90000001", "NCT90000004", "NCT90000005"]))
    assert results["NCT90000004"].excluded  # 50-65 years
    age = next(v for v in results["NCT90000004"].verdicts if v.source == "structured")
    assert age.status == "not_met" and age.hard and "70" in age.reason
    assert results["NCT90000005"].excluded  # women only
    assert not results["NCT90000001"].excluded
    female = as_patient({"text": "non-small cell lung cancer", "age": 55, "sex": "female"})
    results = by_id(match_patient(services.engine, services.store, female, limit=None,
                                  among=["NCT90000004", "NCT90000005"]))
    assert not results["NCT90000004"].excluded and not results["NCT90000005"].excluded


def test_retrieval_filters_out_wrong_age_and_sex(services):
    patient = as_patient("A 70-year-old man with non-small cell lung cancer.")
    ids = [m.nct_id for m in match_patient(services.engine, services.store, patient)]
    assert "NCT90000001" in ids and "NCT90000002" in ids
    assert "NCT90000004" not in ids and "NCT90000005" not in ids  # 50-65 only; women only
    assert "NCT90000003" not in ids  # nothing in common with the note


def test_among_ranks_exactly_the_given_ids(services):
    wanted = ["NCT90000004", "NCT90000003", "NCT90000001", "NCT99999999"]  # completed, off-topic, fits, unknown
    patient = as_patient("A 55-year-old woman with non-small cell lung cancer.")
    matches = match_patient(services.engine, services.store, patient, among=wanted, limit=None)
    assert sorted(m.nct_id for m in matches) == sorted(wanted[:3])
    assert matches[0].nct_id == "NCT90000001"
    assert matches[-1].nct_id == "NCT90000003"
    recruiting = match_patient(services.engine, services.store, patient, among=wanted, statuses=["RECRUITING"])
    assert [m.nct_id for m in recruiting] == ["NCT90000001", "NCT90000003"]


def test_structured_fields_override_text():
    patient = patient_from_fields({"text": "woman, 40 years old", "age": 41, "sex": "female", "ecog": 1,
                                   "conditions": ["type 2 diabetes"], "labs": {"HbA1c": "8.1 %"}})
    study = study_from_dict(RECORDS[2])
    verdicts = {v.criterion: v for v in assess(study, patient)}
    assert verdicts["Type 2 diabetes mellitus"].status == "met"
    assert verdicts["HbA1c between 7% and 10%"].status == "met"
    assert patient.profile.age_years == 41
    with pytest.raises(ValueError):
        patient_from_fields({"age": "old"})
    with pytest.raises(ValueError):
        patient_from_fields({"colour": "blue"})


def test_a_structured_condition_of_one_kind_answers_for_its_kind():
    """A typed "pigmentary glaucoma" is some glaucoma, but not the angle-closure kind a criterion asks for."""
    from trialfinder.eligibility import evaluate, extract_constraints

    profile = patient_from_fields({"conditions": ["pigmentary glaucoma"]}).profile
    [glaucoma] = extract_constraints("Diagnosis of glaucoma", "inclusion")
    [closure] = extract_constraints("Angle-closure glaucoma", "inclusion")
    assert evaluate(glaucoma, profile).status == "met"
    assert evaluate(closure, profile).status == "unknown"


# JSON API and pages ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(services) -> TestClient:
    from trialfinder.api import match as api_match
    from trialfinder.api.errors import install_error_handlers

    host = FastAPI()
    host.state.services = services
    api_app = FastAPI()
    api_app.state.host_app = host
    install_error_handlers(api_app)
    api_app.include_router(api_match.router)
    host.mount("/api", api_app)
    return TestClient(host)


def test_api_match(api):
    response = api.post("/api/match", json={"text": "A 60-year-old man with non-small cell lung cancer and "
                                                    "hypertension. ECOG 1.", "limit": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["patient"]["age"] == 60 and body["patient"]["sex"] == "male"
    ids = [m["nct_id"] for m in body["matches"]]
    assert ids[0] == "NCT90000001" and "NCT90000002" in ids
    second = next(m for m in body["matches"] if m["nct_id"] == "NCT90000002")
    assert second["excluded"] and any(v["status"] == "not_met" and v["kind"] == "exclusion" for v in second["verdicts"])
    among = api.post("/api/match", json={"age": 30, "sex": "female", "among": ["NCT90000004", "nct90000005"]})
    assert among.status_code == 200 and {m["nct_id"] for m in among.json()["matches"]} == {"NCT90000004", "NCT90000005"}


def test_api_match_takes_and_reports_biomarkers(api):
    body = {"text": "A 52-year-old woman with metastatic breast cancer.", "biomarkers": {"HER2": "negative"},
            "among": ["NCT90000009"]}
    response = api.post("/api/match", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["patient"]["biomarkers"] == {"HER2": "negative"}
    trial = response.json()["matches"][0]
    assert trial["excluded"]
    assert any(v["status"] == "not_met" and "HER2" in v["criterion"] and v["hard"] for v in trial["verdicts"])
    bad = api.post("/api/match", json={**body, "biomarkers": {"HER2": "perhaps"}})
    assert bad.status_code == 400 and "HER2" in bad.text


def test_api_match_takes_and_reports_smoking(api):
    read = api.post("/api/match", json={"text": "A 50-year-old woman with chronic cough, 1 ppd smoker."})
    assert read.status_code == 200 and read.json()["patient"]["smoking"] == "current"
    given = api.post("/api/match", json={"text": "chronic cough", "smoking": "current", "among": ["NCT90000007"]})
    trial = given.json()["matches"][0]
    assert trial["excluded"] and any("nonsmoker" in v["criterion"] and v["hard"] for v in trial["verdicts"])
    assert api.post("/api/match", json={"text": "cough", "smoking": "sometimes"}).status_code in (400, 422)


def test_api_match_rejects_bad_input(api):
    assert api.post("/api/match", json={}).status_code == 400
    assert api.post("/api/match", json={"text": "lung cancer", "near": "Nowhereville Xyzzy"}).status_code == 400
    assert api.post("/api/match", json={"text": "x", "among": ["not-an-id"]}).status_code == 400
    assert api.post("/api/match", json={"text": "x", "ecog": 9}).status_code in (400, 422)


def test_structured_conditions_lead_retrieval(services):
    # the note never names the disease: the structured condition alone must bring the diabetes trial first
    patient = patient_from_fields({"text": "Feels tired and thirsty most days.", "conditions": ["type 2 diabetes"],
                                   "age": 55})
    matches = match_patient(services.engine, services.store, patient)
    assert matches and matches[0].nct_id == "NCT90000003"


def test_the_notes_words_are_also_searched_in_the_criteria_alone(services):
    from trialfinder.match.service import DEFAULT_RELEVANCE, retrieval_requests

    note = "Chronic cough for 4 months in a lifelong nonsmoker; the chest radiograph is normal."
    requests = retrieval_requests(services.engine, as_patient(note), limit=10)
    scoped = [(weight, request) for weight, request in requests if "EligibilityCriteria" in request.query]
    assert [weight for weight, _ in scoped] == [DEFAULT_RELEVANCE.criteria_words]
    # only the trial whose criteria speak of such patients, not the one that names them in its summary
    hits = [hit.nct_id for hit in services.engine.search(scoped[0][1]).hits]
    assert hits == ["NCT90000007"]
    matches = by_id(match_patient(services.engine, services.store, note, among=["NCT90000007", "NCT90000008"]))
    assert matches["NCT90000007"].relevance > matches["NCT90000008"].relevance


def test_record_age_or_sex_rules_out_harder_than_a_rule_on_the_text():
    from trialfinder.match.ranking import RankWeights, eligibility_score
    from trialfinder.match.types import CriterionVerdict

    by_record = CriterionVerdict("Sex: female only", "inclusion", "not_met", "patient is male", source="structured",
                                 hard=True)
    by_rule = CriterionVerdict("No diabetes", "exclusion", "not_met", "patient has diabetes", hard=True)
    soft = CriterionVerdict("No asthma", "exclusion", "not_met", "patient text mentions 'asthma'", source="terms")
    weights = RankWeights()
    record_score, record_out = eligibility_score([by_record], weights)
    rule_score, rule_out = eligibility_score([by_rule], weights)
    assert record_out and rule_out and record_score < rule_score < 0
    both, _ = eligibility_score([by_record, by_rule], weights)
    assert both == pytest.approx(record_score + rule_score)
    soft_score, soft_out = eligibility_score([soft, soft, soft], weights)
    assert not soft_out and soft_score == pytest.approx(-2 * weights.soft_exclusion)  # at most two count


def test_open_questions_cost_a_little_each_up_to_a_cap():
    from trialfinder.match.ranking import MAX_UNKNOWN_COUNTED, RankWeights, eligibility_score
    from trialfinder.match.types import CriterionVerdict

    open_question = CriterionVerdict("No prior stroke", "exclusion", "unknown", "nothing addresses this")
    answered = CriterionVerdict("No prior stroke", "exclusion", "met", "patient explicitly has no stroke")
    unknown_age = CriterionVerdict("Age: 18 years and older", "inclusion", "unknown", "patient age not known",
                                   source="structured")
    weights = RankWeights()
    few, _ = eligibility_score([open_question, answered, answered], weights)
    many, _ = eligibility_score([open_question, open_question, open_question], weights)
    assert many == pytest.approx(few - 2 * weights.unknown) and many < few < 0
    assert eligibility_score([unknown_age], weights)[0] == 0  # the record's own fields are not open questions
    capped, _ = eligibility_score([open_question] * (MAX_UNKNOWN_COUNTED + 10), weights)
    assert capped == pytest.approx(-MAX_UNKNOWN_COUNTED * weights.unknown)


@pytest.fixture(scope="module")
def site(services) -> TestClient:
    from trialfinder.web import match as web_match
    from trialfinder.web.errors import install_error_pages

    app = FastAPI()
    app.state.services = services
    app.include_router(web_match.router)
    install_error_pages(app)
    return TestClient(app)


def test_match_page(site):
    empty = site.get("/match")
    assert empty.status_code == 200 and "<textarea" in empty.text
    page = site.post("/match", data={"text": "A 60-year-old man with non-small cell lung cancer and hypertension.",
                                     "status": "all"})
    assert page.status_code == 200
    assert "Drug A for non-small cell lung cancer" in page.text
    assert "Likely excluded" in page.text  # drug B excludes hypertension
    fragment = site.post("/match", data={"text": "non-small cell lung cancer"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text


def test_eligibility_panel(site):
    blank = site.get("/study/NCT90000003/eligibility")
    assert blank.status_code == 200
    assert 'name="age"' in blank.text and 'name="lab.hba1c"' in blank.text and 'name="condition.type 2 diabetes"' in blank.text
    answered = site.get("/study/NCT90000003/eligibility",
                        params={"age": "50", "condition.type 2 diabetes": "yes", "lab.hba1c": "12 %"})
    assert answered.status_code == 200
    assert "Does not fit" in answered.text and "Fits" in answered.text
    assert site.get("/study/nct90000003/eligibility", follow_redirects=False).status_code == 301
    assert site.get("/study/NCT99999999/eligibility").status_code == 404
    tumour = site.get("/study/NCT90000009/eligibility")
    assert 'name="biomarker.HER2"' in tumour.text and "HER2-positive?" in tumour.text
    answered = site.get("/study/NCT90000009/eligibility", params={"biomarker.HER2": "no", "age": "50"})
    assert answered.status_code == 200 and "Does not fit" in answered.text
    cough = site.get("/study/NCT90000007/eligibility")  # "Lifelong nonsmoker"
    assert 'name="smoking"' in cough.text and 'value="former"' in cough.text
    assert "Does not fit" in site.get("/study/NCT90000007/eligibility", params={"smoking": "current"}).text
    assert "Does not fit" not in site.get("/study/NCT90000007/eligibility", params={"smoking": "never"}).text


def test_one_missing_alternative_does_not_fail_an_inclusion():
    criteria = ("Inclusion Criteria:\n\n* Men & women with VF, VT with syncope, or VT without syncope, but with "
                "ejection fraction less than or equal to .40, chest pain, or near syncope.\n")
    study = study_from_dict(record("NCT6", "Arrhythmia", ["Ventricular Tachycardia"], criteria))
    patient = as_patient("65 yo man with ventricular tachycardia and syncope, but denies chest pain.")
    verdict = next(v for v in assess(study, patient) if v.criterion.startswith("Men & women"))
    assert not verdict.hard  # at most the soft hint of the shared phrase
    # without alternatives, the one requirement the patient lacks still fails the criterion
    single = study_from_dict(record("NCT7", "Chest pain", ["Chest Pain"], "Inclusion Criteria:\n\n* Chest pain\n"))
    single_verdict = next(v for v in assess(single, patient) if v.criterion == "Chest pain")
    assert single_verdict.status == "not_met" and single_verdict.hard


@pytest.mark.parametrize(("note", "status"), [
    ("Hypertension, controlled with lisinopril.", "unknown"),  # the criterion's state is not the patient's
    ("Poorly controlled hypertension.", "not_met"),
    ("No hypertension.", "met"),
])
def test_a_phrase_in_a_state_the_note_does_not_give_decides_nothing(note: str, status: str) -> None:
    study = study_from_dict(record("NCT90000099", "Drug X for asthma", ["Asthma"],
                                   "Inclusion Criteria:\n\n* Asthma\n\nExclusion Criteria:\n\n* Uncontrolled hypertension\n"))
    (verdict,) = [v for v in assess(study, as_patient(note)) if v.criterion == "Uncontrolled hypertension"]
    assert verdict.status == status
    if status == "unknown":
        # the open question is named, with what the note does say
        assert "uncontrolled" in verdict.reason and verdict.evidence == "Hypertension"


@pytest.mark.parametrize(("note", "status"), [
    ("Heart failure, NYHA class III, ejection fraction 30%.", "unknown"),  # was a hard exclusion
    ("NYHA class III heart failure.", "unknown"),
    ("NYHA class IV heart failure.", "not_met"),
    ("No heart failure.", "met"),
])
def test_a_functional_class_narrows_the_condition(note: str, status: str) -> None:
    study = study_from_dict(record("NCT90000098", "Device Y in atrial fibrillation", ["Atrial Fibrillation"],
                                   "Inclusion Criteria:\n\n* Atrial fibrillation\n\n"
                                   "Exclusion Criteria:\n\n* NYHA class IV heart failure\n"))
    (verdict,) = [v for v in assess(study, as_patient(note)) if v.criterion == "NYHA class IV heart failure"]
    assert verdict.status == status


@pytest.mark.parametrize(("criterion", "note", "status"), [
    # a name narrowed by what it needed, or by how grave it was, is not every case of it
    ("History of life-threatening asthma requiring intubation", "8-year-old boy with moderate asthma.", "unknown"),
    ("Asthma requiring hospitalization in the past year", "Mild asthma, uses an inhaler.", "unknown"),
    ("Asthma requiring hospitalization in the past year", "Asthma requiring hospitalization in March.", "not_met"),
    # a lone generic word is no reason: "episode" is in every depression note
    ("Failure of at least 2 antidepressants in the current episode", "Depression, current episode 4 months.",
     "unknown"),
])
def test_narrowed_names_and_generic_words_decide_nothing(criterion: str, note: str, status: str) -> None:
    study = study_from_dict(record("NCT90000097", "Drug Z", ["Asthma"],
                                   f"Inclusion Criteria:\n\n* Adults\n\nExclusion Criteria:\n\n* {criterion}\n"))
    (verdict,) = [v for v in assess(study, as_patient(note)) if v.criterion == criterion]
    assert verdict.status == status
