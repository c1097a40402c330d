"""`make bench-interactive`: time from a node change to updated THA metrics, on real MRML nodes.

A plan is proposed on the analytic hip landmark set (Testing/Python/conftest.py) with the sample's real
left hip-bone mask for cup coverage, then the cup transform, the stem transform and the neck-cut plane are
moved in turn; each change is timed from the node's Set... call until the observer has recomputed every
metric. Prints the figures and ends with one line of JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import vtk

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Testing" / "Python"))
sys.path.insert(0, str(REPO))

from conftest import _analytic_hip_landmarks  # noqa: E402

from SurgicalAIPlannerLib.imaging import load_labelmap  # noqa: E402
from SurgicalAIPlannerLib.implants import load_catalog  # noqa: E402
from SurgicalAIPlannerLib.planning.hip_anatomy import hip_anatomy_from_landmarks  # noqa: E402
from SurgicalAIPlannerLib.planning.request import DeterministicParser  # noqa: E402
from SurgicalAIPlannerLib.planning.sampling import mask_of  # noqa: E402
from SurgicalAIPlannerLib.planning.tha_session import ThaPlanSession  # noqa: E402
from SurgicalAIPlannerLib.resources import sample_reference_labels_path  # noqa: E402
from SurgicalAIPlannerLib.scene import new_headless_context  # noqa: E402

CHANGES_PER_NODE = 300
HIP_LEFT = 77


def timed_changes(session: ThaPlanSession) -> dict[str, list[float]]:
    updates = []
    session.add_listener(lambda s: updates.append(time.perf_counter()))
    rng = np.random.default_rng(0)
    cup, stem, plane = session.nodes["cupTransform"], session.nodes["stemTransform"], session.nodes["neckCut"]
    base = {node: vtk.vtkMatrix4x4() for node in (cup, stem)}
    for node, matrix in base.items():
        node.GetMatrixTransformToParent(matrix)
    center = np.zeros(3)
    plane.GetCenterWorld(center)
    timings: dict[str, list[float]] = {"cup transform": [], "stem transform": [], "neck-cut plane": []}
    for _ in range(CHANGES_PER_NODE):
        for name, change in (("cup transform", lambda d: _shift(cup, base[cup], d)),
                             ("stem transform", lambda d: _shift(stem, base[stem], d)),
                             ("neck-cut plane", lambda d: plane.SetCenterWorld(*(center + d)))):
            delta = rng.uniform(-3.0, 3.0, 3)
            count = len(updates)
            started = time.perf_counter()
            change(delta)
            assert len(updates) == count + 1, "exactly one recomputation per node change"
            timings[name].append((updates[-1] - started) * 1000.0)
    return timings


def _shift(node, base: vtk.vtkMatrix4x4, delta: np.ndarray) -> None:
    matrix = vtk.vtkMatrix4x4()
    matrix.DeepCopy(base)
    for row in range(3):
        matrix.SetElement(row, 3, base.GetElement(row, 3) + float(delta[row]))
    node.SetMatrixTransformToParent(matrix)


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share))


def main() -> int:
    landmarks = _analytic_hip_landmarks(native_lld_mm=3.0)
    request = DeterministicParser().parse("THA left, 12 mm press-fit stem").request
    bone = mask_of(load_labelmap(sample_reference_labels_path()), HIP_LEFT)
    session = ThaPlanSession(new_headless_context(), hip_anatomy_from_landmarks(landmarks, "left"), load_catalog(),
                             request, landmarks, bone_mask=bone)
    session.propose()
    timings = timed_changes(session)
    everything = [t for values in timings.values() for t in values]
    figures = {"benchmark": "interactive", "changes": len(everything), "metrics_per_update": len(session.metrics),
               "median_ms": round(statistics.median(everything), 3), "p99_ms": round(percentile(everything, 99), 3),
               "max_ms": round(max(everything), 3),
               "by_node": {name: {"median_ms": round(statistics.median(v), 3), "p99_ms": round(percentile(v, 99), 3)}
                           for name, v in timings.items()},
               "targets": {"median_ms": 10.0, "p99_ms": 50.0}}
    figures["pass"] = figures["median_ms"] <= 10.0 and figures["p99_ms"] <= 50.0
    print(f"THA live metrics: {figures['changes']} node changes, {figures['metrics_per_update']} metrics each")
    for name, values in figures["by_node"].items():
        print(f"  {name:<15} median {values['median_ms']:.3f} ms   p99 {values['p99_ms']:.3f} ms")
    print(f"  all             median {figures['median_ms']:.3f} ms   p99 {figures['p99_ms']:.3f} ms   max {figures['max_ms']:.3f} ms"
          f"   (targets: median <= 10 ms, p99 <= 50 ms) -> {'PASS' if figures['pass'] else 'FAIL'}")
    print(json.dumps(figures))
    return 0 if figures["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
