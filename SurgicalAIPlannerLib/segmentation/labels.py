"""The bone label table: names (TotalSegmentator's where they exist), values, SNOMED CT codes, colours.

Left and right are the patient's: ``*_left`` bones lie at RAS x < 0. Values are this project's own
compact numbering (1..16), used by the shipped model, the classical fallback and every label map
the planner writes.
"""

from __future__ import annotations

from dataclasses import dataclass

ANATOMICAL_STRUCTURE = ("123037004", "Anatomical Structure")
LEFT = ("7771000", "Left")
RIGHT = ("24028007", "Right")


@dataclass(frozen=True)
class BoneLabel:
    value: int
    name: str
    snomed_code: str
    snomed_meaning: str
    color: tuple[float, float, float]

    @property
    def side(self) -> str:
        """'left', 'right' or '' (midline), from the name."""
        return self.name.rsplit("_", 1)[1] if self.name.endswith(("_left", "_right")) else ""

    @property
    def laterality(self) -> tuple[str, str] | None:
        return {"left": LEFT, "right": RIGHT}.get(self.side)

    @property
    def mirror_name(self) -> str:
        """The same bone on the other side (itself for midline bones)."""
        swap = {"left": "right", "right": "left"}
        return self.name[: -len(self.side)] + swap[self.side] if self.side else self.name


def _rgb(red: int, green: int, blue: int) -> tuple[float, float, float]:
    return (red / 255.0, green / 255.0, blue / 255.0)


# SNOMED CT codes as Slicer's and DICOM's anatomic code lists use them. Colours: bone shades
# (Slicer's generic-anatomy "bone" is 241,214,145), varied per bone so neighbours can be told apart.
BONES: tuple[BoneLabel, ...] = (
    BoneLabel(1, "hip_left", "29836001", "Hip", _rgb(241, 214, 145)),
    BoneLabel(2, "hip_right", "29836001", "Hip", _rgb(230, 190, 120)),
    BoneLabel(3, "sacrum", "54735007", "Sacrum", _rgb(250, 230, 180)),
    BoneLabel(4, "femur_left", "71341001", "Femur", _rgb(255, 239, 190)),
    BoneLabel(5, "femur_right", "71341001", "Femur", _rgb(220, 200, 160)),
    BoneLabel(6, "vertebrae_L1", "66794005", "L1 vertebra", _rgb(212, 188, 102)),
    BoneLabel(7, "vertebrae_L2", "14293000", "L2 vertebra", _rgb(226, 202, 134)),
    BoneLabel(8, "vertebrae_L3", "36470004", "L3 vertebra", _rgb(200, 170, 100)),
    BoneLabel(9, "vertebrae_L4", "11994002", "L4 vertebra", _rgb(236, 214, 150)),
    BoneLabel(10, "vertebrae_L5", "49668003", "L5 vertebra", _rgb(190, 160, 96)),
    BoneLabel(11, "tibia_left", "12611008", "Tibia", _rgb(244, 222, 170)),
    BoneLabel(12, "tibia_right", "12611008", "Tibia", _rgb(214, 186, 130)),
    BoneLabel(13, "fibula_left", "87342007", "Fibula", _rgb(232, 206, 150)),
    BoneLabel(14, "fibula_right", "87342007", "Fibula", _rgb(204, 178, 124)),
    BoneLabel(15, "patella_left", "64234005", "Patella", _rgb(252, 226, 160)),
    BoneLabel(16, "patella_right", "64234005", "Patella", _rgb(224, 196, 140)),
)

BY_NAME: dict[str, BoneLabel] = {bone.name: bone for bone in BONES}
BY_VALUE: dict[int, BoneLabel] = {bone.value: bone for bone in BONES}
LUMBAR = tuple(f"vertebrae_L{level}" for level in range(1, 6))


def label_table() -> dict[str, int]:
    """``{name: value}``, the table ``surgical-planner labels`` prints."""
    return {bone.name: bone.value for bone in BONES}


def names_by_value(table: dict[str, int] | None = None) -> dict[int, str]:
    return {value: name for name, value in (table or label_table()).items()}


def terminology_entry(name: str) -> str:
    """Slicer's terminology string for a segment (category~type~modifier), SNOMED CT coded."""
    bone = BY_NAME[name]
    category = f"SCT^{ANATOMICAL_STRUCTURE[0]}^{ANATOMICAL_STRUCTURE[1]}"
    segment_type = f"SCT^{bone.snomed_code}^{bone.snomed_meaning}"
    modifier = f"SCT^{bone.laterality[0]}^{bone.laterality[1]}" if bone.laterality else "^^"
    return (
        "Segmentation category and type - DICOM master list"
        f"~{category}~{segment_type}~{modifier}"
        "~Anatomic codes - DICOM master list~^^~^^|"
    )
