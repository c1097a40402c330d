"""Posting a transaction Bundle to a FHIR R4 server, with the PACS client's auth, TLS, retry and error rules.

Credentials: SURGICAL_PLANNER_FHIR_USER + _PASSWORD, or SURGICAL_PLANNER_FHIR_TOKEN, or a config file
(see ``pacs/credentials.py``). A transaction is all-or-nothing on the server, so retrying one that failed
with a transient error cannot leave half of it stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import requests
from fhir.resources.R4B.bundle import Bundle

from ..pacs.credentials import Credentials
from ..pacs.remote import RemoteError, RetryPolicy, call_with_retries, check_url, new_session, raise_for_status, redact

ENV_PREFIX = "SURGICAL_PLANNER_FHIR"
FHIR_JSON = "application/fhir+json"


def post_transaction(base_url: str, bundle: Bundle, credentials: Credentials | None = None,
                     ca_bundle: Path | str | None = None, timeout_s: float = 60.0,
                     retry: RetryPolicy = RetryPolicy()) -> dict:
    """POST ``bundle`` to the server's base URL; returns the transaction-response Bundle (as JSON)."""
    url = check_url(base_url).rstrip("/")
    session = new_session(credentials, ca_bundle)
    body = bundle.model_dump_json(exclude_none=True)

    def send() -> dict:
        response = session.post(url, data=body.encode(), timeout=timeout_s,
                                headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON})
        if 400 <= response.status_code < 500 and _errors_of(response):
            raise RemoteError(redact(url), f"the server refused the transaction (HTTP {response.status_code}): "
                                           + "; ".join(_errors_of(response)), status=response.status_code)
        raise_for_status(response, url, "post the FHIR transaction")
        return response.json()

    try:
        answer = call_with_retries(send, url, "post the FHIR transaction", retry)
    except (json.JSONDecodeError, requests.exceptions.JSONDecodeError):
        raise RemoteError(redact(url), "the server's answer to the transaction is not JSON") from None
    failed = [entry.get("response", {}) for entry in answer.get("entry", [])
              if not str(entry.get("response", {}).get("status", "")).startswith("2")]
    if answer.get("type") != "transaction-response" or failed:
        raise RemoteError(redact(url), f"the transaction was not accepted: {json.dumps(failed or answer)[:500]}")
    return answer


def _errors_of(response: requests.Response) -> list[str]:
    """The error issues of an OperationOutcome answer (warnings left out), as 'where: what'."""
    try:
        outcome = response.json()
    except ValueError:
        return []
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return []
    return [f"{', '.join(issue.get('expression', [])) or 'bundle'}: "
            f"{issue.get('details', {}).get('text') or issue.get('diagnostics', '')}"
            for issue in outcome.get("issue", []) if issue.get("severity") in ("error", "fatal")]
