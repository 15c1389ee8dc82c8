r"""The ``izhikevich`` model: Izhikevich's (2003) simple spiking neuron in float64, forward Euler.

E. M. Izhikevich, "Simple model of spiking neurons", IEEE Trans. Neural Networks 14(6), 2003:
``v' = 0.04 v^2 + 5 v + 140 - u + I``, ``u' = a (b v - u)``, and after ``v >= 30`` (mV):
``v = c``, ``u = u + d``. snnc integrates it with one forward-Euler step of ``dt`` per step (the
order of the operations is fixed by :class:`Izhikevich`, so any float64 loop written in that order
gives the same bits). The synaptic current is ``lif``'s (``models/lif.py``). It quantizes to
``spinnaker_izhikevich`` (sPyNNaker's own s16.15 model and its RK2 scheme, which is not this
Euler step) and to ``loihi_izhikevich`` (snnc's fixed-point Euler step of these equations);
``compiler/passes/quantize/izhikevich.py``; docs/neuron-models/izhikevich.md.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

import numpy as np
from pydantic import model_validator

from snnc.ir.values import RangeChecked, Value, _Frozen, resolve

from .base import NeuronModel, Quantizer, Step
from .jit import njit
from .lif import decay_factor


class Izhikevich(_Frozen):
    r"""Izhikevich's simple model, one forward-Euler step of ``dt`` (ms) per step.

    With :math:`\alpha_s = e^{-dt/\tau_{syn}}` (0 when ``tau_syn`` is 0: the current is this
    step's input alone), per step:

    .. math::

        i[t] &= \alpha_s\, i[t-1] + x[t] \\
        v' &= v + dt\,\big(0.04\, v^2 + 5 v + 140 - u + i[t] + bias\big) \\
        u' &= u + dt\, a\, (b\, v - u) \qquad (\text{the old } v) \\
        &\text{if } v' \ge v_{peak}:\ \text{spike},\ v' \leftarrow c,\ u' \leftarrow u' + d

    evaluated in float64 exactly in this order: ``dv = 0.04 * (v * v)``, then ``+ 5 * v``,
    ``+ 140``, ``- u``, ``+ i``, ``+ bias`` (left to right), ``v' = v + dt * dv``;
    ``u' = u + (dt * a) * (b * v - u)``. Voltages in mV, time in ms, currents (``i``, ``bias``,
    weights) in the model's units of mV/ms. Initial state: ``v = v_init``, ``u = u_init``
    (default ``b * v_init``), ``i = 0``. Izhikevich's regular spiking cell is ``a = 0.02,
    b = 0.2, c = -65, d = 8``.
    """

    kind: Literal["izhikevich"] = "izhikevich"
    a: Value
    b: Value
    c: Value
    d: Value
    v_peak: Value = 30.0
    v_init: Value = -65.0
    u_init: Optional[Value] = None
    bias: Value = 0.0
    tau_syn: RangeChecked(ge=0) = 0.0  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _default_u_init(cls, data: Any) -> Any:
        """``u_init = b * v_init`` written out when both are numbers or arrays (so a saved
        network states it); with a distribution it stays ``None`` and the tables draw it."""
        if not isinstance(data, dict) or data.get("u_init") is not None or "b" not in data:
            return data
        fixed = (int, float, list, tuple, np.ndarray, np.number)
        b, v_init = data["b"], data.get("v_init", -65.0)
        if isinstance(b, fixed) and isinstance(v_init, fixed):
            product = np.asarray(b, dtype=np.float64) * np.asarray(v_init, dtype=np.float64)
            data = {**data, "u_init": float(product) if product.ndim == 0 else product}
        return data


# Rows of the per-neuron parameter and state tables.
DT, DT_A, B, C, D, V_PEAK, BIAS, ALPHA_S = range(8)
V, U, I = range(3)  # noqa: E741 (I: the synaptic current, as in the equations)


def initial_u(neuron: Any, size: int) -> np.ndarray:
    """``u_init`` per neuron; ``b * v_init`` when it is not given."""
    if neuron.u_init is not None:
        return np.asarray(resolve(neuron.u_init, size), dtype=np.float64)
    b = np.asarray(resolve(neuron.b, size), dtype=np.float64)
    return b * np.asarray(resolve(neuron.v_init, size), dtype=np.float64)


def float_tables(neuron: Izhikevich, size: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[8, size], state float64[3, size]); ``dt * a`` is formed here once, the
    same float64 product the equation's ``dt * a`` is."""
    params = np.zeros((8, size), dtype=np.float64)
    params[DT] = dt
    params[DT_A] = dt * np.asarray(resolve(neuron.a, size), dtype=np.float64)
    for row, name in ((B, "b"), (C, "c"), (D, "d"), (V_PEAK, "v_peak"), (BIAS, "bias")):
        params[row] = resolve(getattr(neuron, name), size)
    params[ALPHA_S] = decay_factor(resolve(neuron.tau_syn, size), dt, "exact")
    state = np.zeros((3, size), dtype=np.float64)
    state[V] = resolve(neuron.v_init, size)
    state[U] = initial_u(neuron, size)
    return params, state


@njit(cache=True, nogil=True)
def float_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one Euler step with input ``x``; append spikes' global ids."""
    for k in range(lo, hi):
        current = params[ALPHA_S, k] * state[I, k] + x[k]
        state[I, k] = current
        v = state[V, k]
        u = state[U, k]
        dv = 0.04 * (v * v) + 5.0 * v + 140.0 - u + current + params[BIAS, k]
        v_new = v + params[DT, k] * dv
        u_new = u + params[DT_A, k] * (params[B, k] * v - u)
        if v_new >= params[V_PEAK, k]:
            v_new = params[C, k]
            u_new = u_new + params[D, k]
            out_ids[n_out] = gbase + k
            n_out += 1
        state[V, k] = v_new
        state[U, k] = u_new
    return n_out


def _features(neuron: Izhikevich) -> dict[str, str]:
    tau = neuron.tau_syn
    if not isinstance(tau, (int, float, np.ndarray)) or np.any(np.asarray(tau) > 0):
        return {"synaptic_current": "tau_syn"}
    return {}


def _example(features: frozenset[str]) -> Izhikevich:
    """Regular spiking, driven to fire by its bias alone (the input adds to it)."""
    return Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0, bias=10.0,
                      tau_syn=4.0 if "synaptic_current" in features else 0.0)


_KEEPS = frozenset({"synaptic_current"})

MODEL = NeuronModel(
    kind="izhikevich",
    params=Izhikevich,
    summary="Izhikevich's simple model (a, b, c, d), float64, one forward-Euler step per dt",
    steps={"float": Step("float", float_tables, float_update, np.float64, V)},
    quantizers={
        "spinnaker": Quantizer("spinnaker_izhikevich",
                               "snnc.compiler.passes.quantize.izhikevich:quantize_spinnaker",
                               keeps=_KEEPS),
        "loihi": Quantizer("loihi_izhikevich",
                           "snnc.compiler.passes.quantize.izhikevich:quantize_loihi",
                           keeps=_KEEPS),
    },
    features=("synaptic_current",),
    features_of=_features,
    example=_example,
)
