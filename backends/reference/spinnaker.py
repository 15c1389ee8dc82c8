r"""SpiNNaker numerics: sPyNNaker's ``IF_curr_exp`` / ``IF_curr_delta`` in s16.15 fixed point.

As the ARM cores compute it (research/spinnaker.md §2; ``ir/neurons.py:SpinnakerLIF``): voltages and
currents are s16.15 ``accum`` raw int32 values; ``a*b`` is ``(int64(a) * b) >> 15`` (arithmetic
shift: truncation toward minus infinity); u0.32 decays are ``(int64(x) * d) >> 32``; every accum
result wraps to 32 bits. Per neuron and step, with ``W_exc``, ``W_inh`` this step's ring-buffer sums
saturated to uint16:

.. math::

    I_e &\mathrel{+}= \mathrm{decay}(W_{exc} \ll shift_{exc},\ init_{exc})
          \quad(\text{delta synapse: } I_e \mathrel{+}= W_{exc} \ll shift_{exc}) \\
    &\text{if } refract = 0:\ \alpha = (I_e - I_i + i_{offset}) \cdot r_{membrane} + v_{rest};
          \ V = \alpha - exp_{tc} \cdot (\alpha - V) \quad \text{else } refract \mathrel{-}= 1 \\
    &\text{if } V \ge v_{thresh}:\ V = v_{reset},\ refract = t_{refract},\ \text{spike} \\
    I_e &= \mathrm{decay}(I_e, decay_{exc}) \quad(\text{delta synapse: } I_e = 0)

and likewise for ``I_i``. The threshold is checked in refractory steps too (V is frozen there), as
sPyNNaker does.
"""

from __future__ import annotations

import numpy as np
from snnc.jit import njit

from snnc.ir.neurons import SpinnakerLIF
from snnc.ir.values import resolve

ACCUM_FRACTION_BITS = 15  # s16.15
DECAY_FRACTION_BITS = 32  # u0.32
RING_MAX = 0xFFFF  # ring-buffer entries are uint16 and saturate

# Rows of the per-neuron parameter and state tables.
(V_THRESH, V_RESET, V_REST, I_OFFSET, EXP_TC, R_MEMBRANE, DECAY_EXC, INIT_EXC, DECAY_INH,
 INIT_INH, T_REFRACT, SHIFT_EXC, SHIFT_INH, DELTA) = range(14)
V, I_EXC, I_INH, REFRACT = range(4)

_FIELDS = ("v_thresh", "v_reset", "v_rest", "i_offset", "exp_tc", "r_membrane", "decay_exc",
           "init_exc", "decay_inh", "init_inh", "t_refract", "weight_shift_exc",
           "weight_shift_inh")


def spinnaker_tables(neuron: SpinnakerLIF, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[14, size], state int64[4, size]) of a ``spinnaker_lif`` population."""
    params = np.empty((14, size), dtype=np.int64)
    for row, name in enumerate(_FIELDS):
        params[row] = resolve(getattr(neuron, name), size, integer=True)
    params[DELTA] = int(neuron.synapse == "delta")
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
    """Advance neurons ``lo..hi-1``; ``x[i]``/``x[n + i]`` are neuron i's exc/inh ring sums."""
    n = state.shape[1]
    for k in range(lo, hi):
        delta = params[DELTA, k] != 0
        i_exc = _receive(state[I_EXC, k], x[k], params[SHIFT_EXC, k], params[INIT_EXC, k], delta)
        i_inh = _receive(state[I_INH, k], x[n + k], params[SHIFT_INH, k], params[INIT_INH, k],
                         delta)
        v = state[V, k]
        if state[REFRACT, k] <= 0:
            total = wrap_int32(wrap_int32(i_exc - i_inh) + params[I_OFFSET, k])
            alpha = wrap_int32(accum_mul(total, params[R_MEMBRANE, k]) + params[V_REST, k])
            v = wrap_int32(alpha - accum_mul(params[EXP_TC, k], wrap_int32(alpha - v)))
        else:
            state[REFRACT, k] -= 1
        if v >= params[V_THRESH, k]:
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
