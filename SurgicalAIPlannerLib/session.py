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

    def search_pacs(self, client, patient_id: str = "", study_date: str = "", modality: str = "CT") -> list:
        """QIDO-RS study search on ``client`` (a ``pacs.PacsClient``; see ``pacs.connect_pacs``); empty fields match all."""
        return client.search_studies(patient_id or None, study_date or None, modality or None)

    def pull_from_pacs(self, client, study_uid: str, folder: Path | str, series_uid: str | None = None,
                       on_instance: Callable[[int, int], None] | None = None):
        """WADO-RS pull of the study's CT into the new ``folder`` (it appears only when complete), loaded as the CT.

        ``on_instance(done, total)`` reports progress; returns the CT node.
        """
        from .pacs.pull import pull

        result = pull(client, study_uid, folder, series_uid, on_instance)
        ct = result.volume
        return self._use_ct(ct, ct.identity.series_description or f"PACS study {study_uid[-8:]}", "PACS (DICOMweb)")

    def _use_ct(self, ct: Volume, node_name: str, source_kind: str):
        self.ct = ct
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
        self.landmarks = None  # landmarks belong to a segmentation: detect them again
        if self.ct_node is not None:
            node.SetReferenceImageGeometryParameterFromVolumeNode(self.ct_node)

    def detect_landmarks(self, overrides: Iterable[Landmark] = (), progress: Callable[[str], None] | None = None
                         ) -> LandmarkSet:
        """Landmarks (RAS mm) from the CT and its bones, as draggable fiducial nodes; ``overrides`` replace by name."""
        from .landmarks.detect import detect_landmarks
        from .landmarks.mrml import LandmarkNodes

        if self.labels is None:
            raise RuntimeError("segment the bones (or load a segmentation) before detecting landmarks")
        landmarks = detect_landmarks(self._require_ct(), self.labels, self.label_names, progress)
        for landmark in overrides:
            landmarks.add(landmark)
        self.landmarks = landmarks
        self.landmark_nodes = LandmarkNodes(self.scene, landmarks)
        self.landmark_nodes.add_listener(lambda _landmarks, moved: self._audit("user_change", {"landmark": moved}))
        self._audit("ai_run", {"what": "landmarks", "found": sum(1 for lm in landmarks if lm.present)})
        return landmarks

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
        from .governance.audit import AuditLog
        from .governance.signoff import sign
        from .planning.plan_io import PLAN_JSON

        if self.plan_dir is None:
            raise RuntimeError("save the plan before signing it")
        audit = self.audit or AuditLog(self.plan_dir / "audit.jsonl")
        return sign(self.plan_dir / PLAN_JSON, surgeon, audit)

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
