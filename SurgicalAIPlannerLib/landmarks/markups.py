"""Landmarks <-> Slicer markups JSON (``.mrk.json``): one fiducial list, control point label = landmark name.

Positions are written in the file's stated ``coordinateSystem`` (LPS by default, as Slicer writes files;
RAS on request). Each control point's ``description`` says its confidence and method in words; the exact
values (confidence, method, missing reason, user edit, extras) are also kept per point under the
top-level key ``surgicalPlanner``, which Slicer ignores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np

from ..atomic import write_json_atomic
from ..imaging.volume import LPS_TO_RAS
from .model import Landmark, LandmarkSet

SCHEMA = "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#"
CoordinateSystem = Literal["LPS", "RAS"]


class MarkupsFileError(ValueError):
    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem}")


def _jsonable(value: object) -> object:
    if isinstance(value, np.ndarray):
        return [float(x) for x in value.ravel()]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _control_point(index: int, landmark: Landmark, system: CoordinateSystem) -> dict:
    flip = LPS_TO_RAS if system == "LPS" else np.eye(3)
    present = landmark.present
    position = [float(x) for x in flip @ landmark.position_ras] if present else [0.0, 0.0, 0.0]
    if present:
        description = f"confidence {landmark.confidence:.2f}; method: {landmark.method}"
    else:
        description = f"missing: {landmark.missing_reason}"
    return {
        "id": str(index + 1), "label": landmark.name, "description": description, "associatedNodeID": "",
        "position": position, "orientation": [-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0],
        "selected": True, "locked": False, "visibility": present,
        "positionStatus": "defined" if present else "missing",
    }


def to_markups_json(landmarks: LandmarkSet, system: CoordinateSystem = "LPS", name: str = "Landmarks") -> dict:
    """The markups JSON document (a dict) for ``landmarks``."""
    ordered = list(landmarks)
    return {
        "@schema": SCHEMA,
        "markups": [{
            "type": "Fiducial", "coordinateSystem": system, "coordinateUnits": "mm", "locked": False,
            "fixedNumberOfControlPoints": False, "labelFormat": "%N-%d", "lastUsedControlPointNumber": len(ordered),
            "name": name,
            "controlPoints": [_control_point(index, landmark, system) for index, landmark in enumerate(ordered)],
            "measurements": [],
        }],
        "surgicalPlanner": {
            "landmarks": {
                landmark.name: {
                    "confidence": landmark.confidence, "method": landmark.method,
                    "missing_reason": landmark.missing_reason, "user_edited": landmark.user_edited,
                    "extras": {key: _jsonable(value) for key, value in landmark.extras.items()},
                } for landmark in ordered
            },
        },
    }


def write_markups(landmarks: LandmarkSet, path: Path | str, system: CoordinateSystem = "LPS") -> Path:
    """Write ``path`` (.mrk.json) atomically."""
    path = Path(path)
    if not path.name.endswith(".json"):
        raise MarkupsFileError(path, "a markups file must end in .mrk.json (or .json)")
    return write_json_atomic(path, to_markups_json(landmarks, system), indent=2)


def read_markups(path: Path | str) -> LandmarkSet:
    """Landmarks (RAS mm) from a markups JSON file; per-point details from ``surgicalPlanner`` when present."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
        markup = document["markups"][0]
        system = markup.get("coordinateSystem", "LPS")
        points = markup["controlPoints"]
    except FileNotFoundError:
        raise MarkupsFileError(path, "does not exist") from None
    except (json.JSONDecodeError, KeyError, IndexError, TypeError) as error:
        raise MarkupsFileError(path, f"is not a Slicer markups JSON file ({error!r})") from None
    if system not in ("LPS", "RAS"):
        raise MarkupsFileError(path, f"unknown coordinateSystem {system!r}; expected LPS or RAS")
    details = document.get("surgicalPlanner", {}).get("landmarks", {})
    flip = LPS_TO_RAS if system == "LPS" else np.eye(3)
    result = LandmarkSet()
    for point in points:
        detail = details.get(point["label"], {})
        present = point.get("positionStatus", "defined") == "defined"
        result.add(Landmark(
            name=point["label"],
            position_ras=flip @ np.asarray(point["position"], dtype=float) if present else None,
            confidence=float(detail.get("confidence", 1.0 if present else 0.0)),
            method=detail.get("method", "markups file"),
            missing_reason=detail.get("missing_reason", "" if present else "missing in the markups file"),
            user_edited=bool(detail.get("user_edited", False)),
            extras=detail.get("extras", {}),
        ))
    return result
