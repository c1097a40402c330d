"""One browser session's planner: trame-slicer's Slicer app (scene, views) running ``PlannerSession``.

The page shows Slicer's own 3D view and three slice views, rendered offscreen on the server and streamed to the
browser as images (trame-rca); the side panel calls the same ``PlannerSession`` the Slicer module calls.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
from trame.app import TrameApp
from trame_slicer import module as trame_slicer_module
from trame.widgets import html
from trame_slicer.app.ui import create_vertical_view_gutter_ui
from trame_slicer.core import LayoutManager, SlicerApp
from trame_slicer.rca_view import register_rca_factories
from trame_slicer.utils import write_client_files_to_dir
from trame_slicer.views import Layout, LayoutDirection, ViewLayoutDefinition

from ..imaging.errors import ImageLoadError
from ..scene import context_on, segment_voxel_counts
from ..governance.audit import AuditLog
from ..governance.commands import AUDIT_FILE
from ..session import PlannerSession
from .landmarks_controller import LandmarksController
from .pacs_controller import PacsController
from .panel import PlannerPage
from .plan_controller import FILES_ROUTE, PlanController
from .segmentation_controller import SegmentationController

log = logging.getLogger(__name__)

LAYOUT_ID = "planner"
THREE_D_VIEW = "ThreeD"
VIEW_EVENT_PRIORITY = 100.0  # above Slicer's interactor style and widgets, which may abort an event they handle
# Slicer's colour for bone (its terminology's "Bone" entry), so the 3D view reads as anatomy.
BONE_RGB = (241 / 255, 214 / 255, 145 / 255)
# Implants in a blue no anatomy has, so they stand out (and the tests can count their pixels).
IMPLANT_RGB = (0.1, 0.45, 1.0)
# With a plan shown, bones are see-through so the cup, head and stem inside them stay visible.
BONE_OPACITY_WITH_PLAN = 0.35


def planner_layout() -> Layout:
    """3D view on the left, axial / coronal / sagittal stacked on the right."""
    slices = [ViewLayoutDefinition.axial_view(), ViewLayoutDefinition.coronal_view(), ViewLayoutDefinition.sagittal_view()]
    threed = ViewLayoutDefinition.threed_view(name=THREE_D_VIEW)
    return Layout(LayoutDirection.Horizontal, [threed, Layout(LayoutDirection.Vertical, slices)])


def threed_view_overlay(server, view_id: str, view) -> None:
    """trame-slicer's view buttons, plus a hidden marker by which the browser tests find the 3D view."""
    create_vertical_view_gutter_ui(server, view_id, view)
    html.Span(raw_attrs=['data-testid="view-3d"'], style="display: none;")


class PlannerWebApp(TrameApp):
    """The page of one browser session; its scene is this process's own."""

    def __init__(self, server=None, plan_dir: Path | None = None, pacs_url: str = "") -> None:
        """``plan_dir``: this session's folder (autosaved plan, pulled studies); ``pacs_url``: DICOMweb base URL."""
        super().__init__(server)
        self.server.enable_module(trame_slicer_module)
        self.plan_dir = Path(plan_dir or tempfile.mkdtemp(prefix="planner-plan-"))
        self.plan_dir.mkdir(parents=True, exist_ok=True)
        # The autosaved plan files are downloaded from the session's own server.
        self.server.enable_module({"serve": {FILES_ROUTE: str(self.plan_dir)}})
        self.slicer_app = SlicerApp()
        self.session = self._new_session()
        register_rca_factories(self.slicer_app.view_manager, self.server, three_d_view_ui_f=threed_view_overlay)
        self.layout_manager = LayoutManager(self.slicer_app.scene, self.slicer_app.view_manager, self.server)
        self.layout_manager.register_layout(LAYOUT_ID, planner_layout())
        self._disable_multisampling()
        self.page = PlannerPage(self.server, self.layout_manager)
        self.page.upload_ct.on_load_volume.connect(self._on_ct_uploaded)
        self.plans = PlanController(self.server, self.session, self.plan_dir, on_plan_shown=self._show_plan_nodes)
        self.segmentation = SegmentationController(self.server, lambda: self.session, self._after_segmentation)
        self.landmarks = LandmarksController(self.server, lambda: self.session)
        self.pacs = PacsController(self.server, pacs_url, self.plan_dir / "inputs", lambda: self.session,
                                   self._new_case_session, self._show_case)
        self.layout_manager.set_layout(LAYOUT_ID)
        self._group_view_drags_into_undo_steps()
        self.state.case_name = ""
        self.state.status_message = ""
        self.state.segments = []

    def _disable_multisampling(self) -> None:
        """Mesa (EGL, no GPU) drops translucent actors from multisampled windows; trame-slicer asks for 8 samples."""
        for view in self.slicer_app.view_manager.get_views():
            view.render_window().SetMultiSamples(0)

    def _group_view_drags_into_undo_steps(self) -> None:
        """A handle drag in the 3D view (press to release) is one undo step. Observed first (high priority) and
        never aborted, so Slicer's own widgets still get the events."""
        interactor = self.threed_view.interactor()
        interactor.AddObserver("LeftButtonPressEvent", lambda *_: self.plans.begin_gesture(), VIEW_EVENT_PRIORITY)
        interactor.AddObserver("LeftButtonReleaseEvent", lambda *_: self.plans.end_gesture(), VIEW_EVENT_PRIORITY)

    @property
    def threed_view(self):
        return self.slicer_app.view_manager.get_view(THREE_D_VIEW)

    def open_sample(self) -> None:
        self.session.load_sample()
        self._show_case("Bundled sample (TotalSegmentator example CT)")

    def open_case(self, path: Path | str) -> None:
        """A CT (DICOM folder or image file); the sample's reference bones come only with the sample."""
        self.session.load_ct(path)
        self._show_case(Path(path).name)

    def _show_case(self, case_name: str) -> None:
        display = self.slicer_app.display_manager
        display.show_volume_in_slice_background(self.session.ct_node)
        self._colour_bones()
        display.reset_views()
        self.threed_view.fit_view_to_content()
        # The fit is made for a square window; the page's 3D view is taller than wide, so step back to keep the pelvis whole.
        self.threed_view.zoom(-0.6)
        self.state.case_name = case_name
        self.state.segments = self._segment_rows()
        self.landmarks.refresh()

    def _after_segmentation(self, previous_node) -> None:
        """A new bone segmentation replaces the old one, and the plan and landmarks made on the old bones."""
        if previous_node is not None:
            self.slicer_app.scene.RemoveNode(previous_node)
        self.plans.forget_plan()
        self._colour_bones()
        self.state.segments = self._segment_rows()
        self.landmarks.refresh()

    def _colour_bones(self) -> None:
        segmentation_node = self.session.segmentation_node
        if segmentation_node is None:
            return
        segmentation = segmentation_node.GetSegmentation()
        for segment_id in segmentation.GetSegmentIDs():
            segmentation.GetSegment(segment_id).SetColor(*BONE_RGB)

    def _segment_rows(self) -> list[dict]:
        """The segments listed in the side panel: name and volume."""
        segmentation_node, labels = self.session.segmentation_node, self.session.labels
        if segmentation_node is None or labels is None:
            return []
        voxel_ml = float(np.prod(labels.spacing)) / 1000.0
        counts = segment_voxel_counts(segmentation_node)
        return [{"name": name, "ml": round(count * voxel_ml, 1)} for name, count in sorted(counts.items())]

    def _new_session(self) -> PlannerSession:
        """A workflow on this process's scene; loads, AI runs, proposals and saved edits go to the plan's audit trail."""
        audit = AuditLog(self.plan_dir / AUDIT_FILE)
        return PlannerSession(context_on(self.slicer_app.scene, self.slicer_app.app_logic), audit=audit, user="browser planner")

    def _new_case_session(self) -> PlannerSession:
        """A new case replaces the old one: an empty scene and a fresh session on it."""
        self.slicer_app.scene.Clear()
        self.session = self._new_session()
        self.plans.use_session(self.session)
        self.landmarks.refresh()
        return self.session

    def _on_ct_uploaded(self, files: list[dict]) -> None:
        """A CT sent from the browser: written to a temporary folder (a DICOM series arrives as many files)."""
        self._new_case_session()
        with tempfile.TemporaryDirectory(prefix="planner-upload-") as folder:
            paths = write_client_files_to_dir(files, folder)
            try:
                self.open_case(paths[0] if len(paths) == 1 else folder)
                self.state.status_message = f"Loaded {self.state.case_name}"
            except (ImageLoadError, ValueError, FileNotFoundError) as error:
                log.warning("upload refused: %s", error)
                self.state.status_message = f"Could not load the upload: {error}"

    def _show_plan_nodes(self, plan) -> None:
        """Implants in their colour and bones see-through (the plan controller shows the chosen drag handles)."""
        for role in ("cup", "head", "stem"):
            plan.nodes[role].GetDisplayNode().SetColor(*IMPLANT_RGB)
        if self.session.segmentation_node is not None:
            self.session.segmentation_node.GetDisplayNode().SetOpacity3D(BONE_OPACITY_WITH_PLAN)
        self._hide_landmark_labels()

    def _hide_landmark_labels(self) -> None:
        """Thirty overlapping landmark names would hide the implants; the points stay."""
        landmark_nodes = self.session.landmark_nodes
        for node in landmark_nodes.nodes.values() if landmark_nodes else ():
            node.GetDisplayNode().SetPointLabelsVisibility(False)
