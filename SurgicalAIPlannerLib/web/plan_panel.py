"""The plan section of the side panel (layout only; ``PlanController`` does the work).

Elements the browser tests read carry ``data-testid`` attributes.
"""

from __future__ import annotations

from trame.widgets import html
from trame.widgets import vuetify3 as v3

from .widgets import task_progress, testid

STATUS_COLOURS = {"ok": "", "info": "", "warning": "bg-amber-darken-3", "violation": "bg-red-darken-3"}
SIDES = ["from request", "left", "right"]
HANDLE_LABELS = {"cup": "Cup", "stem": "Stem", "neckCut": "Neck cut"}


def plan_section() -> None:
    with v3.VCard(title="THA plan", density="compact", flat=True):
        with v3.VCardText():
            _request_form()
            _understanding()
            _implants()
            _cup_controls()
            _handles()
            _edit_buttons()
    _metrics_table()
    _decisions()
    _sign_off_and_files()


def _request_form() -> None:
    with html.Div(classes="d-flex ga-2"):
        v3.VSelect(label="Procedure", v_model=("plan_procedure",), items=("[{title: 'Total hip arthroplasty', value: 'tha'}]",),
                   density="compact", hide_details=True)
        v3.VSelect(label="Side", v_model=("plan_side",), items=(str(SIDES),), density="compact", hide_details=True,
                   style="max-width: 140px", raw_attrs=testid("plan-side"))
    v3.VTextarea(label="Request", v_model=("plan_request",), rows=3, auto_grow=True, density="compact",
                 hide_details=True, classes="mt-2", raw_attrs=testid("plan-request"))
    v3.VBtn("Propose plan", click="trigger('propose_plan')", color="primary", block=True, classes="mt-2",
            raw_attrs=testid("propose-plan"))
    html.Div("{{ plan_error }}", v_if="plan_error", classes="text-error text-body-2 mt-1", raw_attrs=testid("plan-error"))
    html.Div("Plan: {{ plan_status }}{{ signed_by ? ', signed by ' + signed_by : '' }}", classes="text-body-2 mt-1",
             raw_attrs=testid("plan-status"))


def _understanding() -> None:
    with html.Div(v_if="plan_understood.length || plan_not_understood.length", classes="text-body-2 mt-2",
                  raw_attrs=testid("plan-understanding")):
        html.Div("Understood:", classes="font-weight-bold")
        html.Div("• {{ line }}", v_for="line in plan_understood", key="line")
        html.Div("Not understood:", v_if="plan_not_understood.length", classes="font-weight-bold text-warning")
        html.Div("• {{ phrase }}", v_for="phrase in plan_not_understood", key="phrase", classes="text-warning")


def _implants() -> None:
    with html.Div(v_if="plan_status !== 'none'", classes="mt-2"):
        for kind in ("cup", "head", "stem"):
            v3.VSelect(label=kind.capitalize(), v_model=(f"{kind}_id",), items=(f"{kind}_ids", []), density="compact",
                       hide_details=True, classes="mt-1", raw_attrs=testid(f"{kind}-id"))


def _cup_controls() -> None:
    with html.Div(v_if="plan_status !== 'none'", classes="mt-2"):
        for name, label, low, high in (("cup_inclination", "Cup inclination (°)", 20, 70),
                                       ("cup_anteversion", "Cup anteversion (°)", -10, 40)):
            with html.Div(classes="d-flex align-center ga-2"):
                v3.VSlider(v_model=(name,), min=low, max=high, step=0.5, label=label, density="compact",
                           hide_details=True)
                v3.VTextField(v_model=(name,), type="number", step=0.5, density="compact", hide_details=True,
                              style="max-width: 90px", raw_attrs=testid(name.replace("_", "-")))


def _handles() -> None:
    """Which objects show Slicer's drag handles in the 3D view."""
    with html.Div(v_if="plan_status !== 'none'", classes="d-flex align-center ga-2 mt-2"):
        html.Span("Handles:", classes="text-body-2")
        with v3.VBtnToggle(v_model=("plan_handles",), multiple=True, density="compact", variant="outlined",
                           divided=True, raw_attrs=testid("plan-handles")):
            for role, label in HANDLE_LABELS.items():
                v3.VBtn(label, value=role, size="small", raw_attrs=testid(f"handles-{role}"))


def _edit_buttons() -> None:
    with html.Div(v_if="plan_status !== 'none'", classes="d-flex ga-2 mt-2"):
        v3.VBtn("Undo", click="trigger('undo_plan')", disabled=("!can_undo",), prepend_icon="mdi-undo",
                raw_attrs=testid("undo"))
        v3.VBtn("Redo", click="trigger('redo_plan')", disabled=("!can_redo",), prepend_icon="mdi-redo",
                raw_attrs=testid("redo"))


def _metrics_table() -> None:
    with v3.VCard(title="Metrics", v_if="plan_metrics.length", density="compact", flat=True):
        html.Div("⚠ {{ warning }}", v_for="warning in plan_warnings", key="warning",
                 classes="text-warning text-body-2 px-4")
        with v3.VTable(density="compact", raw_attrs=testid("metrics-table")):
            with html.Thead(), html.Tr():
                for title in ("Measure", "Value", "Target", "Status"):
                    html.Th(title)
            with html.Tbody():
                with html.Tr(v_for="row in plan_metrics", key="row.key", raw_attrs=[':data-key="row.key"'],
                             classes=(f"{STATUS_COLOURS}[row.status]",)):
                    html.Td("{{ row.label }}")
                    html.Td("{{ row.value }} {{ row.unit }}", raw_attrs=['data-testid="metric-value"'])
                    html.Td("{{ row.target }}")
                    html.Td("{{ row.status }}", raw_attrs=['data-testid="metric-status"'])


def _decisions() -> None:
    with v3.VCard(title="Why this plan", v_if="plan_decisions.length", density="compact", flat=True):
        with v3.VCardText(classes="text-body-2", raw_attrs=testid("plan-decisions")):
            with html.Div(v_for="d in plan_decisions", key="d.key + d.value", classes="mb-1"):
                html.Span("{{ d.key }}: {{ d.value }}", classes="font-weight-bold")
                html.Span(" — {{ d.reason }}")


def _sign_off_and_files() -> None:
    with v3.VCard(title="Sign-off and files", v_if="plan_status !== 'none'", density="compact", flat=True):
        with v3.VCardText():
            v3.VTextField(label="Surgeon's name", v_model=("surgeon_name",), density="compact", hide_details=True,
                          raw_attrs=testid("surgeon-name"))
            v3.VBtn("Sign plan", click="trigger('sign_plan')", disabled=("!surgeon_name",), classes="mt-2",
                    raw_attrs=testid("sign-plan"))
            html.Div("Autosaved {{ plan_saved }}", classes="text-caption mt-2", raw_attrs=testid("plan-saved"))
            with html.Div(classes="d-flex ga-2 mt-1"):
                html.A("Plan JSON", href=("plan_files['tha_plan.json']",), download="tha_plan.json",
                       raw_attrs=testid("download-json"))
                html.A("Scene (.mrb)", href=("plan_files['tha_plan.mrb']",), download="tha_plan.mrb",
                       raw_attrs=testid("download-mrb"))
            v3.VBtn("Make report", click="trigger('make_report')", disabled=("report_running",), size="small",
                    classes="mt-2", raw_attrs=testid("make-report"))
            task_progress("report")
            with html.Div(v_if="report_files['report.pdf']", classes="d-flex ga-2"):
                html.A("Report (PDF)", href=("report_files['report.pdf']",), download="report.pdf",
                       raw_attrs=testid("download-report-pdf"))
                html.A("Report (HTML)", href=("report_files['report.html']",), download="report.html")
