r"""``adaptive_lif`` -> ``spinnaker_adaptive_lif``: ATRLIF's equations in s16.15 for SpiNNaker
(``models/spinnaker_adaptive_lif.py``).

Voltages keep the network's float units as s16.15 raw integers (value × 2^15, LSB 2^-15), as
for ``lif`` -> ``spinnaker_lif`` (``spinnaker.py``):

- each decay is ``rint(alpha 2^32)`` (u0.32; ``alpha`` 1, a ``tau`` of ``.inf``, is ``2^32``:
  exactly 1), for ``tau_mem``, ``tau_syn``, ``tau_theta`` and ``tau_ref``;
- ``theta_0 = rint(v_th 2^15)``, ``theta_step = rint(theta_step 2^15)``, ``bias``, ``v_init``
  likewise (the model compares ``v - r >= theta``, as the float one does: no LSB offset);
- the current enters ``v`` whole (no membrane gain, no ``init`` factor), so a float weight
  ``w`` is the ring-buffer current ``w`` itself: its 16-bit magnitude is ``rint(|w| 2^(15 - p))``
  on the receptor of its sign, with sPyNNaker's per-receptor shift ``p`` (``spinnaker.py``'s
  ring-buffer helpers: the same rule, rounding options and report).
"""

from __future__ import annotations

import numpy as np

from snnc.ir.errors import QuantizationError, UnsupportedOnTarget
from snnc.models.spinnaker_adaptive_lif import DECAY_ONE, SpinnakerAdaptiveLIF
from snnc.models.spinnaker_lif import INT32_MAX

from .adaptive_lif import _decays
from .common import (
    Incoming,
    PopulationResult,
    QuantizeOptions,
    ShiftedModel,
    compact,
    input_extremes,
    overflow_lines,
    per_neuron,
    population_entry,
    voltage_floor,
)
from .loihi import voltage_ceiling
from .spinnaker import ACCUM, _projection, _raw, _shifts, currents_of

_WRAPS = "SpiNNaker's s16.15 v wraps there"
S1615_RANGE = 2.0**31 / ACCUM  # |v| < 65536 float units


def _u032(alpha: np.ndarray) -> np.ndarray:
    """``rint(alpha 2^32)`` in [0, 2^32] (2^32 is the model's exact 1)."""
    return np.clip(np.rint(alpha * float(DECAY_ONE)), 0, DECAY_ONE).astype(np.int64)


def _ints(values: np.ndarray | int) -> str:
    """``fmt_range`` for u0.32 and s16.15 raw integers (every digit: ``:g`` would round them)."""
    array = np.asarray(values, dtype=np.int64)
    lo, hi = int(array.min()), int(array.max())
    return str(lo) if lo == hi else f"{lo}..{hi}"


def _refuse_graded(incoming: list[Incoming], name: str) -> None:
    graded = next((item for item in incoming if item.graded), None)
    if graded is not None:
        raise UnsupportedOnTarget(
            f"population '{name}' (adaptive_lif) gets graded input from "
            f"'{graded.projection.pre}', which spinnaker-emu cannot run: its quantization to "
            "spinnaker_adaptive_lif takes spikes only", where=f"populations.{name}.kind")


def _ceiling_lines(ceiling: np.ndarray, limit: float) -> list[str]:
    """The top of v's range (no reset: v rises as far as its input and bias drive it)."""
    bad = ceiling > limit
    if not bad.any():
        return []
    worst = float(ceiling.max())
    reach = ("rise without bound (no leak, excitatory input)" if np.isinf(worst)
             else f"rise to {worst:.4g}")
    return [f"{int(bad.sum())} neurons' voltage can {reach}, beyond the fixed-point range "
            f"({limit:.4g}): {_WRAPS}, where the float model keeps going"]


def _theta_step(value: float, where: str) -> int:
    raw = round(value * ACCUM)
    if raw > INT32_MAX:
        raise QuantizationError("theta_step outside the s16.15 range (< 65536)",
                                where=f"{where}.theta_step")
    return raw


def quantize_population(population, incoming: list[Incoming], network,
                        options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``adaptive_lif`` population and the projections into it (module docstring)."""
    name, size, neuron = population.name, population.size, population.neuron
    where = f"populations.{name}.neuron"
    _refuse_graded(incoming, name)
    factor = _decays(population, network.dt)
    decay = {tau: _u032(alpha) for tau, alpha in factor.items()}
    ones = np.ones(size)
    gains = (ones, ones)  # float volts per ring-buffer unit of current: 1 (i enters v whole)
    currents = {item.index: currents_of(item.synapses.weight, item.synapses.post, gains)
                for item in incoming}
    shifts = _shifts(incoming, currents, gains, network.populations, size, network.dt, options,
                     f"populations.{name}")
    v_th = per_neuron(neuron, "v_th", size)
    projections, reports, dequantized = {}, {}, {}
    for item in incoming:
        projections[item.index], reports[item.index], dequantized[item.index] = _projection(
            item, currents[item.index], gains, shifts, v_th, options)
    raw = {field: _raw(per_neuron(neuron, source, size), source, where)
           for field, source in (("theta_0", "v_th"), ("bias", "bias"), ("v_init", "v_init"))}
    theta_step = _theta_step(neuron.theta_step, where)
    quantized = SpinnakerAdaptiveLIF(
        theta_0=compact(raw["theta_0"]), theta_step=theta_step, bias=compact(raw["bias"]),
        v_init=compact(raw["v_init"]), decay_mem=compact(decay["tau_mem"]),
        decay_syn=compact(decay["tau_syn"]), decay_theta=compact(decay["tau_theta"]),
        decay_ref=compact(decay["tau_ref"]), weight_shift_exc=shifts["exc"],
        weight_shift_inh=shifts["inh"])
    f = ShiftedModel(theta=v_th, drive=per_neuron(neuron, "bias", size),
                     v0=per_neuron(neuron, "v_init", size), alpha_m=factor["tau_mem"],
                     alpha_s=factor["tau_syn"])
    q = ShiftedModel(theta=raw["theta_0"] / ACCUM, drive=raw["bias"] / ACCUM,
                     v0=raw["v_init"] / ACCUM, alpha_m=decay["tau_mem"] / float(DECAY_ONE),
                     alpha_s=decay["tau_syn"] / float(DECAY_ONE))
    x_pos, x_neg = input_extremes(incoming, size)
    x_pos_q, _ = input_extremes(incoming, size, dequantized)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        entry = population_entry(population, "spinnaker_adaptive_lif", f, q, x_pos, x_pos_q,
                                 1.0 / ACCUM, {
                                     "decay_mem": _ints(decay["tau_mem"]),
                                     "decay_syn": _ints(decay["tau_syn"]),
                                     "decay_theta": _ints(decay["tau_theta"]),
                                     "decay_ref": _ints(decay["tau_ref"]),
                                     "theta_0": _ints(raw["theta_0"]),
                                     "theta_step": str(theta_step),
                                     "shift": f"exc {shifts['exc']}, inh {shifts['inh']}"})
        floor, ceiling = voltage_floor(f, x_neg), voltage_ceiling(f, x_pos)
    lines = (overflow_lines(floor, S1615_RANGE, _WRAPS)
             + _ceiling_lines(ceiling, S1615_RANGE))
    entry = entry.model_copy(update={"kind": "adaptive_lif", "overflow": lines})
    return PopulationResult(quantized, projections, entry, reports)

