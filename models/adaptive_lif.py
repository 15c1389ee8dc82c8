r"""The ``adaptive_lif`` model: ATRLIF's adaptive threshold and refractory state in float64, in ms.

The float meaning of Lava's ``ATRLIF`` (lava-nc/lava ``src/lava/proc/atrlif/process.py``, float
model ``PyATRLIFModelFloat`` in ``models.py``; after lava-dl's ALIF), with lif's units: time
constants in ms like the network's ``dt``, voltages, weights and bias in one arbitrary unit. Each
of Lava's decay constants is ``delta = 1 - alpha`` with ``alpha = exp(-dt / tau)`` (or ``1 -
dt/tau`` with ``integrator: euler``). loihi-sim runs it quantized to ``atrlif``
(``compiler/passes/quantize/adaptive_lif.py``), i.e. as Lava's own ATRLIF process;
spinnaker-emu runs it quantized to ``spinnaker_adaptive_lif``, the same equations in s16.15
(``compiler/passes/quantize/adaptive_lif_spinnaker.py``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import RangeChecked, Value, _Frozen, resolve

from .base import NeuronModel, Quantizer, Step
from .jit import njit
from .lif import decay_factor


class AdaptiveLIF(_Frozen):
    r"""Current-based LIF with an adaptive threshold and a decaying refractory state (ATRLIF).

    With :math:`\alpha_x = e^{-dt/\tau_x}` for ``x`` in ``syn, mem, theta, ref`` (0 when the
    time constant is 0, 1 when it is ``.inf``), :math:`\theta_0` = ``v_th`` and
    :math:`\theta_s` = ``theta_step``:

    .. math::

        i[t] &= \alpha_{syn}\, i[t-1] + x[t] \\
        v[t] &= \alpha_{mem}\, v[t-1] + i[t] + bias \\
        \theta[t] &= \alpha_{theta} (\theta[t-1] - \theta_0) + \theta_0 \\
        r[t] &= \alpha_{ref}\, r[t-1] \\
        s[t] &= v[t] - r[t] \ge \theta[t], \quad\text{then}\quad r[t] \leftarrow r[t] + 2\theta[t],
                \quad \theta[t] \leftarrow \theta[t] + \theta_s

    There is no voltage reset: a spike raises the refractory state ``r`` by twice the threshold
    (which then decays with ``tau_ref``) and the threshold by ``theta_step`` (which decays back
    to ``v_th`` with ``tau_theta``). Lava's ATRLIF writes the decays as ``(1 - delta)``: ``delta_i
    = 1 - alpha_syn``, ``delta_v = 1 - alpha_mem``, ``delta_theta = 1 - alpha_theta``, ``delta_r
    = 1 - alpha_ref``; ``theta_0`` is ``v_th``, ``bias_mant`` the bias. Initial state: ``i = 0``,
    ``v = v_init``, ``theta = v_th``, ``r = 0``. With ``integrator: euler`` the factors are
    ``1 - dt/tau`` (needs ``tau >= dt``).
    """

    kind: Literal["adaptive_lif"] = "adaptive_lif"
    tau_mem: RangeChecked(gt=0, posinf=True)  # type: ignore[valid-type]
    tau_syn: RangeChecked(ge=0) = 0.0  # type: ignore[valid-type]
    tau_theta: RangeChecked(ge=0, posinf=True) = 5.0  # type: ignore[valid-type]
    tau_ref: RangeChecked(ge=0, posinf=True) = 5.0  # type: ignore[valid-type]
    v_th: RangeChecked(ge=0) = 1.0  # type: ignore[valid-type]
    theta_step: Annotated[float, Field(ge=0)] = 0.5
    bias: Value = 0.0
    v_init: Value = 0.0
    integrator: Literal["exact", "euler"] = "exact"


# Rows of the per-neuron parameter and state tables.
ALPHA_SYN, ALPHA_MEM, ALPHA_THETA, ALPHA_REF, BIAS, THETA0, THETA_STEP = range(7)
I, V, THETA, R = range(4)  # noqa: E741 (I: the synaptic current, as in the equations)


def alphas(neuron: AdaptiveLIF, size: int, dt: float) -> dict[str, np.ndarray]:
    """The four decay factors per neuron (``tau`` 0: 0; ``tau`` infinite: 1)."""
    return {name: decay_factor(resolve(getattr(neuron, name), size), dt, neuron.integrator)
            for name in ("tau_syn", "tau_mem", "tau_theta", "tau_ref")}


def float_tables(neuron: AdaptiveLIF, size: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[7, size], state float64[4, size]) of an ``adaptive_lif`` population."""
    factor = alphas(neuron, size, dt)
    params = np.zeros((7, size), dtype=np.float64)
    params[ALPHA_SYN], params[ALPHA_MEM] = factor["tau_syn"], factor["tau_mem"]
    params[ALPHA_THETA], params[ALPHA_REF] = factor["tau_theta"], factor["tau_ref"]
    params[BIAS] = resolve(neuron.bias, size)
    params[THETA0] = resolve(neuron.v_th, size)
    params[THETA_STEP] = neuron.theta_step
    state = np.zeros((4, size), dtype=np.float64)
    state[V] = resolve(neuron.v_init, size)
    state[THETA] = params[THETA0]
    return params, state


@njit(cache=True, nogil=True)
def float_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``x``; append spikes' global ids.

    Evaluated left to right as the docstring of :class:`AdaptiveLIF` writes it."""
    for k in range(lo, hi):
        i = params[ALPHA_SYN, k] * state[I, k] + x[k]
        v = params[ALPHA_MEM, k] * state[V, k] + i + params[BIAS, k]
        theta0 = params[THETA0, k]
        theta = params[ALPHA_THETA, k] * (state[THETA, k] - theta0) + theta0
        r = params[ALPHA_REF, k] * state[R, k]
        if v - r >= theta:
            r = r + 2.0 * theta
            theta = theta + params[THETA_STEP, k]
            out_ids[n_out] = gbase + k
            n_out += 1
        state[I, k] = i
        state[V, k] = v
        state[THETA, k] = theta
        state[R, k] = r
    return n_out


def _fixed(value: Value) -> bool:
    """A scalar or an array (not a seeded distribution, whose draws are finite)."""
    return isinstance(value, (int, float, np.ndarray))


def _features(neuron: AdaptiveLIF) -> dict[str, str]:
    used = {}
    if not _fixed(neuron.tau_syn) or np.any(np.asarray(neuron.tau_syn) > 0):
        used["synaptic_current"] = "tau_syn"
    if _fixed(neuron.tau_mem) and np.any(np.isinf(np.asarray(neuron.tau_mem, dtype=np.float64))):
        used["no_leak"] = "tau_mem"
    return used


def _example(features: frozenset[str]) -> AdaptiveLIF:
    return AdaptiveLIF(tau_mem=float("inf") if "no_leak" in features else 10.0,
                       tau_syn=4.0 if "synaptic_current" in features else 0.0,
                       tau_theta=20.0, tau_ref=3.0, v_th=1.0, theta_step=0.3)


_KEPT = frozenset({"synaptic_current", "no_leak"})

MODEL = NeuronModel(
    kind="adaptive_lif",
    params=AdaptiveLIF,
    summary="LIF with ATRLIF's adaptive threshold and refractory state, float64",
    steps={"float": Step("float", float_tables, float_update, np.float64, V)},
    quantizers={
        "loihi": Quantizer(
            "atrlif", "snnc.compiler.passes.quantize.adaptive_lif:quantize_population",
            keeps=_KEPT),
        "spinnaker": Quantizer(
            "spinnaker_adaptive_lif",
            "snnc.compiler.passes.quantize.adaptive_lif_spinnaker:quantize_population",
            keeps=_KEPT),
    },
    features=("synaptic_current", "no_leak"),
    features_of=_features,
    example=_example,
)
