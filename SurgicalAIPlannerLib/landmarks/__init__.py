"""Anatomical landmarks: detection from CT + bone segmentation, markups I/O, MRML fiducials."""

from .model import Landmark, LandmarkSet

__all__ = ["Landmark", "LandmarkSet"]
