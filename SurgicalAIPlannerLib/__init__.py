"""SurgicalAIPlanner's Python core.

Importable without Slicer's GUI: the imaging, segmentation, landmark and planning code needs only
NumPy/SimpleITK/pydicom (and torch/MONAI for the AI parts). The MRML side (``scene``) needs the
``slicer`` Python package: the ``slicer-core`` wheel when headless, Slicer's own inside the desktop app.
"""

__version__ = "0.1.0"
