"""``surgical-planner export-dicom PLAN_DIR --ct DICOM_DIR --segmentation LABELS``: the plan as DICOM objects.

Writes PLAN_DIR/exports/segmentation.dcm (DICOM SEG of the bones in the label map, ``dicom_seg.py``) and
PLAN_DIR/exports/measurements.dcm (TID 1500 SR of the plan's measurements, ``dicom_sr.py``), each
atomically; with ``--pacs URL`` stores both there (STOW-RS, credentials as for ``pacs push``); records
an "export" event in PLAN_DIR/audit.jsonl. ``--deidentify`` pseudonymises the CT headers the objects
copy patient and study from (PS3.15 Basic Profile, key SURGICAL_PLANNER_DEID_KEY).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import pydicom

from .. import __version__
from ..atomic import atomic_target
from ..governance.audit import AuditLog
from ..governance.commands import AUDIT_FILE
from ..governance.deidentify import Pseudonymizer, deidentify_dataset
from ..imaging import ImageLoadError, load_ct, load_labelmap
from ..imaging.label_table import read_label_table
from ..pacs.client import connect_pacs
from ..pacs.push import push
from ..pacs.remote import redact
from ..resources import sample_label_table_path
from ..segmentation.labels import BY_NAME
from .dicom_seg import EXTRA_BONES, Algorithm, build_segmentation
from .dicom_sr import build_measurement_report
from .plan_summary import PlanSummary, load_plan_summary

SEG_FILE = "segmentation.dcm"
SR_FILE = "measurements.dcm"
UNKNOWN_ALGORITHM = Algorithm("unknown segmentation algorithm", "unknown")
LABEL_FILE_SOURCE = "label map file"  # how the planner records a segmentation loaded from a file
LO_MAX = 64


@dataclass(frozen=True)
class DicomExport:
    segmentation: Path
    measurements: Path
    segments: int
    measured_values: int
    draft: bool


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--segmentation", required=True, help="bone label map covering the CT's voxels")
    parser.add_argument("--label-table", help="value,name CSV of --segmentation (default: TotalSegmentator v2 'total')")
    parser.add_argument("--algorithm", help="name of the algorithm that made --segmentation (default: the "
                                            "plan's segmentation model, else 'unknown segmentation algorithm')")
    parser.add_argument("--algorithm-version", help="its version")
    parser.add_argument("--pacs", help="DICOMweb URL to store both objects at (credentials as for `pacs push`)")
    parser.add_argument("--config", help="JSON credentials file for --pacs (mode 600)")
    parser.add_argument("--ca-bundle", help="CA certificate(s) to verify the PACS's TLS certificate with")


def bone_names(table: dict[int, str]) -> dict[int, str]:
    """The label values of ``table`` that name a bone with a SNOMED CT code (organs etc. are left out)."""
    return {value: name for value, name in table.items() if name in BY_NAME or name in EXTRA_BONES}


def segmentation_algorithm(plan: PlanSummary, name: str | None = None, version: str | None = None) -> Algorithm:
    """The SEG's algorithm: as given, else the plan's segmentation model ("METHOD on DEVICE"), else unknown.
    A plan made from a label map file records only the file, which names no algorithm (and may name the
    patient), so it is not copied. Values are clipped to DICOM's 64 characters (LO)."""
    if name:
        return Algorithm(name[:LO_MAX], (version or "unknown")[:LO_MAX])
    for model in plan.models:
        if "segment" in model.name.lower() and model.version and not model.version.startswith(LABEL_FILE_SOURCE):
            return Algorithm(model.version[:LO_MAX], __version__)
    return UNKNOWN_ALGORITHM


def source_images(ct_dir: Path, deidentify: bool) -> list[pydicom.Dataset]:
    """The CT's instances (one pseudonymizer for all, so they stay one series), de-identified on request."""
    files = sorted(p for p in ct_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ImageLoadError(ct_dir, "no DICOM files")
    datasets = [pydicom.dcmread(path) for path in files]
    if deidentify:
        pseudonymizer = Pseudonymizer.from_environment()
        datasets = [deidentify_dataset(dataset, pseudonymizer) for dataset in datasets]
    return datasets


def write_dicom_exports(plan_dir: Path, ct_dir: Path, segmentation: Path, label_table: Path | None = None,
                        deidentify: bool = False, algorithm: str | None = None,
                        algorithm_version: str | None = None) -> DicomExport:
    """Build the SEG and the SR and write them (atomically) into PLAN_DIR/exports."""
    from .commands import EXPORTS

    plan = load_plan_summary(plan_dir)
    names = bone_names(read_label_table(label_table or sample_label_table_path()))
    sources = source_images(ct_dir, deidentify)
    seg = build_segmentation(sources, load_ct(ct_dir), load_labelmap(segmentation), names,
                             segmentation_algorithm(plan, algorithm, algorithm_version))
    sr = build_measurement_report(plan, sources)
    seg_path = _save(seg, plan_dir / EXPORTS / SEG_FILE)
    sr_path = _save(sr, plan_dir / EXPORTS / SR_FILE)
    return DicomExport(seg_path, sr_path, len(seg.SegmentSequence), len(plan.reportable_measurements), plan.is_draft)


def _save(dataset: pydicom.Dataset, path: Path) -> Path:
    with atomic_target(path, suffix=".dcm") as partial:
        dataset.save_as(partial, enforce_file_format=True)
    return path


def push_exports(url: str, export: DicomExport, config: str | None = None, ca_bundle: str | None = None) -> None:
    push(connect_pacs(url, config, ca_bundle), [export.segmentation, export.measurements])


def audit_export(plan_dir: Path, export: DicomExport, deidentified: bool, pacs_url: str | None) -> None:
    """The "export" event: file names, counts and where they were stored; no identity."""
    AuditLog(plan_dir / AUDIT_FILE).append("export", "surgical-planner export-dicom", {
        "outputs": [export.segmentation.name, export.measurements.name], "segments": export.segments,
        "measurements": export.measured_values, "draft": export.draft, "deidentified": deidentified,
        "pushed_to": redact(pacs_url) if pacs_url else None})
