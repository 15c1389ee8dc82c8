"""The Lava processes of snnc's built-in Loihi kinds, as their ``LavaLowering`` names them.

Each function takes the group's per-neuron int64 arrays (``LavaLowering.arrays``, concatenated
over the group's populations) and its size, and returns one Lava process with ``a_in``, ``s_out``
and the voltage Var. Only ``runner.py`` calls them (this module imports lava).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lava.proc.lif.process import LIF

from .lava_procs.li import SnncLI
from .lava_procs.lif import SnncLIF


def scalar_or_array(values: np.ndarray) -> int | np.ndarray:
    """Lava declares some parameters as scalars: pass a scalar whenever all neurons agree."""
    if values.size and np.all(values == values[0]):
        return int(values[0])
    return values


def loihi_lif(arrays: dict[str, np.ndarray], size: int) -> Any:
    """Lava's LIF; snnc's SnncLIF when a population needs refractory or subtract (same
    arithmetic otherwise). ``du``, ``dv`` and ``vth`` are declared scalars but the fixed-point
    model only broadcasts them, so per-neuron arrays are passed when they differ."""
    fields: dict[str, Any] = dict(
        shape=(size,), u=arrays["u_init"], v=arrays["v_init"], du=scalar_or_array(arrays["du"]),
        dv=scalar_or_array(arrays["dv"]), vth=scalar_or_array(arrays["vth"]),
        bias_mant=arrays["bias_mant"], bias_exp=arrays["bias_exp"])
    if not (np.any(arrays["refractory"]) or np.any(arrays["reset_subtract"])):
        return LIF(**fields)
    return SnncLIF(**fields, refractory=arrays["refractory"],
                   reset_subtract=arrays["reset_subtract"])


def loihi_li(arrays: dict[str, np.ndarray], size: int) -> Any:
    """snnc's SnncLI holding every ``loihi_li`` population (graded messages on ``s_out``)."""
    return SnncLI(shape=(size,), u=arrays["u_init"], v=arrays["v_init"], du=arrays["du"],
                  dv=arrays["dv"], bias_mant=arrays["bias_mant"], bias_exp=arrays["bias_exp"],
                  payload_shift=arrays["payload_shift"])
