"""Draws the module panel's .ui with plain Qt, where Slicer's desktop cannot run (for the user guide's pictures).

Slicer's own widget classes are drawn as their closest Qt class: collapsible sections as group boxes
with their titles, MRML selectors as combo boxes.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtUiTools import QUiLoader  # noqa: E402

UI_FILE = Path(__file__).resolve().parents[2] / "SurgicalAIPlanner" / "Resources" / "UI" / "SurgicalAIPlanner.ui"
DRAWN_AS = {"ctkCollapsibleButton": "QGroupBox", "qMRMLNodeComboBox": "QComboBox", "ctkPathLineEdit": "QLineEdit",
            "ctkDirectoryButton": "QPushButton", "qMRMLWidget": "QWidget", "qMRMLSegmentsTableView": "QTableWidget"}


class Loader(QUiLoader):
    def createWidget(self, class_name, parent=None, name=""):
        return super().createWidget(DRAWN_AS.get(class_name, class_name), parent, name)


def section_titles() -> dict[str, str]:
    tree = ElementTree.parse(UI_FILE)
    return {w.get("name"): w.find("property[@name='text']/string").text
            for w in tree.iter("widget") if w.get("class") == "ctkCollapsibleButton"}
