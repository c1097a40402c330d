"""``surgical-planner report PLAN_DIR``, ``export-fhir PLAN_DIR --server URL`` and ``export-dicom PLAN_DIR``.

PLAN_DIR is what ``surgical-planner plan`` writes (see ``plan_summary.py`` for the files read). Outputs go
to PLAN_DIR/exports/ (``report.html``, ``report.pdf``, ``fhir-bundle.json``, ``segmentation.dcm``,
``measurements.dcm``), each written atomically, and
each export is recorded in PLAN_DIR/audit.jsonl. ``--deidentify`` replaces identity by a keyed pseudonym
(DICOM PS3.15 Basic Profile; key from SURGICAL_PLANNER_DEID_KEY) in everything written or sent.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import pydicom

from ..governance.audit import AuditLog
from ..governance.commands import AUDIT_FILE
from ..governance.deidentify import Pseudonymizer
from ..atomic import write_text_atomic
from ..imaging import load_ct, load_labelmap
from ..imaging.label_table import read_label_table
from ..pacs.client import connect_pacs
from ..pacs.credentials import CredentialsError, load_credentials
from ..pacs.remote import RemoteError, redact
from ..resources import sample_label_table_path
from ..segmentation.labels import BY_NAME
from . import dicom_export
from .fhir_bundle import ImagingContext, ReportDocument, build_transaction
from .fhir_client import ENV_PREFIX, post_transaction
from .pictures import SurfaceItem, axial_slice_picture, bone_polydata, render_views
from .plan_summary import PLAN_FILE, PlanSummary, load_plan_summary
from .report import ReportPictures, ReportSubject, write_report

EXPORTS = "exports"
REPORT_BONES = ("hip_left", "hip_right", "femur_left", "femur_right", "sacrum")
PATIENT_ID_SYSTEM = "urn:surgical-planner:patient-id"  # a site replaces it with its own identifier system


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser("report", help="write the plan report (HTML and PDF) into PLAN_DIR/exports")
    _common(report)
    report.add_argument("--segmentation", help="bone label map on the CT's grid, for the 3D pictures")
    report.add_argument("--label-table", help="value,name CSV of --segmentation (default: TotalSegmentator v2 'total')")
    report.set_defaults(run=run_report)

    fhir = subparsers.add_parser("export-fhir", help="post the plan as a FHIR R4 transaction to a server")
    _common(fhir)
    fhir.add_argument("--server", required=True, help="FHIR base URL, e.g. https://ehr.example.org/fhir/R4")
    fhir.add_argument("--dicomweb-url", default="", help="DICOMweb URL where the study can be retrieved")
    fhir.add_argument("--config", help="JSON credentials file for the FHIR server (mode 600)")
    fhir.add_argument("--ca-bundle", help="CA certificate(s) to verify the server's TLS certificate with")
    fhir.set_defaults(run=run_export_fhir)

    dicom = subparsers.add_parser("export-dicom", help="write the bones as DICOM SEG and the measurements as "
                                                       "DICOM SR (TID 1500) into PLAN_DIR/exports; optionally store them")
    _common(dicom)
    dicom_export.add_arguments(dicom)
    dicom.set_defaults(run=run_export_dicom)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan_dir", help=f"plan directory ({PLAN_FILE}, optional signoff.json, {AUDIT_FILE})")
    parser.add_argument("--ct", help="the CT as a DICOM folder, when the plan was made from another copy of it")
    parser.add_argument("--deidentify", action="store_true", help="pseudonymise every output (PS3.15 Basic Profile)")


@dataclass(frozen=True)
class _Case:
    plan: PlanSummary
    ct_path: Path
    identity: ImagingContext
    subject: ReportSubject


def case_of(plan_dir: Path, ct: str | None = None, deidentify: bool = False, dicomweb_url: str = "") -> _Case:
    """The plan, its CT and the identity shown (pseudonymised when ``deidentify``)."""
    plan = load_plan_summary(plan_dir)
    from ..planning.plan_io import read_plan_json

    ct_path = Path(ct or read_plan_json(plan_dir / PLAN_FILE).get("inputs", {}).get("ct", ""))
    header = _first_header(ct_path)
    pseudonymizer = Pseudonymizer.from_environment() if deidentify else None

    def uid(value: str) -> str:
        return pseudonymizer.uid(value) if pseudonymizer and value else value

    patient_id = str(header.get("PatientID", "")) if header else ""
    shown_id = pseudonymizer.patient(patient_id) if pseudonymizer else patient_id
    name = shown_id if pseudonymizer else (str(header.get("PatientName", "")) if header else "")
    identity = ImagingContext(shown_id, PATIENT_ID_SYSTEM, "" if pseudonymizer else name,
                              uid(str(header.get("StudyInstanceUID", ""))) if header else "",
                              uid(str(header.get("SeriesInstanceUID", ""))) if header else "",
                              str(header.get("Modality", "CT")) if header else "CT",
                              len([p for p in ct_path.iterdir() if p.is_file()]) if ct_path.is_dir() else 0,
                              dicomweb_url)
    subject = ReportSubject(name or "(not recorded)", shown_id or "(not recorded)", identity.study_uid or "(none)",
                            "" if pseudonymizer or not header else str(header.get("StudyDate", "")),
                            str(header.get("SeriesDescription", "")) if header else ct_path.name, bool(pseudonymizer))
    return _Case(plan, ct_path, identity, subject)


def _first_header(ct_path: Path) -> pydicom.Dataset | None:
    """Identity of a DICOM CT (None for image files, which carry none)."""
    if not ct_path.is_dir():
        return None
    for path in sorted(p for p in ct_path.rglob("*") if p.is_file()):
        return pydicom.dcmread(path, stop_before_pixels=True)
    return None


def run_report(args: argparse.Namespace) -> int:
    html, pdf, draft = write_plan_report(Path(args.plan_dir), args.ct, args.deidentify, args.segmentation, args.label_table)
    print(f"report{' (DRAFT: plan not signed)' if draft else ''}: {html} and {pdf}")
    return 0


def write_plan_report(plan_dir: Path, ct: str | None = None, deidentify: bool = False, segmentation: str | None = None,
                      label_table: str | None = None) -> tuple[Path, Path, bool]:
    """report.html and report.pdf in PLAN_DIR/exports (audited); returns their paths and whether it is a draft."""
    case = case_of(plan_dir, ct, deidentify)
    ct_volume = load_ct(case.ct_path)
    items, labels, colors = _plan_scene_items(plan_dir), None, {}
    if segmentation:
        labels = load_labelmap(segmentation)
        table = read_label_table(label_table or sample_label_table_path())
        bones = {value: name for value, name in table.items() if name in REPORT_BONES}
        items = [item for item in items if item.name not in REPORT_BONES]  # the given label map's bones instead
        items += [SurfaceItem(name, bone_polydata(labels, value), BY_NAME[name].color) for value, name in bones.items()]
        colors = {value: BY_NAME[name].color for value, name in bones.items()}
    views = render_views(items) if items else {}
    overlay = labels if labels is not None and labels.array.shape == ct_volume.array.shape else None
    slice_png, k = axial_slice_picture(ct_volume, overlay, colors=colors)
    pictures = ReportPictures(views, slice_png, f"axial slice {k} (bone window; patient's right on the left)")
    audit = AuditLog(plan_dir / AUDIT_FILE)
    html, pdf = write_report(case.plan, case.subject, pictures, plan_dir / EXPORTS,
                             audit.head() if audit.path.exists() else "")
    audit.append("export", "surgical-planner report", {"outputs": [html.name, pdf.name], "draft": case.plan.is_draft,
                                                       "deidentified": deidentify})
    return html, pdf, case.plan.is_draft


def _plan_scene_items(plan_dir: Path) -> list[SurfaceItem]:
    """Bones, implants and neck cut from the plan's scene bundle, when the plan directory has one."""
    from ..planning.plan_io import PLAN_SCENE, load_plan_scene
    from .plan_pictures import plan_surface_items

    scene = plan_dir / PLAN_SCENE
    return plan_surface_items(load_plan_scene(scene), REPORT_BONES) if scene.is_file() else []


def run_export_fhir(args: argparse.Namespace) -> int:
    try:
        resources, draft = post_plan_to_fhir(Path(args.plan_dir), args.server, args.ct, args.deidentify,
                                             args.dicomweb_url, args.config, args.ca_bundle)
    except NoDicomStudy as error:
        print(f"error: {error}; give --ct DICOM_FOLDER", file=sys.stderr)
        return 2
    except (RemoteError, CredentialsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    print(f"posted {resources} resources to {args.server}{' (DRAFT: plan not signed)' if draft else ''}")
    return 0


class NoDicomStudy(ValueError):
    """The plan's CT is not a DICOM series, so a FHIR ImagingStudy (or a DICOM SEG) has nothing to reference."""


def post_plan_to_fhir(plan_dir: Path, server: str, ct: str | None = None, deidentify: bool = False,
                      dicomweb_url: str = "", config: Path | str | None = None, ca_bundle: Path | str | None = None,
                      audit: AuditLog | None = None, actor: str = "surgical-planner export-fhir") -> tuple[int, bool]:
    """The plan (with exports/report.pdf when written) as a FHIR transaction posted to ``server``.

    Credentials as for ``export-fhir`` (SURGICAL_PLANNER_FHIR_* or ``config``). The bundle is kept in
    PLAN_DIR/exports/fhir-bundle.json; the post is audited in ``audit`` (default PLAN_DIR/audit.jsonl).
    Returns the number of resources the server stored and whether the plan is an unsigned draft.
    """
    case = case_of(plan_dir, ct, deidentify, dicomweb_url)
    if not case.identity.study_uid:
        raise NoDicomStudy(f"{case.ct_path}: not a DICOM CT, so there is no study to reference")
    pdf_path = plan_dir / EXPORTS / "report.pdf"
    report = ReportDocument(pdf_path.read_bytes(), "Surgical plan report") if pdf_path.is_file() else None
    bundle = build_transaction(case.plan, case.identity, report, deidentified=deidentify)
    write_text_atomic(plan_dir / EXPORTS / "fhir-bundle.json", bundle.model_dump_json(indent=1, exclude_none=True))
    answer = post_transaction(server, bundle, load_credentials(ENV_PREFIX, config), ca_bundle)
    resources = len(answer.get("entry", []))
    (audit or AuditLog(plan_dir / AUDIT_FILE)).append("export", actor, {
        "server": redact(server), "resources": resources, "draft": case.plan.is_draft, "deidentified": deidentify,
        "report_attached": report is not None})
    return resources, case.plan.is_draft


def run_export_dicom(args: argparse.Namespace) -> int:
    if not args.ct:
        print("error: export-dicom needs --ct DICOM_FOLDER: the SEG and SR reference the CT's instances",
              file=sys.stderr)
        return 2
    try:
        pacs = connect_pacs(args.pacs, args.config, args.ca_bundle) if args.pacs else None
        labels = load_labelmap(args.segmentation)
        names = read_label_table(args.label_table or sample_label_table_path())
        export = dicom_export.export_dicom(Path(args.plan_dir), Path(args.ct), labels, names,
                                           AuditLog(Path(args.plan_dir) / AUDIT_FILE), "surgical-planner export-dicom",
                                           pacs, args.deidentify, args.algorithm, args.algorithm_version)
    except dicom_export.StoreFailed as failure:
        print(failure.export.summary())
        print(f"error: {failure.cause}", file=sys.stderr)
        return 3
    except (RemoteError, CredentialsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except (FileNotFoundError, ValueError) as error:  # ImageLoadError, SegmentationExportError, an SR without values
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(export.summary())
    if args.pacs:
        print(f"stored both at {args.pacs}")
    return 0
