"""The optional language-model judge: strict parsing, failures ignored, only unknown criteria decided."""

from __future__ import annotations

import json

import httpx
import pytest

from trialfinder.match import as_patient, assess
from trialfinder.match.llm import LlmJudge, parse_answer
from trialfinder.model import study_from_dict

STUDY = study_from_dict({"protocolSection": {
    "identificationModule": {"nctId": "NCT90000010", "briefTitle": "Trial of X"},
    "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Able to take oral medication\n\n"
                                                 "Exclusion Criteria:\n\n* Known allergy to peanuts\n"},
}})
PATIENT = as_patient("A 40-year-old man who cannot swallow pills since his stroke.")


def fake_endpoint(answer: str | None, status: int = 200, seen: list | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/chat/completions")
        if seen is not None:
            seen.append(json.loads(request.content))
        if answer is None:
            raise httpx.ReadTimeout("too slow", request=request)
        return httpx.Response(status, json={"choices": [{"message": {"content": answer}}]})

    return httpx.MockTransport(handler)


def test_model_decides_unknown_criteria():
    before = assess(STUDY, PATIENT)
    assert [v.status for v in before] == ["unknown", "unknown"]
    seen: list = []
    answer = json.dumps({"verdicts": [{"index": 1, "status": "not_met", "reason": "cannot swallow",
                                       "evidence": "cannot swallow pills"}, {"index": 2, "status": "unknown",
                                                                              "reason": "not said"}]})
    judge = LlmJudge("http://127.0.0.1:9/v1", transport=fake_endpoint(answer, seen=seen))
    after = judge(PATIENT, STUDY, before)
    assert after[0].status == "not_met" and after[0].source == "llm" and after[0].evidence == "cannot swallow pills"
    assert not after[0].hard
    assert after[1].status == "unknown" and after[1].source != "llm"
    assert "cannot swallow pills" in seen[0]["messages"][1]["content"]


@pytest.mark.parametrize("transport", [
    fake_endpoint(None),  # timeout
    fake_endpoint("{}", status=500),
    fake_endpoint("Sure! The patient meets criterion 1."),
    fake_endpoint(json.dumps({"verdicts": [{"index": 7, "status": "met", "reason": ""}]})),
    fake_endpoint(json.dumps({"verdicts": [{"index": 1, "status": "probably", "reason": ""}]})),
])
def test_failures_leave_verdicts_unchanged(transport):
    before = assess(STUDY, PATIENT)
    assert LlmJudge("http://127.0.0.1:9/v1", transport=transport)(PATIENT, STUDY, before) == before


def test_parse_answer_accepts_fenced_json_and_from_env(monkeypatch):
    fenced = '```json\n{"verdicts": [{"index": 1, "status": "met", "reason": "ok", "evidence": ""}]}\n```'
    assert parse_answer(fenced, 1) == {1: ("met", "ok", "")}
    monkeypatch.delenv("TRIALFINDER_LLM_URL", raising=False)
    assert LlmJudge.from_env() is None
    monkeypatch.setenv("TRIALFINDER_LLM_URL", "http://127.0.0.1:9/v1")
    assert isinstance(LlmJudge.from_env(), LlmJudge)
