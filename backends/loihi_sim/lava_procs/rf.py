"""Lava's own ``RF`` and ``RF_IZ`` processes for the ``rf`` / ``rf_iz`` kinds (``models/rf.py``).

Lava 0.10's resonators (``lava/proc/rf/process.py``) take two inputs, ``a_real_in`` and
``a_imag_in``; snnc's projections drive the real part: the process's ``a_in`` (the name
loihi-sim connects) is its ``a_real_in``, and ``a_imag_in`` stays unconnected, which Lava's
dense in-port reads as 0 every step. ``vth``, ``state_exp`` and ``decay_bits`` are one value per
``RF`` process (Lava's Vars of shape (1,)), so populations of a kind that differ in one of them
are refused; ``period`` and ``alpha`` are passed per neuron (Lava's ``sin_decay`` /
``cos_decay`` are plain-int Vars that its model only broadcasts).

Lava's model discovery executes every ``.py`` in this folder: this file only defines.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lava.proc.rf.process import RF
from lava.proc.rf_iz.process import RF_IZ

from snnc.ir.errors import UnsupportedOnTarget

_SHARED = ("vth", "state_exp", "decay_bits")  # one value per Lava RF process
_FLOATS = ("period", "alpha", "vth")  # carried as float64 bits (``models/rf.py`` float_bits)


def rf(arrays: dict[str, np.ndarray], size: int) -> Any:
    """Lava's ``RF`` holding every ``rf`` population."""
    return _resonator(RF, "rf", arrays, size)


def rf_iz(arrays: dict[str, np.ndarray], size: int) -> Any:
    """Lava's ``RF_IZ`` holding every ``rf_iz`` population."""
    return _resonator(RF_IZ, "rf_iz", arrays, size)


def _resonator(cls: Any, kind: str, arrays: dict[str, np.ndarray], size: int) -> Any:
    values = {key: _decoded(key, arrays[key]) for key in arrays}
    shared = {key: _one(kind, cls.__name__, key, values[key]) for key in _SHARED}
    process = cls(shape=(size,), period=values["period"], alpha=values["alpha"], **shared)
    process.a_in = process.a_real_in  # snnc's projections drive the real part
    return process


def _decoded(key: str, values: np.ndarray) -> np.ndarray:
    values = np.ascontiguousarray(values, dtype=np.int64)
    return values.view(np.float64) if key in _FLOATS else values


def _one(kind: str, process: str, key: str, values: np.ndarray) -> Any:
    """The one value all neurons share; Lava's process cannot hold more than one."""
    distinct = np.unique(values)
    if distinct.size > 1:
        shown = ", ".join(f"{v:g}" for v in distinct[:4])
        raise UnsupportedOnTarget(
            f"'{kind}' populations with different {key} ({shown}) cannot run on loihi-sim: it "
            f"holds every '{kind}' population in one Lava {process}, which has one {key}",
            where="populations")
    value = distinct[0]
    return float(value) if key in _FLOATS else int(value)
