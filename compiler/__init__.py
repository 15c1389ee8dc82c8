"""snnc's compiler: passes from IR to IR (quantization) and the mapping onto hardware.

Public API: ``compile_network``, ``save_build``, ``load_build`` (imported lazily so that importing
``snnc.compiler`` stays cheap), the artifacts in ``artifacts.py`` and ``HardwareSpec``.
"""

from __future__ import annotations

if __name__ != "snnc.compiler":  # pyproject's package-dir: the folder compiler/ is snnc.compiler
    raise ImportError(f"compiler/ is the package snnc.compiler: import snnc.compiler, not {__name__}")

from typing import Any

from .artifacts import (
    CompiledBuild,
    Core,
    CoreSlice,
    Partitioning,
    Placement,
    Routing,
    RoutingTable,
)
from .hardware import HardwareSpec, load_hardware

_LAZY = {
    "compile_network": "snnc.compiler.pipeline",
    "save_build": "snnc.compiler.build",
    "load_build": "snnc.compiler.build",
    "ResourceReport": "snnc.compiler.report",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'snnc.compiler' has no attribute '{name}'")


__all__ = ["CompiledBuild", "Core", "CoreSlice", "Partitioning", "Placement", "Routing",
           "RoutingTable", "HardwareSpec", "load_hardware", *_LAZY]
