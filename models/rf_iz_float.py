r"""The ``rf_iz_float`` model: the resonate-and-fire Izhikevich neuron in float64.

The resonator is ``rf_float``'s (``models/rf_float.py``); the spike and reset are those of Lava
0.10's floating-point ``PyRF_IZModelFloat`` (``lava/proc/rf_iz/models.py``). On Loihi it becomes
``rf_iz`` (``models/rf_iz.py``) through ``compiler/passes/quantize/rf.py``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .base import NeuronModel, Quantizer, Step
from .jit import njit
from .rf import resonator_features
from .rf_float import IMAG, REAL, VTH, RFFloat, float_tables, resonate_float

RESET_BELOW = 1e-5  # Lava's float RF_IZ resets im to vth - 1e-5 "so that it does not spike again"


class RFIZFloat(RFFloat):
    r"""Resonate-and-fire Izhikevich neuron in floating point (Lava's ``PyRF_IZModelFloat``).

    ``re'``, ``im'`` are ``rf_float``'s resonator update (its docstring); the imaginary part
    fires:

    .. math::

        spike[t] &= im'[t] \ge vth \\
        re[t], im[t] &= (0,\ vth - 10^{-5}) \text{ after a spike, else } (re'[t], im'[t])

    Lava's fixed-point model (``rf_iz``) resets ``im`` to one integer unit below the threshold
    instead. Parameters as ``rf_float``; the recorded voltage is ``im``.
    """

    kind: Literal["rf_iz_float"] = "rf_iz_float"  # type: ignore[assignment]


@njit(cache=True, nogil=True)
def rf_iz_float_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``x``; append spikes' global ids."""
    for i in range(lo, hi):
        re, im = resonate_float(x[i], params, state, i)
        if im >= params[VTH, i]:
            re, im = 0.0, params[VTH, i] - RESET_BELOW
            out_ids[n_out] = gbase + i
            n_out += 1
        state[REAL, i] = re
        state[IMAG, i] = im
    return n_out


def _example(features: frozenset[str]) -> RFIZFloat:
    return RFIZFloat(period=8.0, alpha=0.0 if "no_leak" in features else 0.05, vth=0.2)


MODEL = NeuronModel(
    kind="rf_iz_float",
    params=RFIZFloat,
    summary="resonate-and-fire Izhikevich neuron, float64 (Lava's float RF_IZ; quantizes to rf_iz)",
    steps={"float": Step("float", float_tables, rf_iz_float_update, np.float64, IMAG)},
    quantizers={"loihi": Quantizer("rf_iz",
                                   "snnc.compiler.passes.quantize.rf:quantize_population",
                                   keeps=frozenset({"no_leak"}))},
    features=("no_leak",),
    features_of=resonator_features,
    refusals={"spinnaker": "spinnaker-emu has no resonate-and-fire model"},
    example=_example,
)
