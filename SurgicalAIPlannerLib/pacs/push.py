"""STOW-RS push of DICOM files, checked before anything is sent.

Every file is read and checked first (readable DICOM, valid non-empty UIDs) so that a bad file
stops the push before the PACS holds half of it. Files go in batches, each retried on transient faults.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from .client import PacsClient

log = logging.getLogger(__name__)

REQUIRED_UIDS = ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID")
BATCH_SIZE = 16


class PushInputError(ValueError):
    """Files that cannot be pushed; the message lists each file and its problem."""


@dataclass(frozen=True)
class PushResult:
    instances: int
    studies: tuple[str, ...]


def collect_files(paths: list[Path | str]) -> list[Path]:
    """The files named, with folders expanded recursively (hidden files skipped)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: does not exist")
    if not files:
        raise PushInputError("no files to push")
    return files


def check_files(files: list[Path]) -> list[str]:
    """StudyInstanceUIDs of the files; PushInputError listing every file that cannot be pushed."""
    problems: list[str] = []
    studies: list[str] = []
    for path in files:
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
        except InvalidDicomError:
            problems.append(f"{path}: not a DICOM file")
            continue
        except Exception as error:  # pydicom raises assorted errors on damaged headers
            problems.append(f"{path}: DICOM header cannot be read ({error})")
            continue
        bad = [k for k in REQUIRED_UIDS if not str(header.get(k, "") or "") or not UID(str(header.get(k))).is_valid]
        if bad:
            problems.append(f"{path}: empty or invalid {', '.join(bad)} (anonymised without new UIDs?). A PACS "
                            "files instances by these UIDs; give the files UIDs first, e.g. with "
                            "`surgical-planner deidentify`, which assigns new ones")
        elif header.StudyInstanceUID not in studies:
            studies.append(str(header.StudyInstanceUID))
    if problems:
        raise PushInputError(f"{len(problems)} of {len(files)} file(s) cannot be pushed; nothing was sent:\n  "
                             + "\n  ".join(problems))
    return studies


def push(client: PacsClient, paths: list[Path | str]) -> PushResult:
    files = collect_files(paths)
    studies = check_files(files)
    for start in range(0, len(files), BATCH_SIZE):
        batch = [pydicom.dcmread(path) for path in files[start:start + BATCH_SIZE]]
        client.store(batch)
        log.info("Stored %d of %d instance(s)", min(start + BATCH_SIZE, len(files)), len(files))
    return PushResult(len(files), tuple(studies))
