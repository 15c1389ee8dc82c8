r"""The ``spinnaker_izhikevich`` model: sPyNNaker's ``Izhikevich_curr_exp`` in s16.15 fixed point.

As the ARM cores compute it: sPyNNaker
``neural_modelling/src/neuron/models/neuron_model_izh_impl.h`` (``rk2_kernel_midpoint``,
``neuron_model_state_update``, ``neuron_model_has_spiked``), with the static threshold
(``threshold_types/threshold_type_static.h``: spike when ``V >= v_thresh``) and the exponential
or delta synapses and 16-bit ring buffers of ``spinnaker_lif`` (``models/spinnaker_lif.py``,
whose s16.15 conventions this model shares: ``a*b`` is ``(int64 a*b) >> 15``, every accum result
wraps to 32 bits).

sPyNNaker does not take the float model's Euler step: it takes one explicit-midpoint (RK2) step
of length ``h`` with 0.040008544921875 for 0.04, and after a spike the next step (only) is
``h * 1.85`` long (its "simple threshold correction"). docs/neuron-models/izhikevich.md says
what that changes.
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

ONE = 1 << 15  # 1.0k
# The literals of neuron_model_izh_impl.h as GCC turns them into accum bits (fixed_from_string:
# the decimal value times 2^15, truncated toward zero).
K140 = 140 << 15  # REAL_CONST(140.0)
K5 = 5 << 15  # REAL_CONST(5.0)
MAGIC_MULTIPLIER = 1311  # REAL_CONST(0.040008544921875) = 1311 / 2^15 exactly
HALF = 1 << 14  # REAL_HALF(x) is x * 0.500000k
SIMPLE_TQ_OFFSET = 60620  # REAL_CONST(1.85): 1.85 * 2^15 = 60620.8, truncated


class SpinnakerIzhikevich(_Frozen):
    r"""sPyNNaker's ``Izhikevich_curr_exp`` / ``_curr_delta`` in raw s16.15 (accum bits).

    ``a``, ``b``, ``c``, ``d``, ``v_init``, ``u_init``, ``i_offset``, ``v_thresh`` and ``h`` (the
    step in ms, sPyNNaker's ``time_step / n_steps_per_timestep``) are s16.15 raw integers;
    ``decay_*``/``init_*`` are u0.32 as in ``spinnaker_lif``. With ``a*b = (a b) >> 15`` (floor),
    ``half(x) = x * 0.5k``, ``M = 1311`` (0.040008544921875) and every sum wrapped to 32 bits, per
    step (``I_e``, ``I_i`` and their ring-buffer sums as ``spinnaker_lif``):

    .. math::

        I &= I_e - I_i + i_{offset} \\
        p &= 140 + I - U, \quad \alpha = p + (5 + M V) V, \quad \eta = V + \mathrm{half}(h \alpha) \\
        \beta &= \mathrm{half}\big((h (b V - U))\, a\big) \\
        V &\mathrel{+}= h \big(p - \beta + (5 + M \eta)\, \eta\big), \quad
        U \mathrel{+}= (a h) \big(-U_{old} - \beta + b\, \eta\big) \\
        h &\leftarrow h_{reset}; \quad \text{if } V \ge v_{thresh}:\ \text{spike},\ V = c,\
             U \mathrel{+}= d,\ h \leftarrow h_{reset} \cdot 1.85

    (``h`` is the state ``this_h``: one step of ``1.85 h`` follows each spike; ``1.85k`` is 60620,
    GCC's truncation of the literal). Then the currents decay, as in ``spinnaker_lif``. Weights
    into it are signed integers whose magnitude is the 16-bit ring-buffer weight (positive:
    excitatory receptor, negative: inhibitory).
    """

    kind: Literal["spinnaker_izhikevich"] = "spinnaker_izhikevich"
    a: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    b: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    c: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    d: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    v_init: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    u_init: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    i_offset: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore
    v_thresh: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 30 * ONE  # type: ignore
    h: RangeChecked(ge=1, le=INT32_MAX, integer=True) = ONE  # type: ignore[valid-type]
    synapse: Literal["exp", "delta"] = "exp"
    decay_exc: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    init_exc: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    decay_inh: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    init_inh: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    weight_shift_exc: Annotated[Int, Field(ge=0, le=31)] = 0
    weight_shift_inh: Annotated[Int, Field(ge=0, le=31)] = 0


# Rows of the per-neuron parameter and state tables.
(A, B, C, D, I_OFFSET, V_THRESH, H_RESET, DECAY_EXC, INIT_EXC, DECAY_INH, INIT_INH, SHIFT_EXC,
 SHIFT_INH, DELTA) = range(14)
V, U, I_EXC, I_INH, THIS_H = range(5)

_FIELDS = ("a", "b", "c", "d", "i_offset", "v_thresh", "h", "decay_exc", "init_exc", "decay_inh",
           "init_inh", "weight_shift_exc", "weight_shift_inh")


def spinnaker_tables(neuron: SpinnakerIzhikevich, size: int,
                     dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[14, size], state int64[5, size]); ``this_h`` starts at ``h``."""
    params = np.empty((14, size), dtype=np.int64)
    for row, name in enumerate(_FIELDS):
        params[row] = resolve(getattr(neuron, name), size, integer=True)
    params[DELTA] = int(neuron.synapse == "delta")
    state = np.zeros((5, size), dtype=np.int64)
    state[V] = resolve(neuron.v_init, size, integer=True)
    state[U] = resolve(neuron.u_init, size, integer=True)
    state[THIS_H] = params[H_RESET]
    return params, state


@njit(cache=True, nogil=True, inline="always")
def _add(x: int, y: int) -> int:
    return wrap_int32(x + y)


@njit(cache=True, nogil=True, inline="always")
def _quadratic(x: int) -> int:
    """``(5.0k + M * x) * x``: the 0.04 v^2 + 5 v part of the derivative."""
    return accum_mul(_add(K5, accum_mul(MAGIC_MULTIPLIER, x)), x)


@njit(cache=True, nogil=True, inline="always")
def _midpoint(h, a, b, v, u, current):
    """``rk2_kernel_midpoint``: the new (V, U), every C operation in its order."""
    pre_alpha = _add(_add(K140, current), -u)
    alpha = _add(pre_alpha, _quadratic(v))
    eta = _add(v, accum_mul(accum_mul(h, alpha), HALF))
    beta = accum_mul(accum_mul(accum_mul(h, _add(accum_mul(b, v), -u)), a), HALF)
    v_new = _add(v, accum_mul(h, _add(_add(pre_alpha, -beta), _quadratic(eta))))
    u_step = _add(_add(wrap_int32(-u), -beta), accum_mul(b, eta))
    u_new = _add(u, accum_mul(accum_mul(a, h), u_step))
    return v_new, u_new


@njit(cache=True, nogil=True)
def spinnaker_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1``; ``x[i]``/``x[n + i]`` are neuron i's exc/inh ring sums."""
    n = state.shape[1]
    for k in range(lo, hi):
        delta = params[DELTA, k] != 0
        i_exc = _receive(state[I_EXC, k], x[k], params[SHIFT_EXC, k], params[INIT_EXC, k], delta)
        i_inh = _receive(state[I_INH, k], x[n + k], params[SHIFT_INH, k], params[INIT_INH, k],
                         delta)
        # total_exc - total_inh - external_bias (0) + I_offset + current_offset (0)
        current = _add(_add(i_exc, -i_inh), params[I_OFFSET, k])
        v, u = _midpoint(state[THIS_H, k], params[A, k], params[B, k], state[V, k], state[U, k],
                         current)
        h = params[H_RESET, k]
        if v >= params[V_THRESH, k]:
            v = params[C, k]
            u = _add(u, params[D, k])
            h = accum_mul(params[H_RESET, k], SIMPLE_TQ_OFFSET)
            out_ids[n_out] = gbase + k
            n_out += 1
        state[V, k] = v
        state[U, k] = u
        state[THIS_H, k] = h
        if delta:
            i_exc, i_inh = 0, 0
        else:
            i_exc = decay_s1615(i_exc, params[DECAY_EXC, k])
            i_inh = decay_s1615(i_inh, params[DECAY_INH, k])
        state[I_EXC, k] = i_exc
        state[I_INH, k] = i_inh
    return n_out


def _features(neuron: SpinnakerIzhikevich) -> dict[str, str]:
    return {"synaptic_current": "synapse"} if neuron.synapse == "exp" else {}


def _example(features: frozenset[str]) -> SpinnakerIzhikevich:
    """Regular spiking (a 0.02, b 0.2, c -65, d 8) with a bias of 10 (so it fires unaided)."""
    exp = "synaptic_current" in features
    return SpinnakerIzhikevich(a=655, b=6554, c=-65 * ONE, d=8 * ONE, v_init=-65 * ONE,
                               u_init=-13 * ONE, i_offset=10 * ONE,
                               synapse="exp" if exp else "delta",
                               decay_exc=3345173274 if exp else 0,
                               init_exc=3785000000 if exp else 0,
                               decay_inh=3345173274 if exp else 0,
                               init_inh=3785000000 if exp else 0)


MODEL = NeuronModel(
    kind="spinnaker_izhikevich",
    params=SpinnakerIzhikevich,
    summary="sPyNNaker's Izhikevich_curr_exp / _curr_delta in s16.15 (its RK2 midpoint step)",
    steps={"spinnaker": Step("spinnaker", spinnaker_tables, spinnaker_update, np.int64, V,
                             input="exc_inh")},
    lowerings={"spinnaker-emu": "the application core runs the model's spinnaker step"},
    features=("synaptic_current",),
    features_of=_features,
    integer_weights=True,
    refusals={"loihi": "it is SpiNNaker's integer model; loihi-sim runs izhikevich or "
                       "loihi_izhikevich"},
    example=_example,
)
