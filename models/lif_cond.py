r"""The ``lif_cond`` model: PyNN's ``IF_cond_exp``, a leaky integrate-and-fire neuron with
exponentially decaying excitatory and inhibitory conductances, in float64.

Its per-step equations are those sPyNNaker runs for ``IF_cond_exp`` (the input is held for one
step, the membrane integrated exactly over it), in float64 and with PyNN's units: the meaning
that ``spinnaker_lif_cond`` (``models/spinnaker_lif_cond.py``) computes in s16.15. Loihi has no
conductance synapses: ``loihi-sim`` refuses the model.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from snnc.ir.values import RangeChecked, Value, _Frozen, resolve

from .base import NeuronModel, Quantizer, Step
from .jit import njit


class LIFCond(_Frozen):
    r"""Conductance-based leaky integrate-and-fire neuron (PyNN ``IF_cond_exp``), float64.

    Units as PyNN's: times in ms (``tau_m``, ``tau_syn_E``, ``tau_syn_I``, ``tau_refrac``, the
    network's ``dt``), voltages in mV, ``cm`` in nF, ``i_offset`` in nA, conductances and weights in
    µS (so µS × mV = nA and ``tau_m / cm`` is the membrane resistance :math:`R` in MΩ). A positive
    weight ``w`` increments the excitatory conductance by ``w``; a negative one increments the
    inhibitory conductance by ``|w|``.

    With :math:`\alpha_m = e^{-dt/\tau_m}`, :math:`\alpha_E = e^{-dt/\tau_{syn,E}}`,
    :math:`\alpha_I = e^{-dt/\tau_{syn,I}}`, :math:`R = \tau_m / c_m`, and :math:`x_E[t]`,
    :math:`x_I[t]` the summed positive weights and summed magnitudes of the negative weights
    arriving at step :math:`t`, each step computes, in this order:

    .. math::

        g_E &\leftarrow g_E + x_E[t], \qquad g_I \leftarrow g_I + x_I[t] \\
        I &= g_E (E_{rev,E} - v) + g_I (E_{rev,I} - v) + i_{offset} \\
        a &= I R + v_{rest}, \qquad v \leftarrow a - \alpha_m (a - v)
             \quad \text{(not in a refractory step)} \\
        s &= v \ge v_{thresh}; \quad \text{then } v \leftarrow v_{reset}, \text{ refractory for }
             \lceil \tau_{refrac} / dt \rceil \text{ steps} \\
        g_E &\leftarrow \alpha_E\, g_E, \qquad g_I \leftarrow \alpha_I\, g_I

    This is sPyNNaker's discretization (``neuron_impl_standard.h``: the conductances times the
    driving forces at the step's starting voltage give a current held over the step, which
    ``neuron_model_lif_impl.h``'s closed form integrates exactly; ``synapse_types_exponential_impl.h``
    decays the conductances exactly afterwards), with one difference: sPyNNaker adds ``w * init``,
    :math:`init = (\tau/dt)(1 - \alpha)`, to a conductance per spike, this model adds ``w`` as
    PyNN means (the quantizer divides the ring-buffer weight by ``init``). During a refractory
    step ``v`` is held at ``v_reset`` and the threshold is not tested; the conductances keep
    integrating and decaying. Initial state: ``v = v_init``, :math:`g_E = g_I = 0`. Defaults are
    PyNN's (its initial ``v`` is -65 mV whatever ``v_rest`` is).
    """

    kind: Literal["lif_cond"] = "lif_cond"
    tau_m: RangeChecked(gt=0) = 20.0  # type: ignore[valid-type]
    cm: RangeChecked(gt=0) = 1.0  # type: ignore[valid-type]
    v_rest: Value = -65.0
    v_reset: Value = -65.0
    v_thresh: Value = -50.0
    tau_syn_E: RangeChecked(gt=0) = 5.0  # type: ignore[valid-type]
    tau_syn_I: RangeChecked(gt=0) = 5.0  # type: ignore[valid-type]
    e_rev_E: Value = 0.0
    e_rev_I: Value = -70.0
    i_offset: Value = 0.0
    tau_refrac: RangeChecked(ge=0) = 0.1  # type: ignore[valid-type]
    v_init: Value = -65.0


def refractory_steps(tau_refrac: Any, size: int, dt: float) -> np.ndarray:
    """``ceil(tau_refrac / dt)`` per neuron, as sPyNNaker's ``lif_ceil_accum`` rounds it."""
    steps = np.asarray(resolve(tau_refrac, size), dtype=np.float64) / dt
    return np.ceil(steps - 1e-9).astype(np.int64)  # 2.0000000001 from float division is 2


def initial_voltage(neuron: LIFCond, size: int) -> np.ndarray:
    return np.asarray(resolve(neuron.v_init, size), dtype=np.float64)


# Rows of the per-neuron parameter and state tables.
(ALPHA_M, R_MEMBRANE, V_REST, V_RESET, V_THRESH, ALPHA_E, ALPHA_I, E_REV_E, E_REV_I, I_OFFSET,
 T_REFRACT) = range(11)
V, G_E, G_I, REFRACT = range(4)


def float_tables(neuron: LIFCond, size: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[11, size], state float64[4, size]) of a ``lif_cond`` population."""
    params = np.empty((11, size), dtype=np.float64)
    tau_m = np.asarray(resolve(neuron.tau_m, size), dtype=np.float64)
    params[ALPHA_M] = np.exp(-dt / tau_m)
    params[R_MEMBRANE] = tau_m / np.asarray(resolve(neuron.cm, size), dtype=np.float64)
    for row, name in ((V_REST, "v_rest"), (V_RESET, "v_reset"), (V_THRESH, "v_thresh"),
                      (E_REV_E, "e_rev_E"), (E_REV_I, "e_rev_I"), (I_OFFSET, "i_offset")):
        params[row] = resolve(getattr(neuron, name), size)
    params[ALPHA_E] = np.exp(-dt / np.asarray(resolve(neuron.tau_syn_E, size), dtype=np.float64))
    params[ALPHA_I] = np.exp(-dt / np.asarray(resolve(neuron.tau_syn_I, size), dtype=np.float64))
    params[T_REFRACT] = refractory_steps(neuron.tau_refrac, size, dt)
    state = np.zeros((4, size), dtype=np.float64)
    state[V] = initial_voltage(neuron, size)
    return params, state


@njit(cache=True, nogil=True)
def float_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step; ``x[k]``/``x[n + k]``: this step's excitatory and
    inhibitory conductance increments (µS) of neuron k."""
    n = state.shape[1]
    for k in range(lo, hi):
        g_e = state[G_E, k] + x[k]
        g_i = state[G_I, k] + x[n + k]
        v = state[V, k]
        if state[REFRACT, k] > 0.0:
            state[REFRACT, k] -= 1.0
            v = params[V_RESET, k]
        else:
            current = (g_e * (params[E_REV_E, k] - v) + g_i * (params[E_REV_I, k] - v)
                       + params[I_OFFSET, k])
            alpha = current * params[R_MEMBRANE, k] + params[V_REST, k]
            v = alpha - params[ALPHA_M, k] * (alpha - v)
            if v >= params[V_THRESH, k]:
                v = params[V_RESET, k]
                state[REFRACT, k] = params[T_REFRACT, k]
                out_ids[n_out] = gbase + k
                n_out += 1
        state[V, k] = v
        state[G_E, k] = params[ALPHA_E, k] * g_e
        state[G_I, k] = params[ALPHA_I, k] * g_i
    return n_out


def _features(neuron: LIFCond) -> dict[str, str]:
    used = {"synaptic_current": "tau_syn_E"}  # conductances always decay (tau_syn > 0)
    refrac = neuron.tau_refrac
    if not _fixed(refrac) or np.any(np.asarray(refrac, dtype=np.float64) > 0):
        used["refractory"] = "tau_refrac"
    if not (_fixed(neuron.tau_syn_E) and _fixed(neuron.tau_syn_I)) or not np.array_equal(
            np.asarray(neuron.tau_syn_E, dtype=np.float64),
            np.asarray(neuron.tau_syn_I, dtype=np.float64)):
        used["separate_inh_tau"] = "tau_syn_I"
    return used


def _fixed(value: Any) -> bool:
    return isinstance(value, (int, float, np.ndarray))


def _example(features: frozenset[str]) -> LIFCond:
    """Driven above threshold by ``i_offset`` alone (v_inf = v_rest + 1.0 nA x 20 MOhm = -45 mV)
    so that every case spikes whatever weights the sweep gives it."""
    return LIFCond(tau_m=20.0, cm=1.0, i_offset=1.0,
                   tau_refrac=2.0 if "refractory" in features else 0.0,
                   tau_syn_E=5.0, tau_syn_I=10.0 if "separate_inh_tau" in features else 5.0)


MODEL = NeuronModel(
    kind="lif_cond",
    params=LIFCond,
    summary="conductance-based LIF (PyNN IF_cond_exp, sPyNNaker's discretization), float64",
    steps={"float": Step("float", float_tables, float_update, np.float64, V, input="exc_inh")},
    quantizers={
        "spinnaker": Quantizer("spinnaker_lif_cond",
                               "snnc.compiler.passes.quantize.lif_cond:quantize_population",
                               keeps=frozenset({"synaptic_current", "refractory",
                                                "separate_inh_tau"})),
    },
    features=("synaptic_current", "refractory", "separate_inh_tau"),
    features_of=_features,
    refusals={"loihi": "Loihi has no conductance synapses (its CUBA neuron adds currents)"},
    example=_example,
)
