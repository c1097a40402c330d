"""Phantom CTs with exact truth, built from real bone surface meshes (STAPLE datasets, CC BY-NC: research only).

Contract (all positions RAS mm; volumes are ``imaging.Volume``, label values from ``segmentation.labels``):

- ``load_staple_dataset(name, root=None, include_foot=False) -> {label name: BoneMesh}``
  ``name`` in ``available_datasets()`` (ICL_MRI, JIA_MRI, TLEM2_CT, TLEM2_MRI). Names: hip_left/right, sacrum,
  femur_*, tibia_*, fibula_*, patella_* (whatever the dataset has; TLEM2_CT has no pelvis, ICL_MRI only a right
  leg), plus talus_*/calcaneus_*/toes_* with ``include_foot``. ``BoneMesh.points`` (N, 3) RAS mm,
  ``faces`` (M, 3) 0-based; ``to_polydata()``; ``transformed(4x4)``. Bad files raise ``MeshLoadError`` (names the file).
- ``empty_grid(bounds_ras, spacing, frame="RAS"|"LPS") -> Volume`` and ``voxelize(meshes, grid, {name: value})
  -> Volume`` (uint16 label map; a voxel is a bone's when its centre is inside the surface).
- ``CTParameters`` (defaults, or ``CTParameters.sampled(seed)`` for varied training data) and
  ``synthesize_ct(labels, params) -> Volume`` (int16 HU: cortical shell, cancellous interior, muscle, fat, air,
  blur, slice profile, noise).
- ``build_phantom(PhantomSpec(dataset, spacing, frame, region="full"|"hip"|"knee"|"ankle", seed, supersample,
  ct=CTParameters(...))) -> Phantom`` with ``ct``, ``labels`` (only bones of the label table; foot bones are drawn in
  the CT as unlabelled bone), ``names`` {value: name} present, ``meshes`` (posed, same frame), ``pose_ras`` (4x4).
  ``spec.seed`` draws the random rigid pose, ``spec.ct.seed`` the noise: the same spec gives the same phantom.
- ``save_phantom(phantom, folder, stem)`` writes ``<stem>_ct.nii.gz`` and ``<stem>_labels.nii.gz`` atomically.
- ``true_landmarks(phantom)`` (``phantoms.truth``): landmarks computed on the posed meshes.

Example::

    from SurgicalAIPlannerLib.phantoms import PhantomSpec, CTParameters, build_phantom
    phantom = build_phantom(PhantomSpec("JIA_MRI", spacing=1.5, region="hip", seed=7, ct=CTParameters.sampled(7)))
"""

from .ct import CTParameters, synthesize_ct
from .meshes import BoneMesh, MeshLoadError, available_datasets, load_staple_dataset, staple_root
from .phantom import Phantom, PhantomSpec, build_phantom, random_pose, save_phantom
from .voxelize import empty_grid, meshes_bounds, voxelize

__all__ = [
    "BoneMesh",
    "CTParameters",
    "MeshLoadError",
    "Phantom",
    "PhantomSpec",
    "available_datasets",
    "build_phantom",
    "empty_grid",
    "load_staple_dataset",
    "meshes_bounds",
    "random_pose",
    "save_phantom",
    "staple_root",
    "synthesize_ct",
    "voxelize",
]
