r"""The ``loihi_izhikevich`` model: snnc's own fixed-point Izhikevich neuron for Loihi (Lava).

Lava 0.10 has no Izhikevich process, and Loihi 2 runs such neurons as microcode programs whose
arithmetic is the programmer's; this model is snnc's definition, bit-accurate between the
reference's loihi numerics (``loihi_update``) and loihi-sim's ``SnncIzhikevich``
(``backends/loihi_sim/lava_procs/izhikevich.py``), and claims nothing about what silicon computes.

It is the float ``izhikevich`` model's forward-Euler step in integers: ``v``, ``u`` and the
current ``i`` are 24-bit signed state (saturating) in units of ``2**-frac`` (mV for ``v`` and
``u``, the float current unit for ``i``); coefficients are fractions of ``2**16``; every product
is int64 and every right shift is arithmetic (floor). Its synaptic input is Loihi's: the summed,
``weight_exp``-shifted integer weights ``a[t]``, entering the current as ``a << 6`` (the MSB
alignment of ``loihi_lif``), with a Lava-style decay of the current (``dec``, toward zero).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from snnc.ir.values import RangeChecked, _Frozen, resolve

from . import lava_fixed_point as lava
from .base import LavaLowering, NeuronModel, Step
from .jit import njit

STATE_MAX = lava.STATE_MAX  # v, u and i saturate at +-(2^23 - 1)
COEF_SHIFT = 16  # k_sq, k_lin, k_dt, a_dt and b are fractions of 2^16
FRAC_MAX = 20
CURRENT_UNITY = lava.DECAY_UNITY  # du is a 12-bit fraction: 4096 keeps nothing of the old current
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class LoihiIzhikevich(_Frozen):
    r"""snnc's fixed-point Izhikevich neuron (module docstring); all quantities integers.

    ``dec(x, d) = sign(x) * ((|x| * (4096 - d)) >> 12)``, ``sat(x)`` clips to
    :math:`\pm(2^{23} - 1)`, :math:`F` = ``frac``, :math:`K = 16`; per step, with ``a[t]`` the
    summed ``weight_exp``-shifted input:

    .. math::

        I &= \mathrm{sat}\big(\mathrm{dec}(I, du) + (a[t] \ll 6)\big) \\
        \Delta &= \big((V V\, k_{sq}) \gg (K + F)\big) + \big((V k_{lin}) \gg K\big) + drive
                  + \big(((I - U)\, k_{dt}) \gg K\big) \\
        V' &= \mathrm{sat}(V + \Delta), \qquad
        U' = \mathrm{sat}\Big(U + \big((((V b) \gg K) - U)\, a_{dt} \gg K\big)\Big)
             \quad (\text{the old } V) \\
        &\text{if } V' \ge v_{peak}:\ \text{spike},\ V' = c,\ U' = \mathrm{sat}(U' + d)

    The float model's ``dt (0.04 v^2 + 5 v + 140 - u + i + bias)`` is this with
    ``k_sq = 0.04 dt 2^K``, ``k_lin = 5 dt 2^K``, ``k_dt = dt 2^K``, ``drive = dt (140 + bias)
    2^F``, ``a_dt = a dt 2^K``, ``b = b 2^K``, and ``c``, ``d``, ``v_peak`` in units of
    ``2^-F`` (``compiler/passes/quantize/izhikevich.py``). Ranges: ``frac`` 0..20, ``du``
    0..4096, ``k_sq`` 0..2^16 (so ``V V k_sq`` fits int64), ``k_lin``, ``k_dt``, ``|a_dt|``,
    ``|b|`` below 2^24, ``drive`` 32-bit, the rest 24-bit.
    """

    kind: Literal["loihi_izhikevich"] = "loihi_izhikevich"
    frac: RangeChecked(ge=0, le=FRAC_MAX, integer=True)  # type: ignore[valid-type]
    du: RangeChecked(ge=0, le=CURRENT_UNITY, integer=True) = CURRENT_UNITY  # type: ignore
    k_sq: RangeChecked(ge=0, le=2**16, integer=True)  # type: ignore[valid-type]
    k_lin: RangeChecked(ge=0, le=2**24 - 1, integer=True)  # type: ignore[valid-type]
    k_dt: RangeChecked(ge=0, le=2**24 - 1, integer=True)  # type: ignore[valid-type]
    drive: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore
    a_dt: RangeChecked(ge=-(2**24) + 1, le=2**24 - 1, integer=True)  # type: ignore[valid-type]
    b: RangeChecked(ge=-(2**24) + 1, le=2**24 - 1, integer=True)  # type: ignore[valid-type]
    c: RangeChecked(ge=-STATE_MAX, le=STATE_MAX, integer=True)  # type: ignore[valid-type]
    d: RangeChecked(ge=-STATE_MAX, le=STATE_MAX, integer=True)  # type: ignore[valid-type]
    v_peak: RangeChecked(ge=-STATE_MAX, le=STATE_MAX, integer=True)  # type: ignore[valid-type]
    v_init: RangeChecked(ge=-STATE_MAX, le=STATE_MAX, integer=True)  # type: ignore[valid-type]
    u_init: RangeChecked(ge=-STATE_MAX, le=STATE_MAX, integer=True) = 0  # type: ignore


# Rows of the per-neuron parameter and state tables (the Lava process's Vars, same names).
FIELDS = ("frac", "du", "k_sq", "k_lin", "k_dt", "drive", "a_dt", "b", "c", "d", "v_peak")
FRAC, DU, K_SQ, K_LIN, K_DT, DRIVE, A_DT, B, C, D, V_PEAK = range(len(FIELDS))
V, U, I = range(3)  # noqa: E741 (I: the synaptic current, as in the equations)


def loihi_tables(neuron: LoihiIzhikevich, size: int,
                 dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[11, size], state int64[3, size]): ``v_init``, ``u_init``, current 0."""
    params = np.empty((len(FIELDS), size), dtype=np.int64)
    for row, name in enumerate(FIELDS):
        params[row] = resolve(getattr(neuron, name), size, integer=True)
    state = np.zeros((3, size), dtype=np.int64)
    state[V] = resolve(neuron.v_init, size, integer=True)
    state[U] = resolve(neuron.u_init, size, integer=True)
    return params, state


@njit(cache=True, nogil=True, inline="always")
def saturate(x: int) -> int:
    """Clip to the 24-bit state range +-(2^23 - 1)."""
    return min(max(x, -STATE_MAX), STATE_MAX)


@njit(cache=True, nogil=True, inline="always")
def decay_current(x: int, d: int) -> int:
    """``sign(x) * ((|x| * (4096 - d)) >> 12)``: Lava's decay, truncated toward zero."""
    product = x * (CURRENT_UNITY - d)
    if product >= 0:
        return product >> lava.DECAY_SHIFT
    return -((-product) >> lava.DECAY_SHIFT)


@njit(cache=True, nogil=True)
def loihi_update(a, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``a`` (int); append spikes' global ids."""
    for k in range(lo, hi):
        i = saturate(decay_current(state[I, k], params[DU, k])
                     + (np.int64(a[k]) << lava.ACT_SHIFT))
        v = state[V, k]
        u = state[U, k]
        delta = ((v * v * params[K_SQ, k]) >> (COEF_SHIFT + params[FRAC, k])) \
            + ((v * params[K_LIN, k]) >> COEF_SHIFT) + params[DRIVE, k] \
            + (((i - u) * params[K_DT, k]) >> COEF_SHIFT)
        v_new = saturate(v + delta)
        u_new = saturate(u + (((((v * params[B, k]) >> COEF_SHIFT) - u) * params[A_DT, k])
                              >> COEF_SHIFT))
        if v_new >= params[V_PEAK, k]:
            v_new = params[C, k]
            u_new = saturate(u_new + params[D, k])
            out_ids[n_out] = gbase + k
            n_out += 1
        state[I, k] = i
        state[V, k] = v_new
        state[U, k] = u_new
    return n_out


def lava_arrays(neuron: LoihiIzhikevich, size: int) -> dict[str, np.ndarray]:
    """The per-neuron values loihi-sim gives its ``SnncIzhikevich`` process."""
    return {name: np.asarray(resolve(getattr(neuron, name), size, integer=True), np.int64)
            for name in (*FIELDS, "v_init", "u_init")}


def _features(neuron: LoihiIzhikevich) -> dict[str, str]:
    if not isinstance(neuron.du, (int, float)) or neuron.du < CURRENT_UNITY:
        return {"synaptic_current": "du"}
    return {}


def _example(features: frozenset[str]) -> LoihiIzhikevich:
    """Regular spiking (0.02, 0.2, -65, 8) at frac 16, dt 1 ms, bias 10 (fires unaided)."""
    one = 1 << 16
    return LoihiIzhikevich(frac=16, du=900 if "synaptic_current" in features else CURRENT_UNITY,
                           k_sq=2621, k_lin=5 * one, k_dt=one, drive=150 * one, a_dt=1311,
                           b=13107, c=-65 * one, d=8 * one, v_peak=30 * one,
                           v_init=-65 * one, u_init=-13 * one)


MODEL = NeuronModel(
    kind="loihi_izhikevich",
    params=LoihiIzhikevich,
    summary="snnc's fixed-point Izhikevich (24-bit state, forward Euler) on Lava",
    steps={"loihi": Step("loihi", loihi_tables, loihi_update, np.int64, V, input="loihi")},
    lowerings={"loihi-sim": LavaLowering(
        "snnc's SnncIzhikevich (fixed_pt)", lava_arrays,
        "snnc.backends.loihi_sim.lava_procs.izhikevich:loihi_izhikevich")},
    features=("synaptic_current",),
    features_of=_features,
    integer_weights=True,
    refusals={"spinnaker": "it is Loihi's integer model; spinnaker-emu runs izhikevich or "
                           "spinnaker_izhikevich"},
    example=_example,
)
