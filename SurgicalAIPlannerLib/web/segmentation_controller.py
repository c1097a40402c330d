"""The page's AI segmentation: model and device choice, a background run with progress and cancel.

The run is ``PlannerSession.run_segmentation`` in a thread; the result becomes the session's bone
segmentation on the event loop (``use_segmentation_result``), then the app shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..segmentation.device import device_report
from ..segmentation.engine import available_models
from ..session import PlannerSession
from .background import PageTask

DEVICES = ["auto", "cpu", "cuda"]


class SegmentationController:
    def __init__(self, server, session_of: Callable[[], PlannerSession], on_segmented: Callable[[object], None]) -> None:
        """``on_segmented(previous_node)`` runs once the result is the session's segmentation (the old node is passed)."""
        self.state = server.state
        self.session_of = session_of
        self.on_segmented = on_segmented
        self.run = PageTask(self.state, "seg", "Segmentation")
        self.state.update({"seg_models": available_models(), "seg_model": "auto", "seg_devices": DEVICES,
                           "seg_device": "auto", "seg_device_note": device_report("auto")})
        server.trigger("run_segmentation")(self.start)
        server.trigger("cancel_segmentation")(self.run.cancel)
        self.state.change("seg_device")(self._on_device)

    def start(self) -> None:
        session, model, device = self.session_of(), self.state.seg_model, self.state.seg_device
        if session.ct is None:
            self.state.seg_error = "load a CT first"
            return
        self.run.start(lambda progress: session.run_segmentation(model, device, progress),
                       lambda result: self._use(session, result))

    def _use(self, session: PlannerSession, result) -> str:
        previous = session.segmentation_node
        session.use_segmentation_result(result)
        self.on_segmented(previous)
        return f"{result.method} on {result.device}: {result.seconds:.1f} s"

    def _on_device(self, seg_device="auto", **_) -> None:
        self.state.seg_device_note = device_report(seg_device)
