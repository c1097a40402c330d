"""Landmark data shared by detection, planning and export. Positions are RAS mm (MRML's frame)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Landmark:
    """One anatomical point. ``position_ras`` is None when the anatomy is missing (``missing_reason`` says why).

    ``method`` names what produced it (e.g. "sphere-fit", "user"); ``user_edited`` is True once a person moved it.
    ``extras`` holds measured attributes that belong to the point (e.g. head radius, axis direction).
    """

    name: str
    position_ras: np.ndarray | None
    confidence: float = 0.0
    method: str = ""
    missing_reason: str = ""
    user_edited: bool = False
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return self.position_ras is not None


@dataclass
class LandmarkSet:
    """Named landmarks of one patient, keyed by name (e.g. ``femoral_head_center_left``)."""

    landmarks: dict[str, Landmark] = field(default_factory=dict)

    def add(self, landmark: Landmark) -> None:
        self.landmarks[landmark.name] = landmark

    def position(self, name: str) -> np.ndarray:
        """RAS mm of a present landmark; KeyError naming the landmark (and why) otherwise."""
        landmark = self.landmarks.get(name)
        if landmark is None:
            raise KeyError(f"landmark {name!r} was not detected")
        if landmark.position_ras is None:
            raise KeyError(f"landmark {name!r} is missing: {landmark.missing_reason}")
        return np.asarray(landmark.position_ras, dtype=float)

    def __contains__(self, name: str) -> bool:
        return name in self.landmarks and self.landmarks[name].present

    def __iter__(self):
        return iter(self.landmarks.values())
