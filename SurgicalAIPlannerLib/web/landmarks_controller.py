"""The page's landmarks: detection in the background, the table (confidence, method, user-edited), jump-to.

A landmark dragged in a view is marked user-edited by ``LandmarkNodes``; its listener refreshes the table.
"""

from __future__ import annotations

from collections.abc import Callable

import slicer

from ..session import PlannerSession
from .background import PageTask


class LandmarksController:
    def __init__(self, server, session_of: Callable[[], PlannerSession]) -> None:
        self.state = server.state
        self.session_of = session_of
        self.run = PageTask(self.state, "landmarks", "Landmark detection")
        self.state.landmark_rows = []
        server.trigger("detect_landmarks")(self.start)
        server.trigger("jump_to_landmark")(self.jump_to)

    def start(self) -> None:
        session = self.session_of()
        if session.labels is None:
            self.state.landmarks_error = "segment the bones (or load a segmentation) first"
            return
        self.run.start(lambda progress: session.find_landmarks(lambda message: progress(0.0, message)),
                       lambda landmarks: self._use(session, landmarks))

    def _use(self, session: PlannerSession, landmarks) -> str:
        session.use_landmarks(landmarks)
        session.landmark_nodes.add_listener(lambda *_: self._refresh_after_edit())
        self.refresh()
        found = sum(1 for lm in landmarks if lm.present)
        return f"{found} of {len(self.state.landmark_rows)} landmarks found"

    def refresh(self) -> None:
        """The table from the session (empty when its landmarks are still to be detected)."""
        self.state.landmark_rows = self.session_of().landmark_table()

    def _refresh_after_edit(self) -> None:
        with self.state:
            self.refresh()

    def jump_to(self, name: str) -> None:
        """Centre the slice views on the landmark (RAS mm)."""
        landmarks = self.session_of().landmarks
        if landmarks is None or name not in landmarks:
            return
        r, a, s = landmarks.position(name)
        slicer.vtkMRMLSliceNode.JumpAllSlices(self.session_of().scene, r, a, s, slicer.vtkMRMLSliceNode.CenteredJumpSlice)
