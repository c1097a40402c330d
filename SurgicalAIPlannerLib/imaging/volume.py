"""The one volume type every loader returns.

Geometry follows ITK/DICOM conventions: ``array`` is indexed ``[k, j, i]`` (slice, row, column),
``spacing`` is ``(i, j, k)`` in mm, ``direction`` holds the unit vectors of the i, j, k axes as its
columns, and ``origin`` is the centre of voxel (0, 0, 0). ``frame`` says which patient frame
``origin`` and ``direction`` are expressed in: "LPS" (DICOM, ITK) or "RAS" (MRML, NIfTI display).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

Frame = Literal["LPS", "RAS"]

# Flips x and y: converts points and directions between LPS and RAS (its own inverse).
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


@dataclass(frozen=True)
class SeriesIdentity:
    """Who and what the image is, when the source says so (DICOM); empty for plain files."""

    patient_id: str = ""
    patient_name: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    modality: str = ""
    series_description: str = ""
    study_date: str = ""
    manufacturer: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class Volume:
    array: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: np.ndarray
    frame: Frame = "LPS"
    identity: SeriesIdentity = field(default_factory=SeriesIdentity)
    source: Path | None = None
    notes: tuple[str, ...] = ()

    @property
    def shape_ijk(self) -> tuple[int, int, int]:
        """Dimensions as (i, j, k), the order DICOM and Slicer report them in."""
        k, j, i = self.array.shape
        return i, j, k

    def ijk_to_frame(self) -> np.ndarray:
        """4x4 matrix from voxel index (i, j, k, 1) to mm in this volume's frame."""
        matrix = np.eye(4)
        matrix[:3, :3] = np.asarray(self.direction) @ np.diag(self.spacing)
        matrix[:3, 3] = self.origin
        return matrix

    def ijk_to_ras(self) -> np.ndarray:
        """4x4 matrix from voxel index to RAS mm, whatever frame the volume is stored in."""
        matrix = self.ijk_to_frame()
        if self.frame == "LPS":
            matrix[:3, :] = LPS_TO_RAS @ matrix[:3, :]
        return matrix

    def ras_of_index(self, ijk: np.ndarray) -> np.ndarray:
        """RAS positions (N, 3) of voxel indices given as (N, 3) i, j, k."""
        ijk = np.atleast_2d(np.asarray(ijk, dtype=float))
        homogeneous = np.c_[ijk, np.ones(len(ijk))]
        return (homogeneous @ self.ijk_to_ras().T)[:, :3]

    def in_frame(self, frame: Frame) -> Volume:
        """The same volume with origin and direction expressed in ``frame`` (voxels untouched)."""
        if frame == self.frame:
            return self
        return replace(
            self,
            origin=tuple(float(x) for x in LPS_TO_RAS @ np.asarray(self.origin)),
            direction=LPS_TO_RAS @ np.asarray(self.direction),
            frame=frame,
        )

    def orientation_code(self) -> str:
        """Three letters naming where the i, j, k axes point, in this volume's frame (e.g. 'LPS')."""
        letters = {"LPS": ("L", "P", "S", "R", "A", "I"), "RAS": ("R", "A", "S", "L", "P", "I")}[self.frame]
        code = ""
        for axis in np.asarray(self.direction).T:
            dominant = int(np.argmax(np.abs(axis)))
            code += letters[dominant] if axis[dominant] > 0 else letters[dominant + 3]
        return code
