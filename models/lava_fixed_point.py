"""Lava's fixed-point formats, named once: the LIF's widths and shifts, and the synapse weight rule.

Everything here is what Lava 0.10 does, read from its source (``lava/proc/lif/models.py``
``AbstractPyLifModelFixed``/``PyLifModelBitAcc``; ``lava/proc/dense/models.py``
``AbstractPyDenseModelBitAcc``; ``lava/utils/weightutils.py`` ``SignMode``,
``determine_sign_mode``, ``clip_weights``, ``truncate_weights``). The quantizer, the reference's
loihi numerics and the loihi-sim lowering all read these names, so they cannot disagree.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

# ---- the neuron ------------------------------------------------------------------------------------
DECAY_SHIFT = 12  # du and dv are 12-bit fractions of 4096
DECAY_UNITY = 1 << DECAY_SHIFT
DECAY_MAX = DECAY_UNITY - 1  # du, dv: unsigned 12 bit
DS_OFFSET = 1  # Lava decays u by du + 1 (Loihi 1's ds_offset register): du = 0 still decays 1/4096
ACT_SHIFT = 6  # synaptic input is MSB-aligned by 6 bits before it enters u
VTH_SHIFT = 6  # so is the threshold (v is compared with vth << 6); the bias is NOT shifted
VTH_MAX = 2**17 - 1  # vth: unsigned 17 bit
BIAS_MANT_MIN, BIAS_MANT_MAX = -(2**12), 2**12 - 1  # signed 13 bit
BIAS_EXP_MAX = 7  # 3 bit
STATE_HALF = 1 << 23  # u and v are 24-bit signed
STATE_MAX = STATE_HALF - 1  # v saturates at +-(2^23 - 1); u wraps instead

# ---- the synapses ----------------------------------------------------------------------------------
WEIGHT_BITS = 8  # Dense/Sparse weights: 8-bit magnitude (+ sign in mixed mode)
WEIGHT_MIN, WEIGHT_MAX = -(2**WEIGHT_BITS), 2**WEIGHT_BITS - 1  # clip_weights(num_bits=8), mixed
WEIGHT_EXP_MIN, WEIGHT_EXP_MAX = -8, 7


class SignMode(IntEnum):
    """``lava.utils.weightutils.SignMode`` (same values)."""

    MIXED = 1
    EXCITATORY = 2
    INHIBITORY = 3

    @property
    def label(self) -> str:
        """The short name reports use: ``mixed``, ``exc``, ``inh``."""
        return {SignMode.MIXED: "mixed", SignMode.EXCITATORY: "exc", SignMode.INHIBITORY: "inh"}[self]


def sign_mode(weights: np.ndarray) -> SignMode:
    """Lava's ``determine_sign_mode`` over a projection's whole (integer) weight array."""
    if weights.size == 0 or weights.min() >= 0:
        return SignMode.EXCITATORY
    if weights.max() <= 0:
        return SignMode.INHIBITORY
    return SignMode.MIXED


def truncation_bits(mode: SignMode, num_weight_bits: int) -> int:
    """Low bits ``truncate_weights`` drops: ``8 - num_weight_bits``, one more in mixed mode."""
    return WEIGHT_BITS - num_weight_bits + int(mode == SignMode.MIXED)


def weight_limits(mode: SignMode, num_weight_bits: int) -> tuple[int, int, int]:
    """``(k, lo, hi)``: Lava keeps multiples of ``2**k`` within ``[lo, hi]`` unchanged.

    Lava clips to [-256, 255] (mixed), [0, 255] (exc) or [-255, 0] (inh), then truncates ``k``
    bits (``(w >> k) << k``, on ``-w`` for inh). Lava decides the mode from the *integer* weights:
    a mixed projection whose positive (or negative) weights all round to 0 is truncated as inh (or
    exc). So mixed projections stay within ``[-top, top]`` (not -256), which all three modes keep.
    """
    k = truncation_bits(mode, num_weight_bits)
    top = (WEIGHT_MAX >> k) << k
    if mode == SignMode.MIXED:
        return k, -top, top
    return (k, 0, top) if mode == SignMode.EXCITATORY else (k, -top, 0)


def quantize_weights(weights: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """Lava's ``clip_weights(num_bits=8)`` then ``truncate_weights`` for one projection (int32).

    Mixed sign: clip to [-256, 255] and drop ``8 - num_weight_bits + 1`` low bits by an arithmetic
    shift (floor: 3 -> 2, -3 -> -4). Excitatory: [0, 255]. Inhibitory: [-255, 0], truncated on the
    magnitude. Everything is done on the magnitude for inhibitory weights, as Lava does.
    """
    mode = sign_mode(weights)
    w = np.asarray(weights).astype(np.int32)  # |w| << 7 at most: int32 is plenty
    if mode == SignMode.INHIBITORY:
        w = -w
    mixed = mode == SignMode.MIXED
    w = np.clip(w, WEIGHT_MIN if mixed else 0, WEIGHT_MAX)
    drop = truncation_bits(mode, num_weight_bits)
    w = (w >> drop) << drop
    return -w if mode == SignMode.INHIBITORY else w
