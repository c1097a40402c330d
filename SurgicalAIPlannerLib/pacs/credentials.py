"""Credentials for a PACS or FHIR server: from the environment or a private config file, never argv.

Environment (``PREFIX`` is ``SURGICAL_PLANNER_PACS`` or ``SURGICAL_PLANNER_FHIR``):
``PREFIX_USER`` + ``PREFIX_PASSWORD`` (HTTP Basic) or ``PREFIX_TOKEN`` (bearer token).
Config file (``--config`` or ``PREFIX_CONFIG``): JSON ``{"username": ..., "password": ...}`` or
``{"token": ...}``, readable by its owner only (like an SSH key), so the secret is not shared by accident.
The environment wins over the file. Secrets never appear in ``repr`` or logs.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import requests


class CredentialsError(ValueError):
    """Credentials are incomplete or their file is unsafe or unreadable."""


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)

    @property
    def scheme(self) -> str:
        return "bearer" if self.token else "basic"

    def apply(self, session: requests.Session) -> None:
        """Attach to ``session`` as an auth handler (requests does not log auth headers)."""
        session.auth = _BearerAuth(self.token) if self.token else (self.username, self.password)


class _BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<hidden>)"


def load_credentials(prefix: str, config_path: Path | str | None = None,
                     environ: Mapping[str, str] = os.environ) -> Credentials | None:
    """Credentials from ``environ`` (first) or the config file; None when neither names any."""
    from_environment = _from_mapping(environ, f"{prefix}_USER", f"{prefix}_PASSWORD", f"{prefix}_TOKEN",
                                     f"environment variables {prefix}_*")
    if from_environment is not None:
        return from_environment
    path = config_path or environ.get(f"{prefix}_CONFIG")
    return _from_file(Path(path)) if path else None


def _from_mapping(values: Mapping[str, str], user_key: str, password_key: str, token_key: str,
                  where: str) -> Credentials | None:
    user, password, token = (str(values.get(k) or "") for k in (user_key, password_key, token_key))
    if token and (user or password):
        raise CredentialsError(f"{where}: give either a token or a user and password, not both")
    if bool(user) != bool(password):
        raise CredentialsError(f"{where}: {user_key} and {password_key} must be given together")
    if not (token or user):
        return None
    return Credentials(username=user, password=password, token=token)


def _from_file(path: Path) -> Credentials:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CredentialsError(f"{path}: credentials file does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(f"{path}: credentials file is readable by others (mode {stat.filemode(mode)}); "
                               f"run: chmod 600 {path}")
    try:
        content = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CredentialsError(f"{path}: credentials file is not readable JSON ({error})") from None
    if not isinstance(content, dict):
        raise CredentialsError(f"{path}: credentials file must hold a JSON object")
    credentials = _from_mapping(content, "username", "password", "token", str(path))
    if credentials is None:
        raise CredentialsError(f"{path}: names neither 'username'/'password' nor 'token'")
    return credentials
