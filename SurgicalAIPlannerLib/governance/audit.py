"""Append-only audit trail as JSON Lines with a SHA-256 hash chain.

Each line holds ``seq``, ``time`` (UTC, ISO 8601), ``event`` (one of EVENTS), ``actor``, ``details``,
``prev`` (the previous line's hash) and ``hash`` (SHA-256 of the line's canonical JSON without
``hash``). Editing a line breaks its hash; removing or reordering lines breaks ``prev``/``seq``.
Removing the *last* lines leaves a valid shorter chain, so every append also writes the head
(``<log>.head``: last seq and hash), and exports quote the head hash as an outside anchor.
Details must not hold patient identity (names, IDs, dates of birth): the trail is exported with plans.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..atomic import write_text_atomic

EVENTS = ("load", "ai_run", "proposal", "user_change", "sign_off", "export", "pacs_pull", "pacs_push")
GENESIS = "0" * 64


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    lines: int
    problems: tuple[str, ...]
    head: str


def _canonical(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _hash(record: dict) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


def head_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + ".head")


class AuditLog:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def append(self, event: str, actor: str, details: dict | None = None) -> dict:
        """Add one event (under an exclusive lock, so concurrent writers cannot fork the chain)."""
        if event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}; expected one of {', '.join(EVENTS)}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            seq, prev = _last(handle)
            record = {"seq": seq + 1, "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                      "event": event, "actor": actor, "details": details or {}, "prev": prev}
            record["hash"] = _hash(record)
            handle.write(_canonical(record).decode() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            _write_head(self.path, record)
        return record

    def head(self) -> str:
        return verify(self.path).head


def _last(handle) -> tuple[int, str]:
    handle.seek(0)
    last = None
    for line in handle:
        if line.strip():
            last = line
    if last is None:
        return 0, GENESIS
    record = json.loads(last)
    return int(record["seq"]), str(record["hash"])


def _write_head(log_path: Path, record: dict) -> None:
    write_text_atomic(head_path(log_path), json.dumps({"seq": record["seq"], "hash": record["hash"]}) + "\n")


def verify(path: Path | str) -> VerifyResult:
    """Check the whole chain and the head; every problem is reported with its line number."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: audit log does not exist")
    problems: list[str] = []
    prev, seq, lines = GENESIS, 0, 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        lines = number
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"line {number}: not valid JSON")
            continue
        if record.get("hash") != _hash(record):
            problems.append(f"line {number}: content was changed (hash mismatch)")
        if record.get("prev") != prev:
            problems.append(f"line {number}: does not follow the line before it (a line was removed or reordered)")
        if record.get("seq") != seq + 1:
            problems.append(f"line {number}: sequence number {record.get('seq')} where {seq + 1} was expected")
        prev, seq = str(record.get("hash")), int(record.get("seq") or 0)
    problems.extend(_check_head(path, seq, prev))
    return VerifyResult(not problems, lines, tuple(problems), prev)


def _check_head(path: Path, seq: int, last_hash: str) -> list[str]:
    head_file = head_path(path)
    if not head_file.is_file():
        return [f"{head_file.name} is missing; cannot tell whether lines were removed from the end"]
    head = json.loads(head_file.read_text())
    if head.get("seq") != seq or head.get("hash") != last_hash:
        return [f"the log ends at line {seq} but its head records line {head.get('seq')}: lines were removed "
                "from the end (or the head was altered)"]
    return []
