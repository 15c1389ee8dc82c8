r"""The ``loihi_li`` model: Loihi's fixed-point CUBA neuron without threshold, with a graded output.

Its ``u`` and ``v`` are exactly ``loihi_lif``'s (Lava 0.10's ``PyLifModelBitAcc`` arithmetic,
``models/lava_fixed_point.py``) without the spike; every step it also computes an integer message
``v >> payload_shift``, which a population of it that feeds a projection sends (graded output:
``w * m[t]`` reaches the target at ``t + d``). loihi-sim runs it as snnc's ``SnncLI``
(``backends/loihi_sim/lava_procs/li.py``) whose messages travel through ``Sparse``/``DelaySparse``
blocks with ``num_message_bits = 24``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from snnc.ir.values import RangeChecked, _Frozen, resolve

from . import lava_fixed_point as lava
from .base import LavaLowering, NeuronModel, Step
from .jit import njit
from .loihi_lif import decay, wrap_int32

PAYLOAD_SHIFT_MAX = 23  # v is 24-bit signed: v >> 23 is -1 or 0


class LoihiLI(_Frozen):
    r"""Loihi's fixed-point CUBA neuron with no threshold (never spikes) and a graded message.

    All quantities are integers; ``a[t]`` is the summed, ``weight_exp``-shifted synaptic input and
    ``dec(x, d) = sign(x) * ((|x| * (4096 - d)) >> 12)`` (int64 product, truncated toward 0), as in
    ``loihi_lif``:

    .. math::

        u[t] &= \mathrm{wrap}_{24}\big(\mathrm{wrap}_{32}(\mathrm{dec}(u[t-1], du + 1)
                + (a[t] \ll 6))\big) \\
        v[t] &= \mathrm{clip}_{\pm(2^{23}-1)}\big(\mathrm{dec}(v[t-1], dv) + u[t]
                + (bias\_mant \ll bias\_exp)\big) \\
        m[t] &= v[t] \gg payload\_shift \quad \text{(arithmetic: floor)}

    ``wrap_24`` is Lava's single wrap (one period of 2^24 above +2^23 or at/below -2^23). The
    message ``m[t]`` is sent every step after the update (when the population feeds a projection;
    a synapse of weight ``w`` and delay ``d`` adds ``w * m[t]`` to its target's input at ``t + d``).
    Ranges are Lava's: ``du``, ``dv`` in 0..4095, ``bias_mant`` signed 13 bit, ``bias_exp`` 0..7,
    ``u_init``/``v_init`` 24-bit; ``payload_shift`` in 0..23 (|m| <= 2^(23 - payload_shift)).
    """

    kind: Literal["loihi_li"] = "loihi_li"
    du: RangeChecked(ge=0, le=lava.DECAY_MAX, integer=True)  # type: ignore[valid-type]
    dv: RangeChecked(ge=0, le=lava.DECAY_MAX, integer=True)  # type: ignore[valid-type]
    bias_mant: RangeChecked(  # type: ignore[valid-type]
        ge=lava.BIAS_MANT_MIN, le=lava.BIAS_MANT_MAX, integer=True
    ) = 0
    bias_exp: RangeChecked(ge=0, le=lava.BIAS_EXP_MAX, integer=True) = 0  # type: ignore[valid-type]
    v_init: RangeChecked(  # type: ignore[valid-type]
        ge=-lava.STATE_MAX, le=lava.STATE_MAX, integer=True
    ) = 0
    u_init: RangeChecked(  # type: ignore[valid-type]
        ge=-lava.STATE_MAX - 1, le=lava.STATE_MAX, integer=True
    ) = 0
    payload_shift: RangeChecked(ge=0, le=PAYLOAD_SHIFT_MAX, integer=True) = 0  # type: ignore


# Rows of the per-neuron parameter and state tables.
DU, DV, BIAS, SHIFT = range(4)
U, V, MESSAGE = range(3)


def li_tables(neuron: LoihiLI, size: int, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[4, size], state int64[3, size]) of a ``loihi_li`` population."""
    params = np.zeros((4, size), dtype=np.int64)
    params[DU] = resolve(neuron.du, size, integer=True)
    params[DV] = resolve(neuron.dv, size, integer=True)
    mant = resolve(neuron.bias_mant, size, integer=True).astype(np.int64)
    params[BIAS] = mant << resolve(neuron.bias_exp, size, integer=True).astype(np.int64)
    params[SHIFT] = resolve(neuron.payload_shift, size, integer=True)
    state = np.zeros((3, size), dtype=np.int64)
    state[U] = resolve(neuron.u_init, size, integer=True)
    state[V] = resolve(neuron.v_init, size, integer=True)
    state[MESSAGE] = state[V] >> params[SHIFT]
    return params, state


@njit(cache=True, nogil=True)
def li_update(a, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``a`` (int); no spikes, a message."""
    for i in range(lo, hi):
        u = wrap_int32(decay(state[U, i], params[DU, i] + lava.DS_OFFSET)
                       + (np.int64(a[i]) << lava.ACT_SHIFT))
        if u > lava.STATE_HALF:  # Lava's single 24-bit wrap, as loihi_lif
            u -= 2 * lava.STATE_HALF
        elif u <= -lava.STATE_HALF:
            u += 2 * lava.STATE_HALF
        state[U, i] = u
        v = decay(state[V, i], params[DV, i]) + u + params[BIAS, i]
        v = min(max(v, -lava.STATE_MAX), lava.STATE_MAX)
        state[V, i] = v
        state[MESSAGE, i] = v >> params[SHIFT, i]
    return n_out


_LAVA_FIELDS = ("du", "dv", "bias_mant", "bias_exp", "u_init", "v_init", "payload_shift")
MESSAGE_BITS = 24  # SnncLI's graded payload width (``backends/loihi_sim/lava_procs/li.py``)


def lava_arrays(neuron: LoihiLI, size: int) -> dict[str, np.ndarray]:
    """The per-neuron values loihi-sim gives its SnncLI process."""
    return {name: np.asarray(resolve(getattr(neuron, name), size, integer=True), np.int64)
            for name in _LAVA_FIELDS}


def _features(neuron: LoihiLI) -> dict[str, str]:
    used = {}
    if not isinstance(neuron.du, (int, float)) or neuron.du < lava.DECAY_MAX:
        used["synaptic_current"] = "du"
    if isinstance(neuron.dv, (int, float)) and neuron.dv == 0:
        used["no_leak"] = "dv"
    return used


def _example(features: frozenset[str]) -> LoihiLI:
    return LoihiLI(du=1000 if "synaptic_current" in features else lava.DECAY_MAX,
                   dv=0 if "no_leak" in features else 300, bias_mant=20, payload_shift=4)


MODEL = NeuronModel(
    kind="loihi_li",
    params=LoihiLI,
    summary="Loihi's fixed-point CUBA neuron without threshold; graded message v >> payload_shift",
    steps={"loihi": Step("loihi", li_tables, li_update, np.int64, V, input="loihi",
                         payload_row=MESSAGE)},
    lowerings={"loihi-sim": LavaLowering(
        "snnc's SnncLI (graded s_out, 24-bit) into Sparse/DelaySparse with num_message_bits=24",
        lava_arrays, "snnc.backends.loihi_sim.processes:loihi_li", message_bits=MESSAGE_BITS)},
    features=("synaptic_current", "no_leak", "graded_output"),
    features_of=_features,
    spiking=False,
    integer_weights=True,
    refusals={"spinnaker": "it is Loihi's integer model; spinnaker-emu runs li or its own model"},
    example=_example,
)
