r"""Loihi numerics: Lava's ``PyLifModelBitAcc`` neuron and its Dense/Sparse weight arithmetic, bit for bit.

The arithmetic is Lava 0.10's (``lava/proc/lif/models.py``, ``lava/proc/dense/models.py``,
``lava/proc/sparse/models.py``, ``lava/utils/weightutils.py``; research/lava_nir.md §1-§3), quirks
included. Per neuron and step, with ``a`` the summed synaptic input of this step:

.. math::

    \mathrm{dec}(x, d) &= \mathrm{sign}(x)\,\big(|x\,(4096 - d)| \gg 12\big)
        \quad\text{(int64 product, truncated toward zero)} \\
    u &= \mathrm{wrap}_{24}\big(\mathrm{wrap}_{32}(\mathrm{dec}(u, du + 1) + (a \ll 6))\big) \\
    v &= \mathrm{clip}_{\pm(2^{23}-1)}\big(\mathrm{dec}(v, dv) + u + (bias\_mant \ll bias\_exp)\big) \\
    s &= v > (vth \ll 6), \qquad v \leftarrow 0 \text{ where } s

Weights of each projection are first clipped and truncated by Lava's rule for that projection's
sign mode and ``num_weight_bits``; the input a projection delivers at a step is its weight sum,
shifted by ``weight_exp`` (left for ``weight_exp > 0``, arithmetic right = floor otherwise).
"""

from __future__ import annotations

import numpy as np
from snnc.jit import njit

from snnc.ir.neurons import LoihiLIF
from snnc.ir.values import resolve

DECAY_SHIFT = 12  # decays are 12-bit fractions of 4096
DECAY_UNITY = 1 << DECAY_SHIFT
DS_OFFSET = 1  # Lava adds 1 to du (Loihi 1's ds_offset register): du = 0 still decays by 1/4096
ACT_SHIFT = 6  # synaptic input is MSB-aligned by 6 bits before it enters u
VTH_SHIFT = 6  # so is the threshold; the bias is NOT shifted
UV_HALF = 1 << 23  # u and v are 24-bit signed
V_LIMIT = UV_HALF - 1  # v saturates at +-(2^23 - 1); u wraps instead
WEIGHT_BITS = 8  # Dense/Sparse weights: 8-bit magnitude (+ sign in mixed mode)

SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED = 2, 3, 1  # lava.utils.weightutils.SignMode values

# Rows of the per-neuron parameter and state tables.
DU, DV, VTH6, BIAS = range(4)
U, V = range(2)


def sign_mode(weights: np.ndarray) -> int:
    """Lava's ``determine_sign_mode`` over a projection's whole weight array."""
    if weights.size == 0 or weights.min() >= 0:
        return SIGN_EXCITATORY
    if weights.max() <= 0:
        return SIGN_INHIBITORY
    return SIGN_MIXED


def quantize_weights(weights: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """Lava's ``clip_weights(num_bits=8)`` then ``truncate_weights`` for one projection (int64).

    Mixed sign: clip to [-256, 255] and drop ``8 - num_weight_bits + 1`` low bits by an arithmetic
    shift (floor: 3 -> 2, -3 -> -4). Excitatory: [0, 255]. Inhibitory: [-255, 0], truncated on the
    magnitude. Everything is done on the magnitude for inhibitory weights, as Lava does.
    """
    mode = sign_mode(weights)
    w = np.asarray(weights).astype(np.int32)  # |w| << 7 at most: int32 is plenty
    if mode == SIGN_INHIBITORY:
        w = -w
    mixed = int(mode == SIGN_MIXED)
    w = np.clip(w, -(2**WEIGHT_BITS) * mixed, 2**WEIGHT_BITS - 1)
    drop = WEIGHT_BITS - num_weight_bits + mixed
    w = (w >> drop) << drop
    return -w if mode == SIGN_INHIBITORY else w


def loihi_tables(neuron: LoihiLIF, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[4, size], state int64[2, size]) of a ``loihi_lif`` population."""
    params = np.empty((4, size), dtype=np.int64)
    params[DU] = resolve(neuron.du, size, integer=True)
    params[DV] = resolve(neuron.dv, size, integer=True)
    params[VTH6] = resolve(neuron.vth, size, integer=True).astype(np.int64) << VTH_SHIFT
    mant = resolve(neuron.bias_mant, size, integer=True).astype(np.int64)
    params[BIAS] = mant << resolve(neuron.bias_exp, size, integer=True).astype(np.int64)
    state = np.empty((2, size), dtype=np.int64)
    state[U] = resolve(neuron.u_init, size, integer=True)
    state[V] = resolve(neuron.v_init, size, integer=True)
    return params, state


@njit(cache=True, nogil=True, inline="always")
def decay(x: int, d: int) -> int:
    """``sign(x) * (|x * (4096 - d)| >> 12)``: the product truncated toward zero."""
    product = x * (DECAY_UNITY - d)
    if product >= 0:
        return product >> DECAY_SHIFT
    return -((-product) >> DECAY_SHIFT)


@njit(cache=True, nogil=True, inline="always")
def wrap_int32(x: int) -> int:
    """Two's-complement wrap to int32, as Lava's int32 numpy arithmetic does on overflow."""
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


@njit(cache=True, nogil=True)
def loihi_update(a, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``a`` (int); append spikes' global ids."""
    for i in range(lo, hi):
        u = wrap_int32(decay(state[U, i], params[DU, i] + DS_OFFSET) + (np.int64(a[i]) << ACT_SHIFT))
        # Lava's single 24-bit wrap (models.py L158-171): +2^23 itself is kept
        if u > UV_HALF:
            u -= 2 * UV_HALF
        elif u <= -UV_HALF:
            u += 2 * UV_HALF
        v = decay(state[V, i], params[DV, i]) + u + params[BIAS, i]
        v = min(max(v, -V_LIMIT), V_LIMIT)
        if v > params[VTH6, i]:
            v = 0
            out_ids[n_out] = gbase + i
            n_out += 1
        state[U, i] = u
        state[V, i] = v
    return n_out
