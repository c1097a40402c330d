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
from ..governance.deidentify import Pseudonymizer, deidentify_dataset
from ..imaging import ImageLoadError, Volume, load_ct
from ..pacs.client import PacsClient
from ..pacs.push import PushInputError, push
from ..pacs.remote import RemoteError, redact
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

    def summary(self) -> str:
        return (f"wrote {self.segmentation} ({self.segments} segments) and {self.measurements} "
                f"({self.measured_values} measurements){' (DRAFT: plan not signed)' if self.draft else ''}")


class StoreFailed(RuntimeError):
    """The SEG and SR were written and the export audited, but the PACS did not store them."""

    def __init__(self, export: DicomExport, cause: Exception) -> None:
        self.export, self.cause = export, cause
        super().__init__(f"{export.summary()}, but they were not stored: {cause}")


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


def write_dicom_exports(plan_dir: Path, ct_dir: Path, labels: Volume, names: dict[int, str],
                        deidentify: bool = False, algorithm: str | None = None,
                        algorithm_version: str | None = None) -> DicomExport:
    """Build the SEG (the bones of ``labels`` named in ``names``) and the SR and write them (atomically) into
    PLAN_DIR/exports."""
    from .commands import EXPORTS

    plan = load_plan_summary(plan_dir)
    sources = source_images(ct_dir, deidentify)
    seg = build_segmentation(sources, load_ct(ct_dir), labels, bone_names(names),
                             segmentation_algorithm(plan, algorithm, algorithm_version))
    sr = build_measurement_report(plan, sources)
    seg_path = _save(seg, plan_dir / EXPORTS / SEG_FILE)
    sr_path = _save(sr, plan_dir / EXPORTS / SR_FILE)
    return DicomExport(seg_path, sr_path, len(seg.SegmentSequence), len(plan.reportable_measurements), plan.is_draft)


def export_dicom(plan_dir: Path, ct_dir: Path, labels: Volume, names: dict[int, str], audit: AuditLog, actor: str,
                 pacs: PacsClient | None = None, deidentify: bool = False, algorithm: str | None = None,
                 algorithm_version: str | None = None) -> DicomExport:
    """SEG and SR written into PLAN_DIR/exports, stored at ``pacs`` when given, and the export audited.

    Raises ``StoreFailed`` (after auditing that nothing was stored) when the PACS does not take them;
    the files stay written.
    """
    export = write_dicom_exports(plan_dir, ct_dir, labels, names, deidentify, algorithm, algorithm_version)
    failure = None
    if pacs is not None:
        try:
            push(pacs, [export.segmentation, export.measurements])
        except (RemoteError, PushInputError) as error:
            failure = error
    audit_export(audit, actor, export, deidentify, None if failure or pacs is None else pacs.url)
    if failure:
        raise StoreFailed(export, failure)
    return export


def _save(dataset: pydicom.Dataset, path: Path) -> Path:
    with atomic_target(path, suffix=".dcm") as partial:
        dataset.save_as(partial, enforce_file_format=True)
    return path


def audit_export(audit: AuditLog, actor: str, export: DicomExport, deidentified: bool, pacs_url: str | None) -> None:
    """The "export" event: file names, counts and where they were stored; no identity."""
    audit.append("export", actor, {
        "outputs": [export.segmentation.name, export.measurements.name], "segments": export.segments,
        "measurements": export.measured_values, "draft": export.draft, "deidentified": deidentified,
        "pushed_to": redact(pacs_url) if pacs_url else None})
