"""Loading CT images and label maps into one volume type, in a stated patient frame."""

from .errors import ImageLoadError, DicomSeriesError
from .volume import Volume, SeriesIdentity
from .loading import load_volume, load_ct, load_labelmap

__all__ = [
    "DicomSeriesError",
    "ImageLoadError",
    "SeriesIdentity",
    "Volume",
    "load_ct",
    "load_labelmap",
    "load_volume",
]
