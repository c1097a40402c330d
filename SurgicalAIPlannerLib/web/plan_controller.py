"""The plan side of the page: propose, edit, undo/redo, autosave, sign-off and export of a THA plan.

All planning is ``PlannerSession`` / ``ThaPlanSession``'s; this class only moves values between them and the
page's state. Every plan change, whatever made it (a page control, a handle dragged in the 3D view, undo),
arrives through ``ThaPlanSession``'s listener, which refreshes the page, records the undo step and schedules
the autosave.
"""

from __future__ import annotations

import asyncio
import logging
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..governance.audit import AuditLog
from ..governance.commands import AUDIT_FILE
from ..governance.signoff import current_signoff, sign
from ..planning.autoplan import Decision
from ..planning.cup_angles import CupOrientation
from ..planning.plan_io import PLAN_JSON, PLAN_SCENE
from ..planning.request import RequestError
from ..planning.tha_metrics import ThaImplants
from ..planning.tha_session import HANDLE_ROLES, ThaPlanSession
from ..session import PlannerSession
from .background import PageTask

log = logging.getLogger(__name__)

# Edits from the page closer together than this form one undo step (a slider being dragged, a number being typed).
# A drag in the 3D view is one undo step from press to release, however long it takes (PlanHistory.begin_gesture).
UNDO_MERGE_S = 1.0
# Page edits of the same part of the plan merge over longer pauses: on a loaded machine a render can take over a
# second between two steps of the same slider drag.
SAME_PART_MERGE_S = 3.0
# The autosave (plan JSON + .mrb, about 0.5 s on the sample) waits for the edits to pause this long.
AUTOSAVE_DELAY_S = 0.5
# Page angle values are rounded to this many decimals; a smaller difference is not an edit.
ANGLE_DECIMALS = 1
FILES_ROUTE = "plan-files"
# Handles shown on a new proposal: the cup and the neck cut, the two things a surgeon adjusts most.
DEFAULT_HANDLES = ["cup", "neckCut"]


@dataclass(frozen=True)
class PlanSnapshot:
    """What undo puts back: implants, transform matrices and the neck cut."""

    implants: ThaImplants
    matrices: dict[str, np.ndarray]
    cut_center: np.ndarray
    cut_normal: np.ndarray
    decisions: tuple[Decision, ...]

    @classmethod
    def of(cls, plan: ThaPlanSession) -> "PlanSnapshot":
        geometry = plan.geometry()
        return cls(plan.implants, plan.node_matrices(), geometry.cut_center, geometry.cut_normal, plan.decisions)

    def parts_changed_from(self, other: "PlanSnapshot") -> frozenset[str]:
        """Names of what differs from ``other``: node names of moved transforms, "implants", "neckCut"."""
        parts = {name for name, matrix in self.matrices.items()
                 if name not in other.matrices or not np.allclose(matrix, other.matrices[name])}
        if self.implants != other.implants:
            parts.add("implants")
        if not (np.allclose(self.cut_center, other.cut_center) and np.allclose(self.cut_normal, other.cut_normal)):
            parts.add("neckCut")
        return frozenset(parts)

    def restore_into(self, plan: ThaPlanSession) -> None:
        plan.restore(self.implants, self.matrices, self.cut_center, self.cut_normal, self.decisions)


class PlanHistory:
    """Undo/redo stacks of plan snapshots; ``current`` is the snapshot the page shows."""

    def __init__(self, current: PlanSnapshot, clock: Callable[[], float] = time.monotonic) -> None:
        self.current = current
        self.undo_stack: list[PlanSnapshot] = []
        self.redo_stack: list[PlanSnapshot] = []
        self._clock = clock
        self._last_change = -math.inf
        self._last_parts: frozenset[str] = frozenset()
        self._in_gesture = False
        self._gesture_has_step = False

    def begin_gesture(self) -> None:
        """A press in the 3D view: every change until the release is one undo step. Grouping by time split a
        handle drag in two when a render on a loaded machine paused it for longer than SAME_PART_MERGE_S."""
        self._in_gesture, self._gesture_has_step = True, False

    def end_gesture(self) -> None:
        """The release: the drag's step is complete, the next change starts a new one."""
        self._in_gesture, self._last_change = False, -math.inf

    @property
    def in_gesture(self) -> bool:
        return self._in_gesture

    def changed(self, snapshot: PlanSnapshot) -> None:
        now = self._clock()
        parts = snapshot.parts_changed_from(self.current)
        if self._in_gesture:
            same_edit, self._gesture_has_step = self._gesture_has_step, True
        else:
            pause = now - self._last_change
            same_edit = pause <= UNDO_MERGE_S or (parts == self._last_parts and pause <= SAME_PART_MERGE_S)
        if not same_edit or not self.undo_stack:
            self.undo_stack.append(self.current)
        self._last_change, self._last_parts = now, parts
        self.current = snapshot
        self.redo_stack.clear()

    def undo(self) -> PlanSnapshot:
        self.redo_stack.append(self.current)
        self.current = self.undo_stack.pop()
        self._last_change = -math.inf
        return self.current

    def redo(self) -> PlanSnapshot:
        self.undo_stack.append(self.current)
        self.current = self.redo_stack.pop()
        self._last_change = -math.inf
        return self.current


def metric_row(measurement) -> dict:
    value = measurement.value
    shown = "—" if value is None or math.isnan(value) else f"{value:.1f}"
    unit = "" if measurement.unit == "1" else measurement.unit  # UCUM's "1" (a count or a yes/no) reads as noise
    return {"key": measurement.key, "label": measurement.label, "value": shown, "unit": unit,
            "target": measurement.target, "status": measurement.status}


class PlanController:
    """Binds one session's plan to the page state; ``plan_dir`` holds its autosaved files (served for download)."""

    def __init__(self, server, session: PlannerSession, plan_dir: Path, on_plan_shown=None) -> None:
        self.server, self.state = server, server.state
        self.session = session
        self.plan_dir = plan_dir
        self.audit = AuditLog(plan_dir / AUDIT_FILE)
        self.history: PlanHistory | None = None
        self.on_plan_shown = on_plan_shown  # app hook: show the new plan's nodes (colours, handles)
        self._restoring = False
        self._autosave_handle: asyncio.TimerHandle | None = None
        self._saves = 0
        self.report = PageTask(self.state, "report", "Report")
        self._reset_state()
        for name, action in (("propose_plan", self.propose), ("undo_plan", self.undo), ("redo_plan", self.redo),
                             ("sign_plan", self.sign_off), ("make_report", self.make_report)):
            server.trigger(name)(action)  # the page's buttons call trigger(name)
        self.state.change("cup_inclination", "cup_anteversion")(self._on_cup_angles)
        self.state.change("cup_id", "head_id", "stem_id")(self._on_implant_ids)
        self.state.change("plan_handles")(self._on_handles)

    @property
    def plan(self) -> ThaPlanSession | None:
        return self.session.plan

    def use_session(self, session: PlannerSession) -> None:
        """A new case replaced the scene: forget the plan of the old one."""
        self.session, self.history = session, None
        self._reset_state()

    def forget_plan(self) -> None:
        """The bones changed under the plan (a new segmentation): take it out of the scene and the page."""
        if self.plan is not None:
            self.plan.remove_nodes()
            self.session.plan = None
        request, side = self.state.plan_request, self.state.plan_side  # the surgeon's words stay for the new bones
        self.use_session(self.session)
        self.state.update({"plan_request": request, "plan_side": side})

    def _reset_state(self) -> None:
        self.state.update({
            "plan_procedure": "tha", "plan_side": "from request",
            "plan_request": "Total hip arthroplasty, left, 12 mm press-fit stem, avoid leg length discrepancy > 5 mm",
            "plan_status": "none", "plan_error": "", "plan_understood": [], "plan_not_understood": [],
            "plan_decisions": [], "plan_metrics": [], "plan_warnings": [], "plan_saved": "", "plan_files": {}, "report_files": {},
            "cup_ids": [], "head_ids": [], "stem_ids": [], "cup_id": None, "head_id": None, "stem_id": None,
            "cup_inclination": None, "cup_anteversion": None, "can_undo": False, "can_redo": False,
            "surgeon_name": "", "signed_by": "", "plan_handles": list(DEFAULT_HANDLES),
        })

    # ------------------------------------------------------------------------------ page actions
    def propose(self) -> None:
        side = None if self.state.plan_side == "from request" else self.state.plan_side
        previous = self.plan
        try:
            plan = self.session.propose_tha_plan(self.state.plan_request, side=side)
        except (RequestError, RuntimeError, ValueError) as error:
            log.warning("plan refused: %s", error)
            self.state.plan_error = str(error)
            return
        if previous is not None:
            previous.remove_nodes()  # the new proposal replaces the shown one
        self.state.plan_error = ""
        self.history = PlanHistory(PlanSnapshot.of(plan))
        catalog = plan.catalog
        self.state.update({"cup_ids": sorted(catalog.cups), "head_ids": sorted(catalog.heads),
                           "stem_ids": sorted(catalog.stems),
                           "plan_understood": [f"{u.phrase} → {u.meaning}" for u in plan.parsed.understood],
                           "plan_not_understood": list(plan.parsed.not_understood),
                           "plan_decisions": [{"key": d.key, "value": str(d.value), "reason": d.reason}
                                              for d in plan.decisions]})
        plan.add_listener(self._on_plan_changed)
        if self.on_plan_shown:
            self.on_plan_shown(plan)
        self._on_handles(self.state.plan_handles)
        self._show(plan)
        self._save()

    def begin_gesture(self) -> None:
        """A press in the 3D view. Undo and redo wait for the release: on a loaded machine the view's queued drag
        steps still arrive after an undo clicked meanwhile, and would move the plan again (seen in CI)."""
        if self.history:
            self.history.begin_gesture()
            with self.state:
                self._show_undo_redo()

    def end_gesture(self) -> None:
        if self.history:
            self.history.end_gesture()
            with self.state:
                self._show_undo_redo()

    def _show_undo_redo(self) -> None:
        history = self.history
        self.state.can_undo = bool(history and history.undo_stack and not history.in_gesture)
        self.state.can_redo = bool(history and history.redo_stack and not history.in_gesture)

    def undo(self) -> None:
        if self.history and self.history.undo_stack:
            self._put_back(self.history.undo())

    def redo(self) -> None:
        if self.history and self.history.redo_stack:
            self._put_back(self.history.redo())

    def sign_off(self) -> None:
        """The named surgeon signs the plan file as it is now; any later change makes it "proposed" again."""
        if self.plan is None:
            return
        self._save()
        try:
            record = sign(self.plan_dir / PLAN_JSON, self.state.surgeon_name, self.audit)
        except ValueError as error:
            self.state.plan_error = str(error)
            return
        self.state.plan_error = ""
        self._show_signoff()
        log.info("plan signed by %s", record.surgeon)

    def make_report(self) -> None:
        """The HTML + PDF report of the plan as saved now, by ``surgical-planner report`` in its own process (its
        offscreen pictures need their own scene and render windows; the page stays live meanwhile)."""
        if self.plan is None:
            return
        self._save()
        command = [sys.executable, "-m", "SurgicalAIPlannerLib", "report", str(self.plan_dir)]
        self.report.start(lambda _progress: _run_report(command), self._show_report)

    def _show_report(self, _result) -> str:
        self.state.report_files = {name: f"{FILES_ROUTE}/exports/{name}?v={self._saves}"
                                   for name in ("report.pdf", "report.html")}
        signed = current_signoff(self.plan_dir / PLAN_JSON) is not None
        return "report written" + (" (signed plan)" if signed else " (a DRAFT: the plan is not signed)")

    # ------------------------------------------------------------------------------ edits from the page
    def _on_cup_angles(self, cup_inclination=None, cup_anteversion=None, **_) -> None:
        if self.plan is None or self._restoring or cup_inclination in (None, "") or cup_anteversion in (None, ""):
            return
        wanted = CupOrientation(float(cup_inclination), float(cup_anteversion))
        now = self.plan.cup_orientation()
        tolerance = 0.5 * 10 ** -ANGLE_DECIMALS
        if abs(now.inclination - wanted.inclination) < tolerance and abs(now.anteversion - wanted.anteversion) < tolerance:
            return  # the page shows what the plan has (the value came from the plan)
        self.plan.set_cup_orientation(wanted)

    def _on_implant_ids(self, cup_id=None, head_id=None, stem_id=None, **_) -> None:
        plan = self.plan
        if plan is None or self._restoring or None in (cup_id, head_id, stem_id):
            return
        implants = plan.implants
        if (cup_id, head_id, stem_id) != (implants.cup.id, implants.head.id, implants.stem.id):
            plan.choose_implants(cup_id, head_id, stem_id)

    def _on_handles(self, plan_handles=(), **_) -> None:
        if self.plan is None:
            return
        for role in HANDLE_ROLES:
            self.plan.show_handles(role, role in (plan_handles or ()))

    # ------------------------------------------------------------------------------ plan -> page
    def _on_plan_changed(self, plan: ThaPlanSession) -> None:
        """Listener of the plan session: runs after every metrics update, whatever changed the nodes."""
        if self.history is None:  # the proposal itself, before the history exists
            return
        if not self._restoring:
            self.history.changed(PlanSnapshot.of(plan))
        with self.state:
            self._show(plan)
        self._schedule_autosave()

    def _put_back(self, snapshot: PlanSnapshot) -> None:
        self._restoring = True
        try:
            snapshot.restore_into(self.plan)
        finally:
            self._restoring = False

    def _show(self, plan: ThaPlanSession) -> None:
        orientation = plan.cup_orientation()
        implants = plan.implants
        self.state.update({
            "plan_metrics": [metric_row(m) for m in plan.metrics],
            "plan_warnings": list(plan.warnings),
            "cup_inclination": round(orientation.inclination, ANGLE_DECIMALS),
            "cup_anteversion": round(orientation.anteversion, ANGLE_DECIMALS),
            "cup_id": implants.cup.id, "head_id": implants.head.id, "stem_id": implants.stem.id,
        })
        self._show_undo_redo()
        if self.state.plan_status == "signed":
            self.state.plan_status = "proposed"  # a change after signing needs a new signature
            self.state.signed_by = ""
        elif self.state.plan_status == "none":
            self.state.plan_status = "proposed"

    # ------------------------------------------------------------------------------ files
    def _schedule_autosave(self) -> None:
        """Save once the edits pause (a drag fires many updates); a closed tab loses at most this delay."""
        if self._autosave_handle is not None:
            self._autosave_handle.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (plain Python use): save now
            self._save()
            return
        self._autosave_handle = loop.call_later(AUTOSAVE_DELAY_S, self._autosave)

    def _autosave(self) -> None:
        self._autosave_handle = None
        with self.state:
            self._save()

    def _save(self) -> None:
        """Plan JSON + .mrb into the session's folder (both atomic), and fresh download links."""
        if self._autosave_handle is not None:
            self._autosave_handle.cancel()
            self._autosave_handle = None
        self.session.save_plan(self.plan_dir)
        self._saves += 1
        self.state.plan_saved = time.strftime("%H:%M:%S")
        # The version query makes the browser fetch the new file rather than a cached one.
        self.state.plan_files = {name: f"{FILES_ROUTE}/{name}?v={self._saves}" for name in (PLAN_JSON, PLAN_SCENE)}
        self._show_signoff()

    def _show_signoff(self) -> None:
        record = current_signoff(self.plan_dir / PLAN_JSON)
        self.state.plan_status = "signed" if record else "proposed"
        self.state.signed_by = f"{record.surgeon} at {record.signed_at}" if record else ""


def _run_report(command: list[str]) -> None:
    """Run the report command; its last error line is raised for the page."""
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        lines = (finished.stderr or finished.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"status {finished.returncode}")
