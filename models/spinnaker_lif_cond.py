r"""The ``spinnaker_lif_cond`` model: sPyNNaker's ``IF_cond_exp`` in s16.15 fixed point.

As an ARM core computes it, from three sPyNNaker sources (SpiNNakerManchester/sPyNNaker,
``neural_modelling/src/neuron/``): the membrane of ``models/neuron_model_lif_impl.h``, the
conductance input of ``input_types/input_type_conductance.h`` and the two exponential receptors
of ``synapse_types/synapse_types_exponential_impl.h``, in the order of
``implementations/neuron_impl_standard.h``. The arithmetic is ``spinnaker_lif``'s
(``models/spinnaker_lif.py``): s16.15 raw int32, ``a*b = (int64 a*b) >> 15`` truncating toward
minus infinity, u0.32 decays ``(int64 x * d) >> 32``, every accum result wrapping to 32 bits.

Where snnc differs from the sPyNNaker sources read:

- products truncate, as ``spinnaker_lif``'s do (sPyNNaker's older ``accum * accum``); recent
  ``neuron_model_lif_impl.h`` rounds the closed form's two products to nearest
  (``MULT_ROUND_NEAREST_ACCUM``), which would change V by at most an LSB per step;
- the conductances' scaling shift is a parameter, ``g_shift`` (sPyNNaker's
  ``input_type_get_input_value``: ``>> 10`` with the host's ``get_global_weight_scale`` of 1024;
  the latest header shifts by 5); the quantizer uses 10;
- ``exp_tc``, ``decay_*``, ``init_*`` and ``t_refract`` are computed on the host and carried as
  integers (sPyNNaker computes ``exp_tc`` on the core with ``expk``), so every backend computes
  the same bits.
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

_S1615 = RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)
_U032 = RangeChecked(ge=0, le=UINT32_MAX, integer=True)


class SpinnakerLIFCond(_Frozen):
    r"""sPyNNaker's ``IF_cond_exp`` in raw fixed point (module docstring for the sources).

    Voltages (``v_*``, ``v_rev_*``, mV), ``i_offset`` (nA), ``r_membrane`` (MΩ) and ``exp_tc``
    are s16.15 raw integers (value × 2^15); ``decay_*``/``init_*`` are u0.32. The synaptic state
    :math:`G_e, G_i` holds conductance × :math:`2^{g\_shift}` (µS, s16.15). Per step, with this
    step's saturated uint16 ring sums :math:`W_{exc}, W_{inh}`:

    .. math::

        G_e &\mathrel{+}= \mathrm{decay}(W_{exc} \ll shift_{exc},\ init_{exc}), \qquad
        G_i \mathrel{+}= \mathrm{decay}(W_{inh} \ll shift_{inh},\ init_{inh}) \\
        g_e &= G_e \gg g\_shift, \quad g_i = G_i \gg g\_shift \quad
              \text{(arithmetic: floor)} \\
        I &= g_e \cdot (v_{rev,e} - V) - \bigl(-\, g_i \cdot (v_{rev,i} - V)\bigr) + i_{offset} \\
        &\text{if } refract \le 0:\ \alpha = I \cdot r_{membrane} + v_{rest};
              \ V = \alpha - exp_{tc} \cdot (\alpha - V) \quad \text{else } refract \mathrel{-}= 1 \\
        &\text{if } V \ge v_{thresh}:\ V = v_{reset},\ refract = t_{refract},\ \text{spike} \\
        G_e &= \mathrm{decay}(G_e, decay_{exc}), \qquad G_i = \mathrm{decay}(G_i, decay_{inh})

    where :math:`V` in the driving forces is the voltage at the step's start, ``a*b`` is
    ``(a b) >> 15``, :math:`\mathrm{decay}(x, d) = (x d) >> 32`, and every sum and product
    wraps to 32 bits. In refractory steps V is frozen (it sits at ``v_reset`` after a spike)
    and the threshold is still tested, as sPyNNaker does. Weights into a population are
    signed integers whose magnitude is the 16-bit ring-buffer weight: positive ones go to the
    excitatory receptor, negative ones to the inhibitory receptor.
    """

    kind: Literal["spinnaker_lif_cond"] = "spinnaker_lif_cond"
    v_thresh: _S1615  # type: ignore[valid-type]
    v_reset: _S1615 = 0  # type: ignore[valid-type]
    v_rest: _S1615 = 0  # type: ignore[valid-type]
    v_init: _S1615 = 0  # type: ignore[valid-type]
    i_offset: _S1615 = 0  # type: ignore[valid-type]
    exp_tc: RangeChecked(ge=0, le=2**15, integer=True)  # type: ignore[valid-type]
    r_membrane: RangeChecked(ge=0, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    v_rev_e: _S1615 = 0  # type: ignore[valid-type]
    v_rev_i: _S1615 = -70 * 2**15  # type: ignore[valid-type]
    decay_exc: _U032 = 0  # type: ignore[valid-type]
    init_exc: _U032 = 0  # type: ignore[valid-type]
    decay_inh: _U032 = 0  # type: ignore[valid-type]
    init_inh: _U032 = 0  # type: ignore[valid-type]
    t_refract: Annotated[Int, Field(ge=0)] = 0
    weight_shift_exc: Annotated[Int, Field(ge=0, le=31)] = 0
    weight_shift_inh: Annotated[Int, Field(ge=0, le=31)] = 0
    g_shift: Annotated[Int, Field(ge=0, le=31)] = 10


# Rows of the per-neuron parameter and state tables.
(V_THRESH, V_RESET, V_REST, I_OFFSET, EXP_TC, R_MEMBRANE, V_REV_E, V_REV_I, DECAY_EXC, INIT_EXC,
 DECAY_INH, INIT_INH, T_REFRACT, SHIFT_EXC, SHIFT_INH, G_SHIFT) = range(16)
V, G_EXC, G_INH, REFRACT = range(4)

_FIELDS = ("v_thresh", "v_reset", "v_rest", "i_offset", "exp_tc", "r_membrane", "v_rev_e",
           "v_rev_i", "decay_exc", "init_exc", "decay_inh", "init_inh", "t_refract",
           "weight_shift_exc", "weight_shift_inh", "g_shift")


def spinnaker_tables(neuron: SpinnakerLIFCond, size: int,
                     dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[16, size], state int64[4, size]) of a ``spinnaker_lif_cond`` population."""
    params = np.empty((16, size), dtype=np.int64)
    for row, name in enumerate(_FIELDS):
        params[row] = resolve(getattr(neuron, name), size, integer=True)
    state = np.zeros((4, size), dtype=np.int64)
    state[V] = resolve(neuron.v_init, size, integer=True)
    return params, state


@njit(cache=True, nogil=True, inline="always")
def _driving(g, v_rev, v):
    """``g * (v_rev - V)`` as ``input_type_conductance.h`` computes it (accum products)."""
    return accum_mul(g, wrap_int32(v_rev - v))


@njit(cache=True, nogil=True)
def spinnaker_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1``; ``x[i]``/``x[n + i]`` are neuron i's exc/inh ring sums."""
    n = state.shape[1]
    for k in range(lo, hi):
        g_exc = _receive(state[G_EXC, k], x[k], params[SHIFT_EXC, k], params[INIT_EXC, k], False)
        g_inh = _receive(state[G_INH, k], x[n + k], params[SHIFT_INH, k], params[INIT_INH, k],
                         False)
        v = state[V, k]
        shift = params[G_SHIFT, k]
        exc_current = _driving(g_exc >> shift, params[V_REV_E, k], v)
        inh_current = wrap_int32(-_driving(g_inh >> shift, params[V_REV_I, k], v))
        if state[REFRACT, k] <= 0:
            total = wrap_int32(wrap_int32(exc_current - inh_current) + params[I_OFFSET, k])
            alpha = wrap_int32(accum_mul(total, params[R_MEMBRANE, k]) + params[V_REST, k])
            v = wrap_int32(alpha - accum_mul(params[EXP_TC, k], wrap_int32(alpha - v)))
        else:
            state[REFRACT, k] -= 1  # V frozen (sPyNNaker's neuron_model_state_update)
        if v >= params[V_THRESH, k]:
            v = params[V_RESET, k]
            state[REFRACT, k] = params[T_REFRACT, k]
            out_ids[n_out] = gbase + k
            n_out += 1
        state[V, k] = v
        state[G_EXC, k] = decay_s1615(g_exc, params[DECAY_EXC, k])
        state[G_INH, k] = decay_s1615(g_inh, params[DECAY_INH, k])
    return n_out


def _features(neuron: SpinnakerLIFCond) -> dict[str, str]:
    used = {"synaptic_current": "decay_exc"}
    if neuron.t_refract > 0:
        used["refractory"] = "t_refract"
    if (not np.array_equal(np.asarray(neuron.decay_exc), np.asarray(neuron.decay_inh))
            or not np.array_equal(np.asarray(neuron.init_exc), np.asarray(neuron.init_inh))):
        used["separate_inh_tau"] = "decay_inh"
    return used


# tau 5 ms and 10 ms at dt = 1 ms: round(exp(-dt/tau) 2^32), round((tau/dt)(1 - exp(-dt/tau)) 2^32)
_DECAY_5, _INIT_5 = 3516421809, 3892727437
_DECAY_10, _INIT_10 = 3886247119, 4087201773


def _example(features: frozenset[str]) -> SpinnakerLIFCond:
    """IF_cond_exp's defaults at dt = 1 ms with i_offset 1 nA (v_inf -45 mV: it spikes alone)."""
    separate = "separate_inh_tau" in features
    mv = 2**15
    return SpinnakerLIFCond(
        v_thresh=-50 * mv, v_reset=-65 * mv, v_rest=-65 * mv, v_init=-65 * mv, i_offset=mv,
        exp_tc=31170, r_membrane=20 * mv, v_rev_e=0, v_rev_i=-70 * mv,
        decay_exc=_DECAY_5, init_exc=_INIT_5, decay_inh=_DECAY_10 if separate else _DECAY_5,
        init_inh=_INIT_10 if separate else _INIT_5,
        t_refract=2 if "refractory" in features else 0, weight_shift_exc=4, weight_shift_inh=4)


MODEL = NeuronModel(
    kind="spinnaker_lif_cond",
    params=SpinnakerLIFCond,
    summary="sPyNNaker's IF_cond_exp in s16.15 (conductances scaled by 2^g_shift)",
    steps={"spinnaker": Step("spinnaker", spinnaker_tables, spinnaker_update, np.int64, V,
                             input="exc_inh")},
    lowerings={"spinnaker-emu": "the application core runs the model's spinnaker Step"},
    features=("synaptic_current", "refractory", "separate_inh_tau"),
    features_of=_features,
    integer_weights=True,
    refusals={"loihi": "it is SpiNNaker's integer model, and Loihi has no conductance synapses"},
    example=_example,
)
