r"""The ``rf_float`` model: the resonate-and-fire neuron in float64 (the meaning ``rf`` quantizes).

Its equations are those of Lava 0.10's floating-point ``PyRFModelFloat``
(``lava/proc/rf/models.py``) with the same ``period``, ``alpha`` and ``vth``, driven on the real
part by the summed weights. A chip runs it through a quantizer: on Loihi it becomes ``rf``
(Lava's fixed-point ``RF``, ``models/rf.py``) with ``state_exp = 6``, ``decay_bits = 12`` and a
voltage scale chosen by ``compiler/passes/quantize/rf.py``. ``rf_iz_float``
(``models/rf_iz_float.py``) is the Izhikevich variant.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import RangeChecked, _Frozen, resolve

from .base import NeuronModel, Quantizer, Step
from .jit import njit
from .rf import resonator_features


class RFFloat(_Frozen):
    r"""Resonate-and-fire neuron in floating point (Lava's ``PyRFModelFloat``).

    With :math:`c = (1 - \alpha)\cos(2\pi / period)`, :math:`s = (1 - \alpha)\sin(2\pi /
    period)` and ``x[t]`` the summed weights arriving at step t (on the real part):

    .. math::

        re[t] &= c\, re[t-1] - s\, im[t-1] + x[t] \\
        im[t] &= s\, re[t-1] + c\, im[t-1] \\
        spike[t] &= re[t] \ge vth \;\wedge\; im[t] \ge 0 \;\wedge\; im[t-1] < 0

    No reset. ``re`` and ``im`` start at 0. ``period`` is in steps per turn (> 0), ``alpha`` the
    decay per step (0..1; 0 is no leak), both per neuron; ``vth`` (>= 0, in weight units) is one
    value per population, as Lava's ``RF`` holds one.
    """

    kind: Literal["rf_float"] = "rf_float"
    period: RangeChecked(gt=0)  # type: ignore[valid-type]
    alpha: RangeChecked(ge=0, le=1)  # type: ignore[valid-type]
    vth: Annotated[float, Field(ge=0)] = 1.0


# Rows of the per-neuron parameter and state tables.
SIN, COS, VTH = range(3)
REAL, IMAG = range(2)


def float_tables(neuron: Any, size: int, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[3, size], state float64[2, size]) of an ``rf_float`` / ``rf_iz_float``
    population; the decays in the order of Lava's ``RF.__init__``."""
    period = np.asarray(resolve(neuron.period, size), np.float64)
    alpha = np.asarray(resolve(neuron.alpha, size), np.float64)
    params = np.zeros((3, size), dtype=np.float64)
    params[SIN] = (1 - alpha) * np.sin(np.pi * 2 * 1 / period)
    params[COS] = (1 - alpha) * np.cos(np.pi * 2 * 1 / period)
    params[VTH] = float(neuron.vth)
    return params, np.zeros((2, size), dtype=np.float64)


@njit(cache=True, nogil=True, inline="always")
def resonate_float(x, params, state, i):
    """Lava's ``resonator_dynamics``, left to right as it writes them."""
    re, im = state[REAL, i], state[IMAG, i]
    new_re = params[COS, i] * re - params[SIN, i] * im + x
    new_im = params[SIN, i] * re + params[COS, i] * im
    return new_re, new_im


@njit(cache=True, nogil=True)
def rf_float_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``x``; append spikes' global ids."""
    for i in range(lo, hi):
        old_im = state[IMAG, i]
        re, im = resonate_float(x[i], params, state, i)
        if re >= params[VTH, i] and im >= 0.0 and old_im < 0.0:
            out_ids[n_out] = gbase + i
            n_out += 1
        state[REAL, i] = re
        state[IMAG, i] = im
    return n_out


def _example(features: frozenset[str]) -> RFFloat:
    return RFFloat(period=8.0, alpha=0.0 if "no_leak" in features else 0.05, vth=0.2)


MODEL = NeuronModel(
    kind="rf_float",
    params=RFFloat,
    summary="resonate-and-fire, float64 (Lava's float RF; quantizes to rf)",
    steps={"float": Step("float", float_tables, rf_float_update, np.float64, REAL)},
    quantizers={"loihi": Quantizer("rf", "snnc.compiler.passes.quantize.rf:quantize_population",
                                   keeps=frozenset({"no_leak"}))},
    features=("no_leak",),
    features_of=resonator_features,
    refusals={"spinnaker": "spinnaker-emu has no resonate-and-fire model"},
    example=_example,
)
