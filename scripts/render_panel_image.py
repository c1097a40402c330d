"""Renders the module panel's .ui to docs/images/module_panel.png (Slicer desktop cannot run here).

Slicer's own widget classes are drawn as their closest Qt class: collapsible sections as group boxes
with their titles, MRML selectors as empty combo boxes. Run: .venv/bin/python scripts/render_panel_image.py
"""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6 import QtCore, QtWidgets  # noqa: E402
from PySide6.QtUiTools import QUiLoader  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
UI_FILE = ROOT / "SurgicalAIPlanner" / "Resources" / "UI" / "SurgicalAIPlanner.ui"
OUTPUT = ROOT / "docs" / "images" / "module_panel.png"
DRAWN_AS = {"ctkCollapsibleButton": "QGroupBox", "qMRMLNodeComboBox": "QComboBox", "ctkPathLineEdit": "QLineEdit",
            "ctkDirectoryButton": "QPushButton", "qMRMLWidget": "QWidget", "qMRMLSegmentsTableView": "QTableWidget"}


class Loader(QUiLoader):
    def createWidget(self, class_name, parent=None, name=""):
        return super().createWidget(DRAWN_AS.get(class_name, class_name), parent, name)


def section_titles() -> dict[str, str]:
    tree = ElementTree.parse(UI_FILE)
    return {w.get("name"): w.find("property[@name='text']/string").text
            for w in tree.iter("widget") if w.get("class") == "ctkCollapsibleButton"}


def main() -> int:
    app = QtWidgets.QApplication(sys.argv)
    ui_file = QtCore.QFile(str(UI_FILE))
    ui_file.open(QtCore.QFile.ReadOnly)
    panel = Loader().load(ui_file)
    for name, title in section_titles().items():
        panel.findChild(QtWidgets.QGroupBox, name).setTitle(title)
    panel.findChild(QtWidgets.QComboBox, "modelSelector").addItems(["auto", "bone_ct_small", "classical"])
    panel.findChild(QtWidgets.QPushButton, "exportDirectoryButton").setText("output/plan")
    panel.resize(460, 1500)
    panel.show()
    app.processEvents()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    panel.grab().save(str(OUTPUT))
    print(OUTPUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
