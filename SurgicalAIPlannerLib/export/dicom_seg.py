"""The bone segmentation as a DICOM Segmentation (SEG) that references its source CT series.

Each bone is one segment coded in SNOMED CT (category Anatomical Structure, type the bone, laterality
as the type modifier), produced by the named algorithm (AlgorithmIdentification with
the model's name and version). The label map must lie on the CT's own voxel grid: same size, origin,
spacing and axes, possibly in another axis order (checked in LPS), since a SEG frame is defined by
the CT slice it covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import highdicom as hd
import numpy as np
import pydicom
from highdicom.sr import CodedConcept
from pydicom.sr.codedict import codes

from .. import __version__
from ..imaging import Volume
from ..segmentation.labels import ANATOMICAL_STRUCTURE, BY_NAME
from ..segmentation.resample import labels_to_grid

# Bones the DICOM test CT holds that the planner's label table does not list; SNOMED CT codes from the
# DICOM anatomic code list (CID 7151), as TotalSegmentator's Slicer terminology uses them.
EXTRA_BONES = {"vertebrae_T11": ("12989004", "T11 vertebra"), "vertebrae_T12": ("23215003", "T12 vertebra")}
LATERALITY = {"left": ("7771000", "Left"), "right": ("24028007", "Right")}
# In voxels: label and CT voxel centres must coincide to this fraction of a voxel.
GEOMETRY_TOLERANCE = 1e-3
MANUFACTURER = "SurgicalAIPlanner"


class SegmentationExportError(ValueError):
    pass


@dataclass(frozen=True)
class Algorithm:
    name: str
    version: str


def bone_concepts(name: str) -> tuple[CodedConcept, CodedConcept | None]:
    """SNOMED CT type and laterality of the bone called ``name`` (TotalSegmentator naming)."""
    if name in BY_NAME:
        bone = BY_NAME[name]
        code, meaning, side = bone.snomed_code, bone.snomed_meaning, bone.side
    elif name in EXTRA_BONES:
        (code, meaning), side = EXTRA_BONES[name], ""
    else:
        raise SegmentationExportError(f"no SNOMED CT code for segment {name!r}; known bones: "
                                      f"{', '.join(sorted([*BY_NAME, *EXTRA_BONES]))}")
    laterality = CodedConcept(LATERALITY[side][0], "SCT", LATERALITY[side][1]) if side else None
    return CodedConcept(code, "SCT", meaning), laterality


def sorted_source_images(datasets: list[pydicom.Dataset]) -> list[pydicom.Dataset]:
    """CT slices in the order of the label map's k axis (position along the slice normal), as the loader sorts."""
    row, column = np.asarray(datasets[0].ImageOrientationPatient[:3], float), np.asarray(datasets[0].ImageOrientationPatient[3:], float)
    normal = np.cross(row, column)
    return sorted(datasets, key=lambda d: float(np.dot(normal, np.asarray(d.ImagePositionPatient, float))))


def on_ct_grid(labels: Volume, ct: Volume) -> Volume:
    """``labels`` on the CT's voxel grid. A label map that covers the very same voxels in another axis order
    (NIfTI writers often flip rows) is reordered exactly; any other grid is refused, since resampling a
    label map changes the segmentation that the SEG would claim the algorithm produced."""
    labels_lps, ct_lps = labels.in_frame("LPS"), ct.in_frame("LPS")
    index_map = np.linalg.inv(ct_lps.ijk_to_frame()) @ labels_lps.ijk_to_frame()
    rounded = np.rint(index_map)
    corners = np.array([[i, j, k, 1] for i in (0, labels.shape_ijk[0] - 1) for j in (0, labels.shape_ijk[1] - 1)
                        for k in (0, labels.shape_ijk[2] - 1)]) @ rounded.T
    same_voxels = (np.allclose(index_map, rounded, atol=GEOMETRY_TOLERANCE)
                   and set(np.abs(rounded[:3, :3]).sum(axis=0)) == {1.0}
                   and sorted(map(tuple, corners[:, :3].astype(int))) == sorted(
                       (i, j, k) for i in (0, ct.shape_ijk[0] - 1) for j in (0, ct.shape_ijk[1] - 1)
                       for k in (0, ct.shape_ijk[2] - 1)))
    if not same_voxels:
        raise SegmentationExportError(
            f"label map {labels.source} is not on the CT's grid: {labels.shape_ijk} voxels at "
            f"{np.round(labels.spacing, 3).tolist()} mm from LPS {np.round(labels_lps.origin, 2).tolist()} vs CT "
            f"{ct.shape_ijk} at {np.round(ct.spacing, 3).tolist()} mm from {np.round(ct_lps.origin, 2).tolist()}")
    if np.allclose(index_map, np.eye(4), atol=GEOMETRY_TOLERANCE):
        return labels
    return labels_to_grid(labels, ct)


def build_segmentation(source_images: list[pydicom.Dataset], ct: Volume, labels: Volume, names: dict[int, str],
                       algorithm: Algorithm, series_number: int = 901) -> hd.seg.Segmentation:
    """A SEG of the labels named in ``names`` (label value -> bone name) over ``source_images``."""
    labels = on_ct_grid(labels, ct)
    present = [value for value in sorted(names) if np.any(labels.array == value)]
    if not present:
        raise SegmentationExportError(f"none of the labels {sorted(names)} occurs in {labels.source}")
    segment_numbers = np.zeros(labels.array.shape, dtype=np.uint8)
    descriptions = []
    identification = hd.AlgorithmIdentificationSequence(name=algorithm.name, version=algorithm.version,
                                                        family=codes.cid7162.ArtificialIntelligence)
    for number, value in enumerate(present, start=1):
        segment_numbers[labels.array == value] = number
        bone_type, laterality = bone_concepts(names[value])
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=number, segment_label=names[value],
            segmented_property_category=CodedConcept(ANATOMICAL_STRUCTURE[0], "SCT", ANATOMICAL_STRUCTURE[1]),
            segmented_property_type=bone_type, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=identification, tracking_uid=hd.UID(), tracking_id=names[value]))
        if laterality:
            type_item = descriptions[-1].SegmentedPropertyTypeCodeSequence[0]
            type_item.SegmentedPropertyTypeModifierCodeSequence = pydicom.Sequence([laterality])
    return hd.seg.Segmentation(
        source_images=sorted_source_images(source_images), pixel_array=segment_numbers,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=descriptions,
        series_instance_uid=hd.UID(), series_number=series_number, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer=MANUFACTURER, manufacturer_model_name="SurgicalAIPlanner bone segmentation export",
        software_versions=__version__, device_serial_number="none", series_description="Bone segmentation (AI)",
        omit_empty_frames=True)
