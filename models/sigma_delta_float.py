r"""The ``sigma_delta_float`` model: the sigma-delta neuron in float64 (what ``sigma_delta`` and
``spinnaker_sigma_delta`` quantize).

The equations are those of Lava 0.10's sigma-delta neuron (lava-nc/lava
``src/lava/proc/sdn/models.py``: ``AbstractSigmaDeltaModel.dynamics``, ``AbstractDeltaModel``)
without the integer scaling (``spike_exp``, ``state_exp``) and without int32 wraps: sigma
integrates the input, the activation is ReLU or the identity, and the change of the activation
(plus the residue of what was not sent) is sent as a graded message when it reaches ``vth``.
The message row is the float value sent (``Step.payload_row``): a synapse of weight ``w`` and
delay ``d`` adds ``w * m[t]`` to its target's input at ``t + d``.

A chip runs it through a quantizer: on Loihi it becomes ``sigma_delta`` (Lava's own
``SigmaDelta``, ``compiler/passes/quantize/sigma_delta.py``), on SpiNNaker ``spinnaker_sigma_delta``
(s16.15, graded payload packets, ``compiler/passes/quantize/sigma_delta_spinnaker.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import Value, _Frozen, resolve

from .base import NeuronModel, Quantizer, Step
from .jit import njit


class SigmaDeltaFloat(_Frozen):
    r"""The sigma-delta neuron in floating point: integrate, activate, send the change.

    ``x[t]`` is the summed input (``w`` per spike, ``w * m`` per graded message); everything is
    float64 and starts at 0:

    .. math::

        \sigma[t] &= \sigma[t-1] + x[t] \\
        act[t] &= f(\sigma[t] + bias), \quad f = \max(\cdot, 0) \text{ (relu) or the identity
                  (unit)} \\
        \delta[t] &= act[t] - act[t-1] + r[t-1] \\
        s[t] &= \delta[t] \text{ if } |c[t]| \ge vth \text{ else } 0, \quad c[t] = \delta[t]
              \text{, or with cum\_error: } c[t] = err[t] = err[t-1] + \delta[t] \\
        err[t] &\leftarrow 0 \text{ when } s[t] \ne 0 \quad \text{(cum\_error only)} \\
        r[t] &= \delta[t] - s[t] \qquad \text{(residue)}

    The message is ``s[t]`` (0: nothing sent); the recorded voltage is ``sigma``. ``vth`` (>= 0,
    input units), ``act_mode`` and ``cum_error`` are one value per population (Lava's
    ``SigmaDelta`` holds one per process); ``bias`` may differ per neuron.
    """

    kind: Literal["sigma_delta_float"] = "sigma_delta_float"
    vth: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    bias: Value = 0.0
    act_mode: Literal["relu", "unit"] = "relu"
    cum_error: bool = False


# Rows of the per-neuron parameter and state tables.
VTH, BIAS, RELU, CUM_ERROR = range(4)
SIGMA, ACT, RESIDUE, ERROR, MESSAGE = range(5)


def float_tables(neuron: SigmaDeltaFloat, size: int,
                 dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[4, size], state float64[5, size]) of a ``sigma_delta_float`` population."""
    params = np.zeros((4, size), dtype=np.float64)
    params[VTH] = neuron.vth
    params[BIAS] = np.asarray(resolve(neuron.bias, size), np.float64)
    params[RELU] = float(neuron.act_mode == "relu")
    params[CUM_ERROR] = float(neuron.cum_error)
    return params, np.zeros((5, size), dtype=np.float64)


@njit(cache=True, nogil=True)
def float_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``x``; no spikes, a message."""
    for i in range(lo, hi):
        sigma = state[SIGMA, i] + x[i]
        act = sigma + params[BIAS, i]
        if params[RELU, i] != 0.0 and act < 0.0:
            act = 0.0
        delta = act - state[ACT, i] + state[RESIDUE, i]
        if params[CUM_ERROR, i] != 0.0:
            error = state[ERROR, i] + delta
            sent = delta if abs(error) >= params[VTH, i] else 0.0
            if sent != 0.0:
                error = 0.0
            state[ERROR, i] = error
        else:
            sent = delta if abs(delta) >= params[VTH, i] else 0.0
        state[SIGMA, i] = sigma
        state[ACT, i] = act
        state[RESIDUE, i] = delta - sent
        state[MESSAGE, i] = sent
    return n_out


def _features(neuron: Any) -> dict[str, str]:
    return {}  # graded_output is the network's use of it (a projection from it), not a field


def _example(features: frozenset[str]) -> SigmaDeltaFloat:
    return SigmaDeltaFloat(vth=0.25, bias=-0.1)


MODEL = NeuronModel(
    kind="sigma_delta_float",
    params=SigmaDeltaFloat,
    summary="sigma-delta neuron (ReLU/unit, cum_error), graded delta messages, float64 "
            "(quantizes to sigma_delta, spinnaker_sigma_delta)",
    steps={"float": Step("float", float_tables, float_update, np.float64, SIGMA,
                         payload_row=MESSAGE)},
    quantizers={
        "loihi": Quantizer(
            "sigma_delta", "snnc.compiler.passes.quantize.sigma_delta:quantize_population",
            keeps=frozenset({"graded_output"})),
        "spinnaker": Quantizer(
            "spinnaker_sigma_delta",
            "snnc.compiler.passes.quantize.sigma_delta_spinnaker:quantize_population",
            keeps=frozenset({"graded_output"})),
    },
    features=("graded_output",),
    features_of=_features,
    spiking=False,
    example=_example,
)
