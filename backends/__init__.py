"""Backends: each takes a network (or a compiled build) and returns a ``SpikeRecord``.

Targets are found through a lazy registry so that only ``--target loihi-sim`` imports lava:
``get_backend(name)`` imports ``module:attribute`` on first use. A backend is any object with

    name: str
    def run(self, source, steps: int, *, record_v: Sequence[str] = (), **options) -> SpikeRecord

where ``source`` is a ``Network`` or a compiled build (``snnc.compiler`` artifacts).
"""

from __future__ import annotations

if __name__ != "snnc.backends":  # pyproject's package-dir: the folder backends/ is snnc.backends
    raise ImportError(f"backends/ is the package snnc.backends: import snnc.backends, not {__name__}")

import importlib
from typing import Any, Protocol, Sequence

from snnc.ir.errors import SnncError
from snnc.models.targets import TARGETS as TARGET_TABLE

from .spikes import Divergence, SpikeRecord, first_divergence

TARGETS: dict[str, str] = {t.name: t.backend for t in TARGET_TABLE.values()}
"""Backend import paths by target name, from the one target table (``snnc.models.targets``)."""


class Backend(Protocol):
    """What ``snnc run`` and ``snnc verify`` need of a target."""

    name: str

    def run(self, source: Any, steps: int, *, record_v: Sequence[str] = (),
            **options: Any) -> SpikeRecord: ...


def get_backend(name: str) -> Backend:
    """The backend registered under ``name`` (imported on first use)."""
    if name not in TARGETS:
        raise SnncError(f"unknown target '{name}' (known: {', '.join(TARGETS)})", where="--target")
    module_name, attribute = TARGETS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        extra = TARGET_TABLE[name].extra
        if extra and extra in str(exc):
            raise SnncError(f"target '{name}' needs the [{extra}] extra: pip install "
                            f"'snnc[{extra}]' (Python 3.10)", where="--target") from None
        raise
    return getattr(module, attribute)()


__all__ = ["TARGETS", "Backend", "get_backend", "SpikeRecord", "Divergence", "first_divergence"]
