"""Resampling between a volume's own grid and a canonical RAS-aligned grid (the models' grid).

Canonical grid: axis-aligned in RAS (i -> +x patient right, j -> +y anterior, k -> +z superior),
isotropic or not, covering the input's extent. Models are trained and run on this grid, so any
input orientation (LPS, oblique, flipped) reaches them the same way.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from ..imaging.volume import LPS_TO_RAS, Volume
from ..imaging.writing import to_sitk

AIR_HU = -1024.0
FWHM_PER_SIGMA = 2.3548
SLAB_SLICES = 32


def from_sitk(image: sitk.Image, frame: str = "RAS", like: Volume | None = None) -> Volume:
    """The image as a Volume expressed in ``frame``; identity/source are copied from ``like``."""
    volume = Volume(
        array=sitk.GetArrayFromImage(image),
        spacing=tuple(float(s) for s in image.GetSpacing()),
        origin=tuple(float(x) for x in image.GetOrigin()),
        direction=np.asarray(image.GetDirection(), dtype=float).reshape(3, 3),
        frame="LPS",
        identity=like.identity if like is not None else Volume.__dataclass_fields__["identity"].default_factory(),
        source=like.source if like is not None else None,
    )
    return volume.in_frame(frame)


def canonical_reference(volume: Volume, spacing: tuple[float, float, float]) -> sitk.Image:
    """An empty RAS-aligned grid at ``spacing`` (mm) covering every voxel centre of ``volume``."""
    i, j, k = volume.shape_ijk
    corners = np.array([[a, b, c] for a in (0, i - 1) for b in (0, j - 1) for c in (0, k - 1)], dtype=float)
    ras = volume.ras_of_index(corners)
    low, high = ras.min(axis=0), ras.max(axis=0)
    size = np.maximum(np.ceil((high - low) / np.asarray(spacing)).astype(int) + 1, 1)
    reference = sitk.Image([int(n) for n in size], sitk.sitkUInt8)
    reference.SetSpacing(tuple(float(s) for s in spacing))
    reference.SetOrigin(tuple(float(x) for x in LPS_TO_RAS @ low))
    reference.SetDirection(tuple(float(x) for x in LPS_TO_RAS.ravel()))
    return reference


def to_canonical(volume: Volume, spacing: tuple[float, float, float], is_label: bool = False) -> Volume:
    """Resample onto the canonical RAS grid: linear for CT (air outside), nearest for labels.

    A CT finer than the grid is low-pass filtered first, so a thin-slice scan reaches the grid as a scan
    at the grid's resolution would look (partial volume, averaged noise), not as a noisy point sample.
    """
    reference = canonical_reference(volume, spacing)
    if not is_label:
        volume = anti_alias(volume, spacing)
    interpolator = sitk.sitkNearestNeighbor if is_label else sitk.sitkLinear
    default = 0.0 if is_label else AIR_HU
    # The CT keeps its own pixel type (int16 for most): no float copy of a large input.
    source = to_sitk(volume)
    resampled = sitk.Resample(source, reference, sitk.Transform(), interpolator, default, source.GetPixelID())
    return from_sitk(resampled, "RAS", like=volume)


def anti_alias(volume: Volume, target_spacing: tuple[float, float, float]) -> Volume:
    """Gaussian low-pass so each axis's resolution (FWHM) matches the target spacing of the RAS axis it runs along.

    Works in z-slabs and keeps the CT's pixel type, so a 512x512x600 input never gets a float copy.
    """
    nearest_ras_axis = np.argmax(np.abs(np.asarray(volume.direction)), axis=0)
    targets = [target_spacing[axis] for axis in nearest_ras_axis]
    sigmas = [
        np.sqrt(max(target**2 - source**2, 0.0)) / FWHM_PER_SIGMA / source
        for target, source in zip(targets[::-1], volume.spacing[::-1])
    ]
    if max(sigmas) < 0.25:  # already at the target resolution: filtering would only blur
        return volume
    margin = int(np.ceil(4 * sigmas[0]))
    source = volume.array
    smoothed = np.empty_like(source)
    for start in range(0, source.shape[0], SLAB_SLICES):
        stop = min(start + SLAB_SLICES, source.shape[0])
        low, high = max(start - margin, 0), min(stop + margin, source.shape[0])
        slab = ndimage.gaussian_filter(source[low:high].astype(np.float32), sigmas, mode="nearest")
        slab = slab[start - low : start - low + stop - start]
        smoothed[start:stop] = np.rint(slab) if np.issubdtype(source.dtype, np.integer) else slab
    return replace(volume, array=smoothed)


def labels_to_grid(labels: Volume, reference: Volume) -> Volume:
    """``labels`` on ``reference``'s grid (the input CT's): where one label's indicator, interpolated linearly from
    ``labels``' grid, exceeds one half, that label; elsewhere (three labels meeting) the nearest label.

    Copying only the nearest label keeps a coarse grid's staircase on a finer CT, and where fine voxel centres fall
    on coarse cell boundaries (1.5 mm from 3 mm) the ties shift every boundary by half a fine voxel: 1.0-1.6 mm on
    every lumbar landmark of TotalSegmentator's labels of the sample. Each label is interpolated only over its own
    bounding box, so no float copy of the whole CT grid is made.
    """
    target = sitk.Image(list(reference.shape_ijk), sitk.sitkUInt8)
    lps = reference.in_frame("LPS")
    target.SetSpacing(tuple(float(s) for s in lps.spacing))
    target.SetOrigin(tuple(float(x) for x in lps.origin))
    target.SetDirection(tuple(float(x) for x in np.asarray(lps.direction).ravel()))
    source = to_sitk(labels)
    result = sitk.GetArrayFromImage(sitk.Resample(source, target, sitk.Transform(), sitk.sitkNearestNeighbor, 0,
                                                  sitk.sitkUInt8))
    background = _indicator(source, labels.array == 0)
    for value in np.unique(labels.array[labels.array > 0]):
        mask = labels.array == value
        box = _box_on_target(source, target, mask)
        if box is None:
            continue
        region = result[box]
        region[_interpolated(_indicator(source, mask), target, box) > 0.5] = value
        region[(region == value) & (_interpolated(background, target, box) >= 0.5)] = 0  # a tie shrinks both sides alike
    image = sitk.GetImageFromArray(result)
    image.CopyInformation(target)
    return from_sitk(image, reference.frame, like=reference)


def _indicator(source: sitk.Image, mask: np.ndarray) -> sitk.Image:
    """``mask`` (in ``source``'s array order) as a float image with ``source``'s geometry."""
    image = sitk.GetImageFromArray(mask.astype(np.float32))
    image.CopyInformation(source)
    return image


def _box_on_target(source: sitk.Image, target: sitk.Image, mask: np.ndarray) -> tuple[slice, slice, slice] | None:
    """[k, j, i] slices of ``target`` covering ``mask``'s bounding box on ``source`` grown by one source cell."""
    found = np.nonzero(mask)
    low = np.array([index.min() for index in found])[::-1] - 1  # (i, j, k)
    high = np.array([index.max() for index in found])[::-1] + 1
    corners = [source.TransformContinuousIndexToPhysicalPoint([float(c) for c in np.where(pick, high, low)])
               for pick in np.ndindex(2, 2, 2)]
    indices = np.array([target.TransformPhysicalPointToContinuousIndex(point) for point in corners])
    start = np.maximum(np.floor(indices.min(axis=0)).astype(int), 0)
    stop = np.minimum(np.ceil(indices.max(axis=0)).astype(int) + 1, np.array(target.GetSize()))
    if np.any(stop <= start):
        return None
    return tuple(slice(a, b) for a, b in zip(start[::-1], stop[::-1]))


def _interpolated(indicator: sitk.Image, target: sitk.Image, box: tuple[slice, slice, slice]) -> np.ndarray:
    """``indicator`` linearly interpolated at the ``target`` voxels of ``box`` (outside its grid: 0)."""
    region = sitk.Image([int(b.stop - b.start) for b in box[::-1]], sitk.sitkFloat32)
    region.SetSpacing(target.GetSpacing())
    region.SetDirection(target.GetDirection())
    region.SetOrigin(target.TransformIndexToPhysicalPoint([int(b.start) for b in box[::-1]]))
    return sitk.GetArrayFromImage(sitk.Resample(indicator, region, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32))
