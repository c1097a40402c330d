"""A scene with Slicer's application logic and module logics, as the desktop app sets them up.

Inside Slicer desktop the app already owns a scene and registered logics: we use those. With the
``slicer-core`` wheel nothing is registered, so ``new_headless_context`` does what Slicer's
application start-up does for the modules the planner uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import slicer
from vtkmodules.vtkCommonCore import vtkCollection

# Module name -> logic class, registered on the application logic so that nodes and other
# logics find each other (e.g. the segmentation storage node asks for "Segmentations").
HEADLESS_MODULE_LOGICS = {
    "Volumes": "vtkSlicerVolumesLogic",
    "Segmentations": "vtkSlicerSegmentationsModuleLogic",
    "Markups": "vtkSlicerMarkupsLogic",
    "Models": "vtkSlicerModelsLogic",
    "Transforms": "vtkSlicerTransformLogic",
    "SubjectHierarchy": "vtkSlicerSubjectHierarchyModuleLogic",
    "Data": "vtkSlicerDataModuleLogic",
}


@dataclass
class SlicerContext:
    scene: "slicer.vtkMRMLScene"
    app_logic: "slicer.vtkSlicerApplicationLogic"
    logics: dict[str, object] = field(default_factory=dict)

    def module_logic(self, name: str):
        """The registered logic of module ``name`` (e.g. "Segmentations")."""
        logic = self.logics.get(name) or self.app_logic.GetModuleLogic(name)
        if logic is None:
            raise KeyError(f"module logic {name!r} is not registered in this scene")
        return logic


def in_slicer_desktop() -> bool:
    """True inside the Slicer application (which has ``slicer.app``), False with slicer-core."""
    return hasattr(slicer, "app") and hasattr(slicer, "mrmlScene")


def get_slicer_context() -> SlicerContext:
    """The desktop app's scene and logics when running in Slicer; a fresh headless scene otherwise."""
    if in_slicer_desktop():
        return SlicerContext(scene=slicer.mrmlScene, app_logic=slicer.app.applicationLogic())
    return new_headless_context()


def new_headless_context() -> SlicerContext:
    """A new MRML scene with the application logic and the module logics the planner needs."""
    scene = slicer.vtkMRMLScene()
    crosshair = slicer.vtkMRMLCrosshairNode()
    crosshair.SetCrosshairName("default")
    scene.AddNode(crosshair)

    app_logic = slicer.vtkSlicerApplicationLogic()
    app_logic.SetMRMLScene(scene)
    app_logic.GetColorLogic().SetMRMLScene(scene)
    app_logic.GetColorLogic().AddDefaultColorNodes()
    app_logic.SetSliceLogics(vtkCollection())
    app_logic.SetViewLogics(vtkCollection())
    return context_on(scene, app_logic)


def context_on(scene, app_logic) -> SlicerContext:
    """A context on a scene someone else built (e.g. trame-slicer's ``SlicerApp``): keeps the module logics
    already registered on ``app_logic`` and registers the planner's missing ones."""
    logics: dict[str, object] = {}
    for module_name, class_name in HEADLESS_MODULE_LOGICS.items():
        logic = app_logic.GetModuleLogic(module_name)
        if logic is None:
            logic = getattr(slicer, class_name)()
            logic.SetMRMLApplicationLogic(app_logic)
            logic.SetMRMLScene(scene)
            app_logic.SetModuleLogic(module_name, logic)
        logics[module_name] = logic
    return SlicerContext(scene=scene, app_logic=app_logic, logics=logics)
