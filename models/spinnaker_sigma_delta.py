r"""The ``spinnaker_sigma_delta`` model: the sigma-delta neuron in SpiNNaker's s16.15 integers,
sending its delta as a graded payload (snnc's own definition: sPyNNaker has no sigma-delta model
and no graded synapses).

It is ``sigma_delta_float``'s equations (``models/sigma_delta_float.py``; Lava's sigma-delta
neuron, lava-nc/lava ``src/lava/proc/sdn/models.py``) on raw s16.15 values (value x 2**15), with
``spinnaker_lif``'s delta-synapse input: each step the neuron reads its excitatory and inhibitory
ring-buffer sums (uint16, saturated), shifts them by the receptor's ``weight_shift`` into s16.15
and adds their difference to ``sigma``. Every ``+``/``-`` wraps to 32 bits (accum arithmetic).

Its message is ``s >> payload_shift`` (arithmetic: floor), kept in state row ``MESSAGE``
(``Step.payload_row``). On spinnaker-emu its core sends it every tick as the 32-bit payload of
one multicast packet, and a row word of weight ``w`` adds ``(|w| * |m|) >> 15`` to ring slot
``t + d`` of the receptor of the sign of ``w * m`` (docs/spinnaker-emu.md, "Graded messages"),
as for ``spinnaker_li``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import Int, RangeChecked, _Frozen, resolve

from .base import NeuronModel, Step
from .jit import njit
from .sigma_delta import abs_int32
from .spinnaker_lif import INT32_MAX, INT32_MIN, RING_MAX, wrap_int32


class SpinnakerSigmaDelta(_Frozen):
    r"""Sigma-delta neuron in s16.15 (raw integers, LSB ``2**-15``), graded payload output.

    With this step's saturated uint16 ring sums ``W_exc``, ``W_inh`` and ``wrap`` the 32-bit
    two's-complement wrap:

    .. math::

        a[t] &= \mathrm{wrap}\big((W_{exc} \ll shift_{exc}) - (W_{inh} \ll shift_{inh})\big) \\
        \sigma[t] &= \mathrm{wrap}(\sigma[t-1] + a[t]) \\
        act[t] &= f\big(\mathrm{wrap}(\sigma[t] + bias)\big), \quad
                 f = \max(\cdot, 0) \text{ (relu) or the identity (unit)} \\
        \delta[t] &= \mathrm{wrap}(act[t] - act[t-1] + r[t-1]) \\
        s[t] &= \delta[t] \text{ if } |c[t]| \ge vth \text{ else } 0, \quad
              c[t] = \delta[t] \text{, or with cum\_error: }
              c[t] = err[t] = \mathrm{wrap}(err[t-1] + \delta[t]) \\
        err[t] &\leftarrow 0 \text{ when } s[t] \ne 0 \quad \text{(cum\_error only)} \\
        r[t] &= \mathrm{wrap}(\delta[t] - s[t]), \qquad m[t] = s[t] \gg payload\_shift

    ``|x|`` of ``-2^31`` is ``-2^31`` (int32 ``abs``: never sent). The state starts at 0.
    ``vth`` (0..2^31 - 1) and ``bias`` (int32, per neuron) are raw s16.15.
    """

    kind: Literal["spinnaker_sigma_delta"] = "spinnaker_sigma_delta"
    vth: RangeChecked(ge=0, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    bias: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    act_mode: Literal["relu", "unit"] = "relu"
    cum_error: bool = False
    weight_shift_exc: Annotated[Int, Field(ge=0, le=31)] = 0
    weight_shift_inh: Annotated[Int, Field(ge=0, le=31)] = 0
    payload_shift: Annotated[Int, Field(ge=0, le=31)] = 0


# Rows of the per-neuron parameter and state tables.
VTH, BIAS, RELU, CUM_ERROR, SHIFT_EXC, SHIFT_INH, PAYLOAD_SHIFT = range(7)
SIGMA, ACT, RESIDUE, ERROR, MESSAGE = range(5)


def tables(neuron: SpinnakerSigmaDelta, size: int,
           dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[7, size], state int64[5, size]) of a ``spinnaker_sigma_delta`` population."""
    params = np.zeros((7, size), dtype=np.int64)
    params[VTH] = resolve(neuron.vth, size, integer=True)
    params[BIAS] = resolve(neuron.bias, size, integer=True)
    params[RELU] = int(neuron.act_mode == "relu")
    params[CUM_ERROR] = int(neuron.cum_error)
    params[SHIFT_EXC] = neuron.weight_shift_exc
    params[SHIFT_INH] = neuron.weight_shift_inh
    params[PAYLOAD_SHIFT] = neuron.payload_shift
    return params, np.zeros((5, size), dtype=np.int64)


@njit(cache=True, nogil=True, inline="always")
def _ring_input(exc, inh, shift_exc, shift_inh):
    """This step's s16.15 input from the two saturated uint16 ring sums."""
    w_exc = min(np.int64(exc), RING_MAX)
    w_inh = min(np.int64(inh), RING_MAX)
    return wrap_int32(wrap_int32(w_exc << shift_exc) - wrap_int32(w_inh << shift_inh))


@njit(cache=True, nogil=True)
def update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` (``x[i]``/``x[n + i]``: exc/inh ring sums); never spikes."""
    n = state.shape[1]
    for i in range(lo, hi):
        a = _ring_input(x[i], x[n + i], params[SHIFT_EXC, i], params[SHIFT_INH, i])
        sigma = wrap_int32(state[SIGMA, i] + a)
        act = wrap_int32(sigma + params[BIAS, i])
        if params[RELU, i] != 0 and act < 0:
            act = 0
        delta = wrap_int32(act - state[ACT, i] + state[RESIDUE, i])
        if params[CUM_ERROR, i] != 0:
            error = wrap_int32(state[ERROR, i] + delta)
            sent = delta if abs_int32(error) >= params[VTH, i] else 0
            if sent != 0:
                error = 0
            state[ERROR, i] = error
        else:
            sent = delta if abs_int32(delta) >= params[VTH, i] else 0
        state[SIGMA, i] = sigma
        state[ACT, i] = act
        state[RESIDUE, i] = wrap_int32(delta - sent)
        state[MESSAGE, i] = sent >> params[PAYLOAD_SHIFT, i]
    return n_out


def _features(neuron: SpinnakerSigmaDelta) -> dict[str, str]:
    return {}  # graded_output is the network's use of it (a projection from it), not a field


def _example(features: frozenset[str]) -> SpinnakerSigmaDelta:
    return SpinnakerSigmaDelta(vth=3 * 2**15, bias=-2**15, weight_shift_exc=10,
                               weight_shift_inh=10, payload_shift=4)


MODEL = NeuronModel(
    kind="spinnaker_sigma_delta",
    params=SpinnakerSigmaDelta,
    summary="sigma-delta neuron in s16.15 (ReLU/unit, cum_error) sending s >> payload_shift",
    steps={"spinnaker": Step("spinnaker", tables, update, np.int64, SIGMA, input="exc_inh",
                             payload_row=MESSAGE)},
    lowerings={"spinnaker-emu": "the model's spinnaker Step on the application cores (a foreign "
                                "kind), one payload packet per neuron and tick"},
    features=("graded_output",),
    features_of=_features,
    spiking=False,
    integer_weights=True,
    refusals={"loihi": "it is SpiNNaker's integer model; loihi-sim runs sigma_delta"},
    example=_example,
)
