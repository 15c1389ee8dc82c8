"""Lava's own ``ATRLIF`` process for every ``atrlif`` population of a network (``models/atrlif.py``).

Define only: Lava's model discovery executes every ``.py`` file of this folder while it compiles.

Lava's ATRLIF (lava-nc/lava ``src/lava/proc/atrlif/process.py``) receives its input as Lava's
``LIF`` does: ``a_in`` is a 16-bit-declared int16 port whose received sum takes the sender's
int32 dtype (``Sparse``/``DelaySparse`` ``a_out`` are int32), and ``PyATRLIFModelFixed``
multiplies it by ``act_unity = 2**6`` where ``LIF`` shifts it left by ``act_shift = 6``: the same
``a << 6`` in int32 arithmetic. So the loihi-sim blocks feed it unchanged (spikes, no message
bits). Its ``s_out`` sends the spike vector as int32 0/1, which sinks and ``Sparse`` read as spikes.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _floats(bits: np.ndarray) -> Any:
    """The float64 parameters the lowering's int64 arrays carry bit for bit (scalar when equal)."""
    values = np.ascontiguousarray(bits, dtype=np.int64).view(np.float64)
    if values.size and np.all(values == values[0]):
        return float(values[0])
    return values


def atrlif(arrays: dict[str, np.ndarray], size: int) -> Any:
    """One Lava ``ATRLIF`` holding every ``atrlif`` neuron (``LavaLowering`` of ``models/atrlif.py``).

    ``delta_*`` and ``theta_0`` are declared shape-(1,) Vars, but the fixed-point model only
    broadcasts them, so per-neuron arrays are passed when neurons differ. ``theta_step`` is added
    to the spiking neurons' thresholds as one scalar (``theta[s] + theta_step``), so all the
    group's neurons must share it: otherwise the run is refused in one line.
    """
    from lava.proc.atrlif.process import ATRLIF

    from snnc.ir.errors import UnsupportedOnTarget

    step = _floats(arrays["theta_step"])
    if not isinstance(step, float):
        values = ", ".join(f"{v:g}" for v in np.unique(step))
        raise UnsupportedOnTarget(
            f"atrlif populations with different theta_step ({values}), which loihi-sim cannot "
            "run: Lava's ATRLIF process applies one scalar theta_step to all of them",
            where="populations")
    theta_0 = _floats(arrays["theta_0"])
    return ATRLIF(shape=(size,), i=arrays["i_init"], v=arrays["v_init"], r=arrays["r_init"],
                  theta=theta_0, delta_i=_floats(arrays["delta_i"]),
                  delta_v=_floats(arrays["delta_v"]),
                  delta_theta=_floats(arrays["delta_theta"]),
                  delta_r=_floats(arrays["delta_r"]), theta_0=theta_0, theta_step=step,
                  bias_mant=arrays["bias_mant"], bias_exp=arrays["bias_exp"])
