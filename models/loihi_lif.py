r"""The ``loihi_lif`` model: Loihi's fixed-point CUBA LIF, as Lava computes it, with snnc's extensions.

With ``refractory = 0`` and ``reset: zero`` it is exactly Lava 0.10's ``PyLifModelBitAcc``
(``lava/proc/lif/models.py``, quirks included; constants in ``models/lava_fixed_point.py``) and
loihi-sim runs it as Lava's own ``LIF`` process. A refractory period and reset by subtraction are
snnc's own fixed-point extensions (Lava's ``LIFRefractory`` has only a float model): loihi-sim runs
them as ``SnncLIF`` (``backends/loihi_sim/lava_procs/lif.py``), bit-accurate to the equations
below, which the reference's loihi numerics compute.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import Int, RangeChecked, _Frozen, resolve

from . import lava_fixed_point as lava
from .base import LavaLowering, NeuronModel, Step
from .jit import njit


class LoihiLIF(_Frozen):
    r"""Loihi's fixed-point CUBA LIF exactly as Lava's ``PyLifModelBitAcc`` computes it.

    All quantities are integers; ``a[t]`` is the summed, ``weight_exp``-shifted synaptic input.
    ``dec(x, d) = sign(x) * ((|x| * (4096 - d)) >> 12)`` (int64 product, truncated toward 0).

    .. math::

        u[t] &= \mathrm{wrap}_{24}\big(\mathrm{dec}(u[t-1], du + 1) + (a[t] \ll 6)\big) \\
        v[t] &= \mathrm{clip}_{\pm(2^{23}-1)}\big(\mathrm{dec}(v[t-1], dv) + u[t]
                + (bias\_mant \ll bias\_exp)\big) \\
        s[t] &= v[t] > (vth \ll 6), \quad v[t] \leftarrow 0
                \text{ (or } v[t] - (vth \ll 6) \text{ when reset is subtract)}

    ``du = 4095`` makes ``u`` the input of this step alone (a delta synapse); ``dv = 0`` means no
    leak (an IF neuron). ``u`` is not reset by a spike. After a spike, ``refractory`` steps follow
    in which ``u`` keeps integrating, ``v`` is held at 0 and the neuron cannot spike (Lava's
    ``LIFRefractory`` counting: a spike at step t makes t+1 .. t+refractory refractory). Ranges are
    Lava's: ``du``, ``dv`` in 0..4095, ``vth`` in 0..131071, ``bias_mant`` signed 13 bit,
    ``bias_exp`` 0..7. ``v_init``/``u_init`` are the initial states (24-bit).
    """

    kind: Literal["loihi_lif"] = "loihi_lif"
    du: RangeChecked(ge=0, le=lava.DECAY_MAX, integer=True)  # type: ignore[valid-type]
    dv: RangeChecked(ge=0, le=lava.DECAY_MAX, integer=True)  # type: ignore[valid-type]
    vth: RangeChecked(ge=0, le=lava.VTH_MAX, integer=True)  # type: ignore[valid-type]
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
    refractory: Annotated[Int, Field(ge=0)] = 0
    reset: Literal["zero", "subtract"] = "zero"


# Rows of the per-neuron parameter and state tables.
DU, DV, VTH6, BIAS, REFRACTORY, SUBTRACT = range(6)
U, V, REFRACTORY_LEFT = range(3)


def loihi_tables(neuron: LoihiLIF, size: int, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[rows, size], state int64[rows, size]) of a ``loihi_lif`` population.

    Without refractory period and subtraction the tables are Lava's LIF alone (4 and 2 rows):
    ``loihi_update`` then runs the loop without those branches, as fast as before they existed.
    """
    extended = neuron.refractory > 0 or neuron.reset == "subtract"
    params = np.zeros((6 if extended else 4, size), dtype=np.int64)
    params[DU] = resolve(neuron.du, size, integer=True)
    params[DV] = resolve(neuron.dv, size, integer=True)
    params[VTH6] = resolve(neuron.vth, size, integer=True).astype(np.int64) << lava.VTH_SHIFT
    mant = resolve(neuron.bias_mant, size, integer=True).astype(np.int64)
    params[BIAS] = mant << resolve(neuron.bias_exp, size, integer=True).astype(np.int64)
    state = np.zeros((3 if extended else 2, size), dtype=np.int64)
    if extended:
        params[REFRACTORY] = neuron.refractory
        params[SUBTRACT] = int(neuron.reset == "subtract")
    state[U] = resolve(neuron.u_init, size, integer=True)
    state[V] = resolve(neuron.v_init, size, integer=True)
    return params, state


@njit(cache=True, nogil=True, inline="always")
def decay(x: int, d: int) -> int:
    """``sign(x) * (|x * (4096 - d)| >> 12)``: the product truncated toward zero."""
    product = x * (lava.DECAY_UNITY - d)
    if product >= 0:
        return product >> lava.DECAY_SHIFT
    return -((-product) >> lava.DECAY_SHIFT)


@njit(cache=True, nogil=True, inline="always")
def wrap_int32(x: int) -> int:
    """Two's-complement wrap to int32, as Lava's int32 numpy arithmetic does on overflow."""
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


@njit(cache=True, nogil=True, inline="always")
def _current(u, d, a):
    """Lava's u update: decay, add the input, one 32-bit wrap, then its single 24-bit wrap
    (models.py L158-171: +2^23 itself is kept)."""
    u = wrap_int32(decay(u, d + lava.DS_OFFSET) + (np.int64(a) << lava.ACT_SHIFT))
    if u > lava.STATE_HALF:
        u -= 2 * lava.STATE_HALF
    elif u <= -lava.STATE_HALF:
        u += 2 * lava.STATE_HALF
    return u


@njit(cache=True, nogil=True)
def loihi_update(a, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``a`` (int); append spikes' global ids.

    Two loops: Lava's LIF alone (tables of 2 state rows), and with snnc's refractory period and
    reset by subtraction (3 rows); the choice is made once per call, not per neuron."""
    if state.shape[0] <= REFRACTORY_LEFT:
        for i in range(lo, hi):
            u = _current(state[U, i], params[DU, i], a[i])
            v = decay(state[V, i], params[DV, i]) + u + params[BIAS, i]
            v = min(max(v, -lava.STATE_MAX), lava.STATE_MAX)
            if v > params[VTH6, i]:
                v = 0
                out_ids[n_out] = gbase + i
                n_out += 1
            state[U, i] = u
            state[V, i] = v
        return n_out
    for i in range(lo, hi):
        u = _current(state[U, i], params[DU, i], a[i])
        state[U, i] = u
        if state[REFRACTORY_LEFT, i] > 0:
            # refractory: u keeps integrating, v is held at its reset value, no spike
            state[REFRACTORY_LEFT, i] -= 1
            state[V, i] = 0
            continue
        v = decay(state[V, i], params[DV, i]) + u + params[BIAS, i]
        v = min(max(v, -lava.STATE_MAX), lava.STATE_MAX)
        if v > params[VTH6, i]:
            v = v - params[VTH6, i] if params[SUBTRACT, i] != 0 else 0
            state[REFRACTORY_LEFT, i] = params[REFRACTORY, i]
            out_ids[n_out] = gbase + i
            n_out += 1
        state[V, i] = v
    return n_out


_LAVA_FIELDS = ("du", "dv", "vth", "bias_mant", "bias_exp", "u_init", "v_init", "refractory")


def lava_arrays(neuron: LoihiLIF, size: int) -> dict[str, np.ndarray]:
    """The per-neuron values loihi-sim gives its LIF process (``backends/loihi_sim/processes.py``)."""
    arrays = {name: np.asarray(resolve(getattr(neuron, name), size, integer=True), np.int64)
              for name in _LAVA_FIELDS}
    arrays["reset_subtract"] = np.full(size, int(neuron.reset == "subtract"), np.int64)
    return arrays


def _features(neuron: LoihiLIF) -> dict[str, str]:
    used = {}
    if not isinstance(neuron.du, (int, float)) or neuron.du < lava.DECAY_MAX:
        used["synaptic_current"] = "du"
    if isinstance(neuron.dv, (int, float)) and neuron.dv == 0:
        used["no_leak"] = "dv"
    if neuron.refractory > 0:
        used["refractory"] = "refractory"
    if neuron.reset == "subtract":
        used["reset_subtract"] = "reset"
    return used


def _example(features: frozenset[str]) -> LoihiLIF:
    return LoihiLIF(du=1000 if "synaptic_current" in features else lava.DECAY_MAX,
                    dv=0 if "no_leak" in features else 300, vth=40, bias_mant=20,
                    refractory=2 if "refractory" in features else 0,
                    reset="subtract" if "reset_subtract" in features else "zero")


MODEL = NeuronModel(
    kind="loihi_lif",
    params=LoihiLIF,
    summary="Loihi's fixed-point CUBA LIF (Lava's names; refractory and subtract are snnc's)",
    steps={"loihi": Step("loihi", loihi_tables, loihi_update, np.int64, V, input="loihi")},
    lowerings={"loihi-sim": LavaLowering(
        "Lava LIF, or snnc's SnncLIF with refractory / reset: subtract", lava_arrays,
        "snnc.backends.loihi_sim.processes:loihi_lif")},
    features=("synaptic_current", "refractory", "reset_subtract", "no_leak"),
    features_of=_features,
    integer_weights=True,
    refusals={"spinnaker": "it is Loihi's integer model; spinnaker-emu runs lif or spinnaker_lif"},
    example=_example,
)
