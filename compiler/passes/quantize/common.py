"""What the quantization pass and its per-target quantizers share: options, results, helpers.

The target quantizers (``loihi.py``, ``spinnaker.py``) import only this module and ``report.py``;
the pass (``__init__.py``) imports them through the model registry (``snnc.models``), so there is
no import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from snnc.ir import Network, Population, Projection, Synapses
from snnc.ir.connect import Explicit, FixedProbability
from snnc.ir.errors import QuantizationError, SnncError
from snnc.ir.values import Normal, Uniform, freeze

from .report import PopulationQuantization, ProjectionQuantization, QuantizationReport


class QuantizeOptions(BaseModel):
    """Options of the pass, as data (``snnc quantize --option key=value``).

    ``weight_bits``: Loihi ``num_weight_bits`` (1..8; a mixed-sign projection keeps one bit fewer).
    ``rounding``: how weights are rounded to integers: ``nearest``, ``floor`` (toward minus
    infinity) or ``stochastic`` (up with probability equal to the fraction, drawn from ``seed``).
    ``power_of_two_scale``: Loihi voltage scales are powers of two (exact for binary-friendly
    parameters; at most a factor 2 coarser than the finest scale). ``loihi_v_scale`` forces the
    scale (integer voltage units per float unit, e.g. 64 for W1's native Lava parameters); values
    that then do not fit are clipped and reported.
    SpiNNaker ring-buffer shifts follow sPyNNaker: ``ring_buffer_sigma`` and ``spikes_per_second``
    feed its expected-maximum rule, and ``max_expected_summed_weight`` (float weight units; one
    value, or ``exc,inh``) overrides it as sPyNNaker's option of that name does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    name: ClassVar[str] = "quantize"

    weight_bits: int = Field(default=8, ge=1, le=8)
    rounding: Literal["nearest", "floor", "stochastic"] = "nearest"
    seed: int = Field(default=0, ge=0)
    power_of_two_scale: bool = True
    loihi_v_scale: Optional[float] = Field(default=None, gt=0)
    ring_buffer_sigma: float = Field(default=5.0, gt=0)
    spikes_per_second: float = Field(default=30.0, gt=0)
    max_expected_summed_weight: Optional[tuple[float, float]] = None

    @field_validator("max_expected_summed_weight", mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in value.replace(" ", "").split(",") if v]
        if isinstance(value, (int, float)):
            value = (value, value)
        if isinstance(value, (list, tuple)) and len(value) == 1:
            value = (value[0], value[0])
        return value

    @field_validator("max_expected_summed_weight")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        if value is not None and min(value) <= 0:
            raise ValueError("must be > 0 (one value, or exc,inh)")
        return value

    @staticmethod
    def parse(pairs: list[str] | tuple[str, ...]) -> "QuantizeOptions":
        """Options from ``key=value`` strings; a bad key or value is an SnncError (``--option``)."""
        fields: dict[str, Any] = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or key not in QuantizeOptions.model_fields:
                known = ", ".join(QuantizeOptions.model_fields)
                raise SnncError(f"expected key=value with key one of: {known}; got '{pair}'",
                                where="--option")
            fields[key] = value
        try:
            return QuantizeOptions(**fields)
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
            message = str(error["msg"]).removeprefix("Value error, ")
            raise SnncError(f"{message} (got {fields.get(key, error.get('input'))!r})",
                            where=f"--option {key}") from None


@dataclass(frozen=True, eq=False)
class QuantizedNetwork:
    """The pass's result: the integer ``network`` the backends of ``target`` run, and its report."""

    network: Network
    target: str
    report: QuantizationReport


@dataclass(frozen=True)
class Incoming:
    """One projection into a population being quantized, expanded.

    From a spiking population a synapse adds its weight once per spike. From a graded population
    (a non-spiking one already quantized, ``PopulationResult.message``) it adds ``weight *
    message`` every step: ``synapses.weight`` is then the float weight of one message unit, and
    ``message_peak`` the largest |message| in those units (1 for spikes).
    """

    index: int  # position in network.projections
    projection: Projection
    synapses: Synapses
    message_peak: float = 1.0
    graded: bool = False  # the source is graded (its weights multiply a message every step)


@dataclass
class PopulationResult:
    """What a target's population quantizer returns."""

    neuron: Any
    projections: dict[int, Projection]  # index -> new projection
    population: PopulationQuantization
    projection_reports: dict[int, ProjectionQuantization]
    message: Optional[tuple[float, float]] = None
    """For a graded (non-spiking) population: (float value of one message unit, largest |message|
    in units), which the quantizers of its targets read through ``Incoming``."""


def per_neuron(neuron: Any, field: str, size: int) -> np.ndarray:
    """A neuron parameter as a float64 array of ``size`` (distributions drawn from their seed)."""
    from snnc.ir import resolve

    return np.asarray(resolve(getattr(neuron, field), size), dtype=np.float64)


def decay_factors(neuron: Any, size: int, dt: float, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Float decay factors per neuron: ``alpha_m``, ``alpha_s`` (0 where ``tau_syn`` is 0)."""
    tau_m = per_neuron(neuron, "tau_mem", size)
    tau_s = per_neuron(neuron, "tau_syn", size)
    safe_s = np.where(tau_s > 0, tau_s, 1.0)
    if neuron.integrator == "euler":
        alpha_m = 1.0 - dt / tau_m
        alpha_s = np.where(tau_s > 0, 1.0 - dt / safe_s, 0.0)
        if np.any(alpha_m < 0) or np.any(alpha_s < 0):
            raise QuantizationError(f"euler integration needs tau >= dt ({dt:g} ms)",
                                    where=f"{where}.integrator")
    else:
        alpha_m = np.exp(-dt / tau_m)
        alpha_s = np.where(tau_s > 0, np.exp(-dt / safe_s), 0.0)
    return alpha_m, alpha_s


def round_weights(values: np.ndarray, options: QuantizeOptions, stream: int) -> np.ndarray:
    """Round scaled weights to integers (int64) by the chosen rule; ``stream`` seeds stochastic.

    ``values`` (float64) is overwritten: at 100M synapses each extra copy would be 800 MB.

    Stochastic rounding draws one uniform per weight from ``default_rng([seed, stream])``, so the
    same seed gives the same integers. Magnitudes beyond 2**53 are capped before the integer cast
    (far outside every target's weight range, where the caller clips them; the cast would wrap).
    """
    rounded = np.asarray(values, dtype=np.float64)  # rounded in place: callers pass a temporary
    if options.rounding == "nearest":
        np.rint(rounded, out=rounded)
    elif options.rounding == "floor":
        np.floor(rounded, out=rounded)
    else:
        rng = np.random.default_rng([options.seed, stream])
        rounded += rng.random(rounded.shape)
        np.floor(rounded, out=rounded)
    np.clip(rounded, -(2.0**53), 2.0**53, out=rounded)
    return rounded.astype(np.int64)


def compact(values: np.ndarray) -> Union[int, np.ndarray]:
    """An int array as a Python int when all elements are equal, else a read-only int64 array."""
    values = np.asarray(values, dtype=np.int64)
    if values.size and np.all(values == values.flat[0]):
        return int(values.flat[0])
    return freeze(values)


def with_weights(item: Incoming, weights: np.ndarray, **fields: Any) -> Projection:
    """A copy of a projection with integer weights (scalar kept scalar) and other fields replaced.

    Weights drawn from a distribution on a ``fixed_probability`` rule cannot be stored as an array
    on that rule (its connection count is not known before expansion), so that projection is
    written as ``explicit`` with the same pairs in the same order: the same synapses, whose delays
    (drawn from the same seed and count) are unchanged.
    """
    projection = item.projection
    data = dict(projection)
    scalar = not isinstance(projection.weight, (np.ndarray, Normal, Uniform))
    if scalar and (weights.size == 0 or np.all(weights == weights.flat[0])):
        data["weight"] = int(weights.flat[0]) if weights.size else 0
    else:  # arrays, distributions, and a scalar that stochastic rounding made differ per synapse
        data["weight"] = freeze(np.ascontiguousarray(weights))
        if isinstance(projection.connect, FixedProbability):
            data["connect"] = Explicit(pre=item.synapses.pre, post=item.synapses.post)
    data.update(fields)
    return Projection(**data)


def input_extremes(incoming: list[Incoming], size: int,
                   weights: Optional[dict[int, np.ndarray]] = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per target neuron, the summed positive and summed |negative| weight of all its synapses.

    This is the largest input one step can bring (every presynaptic neuron's spike arriving at
    once; a graded one at its largest message). ``weights`` replaces the float weights (by
    projection index), e.g. by dequantized ones.
    """
    positive = np.zeros(size)
    negative = np.zeros(size)
    for item in incoming:
        w = item.synapses.weight if weights is None else weights[item.index]
        w = np.asarray(w, dtype=np.float64) * item.message_peak
        positive += np.bincount(item.synapses.post, weights=np.maximum(w, 0.0), minlength=size)
        negative += np.bincount(item.synapses.post, weights=np.maximum(-w, 0.0), minlength=size)
    return positive, negative


def unreachable(drive: np.ndarray, alpha_m: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Neurons whose steady state under constant maximal ``drive`` stays at or below ``theta``.

    ``drive`` is the per-step increment of ``v - v_reset`` at the fixed point's input
    (max input / (1 - alpha_s) + bias); the steady state is ``drive / (1 - alpha_m)``.
    """
    leak = 1.0 - alpha_m
    with np.errstate(divide="ignore", invalid="ignore"):
        steady = np.where(leak > 0, drive / np.where(leak > 0, leak, 1.0),
                          np.where(drive > 0, np.inf, 0.0))
    return steady <= theta


@dataclass(frozen=True)
class ShiftedModel:
    """A lif population's per-step behaviour with voltages shifted so that reset is 0.

    ``v'[t] = alpha_m v'[t-1] + i[t] + drive``, ``i[t] = alpha_s i[t-1] + x[t]``, spike when
    ``v' > theta``; both the float model and a quantized one's effective values are compared in
    this form, so every target reports the same quantities.
    """

    theta: np.ndarray  # v_th - v_reset
    drive: np.ndarray  # bias + (1 - alpha_m)(v_leak - v_reset), added every step
    v0: np.ndarray  # v_init - v_reset
    alpha_m: np.ndarray
    alpha_s: np.ndarray


def shifted_model(population: Population, dt: float) -> ShiftedModel:
    """The float model of a ``lif`` population in shifted form (distributions drawn)."""
    neuron, size = population.neuron, population.size
    alpha_m, alpha_s = decay_factors(neuron, size, dt, f"populations.{population.name}.neuron")
    v_reset = per_neuron(neuron, "v_reset", size)
    drive = per_neuron(neuron, "bias", size) + (1 - alpha_m) * (
        per_neuron(neuron, "v_leak", size) - v_reset)
    return ShiftedModel(per_neuron(neuron, "v_th", size) - v_reset, drive,
                        per_neuron(neuron, "v_init", size) - v_reset, alpha_m, alpha_s)


def population_entry(population: Population, kind: str, f: ShiftedModel, q: ShiftedModel,
                     x_pos: np.ndarray, x_pos_q: np.ndarray, v_scale: float,
                     parameters: dict[str, str]) -> PopulationQuantization:
    """Report entry comparing the float model ``f`` with the effective quantized one ``q``.

    ``x_pos``/``x_pos_q`` are each neuron's largest one-step input with float and dequantized
    weights; ``v_scale`` the float value of one integer voltage unit.
    """
    lost_q = unreachable(x_pos_q / (1 - q.alpha_s) + q.drive, q.alpha_m, q.theta)
    lost_f = unreachable(x_pos / (1 - f.alpha_s) + f.drive, f.alpha_m, f.theta)
    return PopulationQuantization(
        name=population.name, size=population.size, kind="lif", quantized_kind=kind,
        scale=v_scale, threshold=float(f.theta.max()),
        threshold_error=float(np.abs(q.theta - f.theta).max()),
        threshold_error_frac=largest_fraction(np.abs(q.theta - f.theta), f.theta),
        bias_error=float(np.abs(q.drive - f.drive).max()),
        bias_error_frac=largest_fraction(np.abs(q.drive - f.drive), f.theta),
        mem_decay_error=float(np.abs(q.alpha_m - f.alpha_m).max()),
        syn_decay_error=float(np.abs(q.alpha_s - f.alpha_s).max()),
        max_input=float(x_pos.max(initial=0.0)),
        unreachable=int(lost_q.sum()), unreachable_float=int((lost_q & lost_f).sum()),
        parameters=parameters)


def largest_fraction(error: np.ndarray, theta: np.ndarray) -> float:
    """Largest error as a fraction of each neuron's own v_th - v_reset (neurons with theta > 0)."""
    positive = theta > 0
    return float((error[positive] / theta[positive]).max()) if positive.any() else 0.0


def fmt_range(values: np.ndarray | int) -> str:
    """``3`` or ``3..9`` for report parameter summaries."""
    array = np.asarray(values)
    lo, hi = array.min(), array.max()
    return f"{lo:g}" if lo == hi else f"{lo:g}..{hi:g}"


def voltage_floor(f: ShiftedModel, x_neg: np.ndarray) -> np.ndarray:
    """The lowest shifted voltage ``v - v_reset`` each neuron can reach (float units).

    Under the largest inhibitory input every step (``x_neg``, all inhibitory synapses at once) and
    the drive, ``v`` falls toward ``(drive - x_neg / (1 - alpha_s)) / (1 - alpha_m)``; without
    leak (``alpha_m = 1``) it has no floor (``-inf``) once anything pulls it down. Reset and
    threshold bound it from above, so the floor is what can leave a fixed-point range.
    """
    pull = np.minimum(f.drive, 0.0) - x_neg / np.maximum(1.0 - f.alpha_s, 1e-300)
    leak = 1.0 - f.alpha_m
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.where(leak > 0, pull / np.where(leak > 0, leak, 1.0),
                         np.where(pull < 0, -np.inf, 0.0))
    return np.minimum(floor, np.minimum(f.v0, 0.0))


def overflow_lines(floor: np.ndarray, limit: float, what: str) -> list[str]:
    """One warning when some neuron's lowest voltage (float units) is beyond ``-limit``, the
    target's range in float units; ``what`` says what the target does there (wraps, saturates)."""
    bad = floor < -limit
    if not bad.any():
        return []
    worst = float(floor.min())
    reach = ("fall without bound (no leak, inhibitory input)" if np.isinf(worst)
             else f"fall to {worst:.4g}")
    return [f"{int(bad.sum())} neurons' voltage can {reach}, beyond the fixed-point range "
            f"(-{limit:.4g}): {what}, where the float model keeps going"]
