"""Real bone surface meshes (STAPLE ``.mat`` triangulations) as RAS-mm triangle meshes with project bone names.

Each STAPLE dataset keeps all its bones in the frame of its original scan, in mm, with its own axis
convention (ICL_MRI: RAS; TLEM2_MRI, TLEM2_CT, JIA_MRI: LPS). ``load_staple_dataset`` converts every bone
to RAS and names it as the segmentation label table does (``hip_left``, ``femur_right``, ...).
The meshes are CC BY-NC 4.0 (research and testing only): read them where they lie, never ship them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..imaging.volume import LPS_TO_RAS

# Axis convention of each dataset's mesh coordinates (checked on the anatomy, see shared/data/README.md).
STAPLE_FRAMES: dict[str, str] = {"ICL_MRI": "RAS", "TLEM2_MRI": "LPS", "TLEM2_CT": "LPS", "JIA_MRI": "LPS"}
SIDES = {"l": "left", "r": "right"}
# Bones outside the segmentation label table, named for callers that want them drawn as bone anyway.
FOOT_BONES = {"talus": "talus", "calcn": "calcaneus", "toes": "toes"}
# Fragments smaller than this share of a file's triangles are segmentation specks, not bone.
MIN_COMPONENT_SHARE = 0.01


class MeshLoadError(ValueError):
    """A bone mesh file could not be used; ``path`` is the file at fault."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class BoneMesh:
    """One closed bone surface: ``points`` (N, 3) RAS mm, ``faces`` (M, 3) 0-based vertex indices."""

    name: str
    points: np.ndarray
    faces: np.ndarray
    source: Path | None = None

    def transformed(self, matrix: np.ndarray) -> BoneMesh:
        """The mesh moved by a 4x4 RAS-to-RAS matrix (a rigid pose keeps the surface closed and oriented)."""
        matrix = np.asarray(matrix, dtype=float)
        points = self.points @ matrix[:3, :3].T + matrix[:3, 3]
        return BoneMesh(self.name, points, self.faces, self.source)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.points.min(axis=0), self.points.max(axis=0)

    def to_polydata(self):
        """The mesh as ``vtkPolyData`` (RAS mm)."""
        from vtkmodules.util import numpy_support
        from vtkmodules.vtkCommonCore import vtkPoints
        from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData

        points = vtkPoints()
        points.SetData(numpy_support.numpy_to_vtk(np.ascontiguousarray(self.points, dtype=float), deep=True))
        cells = vtkCellArray()
        offsets = np.arange(0, 3 * len(self.faces) + 1, 3, dtype=np.int64)
        cells.SetData(numpy_support.numpy_to_vtkIdTypeArray(offsets, deep=True),
                      numpy_support.numpy_to_vtkIdTypeArray(np.ascontiguousarray(self.faces, dtype=np.int64).ravel(), deep=True))
        polydata = vtkPolyData()
        polydata.SetPoints(points)
        polydata.SetPolys(cells)
        return polydata


def staple_root() -> Path:
    """Folder holding ``bone_datasets/``: $SURGICAL_PLANNER_BONE_MESHES, else ../shared/data beside the checkout."""
    configured = os.environ.get("SURGICAL_PLANNER_BONE_MESHES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "bone-meshes" / "msk-STAPLE"


def available_datasets(root: Path | None = None) -> list[str]:
    """The STAPLE datasets present under ``root`` whose frame is known."""
    folder = (root or staple_root()) / "bone_datasets"
    return sorted(name for name in STAPLE_FRAMES if (folder / name / "tri").is_dir())


def read_triangulation(path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """(points (N, 3) mm in the file's frame, faces (M, 3) 0-based) from a MATLAB ``triangulation`` .mat file."""
    import matio

    path = Path(path)
    if not path.is_file():
        raise MeshLoadError(path, "does not exist")
    try:
        contents = matio.load_from_mat(str(path))
    except Exception as error:  # mat-io raises many types for damaged files
        raise MeshLoadError(path, f"is not a readable MATLAB file ({error})") from None
    for value in contents.values():
        properties = getattr(value, "properties", None)
        if isinstance(properties, dict) and {"Points", "ConnectivityList"} <= set(properties):
            return validate_triangles(path, properties["Points"], properties["ConnectivityList"])
    raise MeshLoadError(path, "holds no MATLAB triangulation (Points + ConnectivityList)")


def validate_triangles(path: Path, points, connectivity) -> tuple[np.ndarray, np.ndarray]:
    """(points, 0-based faces) from MATLAB arrays; MeshLoadError naming ``path`` unless indices run 1..N."""
    points = np.asarray(points, dtype=float)
    connectivity = np.asarray(connectivity, dtype=float)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) < 4:
        raise MeshLoadError(path, f"Points has shape {points.shape}; expected (N>=4, 3)")
    if connectivity.ndim != 2 or connectivity.shape[1] != 3 or len(connectivity) == 0:
        raise MeshLoadError(path, f"ConnectivityList has shape {connectivity.shape}; expected (M, 3) triangles")
    if not np.all(np.isfinite(points)):
        raise MeshLoadError(path, "Points holds non-finite coordinates")
    if not np.array_equal(connectivity, np.round(connectivity)):
        raise MeshLoadError(path, "ConnectivityList holds non-integer vertex indices")
    faces = connectivity.astype(np.int64) - 1  # MATLAB indices start at 1
    if faces.min() < 0 or faces.max() >= len(points):
        raise MeshLoadError(path, f"vertex indices run {faces.min() + 1}..{faces.max() + 1}; expected 1..{len(points)} (1-based)")
    return points, faces


def split_components(points: np.ndarray, faces: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Connected surface pieces, largest first, each re-indexed as (points, faces)."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(points), len(points)))
    _, vertex_component = connected_components(graph, directed=False)
    face_component = vertex_component[faces[:, 0]]
    pieces = []
    for component in np.argsort(-np.bincount(face_component)):
        piece_faces = faces[face_component == component]
        if len(piece_faces) == 0:
            continue
        used, inverse = np.unique(piece_faces, return_inverse=True)
        pieces.append((points[used], inverse.reshape(-1, 3)))
    return pieces


def _substantial(pieces: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    total = sum(len(faces) for _, faces in pieces)
    return [piece for piece in pieces if len(piece[1]) >= MIN_COMPONENT_SHARE * total]


class _DatasetReader:
    """Reads one dataset's files, converting to RAS; keeps the file of each bone for error messages."""

    def __init__(self, folder: Path, frame: str) -> None:
        self.folder = folder
        self.to_ras = LPS_TO_RAS if frame == "LPS" else np.eye(3)

    def exists(self, stem: str) -> bool:
        return (self.folder / f"{stem}.mat").is_file()

    def pieces(self, stem: str) -> list[tuple[np.ndarray, np.ndarray]]:
        points, faces = read_triangulation(self.folder / f"{stem}.mat")
        return _substantial(split_components(points @ self.to_ras.T, faces))

    def mesh(self, name: str, stem: str, piece: tuple[np.ndarray, np.ndarray]) -> BoneMesh:
        return BoneMesh(name, piece[0], piece[1], self.folder / f"{stem}.mat")


def load_staple_dataset(dataset: str, root: Path | None = None, include_foot: bool = False) -> dict[str, BoneMesh]:
    """All bones of one STAPLE dataset as {project label name: BoneMesh} in RAS mm.

    - ``hip_left`` / ``hip_right``: ``pelvis_l``/``pelvis_r`` where they exist (ICL_MRI), otherwise the two
      lateral closed pieces of ``pelvis.mat`` (each hip bone is its own closed surface there).
    - ``sacrum``: ``sacrum.mat`` where it exists, otherwise the central closed piece of ``pelvis.mat``.
    - ``tibia_*`` files of TLEM2/JIA also hold the fibula as a second closed piece: it becomes ``fibula_*``.
    - ``include_foot`` adds ``talus_*``, ``calcaneus_*`` and ``toes_*`` (not in the segmentation label table).
    """
    root = root or staple_root()
    if dataset not in STAPLE_FRAMES:
        raise MeshLoadError(root / "bone_datasets" / dataset, f"unknown dataset; known: {', '.join(STAPLE_FRAMES)}")
    folder = root / "bone_datasets" / dataset / "tri"
    if not folder.is_dir():
        raise MeshLoadError(folder, "does not exist (bone meshes are read from ../shared/data/bone-meshes/msk-STAPLE)")
    reader = _DatasetReader(folder, STAPLE_FRAMES[dataset])
    bones: dict[str, BoneMesh] = {}
    _add_pelvis(reader, bones)
    for letter, side in SIDES.items():
        _add_leg(reader, bones, letter, side, include_foot)
    return bones


def _add_pelvis(reader: _DatasetReader, bones: dict[str, BoneMesh]) -> None:
    if reader.exists("pelvis_l") and reader.exists("pelvis_r"):
        bones["hip_left"] = reader.mesh("hip_left", "pelvis_l", reader.pieces("pelvis_l")[0])
        bones["hip_right"] = reader.mesh("hip_right", "pelvis_r", reader.pieces("pelvis_r")[0])
    if reader.exists("sacrum"):
        bones["sacrum"] = reader.mesh("sacrum", "sacrum", reader.pieces("sacrum")[0])
    if not reader.exists("pelvis") or ("hip_left" in bones and "sacrum" in bones):
        return
    pieces = reader.pieces("pelvis")
    if len(pieces) < 2:
        raise MeshLoadError(reader.folder / "pelvis.mat", f"expected separate closed hip bones, found {len(pieces)} piece(s)")
    # RAS: the patient's left hip has the smaller x. A third substantial piece between them is the sacrum.
    by_x = sorted(pieces, key=lambda piece: piece[0][:, 0].mean())
    bones.setdefault("hip_left", reader.mesh("hip_left", "pelvis", by_x[0]))
    bones.setdefault("hip_right", reader.mesh("hip_right", "pelvis", by_x[-1]))
    if len(by_x) >= 3:
        bones.setdefault("sacrum", reader.mesh("sacrum", "pelvis", max(by_x[1:-1], key=lambda piece: len(piece[1]))))


def _add_leg(reader: _DatasetReader, bones: dict[str, BoneMesh], letter: str, side: str, include_foot: bool) -> None:
    for stem, name in (("femur", "femur"), ("patella", "patella")):
        if reader.exists(f"{stem}_{letter}"):
            bones[f"{name}_{side}"] = reader.mesh(f"{name}_{side}", f"{stem}_{letter}", reader.pieces(f"{stem}_{letter}")[0])
    if reader.exists(f"tibia_{letter}"):
        pieces = reader.pieces(f"tibia_{letter}")  # tibia first (largest), then the fibula where the file holds it
        bones[f"tibia_{side}"] = reader.mesh(f"tibia_{side}", f"tibia_{letter}", pieces[0])
        if reader.exists(f"fibula_{letter}"):
            bones[f"fibula_{side}"] = reader.mesh(f"fibula_{side}", f"fibula_{letter}", reader.pieces(f"fibula_{letter}")[0])
        elif len(pieces) > 1:
            bones[f"fibula_{side}"] = reader.mesh(f"fibula_{side}", f"tibia_{letter}", pieces[1])
    if include_foot:
        for stem, name in FOOT_BONES.items():
            if reader.exists(f"{stem}_{letter}"):
                # These files hold several tarsal/phalanx bones as separate pieces: keep them as one mesh.
                bones[f"{name}_{side}"] = reader.mesh(f"{name}_{side}", f"{stem}_{letter}", _merged(reader.pieces(f"{stem}_{letter}")))


def _merged(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.cumsum([0] + [len(points) for points, _ in pieces[:-1]])
    return (np.concatenate([points for points, _ in pieces]),
            np.concatenate([faces + offset for (_, faces), offset in zip(pieces, offsets)]))
