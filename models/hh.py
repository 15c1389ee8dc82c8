r"""The ``hh`` model: a Hodgkin-Huxley neuron (Traub-Miles rates) in float64, the reference only.

The parameter set is the Traub & Miles pyramidal cell as the Brette et al. (2007) simulator
benchmark uses it: Brian2's ``examples/COBAHH.py`` and NEST's ``hh_cond_exp_traub`` (a
20 000 um^2 patch: 1 uF/cm^2 is 200 pF, 100 mS/cm^2 is 20 000 nS). Units throughout: mV, ms, nS,
pF, pA (nS * mV = pA and pA / pF = mV/ms, so the equations need no conversion factors).

The chips refuse it: there is no quantizer, because Loihi's and SpiNNaker's integer neurons have no
per-step exponentials of the membrane voltage (``refusals`` words why).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import Int, RangeChecked, Value, _Frozen, resolve

from .base import NeuronModel, Step
from .jit import njit
from .lif import decay_factor


class HH(_Frozen):
    r"""Hodgkin-Huxley point neuron with Traub-Miles sodium and delayed-rectifier potassium rates.

    Membrane (``v`` in mV, conductances in nS, ``c_m`` in pF, currents in pA, time in ms):

    .. math::

        c_m \frac{dv}{dt} &= -g_{Na} m^3 h (v - E_{Na}) - g_K n^4 (v - E_K) - g_L (v - E_L)
                            + I_{bias} + i_{syn} \\
        \frac{dz}{dt} &= \alpha_z(u) (1 - z) - \beta_z(u) z, \quad z \in \{m, h, n\},
                         \quad u = v - V_T

    Rates (1/ms, ``u`` in mV; Traub & Miles as in Brian2's ``examples/COBAHH.py``):

    .. math::

        \alpha_m &= \frac{0.32 (13 - u)}{e^{(13 - u)/4} - 1}, &
        \beta_m &= \frac{0.28 (u - 40)}{e^{(u - 40)/5} - 1} \\
        \alpha_h &= 0.128\, e^{(17 - u)/18}, &
        \beta_h &= \frac{4}{1 + e^{(40 - u)/5}} \\
        \alpha_n &= \frac{0.032 (15 - u)}{e^{(15 - u)/5} - 1}, &
        \beta_n &= 0.5\, e^{(10 - u)/40}

    (at the removable singularities :math:`x / (e^{x/k} - 1) = k`).

    Synaptic current: a weight is a current in pA. With :math:`\alpha_s = e^{-dt/\tau_{syn}}`
    (0 when ``tau_syn`` is 0: the current is this step's input alone, a pulse of one step),

    .. math::

        i_{syn}[t] = \alpha_s\, i_{syn}[t-1] + x[t]

    and :math:`I = I_{bias} + i_{syn}[t]` is held constant through step ``t``, which integrates
    the interval :math:`[t\,dt, (t+1)\,dt)` in ``substeps`` sub-steps of :math:`\delta = dt /
    substeps`. Each sub-step is exponential Euler (Brian2's ``exponential_euler``, GENESIS's
    default): every variable is linear in itself given the others, so with all of
    :math:`v, m, h, n` taken at the start of the sub-step,

    .. math::

        z &\leftarrow z_\infty + (z - z_\infty)\, e^{-\delta (\alpha_z + \beta_z)}, \quad
            z_\infty = \frac{\alpha_z}{\alpha_z + \beta_z} \\
        G &= g_{Na} m^3 h + g_K n^4 + g_L, \quad
            v_\infty = \frac{g_{Na} m^3 h E_{Na} + g_K n^4 E_K + g_L E_L + I}{G} \\
        v &\leftarrow v_\infty + (v - v_\infty)\, e^{-\delta G / c_m}

    Spike: step ``t`` emits one spike when ``v`` crosses ``v_th`` upwards in any of its sub-steps
    (:math:`v_{before} < v_{th} \le v_{after}`); there is no reset, the gates repolarize ``v``.
    Initial state: ``v = v_init``, each gate at its steady state :math:`z_\infty(v_{init})`,
    :math:`i_{syn} = 0`.
    """

    kind: Literal["hh"] = "hh"
    c_m: RangeChecked(gt=0) = 200.0  # type: ignore[valid-type]
    g_na: RangeChecked(ge=0) = 20000.0  # type: ignore[valid-type]
    g_k: RangeChecked(ge=0) = 6000.0  # type: ignore[valid-type]
    g_l: RangeChecked(gt=0) = 10.0  # type: ignore[valid-type]
    e_na: Value = 50.0
    e_k: Value = -90.0
    e_l: Value = -60.0
    v_t: Value = -63.0
    bias: Value = 0.0
    v_init: Value = -60.0
    tau_syn: RangeChecked(ge=0) = 0.0  # type: ignore[valid-type]
    v_th: Value = -20.0
    substeps: Annotated[Int, Field(ge=1)] = 10


# Rows of the per-neuron parameter and state tables.
C_M, G_NA, G_K, G_L, E_NA, E_K, E_L, V_T, BIAS, V_TH, ALPHA_S, DELTA, SUBSTEPS = range(13)
V, M, H, N, I_SYN = range(5)


@njit(cache=True, nogil=True)
def _linoid(x, k):
    """``x / (exp(x / k) - 1)``, ``k`` at ``x = 0`` (the limit), accurate near it (expm1)."""
    if x == 0.0:
        return k
    return x / math.expm1(x / k)


@njit(cache=True, nogil=True)
def rates(v, v_t):
    """``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)`` in 1/ms at ``v`` (mV)."""
    u = v - v_t
    return (0.32 * _linoid(13.0 - u, 4.0), 0.28 * _linoid(u - 40.0, 5.0),
            0.128 * math.exp((17.0 - u) / 18.0), 4.0 / (1.0 + math.exp((40.0 - u) / 5.0)),
            0.032 * _linoid(15.0 - u, 5.0), 0.5 * math.exp((10.0 - u) / 40.0))


def steady_gates(v: np.ndarray, v_t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(m_inf, h_inf, n_inf)`` at each ``v``: the initial gates."""
    gates = np.zeros((3, v.size))
    for k in range(v.size):
        am, bm, ah, bh, an, bn = rates(float(v[k]), float(v_t[k]))
        gates[:, k] = am / (am + bm), ah / (ah + bh), an / (an + bn)
    return gates[0], gates[1], gates[2]


def float_tables(neuron: HH, size: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[13, size], state float64[5, size]) of an ``hh`` population."""
    params = np.zeros((13, size), dtype=np.float64)
    fields = ((C_M, "c_m"), (G_NA, "g_na"), (G_K, "g_k"), (G_L, "g_l"), (E_NA, "e_na"),
              (E_K, "e_k"), (E_L, "e_l"), (V_T, "v_t"), (BIAS, "bias"), (V_TH, "v_th"))
    for row, name in fields:
        params[row] = resolve(getattr(neuron, name), size)
    params[ALPHA_S] = decay_factor(resolve(neuron.tau_syn, size), dt, "exact")
    params[DELTA] = dt / neuron.substeps
    params[SUBSTEPS] = neuron.substeps
    state = np.zeros((5, size), dtype=np.float64)
    state[V] = resolve(neuron.v_init, size)
    state[M], state[H], state[N] = steady_gates(state[V], params[V_T])
    return params, state


@njit(cache=True, nogil=True)
def _relax(z, alpha, beta, delta):
    """One exponential-Euler sub-step of a gate: exact for ``v`` held fixed."""
    total = alpha + beta
    z_inf = alpha / total
    return z_inf + (z - z_inf) * math.exp(-delta * total)


@njit(cache=True, nogil=True)
def _substep(p, k, v, m, h, n, current):
    """``(v, m, h, n)`` one sub-step later, every update from the values at its start."""
    am, bm, ah, bh, an, bn = rates(v, p[V_T, k])
    delta = p[DELTA, k]
    g_na = p[G_NA, k] * m * m * m * h
    g_k = p[G_K, k] * n * n * n * n
    g_total = g_na + g_k + p[G_L, k]
    v_inf = (g_na * p[E_NA, k] + g_k * p[E_K, k] + p[G_L, k] * p[E_L, k] + current) / g_total
    v_new = v_inf + (v - v_inf) * math.exp(-delta * g_total / p[C_M, k])
    return (v_new, _relax(m, am, bm, delta), _relax(h, ah, bh, delta), _relax(n, an, bn, delta))


@njit(cache=True, nogil=True)
def float_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``x``; append spikes' global ids."""
    for k in range(lo, hi):
        i_syn = params[ALPHA_S, k] * state[I_SYN, k] + x[k]
        state[I_SYN, k] = i_syn
        current = params[BIAS, k] + i_syn
        v, m, h, n = state[V, k], state[M, k], state[H, k], state[N, k]
        threshold = params[V_TH, k]
        crossed = False
        for _ in range(int(params[SUBSTEPS, k])):
            v_new, m, h, n = _substep(params, k, v, m, h, n, current)
            crossed = crossed or (v < threshold <= v_new)
            v = v_new
        state[V, k], state[M, k], state[H, k], state[N, k] = v, m, h, n
        if crossed:  # one spike per step at most: the engine's events are per step
            out_ids[n_out] = gbase + k
            n_out += 1
    return n_out


def _features(neuron: HH) -> dict[str, str]:
    """``synaptic_current`` when ``tau_syn`` is above 0 (a distribution's draws always are)."""
    tau = neuron.tau_syn
    if not isinstance(tau, (int, float, np.ndarray)) or np.any(np.asarray(tau) > 0):
        return {"synaptic_current": "tau_syn"}
    return {}


def _example(features: frozenset[str]) -> HH:
    """A neuron that fires on its bias alone (about 60 Hz), so every run spikes."""
    return HH(bias=300.0, tau_syn=2.0 if "synaptic_current" in features else 0.0, substeps=20)


_NO_CHIP = ("Hodgkin-Huxley needs floating-point exponentials of the voltage every sub-step; "
            "{chip}'s fixed-point neurons cannot run it (run it on the reference)")

MODEL = NeuronModel(
    kind="hh",
    params=HH,
    summary="Hodgkin-Huxley (Traub-Miles rates, mV/ms/nS/pF/pA), float64, exponential Euler",
    steps={"float": Step("float", float_tables, float_update, np.float64, V)},
    features=("synaptic_current",),
    features_of=_features,
    refusals={"loihi": _NO_CHIP.format(chip="Loihi"),
              "spinnaker": _NO_CHIP.format(chip="SpiNNaker")},
    example=_example,
)
