"""Writing outputs so that a crash or a full disk never leaves a half-written file or folder behind.

Everything the planner saves goes through here: a temporary file (or folder) beside the target, renamed
onto it only when complete. An existing file is therefore either kept whole or replaced whole.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_target(path: Path | str, suffix: str = ".partial") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; it becomes ``path`` when the block completes.

    ``suffix`` matters to writers that pick the format from the file name (ITK: ".nii.gz", ".nrrd").
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(descriptor)
    try:
        yield Path(partial)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def write_bytes_atomic(path: Path | str, content: bytes) -> Path:
    with atomic_target(path) as partial:
        partial.write_bytes(content)
    return Path(path)


def write_text_atomic(path: Path | str, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path | str, data: object, indent: int = 1) -> Path:
    """JSON without NaN/Infinity (not valid JSON; other tools reject it)."""
    return write_text_atomic(path, json.dumps(data, indent=indent, allow_nan=False) + "\n")


@contextmanager
def staged_folder(target: Path | str) -> Iterator[Path]:
    """A temporary folder beside ``target`` that becomes ``target`` only if the block completes."""
    target = Path(target)
    if target.exists():
        raise FileExistsError(f"{target}: already exists; outputs are written to a new folder, never over one")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield partial
        os.replace(partial, target)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
