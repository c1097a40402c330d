"""Plans and segmentations for the export tests, built from real parts: Measurement objects as the
planner makes them, the real DICOM CT (UID-fixed copies) and its TotalSegmentator v2 label map."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from conftest import TOTALSEG_DIR, _existing
from SurgicalAIPlannerLib.cli import main
from SurgicalAIPlannerLib.export.plan_summary import PROCEDURES, Decision, ModelInfo, PlanSummary
from SurgicalAIPlannerLib.governance.signoff import SignOff
from SurgicalAIPlannerLib.planning.measurement import Coding, Measurement
from SurgicalAIPlannerLib.planning.tha_metrics import LOCAL_CODE_SYSTEM

# The bones of the DICOM test CT (TotalSegmentator v2 'total' values; see labels_totalsegmentator_v2_total.csv).
DICOM_CT_BONES = {32: "vertebrae_T12", 33: "vertebrae_T11"}
SEG_ALGORITHM_VERSION = "2 (task total)"


def local(key: str, label: str) -> Coding:
    return Coding(LOCAL_CODE_SYSTEM, key, label)


MEASUREMENTS = (
    Measurement("cup_inclination", "Cup inclination (radiographic)", 40.0, "deg", "30-50", "ok", "left",
                local("cup_inclination", "Cup inclination (radiographic)")),
    Measurement("cup_anteversion", "Cup anteversion (radiographic)", 15.5, "deg", "5-25", "ok", "left",
                local("cup_anteversion", "Cup anteversion (radiographic)")),
    Measurement("leg_length_change", "Leg length change", 6.2, "mm", "<= 5", "warning", "left",
                local("leg_length_change", "Leg length change"), "lengthening above the requested limit"),
    Measurement("hto_correction", "HTO correction angle", 8.5, "deg", "", "info", "right"),
    Measurement("screw_L4_left_breach", "Screw L4 left cortical breach", 1.5, "mm", "< 2 (Gertzbein-Robbins B)",
                "ok", "left"),
    Measurement("cup_coverage", "Cup coverage", float("nan"), "%", ">= 70", "warning", "left",
                note="not measurable: acetabulum outside the field of view"),
)


def make_plan(signed: bool) -> PlanSummary:
    name, code = PROCEDURES["tha"]
    return PlanSummary(
        plan_id="plan-0001", procedure=name, procedure_code=code, side="left",
        request_text="Left THA, cementless cup, inclination 40 anteversion 15, keep leg length within 5 mm",
        understood=("Left THA -> procedure tha, side left", "inclination 40 -> target inclination 40 deg"),
        not_understood=(),
        measurements=MEASUREMENTS,
        decisions=(Decision("cup_size", "52 mm", "largest cup with full rim support"),
                   Decision("head", "36 mm", "largest head the liner allows")),
        warnings=("Leg lengthened by 6.2 mm (limit 5 mm)",),
        models=(ModelInfo("bone segmentation", "TotalSegmentator 2", "Dice 0.95 hip (v1 vs v2 agreement)"),
                ModelInfo("landmarks", "sphere-fit 1", "1.2 mm on phantoms")),
        software="SurgicalAIPlanner 0.1.0", created="2026-11-23T10:00:00+00:00",
        sign_off=SignOff("Dr. Anna Weber", "2026-11-23T12:00:00+00:00", "0" * 64) if signed else None,
    )


@pytest.fixture(scope="session")
def dicom_ct_labels_file() -> Path:
    return _existing(TOTALSEG_DIR / "example_seg_dicom.nii.gz")


def read_datasets(folder: Path) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(path) for path in sorted(folder.iterdir())]


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory, sample_ct_file, sample_labels_file) -> Path:
    """A real plan made by the hip planner on the sample CT (with its reference bone labels)."""
    folder = tmp_path_factory.mktemp("plan") / "plan-0001"
    assert main(["plan", str(sample_ct_file), "--side", "left", "--segmentation", str(sample_labels_file),
                 "--request", "Left total hip replacement, cup inclination 40 anteversion 15",
                 "--output-dir", str(folder)]) == 0
    return folder


def code_value(item) -> str:
    """Codes longer than 16 characters travel as LongCodeValue."""
    return str(item.get("CodeValue") or item.get("LongCodeValue"))


def sr_numbers(dataset) -> dict[str, tuple[float, str]]:
    """Concept code -> (value, UCUM unit) of every NUM item in the SR content tree."""
    found = {}

    def visit(items):
        for item in items:
            if item.ValueType == "NUM":
                value = item.MeasuredValueSequence[0]
                found[code_value(item.ConceptNameCodeSequence[0])] = (
                    float(value.NumericValue), code_value(value.MeasurementUnitsCodeSequence[0]))
            visit(getattr(item, "ContentSequence", []))

    visit(dataset.ContentSequence)
    return found
