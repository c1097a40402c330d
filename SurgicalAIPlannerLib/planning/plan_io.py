"""THA plan persistence: a versioned JSON document and the .mrb scene; either one restores the plan exactly.

``save_plan`` writes ``tha_plan.json`` (atomic: temporary file, then rename) and stores the same document in
the scene as a text node, then writes ``tha_plan.mrb``. ``load_plan_json`` rebuilds the nodes in a scene
from the JSON; ``load_plan_scene`` takes over the nodes of a loaded .mrb.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import vtk

from .. import __version__
from ..atomic import write_json_atomic
from ..implants.catalog import ImplantCatalog, default_catalog_paths, load_catalog
from ..landmarks.model import Landmark, LandmarkSet
from ..scene import SlicerContext, load_bundle, save_bundle
from .autoplan import Decision
from .hip_anatomy import hip_anatomy_from_landmarks
from .request import ParsedRequest, PlanningRequest, Understanding
from ..scene.segmentations import segment_mask
from .sampling import CanalProfile
from .tha_metrics import ThaImplants
from .tha_session import ROLE_ATTRIBUTE, ROLES, ThaPlanSession

PLAN_SCHEMA = "surgical-planner/tha-plan/1"
PLAN_JSON, PLAN_SCENE = "tha_plan.json", "tha_plan.mrb"
PLAN_TEXT_ROLE = "planDocument"


class PlanFileError(ValueError):
    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem}")


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed (Slicer desktop's own)"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def landmark_to_dict(landmark: Landmark) -> dict:
    return _jsonable({"name": landmark.name, "position_ras": landmark.position_ras, "confidence": landmark.confidence,
                      "method": landmark.method, "missing_reason": landmark.missing_reason,
                      "user_edited": landmark.user_edited, "extras": landmark.extras})


def landmark_from_dict(data: dict) -> Landmark:
    position = data.get("position_ras")
    return Landmark(data["name"], None if position is None else np.asarray(position, float), data.get("confidence", 0.0),
                    data.get("method", ""), data.get("missing_reason", ""), data.get("user_edited", False),
                    dict(data.get("extras", {})))


def plan_document(session: ThaPlanSession, created: str | None = None, inputs: dict | None = None,
                  models: dict | None = None) -> dict:
    """The plan as a JSON-ready dict (schema ``PLAN_SCHEMA``); all positions RAS mm, angles degrees."""
    implants, anatomy = session.implants, session.anatomy
    geometry = session.geometry()
    parsed = session.parsed.to_dict() if session.parsed else {"request": session.request.to_dict()}
    return _jsonable({
        "schema": PLAN_SCHEMA,
        "created": created or _now(),
        "modified": _now(),
        "frame": "RAS (MRML), mm and degrees",
        "software": {"SurgicalAIPlannerLib": __version__, "slicer-core": _package_version("slicer-core"),
                     "vtk": vtk.vtkVersion.GetVTKVersion(), "python": platform.python_version()},
        "models": {"request_parser": parsed.get("parser", ""),
                   "landmark_methods": sorted({lm.method for lm in session.landmarks if lm.method}), **(models or {})},
        "inputs": inputs or {},
        "procedure": "tha",
        "side": anatomy.side,
        "request": parsed,
        "landmarks": [landmark_to_dict(lm) for lm in session.landmarks],
        "anatomy": {"pelvic_frame_rotation": anatomy.pelvis.rotation, "pelvic_frame_origin": anatomy.pelvis.origin,
                    "native_cor": anatomy.native_cor, "shaft_axis_source": anatomy.femur.shaft_source,
                    "pelvic_frame_source": anatomy.pelvic_frame_source, "leg_reference": anatomy.leg_reference_name,
                    "notes": list(anatomy.notes)},
        "canal_profile": session.canal.to_dict() if session.canal else None,
        "catalog_files": session.catalog.sources,
        "implants": {
            "cup": _implant_entry(session.catalog, implants.cup.id),
            "head": _implant_entry(session.catalog, implants.head.id),
            "stem": _implant_entry(session.catalog, implants.stem.id),
            "liner_inner_diameter_mm": implants.liner_inner_diameter_mm,
        },
        "transforms": {role: matrix for role, matrix in session.node_matrices().items()},
        "neck_cut": {"center_ras": geometry.cut_center, "normal_ras": geometry.cut_normal},
        "decisions": [{"key": d.key, "value": d.value, "reason": d.reason} for d in session.decisions],
        "metrics": [_metric_entry(m) for m in session.metrics],
        "warnings": list(session.warnings),
    })


def _implant_entry(catalog: ImplantCatalog, implant_id: str) -> dict:
    path = catalog.file_of(implant_id)
    return {"catalog_id": implant_id, "catalog_file": str(path), "catalog_sha256": catalog.sources[str(path)]}


def _metric_entry(measurement) -> dict:
    value = None if np.isnan(measurement.value) else measurement.value  # JSON has no NaN
    code = measurement.code
    return {"key": measurement.key, "label": measurement.label, "value": value, "unit": measurement.unit,
            "target": measurement.target, "status": measurement.status, "side": measurement.side, "note": measurement.note,
            "code": {"system": code.system, "code": code.code, "display": code.display} if code else None}


def save_plan(session: ThaPlanSession, output_dir: Path | str, inputs: dict | None = None,
              models: dict | None = None, created: str | None = None) -> dict[str, Path]:
    """Write the plan JSON and the scene bundle (with the plan document inside) into ``output_dir``.

    A plan identical to the one already saved there (timestamps aside) is not rewritten, so saving again
    does not void a surgeon's sign-off of it; any real change is written and voids it.
    """
    output_dir = Path(output_dir)
    paths = {"plan_json": output_dir / PLAN_JSON, "scene": output_dir / PLAN_SCENE}
    document = plan_document(session, created, inputs, models)
    if paths["scene"].is_file() and _same_plan(paths["plan_json"], document):
        return paths
    text_node = _plan_text_node(session.context)
    text_node.SetText(json.dumps(document, allow_nan=False))
    write_json_atomic(paths["plan_json"], document)
    save_bundle(session.context, paths["scene"])
    return paths


def _same_plan(saved_path: Path, document: dict) -> bool:
    if not saved_path.is_file():
        return False
    try:
        saved = json.loads(saved_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    # Compare as written (JSON round trip), so numpy values and tuples compare like their saved form.
    return _timeless(saved) == _timeless(json.loads(json.dumps(document, allow_nan=False)))


def _timeless(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in ("created", "modified")}


def _plan_text_node(context: SlicerContext):
    for node in _nodes_with_role(context.scene):
        if node.GetAttribute(ROLE_ATTRIBUTE) == PLAN_TEXT_ROLE:
            return node
    node = context.scene.AddNewNodeByClass("vtkMRMLTextNode", "THA plan document")
    node.SetAttribute(ROLE_ATTRIBUTE, PLAN_TEXT_ROLE)
    return node


def _nodes_with_role(scene) -> list:
    nodes = [scene.GetNthNode(index) for index in range(scene.GetNumberOfNodes())]
    return [node for node in nodes if node.GetAttribute(ROLE_ATTRIBUTE)]


def read_plan_json(path: Path | str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise PlanFileError(path, "no such plan file")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PlanFileError(path, f"not valid JSON ({error})") from None
    return _checked(document, path)


def _checked(document, where) -> dict:
    if not isinstance(document, dict) or document.get("schema") != PLAN_SCHEMA:
        raise PlanFileError(where, f"not a THA plan of schema {PLAN_SCHEMA!r}")
    missing = [key for key in ("side", "request", "landmarks", "implants", "transforms", "neck_cut") if key not in document]
    if missing:
        raise PlanFileError(where, f"plan is missing {', '.join(missing)}")
    return document


def _session_from_document(document: dict, context: SlicerContext, bone_mask=None) -> tuple[ThaPlanSession, ThaImplants, tuple]:
    landmarks = LandmarkSet()
    for entry in document["landmarks"]:
        landmarks.add(landmark_from_dict(entry))
    extra_catalogs = [Path(p) for p in document.get("catalog_files", {}) if Path(p) not in default_catalog_paths()]
    catalog = load_catalog(extra_catalogs)
    request_part = document["request"]
    request = PlanningRequest.from_dict(request_part["request"])
    parsed = None
    if "parser" in request_part:
        parsed = ParsedRequest(request, [Understanding(**u) for u in request_part.get("understood", [])],
                               list(request_part.get("not_understood", [])), request_part["parser"])
    canal = CanalProfile.from_dict(document["canal_profile"]) if document.get("canal_profile") else None
    anatomy = hip_anatomy_from_landmarks(landmarks, document["side"])
    session = ThaPlanSession(context, anatomy, catalog, request, landmarks, parsed, bone_mask, canal)
    entries = document["implants"]
    implants = ThaImplants(catalog.cup(entries["cup"]["catalog_id"]), catalog.head(entries["head"]["catalog_id"]),
                           catalog.stem(entries["stem"]["catalog_id"]), float(entries["liner_inner_diameter_mm"]))
    decisions = tuple(Decision(**d) for d in document.get("decisions", []))
    return session, implants, decisions


def load_plan_json(path: Path | str, context: SlicerContext, bone_mask=None) -> ThaPlanSession:
    """Rebuild a plan's nodes in ``context`` from its JSON (``bone_mask``: hip bone Volume for coverage)."""
    document = read_plan_json(path)
    session, implants, decisions = _session_from_document(document, context, bone_mask)
    matrices = {role: np.asarray(matrix, float) for role, matrix in document["transforms"].items()}
    cut = document["neck_cut"]
    session.restore(implants, matrices, np.asarray(cut["center_ras"], float), np.asarray(cut["normal_ras"], float), decisions)
    return session


def load_plan_scene(path: Path | str, context: SlicerContext | None = None) -> ThaPlanSession:
    """Load a plan's .mrb and take over its nodes; coverage uses the scene's bone segmentation when present."""
    context = load_bundle(path, context)
    nodes = {node.GetAttribute(ROLE_ATTRIBUTE): node for node in _nodes_with_role(context.scene)}
    if PLAN_TEXT_ROLE not in nodes:
        raise PlanFileError(path, "the scene holds no THA plan document")
    document = _checked(json.loads(nodes[PLAN_TEXT_ROLE].GetText()), path)
    missing = [role for role in ROLES if role not in nodes]
    if missing:
        raise PlanFileError(path, f"the scene lacks the plan's {', '.join(missing)} node(s)")
    session, implants, decisions = _session_from_document(document, context, _scene_bone_mask(context, document))
    session.adopt_nodes({role: nodes[role] for role in ROLES}, implants, decisions)
    return session


def _scene_bone_mask(context: SlicerContext, document: dict):
    segment = document.get("inputs", {}).get("bone_segment")
    if not segment:
        return None
    for index in range(context.scene.GetNumberOfNodes()):
        node = context.scene.GetNthNode(index)
        if node.IsA("vtkMRMLSegmentationNode") and node.GetSegmentation().GetSegmentIdBySegmentName(segment):
            return segment_mask(node, segment)
    return None
