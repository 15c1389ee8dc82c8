r"""NIR neuron nodes as IR neuron models, with the input gain that ``from_nir`` folds into weights.

With ``g(tau)`` the input gain of the integrator (``1 - exp(-dt/tau)`` exact, ``dt/tau`` euler):
``LIF`` gets ``r g(tau)``, ``CubaLIF`` ``r g(tau_mem) g(tau_syn) w_in`` (the IR current is
``r g(tau_mem) I``), ``IF`` and ``I`` ``r`` per step (no leak: ``tau_mem`` infinite, a decay of
exactly 1), and ``Threshold`` 1 (``v`` = this step's input). Thresholds, ``v_leak`` and ``v_reset`` keep NIR's
values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import LI, LIF  # snnc.ir.LIF, snnc.ir.LI wherever their module lives
from .errors import NetworkError

INTEGRATORS = ("exact", "euler")
RESETS = ("zero", "subtract")
CURRENTS = ("new", "previous")
NEURON_NODES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I", "Threshold")


@dataclass(frozen=True)
class Discretization:
    """The choices that turn NIR's continuous time into steps (``dt_s`` in seconds)."""

    dt_s: float
    integrator: Any = "exact"  # "exact" | "euler" (checked by the LIF/LI it makes)
    reset: Any = "zero"  # "zero" | "subtract"
    current: str = "new"

    def decay(self, tau_s: np.ndarray) -> np.ndarray:
        """Per-step decay factor: ``exp(-dt/tau)`` (exact) or ``1 - dt/tau`` (euler)."""
        ratio = self.dt_s / tau_s
        return np.exp(-ratio) if self.integrator == "exact" else 1.0 - ratio

    def gain(self, tau_s: np.ndarray) -> np.ndarray:
        """Gain of an input held over one step: ``1 - exp(-dt/tau)`` (exact) or ``dt/tau``."""
        ratio = self.dt_s / tau_s
        return -np.expm1(-ratio) if self.integrator == "exact" else ratio


def tau_ms(tau_s: Any) -> np.ndarray:
    """NIR seconds to IR milliseconds (the one conversion both import and export use)."""
    return np.asarray(tau_s, dtype=np.float64) * 1000.0


@dataclass
class Neuron:
    """An IR neuron model for a NIR node and the gain folded into the weights that reach it."""

    size: int
    make: Any  # () -> LIF | LI
    gain: np.ndarray
    through_current: bool  # inputs pass through a synaptic current (CubaLIF, CubaLI)


def compact(values: Any) -> Any:
    """A per-neuron array, or one float when every neuron has the same value."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size and np.all(array == array[0]):
        return float(array[0])
    return array


def _params(node: Any, names: tuple[str, ...], where: str) -> tuple[int, dict[str, np.ndarray]]:
    arrays = {n: np.asarray(getattr(node, n), dtype=np.float64) for n in names}
    size = max(int(a.size) for a in arrays.values())
    for name, array in arrays.items():
        if array.size not in (1, size):
            raise NetworkError(f"{name} has {array.size} values, expected {size}", where=where)
        if not np.all(np.isfinite(array)):
            raise NetworkError(f"{name} holds NaN or infinite values", where=where)
        arrays[name] = np.broadcast_to(array.ravel(), (size,)) if array.size == 1 else array.ravel()
    return size, arrays


def _taus(steps: Discretization, where: str, **taus: np.ndarray) -> None:
    for name, tau in taus.items():
        if np.any(tau <= 0):
            raise NetworkError(f"{name} must be > 0", where=where)
        if steps.integrator == "euler" and np.any(tau < steps.dt_s):
            raise NetworkError(f"{name} {tau.min():.9g} s < dt {steps.dt_s:.9g} s: forward Euler "
                               "would decay by a negative factor (use --integrator exact)",
                               where=where)


def neuron_model(node: Any, steps: Discretization, where: str) -> Neuron:
    """The IR model of a NIR neuron node (see the module docstring for the scaling)."""
    kind = type(node).__name__
    names = {"LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
             "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
             "IF": ("r", "v_threshold", "v_reset"), "LI": ("tau", "r", "v_leak"),
             "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"), "I": ("r",),
             "Threshold": ("threshold",)}[kind]
    size, p = _params(node, names, where)
    spiking: dict[str, Any] = {"reset": steps.reset, "integrator": steps.integrator}
    tau_mem: float | np.ndarray
    tau_syn: float | np.ndarray
    if kind in ("LIF", "LI"):
        _taus(steps, where, tau=p["tau"])
        tau_mem, tau_syn, gain = tau_ms(p["tau"]), 0.0, p["r"] * steps.gain(p["tau"])
    elif kind in ("CubaLIF", "CubaLI"):
        _taus(steps, where, tau_mem=p["tau_mem"], tau_syn=p["tau_syn"])
        tau_mem, tau_syn = tau_ms(p["tau_mem"]), tau_ms(p["tau_syn"])
        gain = p["r"] * steps.gain(p["tau_mem"]) * steps.gain(p["tau_syn"]) * p["w_in"]
    elif kind == "Threshold":  # v = input: euler with tau = dt decays by exactly 0
        tau_mem, tau_syn, gain = steps.dt_s * 1000.0, 0.0, np.ones(size)
        spiking = {"reset": "zero", "integrator": "euler"}
    else:  # IF, I: no leak; frameworks integrate v += r x per step (no dt)
        tau_mem, tau_syn, gain = np.inf, 0.0, p["r"].astype(np.float64)
    common = {"tau_mem": compact(tau_mem), "tau_syn": compact(tau_syn),
              "v_leak": compact(p.get("v_leak", 0.0))}
    if kind in ("LI", "CubaLI", "I"):
        def make() -> Any:
            return LI(**common, integrator=steps.integrator)
    else:
        threshold = p["threshold"] if kind == "Threshold" else p["v_threshold"]
        reset = p.get("v_reset", 0.0)

        def make() -> Any:
            return LIF(**common, v_th=compact(threshold), v_reset=compact(reset), **spiking)
    return Neuron(size, make, np.asarray(gain, dtype=np.float64),
                   through_current=kind in ("CubaLIF", "CubaLI"))
