r"""The ``rf`` model: Lava 0.10's fixed-point resonate-and-fire neuron (``RF``), bit for bit.

A resonator holds a complex state ``re + i im`` that each step is rotated by ``2 pi / period``,
shrunk by ``1 - alpha`` and driven by the input on its real part. The parameters are Lava's own
(``lava/proc/rf/process.py`` ``RF.__init__``: ``period``, ``alpha``, ``state_exp``,
``decay_bits``, ``vth``) and the integer update is Lava's ``PyRFModelFixed``
(``lava/proc/rf/models.py``). loihi-sim runs it as Lava's own ``RF`` process
(``backends/loihi_sim/lava_procs/rf.py``); snnc's projections drive its real input
``a_real_in``, its imaginary input ``a_imag_in`` stays unconnected (0). ``rf_iz``
(``models/rf_iz.py``) shares the resonator and differs in its spike and reset.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import Int, RangeChecked, _Frozen, resolve

from .base import LavaLowering, NeuronModel, Step, one_process_check
from .jit import njit
from .loihi_lif import wrap_int32

STATE_BITS = 24  # Lava: 2 x the 12-bit precision of sin_decay / cos_decay (ri_bitwidth)
STATE_MAX = 2 ** (STATE_BITS - 1) - 1  # re and im saturate at +-(2^23 - 1)
STATE_EXP_MAX = 7  # state_exp: int32 of precision 3
DECAY_BITS_MAX = 12  # sin_decay / cos_decay: precision 12
VTH_MAX = float(2 ** (STATE_BITS - 1))  # a larger vth could never be reached by re or im


class RF(_Frozen):
    r"""Lava's fixed-point resonate-and-fire neuron (``PyRFModelFixed``), with Lava's parameters.

    All state is integer; ``a[t]`` is the summed, ``weight_exp``-shifted synaptic input (it drives
    the real part; the imaginary input is 0). With :math:`sh(x) = \mathrm{sign}(x)\,(|x| \gg
    decay\_bits)` (the int64 product truncated toward 0) and the integer decays and threshold
    that Lava's ``RF`` process derives from its float parameters (``trunc``: toward 0):

    .. math::

        c &= \mathrm{trunc}\big((1 - \alpha) \cos(2 \pi / period)\, 2^{decay\_bits}\big), \qquad
        s = \mathrm{trunc}\big((1 - \alpha) \sin(2 \pi / period)\, 2^{decay\_bits}\big) \\
        \theta &= \mathrm{trunc}(vth \cdot 2^{state\_exp}) \\
        re[t] &= \mathrm{clip}_{\pm(2^{23}-1)}\big(sh(c\, re[t-1]) - sh(s\, im[t-1])
                 + \mathrm{wrap}_{32}(a[t] \ll state\_exp)\big) \\
        im[t] &= \mathrm{clip}_{\pm(2^{23}-1)}\big(sh(s\, re[t-1]) + sh(c\, im[t-1])\big) \\
        spike[t] &= re[t] \ge \theta \;\wedge\; im[t] \ge 0 \;\wedge\; im[t-1] < 0

    No reset: the neuron spikes when its phase crosses the positive real axis with ``re`` at or
    above the threshold. ``re`` and ``im`` start at 0. ``period`` (steps per turn, > 0) and
    ``alpha`` (0..1, the decay per step; 0 is no leak) may differ per neuron; ``vth`` (>= 0, in
    input units: ``theta`` is in units of ``2^-state_exp`` of them), ``state_exp`` (0..7) and
    ``decay_bits`` (1..12) are one value per population, as Lava's ``RF`` holds one of each.
    Lava's default ``decay_bits = 0`` is refused: it leaves the decays float, which its
    fixed-point model cannot shift.
    """

    kind: Literal["rf"] = "rf"
    period: RangeChecked(gt=0)  # type: ignore[valid-type]
    alpha: RangeChecked(ge=0, le=1)  # type: ignore[valid-type]
    vth: Annotated[float, Field(ge=0, le=VTH_MAX)] = 1.0
    state_exp: Annotated[Int, Field(ge=0, le=STATE_EXP_MAX)] = 0
    decay_bits: Annotated[Int, Field(ge=1, le=DECAY_BITS_MAX)]


# Rows of the per-neuron parameter and state tables.
SIN, COS, THETA, STATE_EXP, DECAY_BITS = range(5)
REAL, IMAG = range(2)


def integer_decays(period: np.ndarray, alpha: np.ndarray, decay_bits: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(sin_decay, cos_decay)`` as int32, in the order of operations of Lava's ``RF.__init__``
    (float64 products, then Lava's ``np.int32`` cast: truncation toward 0), so every bit agrees."""
    sin_decay = (1 - alpha) * np.sin(np.pi * 2 * 1 / period)
    cos_decay = (1 - alpha) * np.cos(np.pi * 2 * 1 / period)
    return ((sin_decay * (1 << decay_bits)).astype(np.int32),
            (cos_decay * (1 << decay_bits)).astype(np.int32))


def integer_threshold(vth: float, state_exp: int) -> int:
    """Lava's ``int(vth * (1 << state_exp))``; with ``state_exp = 0`` it stores the float ``vth``
    into an int32 Var, which truncates toward 0 alike."""
    return int(float(vth) * (1 << state_exp))


def rf_tables(neuron: Any, size: int, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[5, size], state int64[2, size]) of an ``rf`` or ``rf_iz`` population."""
    period = np.asarray(resolve(neuron.period, size), np.float64)
    alpha = np.asarray(resolve(neuron.alpha, size), np.float64)
    params = np.zeros((5, size), dtype=np.int64)
    params[SIN], params[COS] = integer_decays(period, alpha, neuron.decay_bits)
    params[THETA] = integer_threshold(neuron.vth, neuron.state_exp)
    params[STATE_EXP] = neuron.state_exp
    params[DECAY_BITS] = neuron.decay_bits
    return params, np.zeros((2, size), dtype=np.int64)


@njit(cache=True, nogil=True, inline="always")
def scale_volt(x: int, bits: int) -> int:
    """Lava's ``sign(x) * (|x| >> decay_bits)``: the product truncated toward zero."""
    if x >= 0:
        return x >> bits
    return -((-x) >> bits)


@njit(cache=True, nogil=True, inline="always")
def clip_state(x: int) -> int:
    return min(max(x, -STATE_MAX), STATE_MAX)


@njit(cache=True, nogil=True, inline="always")
def resonate(a, params, state, i):
    """One rotation of neuron ``i`` (``resonator_dynamics`` then the 24-bit clip); the input is
    shifted as Lava's int32 ``np.left_shift`` does (it wraps at 32 bits)."""
    re, im = state[REAL, i], state[IMAG, i]
    s, c, bits = params[SIN, i], params[COS, i], params[DECAY_BITS, i]
    drive = wrap_int32(np.int64(a) << params[STATE_EXP, i])
    new_re = scale_volt(c * re, bits) - scale_volt(s * im, bits) + drive
    new_im = scale_volt(s * re, bits) + scale_volt(c * im, bits)
    return clip_state(new_re), clip_state(new_im)


@njit(cache=True, nogil=True)
def rf_update(a, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``a`` (int); append spikes' global ids."""
    for i in range(lo, hi):
        old_im = state[IMAG, i]
        re, im = resonate(a[i], params, state, i)
        if re >= params[THETA, i] and im >= 0 and old_im < 0:
            out_ids[n_out] = gbase + i
            n_out += 1
        state[REAL, i] = re
        state[IMAG, i] = im
    return n_out


def float_bits(values: np.ndarray) -> np.ndarray:
    """A float64 array's bits as int64 (loihi-sim concatenates lowering arrays as int64; the
    Lava factory views them back, so Lava computes its decays from the very same floats)."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.int64)


def lava_arrays(neuron: Any, size: int) -> dict[str, np.ndarray]:
    """What loihi-sim gives Lava's ``RF`` / ``RF_IZ`` (``backends/loihi_sim/lava_procs/rf.py``):
    the float parameters as their bits, the integers as they are."""
    return {"period": float_bits(resolve(neuron.period, size)),
            "alpha": float_bits(resolve(neuron.alpha, size)),
            "vth": float_bits(np.full(size, float(neuron.vth))),
            "state_exp": np.full(size, neuron.state_exp, np.int64),
            "decay_bits": np.full(size, neuron.decay_bits, np.int64)}


def resonator_features(neuron: Any) -> dict[str, str]:
    """``alpha = 0`` (somewhere) is a resonator without decay."""
    alpha = neuron.alpha
    if isinstance(alpha, (int, float, np.ndarray)) and np.any(np.asarray(alpha) == 0):
        return {"no_leak": "alpha"}
    return {}


def _example(features: frozenset[str]) -> RF:
    return RF(period=8.0, alpha=0.0 if "no_leak" in features else 0.05, vth=20.0, state_exp=6,
              decay_bits=12)


MODEL = NeuronModel(
    kind="rf",
    params=RF,
    summary="Lava's fixed-point resonate-and-fire (RF; spikes as its phase crosses 0 above vth)",
    steps={"loihi": Step("loihi", rf_tables, rf_update, np.int64, REAL, input="loihi")},
    lowerings={"loihi-sim": LavaLowering(
        "Lava's own RF (PyRFModelFixed); projections drive a_real_in", lava_arrays,
        "snnc.backends.loihi_sim.lava_procs.rf:rf", voltage="real",
        check=one_process_check("rf", ("vth", "state_exp", "decay_bits"), "RF"))},
    features=("no_leak",),
    features_of=resonator_features,
    integer_weights=True,
    refusals={"spinnaker": "it is Loihi's integer model (Lava's RF); spinnaker-emu has no "
                           "resonate-and-fire model"},
    example=_example,
)
