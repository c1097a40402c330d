"""Sign-off: a plan stays "proposed" until a named surgeon signs it.

``signoff.json`` in the plan directory records who signed, when (UTC) and the SHA-256 of the plan file
signed. A plan changed after signing no longer matches, so it is "proposed" again and must be re-signed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .audit import AuditLog
from ..atomic import write_text_atomic

SIGNOFF_FILE = "signoff.json"


@dataclass(frozen=True)
class SignOff:
    surgeon: str
    signed_at: str
    plan_sha256: str


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sign(plan_file: Path, surgeon: str, audit: AuditLog) -> SignOff:
    """Record ``surgeon``'s sign-off of ``plan_file`` (beside it) and audit it."""
    if not surgeon.strip():
        raise ValueError("a sign-off needs the surgeon's name")
    if not plan_file.is_file():
        raise FileNotFoundError(f"{plan_file}: no plan to sign")
    record = SignOff(surgeon.strip(), datetime.now(timezone.utc).isoformat(timespec="seconds"), file_sha256(plan_file))
    write_text_atomic(plan_file.parent / SIGNOFF_FILE, json.dumps(record.__dict__, indent=1) + "\n")
    audit.append("sign_off", record.surgeon, {"plan": plan_file.name, "plan_sha256": record.plan_sha256})
    return record


def current_signoff(plan_file: Path) -> SignOff | None:
    """The sign-off that still matches ``plan_file``; None when unsigned or signed before a change."""
    path = plan_file.parent / SIGNOFF_FILE
    if not path.is_file():
        return None
    try:
        record = SignOff(**json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(f"{path}: not a sign-off record ({error})") from None
    return record if record.plan_sha256 == file_sha256(plan_file) else None
