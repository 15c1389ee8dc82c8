r"""The ``spinnaker_lif`` model: sPyNNaker's ``IF_curr_exp`` / ``IF_curr_delta`` in s16.15 fixed point.

As the ARM cores compute it (sPyNNaker ``neuron/models/neuron_model_lif_impl.h``,
``neuron/synapse_types/synapse_types_exponential_impl.h``): voltages and currents are s16.15
``accum`` raw int32 values; ``a*b`` is ``(int64(a) * b) >> 15`` (arithmetic shift: truncation
toward minus infinity); u0.32 decays are ``(int64(x) * d) >> 32``; every accum result wraps to 32
bits. The threshold is checked in refractory steps too (V is held there), as sPyNNaker does.
Reset by subtraction and ``leak: none`` (IF) are snnc's extensions, run by the reference's
spinnaker numerics and by spinnaker-emu's cores alike.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import Int, RangeChecked, _Frozen, resolve

from .base import NeuronModel, Step
from .jit import njit

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
UINT32_MAX = 2**32 - 1


class SpinnakerLIF(_Frozen):
    r"""sPyNNaker's ``IF_curr_exp`` / ``IF_curr_delta`` in raw fixed point
    (sPyNNaker ``neural_modelling/src/neuron/models/neuron_model_lif_impl.h``).

    Voltages and currents are s16.15 ``accum`` raw integers (value × 2^15); ``exp_tc`` and
    ``r_membrane`` are s16.15 too; ``decay_*``/``init_*`` are u0.32 raw integers. Constants are computed
    on the host and carried here as integers, so every backend computes the same bits.
    ``a*b`` on accums is ``(a * b) >> 15`` truncating toward minus infinity;
    ``decay(x, d) = (x * d) >> 32``.

    Per step: the ring-buffer slot for this step holds saturated uint16 sums ``W_exc``, ``W_inh``;

    .. math::

        I_e &\mathrel{+}= \mathrm{decay}(W_{exc} \ll shift_{exc},\ init_{exc})
              \quad(\text{delta synapse: } I_e \mathrel{+}= W_{exc} \ll shift_{exc}) \\
        &\text{if } refract = 0:\ \alpha = (I_e - I_i + i_{offset}) \cdot r_{membrane} + v_{rest};
              \ V = \alpha - exp_{tc} \cdot (\alpha - V) \quad \text{else } refract \mathrel{-}= 1 \\
        &\text{if } V \ge v_{thresh}:\ V = v_{reset} \text{ (subtract: } V - v_{thresh}\text{)},
              \ refract = t_{refract},\ \text{spike} \\
        I_e &= \mathrm{decay}(I_e, decay_{exc}) \quad(\text{delta synapse: } I_e = 0)

    and likewise for the inhibitory current. During refractory steps V is held at ``v_reset``
    (sPyNNaker freezes V, which is the same for its reset-to-``v_reset``; with ``reset: subtract``,
    snnc's extension, V is set to ``v_reset`` as the float ``lif`` does). ``leak: none`` is an IF
    neuron, snnc's extension (sPyNNaker has no such model): ``V = V + (I_e - I_i + i_{offset})
    \cdot r_{membrane}``, no ``exp_tc``. Weights into a ``spinnaker_lif`` population are signed
    integers whose magnitude is the 16-bit ring-buffer weight: positive ones go to the excitatory
    receptor, negative ones to the inhibitory receptor.
    """

    kind: Literal["spinnaker_lif"] = "spinnaker_lif"
    v_thresh: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    v_reset: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
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
    t_refract: Annotated[Int, Field(ge=0)] = 0
    weight_shift_exc: Annotated[Int, Field(ge=0, le=31)] = 0
    weight_shift_inh: Annotated[Int, Field(ge=0, le=31)] = 0
    reset: Literal["zero", "subtract"] = "zero"
    leak: Literal["exp", "none"] = "exp"


ACCUM_FRACTION_BITS = 15  # s16.15
DECAY_FRACTION_BITS = 32  # u0.32
RING_MAX = 0xFFFF  # ring-buffer entries are uint16 and saturate

# Rows of the per-neuron parameter and state tables.
(V_THRESH, V_RESET, V_REST, I_OFFSET, EXP_TC, R_MEMBRANE, DECAY_EXC, INIT_EXC, DECAY_INH,
 INIT_INH, T_REFRACT, SHIFT_EXC, SHIFT_INH, DELTA, SUBTRACT, NO_LEAK) = range(16)
V, I_EXC, I_INH, REFRACT = range(4)

_FIELDS = ("v_thresh", "v_reset", "v_rest", "i_offset", "exp_tc", "r_membrane", "decay_exc",
           "init_exc", "decay_inh", "init_inh", "t_refract", "weight_shift_exc",
           "weight_shift_inh")


def spinnaker_tables(neuron: SpinnakerLIF, size: int, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[14 or 16, size], state int64[4, size]) of a ``spinnaker_lif`` population.

    sPyNNaker's own model (reset to v_reset, exp leak) has no rows for snnc's extensions, so its
    update does not test them per neuron (``spinnaker_update``)."""
    extended = neuron.reset == "subtract" or neuron.leak == "none"
    params = np.empty((16 if extended else 14, size), dtype=np.int64)
    for row, name in enumerate(_FIELDS):
        params[row] = resolve(getattr(neuron, name), size, integer=True)
    params[DELTA] = int(neuron.synapse == "delta")
    if extended:
        params[SUBTRACT] = int(neuron.reset == "subtract")
        params[NO_LEAK] = int(neuron.leak == "none")
    state = np.zeros((4, size), dtype=np.int64)
    state[V] = resolve(neuron.v_init, size, integer=True)
    return params, state


@njit(cache=True, nogil=True, inline="always")
def wrap_int32(x: int) -> int:
    """Two's-complement wrap to 32 bits (accum arithmetic does not saturate)."""
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


@njit(cache=True, nogil=True, inline="always")
def accum_mul(a: int, b: int) -> int:
    """s16.15 product as gcc emits it on ARM: ``(int64 a*b) >> 15``, toward minus infinity."""
    return wrap_int32((a * b) >> ACCUM_FRACTION_BITS)


@njit(cache=True, nogil=True, inline="always")
def decay_s1615(x: int, d: int) -> int:
    """sPyNNaker's ``decay_s1615``: ``(int64 x * uint32 d) >> 32``."""
    return wrap_int32((x * d) >> DECAY_FRACTION_BITS)


@njit(cache=True, nogil=True, inline="always")
def _receive(current, ring_sum, shift, init, delta):
    """Add one receptor's ring-buffer sum (saturated to uint16, shifted to s16.15) to its current."""
    weight = min(np.int64(ring_sum), RING_MAX)
    if weight <= 0:
        return current
    scaled = wrap_int32(weight << shift)
    return wrap_int32(current + (scaled if delta else decay_s1615(scaled, init)))


@njit(cache=True, nogil=True)
def spinnaker_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1``; ``x[i]``/``x[n + i]`` are neuron i's exc/inh ring sums.

    ``extended`` (tables with the extension rows) is loop-invariant: sPyNNaker's own model never
    reads the SUBTRACT / NO_LEAK rows."""
    n = state.shape[1]
    extended = params.shape[0] > NO_LEAK
    for k in range(lo, hi):
        delta = params[DELTA, k] != 0
        i_exc = _receive(state[I_EXC, k], x[k], params[SHIFT_EXC, k], params[INIT_EXC, k], delta)
        i_inh = _receive(state[I_INH, k], x[n + k], params[SHIFT_INH, k], params[INIT_INH, k],
                         delta)
        v = state[V, k]
        if state[REFRACT, k] <= 0:
            total = wrap_int32(wrap_int32(i_exc - i_inh) + params[I_OFFSET, k])
            if extended and params[NO_LEAK, k] != 0:  # IF: integrate the current, no exp_tc
                v = wrap_int32(v + accum_mul(total, params[R_MEMBRANE, k]))
            else:
                alpha = wrap_int32(accum_mul(total, params[R_MEMBRANE, k]) + params[V_REST, k])
                v = wrap_int32(alpha - accum_mul(params[EXP_TC, k], wrap_int32(alpha - v)))
        else:
            state[REFRACT, k] -= 1
            v = params[V_RESET, k]  # held (sPyNNaker freezes V, which sits at v_reset already)
        if v >= params[V_THRESH, k]:
            if extended and params[SUBTRACT, k] != 0:
                v = wrap_int32(v - params[V_THRESH, k])
            else:
                v = params[V_RESET, k]
            state[REFRACT, k] = params[T_REFRACT, k]
            out_ids[n_out] = gbase + k
            n_out += 1
        state[V, k] = v
        if delta:
            i_exc, i_inh = 0, 0
        else:
            i_exc = decay_s1615(i_exc, params[DECAY_EXC, k])
            i_inh = decay_s1615(i_inh, params[DECAY_INH, k])
        state[I_EXC, k] = i_exc
        state[I_INH, k] = i_inh
    return n_out


def _features(neuron: SpinnakerLIF) -> dict[str, str]:
    used = {}
    if neuron.synapse == "exp":
        used["synaptic_current"] = "synapse"
    if neuron.t_refract > 0:
        used["refractory"] = "t_refract"
    if neuron.reset == "subtract":
        used["reset_subtract"] = "reset"
    if neuron.leak == "none":
        used["no_leak"] = "leak"
    return used


def _example(features: frozenset[str]) -> SpinnakerLIF:
    exp = "synaptic_current" in features
    return SpinnakerLIF(v_thresh=2**15, exp_tc=29650, r_membrane=10 * 2**15,
                        i_offset=400, synapse="exp" if exp else "delta",
                        decay_exc=3345173274 if exp else 0, init_exc=3785000000 if exp else 0,
                        decay_inh=3345173274 if exp else 0, init_inh=3785000000 if exp else 0,
                        t_refract=2 if "refractory" in features else 0,
                        reset="subtract" if "reset_subtract" in features else "zero",
                        leak="none" if "no_leak" in features else "exp")


MODEL = NeuronModel(
    kind="spinnaker_lif",
    params=SpinnakerLIF,
    summary="sPyNNaker's IF_curr_exp / IF_curr_delta in s16.15 (subtract and IF are snnc's)",
    steps={"spinnaker": Step("spinnaker", spinnaker_tables, spinnaker_update, np.int64, V,
                             input="exc_inh")},
    lowerings={"spinnaker-emu": "the application core's neuron kernel"},
    features=("synaptic_current", "refractory", "reset_subtract", "no_leak"),
    features_of=_features,
    integer_weights=True,
    refusals={"loihi": "it is SpiNNaker's integer model; loihi-sim runs lif or loihi_lif"},
    example=_example,
)
