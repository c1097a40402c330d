"""The page: Slicer's views (3D + three slices) and the workflow side panel, in vuetify widgets.

Only layout lives here; what the buttons do is ``PlannerWebApp``'s. Elements the browser tests read carry
``data-testid`` attributes, so the tests do not depend on vuetify's markup.
"""

from __future__ import annotations

from trame.ui.vuetify3 import VAppLayout
from trame.widgets import html
from trame.widgets import vuetify3 as v3
from trame_server import Server
from trame_server.utils.typed_state import TypedState
from trame_slicer.app.ui import FlexContainer, LoadVolumeButton, LoadVolumeItemsState
from trame_slicer.core import LayoutManager

from .case_panel import landmarks_section, pacs_section, segmentation_section
from .plan_panel import plan_section

PANEL_WIDTH = 440


class PlannerPage:
    """Builds the page once per session; ``upload_ct`` is the CT upload button (chunked upload)."""

    def __init__(self, server: Server, layout_manager: LayoutManager) -> None:
        server.state.trame__title = "Surgical AI Planner"
        with VAppLayout(server, full_height=True) as self.layout:
            self.layout.root.theme = "dark"
            with v3.VAppBar(density="compact"):
                v3.VToolbarTitle("Surgical AI Planner")
                html.Span("{{ case_name }}", classes="text-caption mr-4", raw_attrs=['data-testid="case-name"'])
            with v3.VNavigationDrawer(permanent=True, location="right", width=PANEL_WIDTH):
                self._patient_data_section(server)
                segmentation_section()
                self._bones_section()
                landmarks_section()
                plan_section()
                html.Div("{{ status_message }}", classes="text-caption pa-3", raw_attrs=['data-testid="status-message"'])
            with v3.VMain(), FlexContainer(row=True, fill_height=True, style="height: calc(100vh - 48px);"):
                layout_manager.initialize_layout_grid(self.layout)

    def _patient_data_section(self, server: Server) -> None:
        with v3.VCard(title="Patient data", density="compact", flat=True):
            with v3.VCardText():
                with FlexContainer(row=True):
                    html.Span("Upload a CT (NIfTI, NRRD, or a DICOM series' files):", classes="text-body-2 mr-2")
                    self.upload_ct = LoadVolumeButton(
                        name="Upload CT",
                        load_directory=False,
                        icon="mdi-file-upload",
                        typed_state=TypedState(server.state, LoadVolumeItemsState, namespace="upload_ct"),
                    )
                pacs_section()

    @staticmethod
    def _bones_section() -> None:
        with v3.VCard(title="Bones", density="compact", flat=True):
            with v3.VTable(density="compact", raw_attrs=['data-testid="segments-table"']):
                with html.Thead(), html.Tr():
                    html.Th("Segment")
                    html.Th("Volume (ml)")
                with html.Tbody():
                    with html.Tr(v_for="segment in segments", key="segment.name"):
                        html.Td("{{ segment.name }}")
                        html.Td("{{ segment.ml }}")
