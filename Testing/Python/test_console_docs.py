"""docs/console.md: its Python examples run in order against a headless scene, so the documentation stays true."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import slicer_app_standin

DOC = Path(__file__).resolve().parents[2] / "docs" / "console.md"
MODULE_DIR = Path(__file__).resolve().parents[2] / "SurgicalAIPlanner"


def test_console_examples_run(capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 5, "the console guide lost its examples"
    slicer_app_standin.install()
    sys.path.insert(0, str(MODULE_DIR))
    try:
        importlib.import_module("SurgicalAIPlanner")
        namespace: dict = {}
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    finally:
        sys.path.remove(str(MODULE_DIR))
        slicer_app_standin.uninstall()
    printed = capsys.readouterr().out
    assert "Dr. A. Surgeon" in printed
    assert "Cup inclination" in printed
