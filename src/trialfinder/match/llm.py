"""Optional second opinion from a language model on criteria the rules leave unknown.

Set TRIALFINDER_LLM_URL to an OpenAI-compatible base URL (…/v1); TRIALFINDER_LLM_MODEL and TRIALFINDER_LLM_KEY
are optional. The model is never required: any failure (timeout, HTTP error, an answer that is not the strict
JSON asked for) leaves the verdicts as the rules gave them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace

import httpx

from trialfinder.model import Study

from .patient import Patient
from .types import CriterionVerdict

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 20.0
MAX_CRITERIA = 25  # per study and request: keeps prompts small and answers parseable
MAX_REASON = 300
SYSTEM_PROMPT = (
    "You check clinical trial eligibility criteria against a patient description. For each numbered criterion "
    "answer whether the patient fits it: \"met\" (the criterion does not keep the patient out: an inclusion the "
    "patient satisfies, or an exclusion that does not apply), \"not_met\" (an inclusion the patient fails or an "
    "exclusion that applies), or \"unknown\" when the description does not say. Use only the description. "
    'Reply with JSON only: {"verdicts": [{"index": <number>, "status": "met"|"not_met"|"unknown", '
    '"reason": "<short reason>", "evidence": "<quote from the description or empty>"}]}'
)


class LlmJudge:
    """Asks an OpenAI-compatible /chat/completions endpoint about a study's unknown criteria."""

    def __init__(self, base_url: str, *, model: str = DEFAULT_MODEL, api_key: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None):
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                   transport=transport)

    @classmethod
    def from_env(cls) -> LlmJudge | None:
        """A judge when TRIALFINDER_LLM_URL is set, else None."""
        url = os.environ.get("TRIALFINDER_LLM_URL", "").strip()
        if not url:
            return None
        return cls(url, model=os.environ.get("TRIALFINDER_LLM_MODEL") or DEFAULT_MODEL,
                   api_key=os.environ.get("TRIALFINDER_LLM_KEY") or None,
                   timeout=float(os.environ.get("TRIALFINDER_LLM_TIMEOUT") or DEFAULT_TIMEOUT))

    def __call__(self, patient: Patient, study: Study, verdicts: list[CriterionVerdict]) -> list[CriterionVerdict]:
        """The verdicts with some unknown criteria decided by the model (unchanged on any failure)."""
        open_items = [i for i, v in enumerate(verdicts) if v.status == "unknown" and v.source != "structured"]
        open_items = open_items[:MAX_CRITERIA]
        if not open_items or not patient.text.strip():
            return verdicts
        listing = "\n".join(f"{n}. ({verdicts[i].kind}) {verdicts[i].criterion}" for n, i in enumerate(open_items, 1))
        prompt = f"Patient:\n{patient.text}\n\nTrial: {study.title}\n\nCriteria:\n{listing}"
        try:
            response = self.client.post("/chat/completions", json={
                "model": self.model, "temperature": 0,
                "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
            })
            response.raise_for_status()
            answers = parse_answer(response.json()["choices"][0]["message"]["content"], len(open_items))
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as error:
            log.warning("language model judge skipped for %s: %s", study.nct_id, error)
            return verdicts
        updated = list(verdicts)
        for number, (status, reason, evidence) in answers.items():
            index = open_items[number - 1]
            if status != "unknown":
                updated[index] = replace(verdicts[index], status=status, reason=f"language model: {reason}",
                                         evidence=evidence or None, source="llm", hard=False)
        return updated


def parse_answer(content: str, count: int) -> dict[int, tuple[str, str, str]]:
    """Strictly read the model's JSON: criterion number -> (status, reason, evidence); ValueError otherwise."""
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("verdicts"), list):
        raise ValueError("answer has no verdicts list")
    answers: dict[int, tuple[str, str, str]] = {}
    for item in data["verdicts"]:
        if not isinstance(item, dict):
            raise ValueError("a verdict is not an object")
        index, status = item.get("index"), item.get("status")
        if not isinstance(index, int) or isinstance(index, bool) or not 1 <= index <= count:
            raise ValueError(f"bad criterion index {index!r}")
        if status not in ("met", "not_met", "unknown"):
            raise ValueError(f"bad status {status!r}")
        reason, evidence = item.get("reason", ""), item.get("evidence", "")
        if not isinstance(reason, str) or not isinstance(evidence, str):
            raise ValueError("reason and evidence must be strings")
        answers[index] = (status, reason[:MAX_REASON], evidence[:MAX_REASON])
    return answers
