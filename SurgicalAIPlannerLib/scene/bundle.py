"""Save and load a scene as a Medical Reality Bundle (``.mrb``: zipped MRML scene plus data files).

Saving writes a temporary file beside the target and renames it into place, so an existing
bundle is never left half-written.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import slicer

from ..atomic import atomic_target
from .context import SlicerContext, new_headless_context


class SceneBundleError(RuntimeError):
    """A scene bundle could not be saved or loaded; the message names the file."""


def _messages_text(messages) -> str:
    return messages.GetAllMessagesAsString().strip() if messages.GetNumberOfMessages() else "no details given"


def save_bundle(context: SlicerContext, path: Path | str) -> Path:
    """Write the whole scene of ``context`` to ``path`` (.mrb) atomically; returns the path."""
    path = Path(path)
    if path.suffix.lower() != ".mrb":
        raise SceneBundleError(f"{path}: a scene bundle file must end in .mrb")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mrb-save-") as work:
        bundle_dir = Path(work) / path.stem
        bundle_dir.mkdir()
        messages = slicer.vtkMRMLMessageCollection()
        if not context.app_logic.SaveSceneToSlicerDataBundleDirectory(str(bundle_dir), None, messages):
            raise SceneBundleError(f"{path}: saving the scene failed: {_messages_text(messages)}")
        with atomic_target(path) as partial:
            _zip_folder(bundle_dir, partial)
    return path


def _zip_folder(folder: Path, archive: Path) -> None:
    """Zip ``folder`` with its own name as the top-level entry, the layout Slicer writes and reads."""
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for file in sorted(folder.rglob("*")):
            bundle.write(file, file.relative_to(folder.parent).as_posix())


def load_bundle(path: Path | str, context: SlicerContext | None = None) -> SlicerContext:
    """Load an .mrb into ``context``'s scene (a new headless scene when none is given)."""
    path = Path(path)
    if not path.is_file():
        raise SceneBundleError(f"{path}: no such scene bundle")
    context = context or new_headless_context()
    unpack_dir = tempfile.mkdtemp(prefix="mrb-load-")
    messages = slicer.vtkMRMLMessageCollection()
    if not context.app_logic.OpenSlicerDataBundle(str(path), unpack_dir, messages):
        raise SceneBundleError(f"{path}: not a readable scene bundle: {_messages_text(messages)}")
    return context
