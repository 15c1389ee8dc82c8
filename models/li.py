r"""The ``li`` model: a non-spiking leaky integrator (``lif`` without threshold, reset or refractory).

Its float update is ``lif``'s kernel with the threshold switched off (``models/lif.py``). Its value
is the voltage; record it with ``snnc run --record-v``. A population of it that feeds a later
layer uses the ``graded_output`` feature: every step it sends its voltage as a graded message, and
a synapse of weight ``w`` and delay ``d`` adds ``w * v[t]`` to its target's input at ``t + d``
(the one-step-per-hop rule of spikes). The reference runs that in float numerics; the chip
targets refuse it (no graded lowering yet) rather than silently dropping the next layer's input.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from snnc.ir.values import RangeChecked, Value, _Frozen

from .base import NeuronModel, Quantizer, Step
from .lif import V, float_tables, float_update


class LI(_Frozen):
    r"""Non-spiking leaky integrator (a readout): ``lif`` without threshold, reset or refractory.

    .. math::

        i[t] &= \alpha_s\, i[t-1] + x[t] \\
        v[t] &= v_{leak} + \alpha_m (v[t-1] - v_{leak}) + i[t] + bias

    It never spikes; record its voltage (``snnc run --record-v``). When it feeds a projection, its
    value is sent every step (graded output): ``w * v[t]`` reaches the target at ``t + d``. Only
    the ``float`` numerics of the reference simulate it; hardware targets refuse it.
    """

    kind: Literal["li"] = "li"
    tau_mem: RangeChecked(gt=0, posinf=True)  # type: ignore[valid-type]
    tau_syn: RangeChecked(ge=0) = 0.0  # type: ignore[valid-type]
    v_leak: Value = 0.0
    bias: Value = 0.0
    v_init: Value = 0.0
    integrator: Literal["exact", "euler"] = "exact"


MODEL = NeuronModel(
    kind="li",
    params=LI,
    summary="non-spiking leaky integrator (a readout), float64",
    steps={"float": Step("float", float_tables, float_update, np.float64, V)},
    features=("graded_output",),
    spiking=False,
    quantizers={
        "spinnaker": Quantizer("spinnaker_li",
                               "snnc.compiler.passes.quantize.spinnaker:quantize_li_population",
                               keeps=frozenset({"graded_output"})),
        "loihi": Quantizer("loihi_li",
                           "snnc.compiler.passes.quantize.loihi:quantize_li_population",
                           keeps=frozenset({"graded_output"})),
    },
    example=lambda features: LI(tau_mem=10.0, tau_syn=2.0),
)
