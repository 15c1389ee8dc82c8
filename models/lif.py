r"""The ``lif`` model: the hardware-neutral, current-based leaky integrate-and-fire neuron in float64.

Time is discrete (docs/numerics.md): at every step a neuron (1) sums the input ``x[t]`` arriving at
this step (the weights of the spikes that reach it now), (2) updates its state, (3) spikes and
resets. This module is the one definition of ``lif``: its parameters, its float update (the
meaning every backend must compute), and which targets' integer models it quantizes to, keeping
which features.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

import numpy as np
from pydantic import Field

from snnc.ir.values import Int, RangeChecked, Value, _Frozen, resolve

from .base import NeuronModel, Quantizer, Step
from .jit import njit


class LIF(_Frozen):
    r"""Current-based leaky integrate-and-fire neuron in floating point (the hardware-neutral meaning).

    With :math:`\alpha_m = e^{-dt/\tau_{mem}}` and :math:`\alpha_s = e^{-dt/\tau_{syn}}`
    (:math:`\alpha_s = 0` when ``tau_syn`` is 0: the current is just this step's input):

    .. math::

        i[t] &= \alpha_s\, i[t-1] + x[t] \\
        v[t] &= v_{leak} + \alpha_m (v[t-1] - v_{leak}) + i[t] + bias \\
        s[t] &= v[t] > v_{th}, \quad v[t] \leftarrow v_{reset} \text{ (or } v[t] - v_{th}
                \text{ when reset is subtract)}

    With ``integrator: euler`` the decay factors are forward Euler's, :math:`\alpha = 1 - dt/\tau`
    (as snnTorch discretizes; needs :math:`\tau \ge dt`) instead of :math:`e^{-dt/\tau}`.

    ``tau_mem: .inf`` (YAML; ``float("inf")`` in Python) is an IF neuron: :math:`\alpha_m = 1`
    exactly, no leak.

    After a spike, ``refractory`` steps follow in which ``v`` is held at ``v_reset`` (the current ``i``
    keeps integrating and decaying). Initial state: ``v = v_init``, ``i = 0``. Times are in ms, like
    the network's ``dt``; voltages, weights and bias share one arbitrary unit.

    ``tau_syn_inh`` (one value per population; default ``None``: the same as ``tau_syn``, one
    current) gives negative
    weights a second current with its own time constant, as sPyNNaker's two receptors have
    (:math:`\alpha_i = e^{-dt/\tau_{syn\_inh}}`, or Euler's). With :math:`x^+[t]` the sum of
    this step's positive weights and :math:`x^-[t]` the sum of the magnitudes of its negative
    ones, the current line becomes

    .. math::

        i_e[t] &= \alpha_s\, i_e[t-1] + x^+[t], \qquad
        i_i[t] = \alpha_i\, i_i[t-1] + x^-[t] \\
        v[t] &= v_{leak} + \alpha_m (v[t-1] - v_{leak}) + (i_e[t] - i_i[t]) + bias

    (evaluated in that order; refractory steps keep both currents integrating).
    """

    kind: Literal["lif"] = "lif"
    tau_mem: RangeChecked(gt=0, posinf=True)  # type: ignore[valid-type]
    tau_syn: RangeChecked(ge=0) = 0.0  # type: ignore[valid-type]
    v_th: Value = 1.0
    v_reset: Value = 0.0
    v_leak: Value = 0.0
    bias: Value = 0.0
    v_init: Value = 0.0
    refractory: Annotated[Int, Field(ge=0)] = 0
    reset: Literal["zero", "subtract"] = "zero"
    integrator: Literal["exact", "euler"] = "exact"
    tau_syn_inh: Optional[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = None


def decay_factor(tau: np.ndarray, dt: float, integrator: str) -> np.ndarray:
    """``exp(-dt/tau)`` or ``1 - dt/tau``; 0 where ``tau`` is 0 (no memory), 1 where it is infinite."""
    tau = np.asarray(tau, dtype=np.float64)
    safe = np.where(tau > 0, tau, 1.0)
    alpha = np.exp(-dt / safe) if integrator == "exact" else 1.0 - dt / safe
    return np.where(tau > 0, alpha, 0.0)


# Rows of the per-neuron parameter and state tables.
ALPHA_M, ALPHA_S, V_LEAK, BIAS, V_TH, V_RESET, SPIKING, SUBTRACT, REFRACTORY = range(9)
V, I, REFRACTORY_LEFT = range(3)  # noqa: E741 (I: the synaptic current, as in the equations)


def float_tables(neuron: Any, size: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[9, size], state float64[3, size]) of a ``lif`` or ``li`` population.

    The update below is evaluated left to right exactly as the docstring of :class:`LIF` writes
    it, so any float64 implementation of the equations in that order gives the same bits."""
    if separate_inh_tau(neuron):
        # only lif's two-current Step (two_current_tables) may lay these out: one current
        # would silently merge the inhibitory one into it
        from snnc.ir.errors import UnsupportedOnTarget

        raise UnsupportedOnTarget(
            "a lif population with tau_syn_inh needs lif's two-current float update "
            "(Step.for_neuron chooses it); this caller took the one-current tables",
            where="neuron.tau_syn_inh")
    params = np.zeros((9, size), dtype=np.float64)
    params[ALPHA_M] = decay_factor(resolve(neuron.tau_mem, size), dt, neuron.integrator)
    params[ALPHA_S] = decay_factor(resolve(neuron.tau_syn, size), dt, neuron.integrator)
    params[V_LEAK] = resolve(neuron.v_leak, size)
    params[BIAS] = resolve(neuron.bias, size)
    if getattr(neuron, "v_th", None) is not None:  # spiking (lif); li has no threshold
        params[V_TH] = resolve(neuron.v_th, size)
        params[V_RESET] = resolve(neuron.v_reset, size)
        params[SPIKING] = 1.0
        params[SUBTRACT] = float(neuron.reset == "subtract")
        params[REFRACTORY] = neuron.refractory
    state = np.zeros((3, size), dtype=np.float64)
    state[V] = resolve(neuron.v_init, size)
    return params, state


@njit(cache=True, nogil=True)
def float_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``x``; append spikes' global ids."""
    for k in range(lo, hi):
        current = params[ALPHA_S, k] * state[I, k] + x[k]
        state[I, k] = current
        if state[REFRACTORY_LEFT, k] > 0.0:
            # refractory: v is held at v_reset while the current keeps integrating
            state[REFRACTORY_LEFT, k] -= 1.0
            state[V, k] = params[V_RESET, k]
            continue
        leak = params[V_LEAK, k]
        v = leak + params[ALPHA_M, k] * (state[V, k] - leak) + current + params[BIAS, k]
        if params[SPIKING, k] != 0.0 and v > params[V_TH, k]:
            v = v - params[V_TH, k] if params[SUBTRACT, k] != 0.0 else params[V_RESET, k]
            state[REFRACTORY_LEFT, k] = params[REFRACTORY, k]
            out_ids[n_out] = gbase + k
            n_out += 1
        state[V, k] = v
    return n_out


# ---- two currents (tau_syn_inh): their own tables, kernel and input layout ------------------------
ALPHA_I = 9  # the inhibitory current's decay (params row)
I_INH = 3  # the inhibitory current (state row), holding the magnitudes of negative weights


def separate_inh_tau(neuron: Any) -> bool:
    """True when negative weights need their own current: ``tau_syn_inh`` set and not the same
    value as ``tau_syn`` (equal ones are one current, exactly)."""
    inh = getattr(neuron, "tau_syn_inh", None)
    if inh is None:
        return False
    exc = neuron.tau_syn
    if _fixed(inh) and _fixed(exc):
        return not np.array_equal(np.asarray(inh, dtype=np.float64),
                                  np.asarray(exc, dtype=np.float64))
    return bool(inh != exc)


def two_current_tables(neuron: Any, size: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[10, size], state float64[4, size]): ``float_tables``' rows plus the
    inhibitory current's decay ``ALPHA_I`` and its state ``I_INH``."""
    single = neuron.model_copy(update={"tau_syn_inh": None})
    params, state = float_tables(single, size, dt)
    alpha_i = decay_factor(resolve(neuron.tau_syn_inh, size), dt, neuron.integrator)
    return (np.ascontiguousarray(np.vstack([params, alpha_i[None, :]])),
            np.ascontiguousarray(np.vstack([state, np.zeros((1, size))])))


@njit(cache=True, nogil=True)
def two_current_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """``float_update`` with two currents: ``x[k]``/``x[n + k]`` are neuron k's summed positive
    weights and summed magnitudes of negative ones (the ``exc_inh`` layout)."""
    n = state.shape[1]
    for k in range(lo, hi):
        exc = params[ALPHA_S, k] * state[I, k] + x[k]
        inh = params[ALPHA_I, k] * state[I_INH, k] + x[n + k]
        state[I, k] = exc
        state[I_INH, k] = inh
        if state[REFRACTORY_LEFT, k] > 0.0:
            state[REFRACTORY_LEFT, k] -= 1.0
            state[V, k] = params[V_RESET, k]
            continue
        leak = params[V_LEAK, k]
        v = leak + params[ALPHA_M, k] * (state[V, k] - leak) + (exc - inh) + params[BIAS, k]
        if v > params[V_TH, k]:
            v = v - params[V_TH, k] if params[SUBTRACT, k] != 0.0 else params[V_RESET, k]
            state[REFRACTORY_LEFT, k] = params[REFRACTORY, k]
            out_ids[n_out] = gbase + k
            n_out += 1
        state[V, k] = v
    return n_out


TWO_CURRENT_STEP = Step("float", two_current_tables, two_current_update, np.float64, V,
                        input="exc_inh")


def _choose_float(neuron: Any) -> Optional[Step]:
    return TWO_CURRENT_STEP if separate_inh_tau(neuron) else None


def _features(neuron: LIF) -> dict[str, str]:
    """The optional features an instance turns on, each with the field that does."""
    used = {}
    if not _fixed(neuron.tau_syn) or np.any(np.asarray(neuron.tau_syn) > 0):
        used["synaptic_current"] = "tau_syn"
    if neuron.refractory > 0:
        used["refractory"] = "refractory"
    if neuron.reset == "subtract":
        used["reset_subtract"] = "reset"
    if _fixed(neuron.tau_mem) and np.any(np.isinf(np.asarray(neuron.tau_mem, dtype=np.float64))):
        used["no_leak"] = "tau_mem"
    if separate_inh_tau(neuron):
        used["separate_inh_tau"] = "tau_syn_inh"
    return used


def _fixed(value: Value) -> bool:
    """A scalar or an array (not a seeded distribution, whose draws are finite)."""
    return isinstance(value, (int, float, np.ndarray))


_ALL = ("synaptic_current", "refractory", "reset_subtract", "no_leak", "separate_inh_tau")


def _example(features: frozenset[str]) -> LIF:
    return LIF(tau_mem=float("inf") if "no_leak" in features else 10.0,
               tau_syn=4.0 if "synaptic_current" in features else 0.0, v_th=1.0,
               refractory=2 if "refractory" in features else 0,
               reset="subtract" if "reset_subtract" in features else "zero",
               tau_syn_inh=8.0 if "separate_inh_tau" in features else None)


def _loihi_check(population) -> None:
    """Float ``reset: subtract`` is ``v - v_th``; Loihi's is ``v' - theta`` in the shifted voltage
    ``v' = v - v_reset``: the two agree exactly when ``v_reset`` is 0."""
    from snnc.ir.errors import UnsupportedOnTarget

    neuron = population.neuron
    if neuron.reset == "subtract" and np.any(resolve(neuron.v_reset, population.size) != 0):
        name = population.name
        raise UnsupportedOnTarget(
            f"population '{name}' (lif) uses reset by subtracting the threshold with v_reset != 0, "
            "which loihi-sim cannot run: Loihi subtracts v_th - v_reset (set v_reset: 0)",
            where=f"populations.{name}.neuron.v_reset")


MODEL = NeuronModel(
    kind="lif",
    params=LIF,
    summary="current-based leaky integrate-and-fire, float64 (the hardware-neutral meaning)",
    steps={"float": Step("float", float_tables, float_update, np.float64, V,
                         choose=_choose_float)},
    quantizers={
        "loihi": Quantizer("loihi_lif", "snnc.compiler.passes.quantize.loihi:quantize_population",
                           keeps=frozenset(_ALL) - {"separate_inh_tau"}, check=_loihi_check,
                           refuses={"separate_inh_tau": "Loihi's CUBA neuron has one synaptic "
                                                        "current (one du) per neuron"}),
        "spinnaker": Quantizer("spinnaker_lif",
                               "snnc.compiler.passes.quantize.spinnaker:quantize_population",
                               keeps=frozenset(_ALL)),
    },
    features=_ALL,
    features_of=_features,
    example=_example,
)
