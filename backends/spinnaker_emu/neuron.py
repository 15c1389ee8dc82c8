r"""The application core's neuron update: sPyNNaker's s16.15 ``IF_curr_exp`` / ``IF_curr_delta``.

Every quantity is an ``accum`` (s16.15, int32 raw bits) or a u0.32 decay (uint32 raw bits), held
in int64 so that numba never overflows in the middle of an expression; each ARM operation that
produces a 32-bit result is followed by ``_wrap32`` (C's two's complement wrap of a plain
``accum``, which is not a saturating type).

Per tick and neuron (``neuron/c_main.c::timer_callback``, ``neuron_impl_standard.h``; the
equations of ``snnc.ir.neurons.SpinnakerLIF``):

.. math::

    I_e &\mathrel{+}= \mathrm{decay}(W_e \ll p_e,\ init_e)
          \quad(\text{delta synapse: } I_e \mathrel{+}= W_e \ll p_e) \\
    &\text{if } refract \le 0:\ \alpha = (I_e - I_i + i_{offset}) \cdot R + V_{rest};\
          V = \alpha - exp_{tc} \cdot (\alpha - V) \quad\text{else } refract \mathrel{-}= 1 \\
    &\text{if } V \ge V_{thresh}:\ V = V_{reset},\ refract = T_{refract},\ \text{spike} \\
    I_e &= \mathrm{decay}(I_e, decay_e) \quad(\text{delta synapse: } I_e = 0)

with ``a * b = (a b) >> 15`` truncating toward minus infinity (gcc's ``mulsa3`` on ARM) and
``decay(x, d) = (x d) >> 32`` (``neuron/decay.h``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.models.jit import njit

ACCUM_FRACTION_BITS = 15  # s16.15
DECAY_FRACTION_BITS = 32  # u0.32
RECEPTOR_EXC, RECEPTOR_INH = 0, 1
N_RECEPTORS = 2
# per-neuron flag bits (``NeuronParams.flags``): the model's switches (``models/spinnaker_lif.py``)
FLAG_DELTA, FLAG_SUBTRACT, FLAG_NO_LEAK = 1, 2, 4
FLAG_GRADED = 8  # a ``spinnaker_li`` neuron: no threshold; sends V >> payload_shift every tick


@njit(cache=True, inline="always")
def _wrap32(x: int) -> int:
    """Two's complement wrap of an int64 to the int32 range (a plain ARM ``accum`` result)."""
    return ((x + 0x80000000) & 0xFFFFFFFF) - 0x80000000


@njit(cache=True, inline="always")
def _mul_accum(a: int, b: int) -> int:
    """s16.15 product: the int64 product shifted right by 15 (arithmetic: floor)."""
    return _wrap32((a * b) >> ACCUM_FRACTION_BITS)


@njit(cache=True, inline="always")
def _decay(x: int, d: int) -> int:
    """``decay_s1615``: int32 accum times uint32 u0.32, high word (floor); fits int64 exactly."""
    return _wrap32((x * d) >> DECAY_FRACTION_BITS)


@dataclass(frozen=True)
class NeuronParams:
    """Per-neuron constants of every neuron core, concatenated (global neuron order), as int64."""

    v_thresh: np.ndarray
    v_reset: np.ndarray
    v_rest: np.ndarray
    i_offset: np.ndarray
    exp_tc: np.ndarray
    r_membrane: np.ndarray
    decay: np.ndarray  # [2, N]: u0.32 decay per receptor
    init: np.ndarray  # [2, N]: u0.32 init per receptor
    shift: np.ndarray  # [2, N]: ring-buffer left shift per receptor
    flags: np.ndarray  # [N] uint8: FLAG_DELTA | FLAG_SUBTRACT | FLAG_NO_LEAK | FLAG_GRADED
    t_refract: np.ndarray
    payload_shift: np.ndarray  # [N]: a graded neuron's message is V >> payload_shift


@njit(cache=True)
def update_neurons(v, i_syn, refract, ring, ring_pos, slot_offset, receptor_stride, v_thresh,
                   v_reset, v_rest, i_offset, exp_tc, r_membrane, decay, init, shift, flags,
                   t_refract, spiked):
    """One tick of every built-in neuron (global ``0 .. flags.size - 1``; the foreign kinds'
    neurons follow them and run their model's own update, ``foreign.py``): consume this tick's
    ring-buffer slot (zeroed here), update state.

    Neuron n's entry of receptor r is ``ring[ring_pos[n] + slot_offset + r * receptor_stride]``
    (the core's ring, sPyNNaker's ``slot << (type + neuron bits) | type << neuron bits | neuron``).
    Writes ``spiked[n]`` and returns the number of spikes. A ``FLAG_GRADED`` neuron
    (``models/spinnaker_li.py``) has the same membrane and synapses and never spikes (it is never
    refractory); its message is taken by the tick loop after this update.
    """
    count = 0
    for n in range(flags.size):
        delta = (flags[n] & FLAG_DELTA) != 0
        for r in range(N_RECEPTORS):
            at = ring_pos[n] + slot_offset + r * receptor_stride
            weight = _wrap32(np.int64(ring[at]) << shift[r, n])
            ring[at] = 0
            if delta:
                i_syn[r, n] = _wrap32(i_syn[r, n] + weight)
            else:
                i_syn[r, n] = _wrap32(i_syn[r, n] + _decay(weight, init[r, n]))
        if refract[n] <= 0:
            current = _wrap32(i_syn[RECEPTOR_EXC, n] - i_syn[RECEPTOR_INH, n] + i_offset[n])
            if flags[n] & FLAG_NO_LEAK:  # IF (snnc's extension): integrate, no exp_tc
                v[n] = _wrap32(v[n] + _mul_accum(current, r_membrane[n]))
            else:
                alpha = _wrap32(_mul_accum(current, r_membrane[n]) + v_rest[n])
                v[n] = _wrap32(alpha - _mul_accum(exp_tc[n], _wrap32(alpha - v[n])))
        else:
            refract[n] -= 1
            v[n] = v_reset[n]  # held (sPyNNaker freezes V, which sits at v_reset already)
        fired = (flags[n] & FLAG_GRADED) == 0 and v[n] >= v_thresh[n]  # graded: never spikes
        if fired:
            if flags[n] & FLAG_SUBTRACT:  # snnc's extension: V - v_thresh
                v[n] = _wrap32(v[n] - v_thresh[n])
            else:
                v[n] = v_reset[n]
            refract[n] = t_refract[n]
            count += 1
        spiked[n] = fired
        for r in range(N_RECEPTORS):
            if delta:
                i_syn[r, n] = 0
            else:
                i_syn[r, n] = _decay(i_syn[r, n], decay[r, n])
    return count
