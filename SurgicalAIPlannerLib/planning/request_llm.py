"""Optional language-model request parser: any OpenAI-compatible chat endpoint the user configures.

Never required and never used unless configured (``--llm-url`` or ``SURGICAL_PLANNER_LLM_URL``). The model
must answer with the same structured request the deterministic parser produces; that answer goes through the
same validation, and the model's own list of phrases it could not read is kept, so nothing is dropped silently.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import fields

from .request import ParsedRequest, PlanningRequest, RequestError, Understanding

ENV_URL, ENV_MODEL, ENV_KEY = "SURGICAL_PLANNER_LLM_URL", "SURGICAL_PLANNER_LLM_MODEL", "SURGICAL_PLANNER_LLM_API_KEY"

INSTRUCTIONS = (
    "Read an orthopaedic surgery planning request. Answer with one JSON object with keys: 'request' (fields: "
    + ", ".join(field.name for field in fields(PlanningRequest) if field.name != "text")
    + "; target_angles has inclination_deg, anteversion_deg, definition in radiographic|operative|anatomic; "
    "procedure is 'tha' or 'tka'; side 'left' or 'right'; lengths in mm; unknown values null), 'understood' "
    "(list of {phrase, meaning}) and 'not_understood' (list of every phrase you could not map to a field). "
    "Never invent values that the text does not state."
)


class OpenAICompatibleParser:
    """POSTs the text to ``{base_url}/chat/completions`` and validates the structured answer."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.name = f"openai-compatible:{model}@{self.base_url}"

    @classmethod
    def from_environment(cls) -> "OpenAICompatibleParser | None":
        url = os.environ.get(ENV_URL)
        if not url:
            return None
        model = os.environ.get(ENV_MODEL)
        if not model:
            raise RequestError(f"{ENV_URL} is set but {ENV_MODEL} (the model name) is not")
        return cls(url, model, os.environ.get(ENV_KEY, ""))

    def parse(self, text: str) -> ParsedRequest:
        if not text or not text.strip():
            raise RequestError("the planning request is empty")
        answer = self._ask(text)
        try:
            data = json.loads(answer)
            request = PlanningRequest.from_dict({**data["request"], "text": text})
            understood = [Understanding(str(item["phrase"]), str(item["meaning"])) for item in data.get("understood", [])]
            not_understood = [str(phrase) for phrase in data.get("not_understood", [])]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise RequestError(f"{self.name} gave an answer that is not a structured request ({error})") from None
        return ParsedRequest(request, understood, not_understood, self.name)

    def _ask(self, text: str) -> str:
        body = json.dumps({
            "model": self.model, "temperature": 0, "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": text}],
        }).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        http_request = urllib.request.Request(f"{self.base_url}/chat/completions", body, headers)
        try:
            with urllib.request.urlopen(http_request, timeout=self.timeout_s) as response:
                reply = json.loads(response.read())
            return reply["choices"][0]["message"]["content"]
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError, KeyError, IndexError) as error:
            raise RequestError(f"the language-model endpoint {self.base_url} did not answer usefully ({error})") from None
