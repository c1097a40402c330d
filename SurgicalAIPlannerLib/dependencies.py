"""Which optional Python packages are missing, and how to install them inside Slicer.

Slicer ships its own Python: torch and MONAI are not in it by default. The module asks before installing
(``slicer.util.pip_install``); torch goes through the PyTorch extension's utilities when that extension is
installed, because it picks the CUDA build that matches the machine's driver.
"""

from __future__ import annotations

import importlib.util

# import name -> pip requirement (pins match requirements.txt where the project tests them).
AI_PACKAGES = {"torch": "torch", "monai": "monai==1.6.1", "SimpleITK": "SimpleITK", "pydicom": "pydicom"}
EXPORT_PACKAGES = {"highdicom": "highdicom==0.28.2", "dicomweb_client": "dicomweb-client==0.61.2",
                   "fhir.resources": "fhir.resources==8.3.0"}


def missing(packages: dict[str, str]) -> dict[str, str]:
    """The subset of ``packages`` whose import name cannot be found."""
    absent = {}
    for import_name, requirement in packages.items():
        try:
            found = importlib.util.find_spec(import_name) is not None
        except ModuleNotFoundError:  # a dotted name whose parent package is absent
            found = False
        if not found:
            absent[import_name] = requirement
    return absent
