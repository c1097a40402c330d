"""Undo steps of the browser planner: one per edit, however slowly a drag's steps arrive."""

import numpy as np

from SurgicalAIPlannerLib.web.plan_controller import PlanHistory, PlanSnapshot


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def snapshot(cup_x: float = 0.0, cut_z: float = 0.0, implants: str = "cup 52") -> PlanSnapshot:
    cup = np.eye(4)
    cup[0, 3] = cup_x
    return PlanSnapshot(implants, {"cupTransform": cup, "stemTransform": np.eye(4)},
                        np.array([0.0, 0.0, cut_z]), np.array([0.0, 0.0, 1.0]), ())


def history_after(*edits: tuple[float, PlanSnapshot]) -> PlanHistory:
    """A history started from ``snapshot()`` that then saw each (pause in seconds, new snapshot) in turn."""
    clock = Clock()
    history = PlanHistory(snapshot(), clock)
    for pause, edited in edits:
        clock.now += pause
        history.changed(edited)
    return history


def test_a_slow_drag_of_one_handle_is_one_undo_step():
    """Steps 2 s apart (a render on a loaded machine) of the same cup drag undo together."""
    history = history_after(*[(2.0, snapshot(cup_x=float(step))) for step in range(1, 5)])
    assert len(history.undo_stack) == 1
    assert history.undo().matrices["cupTransform"][0, 3] == 0.0


def test_edits_of_different_parts_are_separate_steps_after_a_pause():
    history = history_after((2.0, snapshot(cup_x=5.0)),
                            (2.0, snapshot(cup_x=5.0, cut_z=3.0)),  # the neck cut, not the cup
                            (2.0, snapshot(cup_x=5.0, cut_z=3.0, implants="cup 54")))
    assert len(history.undo_stack) == 3
    assert history.undo().implants == "cup 52" and history.current.cut_center[2] == 3.0


def test_the_same_handle_moved_again_after_a_long_pause_is_a_new_step():
    history = history_after((1.0, snapshot(cup_x=1.0)), (10.0, snapshot(cup_x=2.0)))
    assert len(history.undo_stack) == 2
    assert history.undo().matrices["cupTransform"][0, 3] == 1.0


def test_a_view_drag_is_one_undo_step_however_long_its_pauses():
    """Press to release in the 3D view: steps 5 s apart (past every time rule) still undo together, and the next
    change after the release is a step of its own."""
    clock = Clock()
    history = PlanHistory(snapshot(), clock)
    history.begin_gesture()
    for step in range(1, 4):
        clock.now += 5.0
        history.changed(snapshot(cup_x=float(step)))
    history.end_gesture()
    clock.now += 0.1
    history.changed(snapshot(cup_x=3.0, implants="cup 54"))
    assert len(history.undo_stack) == 2
    assert history.undo().implants == "cup 52" and history.current.matrices["cupTransform"][0, 3] == 3.0
    assert history.undo().matrices["cupTransform"][0, 3] == 0.0


def test_two_view_drags_are_two_undo_steps_even_in_quick_succession():
    clock = Clock()
    history = PlanHistory(snapshot(), clock)
    for drag in range(2):
        history.begin_gesture()
        for step in range(1, 3):
            clock.now += 0.2
            history.changed(snapshot(cup_x=10.0 * drag + step))
        history.end_gesture()
    assert len(history.undo_stack) == 2
    assert history.undo().matrices["cupTransform"][0, 3] == 2.0
