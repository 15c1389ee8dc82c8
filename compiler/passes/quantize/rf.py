r"""``rf_float`` -> ``rf`` and ``rf_iz_float`` -> ``rf_iz``: the resonators in Lava's fixed point.

The float resonator (``models/rf_float.py``) keeps its ``period`` and ``alpha``: Lava's ``RF``
derives its integer decays from those floats itself (``models/rf.py``); the quantizer chooses
``decay_bits = 12`` (the finest Lava declares) and ``state_exp = 6``, so that an integer weight
``w`` adds ``w * 2**weight_exp * 64`` state units, exactly as into ``loihi_lif``'s ``u``, and
the lif quantizer's weight rule (``loihi.py``) applies unchanged. With ``S`` integer state units
per float unit:

- a float weight ``x`` becomes ``w = round(x S / (64 * 2**weight_exp))`` (8-bit, Lava's
  truncation steps kept);
- ``vth = round(S vth_float) / 64``, so that Lava's ``trunc(vth * 64)`` is ``round(S
  vth_float)`` exactly.

``S`` is the largest (a power of two by default) that keeps every weight representable, the
threshold and the state inside 24 bits. The state's bound: with ``|re + i im|`` shrinking by
``1 - alpha`` per step, an input of at most ``X`` per step keeps it below ``X / alpha``; without
decay (``alpha = 0``) nothing bounds it, so the bound is 16 times the threshold or ``X`` and the
report warns that the state can saturate where the float one keeps growing.
"""

from __future__ import annotations

import numpy as np

from snnc.ir.errors import UnsupportedOnTarget
from snnc.models.lava_fixed_point import WEIGHT_EXP_MAX, sign_mode, weight_limits
from snnc.models.rf import RF, STATE_MAX, integer_decays
from snnc.models.rf_iz import RFIZ

from .common import (
    Incoming,
    PopulationResult,
    QuantizeOptions,
    fmt_range,
    input_extremes,
    per_neuron,
)
from .loihi import _quantize_projection
from .report import PopulationQuantization

STATE_EXP = 6  # integer weights then add w << weight_exp << 6, as into loihi_lif's u
DECAY_BITS = 12
UNDAMPED_HEADROOM = 16.0  # alpha = 0: the state bound is this many thresholds (or inputs)
DEFAULT_SCALE = 64.0

_INTEGER = {"rf_float": ("rf", RF), "rf_iz_float": ("rf_iz", RFIZ)}


def _state_bound(vth: float, x_peak: np.ndarray, alpha: np.ndarray) -> tuple[float, bool]:
    """(largest |state| in float units, whether some neuron has no decay to bound it)."""
    undamped = alpha <= 0
    damped = x_peak[~undamped] / alpha[~undamped]
    bound = max(vth, float(damped.max(initial=0.0)))
    if undamped.any():
        bound = max(bound, UNDAMPED_HEADROOM * max(vth, float(x_peak.max(initial=0.0))))
    return bound, bool(undamped.any())


def choose_scale(vth: float, bound: float, incoming: list[Incoming],
                 options: QuantizeOptions) -> float:
    """Integer state units per float unit: the largest that fits every field (module doc)."""
    if options.loihi_v_scale is not None:
        return float(options.loihi_v_scale)
    limits = [np.inf]
    if bound > 0:
        limits.append(STATE_MAX / bound)
    for item in incoming:
        w = item.synapses.weight
        if w.size == 0:
            continue
        _, lo, hi = weight_limits(sign_mode(w), options.weight_bits)
        top = 64.0 * 2**WEIGHT_EXP_MAX
        if w.max() > 0 and hi > 0:
            limits.append(top * hi / w.max())
        if w.min() < 0 and lo < 0:
            limits.append(top * -lo / -w.min())
    best = min(limits)
    if not np.isfinite(best):
        return DEFAULT_SCALE
    if options.power_of_two_scale:
        return float(2.0 ** np.floor(np.log2(best)))
    return float(best) * (1 - 1e-12)


def quantize_population(population, incoming: list[Incoming], network,
                        options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``rf_float`` / ``rf_iz_float`` population and the projections into it."""
    neuron, size, name = population.neuron, population.size, population.name
    kind, cls = _INTEGER[neuron.kind]
    period, alpha = per_neuron(neuron, "period", size), per_neuron(neuron, "alpha", size)
    vth = float(neuron.vth)
    x_pos, x_neg = input_extremes(incoming, size)
    bound, undamped = _state_bound(vth, np.maximum(x_pos, x_neg), alpha)
    scale = choose_scale(vth, bound, incoming, options)
    vth_units = float(np.rint(scale * vth))
    if vth_units > STATE_MAX:
        raise UnsupportedOnTarget(
            f"population '{name}' ({neuron.kind}): vth {vth:g} at voltage scale {scale:g} is "
            f"beyond Lava's 24-bit state, which loihi-sim cannot run (lower loihi_v_scale)",
            where=f"populations.{name}.neuron.vth")
    quantized = cls(period=neuron.period, alpha=neuron.alpha, vth=vth_units / 64.0,
                    state_exp=STATE_EXP, decay_bits=DECAY_BITS)
    projections, reports = {}, {}
    theta = np.full(size, vth)
    for item in incoming:
        projections[item.index], reports[item.index], _ = _quantize_projection(
            item, scale, theta, options)
    entry = _entry(population, kind, scale, vth, vth_units, period, alpha, x_pos)
    if undamped:
        entry = entry.model_copy(update={"overflow": [
            f"alpha 0 (no decay): the resonator's state can grow beyond {STATE_MAX / scale:.4g}, "
            "where Lava's re and im saturate (24 bits) and the float model keeps going"]})
    return PopulationResult(quantized, projections, entry, reports)


def _entry(population, kind: str, scale: float, vth: float, vth_units: float,
           period: np.ndarray, alpha: np.ndarray, x_pos: np.ndarray) -> PopulationQuantization:
    """Report entry: the threshold's and the decays' rounding (one decay factor per neuron:
    the largest error of ``c`` or ``s`` from the float ``(1 - alpha) cos/sin(2 pi / period)``)."""
    sin_q, cos_q = integer_decays(period, alpha, DECAY_BITS)
    sin_f = (1 - alpha) * np.sin(np.pi * 2 * 1 / period)
    cos_f = (1 - alpha) * np.cos(np.pi * 2 * 1 / period)
    decay_error = np.maximum(np.abs(sin_q / 2.0**DECAY_BITS - sin_f),
                             np.abs(cos_q / 2.0**DECAY_BITS - cos_f))
    threshold_error = abs(vth_units / scale - vth)
    return PopulationQuantization(
        name=population.name, size=population.size, kind=population.neuron.kind,
        quantized_kind=kind, scale=1.0 / scale, threshold=vth, threshold_error=threshold_error,
        threshold_error_frac=threshold_error / vth if vth > 0 else 0.0,
        mem_decay_error=float(decay_error.max(initial=0.0)),
        max_input=float(x_pos.max(initial=0.0)),
        parameters={"vth": f"{vth_units / 64.0:g}", "state_exp": str(STATE_EXP),
                    "decay_bits": str(DECAY_BITS), "period": fmt_range(period),
                    "alpha": fmt_range(alpha)})
