"""Background tasks (progress, cancel, errors) on real threads; the missing-package check."""

from __future__ import annotations

import threading

import pytest

from SurgicalAIPlannerLib.dependencies import missing
from SurgicalAIPlannerLib.tasks import BackgroundTask, TaskCancelled


def test_result_and_progress_reach_the_caller() -> None:
    seen = []

    def work(progress, count):
        for step in range(count):
            progress((step + 1) / count, f"step {step + 1} of {count}")
            seen.append(progress.snapshot())
        return sum(range(count))

    task = BackgroundTask(work, 5, name="sum")
    assert task.wait(10)
    assert task.result() == 10
    assert seen[-1] == (1.0, "step 5 of 5")
    assert [fraction for fraction, _ in seen] == [0.2, 0.4, 0.6, 0.8, 1.0]


def test_cancel_stops_the_work_at_its_next_report() -> None:
    started, release = threading.Event(), threading.Event()
    reached = []

    def work(progress):
        progress(0.1, "first")
        started.set()
        release.wait(10)
        for step in range(100):
            progress(0.1 + step / 200, f"step {step}")
            reached.append(step)
        return "finished"

    task = BackgroundTask(work)
    assert started.wait(10)
    task.cancel()
    release.set()
    assert task.wait(10)
    with pytest.raises(TaskCancelled):
        task.result()
    assert reached == []  # the first report after cancel raised


def test_errors_are_raised_in_the_caller_thread() -> None:
    def work(progress):
        raise ValueError("ct.nii.gz: does not exist")

    task = BackgroundTask(work)
    task.wait(10)
    with pytest.raises(ValueError, match="does not exist"):
        task.result()


def test_result_before_the_end_is_refused() -> None:
    release = threading.Event()
    task = BackgroundTask(lambda progress: release.wait(10))
    with pytest.raises(RuntimeError, match="still running"):
        task.result()
    release.set()
    task.wait(10)


def test_missing_packages_are_listed_by_import_name() -> None:
    assert missing({"numpy": "numpy", "surely_absent_pkg_xyz": "surely-absent==1.0", "absent_parent.child": "x"}) == {
        "surely_absent_pkg_xyz": "surely-absent==1.0", "absent_parent.child": "x"}
