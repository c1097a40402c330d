"""The planner's workflow on one MRML scene: the one Logic behind the Slicer module, the browser
planner and the Python API. Each step is a plain call; GUI code only collects inputs and shows results.

Frames: nodes are in RAS (MRML); the Lib volumes say their own frame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .imaging import Volume, load_ct, load_labelmap
from .imaging.label_table import read_label_table
from .landmarks.model import Landmark, LandmarkSet
from .resources import sample_ct_path, sample_label_table_path, sample_reference_labels_path
from .scene import SlicerContext, get_slicer_context, labelmap_to_segmentation, save_bundle, volume_to_node

Progress = Callable[[float, str], None]
# Femoral canal widths are sampled at these heights (mm) along the shaft axis from its reference point.
CANAL_HEIGHTS_MM = np.arange(-200.0, 40.0, 2.0)

log = logging.getLogger(__name__)

# Bones of the sample CT the planner works on, by their TotalSegmentator names.
SAMPLE_BONES = ("hip_left", "hip_right", "sacrum", "femur_left", "femur_right",
                "vertebrae_L1", "vertebrae_L2", "vertebrae_L3", "vertebrae_L4", "vertebrae_L5")


class PlannerSession:
    """A patient's planning session on a scene (Slicer's own inside the app, a headless one otherwise)."""

    def __init__(self, context: SlicerContext | None = None, audit=None, user: str = "planner") -> None:
        """``audit``: an ``governance.audit.AuditLog`` that records every step (optional); ``user`` is its actor."""
        self.context = context or get_slicer_context()
        self.audit = audit
        self.user = user
        self.ct: Volume | None = None
        self.ct_dicomweb_url = ""  # the PACS the CT was pulled from: where exports say the study can be retrieved
        self.ct_node = None
        self.segmentation_node = None
        self.labels: Volume | None = None
        self.label_names: dict[int, str] = {}
        self.segmentation_method = ""
        self.landmarks: LandmarkSet | None = None
        self.landmark_nodes = None
        self.plan = None
        self.plan_dir: Path | None = None
        self._plan_edited = False

    @property
    def scene(self):
        return self.context.scene

    def load_ct(self, path: Path | str, series_instance_uid: str | None = None, name: str | None = None):
        """Load a CT (DICOM folder, NIfTI, NRRD, MHA) into a scalar volume node; returns the node."""
        ct = load_ct(path, series_instance_uid)
        return self._use_ct(ct, name or ct.identity.series_description or Path(path).name.split(".")[0],
                            _source_kind(path))

    @staticmethod
    def search_pacs(client, patient_id: str = "", study_date: str = "", modality: str = "CT") -> list:
        """QIDO-RS study search on ``client`` (a ``pacs.PacsClient``; see ``pacs.connect_pacs``); empty fields match all."""
        return client.search_studies(patient_id or None, study_date or None, modality or None)

    def pull_from_pacs(self, client, study_uid: str, folder: Path | str, series_uid: str | None = None,
                       on_instance: Callable[[int, int], None] | None = None):
        """WADO-RS pull of the study's CT into the new ``folder`` (it appears only when complete), loaded as the CT.

        ``on_instance(done, total)`` reports progress; returns the CT node.
        """
        return self.use_pulled_ct(self.run_pull(client, study_uid, folder, series_uid, on_instance), client.url)

    def run_pull(self, client, study_uid: str, folder: Path | str, series_uid: str | None = None,
                 on_instance: Callable[[int, int], None] | None = None):
        """The pull itself (``pacs.pull.PullResult``), touching no MRML node: safe to run off the GUI thread."""
        from .pacs.pull import pull

        return pull(client, study_uid, folder, series_uid, on_instance)

    def use_pulled_ct(self, result, pacs_url: str):
        """A finished pull's CT as the session's CT node (GUI thread); ``pacs_url`` is where it came from."""
        ct = result.volume
        name = ct.identity.series_description or f"PACS study {ct.identity.study_instance_uid[-8:]}"
        return self._use_ct(ct, name, "PACS (DICOMweb)", pacs_url)

    def _use_ct(self, ct: Volume, node_name: str, source_kind: str, dicomweb_url: str = ""):
        self.ct, self.ct_dicomweb_url = ct, dicomweb_url
        self.ct_node = volume_to_node(self.scene, ct, node_name)
        log.info("Loaded CT from %s as node %s", ct.source, self.ct_node.GetID())
        self._audit("load", {"what": "ct", "source": source_kind, "voxels": list(ct.shape_ijk)})
        return self.ct_node

    def load_segmentation(self, path: Path | str, names: dict[int, str], node_name: str = "Bones"):
        """Load a label map file as a segmentation node with one named segment per listed label."""
        labels = load_labelmap(path)
        node = labelmap_to_segmentation(self.context, labels, names, node_name)
        self._use_segmentation(labels, names, node, f"label map file {Path(path).resolve()}")
        self._audit("load", {"what": "segmentation", "source": _source_kind(path), "segments": len(names)})
        return node

    def segment(self, model: str = "auto", device: str = "auto", progress: Progress | None = None):
        """AI bone segmentation of the loaded CT (or the classical fallback); returns the segmentation node."""
        return self.use_segmentation_result(self.run_segmentation(model, device, progress))

    def run_segmentation(self, model: str = "auto", device: str = "auto", progress: Progress | None = None):
        """The segmentation itself, touching no MRML node: safe to run off the GUI thread."""
        from .segmentation.engine import segment

        return segment(self._require_ct(), model, device, progress)

    def use_segmentation_result(self, result):
        """Turn a ``SegmentationResult`` into the session's bone segmentation node (GUI thread)."""
        from .segmentation.scene import result_to_segmentation_node

        node = result_to_segmentation_node(self.context, result, "Bones")
        names = {value: name for name, value in result.label_table.items()}
        self._use_segmentation(result.labels, names, node, f"{result.method} on {result.device}")
        self._audit("ai_run", {"what": "segmentation", "method": result.method, "device": result.device,
                               "seconds": round(result.seconds, 2)})
        return node

    def _use_segmentation(self, labels: Volume, names: dict[int, str], node, method: str) -> None:
        self.labels, self.label_names, self.segmentation_node, self.segmentation_method = labels, dict(names), node, method
        self._forget_landmarks()  # landmarks belong to a segmentation: detect them again
        if self.ct_node is not None:
            node.SetReferenceImageGeometryParameterFromVolumeNode(self.ct_node)

    def detect_landmarks(self, overrides: Iterable[Landmark] = (), progress: Callable[[str], None] | None = None
                         ) -> LandmarkSet:
        """Landmarks (RAS mm) from the CT and its bones, as draggable fiducial nodes; ``overrides`` replace by name."""
        landmarks = self.find_landmarks(progress)
        for landmark in overrides:
            landmarks.add(landmark)
        return self.use_landmarks(landmarks)

    def find_landmarks(self, progress: Callable[[str], None] | None = None) -> LandmarkSet:
        """The detection itself, touching no MRML node: safe to run off the GUI thread."""
        from .landmarks.detect import detect_landmarks

        if self.labels is None:
            raise RuntimeError("segment the bones (or load a segmentation) before detecting landmarks")
        return detect_landmarks(self._require_ct(), self.labels, self.label_names, progress)

    def use_landmarks(self, landmarks: LandmarkSet) -> LandmarkSet:
        """Detected landmarks as the session's fiducial nodes (GUI thread), replacing any earlier ones.

        Points the surgeon moved keep their place: a correction outlives a re-detection on the same bones (a new
        segmentation drops the landmarks, corrections included).
        """
        from .landmarks.mrml import LandmarkNodes

        for corrected in [lm for lm in self.landmarks or () if lm.user_edited]:
            landmarks.add(corrected)
        self._forget_landmarks()
        self.landmarks = landmarks
        self.landmark_nodes = LandmarkNodes(self.scene, landmarks)
        self.landmark_nodes.add_listener(lambda _landmarks, moved: self._audit("user_change", {"landmark": moved}))
        self._audit("ai_run", {"what": "landmarks", "found": sum(1 for lm in landmarks if lm.present)})
        return landmarks

    def _forget_landmarks(self) -> None:
        if self.landmark_nodes is not None:
            self.landmark_nodes.remove()
        self.landmarks, self.landmark_nodes = None, None

    def landmark_table(self) -> list[dict]:
        """One row per landmark for the faces' tables: name, region, confidence, method, user-edited, note."""
        from .landmarks.mrml import region_of

        return [{"name": lm.name, "region": region_of(lm.name), "present": lm.present,
                 "confidence": round(lm.confidence, 2) if lm.present else None, "method": lm.method or "",
                 "user_edited": lm.user_edited, "note": "" if lm.present else f"missing: {lm.missing_reason}"}
                for lm in self.landmarks or ()]

    def propose_tha_plan(self, request, side: str | None = None, parser=None, catalog=None):
        """Check the request against the case and propose a THA plan on live MRML nodes.

        ``request`` is the written text (parsed with ``parser``, the deterministic one by default) or an
        already parsed request; ``catalog`` an ImplantCatalog (default: the shipped catalogs). Returns the
        ``ThaPlanSession`` (also kept as ``self.plan``); its ``parsed`` request says what was and was not
        understood. Landmarks are detected first when they have not been.
        """
        from .implants.catalog import load_catalog
        from .planning.frames import SIDES
        from .planning.hip_anatomy import hip_anatomy_from_landmarks
        from .planning.request import DeterministicParser, check_against_case
        from .planning.sampling import mask_of, measure_canal_profile
        from .planning.tha_session import ThaPlanSession

        parsed = (parser or DeterministicParser()).parse(request) if isinstance(request, str) else request
        catalog = catalog or load_catalog([])
        if self.labels is None:
            raise RuntimeError("segment the bones (or load a segmentation) before planning")
        present = {self.label_names[v] for v in np.unique(self.labels.array).tolist() if v in self.label_names}
        sides_present = tuple(s for s in SIDES if {f"hip_{s}", f"femur_{s}"} <= present)
        request = check_against_case(parsed.request, procedure="tha", side=side, sides_in_image=sides_present,
                                     image_description=self._require_ct().identity.series_description)
        landmarks = self.landmarks or self.detect_landmarks()
        anatomy = hip_anatomy_from_landmarks(landmarks, request.side)
        canal = measure_canal_profile(self.ct, anatomy.femur, CANAL_HEIGHTS_MM)
        hip_value = next(value for value, name in self.label_names.items() if name == f"hip_{request.side}")
        if self.plan is not None:
            self.plan.close()
        self.plan = ThaPlanSession(self.context, anatomy, catalog, request, landmarks, parsed,
                                   mask_of(self.labels, hip_value), canal)
        self.plan.propose()
        self._plan_edited = False
        # Edits arrive many times a second while dragging: they are audited once per save of the edited plan.
        self.plan.add_listener(self._note_plan_edit)
        self._audit("proposal", {"procedure": "tha", "side": request.side,
                                 "implants": [self.plan.implants.cup.id, self.plan.implants.head.id, self.plan.implants.stem.id]})
        return self.plan

    def save_plan(self, output_dir: Path | str, ct_source: str = "") -> dict[str, Path]:
        """Plan JSON + scene bundle into ``output_dir`` (both written atomically)."""
        from .planning.plan_io import save_plan

        if self.plan is None:
            raise RuntimeError("no plan to save: propose one first")
        inputs = {"ct": ct_source or str(self.ct.source), "segmentation": self.segmentation_method,
                  "bone_segment": f"hip_{self.plan.anatomy.side}"}
        if self._plan_edited:
            orientation = self.plan.cup_orientation()
            implants = self.plan.implants
            self._audit("user_change", {"plan": "tha", "cup_orientation_deg": [round(orientation.inclination, 1),
                                                                               round(orientation.anteversion, 1)],
                                        "implants": [implants.cup.id, implants.head.id, implants.stem.id]})
            self._plan_edited = False
        paths = save_plan(self.plan, output_dir, inputs, {"segmentation": self.segmentation_method})
        self.plan_dir = Path(output_dir)
        return paths

    def _note_plan_edit(self, _plan) -> None:
        self._plan_edited = True

    def sign_plan(self, surgeon: str):
        """The named surgeon signs the saved plan (``save_plan`` first); a later change makes it 'proposed' again."""
        from .governance.signoff import sign
        from .planning.plan_io import PLAN_JSON

        plan_dir = self._saved_plan_dir()
        return sign(plan_dir / PLAN_JSON, surgeon, self._plan_audit(plan_dir))

    def export_report(self, plan_dir: Path | str | None = None, deidentify: bool = False) -> tuple[Path, Path, bool]:
        """HTML and PDF report of the saved plan into PLAN_DIR/exports (a draft until signed), audited.

        Returns both paths and whether the report is a draft.
        """
        from .export.commands import write_plan_report

        return write_plan_report(self._saved_plan_dir(plan_dir), deidentify=deidentify)

    def export_dicom(self, plan_dir: Path | str | None = None, pacs_client=None, deidentify: bool = False):
        """The bones as DICOM SEG and the plan's measurements as DICOM SR (TID 1500) into PLAN_DIR/exports.

        Stored at ``pacs_client`` (a ``pacs.PacsClient``, see ``pacs.connect_pacs``) when given, and audited in
        the plan's audit trail. Both objects reference the CT's own instances, so the CT must have come from
        a DICOM folder or the PACS. Returns the ``DicomExport``; a refused store raises
        ``export.dicom_export.StoreFailed`` with the files still written.
        """
        from .export.dicom_export import export_dicom

        plan_dir = self._saved_plan_dir(plan_dir)
        ct_dir = self._require_dicom_ct("DICOM SEG/SR export")
        if self.labels is None:
            raise RuntimeError("DICOM SEG/SR export needs the bone segmentation: segment the bones or load one")
        return export_dicom(plan_dir, ct_dir, self.labels, self.label_names, self._plan_audit(plan_dir), self.user,
                            pacs_client, deidentify)

    def export_fhir(self, fhir_url: str, plan_dir: Path | str | None = None, deidentify: bool = False,
                    config: Path | str | None = None, ca_bundle: Path | str | None = None) -> tuple[int, bool]:
        """Post the saved plan as a FHIR R4 transaction to the server at ``fhir_url`` (with the report PDF when
        ``export_report`` wrote one), audited. Credentials from SURGICAL_PLANNER_FHIR_* or ``config``.

        The ImagingStudy it posts names the CT's DICOM study, so the CT must have come from a DICOM folder or
        the PACS. Returns the number of resources the server stored and whether the plan is an unsigned draft.
        """
        from .export.commands import post_plan_to_fhir

        plan_dir = self._saved_plan_dir(plan_dir)
        ct_dir = self._require_dicom_ct("FHIR export")
        return post_plan_to_fhir(plan_dir, fhir_url, str(ct_dir), deidentify, self.ct_dicomweb_url,
                                 config, ca_bundle, self._plan_audit(plan_dir), self.user)

    def _saved_plan_dir(self, plan_dir: Path | str | None = None) -> Path:
        if plan_dir is not None:
            return Path(plan_dir)
        if self.plan_dir is None:
            raise RuntimeError("save the plan first (save_plan): signing and exports work on the saved plan")
        return self.plan_dir

    def _plan_audit(self, plan_dir: Path):
        """The session's audit trail, else the plan directory's own (where sign-off and exports are recorded)."""
        from .governance.audit import AuditLog
        from .governance.commands import AUDIT_FILE

        return self.audit or AuditLog(plan_dir / AUDIT_FILE)

    def _require_dicom_ct(self, what: str) -> Path:
        """The DICOM folder the CT was loaded from; exports that reference its study and instances need one."""
        ct = self._require_ct()
        is_folder = ct.source is not None and Path(ct.source).is_dir()
        if is_folder and ct.identity.study_instance_uid:
            return Path(ct.source)
        found = ("a DICOM folder whose files carry no Study Instance UID" if is_folder
                 else f"an image file ({_source_kind(ct.source)}), which has no DICOM study" if ct.source is not None
                 else "memory, not a DICOM study")
        raise RuntimeError(f"{what} needs the CT loaded from a DICOM folder or pulled from the PACS, since it refers "
                           f"to the CT's DICOM study and instances; the loaded CT came from {found}")

    def _audit(self, event: str, details: dict) -> None:
        if self.audit is not None:
            self.audit.append(event, self.user, details)

    def _require_ct(self) -> Volume:
        if self.ct is None:
            raise RuntimeError("load a CT first")
        return self.ct

    def load_sample(self, bone_names: tuple[str, ...] = SAMPLE_BONES) -> None:
        """The bundled sample CT and its reference bone labels (TotalSegmentator output, not manual truth)."""
        self.load_ct(sample_ct_path(), name="SampleCT")
        table = read_label_table(sample_label_table_path())
        bones = {value: name for value, name in table.items() if name in bone_names}
        self.load_segmentation(sample_reference_labels_path(), bones, "ReferenceBones")

    def save_scene(self, path: Path | str) -> Path:
        """Save the whole scene as an .mrb bundle (atomic)."""
        return save_bundle(self.context, path)


def _source_kind(path: Path | str) -> str:
    """What kind of source was loaded, for the audit trail; file names may carry patient names, so they stay out."""
    path = Path(path)
    return "DICOM folder" if path.is_dir() else "".join(path.suffixes[-2:]) or "file"
