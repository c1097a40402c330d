"""A thin stand-in for the parts of Slicer's Python that only exist inside the desktop application.

The ``slicer-core`` wheel gives the real MRML scene and module logics but not the application object
(``slicer.app``, ``slicer.mrmlScene``) nor the GUI-side helper packages the module file imports
(``slicer.ScriptedLoadableModule``, ``slicer.parameterNodeWrapper``). This file provides just enough of
those, backed by a real headless scene, to import the module file and run its Logic and self-test.
Nothing here stands in for MRML itself.
"""

from __future__ import annotations

import sys
import types
import typing
import unittest

import slicer

from SurgicalAIPlannerLib.scene import SlicerContext, new_headless_context


class _Application:
    """``slicer.app`` for what the module's Logic calls: the application logic."""

    def __init__(self, context: SlicerContext) -> None:
        self._context = context

    def applicationLogic(self):
        return self._context.app_logic


class ScriptedLoadableModule:
    def __init__(self, parent) -> None:
        self.parent = parent
        self.moduleName = type(self).__name__


class ScriptedLoadableModuleWidget:
    def __init__(self, parent=None) -> None:
        self.parent = parent


class ScriptedLoadableModuleLogic:
    """The parameter node is the scene's singleton ``vtkMRMLScriptedModuleNode`` tagged with the module name."""

    def __init__(self) -> None:
        self.moduleName = type(self).__name__.removesuffix("Logic")

    def getParameterNode(self):
        scene = slicer.mrmlScene
        node = scene.GetSingletonNode(self.moduleName, "vtkMRMLScriptedModuleNode")
        if node is None:
            node = slicer.vtkMRMLScriptedModuleNode()
            node.SetSingletonTag(self.moduleName)
            node.SetName(self.moduleName)
            node = scene.AddNode(node)
        return node


class ScriptedLoadableModuleTest(unittest.TestCase):
    def delayDisplay(self, message: str, msec: int = 0) -> None:
        print(message)


def _from_text(kind: type, text: str):
    return text.lower() == "true" if kind is bool else kind(text)


def parameterNodeWrapper(cls: type) -> type:
    """Typed attributes stored on the scripted module node: MRML nodes as node references, the rest as text."""
    hints = typing.get_type_hints(cls)

    def make_property(name: str, kind: type) -> property:
        is_node = isinstance(kind, type) and issubclass(kind, slicer.vtkMRMLNode)
        default = getattr(cls, name, None)

        def getter(self):
            if is_node:
                return self.parameterNode.GetNodeReference(name)
            text = self.parameterNode.GetParameter(name)
            return _from_text(kind, text) if text else default

        def setter(self, value) -> None:
            if is_node:
                self.parameterNode.SetNodeReferenceID(name, value.GetID() if value is not None else None)
            else:
                self.parameterNode.SetParameter(name, str(value))

        return property(getter, setter)

    def __init__(self, parameterNode) -> None:
        self.parameterNode = parameterNode

    namespace = {name: make_property(name, kind) for name, kind in hints.items()}
    namespace["__init__"] = __init__
    namespace["__doc__"] = cls.__doc__
    return type(cls.__name__, (), namespace)


def install() -> SlicerContext:
    """Make ``slicer.app``/``slicer.mrmlScene`` and the GUI-side helper modules importable; returns the context."""
    context = new_headless_context()
    slicer.app = _Application(context)
    slicer.mrmlScene = context.scene

    scripted = types.ModuleType("slicer.ScriptedLoadableModule")
    for item in (ScriptedLoadableModule, ScriptedLoadableModuleWidget, ScriptedLoadableModuleLogic,
                 ScriptedLoadableModuleTest):
        setattr(scripted, item.__name__, item)
    wrapper = types.ModuleType("slicer.parameterNodeWrapper")
    wrapper.parameterNodeWrapper = parameterNodeWrapper
    sys.modules["slicer.ScriptedLoadableModule"] = scripted
    sys.modules["slicer.parameterNodeWrapper"] = wrapper
    # The module file imports qt for its Widget; the Logic and Test never touch it.
    sys.modules["qt"] = types.ModuleType("qt")
    return context


def uninstall() -> None:
    for name in ("app", "mrmlScene"):
        if hasattr(slicer, name):
            delattr(slicer, name)
    for name in ("slicer.ScriptedLoadableModule", "slicer.parameterNodeWrapper", "qt", "SurgicalAIPlanner"):
        sys.modules.pop(name, None)
