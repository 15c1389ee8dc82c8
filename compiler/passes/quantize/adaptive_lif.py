"""``adaptive_lif`` -> ``atrlif``: an adaptive-threshold LIF population for Loihi (Lava's ATRLIF).

The integer voltage unit is ``1 / scale`` float units, as for lif (``loihi.py``): ``v``, ``i``,
``r`` and the threshold ``theta`` all share it (``i`` enters ``v`` unscaled, a spike adds ``2
theta`` to ``r``). The scale is lif's (the largest that fits the threshold, bias, initial voltage,
the current's peak and every weight; a power of two by default), further bounded so that
``theta_0`` and ``theta_step`` fit Lava's 12-bit declaration (``64 * 4095`` units). Then:

- ``delta_i = d_i / 4096`` with ``d_i = rint(4096 (1 - alpha_syn)) - 1`` (Lava decays ``i`` by
  ``4095 - d_i``, lif's ``du``), ``delta_x = d_x / 4096`` with ``d_x = rint(4096 (1 - alpha_x))``
  for ``v``, ``theta`` and ``r``: every decay is an exact 12-bit integer factor on Lava;
- ``theta_0 = rint(scale v_th) / 64``, ``theta_step = rint(scale theta_step) / 64`` (Lava's
  ``int32(64 theta)`` gives back the integer exactly);
- bias as lif's (13-bit mantissa, exponent <= 7); ``v_init = rint(scale v_init)``; ``i``, ``r``
  start at 0 and ``theta`` at ``theta_0`` (as Lava's fixed-point model starts it);
- weights, ``weight_exp`` and ``num_weight_bits`` by lif's projection quantizer.
"""

from __future__ import annotations

import numpy as np

from snnc.ir.errors import QuantizationError
from snnc.ir.values import freeze
from snnc.models.adaptive_lif import alphas
from snnc.models.atrlif import ATRLIF, THETA_PARAM_MAX, THETA_UNITY
from snnc.models.lava_fixed_point import DECAY_MAX, DECAY_UNITY, STATE_MAX

from .common import (
    Incoming,
    PopulationResult,
    QuantizeOptions,
    ShiftedModel,
    compact,
    fmt_range,
    input_extremes,
    overflow_lines,
    per_neuron,
    population_entry,
    voltage_floor,
)
from .loihi import _bias_parts, _quantize_projection, choose_scale, voltage_ceiling

THETA_UNITS_MAX = THETA_PARAM_MAX * THETA_UNITY  # the largest integer theta_0 / theta_step


def _decays(population, dt: float) -> dict[str, np.ndarray]:
    """The float factors per neuron; euler needs every tau >= dt (as lif's)."""
    factors = alphas(population.neuron, population.size, dt)
    if any(np.any(a < 0) for a in factors.values()):
        raise QuantizationError(f"euler integration needs tau >= dt ({dt:g} ms)",
                                where=f"populations.{population.name}.neuron.integrator")
    return factors


def _floats(values: np.ndarray) -> float | np.ndarray:
    """A float parameter of ATRLIF: a scalar when all neurons agree, else a read-only array."""
    values = np.asarray(values, np.float64)
    if values.size and np.all(values == values[0]):
        return float(values[0])
    return freeze(values)


def _fraction(d: np.ndarray) -> float | np.ndarray:
    """``d / 4096`` as Lava's ``delta`` (exact: a power-of-two division)."""
    return _floats(np.asarray(d, np.float64) / DECAY_UNITY)


def _theta_scale(scale: float, v_th: np.ndarray, step: float, options: QuantizeOptions) -> float:
    """lif's scale, lowered (to a power of two, if asked) until theta_0 and theta_step fit."""
    largest = max(float(v_th.max(initial=0.0)), step)
    if options.loihi_v_scale is not None or largest <= 0:
        return scale
    limit = THETA_UNITS_MAX / largest
    if scale <= limit:
        return scale
    return float(2.0 ** np.floor(np.log2(limit))) if options.power_of_two_scale else limit


def _ceiling_lines(ceiling: np.ndarray, limit: float) -> list[str]:
    """``overflow_lines`` for the top of the range (v has no reset: it rises as far as its
    input and bias drive it)."""
    bad = ceiling > limit
    if not bad.any():
        return []
    worst = float(ceiling.max())
    reach = ("rise without bound (no leak, excitatory input)" if np.isinf(worst)
             else f"rise to {worst:.4g}")
    return [f"{int(bad.sum())} neurons' voltage can {reach}, beyond the fixed-point range "
            f"({limit:.4g}): Loihi's v saturates there, where the float model keeps going"]


def quantize_population(population, incoming: list[Incoming], network,
                        options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``adaptive_lif`` population and the projections into it (module docstring)."""
    neuron, size = population.neuron, population.size
    factor = _decays(population, network.dt)
    d_i = np.clip(np.rint(DECAY_UNITY * (1 - factor["tau_syn"])) - 1, 0, DECAY_MAX)
    d = {name: np.clip(np.rint(DECAY_UNITY * (1 - factor[name])), 0, DECAY_UNITY)
         for name in ("tau_mem", "tau_theta", "tau_ref")}
    f = ShiftedModel(theta=per_neuron(neuron, "v_th", size), drive=per_neuron(neuron, "bias", size),
                     v0=per_neuron(neuron, "v_init", size), alpha_m=factor["tau_mem"],
                     alpha_s=factor["tau_syn"])
    alpha_s_q = (DECAY_MAX - d_i) / DECAY_UNITY  # Lava's i factor: 4096 - (d_i + 1)
    x_pos, x_neg = input_extremes(incoming, size)
    peak_i = np.maximum(x_pos, x_neg) / (1 - alpha_s_q)  # i's fixed point under the largest input
    scale = choose_scale(f.theta, f.drive, f.v0, peak_i, incoming, options)
    scale = _theta_scale(scale, f.theta, neuron.theta_step, options)
    projections, reports, dequantized = {}, {}, {}
    for item in incoming:
        projections[item.index], reports[item.index], dequantized[item.index] = (
            _quantize_projection(item, scale, f.theta, options))
    theta_0 = np.clip(np.rint(scale * f.theta), 0, THETA_UNITS_MAX)
    theta_step = float(np.clip(np.rint(scale * neuron.theta_step), 0, THETA_UNITS_MAX))
    bias_mant, bias_exp = _bias_parts(scale * f.drive)
    v_init = np.clip(np.rint(scale * f.v0), -STATE_MAX, STATE_MAX).astype(np.int64)
    quantized_neuron = ATRLIF(
        delta_i=_fraction(d_i), delta_v=_fraction(d["tau_mem"]),
        delta_theta=_fraction(d["tau_theta"]), delta_r=_fraction(d["tau_ref"]),
        theta_0=_floats(theta_0 / THETA_UNITY),  # Lava's int32(64 theta_0) is the integer again
        theta_step=theta_step / THETA_UNITY, bias_mant=compact(bias_mant),
        bias_exp=compact(bias_exp), v_init=compact(v_init))
    q = ShiftedModel(theta=theta_0 / scale, drive=bias_mant * 2.0**bias_exp / scale,
                     v0=v_init / scale, alpha_m=(DECAY_UNITY - d["tau_mem"]) / DECAY_UNITY,
                     alpha_s=alpha_s_q)
    x_pos_q, _ = input_extremes(incoming, size, dequantized)
    entry = population_entry(population, "atrlif", f, q, x_pos, x_pos_q, 1.0 / scale, {
        "delta_i": f"{fmt_range(d_i)}/4096", "delta_v": f"{fmt_range(d['tau_mem'])}/4096",
        "delta_theta": f"{fmt_range(d['tau_theta'])}/4096",
        "delta_r": f"{fmt_range(d['tau_ref'])}/4096", "theta_0": f"{fmt_range(theta_0)}/64",
        "theta_step": f"{theta_step:g}/64", "bias": f"{fmt_range(bias_mant)}<<{fmt_range(bias_exp)}"})
    # no reset: v follows its input up as well as down, and Loihi saturates it at +-(2^23 - 1)
    limit = STATE_MAX / scale
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        floor, ceiling = voltage_floor(f, x_neg), voltage_ceiling(f, x_pos)
    lines = overflow_lines(floor, limit, "Loihi's v saturates there")
    lines += _ceiling_lines(ceiling, limit)
    entry = entry.model_copy(update={"kind": "adaptive_lif", "overflow": lines})
    return PopulationResult(quantized_neuron, projections, entry, reports)
