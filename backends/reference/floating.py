r"""Float numerics: the discrete CUBA LIF (``lif``) and its readout (``li``) in float64.

Per neuron and step, with ``x`` the summed weights arriving this step (``ir/neurons.py``):

.. math::

    i &= \alpha_s\, i + x \\
    v &= v_{leak} + \alpha_m (v - v_{leak}) + i + bias
        \qquad\text{(held at } v_{reset} \text{ during refractory steps)} \\
    s &= v > v_{th}, \qquad v \leftarrow v_{reset} \text{ (or } v - v_{th}\text{)}

with :math:`\alpha = e^{-dt/\tau}` (``integrator: exact``) or :math:`1 - dt/\tau` (``euler``), and
:math:`\alpha_s = 0` when ``tau_syn`` is 0. ``li`` is the same without threshold. The expressions are
evaluated left to right exactly as written, so any float64 implementation of the equations in that
order gives the same bits.
"""

from __future__ import annotations

import numpy as np
from snnc.jit import njit

from snnc.ir.neurons import LI, LIF
from snnc.ir.values import resolve

# Rows of the per-neuron parameter and state tables.
ALPHA_M, ALPHA_S, V_LEAK, BIAS, V_TH, V_RESET, SPIKING, SUBTRACT, REFRACTORY = range(9)
V, I, REFRACTORY_LEFT = range(3)


def decay_factor(tau: np.ndarray, dt: float, integrator: str) -> np.ndarray:
    """``exp(-dt/tau)`` or ``1 - dt/tau``; 0 where ``tau`` is 0 (no memory)."""
    tau = np.asarray(tau, dtype=np.float64)
    safe = np.where(tau > 0, tau, 1.0)
    alpha = np.exp(-dt / safe) if integrator == "exact" else 1.0 - dt / safe
    return np.where(tau > 0, alpha, 0.0)


def float_tables(neuron: LIF | LI, size: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[9, size], state float64[3, size]) of a ``lif`` or ``li`` population."""
    params = np.zeros((9, size), dtype=np.float64)
    params[ALPHA_M] = decay_factor(resolve(neuron.tau_mem, size), dt, neuron.integrator)
    params[ALPHA_S] = decay_factor(resolve(neuron.tau_syn, size), dt, neuron.integrator)
    params[V_LEAK] = resolve(neuron.v_leak, size)
    params[BIAS] = resolve(neuron.bias, size)
    if isinstance(neuron, LIF):
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
