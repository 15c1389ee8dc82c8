r"""The ``spinnaker_li`` model: ``spinnaker_lif``'s s16.15 membrane and synapses, never spiking,
sending its voltage as a graded message (snnc's own definition: sPyNNaker has no graded synapses).

A ``spinnaker_li`` neuron is ``spinnaker_lif`` without threshold, reset or refractory period. Each
step, after its update, its message is ``V >> payload_shift`` (arithmetic shift: floor), kept in
state row ``MSG`` (``Step.payload_row``). On spinnaker-emu the neuron's core sends it every tick as
the 32-bit payload of one multicast packet (key as for a spike).

A synapse of signed weight ``w`` (``|w| <= 0xFFFF``, the 16-bit ring-buffer magnitude with the
receptor of its sign, as for spikes) from a graded source adds ``(|w| * |m|) >> 15`` (floor) to the
ring-buffer slot ``t + d`` of the receptor given by the sign of ``w * m``: excitatory if positive,
inhibitory if negative (nothing when ``m = 0``). Ring sums saturate at 0xFFFF and are shifted by
the receiving neuron's ``weight_shift`` exactly as spikes' sums are.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import Int, RangeChecked, _Frozen, resolve

from .base import NeuronModel, Step
from .jit import njit
from .spinnaker_lif import (
    INT32_MAX,
    INT32_MIN,
    UINT32_MAX,
    _receive,
    accum_mul,
    decay_s1615,
    wrap_int32,
)


class SpinnakerLI(_Frozen):
    r"""A non-spiking s16.15 leaky integrator whose voltage feeds later layers (graded output).

    Raw fixed point as ``spinnaker_lif`` (voltages, currents, ``exp_tc``, ``r_membrane``: s16.15;
    ``decay_*``/``init_*``: u0.32). Per step, with this step's saturated uint16 ring sums
    ``W_exc``, ``W_inh``:

    .. math::

        I_e &\mathrel{+}= \mathrm{decay}(W_{exc} \ll shift_{exc},\ init_{exc})
              \quad(\text{delta synapse: } I_e \mathrel{+}= W_{exc} \ll shift_{exc}) \\
        \alpha &= (I_e - I_i + i_{offset}) \cdot r_{membrane} + v_{rest};
              \quad V = \alpha - exp_{tc} \cdot (\alpha - V)
              \quad(\text{leak none: } V = V + (I_e - I_i + i_{offset}) \cdot r_{membrane}) \\
        m &= V \gg payload\_shift \quad (\text{arithmetic: } \lfloor V / 2^{payload\_shift} \rfloor) \\
        I_e &= \mathrm{decay}(I_e, decay_{exc}) \quad(\text{delta synapse: } I_e = 0)

    and likewise for the inhibitory current; ``a*b = (a b) >> 15`` and every accum result wraps to
    32 bits. It never spikes. A synapse of weight ``w`` from it adds ``(|w| |m|) >> 15`` to the
    receptor of the sign of ``w m`` at ``t + d`` (module docstring).
    """

    kind: Literal["spinnaker_li"] = "spinnaker_li"
    v_rest: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    v_init: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    i_offset: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    exp_tc: RangeChecked(ge=0, le=2**15, integer=True)  # type: ignore[valid-type]
    r_membrane: RangeChecked(ge=0, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    synapse: Literal["exp", "delta"] = "exp"
    decay_exc: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    init_exc: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    decay_inh: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    init_inh: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    weight_shift_exc: Annotated[Int, Field(ge=0, le=31)] = 0
    weight_shift_inh: Annotated[Int, Field(ge=0, le=31)] = 0
    leak: Literal["exp", "none"] = "exp"
    payload_shift: Annotated[Int, Field(ge=0, le=31)] = 0


GRADED_SHIFT = 15  # a graded synapse adds (|w| * |m|) >> 15

# Rows of the per-neuron parameter and state tables.
(V_REST, I_OFFSET, EXP_TC, R_MEMBRANE, DECAY_EXC, INIT_EXC, DECAY_INH, INIT_INH, SHIFT_EXC,
 SHIFT_INH, DELTA, NO_LEAK, PAYLOAD_SHIFT) = range(13)
V, I_EXC, I_INH, MSG = range(4)

_FIELDS = ("v_rest", "i_offset", "exp_tc", "r_membrane", "decay_exc", "init_exc", "decay_inh",
           "init_inh", "weight_shift_exc", "weight_shift_inh")


def li_tables(neuron: SpinnakerLI, size: int, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[13, size], state int64[4, size]) of a ``spinnaker_li`` population."""
    params = np.empty((13, size), dtype=np.int64)
    for row, name in enumerate(_FIELDS):
        params[row] = resolve(getattr(neuron, name), size, integer=True)
    params[DELTA] = int(neuron.synapse == "delta")
    params[NO_LEAK] = int(neuron.leak == "none")
    params[PAYLOAD_SHIFT] = neuron.payload_shift
    state = np.zeros((4, size), dtype=np.int64)
    state[V] = resolve(neuron.v_init, size, integer=True)
    state[MSG] = state[V] >> neuron.payload_shift
    return params, state


@njit(cache=True, nogil=True)
def li_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` (``x[i]``/``x[n + i]``: exc/inh ring sums); never spikes."""
    n = state.shape[1]
    for k in range(lo, hi):
        delta = params[DELTA, k] != 0
        i_exc = _receive(state[I_EXC, k], x[k], params[SHIFT_EXC, k], params[INIT_EXC, k], delta)
        i_inh = _receive(state[I_INH, k], x[n + k], params[SHIFT_INH, k], params[INIT_INH, k],
                         delta)
        v = state[V, k]
        total = wrap_int32(wrap_int32(i_exc - i_inh) + params[I_OFFSET, k])
        if params[NO_LEAK, k] != 0:
            v = wrap_int32(v + accum_mul(total, params[R_MEMBRANE, k]))
        else:
            alpha = wrap_int32(accum_mul(total, params[R_MEMBRANE, k]) + params[V_REST, k])
            v = wrap_int32(alpha - accum_mul(params[EXP_TC, k], wrap_int32(alpha - v)))
        state[V, k] = v
        state[MSG, k] = v >> params[PAYLOAD_SHIFT, k]
        if delta:
            i_exc, i_inh = 0, 0
        else:
            i_exc = decay_s1615(i_exc, params[DECAY_EXC, k])
            i_inh = decay_s1615(i_inh, params[DECAY_INH, k])
        state[I_EXC, k] = i_exc
        state[I_INH, k] = i_inh
    return n_out


def _features(neuron: SpinnakerLI) -> dict[str, str]:
    used = {}
    if neuron.synapse == "exp":
        used["synaptic_current"] = "synapse"
    if neuron.leak == "none":
        used["no_leak"] = "leak"
    return used


def _example(features: frozenset[str]) -> SpinnakerLI:
    exp = "synaptic_current" in features
    return SpinnakerLI(exp_tc=29650, r_membrane=10 * 2**15, i_offset=400,
                       synapse="exp" if exp else "delta",
                       decay_exc=3345173274 if exp else 0, init_exc=3785000000 if exp else 0,
                       decay_inh=3345173274 if exp else 0, init_inh=3785000000 if exp else 0,
                       leak="none" if "no_leak" in features else "exp", payload_shift=4)


MODEL = NeuronModel(
    kind="spinnaker_li",
    params=SpinnakerLI,
    summary="non-spiking s16.15 integrator (spinnaker_lif's membrane) sending V >> payload_shift",
    steps={"spinnaker": Step("spinnaker", li_tables, li_update, np.int64, V, input="exc_inh",
                             payload_row=MSG)},
    lowerings={"spinnaker-emu": "the application core's neuron kernel, one payload packet per "
                                "neuron and tick"},
    features=("synaptic_current", "no_leak", "graded_output"),
    features_of=_features,
    spiking=False,
    integer_weights=True,
    refusals={"loihi": "it is SpiNNaker's integer model; loihi-sim runs lif or loihi_lif"},
    example=_example,
)
