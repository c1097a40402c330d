"""SurgicalAIPlanner: the 3D Slicer scripted module.

Thin on purpose: the workflow lives in ``SurgicalAIPlannerLib`` (``PlannerSession``), which the browser
planner and the command line use too. This file only binds it to Slicer's scene and panel.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import qt
import slicer
from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin


def _make_lib_importable() -> None:
    """In a source checkout the Lib sits beside this module's folder; installed, it sits beside this file."""
    repository_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.isdir(os.path.join(repository_root, "SurgicalAIPlannerLib")) and repository_root not in sys.path:
        sys.path.insert(0, repository_root)


_make_lib_importable()

from SurgicalAIPlannerLib.dependencies import AI_PACKAGES, missing  # noqa: E402
from SurgicalAIPlannerLib.scene import SlicerContext  # noqa: E402
from SurgicalAIPlannerLib.session import PlannerSession  # noqa: E402
from SurgicalAIPlannerLib.tasks import BackgroundTask  # noqa: E402



class SurgicalAIPlanner(ScriptedLoadableModule):
    def __init__(self, parent) -> None:
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Surgical AI Planner"
        self.parent.categories = ["Planning"]
        self.parent.dependencies = []
        self.parent.contributors = ["SurgicalAIPlanner contributors"]
        self.parent.helpText = (
            "AI-assisted pre-operative orthopedic planning: load a CT, segment the bones, detect landmarks, "
            "propose a plan from a written request and adjust it in 3D. Every AI output is a suggestion to confirm."
        )
        self.parent.acknowledgementText = (
            "Sample CT from the TotalSegmentator repository (Wasserthal et al., Radiology: AI 2023)."
        )


@parameterNodeWrapper
class SurgicalAIPlannerParameterNode:
    """Panel state, saved with the scene.

    inputVolume - the patient's CT.
    segmentation - the bone segmentation (reference or AI).
    pacsUrl, pacsPatientId, pacsStudyDate - the last PACS search (credentials never stored here).
    modelName, device - segmentation model and device choice.
    procedure, side - what is planned.
    cupId, headId, stemId, screwId, plateId - implant choices from the catalogs.
    surgeonName - who signs; exportReport, exportDicom, exportFhir - the chosen exports; fhirUrl - the FHIR
    server (its credentials never stored here); deidentify - strip identity from exports.
    """

    inputVolume: vtkMRMLScalarVolumeNode
    segmentation: vtkMRMLSegmentationNode
    pacsUrl: str = ""
    pacsPatientId: str = ""
    pacsStudyDate: str = ""
    modelName: str = "auto"
    device: str = "auto"
    procedure: str = "Total hip arthroplasty"
    side: str = "left"
    cupId: str = ""
    headId: str = ""
    stemId: str = ""
    screwId: str = ""
    plateId: str = ""
    surgeonName: str = ""
    exportReport: bool = True
    exportDicom: bool = False
    exportFhir: bool = False
    fhirUrl: str = ""
    deidentify: bool = False


class SurgicalAIPlannerWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The panel: collects inputs, calls the Logic, shows results. No planning happens here."""

    POLL_MS = 200  # how often a background run's progress is shown

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic: SurgicalAIPlannerLogic | None = None
        self._parameterNode: SurgicalAIPlannerParameterNode | None = None
        self._parameterNodeGuiTag = None
        self._tasks = {}  # the running background task of each Cancel button, by the button's name
        self._pacsStudies = []
        self._followedLandmarkNodes = None

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/SurgicalAIPlanner.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = SurgicalAIPlannerLogic()
        self._fillChoices()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        connections = {
            self.ui.loadSampleButton: self.onLoadSample,
            self.ui.loadCtButton: self.onLoadCt,
            self.ui.loadDicomFolderButton: self.onLoadDicomFolder,
            self.ui.pacsSearchButton: self.onPacsSearch,
            self.ui.pullFromPacsButton: self.onPullFromPacs,
            self.ui.segmentButton: self.onSegment,
            self.ui.cancelSegmentationButton: lambda: self.onCancel(self.ui.cancelSegmentationButton),
            self.ui.cancelPullButton: lambda: self.onCancel(self.ui.cancelPullButton),
            self.ui.cancelLandmarksButton: lambda: self.onCancel(self.ui.cancelLandmarksButton),
            self.ui.detectLandmarksButton: self.onDetectLandmarks,
            self.ui.jumpToLandmarkButton: self.onJumpToLandmark,
            self.ui.proposePlanButton: self.onProposePlan,
            self.ui.resetToProposalButton: self.onResetToProposal,
            self.ui.signPlanButton: self.onSignPlan,
            self.ui.exportButton: self.onExport,
        }
        for button, slot in connections.items():
            button.connect("clicked(bool)", lambda _checked, slot=slot: slot())
        for selector in (self.ui.cupSelector, self.ui.headSelector, self.ui.stemSelector):
            selector.connect("currentIndexChanged(int)", lambda _index: self.onImplantChosen())
        self.ui.deviceSelector.connect("currentIndexChanged(int)", lambda _index: self._showDevice())
        # The bones' visibility table follows the chosen segmentation (loaded, sample or AI).
        self.ui.segmentationSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.ui.segmentsTableView.setSegmentationNode)
        for selector in (self.ui.procedureSelector, self.ui.sideSelector):
            selector.connect("currentIndexChanged(int)", lambda _index: self._fillImplantPickers())
        self.ui.showCupHandlesCheckBox.connect("toggled(bool)", lambda on: self.logic.showHandles("cup", on))
        self.ui.showStemHandlesCheckBox.connect("toggled(bool)", lambda on: self.logic.showHandles("stem", on))
        self.ui.showCutPlaneHandlesCheckBox.connect("toggled(bool)", lambda on: self.logic.showHandles("neckCut", on))
        self.initializeParameterNode()
        self._showDevice()

    def cleanup(self) -> None:
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None

    def onSceneStartClose(self, caller, event) -> None:
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())

    def setParameterNode(self, inputParameterNode: SurgicalAIPlannerParameterNode | None) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)

    # ---------------------------------------------------------------- 1. patient data
    def onLoadSample(self) -> None:
        with slicer.util.tryWithErrorDisplay("Failed to load the sample data.", waitCursor=True):
            self.logic.loadSample()
            self._status("Sample CT and reference bones loaded (TotalSegmentator output, not manual truth).")

    def onLoadCt(self) -> None:
        with slicer.util.tryWithErrorDisplay("Failed to load the CT.", waitCursor=True):
            node = self.logic.loadCT(self.ui.ctPathLineEdit.currentPath)
            self._status(f"Loaded {node.GetName()}.")

    def onLoadDicomFolder(self) -> None:
        folder = qt.QFileDialog.getExistingDirectory(None, "DICOM folder")
        if folder:
            self.ui.ctPathLineEdit.currentPath = folder
            self.onLoadCt()

    def onPacsSearch(self) -> None:
        with slicer.util.tryWithErrorDisplay("PACS search failed.", waitCursor=True):
            self._pacsStudies = self.logic.searchPacs(self.ui.pacsUrlLineEdit.text, self.ui.pacsPatientIdLineEdit.text,
                                                      self.ui.pacsStudyDateLineEdit.text)
            rows = [(s.patient_name, s.study_date, s.description, s.study_instance_uid, str(s.series_count or ""))
                    for s in self._pacsStudies]
            self._fillTable(self.ui.pacsResultsTable, rows)
            self._status(f"{len(rows)} stud{'y' if len(rows) == 1 else 'ies'} found.")

    def onPullFromPacs(self) -> None:
        row = self.ui.pacsResultsTable.currentRow()
        if row < 0 or row >= len(self._pacsStudies):
            slicer.util.errorDisplay("Select a study in the results first.")
            return
        with slicer.util.tryWithErrorDisplay("Could not start the pull from the PACS.", waitCursor=False):
            task = self.logic.startPull(self.ui.pacsUrlLineEdit.text, self._pacsStudies[row].study_instance_uid)
            self._watch(task, self.ui.pullFromPacsButton, self.ui.cancelPullButton, self.ui.pullProgressBar,
                        "Pull from PACS failed.", self._finishPull)

    def _finishPull(self, task) -> None:
        node = self.logic.finishPull(task)
        self._status(f"Pulled and loaded {node.GetName()}.")

    # ---------------------------------------------------------------- 2. segmentation
    def _fillChoices(self) -> None:
        self.ui.modelSelector.clear()
        self.ui.modelSelector.addItems(self.logic.availableModels())
        self._fillImplantPickers()

    def _fillImplantPickers(self) -> None:
        """The chosen procedure's pickers filled from the catalogs; the other procedures' pickers are disabled."""
        choices = self.logic.implantChoices(self.ui.procedureSelector.currentText, self.ui.sideSelector.currentText)
        selectors = {"cup": self.ui.cupSelector, "head": self.ui.headSelector, "stem": self.ui.stemSelector,
                     "screw": self.ui.screwSelector, "plate": self.ui.plateSelector}
        for role, selector in selectors.items():
            chosen = selector.currentText
            wasBlocked = selector.blockSignals(True)  # refilling is not the user choosing an implant
            selector.clear()
            selector.addItems([""] + choices.get(role, []))
            selector.currentIndex = max(selector.findText(chosen), 0)
            selector.blockSignals(wasBlocked)
            selector.enabled = role in choices

    def _showDevice(self) -> None:
        self.ui.deviceInfoLabel.text = self.logic.deviceReport(self.ui.deviceSelector.currentText)

    def onSegment(self) -> None:
        if not self.logic.ensureDependencies(AI_PACKAGES):
            return
        with slicer.util.tryWithErrorDisplay("Could not start the segmentation.", waitCursor=False):
            task = self.logic.startSegmentation(self.ui.modelSelector.currentText, self.ui.deviceSelector.currentText)
            self._watch(task, self.ui.segmentButton, self.ui.cancelSegmentationButton, self.ui.segmentationProgressBar,
                        "Segmentation failed.", self._finishSegmentation)

    def _finishSegmentation(self, task) -> None:
        node = self.logic.finishSegmentation(task)
        self._status(f"Segmented: {node.GetSegmentation().GetNumberOfSegments()} bones ({self.logic.session.segmentation_method}).")

    def _watch(self, task, startButton, cancelButton, progressBar, failureText: str, finish) -> None:
        """Show a background task's progress, let Cancel stop it, and hand it to ``finish`` when it ends."""
        self._tasks[cancelButton.objectName] = task
        startButton.enabled, cancelButton.enabled, progressBar.visible = False, True, True

        def poll() -> None:
            fraction, message = task.progress.snapshot()
            progressBar.value = int(100 * fraction)
            self._status(message)
            if not task.done:
                qt.QTimer.singleShot(self.POLL_MS, poll)
                return
            startButton.enabled, cancelButton.enabled, progressBar.visible = True, False, False
            if task.progress.cancelled:
                self._status(f"{task.name} cancelled.")
                return
            with slicer.util.tryWithErrorDisplay(failureText, waitCursor=True):
                finish(task)

        qt.QTimer.singleShot(self.POLL_MS, poll)

    def onCancel(self, cancelButton) -> None:
        task = self._tasks.get(cancelButton.objectName)
        if task is not None:
            task.cancel()

    # ---------------------------------------------------------------- 3. landmarks
    def onDetectLandmarks(self) -> None:
        with slicer.util.tryWithErrorDisplay("Could not start the landmark detection.", waitCursor=False):
            task = self.logic.startLandmarkDetection()
            self._watch(task, self.ui.detectLandmarksButton, self.ui.cancelLandmarksButton, self.ui.landmarksProgressBar,
                        "Landmark detection failed.", self._finishLandmarks)

    def _finishLandmarks(self, task) -> None:
        self.logic.finishLandmarkDetection(task)
        self._showLandmarks()

    def _showLandmarks(self) -> None:
        nodes = self.logic.session.landmark_nodes
        if nodes is not None and nodes is not self._followedLandmarkNodes:
            nodes.add_listener(lambda _landmarks, _moved: self._showLandmarks())  # a drag marks the point user-edited
            self._followedLandmarkNodes = nodes
        self._fillTable(self.ui.landmarksTable, self.logic.landmarkRows())

    def onJumpToLandmark(self) -> None:
        row = self.ui.landmarksTable.currentRow()
        if row >= 0:
            self.logic.jumpToLandmark(self.ui.landmarksTable.item(row, 0).text())

    # ---------------------------------------------------------------- 4-6. plan, implants, metrics
    def onProposePlan(self) -> None:
        with slicer.util.tryWithErrorDisplay("Could not propose a plan.", waitCursor=True):
            plan = self.logic.proposePlan(self.ui.procedureSelector.currentText, self.ui.sideSelector.currentText,
                                          self.ui.requestTextEdit.toPlainText())
            self.ui.understoodTextBrowser.setPlainText("\n".join(plan.parsed.summary_lines()))
            self.ui.reasonsTextBrowser.setPlainText("\n".join(f"{d.key}: {d.value} — {d.reason}" for d in plan.decisions))
            plan.add_listener(lambda _plan: self._showMetrics())
            self._showLandmarks()
            self._showMetrics()

    def onImplantChosen(self) -> None:
        if self.logic.session.plan is None:
            return
        with slicer.util.tryWithErrorDisplay("Could not change the implant.", waitCursor=True):
            self.logic.chooseImplants(self.ui.cupSelector.currentText, self.ui.headSelector.currentText,
                                      self.ui.stemSelector.currentText)

    def onResetToProposal(self) -> None:
        with slicer.util.tryWithErrorDisplay("Could not reset the plan.", waitCursor=True):
            self.logic.resetToProposal()

    def _showMetrics(self) -> None:
        rows = self.logic.metricRows()
        self._fillTable(self.ui.metricsTable, [row[:5] for row in rows])
        colours = {"warning": qt.QColor(255, 200, 80), "violation": qt.QColor(255, 120, 120)}
        for index, row in enumerate(rows):
            if row[4] in colours:
                for column in range(5):
                    self.ui.metricsTable.item(index, column).setBackground(colours[row[4]])

    # ---------------------------------------------------------------- 7. sign-off and export
    def onSignPlan(self) -> None:
        with slicer.util.tryWithErrorDisplay("Could not sign the plan.", waitCursor=True):
            record = self.logic.signPlan(self.ui.surgeonNameLineEdit.text, self.ui.exportDirectoryButton.directory)
            self._status(f"Plan signed by {record.surgeon} at {record.signed_at} (UTC).")

    def onExport(self) -> None:
        with slicer.util.tryWithErrorDisplay("Export failed.", waitCursor=True):
            written = self.logic.exportPlan(
                self.ui.exportDirectoryButton.directory, report=self.ui.exportReportCheckBox.checked,
                deidentify=self.ui.deidentifyCheckBox.checked, dicom=self.ui.exportDicomCheckBox.checked,
                pacsUrl=self.ui.pacsUrlLineEdit.text, fhir=self.ui.exportFhirCheckBox.checked,
                fhirUrl=self.ui.fhirUrlLineEdit.text)
            self._status(self._exportSummary(written))

    def _exportSummary(self, written: list[Path]) -> str:
        sent = []
        if self.ui.exportDicomCheckBox.checked:
            sent.append(f"SEG and SR stored at {self.ui.pacsUrlLineEdit.text}" if self.ui.pacsUrlLineEdit.text
                        else "SEG and SR not stored: no PACS URL in section 1")
        if self.ui.exportFhirCheckBox.checked:
            sent.append(f"plan posted to {self.ui.fhirUrlLineEdit.text}")
        folder = self.ui.exportDirectoryButton.directory
        return f"Written to {folder}: " + ", ".join(Path(p).name for p in written) + "".join(f"; {line}" for line in sent)

    # ---------------------------------------------------------------- helpers
    def _fillTable(self, table, rows) -> None:
        table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                table.setItem(row, column, qt.QTableWidgetItem(str(value)))
        table.resizeColumnsToContents()

    def _status(self, text: str) -> None:
        self.ui.statusLabel.text = text


class SurgicalAIPlannerLogic(ScriptedLoadableModuleLogic):
    """The Slicer face of ``PlannerSession``: the whole workflow as plain calls (see docs/console.md).

    Console example::

        logic = slicer.util.getModuleLogic("SurgicalAIPlanner")
        logic.loadSample()
        plan = logic.proposePlan("Total hip arthroplasty", "left", "12 mm press-fit stem")
        logic.setCupOrientation(45, 20)
        print([(m.label, m.value, m.status) for m in logic.metrics()])
    """

    PROCEDURES = {"Total hip arthroplasty": "tha", "High tibial osteotomy": "hto", "Lumbar pedicle screws": "pedicle_screws"}
    # Implant role in the panel -> ImplantCatalog section, per procedure key.
    IMPLANT_SECTIONS = {"tha": {"cup": "cups", "head": "heads", "stem": "stems"},
                        "hto": {"plate": "hto_plates"}, "pedicle_screws": {"screw": "pedicle_screws"}}

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        self.session = PlannerSession(SlicerContext(scene=slicer.mrmlScene, app_logic=slicer.app.applicationLogic()))
        self.catalogFiles: list[str] = []  # users' catalog files beyond Resources/Implants
        self._proposal = None

    def getParameterNode(self) -> SurgicalAIPlannerParameterNode:
        return SurgicalAIPlannerParameterNode(super().getParameterNode())

    # 1. patient data
    def loadCT(self, path: str, seriesInstanceUID: str | None = None) -> vtkMRMLScalarVolumeNode:
        """Load a CT (DICOM folder, NIfTI, NRRD or MHA) and select it in the panel."""
        node = self.session.load_ct(path, seriesInstanceUID)
        self.getParameterNode().inputVolume = node
        return node

    def loadSample(self) -> None:
        """Load the bundled sample CT and its reference bone segmentation."""
        self.session.load_sample()
        parameters = self.getParameterNode()
        parameters.inputVolume = self.session.ct_node
        parameters.segmentation = self.session.segmentation_node
        logging.info("SurgicalAIPlanner: sample loaded")

    def searchPacs(self, url: str, patientId: str = "", studyDate: str = "", modality: str = "CT"):
        """QIDO-RS study search; credentials come from the environment or the config file, never the panel."""
        from SurgicalAIPlannerLib.pacs import connect_pacs

        parameters = self.getParameterNode()
        parameters.pacsUrl, parameters.pacsPatientId, parameters.pacsStudyDate = url, patientId, studyDate
        return self.session.search_pacs(connect_pacs(url), patientId, studyDate, modality)

    def startPull(self, url: str, studyUID: str, seriesUID: str | None = None,
                  outputDir: str | None = None) -> BackgroundTask:
        """WADO-RS pull in a background thread (progress per image, cancel between images) into a new folder
        that appears only when complete; poll ``task.done``, then ``finishPull``."""
        from SurgicalAIPlannerLib.pacs import connect_pacs

        client = connect_pacs(url)
        target = outputDir or os.path.join(tempfile.mkdtemp(prefix="pacs-", dir=getattr(slicer.app, "temporaryPath", None)),
                                           "series")

        def work(progress):
            def onInstance(done: int, total: int) -> None:
                progress(done / max(total, 1), f"Pulled {done} of {total} images")

            return self.session.run_pull(client, studyUID, target, seriesUID, onInstance), client.url

        return BackgroundTask(work, name="PACS pull")

    def finishPull(self, task) -> vtkMRMLScalarVolumeNode:
        """The finished pull's CT as the input volume (re-raises the task's error)."""
        result, url = task.result()
        node = self.session.use_pulled_ct(result, url)
        self.getParameterNode().inputVolume = node
        return node

    def pullFromPacs(self, url: str, studyUID: str, seriesUID: str | None = None,
                     outputDir: str | None = None) -> vtkMRMLScalarVolumeNode:
        """Blocking pull and load, for the console and scripts."""
        task = self.startPull(url, studyUID, seriesUID, outputDir)
        task.wait()
        return self.finishPull(task)

    # 2. segmentation
    @staticmethod
    def ensureDependencies(packages: dict[str, str], askConfirmation: bool = True) -> bool:
        """Install missing Python packages into Slicer's Python after the user agrees; False if declined.

        torch goes through the PyTorch extension when it is installed: it picks the CUDA build that
        matches the machine's driver, which a plain pip install cannot know.
        """
        absent = missing(packages)
        if not absent:
            return True
        names = ", ".join(absent.values())
        if askConfirmation and not slicer.util.confirmOkCancelDisplay(
                f"SurgicalAIPlanner needs these Python packages: {names}. Install them now (a few minutes)?"):
            return False
        if "torch" in absent:
            try:
                import PyTorchUtils
            except ImportError:
                PyTorchUtils = None
            if PyTorchUtils is not None:
                if PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=False) is None:
                    raise RuntimeError("PyTorch could not be installed by the PyTorch extension")
                del absent["torch"]
        if absent:
            slicer.util.pip_install(list(absent.values()))
        return True

    @staticmethod
    def availableModels() -> list[str]:
        """'auto', each installed model bundle, 'classical', and 'totalsegmentator' when it is installed."""
        from SurgicalAIPlannerLib.segmentation.engine import available_models

        return available_models()

    @staticmethod
    def deviceReport(requested: str = "auto") -> str:
        """The device a run would use, and why (e.g. 'cpu: no CUDA device found')."""
        from SurgicalAIPlannerLib.segmentation.device import device_report

        return device_report(requested)

    def startSegmentation(self, model: str = "auto", device: str = "auto"):
        """Segmentation in a background thread; poll ``task.done`` / ``task.progress``, then ``finishSegmentation``."""
        return BackgroundTask(lambda progress: self.session.run_segmentation(model or "auto", device or "auto", progress),
                              name="Segmentation")

    def finishSegmentation(self, task):
        """The finished task's result as the bone segmentation node (re-raises the task's error)."""
        node = self.session.use_segmentation_result(task.result())
        self.getParameterNode().segmentation = node
        return node

    def segment(self, model: str = "auto", device: str = "auto"):
        """Blocking segmentation, for the console and scripts."""
        task = self.startSegmentation(model, device)
        task.wait()
        return self.finishSegmentation(task)

    # 3. landmarks
    def startLandmarkDetection(self):
        """Landmark detection in a background thread; poll the task, then ``finishLandmarkDetection``."""
        return BackgroundTask(lambda progress: self.session.find_landmarks(lambda message: progress(0.0, message)),
                              name="Landmark detection")

    def finishLandmarkDetection(self, task):
        """The finished task's landmarks as draggable fiducial nodes (points the surgeon moved keep their place)."""
        return self.session.use_landmarks(task.result())

    def detectLandmarks(self):
        """Blocking detection (RAS mm) as draggable fiducial nodes, for the console; moved points become user-edited."""
        task = self.startLandmarkDetection()
        task.wait()
        return self.finishLandmarkDetection(task)

    def landmarkRows(self) -> list[tuple[str, str, str, str, str]]:
        """(name, confidence, method, edited by user, note) per landmark, for tables."""
        return [(row["name"], "-" if row["confidence"] is None else f"{row['confidence']:.2f}", row["method"] or "-",
                 "yes" if row["user_edited"] else "", row["note"]) for row in self.session.landmark_table()]

    def jumpToLandmark(self, name: str) -> None:
        position = self.session.landmarks.position(name)
        slicer.modules.markups.logic().JumpSlicesToLocation(*position, True)

    # 4-6. plan, implants, metrics
    def proposePlan(self, procedure: str, side: str, requestText: str):
        """Propose a plan from the written request; only total hip arthroplasty can be planned in this version."""
        if self.PROCEDURES.get(procedure, procedure) != "tha":
            raise NotImplementedError(f"{procedure} planning is not available in this version: only total hip "
                                      "arthroplasty can be planned. Its implants can be browsed in the catalogs.")
        text = requestText.strip() or "Total hip arthroplasty"
        plan = self.session.propose_tha_plan(text, side or None, catalog=self.catalog())
        self._proposal = plan.implants, plan.geometry()
        parameters = self.getParameterNode()
        parameters.side = plan.anatomy.side
        parameters.cupId, parameters.headId, parameters.stemId = plan.implants.cup.id, plan.implants.head.id, plan.implants.stem.id
        return plan

    def catalog(self):
        """The implant catalogs: the bundled files in Resources/Implants (users may add theirs to that folder)
        and those added with ``addImplantCatalog``."""
        from SurgicalAIPlannerLib.implants.catalog import load_catalog

        return load_catalog(self.catalogFiles)

    def addImplantCatalog(self, path: str) -> None:
        """Use a user's catalog file too; it is checked now, and a problem names the file, entry and field."""
        from SurgicalAIPlannerLib.implants.catalog import load_catalog

        load_catalog([*self.catalogFiles, path])
        self.catalogFiles.append(path)

    def implantChoices(self, procedure: str, side: str = "") -> dict[str, list[str]]:
        """Catalog ids for each implant role of ``procedure`` (e.g. {"screw": [...]}); HTO plates are those
        shaped for ``side`` or for either side."""
        catalog = self.catalog()
        sections = self.IMPLANT_SECTIONS.get(self.PROCEDURES.get(procedure, procedure), {})
        choices = {role: sorted(getattr(catalog, section)) for role, section in sections.items()}
        if "plate" in choices and side:
            choices["plate"] = [i for i in choices["plate"] if catalog.hto_plate(i).side in (side, "either")]
        return choices

    def setCupOrientation(self, inclination: float, anteversion: float, definition: str = "radiographic") -> None:
        """Rotate the cup to the given angles (degrees, relative to the APP); metrics update through observers."""
        from SurgicalAIPlannerLib.planning.cup_angles import CupOrientation

        self._plan().set_cup_orientation(CupOrientation(float(inclination), float(anteversion), definition))

    def chooseImplants(self, cup: str = "", head: str = "", stem: str = "") -> None:
        self._plan().choose_implants(cup or None, head or None, stem or None)

    def resetToProposal(self) -> None:
        """Undo every manual change: implants and node positions as proposed."""
        implants, geometry = self._proposal
        self._plan().apply(implants, geometry)

    def showHandles(self, role: str, visible: bool) -> None:
        """Show or hide the interaction handles of the cup, the stem or the neck-cut plane in the 3D view."""
        self._plan().show_handles(role, visible)

    def metrics(self):
        """The live plan metrics (``Measurement``s, UCUM units)."""
        return self._plan().metrics

    def metricRows(self) -> list[tuple[str, str, str, str, str]]:
        """(metric, value, unit, target, status) per metric, for tables."""
        return [(m.label, "n/a" if m.value != m.value else f"{m.value:.1f}", m.unit, m.target or "-", m.status)
                for m in self.metrics()]

    def _plan(self):
        if self.session.plan is None:
            raise RuntimeError("propose a plan first")
        return self.session.plan

    # 7. sign-off and export
    def savePlan(self, folder: str) -> dict:
        """Plan JSON and scene bundle into ``folder`` (atomic writes)."""
        if not folder:
            raise ValueError("choose an export folder first")
        return self.session.save_plan(folder)

    def exportPlan(self, folder: str, report: bool = True, deidentify: bool = False, dicom: bool = False,
                   pacsUrl: str = "", fhir: bool = False, fhirUrl: str = "") -> list[Path]:
        """Save the plan (JSON + scene) into ``folder`` and write the chosen exports; returns the files written.

        ``report``: HTML/PDF report in ``folder``/exports. ``dicom``: bones as DICOM SEG and measurements as SR
        there, stored at ``pacsUrl`` when given. ``fhir``: the plan posted as a FHIR R4 transaction to
        ``fhirUrl``. DICOM and FHIR need a CT loaded from DICOM or the PACS. Credentials come from the
        environment or the config files, never from here. Every export is audited; an unsigned plan is
        exported as a draft.
        """
        from SurgicalAIPlannerLib.export.commands import EXPORTS
        from SurgicalAIPlannerLib.pacs import connect_pacs

        if fhir and not fhirUrl:
            raise ValueError("FHIR export: type the FHIR server's base URL first")
        self._rememberExportChoices(report, deidentify, dicom, fhir, fhirUrl)
        written = list(self.savePlan(folder).values())
        if report:
            written += self.session.export_report(folder, deidentify)[:2]  # before FHIR, which attaches the PDF
        if dicom:
            export = self.session.export_dicom(folder, connect_pacs(pacsUrl) if pacsUrl else None, deidentify)
            written += [export.segmentation, export.measurements]
        if fhir:
            self.session.export_fhir(fhirUrl, folder, deidentify)
            written.append(Path(folder) / EXPORTS / "fhir-bundle.json")
        return written

    def _rememberExportChoices(self, report: bool, deidentify: bool, dicom: bool, fhir: bool, fhirUrl: str) -> None:
        parameters = self.getParameterNode()
        parameters.exportReport, parameters.deidentify = report, deidentify
        parameters.exportDicom, parameters.exportFhir = dicom, fhir
        if fhirUrl:
            parameters.fhirUrl = fhirUrl

    def signPlan(self, surgeon: str, folder: str):
        """Save the plan into ``folder`` and record the surgeon's sign-off there (with the audit trail)."""
        self.savePlan(folder)
        self.getParameterNode().surgeonName = surgeon
        return self.session.sign_plan(surgeon)


class SurgicalAIPlannerTest(ScriptedLoadableModuleTest):
    """Self-test: runs inside Slicer (and headless in this project's test suite)."""

    def setUp(self) -> None:
        slicer.mrmlScene.Clear()

    def runTest(self) -> None:
        self.setUp()
        self.test_LoadSampleThroughLogic()
        self.setUp()
        self.test_ProposeAndAdjustPlan()

    def test_LoadSampleThroughLogic(self) -> None:
        self.delayDisplay("Loading the sample CT through the module logic")
        logic = SurgicalAIPlannerLogic()
        logic.loadSample()
        parameters = logic.getParameterNode()
        volume = parameters.inputVolume
        self.assertEqual(volume.GetImageData().GetDimensions(), (122, 101, 112))
        segmentation = parameters.segmentation
        hip_left_id = segmentation.GetSegmentation().GetSegmentIdBySegmentName("hip_left")
        self.assertTrue(hip_left_id)
        # Segments share labelmap layers (their labelmap bounds are the layer's), so use the surface.
        surface = segmentation.GetClosedSurfaceInternalRepresentation(hip_left_id)
        bounds = surface.GetBounds()
        self.assertLess((bounds[0] + bounds[1]) / 2, 0.0, "hip_left must lie on the patient's left (RAS x < 0)")
        self.delayDisplay("Test passed")

    def test_ProposeAndAdjustPlan(self) -> None:
        self.delayDisplay("Proposing a left hip plan on the sample and moving the cup")
        logic = SurgicalAIPlannerLogic()
        logic.loadSample()
        plan = logic.proposePlan("Total hip arthroplasty", "left", "Total hip arthroplasty, left, 12 mm press-fit stem")
        self.assertEqual(plan.anatomy.side, "left")
        inclination = next(m for m in logic.metrics() if m.key == "cup_inclination")
        self.assertAlmostEqual(inclination.value, 40.0, places=1)
        logic.setCupOrientation(60.0, 15.0)
        moved = next(m for m in logic.metrics() if m.key == "cup_inclination")
        self.assertAlmostEqual(moved.value, 60.0, places=1)
        self.assertEqual(moved.status, "warning", "60 degrees is outside Lewinnek's 40 +/- 10 zone")
        logic.resetToProposal()
        self.assertAlmostEqual(next(m for m in logic.metrics() if m.key == "cup_inclination").value, 40.0, places=1)
        self.delayDisplay("Test passed")
