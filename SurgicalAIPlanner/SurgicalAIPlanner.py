"""SurgicalAIPlanner: the 3D Slicer scripted module.

Thin on purpose: the workflow lives in ``SurgicalAIPlannerLib`` (``PlannerSession``), which the browser
planner and the command line use too. This file only binds it to Slicer's scene and panel.
"""

from __future__ import annotations

import logging
import os
import sys

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

from SurgicalAIPlannerLib.scene import SlicerContext  # noqa: E402
from SurgicalAIPlannerLib.session import PlannerSession  # noqa: E402


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
    """

    inputVolume: vtkMRMLScalarVolumeNode
    segmentation: vtkMRMLSegmentationNode


class SurgicalAIPlannerWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic: SurgicalAIPlannerLogic | None = None
        self._parameterNode: SurgicalAIPlannerParameterNode | None = None
        self._parameterNodeGuiTag = None

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/SurgicalAIPlanner.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = SurgicalAIPlannerLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.loadSampleButton.connect("clicked(bool)", self.onLoadSample)
        self.ui.loadCtButton.connect("clicked(bool)", self.onLoadCt)
        self.initializeParameterNode()

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

    def onLoadSample(self) -> None:
        with slicer.util.tryWithErrorDisplay("Failed to load the sample data.", waitCursor=True):
            self.logic.loadSample()
            self.ui.statusLabel.text = "Sample CT and reference bones loaded (TotalSegmentator output, not manual truth)."

    def onLoadCt(self) -> None:
        with slicer.util.tryWithErrorDisplay("Failed to load the CT.", waitCursor=True):
            node = self.logic.loadCT(self.ui.ctPathLineEdit.currentPath)
            self.ui.statusLabel.text = f"Loaded {node.GetName()}."


class SurgicalAIPlannerLogic(ScriptedLoadableModuleLogic):
    """The Slicer face of ``PlannerSession``: same calls, with results recorded in the parameter node.

    Console example::

        logic = slicer.util.getModuleLogic("SurgicalAIPlanner")
        ct = logic.loadCT("/data/patient/dicom")
    """

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        self.session = PlannerSession(SlicerContext(scene=slicer.mrmlScene, app_logic=slicer.app.applicationLogic()))

    def getParameterNode(self) -> SurgicalAIPlannerParameterNode:
        return SurgicalAIPlannerParameterNode(super().getParameterNode())

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


class SurgicalAIPlannerTest(ScriptedLoadableModuleTest):
    """Self-test: runs inside Slicer (and headless in this project's test suite)."""

    def setUp(self) -> None:
        slicer.mrmlScene.Clear()

    def runTest(self) -> None:
        self.setUp()
        self.test_LoadSampleThroughLogic()

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
