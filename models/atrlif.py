r"""The ``atrlif`` model: Lava 0.10's fixed-point ATRLIF (adaptive threshold and refractoriness LIF).

It is exactly Lava's ``PyATRLIFModelFixed`` (lava-nc/lava ``src/lava/proc/atrlif/models.py``,
process ``src/lava/proc/atrlif/process.py``), quirks included, with Lava's parameter names, and
loihi-sim runs it as Lava's own ``ATRLIF`` process (``backends/loihi_sim/lava_procs/atrlif.py``
builds it). The reference's loihi numerics compute the same bits (``atrlif_update`` below). Its
float counterpart is ``adaptive_lif`` (``models/adaptive_lif.py``), which quantizes to it.

Lava's fixed-point model takes its decay constants as *fractions* (``delta * 4096``) and computes
the current's decay in float64 before truncating it to an integer; the voltage, threshold and
refractory decays truncate ``4096 - delta * 4096`` to an integer factor first. Both are kept here
bit for bit, for any ``delta`` in [0, 1]; with ``delta = d / 4096`` (what the quantizer writes)
all four are plain 12-bit integer decays.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import RangeChecked, _Frozen, resolve

from . import lava_fixed_point as lava
from .base import LavaLowering, NeuronModel, Step, one_process_check
from .jit import njit

THETA_UNITY = 64  # Lava MSB-aligns theta_0 and theta_step by 6 bits (theta_unity = 2**6)
THETA_PARAM_MAX = 4095  # theta_0, theta_step: Lava declares them uint16 with 12 bits of precision
_INT32_HALF = 2**31


class ATRLIF(_Frozen):
    r"""Lava's fixed-point ATRLIF exactly as ``PyATRLIFModelFixed`` computes it.

    All states are integers; ``a[t]`` is the summed, ``weight_exp``-shifted synaptic input (what
    ``Sparse`` sends to Lava's ``LIF`` as well). With ``sdec(x) = sign(x) (|x| >> 12)`` (the
    int64 value truncated toward 0), :math:`\theta_0 = \lfloor 64\,theta\_0 \rfloor`,
    :math:`\theta_s = \lfloor 64\,theta\_step \rfloor`, the current's float factor
    :math:`c_i = 4096 - (4096\,\delta_i + 1)` and the integer factors
    :math:`f_x = \mathrm{trunc}(4096 - 4096\,\delta_x)` for ``x`` in ``v, theta, r``:

    .. math::

        i[t] &= \mathrm{wrap}_{24}\big(\mathrm{wrap}_{32}(\mathrm{sdec}(\mathrm{trunc}(
                 i[t-1]\, c_i)) + 64\, a[t])\big) \\
        v[t] &= \mathrm{clip}_{\pm(2^{23}-1)}\big(\mathrm{sdec}(v[t-1]\, f_v) + i[t]
                + (bias\_mant \ll bias\_exp)\big) \\
        \theta[t] &= \mathrm{sdec}\big((\theta[t-1] - \theta_0)\, f_\theta\big) + \theta_0 \\
        r[t] &= \mathrm{sdec}(r[t-1]\, f_r) \\
        s[t] &= v[t] - r[t] \ge \theta[t], \quad\text{then}\quad r[t] \leftarrow r[t] + 2\theta[t],
                \quad \theta[t] \leftarrow \theta[t] + \theta_s

    (the product ``i[t-1] c_i`` is float64, as Lava's is). ``wrap_24`` is Lava's single wrap (one
    period of 2^24 above +2^23 or at/below -2^23); ``theta``, ``r`` and ``v - r`` are Lava's
    int32 arithmetic (they wrap at 2^31; ``theta`` grows without bound when ``delta_theta`` is 0
    and the neuron keeps spiking). There is no voltage reset: after a spike the refractory state
    ``r`` (raised by twice the threshold) holds ``v - r`` down while it decays, and the threshold
    stays raised by ``theta_step`` while it decays back to ``theta_0``.

    Ranges: ``delta_*`` in [0, 1] (Lava's fractions; the quantizer writes multiples of 1/4096),
    ``theta_0`` and ``theta_step`` in [0, 4095] (Lava's 12-bit declaration; kept to 1/64),
    ``bias_mant`` signed 13 bit, ``bias_exp`` 0..7. Initial states are Lava's ``i``, ``v`` and
    ``r`` (24-bit); Lava's fixed-point model starts ``theta`` at ``theta_0`` whatever its
    ``theta`` argument says, so there is no ``theta`` initial value. ``theta_step`` is one number
    per population (Lava's ATRLIF process applies one scalar to all its neurons).
    """

    kind: Literal["atrlif"] = "atrlif"
    delta_i: RangeChecked(ge=0, le=1) = 0.4  # type: ignore[valid-type]
    delta_v: RangeChecked(ge=0, le=1) = 0.4  # type: ignore[valid-type]
    delta_theta: RangeChecked(ge=0, le=1) = 0.2  # type: ignore[valid-type]
    delta_r: RangeChecked(ge=0, le=1) = 0.2  # type: ignore[valid-type]
    theta_0: RangeChecked(ge=0, le=THETA_PARAM_MAX) = 5.0  # type: ignore[valid-type]
    theta_step: Annotated[float, Field(ge=0, le=THETA_PARAM_MAX)] = 3.75
    bias_mant: RangeChecked(  # type: ignore[valid-type]
        ge=lava.BIAS_MANT_MIN, le=lava.BIAS_MANT_MAX, integer=True
    ) = 0
    bias_exp: RangeChecked(ge=0, le=lava.BIAS_EXP_MAX, integer=True) = 0  # type: ignore[valid-type]
    i_init: RangeChecked(  # type: ignore[valid-type]
        ge=-lava.STATE_MAX - 1, le=lava.STATE_MAX, integer=True
    ) = 0
    v_init: RangeChecked(  # type: ignore[valid-type]
        ge=-lava.STATE_MAX, le=lava.STATE_MAX, integer=True
    ) = 0
    r_init: RangeChecked(  # type: ignore[valid-type]
        ge=-lava.STATE_MAX - 1, le=lava.STATE_MAX, integer=True
    ) = 0


# Rows of the per-neuron parameter and state tables.
CI_BITS, F_V, F_THETA, F_R, THETA0, THETA_STEP, BIAS = range(7)
I, V, THETA, R = range(4)  # noqa: E741 (I: the current, as in the equations)


def current_factor(delta_i: Any) -> np.ndarray:
    """Lava's ``decay_unity - (delta_i * decay_unity + ds_offset)``, in the same float64 order."""
    delta = np.asarray(delta_i, dtype=np.float64)
    return lava.DECAY_UNITY - (delta * lava.DECAY_UNITY + lava.DS_OFFSET)


def integer_factor(delta: Any) -> np.ndarray:
    """Lava's ``np.int64(decay_unity - delta * decay_unity)`` (truncated toward zero)."""
    return (lava.DECAY_UNITY - np.asarray(delta, np.float64) * lava.DECAY_UNITY).astype(np.int64)


def theta_units(value: Any, size: int) -> np.ndarray:
    """Lava's ``np.int32(theta * theta_unity)`` (``scale_threshold``): truncated toward zero."""
    return (np.asarray(resolve(value, size), np.float64) * THETA_UNITY).astype(np.int64)


def atrlif_tables(neuron: ATRLIF, size: int, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[7, size], state int64[4, size]) of an ``atrlif`` population.

    The current's factor is a float64 (Lava multiplies in float): its bits are stored in the
    int64 table and read back as float64 by the update."""
    params = np.zeros((7, size), dtype=np.int64)
    params[CI_BITS] = np.ascontiguousarray(
        np.broadcast_to(current_factor(resolve(neuron.delta_i, size)), (size,))).view(np.int64)
    params[F_V] = integer_factor(resolve(neuron.delta_v, size))
    params[F_THETA] = integer_factor(resolve(neuron.delta_theta, size))
    params[F_R] = integer_factor(resolve(neuron.delta_r, size))
    params[THETA0] = theta_units(neuron.theta_0, size)
    params[THETA_STEP] = theta_units(neuron.theta_step, size)
    mant = resolve(neuron.bias_mant, size, integer=True).astype(np.int64)
    params[BIAS] = mant << resolve(neuron.bias_exp, size, integer=True).astype(np.int64)
    state = np.zeros((4, size), dtype=np.int64)
    state[I] = resolve(neuron.i_init, size, integer=True)
    state[V] = resolve(neuron.v_init, size, integer=True)
    state[THETA] = params[THETA0]  # Lava's scale_threshold sets theta to theta_0 before step 1
    state[R] = resolve(neuron.r_init, size, integer=True)
    return params, state


@njit(cache=True, nogil=True, inline="always")
def wrap32(x: int) -> int:
    """Two's-complement wrap to int32, as Lava's int32 numpy arithmetic does."""
    return ((x + _INT32_HALF) & 0xFFFFFFFF) - _INT32_HALF


@njit(cache=True, nogil=True, inline="always")
def sdec(product: int) -> int:
    """``np.sign(p) * np.right_shift(np.abs(p), 12)``: the product truncated toward zero."""
    if product >= 0:
        return product >> lava.DECAY_SHIFT
    return -((-product) >> lava.DECAY_SHIFT)


@njit(cache=True, nogil=True, inline="always")
def _current(i, factor, a):
    """Lava's i update: float64 product, truncated, shifted; input << 6; int32; one 24-bit wrap."""
    i = wrap32(sdec(np.int64(np.float64(i) * factor)) + (np.int64(a) << lava.ACT_SHIFT))
    if i > lava.STATE_HALF:
        i -= 2 * lava.STATE_HALF
    elif i <= -lava.STATE_HALF:
        i += 2 * lava.STATE_HALF
    return i


@njit(cache=True, nogil=True)
def atrlif_update(a, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``a`` (int); append spikes' global ids."""
    current = params[CI_BITS].view(np.float64)
    for k in range(lo, hi):
        i = _current(state[I, k], current[k], a[k])
        v = wrap32(sdec(state[V, k] * params[F_V, k]) + i + params[BIAS, k])
        v = min(max(v, -lava.STATE_MAX), lava.STATE_MAX)
        theta0 = params[THETA0, k]
        theta = wrap32(wrap32(sdec(wrap32(state[THETA, k] - theta0) * params[F_THETA, k]))
                       + theta0)
        r = wrap32(sdec(state[R, k] * params[F_R, k]))
        if wrap32(v - r) >= theta:
            r = wrap32(r + wrap32(2 * theta))
            theta = wrap32(theta + params[THETA_STEP, k])
            out_ids[n_out] = gbase + k
            n_out += 1
        state[I, k] = i
        state[V, k] = v
        state[THETA, k] = theta
        state[R, k] = r
    return n_out


_FLOAT_FIELDS = ("delta_i", "delta_v", "delta_theta", "delta_r", "theta_0", "theta_step")
_INT_FIELDS = ("bias_mant", "bias_exp", "i_init", "v_init", "r_init")


def lava_arrays(neuron: ATRLIF, size: int) -> dict[str, np.ndarray]:
    """The per-neuron values loihi-sim gives Lava's ATRLIF (``lava_procs/atrlif.py``).

    The plan's arrays are int64, so the float parameters travel as their float64 bit patterns
    and reach Lava as the very floats written here (Lava's arithmetic on them is float)."""
    arrays = {name: np.ascontiguousarray(np.broadcast_to(
        np.asarray(resolve(getattr(neuron, name), size), np.float64), (size,))).view(np.int64)
        for name in _FLOAT_FIELDS}
    arrays.update({name: np.asarray(resolve(getattr(neuron, name), size, integer=True), np.int64)
                   for name in _INT_FIELDS})
    return arrays


def _features(neuron: ATRLIF) -> dict[str, str]:
    used = {}
    if not isinstance(neuron.delta_i, (int, float)) or current_factor(neuron.delta_i) > 0:
        used["synaptic_current"] = "delta_i"  # i keeps part of the last step's current
    if isinstance(neuron.delta_v, (int, float)) and neuron.delta_v == 0:
        used["no_leak"] = "delta_v"
    return used


def _example(features: frozenset[str]) -> ATRLIF:
    return ATRLIF(delta_i=1000 / 4096 if "synaptic_current" in features else 4095 / 4096,
                  delta_v=0.0 if "no_leak" in features else 300 / 4096, delta_theta=0.1,
                  delta_r=0.2, theta_0=20, theta_step=8, bias_mant=20)


MODEL = NeuronModel(
    kind="atrlif",
    params=ATRLIF,
    summary="Lava's fixed-point ATRLIF: adaptive threshold and refractory state (Lava's names)",
    steps={"loihi": Step("loihi", atrlif_tables, atrlif_update, np.int64, V, input="loihi")},
    lowerings={"loihi-sim": LavaLowering(
        "Lava's own ATRLIF process (PyATRLIFModelFixed)", lava_arrays,
        "snnc.backends.loihi_sim.lava_procs.atrlif:atrlif",
        check=one_process_check("atrlif", ("theta_step",), "ATRLIF"))},
    features=("synaptic_current", "no_leak"),
    features_of=_features,
    integer_weights=True,
    refusals={"spinnaker": "it is Loihi's integer model (Lava's ATRLIF); spinnaker-emu runs lif "
                           "or spinnaker_lif"},
    example=_example,
)
