r"""``lif`` -> ``spinnaker_lif``: sPyNNaker's ``IF_curr_exp`` in s16.15 (``models/spinnaker_lif.py``).

Voltages keep the network's float units, held as s16.15 raw integers (value x 2**15, LSB 2**-15).
sPyNNaker's update is :math:`V \leftarrow e V + (1 - e)(R I + V_{rest})` with
:math:`e` = ``exp_tc``, so a current :math:`I` moves V by :math:`g I` per step, with the gain
:math:`g = (1 - e) R`. Matching the float model
:math:`v = \alpha_m v + (1-\alpha_m) v_{leak} + i + bias`:

- ``exp_tc = round(alpha_m * 2**15)``; ``R = tau_mem / c_m`` with ``c_m = 1`` (so ``g ~ dt``);
  ``v_rest = v_leak``; ``i_offset = bias / g`` (g from the *quantized* ``exp_tc`` and ``R``, so the
  rounding of ``exp_tc`` changes the leak, not the drive);
- exponential synapses: ``decay = round(alpha_s * 2**32)`` and
  ``init = round((tau_syn/dt)(1 - alpha_s) * 2**32)`` (u0.32, as sPyNNaker computes them);
  ``tau_syn = 0`` everywhere gives ``synapse: delta`` (the current lasts one step);
  ``decay_inh``/``init_inh`` come from ``tau_syn_inh`` when it is set (sPyNNaker's inhibitory
  receptor has its own decay; ``tau_syn_inh: None`` is ``tau_syn``);
- a float weight ``x`` is the current ``x / (g init)`` (``init = 1`` for delta; the ``init`` of
  the receptor of its sign); its 16-bit
  ring-buffer magnitude is ``round(|x / (g init)| * 2**(15 - p))`` on the receptor of its sign,
  with the per-receptor shift ``p`` chosen by sPyNNaker's rule (``ceil(log2(max summed weight))``,
  plus one when that is an exact power of two; the max summed weight is the worst case when all
  delays are equal, else the Poisson mean + ``ring_buffer_sigma`` standard deviations at
  ``spikes_per_second``, clamped between the biggest weight and the worst case;
  ``max_expected_summed_weight`` overrides it);
- ``v_thresh`` is one LSB above the float threshold: sPyNNaker spikes on ``V >= v_thresh``, the
  float model on ``v > v_th``; ``refractory`` steps become ``t_refract``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from snnc.ir.errors import QuantizationError, UnsupportedOnTarget
from snnc.ir.sources import Poisson
from snnc.ir.values import resolve
from snnc.models.lif import decay_factor, separate_inh_tau
from snnc.models.spinnaker_li import GRADED_SHIFT, SpinnakerLI
from snnc.models.spinnaker_lif import INT32_MAX, INT32_MIN, UINT32_MAX, SpinnakerLIF

from .common import (
    Incoming,
    PopulationResult,
    QuantizeOptions,
    ShiftedModel,
    compact,
    decay_factors,
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
from .report import PopulationQuantization, weight_entry
from .stdp_spinnaker import plastic_ceiling

ACCUM = 2.0**15  # s16.15
U032 = 2.0**32  # u0.32
RING_MAX = 0xFFFF  # 16-bit ring-buffer weights and sums
Gains = tuple[np.ndarray, np.ndarray]
"""Float units per unit of ring-buffer current, per neuron, of the (excitatory, inhibitory)
receptor; the same array twice when both receptors have one gain."""
SHIFT_MAX = 15  # W << p must stay an s16.15 current for any uint16 slot sum
POISSON_SIGMA_SUMMATION_LIMIT = 3.0  # sPyNNaker's constant for the weight-variance sum


# ---- sPyNNaker's ring-buffer shift ---------------------------------------------------------------
class _Running:
    """sPyNNaker's ``RunningStats.add_items``: pooled mean and sample variance of groups."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, mean: float, variance: float, count: int) -> None:
        if count <= 0:
            return
        total = self.n + count
        delta = mean - self.mean
        self.m2 += variance * (count - 1.0) + delta * delta * self.n * count / total
        self.mean = (self.n * self.mean + count * mean) / total
        self.n = total

    @property
    def variance(self) -> float:
        return self.m2 / (self.n - 1.0) if self.n > 1 else 0.0


def expected_upper_bound(mean: float, std: float, rate: float, count: int, sigma: float,
                         dt: float) -> float:
    """sPyNNaker's ``_ring_buffer_expected_upper_bound``: mean + sigma SD of one slot's sum."""
    spikes = count * rate * dt / 1000.0  # expected spikes per time step
    poisson_variance = spikes * mean**2
    upper = int(round(spikes + POISSON_SIGMA_SUMMATION_LIMIT * math.sqrt(spikes)))
    weight_variance = 0.0
    if std > 0 and spikes > 0:
        lngamma = special.gammaln(1 + upper)
        gammai = special.gammaincc(1 + upper, spikes)
        big_ratio = math.log(spikes) * upper - lngamma
        if -701.0 < big_ratio < 701.0 and big_ratio != 0.0:
            weight_variance = math.exp(-spikes + math.log(spikes) + 2.0 * math.log(std)
                                       + math.log(math.exp(spikes) * gammai - math.exp(big_ratio)))
    return spikes * mean + sigma * math.sqrt(poisson_variance + weight_variance)


def _pre_rate(pre, options: QuantizeOptions) -> float:
    """Spikes per second assumed for a presynaptic population (a Poisson source's own rate)."""
    source = pre.source
    if isinstance(source, Poisson):
        rate = float(np.max(resolve(source.rate_hz, pre.size)))
        if rate > 0:
            return rate
    return options.spikes_per_second


def max_summed_weight(groups: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]],
                      size: int, dt: float, options: QuantizeOptions) -> float:
    """sPyNNaker's ``get_max_weight`` for one receptor; groups are (|w|, post, delays, pre rate)."""
    weights, delays, rates, biggest, total = _Running(), _Running(), _Running(), 0.0, 0.0
    for w, post, delay, rate in groups:
        if w.size == 0:
            continue
        count = int(np.bincount(post, minlength=size).max())
        weights.add(float(w.mean()), float(w.var()), count)
        delays.add(0.0, float(np.var(delay)), count)
        rates.add(rate, 0.0, count)
        biggest = max(biggest, float(w.max()))
        total += max(1.0, rate * dt / 1000.0) * float(w.max()) * count
    if delays.variance == 0.0:
        return max(total, biggest)
    bound = expected_upper_bound(weights.mean, math.sqrt(weights.variance), rates.mean,
                                 weights.n, options.ring_buffer_sigma, dt)
    return max(min(bound, total), biggest)


def ring_buffer_shift(max_weight: float) -> int:
    """``ceil(log2(max))``, one more if ``2**p <= max`` (the range is just under ``2**p``)."""
    if max_weight <= 0:
        return 0
    power = int(math.ceil(max(0.0, math.log2(max_weight))))
    return power + 1 if 2.0**power <= max_weight else power


# ---- one population ------------------------------------------------------------------------------
def _raw(values: np.ndarray, field: str, where: str) -> np.ndarray:
    """Float values as s16.15 raw int64, or a QuantizationError naming the field."""
    raw = np.rint(values * ACCUM)
    if raw.min() < INT32_MIN or raw.max() > INT32_MAX:
        raise QuantizationError(f"{field} outside the s16.15 range (|value| < 65536)",
                                where=f"{where}.{field}")
    return raw.astype(np.int64)


def _membrane(neuron, size: int, alpha_m: np.ndarray, where: str):
    """``exp_tc``, ``r_membrane`` (c_m = 1), the gain g = (1 - e) R of the quantized values, and
    the leak: an IF population (``tau_mem`` infinite, ``alpha_m`` exactly 1) integrates with
    ``R = 1`` (g = 1), which s16.15 holds exactly."""
    no_leak = alpha_m == 1.0
    if no_leak.all():
        unity = np.full(size, int(ACCUM), dtype=np.int64)
        return unity, unity, np.ones(size), "none"
    if no_leak.any():
        raise UnsupportedOnTarget("tau_mem mixes infinite (IF) and finite values in one "
                                  "population: spinnaker_lif's leak is one per population",
                                  where=f"{where}.tau_mem")
    exp_tc = np.clip(np.rint(alpha_m * ACCUM), 0, ACCUM).astype(np.int64)
    r_membrane = _raw(per_neuron(neuron, "tau_mem", size), "tau_mem", where)
    gain = (1 - exp_tc / ACCUM) * (r_membrane / ACCUM)
    if gain.min() <= 0:
        raise QuantizationError("tau_mem too long for s16.15: exp(-dt/tau_mem) rounds to 1, so "
                                "no input could move the voltage (tau_mem: .inf is an IF "
                                "neuron, exact)", where=f"{where}.tau_mem")
    return exp_tc, r_membrane, gain, "exp"


def _synapse(neuron, size: int, dt: float, alpha_s: np.ndarray, tau_field: str = "tau_syn",
             delta: bool | None = None):
    """``(kind, decay, init, init as a fraction)`` of one receptor from ``tau_field``; delta
    when every alpha_s is 0 (``delta`` forces the choice: one kind for both receptors)."""
    if np.all(alpha_s == 0) if delta is None else delta:
        zeros = np.zeros(size, dtype=np.int64)
        return "delta", zeros, zeros, np.ones(size)
    tau_s = per_neuron(neuron, tau_field, size)
    init_f = np.where(alpha_s > 0, (tau_s / dt) * (1 - alpha_s), 1.0)
    decay = np.clip(np.rint(alpha_s * U032), 0, UINT32_MAX).astype(np.int64)
    init = np.clip(np.rint(init_f * U032), 0, UINT32_MAX).astype(np.int64)
    return "exp", decay, init, init / U032


def currents_of(weight: np.ndarray, post: np.ndarray, gains: Gains) -> np.ndarray:
    """Ring-buffer currents ``w / gain`` of a projection's synapses: each divided by the gain
    of the receptor of its sign (one division when both receptors share one gain)."""
    exc, inh = gains
    if exc is inh:
        return weight / exc[post]
    return weight / np.where(weight < 0, inh[post], exc[post])


def _shifts(incoming: list[Incoming], currents: dict[int, np.ndarray], gains: Gains,
            network_pops: dict, size: int, dt: float, options: QuantizeOptions,
            where: str) -> dict[str, int]:
    """Per receptor shift by sPyNNaker's rule, or from ``max_expected_summed_weight``.

    A graded synapse (``Incoming.graded``) reaches the receptor of the sign of ``w * m``, so it
    counts on both at its largest message (``|current| * message_peak``), sent every step; the
    two receptors then share one shift (a weight is quantized before the message's sign is
    known), at least enough for every graded weight ``|current| * 2**(30 - p)`` to fit 16 bits.
    """
    graded = [item for item in incoming if item.graded]
    shifts, sums = {}, {}
    for index, receptor in enumerate(("exc", "inh")):
        if options.max_expected_summed_weight is not None:
            biggest = options.max_expected_summed_weight[index] / gains[index].min()
        else:
            groups = []
            for item in incoming:
                current = currents[item.index]
                if item.graded:
                    groups.append((np.abs(current) * item.message_peak, item.synapses.post,
                                   item.synapses.delay, 1000.0 / dt))
                    continue
                ceiling = plastic_ceiling(item, gains[0])  # plastic: every weight at w_max
                current = current if ceiling is None else ceiling
                mask = current > 0 if receptor == "exc" else current < 0
                groups.append((np.abs(current[mask]), item.synapses.post[mask],
                               item.synapses.delay, _pre_rate(network_pops[item.projection.pre],
                                                              options)))
            biggest = max_summed_weight(groups, size, dt, options)
        shifts[receptor], sums[receptor] = ring_buffer_shift(biggest), biggest
    if graded:
        largest = max(float(np.abs(currents[item.index]).max(initial=0.0)) for item in graded)
        fits = (int(math.ceil(math.log2(largest * 2.0**30 / RING_MAX))) if largest > 0 else 0)
        shared = max(shifts["exc"], shifts["inh"], fits)
        shifts = {"exc": shared, "inh": shared}
    for receptor, shift in shifts.items():
        if shift > SHIFT_MAX:
            raise QuantizationError(
                f"the summed {receptor} input current ({sums[receptor]:.4g}) exceeds the s16.15 "
                f"range (shift {shift} > {SHIFT_MAX}): scale the weights down", where=where)
    return shifts


def quantize_population(population, incoming: list[Incoming], network,
                        options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``lif`` population and the projections into it for SpiNNaker."""
    name, size, neuron, dt = population.name, population.size, population.neuron, network.dt
    where = f"populations.{name}.neuron"
    f = shifted_model(population, dt)
    exp_tc, r_membrane, gain_m, leak = _membrane(neuron, size, f.alpha_m, where)
    synapse, decay, init, init_q = _synapse(neuron, size, dt, f.alpha_s)
    decay_i, init_i, gains = decay, init, (gain_m * init_q,) * 2  # float volts per ring unit
    if separate_inh_tau(neuron):
        alpha_i = _alpha_inh(neuron, size, dt, where)
        synapse = "delta" if np.all(f.alpha_s == 0) and np.all(alpha_i == 0) else "exp"
        _, decay, init, init_q = _synapse(neuron, size, dt, f.alpha_s, delta=synapse == "delta")
        _, decay_i, init_i, init_qi = _synapse(neuron, size, dt, alpha_i, "tau_syn_inh",
                                               delta=synapse == "delta")
        gains = (gain_m * init_q, gain_m * init_qi)
        _refuse_graded(incoming, name)
    currents = {item.index: currents_of(item.synapses.weight, item.synapses.post, gains)
                for item in incoming}
    shifts = _shifts(incoming, currents, gains, network.populations, size, dt, options,
                     f"populations.{name}")
    projections, reports, dequantized = {}, {}, {}
    for item in incoming:
        projections[item.index], reports[item.index], dequantized[item.index] = _projection(
            item, currents[item.index], gains, shifts, f.theta, options)
    v_th = per_neuron(neuron, "v_th", size)
    _raw(v_th, "v_th", where)
    v_thresh = np.floor(v_th * ACCUM).astype(np.int64) + 1  # V >= v_thresh  <=>  v > v_th
    raw = {field: _raw(per_neuron(neuron, source, size), source, where) for field, source in (
        ("v_reset", "v_reset"), ("v_rest", "v_leak"), ("v_init", "v_init"))}
    i_offset = _raw(per_neuron(neuron, "bias", size) / gain_m, "bias", where)
    quantized = SpinnakerLIF(
        v_thresh=compact(v_thresh), v_reset=compact(raw["v_reset"]), v_rest=compact(raw["v_rest"]),
        v_init=compact(raw["v_init"]), i_offset=compact(i_offset), exp_tc=compact(exp_tc),
        r_membrane=compact(r_membrane), synapse=synapse, decay_exc=compact(decay),
        init_exc=compact(init), decay_inh=compact(decay_i), init_inh=compact(init_i),
        t_refract=neuron.refractory, weight_shift_exc=shifts["exc"],
        weight_shift_inh=shifts["inh"], reset=neuron.reset, leak=leak)
    a_mq = exp_tc / ACCUM
    effective = ShiftedModel(  # what the integers do, in the shifted float form
        theta=(v_thresh - 1 - raw["v_reset"]) / ACCUM,
        drive=i_offset / ACCUM * gain_m + (1 - a_mq) * (raw["v_rest"] - raw["v_reset"]) / ACCUM,
        v0=(raw["v_init"] - raw["v_reset"]) / ACCUM, alpha_m=a_mq,
        alpha_s=np.zeros(size) if synapse == "delta" else decay / U032)
    entry = population_entry(
        population, "spinnaker_lif", f, effective, input_extremes(incoming, size)[0],
        input_extremes(incoming, size, dequantized)[0], 1.0 / ACCUM,
        {"exp_tc": fmt_range(exp_tc), "synapse": synapse,
         "shift": f"exc {shifts['exc']}, inh {shifts['inh']}", "v_thresh": fmt_range(v_thresh)})
    # V is an s16.15 accum (|V| < 65536) that wraps: the floor is v_reset + the shifted floor
    floor = (voltage_floor(f, input_extremes(incoming, size)[1])
             + per_neuron(neuron, "v_reset", size))
    entry = entry.model_copy(update={"overflow": overflow_lines(
        floor, -INT32_MIN / ACCUM, "SpiNNaker's s16.15 V wraps there")})
    return PopulationResult(quantized, projections, entry, reports)


def _alpha_inh(neuron, size: int, dt: float, where: str) -> np.ndarray:
    """The float decay of the inhibitory current (``tau_syn_inh``), as ``decay_factors``."""
    tau = per_neuron(neuron, "tau_syn_inh", size)
    alpha = decay_factor(tau, dt, neuron.integrator)
    if np.any(alpha < 0):
        raise QuantizationError(f"euler integration needs tau >= dt ({dt:g} ms)",
                                where=f"{where}.integrator")
    return alpha


def _refuse_graded(incoming: list[Incoming], name: str) -> None:
    """A graded synapse reaches the receptor of the sign of ``w * m``, known only at run time,
    while each receptor's weights are scaled by its own ``init``: one weight cannot serve both."""
    graded = next((item for item in incoming if item.graded), None)
    if graded is not None:
        raise UnsupportedOnTarget(
            f"population '{name}' gets graded input from '{graded.projection.pre}' and has "
            "separate excitatory/inhibitory time constants, which spinnaker-emu cannot run: a "
            "graded weight's receptor depends on the message's sign",
            where=f"populations.{name}.neuron.tau_syn_inh")


def _projection(item: Incoming, current: np.ndarray, gains: Gains, shifts: dict[str, int],
                theta: np.ndarray, options: QuantizeOptions):
    """Signed 16-bit ring-buffer weights of one projection; its report entry."""
    post = item.synapses.post
    inhibitory = current < 0
    graded = GRADED_SHIFT if item.graded else 0  # (|w| * |m|) >> 15: weights carry 2**15 more
    # in place where possible: at 100M synapses every float64 temporary is 800 MB
    magnitude = np.abs(current)
    magnitude *= np.where(inhibitory, 2.0 ** (15 + graded - shifts["inh"]),
                          2.0 ** (15 + graded - shifts["exc"]))
    signed = round_weights(magnitude, options, stream=item.index)
    del magnitude
    clipped = signed > RING_MAX
    np.minimum(signed, RING_MAX, out=signed)
    np.negative(signed, out=signed, where=inhibitory)
    # float value of one integer unit, per synapse
    scale = np.where(inhibitory, 2.0 ** (shifts["inh"] - 15 - graded),
                     2.0 ** (shifts["exc"] - 15 - graded))
    exc_gain, inh_gain = gains
    scale *= exc_gain[post] if exc_gain is inh_gain else np.where(inhibitory, inh_gain[post],
                                                                  exc_gain[post])
    present = [r for r, mask in (("exc", current > 0), ("inh", inhibitory)) if mask.any()]
    coarsest = (float(scale.max()) if scale.size
                else 2.0 ** (shifts["exc"] - 15 - graded) * exc_gain.max())
    dequantized = np.multiply(signed, scale, out=scale)
    del scale
    base = dict(name=item.projection.name, pre=item.projection.pre, post=item.projection.post,
                scale=coarsest, step=coarsest,
                receptor_shift={r: shifts[r] for r in present or ["exc"]})
    report = weight_entry(base, item.synapses.weight, signed, dequantized, clipped, theta[post])
    return with_weights(item, signed.astype(np.int32)), report, dequantized


def quantize_li_population(population, incoming: list[Incoming], network,
                           options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``li`` population (graded: it feeds later layers) to ``spinnaker_li``.

    Membrane, synapses and input weights as for ``lif`` (``quantize_population``); no threshold.
    Its message is ``V >> payload_shift``, one unit ``2**(payload_shift - 15)`` volts: the shift
    is the smallest that keeps the largest |V| the population can reach (``v_leak`` plus its
    steady state under every input at once, the bias and ``v_init``; the s16.15 range without
    leak) within 15 bits, so that the weights downstream (``(|w| |m|) >> 15``) keep 16 bits.
    """
    name, size, neuron, dt = population.name, population.size, population.neuron, network.dt
    where = f"populations.{name}.neuron"
    alpha_m, alpha_s = decay_factors(neuron, size, dt, where)
    exp_tc, r_membrane, gain_m, leak = _membrane(neuron, size, alpha_m, where)
    synapse, decay, init, init_q = _synapse(neuron, size, dt, alpha_s)
    gains = (gain_m * init_q,) * 2
    currents = {item.index: currents_of(item.synapses.weight, item.synapses.post, gains)
                for item in incoming}
    shifts = _shifts(incoming, currents, gains, network.populations, size, dt, options,
                     f"populations.{name}")
    v_leak = per_neuron(neuron, "v_leak", size)
    bias = per_neuron(neuron, "bias", size)
    v_init = per_neuron(neuron, "v_init", size)
    x_pos, x_neg = input_extremes(incoming, size)
    swing = (np.maximum(x_pos, x_neg) / np.maximum(1.0 - alpha_s, 1e-300) + np.abs(bias))
    leak_f = 1.0 - alpha_m
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(leak_f > 0, swing / np.where(leak_f > 0, leak_f, 1.0),
                         np.where(swing > 0, np.inf, 0.0))
    peak_v = float(np.max(np.abs(v_leak) + np.maximum(reach, np.abs(v_init - v_leak)),
                          initial=0.0))
    peak_raw = min(peak_v * ACCUM + 2.0, float(2**31))
    payload_shift = max(0, math.ceil(math.log2(max(peak_raw, 1.0))) - 15)
    projections, reports = {}, {}
    theta = np.full(size, max(peak_v, 1.0 / ACCUM))  # the report's scale for weight errors
    for item in incoming:
        projections[item.index], reports[item.index], _ = _projection(
            item, currents[item.index], gains, shifts, theta, options)
    raw = {field: _raw(per_neuron(neuron, source, size), source, where) for field, source in (
        ("v_rest", "v_leak"), ("v_init", "v_init"))}
    i_offset = _raw(bias / gain_m, "bias", where)
    quantized = SpinnakerLI(
        v_rest=compact(raw["v_rest"]), v_init=compact(raw["v_init"]), i_offset=compact(i_offset),
        exp_tc=compact(exp_tc), r_membrane=compact(r_membrane), synapse=synapse,
        decay_exc=compact(decay), init_exc=compact(init), decay_inh=compact(decay),
        init_inh=compact(init), weight_shift_exc=shifts["exc"], weight_shift_inh=shifts["inh"],
        leak=leak, payload_shift=payload_shift)
    entry = PopulationQuantization(
        name=name, size=size, kind=population.kind, quantized_kind="spinnaker_li",
        scale=1.0 / ACCUM, mem_decay_error=float(np.abs(exp_tc / ACCUM - alpha_m).max()),
        syn_decay_error=float(np.abs((decay / U032 if synapse == "exp" else 0.0)
                                     - alpha_s).max()),
        max_input=float(x_pos.max(initial=0.0)),
        parameters={"exp_tc": fmt_range(exp_tc), "synapse": synapse,
                    "shift": f"exc {shifts['exc']}, inh {shifts['inh']}",
                    "payload_shift": str(payload_shift)})
    unit = 2.0 ** (payload_shift - 15)
    peak = float(math.ceil(peak_raw / 2.0**payload_shift))
    return PopulationResult(quantized, projections, entry, reports, message=(unit, peak))
