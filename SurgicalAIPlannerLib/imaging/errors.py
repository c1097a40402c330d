"""Errors raised while loading images. Each names the file or folder and what is wrong with it."""

from pathlib import Path


class ImageLoadError(ValueError):
    """An image could not be loaded; ``path`` is the file or folder at fault."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DicomSeriesError(ImageLoadError):
    """A DICOM folder does not hold a usable CT series (missing slices, mixed geometry, ...)."""
