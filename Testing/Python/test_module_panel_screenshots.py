"""The user guide's pictures of the panel, made where Slicer's desktop cannot run.

The panel's ``.ui`` is drawn with Qt (Slicer's own widget classes as their closest Qt class, as
``panel_drawing.py``) and filled with what the module Logic returns after the walk-through
on the sample (load, landmarks, proposal, metrics); the plan's 3D view is rendered from the same headless
scene. Saved to a temporary folder, so a test run leaves the checkout clean;
``SURGICAL_PLANNER_SCREENSHOTS=docs/images`` regenerates the docs' pictures.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

import panel_drawing  # noqa: E402
from test_module_headless import module  # noqa: E402,F401
from web_harness import screenshot_dir  # noqa: E402
from SurgicalAIPlannerLib.export.commands import REPORT_BONES  # noqa: E402
from SurgicalAIPlannerLib.export.pictures import render_views  # noqa: E402
from SurgicalAIPlannerLib.export.plan_pictures import plan_surface_items  # noqa: E402

REQUEST = "Total hip arthroplasty, left, 12 mm press-fit stem, avoid leg length discrepancy > 5 mm"
SECTIONS = ("patientData", "segmentation", "landmarks", "plan", "implants", "metrics", "signOff")
STATUS_COLOURS = {"warning": QtGui.QColor(255, 200, 80), "violation": QtGui.QColor(255, 120, 120)}  # as the panel


@pytest.fixture(scope="module")
def qt_app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


def load_panel() -> QtWidgets.QWidget:
    ui_file = QtCore.QFile(str(panel_drawing.UI_FILE))
    assert ui_file.open(QtCore.QFile.ReadOnly)
    panel = panel_drawing.Loader().load(ui_file)
    ui_file.close()
    for name, title in panel_drawing.section_titles().items():
        panel.findChild(QtWidgets.QGroupBox, name).setTitle(title)
    return panel


def fill_table(table: QtWidgets.QTableWidget, rows, colours: dict[int, QtGui.QColor] | None = None) -> None:
    table.setRowCount(len(rows))
    for row, values in enumerate(rows):
        for column, value in enumerate(values):
            item = QtWidgets.QTableWidgetItem(str(value))
            if colours and row in colours:
                item.setBackground(colours[row])
            table.setItem(row, column, item)
    table.resizeColumnsToContents()
    table.setMinimumHeight(min(420, 30 + 24 * len(rows)))


def fill_panel(panel: QtWidgets.QWidget, logic, plan) -> None:
    """What the panel shows after the walk-through, from the same Logic calls the module's Widget makes."""
    find = lambda kind, name: panel.findChild(kind, name)  # noqa: E731
    session = logic.session
    find(QtWidgets.QComboBox, "inputVolumeSelector").addItem(session.ct_node.GetName())
    find(QtWidgets.QLineEdit, "pacsUrlLineEdit").setText("https://pacs.example.org/dicom-web")
    find(QtWidgets.QComboBox, "modelSelector").addItems(logic.availableModels())
    find(QtWidgets.QLabel, "deviceInfoLabel").setText(logic.deviceReport("auto"))
    find(QtWidgets.QComboBox, "segmentationSelector").addItem(session.segmentation_node.GetName())
    bones = find(QtWidgets.QTableWidget, "segmentsTableView")  # Slicer's segments table: one row per bone
    bones.setColumnCount(1)
    bones.setHorizontalHeaderLabels(["Bone"])
    fill_table(bones, [(name,) for name in session.label_names.values()])
    fill_table(find(QtWidgets.QTableWidget, "landmarksTable"), logic.landmarkRows())
    find(QtWidgets.QPlainTextEdit, "requestTextEdit").setPlainText(REQUEST)
    find(QtWidgets.QTextBrowser, "understoodTextBrowser").setPlainText("\n".join(plan.parsed.summary_lines()))
    find(QtWidgets.QTextBrowser, "reasonsTextBrowser").setPlainText(
        "\n".join(f"{d.key}: {d.value} — {d.reason}" for d in plan.decisions))
    chosen = {"cup": plan.implants.cup.id, "head": plan.implants.head.id, "stem": plan.implants.stem.id}
    choices = logic.implantChoices("Total hip arthroplasty", "left")
    for role in ("cup", "head", "stem", "screw", "plate"):
        selector = find(QtWidgets.QComboBox, f"{role}Selector")
        selector.addItems([""] + choices.get(role, []))
        selector.setCurrentText(chosen.get(role, ""))
        selector.setEnabled(role in choices)
    rows = logic.metricRows()
    fill_table(find(QtWidgets.QTableWidget, "metricsTable"), rows,
               {i: STATUS_COLOURS[row[4]] for i, row in enumerate(rows) if row[4] in STATUS_COLOURS})
    find(QtWidgets.QLineEdit, "surgeonNameLineEdit").setText("Dr. A. Surgeon")
    find(QtWidgets.QPushButton, "exportDirectoryButton").setText("output/plan-left-hip")
    find(QtWidgets.QLineEdit, "fhirUrlLineEdit").setText("https://ehr.example.org/fhir/R4")
    for name in ("exportDicomCheckBox", "exportFhirCheckBox"):
        find(QtWidgets.QCheckBox, name).setChecked(True)
    find(QtWidgets.QLabel, "statusLabel").setText("Plan proposed: review the metrics, adjust, then sign.")


def test_panel_walkthrough_pictures(module, qt_app):
    planner, _ = module
    logic = planner.SurgicalAIPlannerLogic()
    logic.loadSample()
    logic.detectLandmarks()
    plan = logic.proposePlan("Total hip arthroplasty", "left", REQUEST)

    panel = load_panel()
    fill_panel(panel, logic, plan)
    panel.resize(520, panel.sizeHint().height())
    panel.show()
    qt_app.processEvents()
    folder = screenshot_dir()
    pictures = {"module_panel.png": panel.grab()}
    for number, section in enumerate(SECTIONS, start=1):
        pictures[f"module_panel_{number}_{section}.png"] = panel.findChild(
            QtWidgets.QGroupBox, f"{section}CollapsibleButton").grab()
    for name, picture in pictures.items():
        assert picture.width() > 300 and picture.height() > 60, name
        assert picture.save(str(folder / name)), name
    panel.close()

    view = render_views(plan_surface_items(plan, REPORT_BONES), views=("anterior",), size=(520, 440))["anterior"]
    (folder / "module_panel_3d_view.png").write_bytes(view)
    image = QtGui.QImage.fromData(view)
    assert (image.width(), image.height()) == (520, 440)
