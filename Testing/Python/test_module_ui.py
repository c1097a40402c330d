"""The module's Qt Designer file: it loads with Qt, and every widget the module code names exists in it."""

from __future__ import annotations

import ast
import os
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6 import QtCore, QtWidgets  # noqa: E402
from PySide6.QtUiTools import QUiLoader  # noqa: E402

MODULE_DIR = Path(__file__).resolve().parents[2] / "SurgicalAIPlanner"
UI_FILE = MODULE_DIR / "Resources" / "UI" / "SurgicalAIPlanner.ui"
MODULE_FILE = MODULE_DIR / "SurgicalAIPlanner.py"


class SlicerWidgetLoader(QUiLoader):
    """Builds Slicer's own widget classes (ctk*, qMRML*) as their Qt base, so the layout can be checked."""

    def __init__(self, custom_bases: dict[str, str]) -> None:
        super().__init__()
        self.custom_bases = custom_bases

    def createWidget(self, class_name, parent=None, name=""):
        base = self.custom_bases.get(class_name, class_name)
        widget = super().createWidget(base, parent, name)
        assert widget is not None, f"{UI_FILE.name}: Qt cannot create a {class_name} (base {base})"
        return widget


def _declared_widgets() -> dict[str, str]:
    """objectName -> class, as declared in the .ui XML."""
    tree = ElementTree.parse(UI_FILE)
    return {w.get("name"): w.get("class") for w in tree.iter("widget")}


def _custom_bases() -> dict[str, str]:
    tree = ElementTree.parse(UI_FILE)
    return {c.findtext("class"): c.findtext("extends") for c in tree.iter("customwidget")}


@pytest.fixture(scope="module")
def loaded_ui() -> QtWidgets.QWidget:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    bases = _custom_bases()
    # A custom widget may extend another custom widget; resolve to a Qt class.
    while any(base in bases for base in bases.values()):
        bases = {name: bases.get(base, base) for name, base in bases.items()}
    ui_file = QtCore.QFile(str(UI_FILE))
    assert ui_file.open(QtCore.QFile.ReadOnly)
    widget = SlicerWidgetLoader(bases).load(ui_file)
    ui_file.close()
    assert widget is not None, f"{UI_FILE} failed to load"
    yield widget
    widget.deleteLater()
    app.processEvents()


def test_every_widget_the_module_names_exists_with_its_class(loaded_ui: QtWidgets.QWidget) -> None:
    declared = _declared_widgets()
    named_in_code = set(re.findall(r"self\.ui\.(\w+)", MODULE_FILE.read_text()))
    assert named_in_code, "the module code names no widgets: the regular expression is out of date"
    for name in sorted(named_in_code):
        assert name in declared, f"{MODULE_FILE.name} uses self.ui.{name}, which {UI_FILE.name} does not declare"
        assert loaded_ui.findChild(QtWidgets.QWidget, name) is not None, f"{name} is not built by Qt"


def test_widget_classes_match_what_the_code_expects(loaded_ui: QtWidgets.QWidget) -> None:
    declared = _declared_widgets()
    assert declared["loadSampleButton"] == "QPushButton"
    assert declared["loadCtButton"] == "QPushButton"
    assert declared["ctPathLineEdit"] == "ctkPathLineEdit"  # the code reads .currentPath
    assert declared["inputVolumeSelector"] == "qMRMLNodeComboBox"


def test_every_parameter_node_field_has_a_bound_widget() -> None:
    module = ast.parse(MODULE_FILE.read_text())
    wrapper = next(n for n in module.body if isinstance(n, ast.ClassDef) and n.name == "SurgicalAIPlannerParameterNode")
    names = [n.target.id for n in wrapper.body if isinstance(n, ast.AnnAssign)]
    assert names, "no parameter node fields found"
    tree = ElementTree.parse(UI_FILE)
    bound = {p.findtext("string") for p in tree.iter("property") if p.get("name") == "SlicerParameterName"}
    assert set(names) <= bound, f"fields without a widget: {set(names) - bound}"
