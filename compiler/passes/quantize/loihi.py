r"""``lif`` -> ``loihi_lif``: Lava's fixed-point CUBA LIF (``models/loihi_lif.py``,
``models/lava_fixed_point.py``).

Shift voltages so that reset is 0 (:math:`v' = v - v_{reset}`); the float model becomes

.. math::

    v'[t] = \alpha_m v'[t-1] + i[t] + b, \qquad b = bias + (1 - \alpha_m)(v_{leak} - v_{reset}),

threshold :math:`\theta = v_{th} - v_{reset}`, reset to 0, initial :math:`v_{init} - v_{reset}`.
Loihi holds ``u`` and ``v`` in one integer voltage unit per population: ``S`` units per float unit.

- ``dv = round(4096 (1 - alpha_m))``; ``du = round(4096 (1 - alpha_s)) - 1`` (Lava decays ``u`` by
  ``du + 1``), both clamped to 0..4095; ``tau_syn = 0`` gives ``du = 4095`` (a delta synapse).
- An integer weight ``w`` adds ``w * 2**weight_exp * 64`` voltage units (``a << weight_exp``, then
  ``<< 6``), so a float weight ``x`` becomes ``w = round(x S / (64 * 2**weight_exp))``.
- ``vth = round(S theta / 64)`` (Lava compares with ``vth << 6``);
  ``bias_mant << bias_exp = round(S b)`` (bias is NOT shifted by 6);
  ``v_init = round(S (v_init - v_reset))``.

``S`` is the finest scale (a power of two by default) that keeps the threshold (17 bit), the bias
(13-bit mantissa, exponent <= 7), every weight (8-bit, ``weight_exp`` <= 7) representable and keeps
``u`` and ``v`` inside 24 bits even when every input of a neuron arrives in the same step. Weights
are multiples of Lava's truncation step ``2**k`` (``k = 8 - num_weight_bits``, one more for a
mixed-sign projection), so Lava's sign-mode truncation leaves them unchanged.
"""

from __future__ import annotations

import numpy as np

from snnc.ir.errors import UnsupportedOnTarget
from snnc.models.lava_fixed_point import (
    BIAS_EXP_MAX as LOIHI_BIAS_EXP_MAX,
    BIAS_MANT_MAX as LOIHI_BIAS_MANT_MAX,
    BIAS_MANT_MIN as LOIHI_BIAS_MANT_MIN,
    DECAY_MAX as LOIHI_DECAY_MAX,
    STATE_MAX as LOIHI_STATE_MAX,
    VTH_MAX as LOIHI_VTH_MAX,
    WEIGHT_EXP_MAX,
    sign_mode,
    weight_limits,
)
from snnc.models.loihi_lif import LoihiLIF

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
    round_weights,
    shifted_model,
    voltage_floor,
    with_weights,
)
from .report import weight_entry

DEFAULT_SCALE = 64.0  # when nothing bounds the scale: one float unit = one integer weight unit


def _weight_exp(max_pos: float, max_neg: float, scale: float, lo: int, hi: int) -> int:
    """Smallest shift 0..7 that fits the projection's largest weights at voltage scale ``scale``."""
    for exp in range(WEIGHT_EXP_MAX + 1):
        unit = 64.0 * 2**exp / scale
        if max_pos / unit <= hi and max_neg / unit <= -lo:
            return exp
    return WEIGHT_EXP_MAX


# ---- the voltage scale ---------------------------------------------------------------------------
def choose_scale(theta: np.ndarray, bias: np.ndarray, v0: np.ndarray, peak_u: np.ndarray,
                 incoming: list[Incoming], options: QuantizeOptions) -> float:
    """Integer voltage units per float unit: the largest that fits every field (see module doc)."""
    if options.loihi_v_scale is not None:
        return float(options.loihi_v_scale)
    with np.errstate(over="ignore", divide="ignore"):
        return _largest_scale(theta, bias, v0, peak_u, incoming, options)


def _largest_scale(theta, bias, v0, peak_u, incoming, options) -> float:
    bounds = [np.inf]
    if theta.max() > 0:
        bounds.append(LOIHI_VTH_MAX * 64.0 / theta.max())
    if np.abs(bias).max() > 0:
        bounds.append(LOIHI_BIAS_MANT_MAX * 2.0**LOIHI_BIAS_EXP_MAX / np.abs(bias).max())
    state = np.maximum(theta, np.abs(v0)) + peak_u + np.abs(bias)
    if state.max() > 0:
        bounds.append(LOIHI_STATE_MAX / state.max())
    for item in incoming:
        w = item.synapses.weight
        if w.size == 0:
            continue
        _, lo, hi = weight_limits(sign_mode(w), options.weight_bits)
        if w.max() > 0 and hi > 0:
            bounds.append(64.0 * 2**WEIGHT_EXP_MAX * hi / w.max())
        if w.min() < 0 and lo < 0:
            bounds.append(64.0 * 2**WEIGHT_EXP_MAX * -lo / -w.min())
    best = min(bounds)
    if not np.isfinite(best):
        return DEFAULT_SCALE
    if options.power_of_two_scale:
        return float(2.0 ** np.floor(np.log2(best)))
    return float(best) * (1 - 1e-12)  # stay below the bound whatever the float rounding


def _bias_parts(bias_units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mant, exp)`` per neuron, ``mant << exp`` nearest to ``bias_units``, smallest exp first."""
    exp = np.full(bias_units.shape, LOIHI_BIAS_EXP_MAX, dtype=np.int64)
    for trial in range(LOIHI_BIAS_EXP_MAX, -1, -1):
        mant = np.rint(bias_units / 2.0**trial)
        fits = (mant >= LOIHI_BIAS_MANT_MIN) & (mant <= LOIHI_BIAS_MANT_MAX)
        exp = np.where(fits, trial, exp)
    mant = np.clip(np.rint(bias_units / 2.0**exp), LOIHI_BIAS_MANT_MIN, LOIHI_BIAS_MANT_MAX)
    return mant.astype(np.int64), exp


# ---- one population ------------------------------------------------------------------------------
def _check_subtract(name: str, neuron, v_reset: np.ndarray) -> None:
    """Float ``reset: subtract`` is ``v - v_th``; Loihi's is ``v' - theta`` in the shifted voltage
    ``v' = v - v_reset``: the two agree exactly when ``v_reset`` is 0."""
    if neuron.reset == "subtract" and np.any(v_reset != 0):
        raise UnsupportedOnTarget(
            f"population '{name}' (lif) uses reset by subtracting the threshold with v_reset != 0, "
            "which loihi-sim cannot run: Loihi subtracts v_th - v_reset (set v_reset: 0)",
            where=f"populations.{name}.neuron.v_reset")


def quantize_population(population, incoming: list[Incoming], network,
                        options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``lif`` population and the projections into it for Loihi."""
    f = shifted_model(population, network.dt)
    _check_subtract(population.name, population.neuron,
                    per_neuron(population.neuron, "v_reset", population.size))
    if f.theta.min() < 0:
        raise UnsupportedOnTarget(f"'{population.name}': v_th below v_reset cannot be expressed "
                                  "(Loihi's threshold is unsigned)",
                                  where=f"populations.{population.name}.neuron.v_th")
    du = np.clip(np.rint(4096 * (1 - f.alpha_s)) - 1, 0, LOIHI_DECAY_MAX).astype(np.int64)
    dv = np.clip(np.rint(4096 * (1 - f.alpha_m)), 0, LOIHI_DECAY_MAX).astype(np.int64)
    alpha_s_q = (4096 - (du + 1)) / 4096.0  # Lava decays u by du + 1
    x_pos, x_neg = input_extremes(incoming, population.size)
    peak_u = np.maximum(x_pos, x_neg) / (1 - alpha_s_q)  # u's fixed point under the largest input
    scale = choose_scale(f.theta, f.drive, f.v0, peak_u, incoming, options)
    projections, reports, dequantized = {}, {}, {}
    for item in incoming:
        projections[item.index], reports[item.index], dequantized[item.index] = (
            _quantize_projection(item, scale, f.theta, options))
    vth = np.clip(np.rint(scale * f.theta / 64.0), 0, LOIHI_VTH_MAX).astype(np.int64)
    bias_mant, bias_exp = _bias_parts(scale * f.drive)
    v_init = np.clip(np.rint(scale * f.v0), -LOIHI_STATE_MAX, LOIHI_STATE_MAX).astype(np.int64)
    neuron = LoihiLIF(du=compact(du), dv=compact(dv), vth=compact(vth),
                      bias_mant=compact(bias_mant), bias_exp=compact(bias_exp),
                      v_init=compact(v_init), u_init=0, refractory=population.neuron.refractory,
                      reset=population.neuron.reset)
    quantized = ShiftedModel(theta=vth * 64.0 / scale, drive=bias_mant * 2.0**bias_exp / scale,
                         v0=v_init / scale, alpha_m=(4096 - dv) / 4096.0, alpha_s=alpha_s_q)
    x_pos_q, _ = input_extremes(incoming, population.size, dequantized)
    entry = population_entry(population, "loihi_lif", f, quantized, x_pos, x_pos_q, 1.0 / scale, {
        "du": fmt_range(du), "dv": fmt_range(dv), "vth": fmt_range(vth),
        "bias": f"{fmt_range(bias_mant)}<<{fmt_range(bias_exp)}"})
    # v saturates at -(2^23 - 1) on Loihi (u wraps, but its peak bounds the scale already)
    entry = entry.model_copy(update={"overflow": overflow_lines(
        voltage_floor(f, x_neg), LOIHI_STATE_MAX / scale, "Loihi's v saturates there")})
    return PopulationResult(neuron, projections, entry, reports)


def _quantize_projection(item: Incoming, scale: float, theta: np.ndarray,
                         options: QuantizeOptions):
    """Integer weights, weight_exp and num_weight_bits for one projection; its report entry."""
    w = item.synapses.weight
    mode = sign_mode(w)
    k, lo, hi = weight_limits(mode, options.weight_bits)
    max_pos = float(w.max()) if w.size and w.max() > 0 else 0.0
    rule = item.projection.plasticity  # a plastic weight may grow to w_max: weight_exp fits it
    if rule is not None and getattr(rule, "w_max", None) is not None and w.size:
        max_pos = max(max_pos, float(rule.w_max))
    max_neg = float(-w.min()) if w.size and w.min() < 0 else 0.0
    exp = _weight_exp(max_pos, max_neg, scale, lo, hi)
    unit = 64.0 * 2**exp / scale  # float value of integer weight 1
    quantized = round_weights(w / (unit * 2**k), options, stream=item.index)
    quantized *= 2**k  # the integer weight before clipping (in place: one int64 per synapse)
    clipped = (quantized < lo) | (quantized > hi)
    np.clip(quantized, lo, hi, out=quantized)
    dequantized = quantized * unit
    projection = with_weights(item, quantized.astype(np.int16), weight_exp=exp,
                              num_weight_bits=options.weight_bits)
    base = dict(name=item.projection.name, pre=item.projection.pre, post=item.projection.post,
                scale=unit, step=unit * 2**k, weight_exp=exp,
                num_weight_bits=options.weight_bits, sign_mode=mode.label)
    report = weight_entry(base, w, quantized, dequantized, clipped, theta[item.synapses.post])
    return projection, report, dequantized



# ---- graded (non-spiking) populations: li -> loihi_li -----------------------------------------
# Per downstream neuron, sum |w| * |m| over its synapses from one graded population, with |w| <=
# 255, is kept <= 2^23 / 64: after weight_exp <= 7 and the << 6 that is <= 2^30, so with |u| <=
# 2^23 no int32 sum of Lava's Sparse/DelaySparse or LIF (nor the reference's) ever wraps, and the
# downstream quantizer's weights can use their 8 bits (its u keeps S x <= 2^23, a << 6 alike).
_GRADED_PRODUCT_MAX = (LOIHI_STATE_MAX >> 6) // 255


def li_shifted_model(population, dt: float) -> ShiftedModel:
    """A ``li`` population in the lif quantizer's form: reset 0, no threshold (theta 0)."""
    from .common import decay_factors

    neuron, size = population.neuron, population.size
    alpha_m, alpha_s = decay_factors(neuron, size, dt, f"populations.{population.name}.neuron")
    drive = per_neuron(neuron, "bias", size) + (1 - alpha_m) * per_neuron(neuron, "v_leak", size)
    return ShiftedModel(np.zeros(size), drive, per_neuron(neuron, "v_init", size), alpha_m, alpha_s)


def voltage_ceiling(f: ShiftedModel, x_pos: np.ndarray) -> np.ndarray:
    """The highest voltage each neuron can reach (float units): ``voltage_floor`` mirrored."""
    mirrored = ShiftedModel(-f.theta, -f.drive, -f.v0, f.alpha_m, f.alpha_s)
    return -voltage_floor(mirrored, x_pos)


def _fan_in(network, name: str) -> int:
    """The largest number of synapses from population ``name`` into one neuron."""
    from snnc.ir import expand

    counts: dict[str, np.ndarray] = {}
    for projection in network.projections:
        if projection.pre != name:
            continue
        post = projection.post
        size = network.populations[post].size
        syn = expand(network, projection)
        counts[post] = counts.get(post, np.zeros(size, np.int64)) + np.bincount(
            syn.post, minlength=size)
    return int(max((c.max(initial=0) for c in counts.values()), default=0))


def _payload_shift(v_lo: int, v_hi: int, fan_in: int) -> tuple[int, int]:
    """Smallest shift whose largest |v >> shift| times ``fan_in`` is <= _GRADED_PRODUCT_MAX."""
    for shift in range(24):
        peak = max(abs(v_lo >> shift), abs(v_hi >> shift))
        if peak * max(fan_in, 1) <= _GRADED_PRODUCT_MAX:
            return shift, peak
    return 23, 1


def quantize_li_population(population, incoming: list[Incoming], network,
                           options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``li`` population (and the projections into it) to ``loihi_li``.

    The lif machinery with reset 0 and no threshold: the voltage scale is the largest that fits
    the weights, the bias, u's peak and v's reachable range (``voltage_floor`` and
    ``voltage_ceiling``: v saturates at +-(2^23 - 1) beyond it); ``payload_shift`` is the
    smallest that keeps downstream sums exact (``_GRADED_PRODUCT_MAX``). The message is ``v >>
    payload_shift``: one message unit is ``2**payload_shift / scale`` float units.
    """
    from snnc.models.loihi_li import LoihiLI

    f = li_shifted_model(population, network.dt)
    du = np.clip(np.rint(4096 * (1 - f.alpha_s)) - 1, 0, LOIHI_DECAY_MAX).astype(np.int64)
    dv = np.clip(np.rint(4096 * (1 - f.alpha_m)), 0, LOIHI_DECAY_MAX).astype(np.int64)
    alpha_s_q = (4096 - (du + 1)) / 4096.0
    x_pos, x_neg = input_extremes(incoming, population.size)
    peak_u = np.maximum(x_pos, x_neg) / (1 - alpha_s_q)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        floor, ceiling = voltage_floor(f, x_neg), voltage_ceiling(f, x_pos)
    reach = np.maximum(-floor, ceiling)
    reach = np.where(np.isfinite(reach), reach, np.abs(f.v0))  # no leak: no bound to fit
    scale = choose_scale(np.zeros(population.size), f.drive, reach, peak_u, incoming, options)
    projections, reports, dequantized = {}, {}, {}
    for item in incoming:
        projections[item.index], reports[item.index], dequantized[item.index] = (
            _quantize_projection(item, scale, f.theta, options))
    bias_mant, bias_exp = _bias_parts(scale * f.drive)
    v_init = np.clip(np.rint(scale * f.v0), -LOIHI_STATE_MAX, LOIHI_STATE_MAX).astype(np.int64)
    # v's integer range: the float range at this scale, 1% and 64 units of margin for rounding
    with np.errstate(over="ignore", invalid="ignore"):
        v_lo = float(np.nan_to_num(floor.min(initial=0.0) * scale * 1.01 - 64,
                                   neginf=-LOIHI_STATE_MAX))
        v_hi = float(np.nan_to_num(ceiling.max(initial=0.0) * scale * 1.01 + 64,
                                   posinf=LOIHI_STATE_MAX))
    v_lo = int(max(np.floor(v_lo), -LOIHI_STATE_MAX))
    v_hi = int(min(np.ceil(v_hi), LOIHI_STATE_MAX))
    shift, peak = _payload_shift(v_lo, v_hi, _fan_in(network, population.name))
    neuron = LoihiLI(du=compact(du), dv=compact(dv), bias_mant=compact(bias_mant),
                     bias_exp=compact(bias_exp), v_init=compact(v_init), u_init=0,
                     payload_shift=shift)
    quantized = ShiftedModel(theta=f.theta, drive=bias_mant * 2.0**bias_exp / scale,
                             v0=v_init / scale, alpha_m=(4096 - dv) / 4096.0, alpha_s=alpha_s_q)
    x_pos_q, _ = input_extremes(incoming, population.size, dequantized)
    entry = population_entry(population, "loihi_li", f, quantized, x_pos, x_pos_q, 1.0 / scale, {
        "du": fmt_range(du), "dv": fmt_range(dv),
        "bias": f"{fmt_range(bias_mant)}<<{fmt_range(bias_exp)}",
        "payload_shift": str(shift), "message_peak": str(peak)})
    limit = LOIHI_STATE_MAX / scale
    lines = overflow_lines(floor, limit, "Loihi's v saturates there")
    lines += [line.replace("fall", "rise").replace(f"(-{limit:.4g})", f"({limit:.4g})")
              for line in overflow_lines(-ceiling, limit, "Loihi's v saturates there")]
    # no threshold: nothing is unreachable (theta 0 makes every undriven neuron look so)
    entry = entry.model_copy(update={"overflow": lines, "kind": "li", "unreachable": 0,
                                     "unreachable_float": 0})
    return PopulationResult(neuron, projections, entry, reports,
                            message=(2.0**shift / scale, float(peak)))
