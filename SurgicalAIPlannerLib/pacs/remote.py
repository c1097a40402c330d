"""Calling a remote server (PACS, FHIR) over HTTP: one session set-up, one retry policy, one error type.

Transient faults (connection refused or reset, timeouts, 408/429/5xx, an interrupted transfer) are
retried with exponential backoff; the others (401, 403, 404, TLS failure, bad request) fail at once.
Every error names the URL and says what went wrong in words.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests

from .credentials import Credentials

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


class RemoteError(RuntimeError):
    """A remote call failed. ``transient`` is True when retrying later may help."""

    def __init__(self, url: str, problem: str, transient: bool = False, status: int | None = None) -> None:
        self.url = url
        self.problem = problem
        self.transient = transient
        self.status = status
        super().__init__(f"{url}: {problem}")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    first_delay_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 8.0

    def delays(self) -> list[float]:
        """Waits between attempts: first, first*factor, ... capped at max_delay_s."""
        return [min(self.first_delay_s * self.factor ** n, self.max_delay_s) for n in range(self.attempts - 1)]


def redact(url: str) -> str:
    """``url`` without any user:password part, for messages and logs."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteError(redact(url), "not an http(s) URL")
    if parts.username or parts.password:
        raise RemoteError(redact(url), "credentials must not be written into the URL; use the environment or a "
                                       "config file")
    return url


class _Session(requests.Session):
    """A session whose own CA bundle wins. Plain requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the
    environment replace ``session.verify``, so ``--ca-bundle`` would be silently ignored wherever those
    are set (common on managed machines) and a private CA's server refused."""

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if isinstance(self.verify, str) and verify in (None, True):
            settings["verify"] = self.verify
        return settings


def new_session(credentials: Credentials | None, ca_bundle: Path | str | None = None) -> requests.Session:
    """A session with TLS verification on (against ``ca_bundle`` when given) and the credentials attached."""
    session = _Session()
    session.verify = str(ca_bundle) if ca_bundle else True
    if credentials is not None:
        credentials.apply(session)
    return session


def call_with_retries(action: Callable[[], T], url: str, what: str, policy: RetryPolicy = RetryPolicy(),
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``action`` (one remote call); retry transient faults per ``policy``; RemoteError otherwise."""
    delays = policy.delays()
    for attempt in range(policy.attempts):
        try:
            return action()
        except Exception as error:  # classified below; anything unknown propagates unchanged
            remote_error = classify(error, url, what)
            if remote_error is None:
                raise
            if not remote_error.transient or attempt == policy.attempts - 1:
                if remote_error.transient:
                    remote_error = RemoteError(remote_error.url, f"{remote_error.problem} (gave up after "
                                               f"{policy.attempts} attempts)", True, remote_error.status)
                raise remote_error from None
            log.warning("%s; retry %d of %d in %.1f s", remote_error.problem, attempt + 1,
                        policy.attempts - 1, delays[attempt])
            sleep(delays[attempt])
    raise AssertionError("unreachable")


def classify(error: Exception, url: str, what: str) -> RemoteError | None:
    """RemoteError for a requests failure, or None for an error that is not about the remote call."""
    url = redact(url)
    if isinstance(error, RemoteError):
        return error
    if isinstance(error, requests.exceptions.SSLError):
        return RemoteError(url, f"{what}: TLS certificate verification failed ({_first_line(error)}); give the "
                                "server's CA with --ca-bundle")
    if isinstance(error, requests.exceptions.Timeout):
        return RemoteError(url, f"{what}: the server did not answer in time (timeout)", transient=True)
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return RemoteError(url, f"{what}: the transfer was interrupted (connection closed mid-response)",
                           transient=True)
    if isinstance(error, requests.exceptions.ConnectionError):
        return RemoteError(url, f"{what}: cannot connect, the server is down or unreachable", transient=True)
    if isinstance(error, requests.exceptions.HTTPError) and error.response is not None:
        return _from_status(error.response, url, what)
    return None


def raise_for_status(response: requests.Response, url: str, what: str) -> None:
    if response.status_code >= 400:
        raise _from_status(response, url, what)


def _from_status(response: requests.Response, url: str, what: str) -> RemoteError:
    status = response.status_code
    url = redact(url)
    if status == 401:
        return RemoteError(url, f"{what}: authentication failed (HTTP 401); check the user/password or token "
                                "in the environment or config file", status=status)
    if status == 403:
        return RemoteError(url, f"{what}: access denied (HTTP 403); the account lacks permission", status=status)
    if status == 404:
        return RemoteError(url, f"{what}: not found (HTTP 404) at {redact(response.url)}", status=status)
    detail = _first_line(response.text)[:300]
    transient = status in TRANSIENT_STATUS
    kind = "server error" if status >= 500 else "request refused"
    return RemoteError(url, f"{what}: {kind} (HTTP {status}){': ' + detail if detail else ''}", transient, status)


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""
