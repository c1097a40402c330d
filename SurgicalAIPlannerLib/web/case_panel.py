"""The case sections of the side panel: PACS search and pull, AI segmentation, landmarks (layout only).

The controllers (``PacsController``, ``SegmentationController``, ``LandmarksController``) do the work.
Elements the browser tests read carry ``data-testid`` attributes.
"""

from __future__ import annotations

from trame.widgets import html
from trame.widgets import vuetify3 as v3

from .widgets import task_progress, testid


def pacs_section() -> None:
    """Shown when the server was started with a PACS (``--pacs-url``)."""
    with html.Div(v_if="pacs_url", classes="mt-3", raw_attrs=testid("pacs")):
        html.Div("PACS {{ pacs_url }}", classes="text-body-2 font-weight-bold")
        with html.Div(classes="d-flex ga-2 mt-1"):
            v3.VTextField(label="Patient ID", v_model=("pacs_patient_id",), density="compact", hide_details=True,
                          raw_attrs=testid("pacs-patient-id"))
            v3.VTextField(label="Study date (YYYYMMDD)", v_model=("pacs_study_date",), density="compact",
                          hide_details=True)
            v3.VBtn("Search", click="trigger('pacs_search')", disabled=("pacs_running",), raw_attrs=testid("pacs-search"))
        with v3.VTable(v_if="pacs_studies.length", density="compact", raw_attrs=testid("pacs-studies")):
            with html.Tbody():
                with html.Tr(v_for="study in pacs_studies", key="study.uid"):
                    html.Td("{{ study.patient_id }}")
                    html.Td("{{ study.date }}")
                    html.Td("{{ study.description }}")
                    with html.Td():
                        v3.VBtn("Pull", click="trigger('pacs_pull', [study.uid])", size="small",
                                disabled=("pacs_running",), raw_attrs=testid("pacs-pull"))
        task_progress("pacs", "cancel_pacs_pull")


def segmentation_section() -> None:
    with v3.VCard(title="AI segmentation", density="compact", flat=True):
        with v3.VCardText():
            with html.Div(classes="d-flex ga-2"):
                v3.VSelect(label="Model", v_model=("seg_model",), items=("seg_models",), density="compact",
                           hide_details=True, raw_attrs=testid("seg-model"))
                v3.VSelect(label="Device", v_model=("seg_device",), items=("seg_devices",), density="compact",
                           hide_details=True, style="max-width: 110px")
            html.Div("{{ seg_device_note }}", classes="text-caption mt-1", raw_attrs=testid("seg-device-note"))
            v3.VBtn("Run segmentation", click="trigger('run_segmentation')", disabled=("seg_running",), block=True,
                    classes="mt-2", raw_attrs=testid("run-segmentation"))
            task_progress("seg", "cancel_segmentation")


def landmarks_section() -> None:
    with v3.VCard(title="Landmarks", density="compact", flat=True):
        with v3.VCardText():
            v3.VBtn("Detect landmarks", click="trigger('detect_landmarks')", disabled=("landmarks_running",),
                    block=True, raw_attrs=testid("detect-landmarks"))
            task_progress("landmarks")
            html.Div("Click a row to centre the slice views on it; drag a point in a view to correct it.",
                     v_if="landmark_rows.length", classes="text-caption mt-1")
        with v3.VTable(v_if="landmark_rows.length", density="compact", height=260, fixed_header=True,
                       raw_attrs=testid("landmarks-table")):
            with html.Thead(), html.Tr():
                for title in ("Landmark", "Confidence", "Method", "Edited"):
                    html.Th(title)
            with html.Tbody():
                with html.Tr(v_for="row in landmark_rows", key="row.name", click="trigger('jump_to_landmark', [row.name])",
                             raw_attrs=[':data-name="row.name"'], style="cursor: pointer",
                             classes=("row.present ? '' : 'text-disabled'",)):
                    html.Td("{{ row.name }}", title=("row.note",))
                    html.Td("{{ row.present ? row.confidence.toFixed(2) : 'missing' }}", raw_attrs=testid("landmark-confidence"))
                    html.Td("{{ row.method }}")
                    html.Td("{{ row.user_edited ? 'user' : '' }}", raw_attrs=testid("landmark-edited"))
