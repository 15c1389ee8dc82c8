"""The quantization report: what each float-to-fixed choice cost, per projection and population.

Users' most common complaint about neuromorphic toolchains is conversion that silently kills
activity, so every number here is in the network's own float units (and as a fraction of the
distance from reset to threshold, ``v_th - v_reset``), and every loss that can change behaviour is
also a one-line warning. ``report.to_json()`` is what ``snnc compile`` embeds in ``report.json``
under ``"quantization"``; ``render(report)`` gives the tables ``snnc quantize`` prints.

Conventions (docs/quantization.md):

- a projection's ``scale`` is the float value of one integer weight unit (dequantized weight =
  integer weight x scale); its ``step`` is the smallest difference between two representable weights
  (``scale`` times Lava's truncation step ``2**k`` on Loihi);
- a population's ``scale`` is the float value of one integer voltage unit.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict
from rich import box
from rich.table import Table

ZEROED_WARNING_FRACTION = 0.01  # warn when more than 1% of a projection's nonzero weights vanish
PARAMETER_WARNING_FRACTION = 0.01  # ... or a threshold or bias moves by 1% of v_th - v_reset


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProjectionQuantization(_Record):
    """What quantization did to one projection's weights."""

    name: str
    pre: str
    post: str
    synapses: int
    passthrough: bool = False
    scale: Optional[float] = None  # float value of one integer weight unit (coarsest receptor)
    step: Optional[float] = None  # smallest representable weight difference, float units
    weight_exp: Optional[int] = None  # Loihi
    num_weight_bits: Optional[int] = None  # Loihi
    sign_mode: Optional[str] = None  # Loihi: exc, inh or mixed (Lava's truncation depends on it)
    receptor_shift: Optional[dict[str, int]] = None  # SpiNNaker: ring-buffer shift per receptor
    max_abs_error: float = 0.0  # float units
    mean_abs_error: float = 0.0
    max_error_frac_threshold: float = 0.0  # error / (v_th - v_reset) of the target neuron
    mean_error_frac_threshold: float = 0.0
    nonzero: int = 0  # nonzero float weights
    zeroed: int = 0  # nonzero float weights that became 0
    zeroed_fraction: float = 0.0
    clipped: int = 0  # weights limited to the largest representable magnitude
    smallest_surviving: Optional[float] = None  # smallest |float weight| that stays nonzero


class PopulationQuantization(_Record):
    """What quantization did to one population's parameters."""

    name: str
    size: int
    kind: str  # kind before quantization
    quantized_kind: str
    passthrough: bool = False
    scale: Optional[float] = None  # float value of one integer voltage unit
    threshold: Optional[float] = None  # largest v_th - v_reset, float units
    threshold_error: float = 0.0  # max |effective threshold - float threshold|, float units
    threshold_error_frac: float = 0.0
    bias_error: float = 0.0  # max |effective per-step drive - float drive|, float units
    bias_error_frac: float = 0.0
    mem_decay_error: float = 0.0  # max |quantized - float| membrane decay factor per step
    syn_decay_error: float = 0.0
    max_input: Optional[float] = None  # largest summed positive input one neuron can get in a step
    weight_max_abs_error: float = 0.0  # over every weight into the population
    weight_mean_abs_error: float = 0.0
    zeroed: int = 0  # nonzero float weights into the population that became 0
    clipped: int = 0
    smallest_surviving: Optional[float] = None
    unreachable: int = 0  # neurons that cannot reach threshold even with all inputs firing
    unreachable_float: int = 0  # ... of those, how many could not in float either
    parameters: dict[str, str] = {}  # the chosen integer parameters, briefly
    overflow: list[str] = []  # where the target's fixed-point state can wrap or saturate


class QuantizationReport(_Record):
    """The whole report: options used, per projection, per population, one-line warnings."""

    target: str
    options: dict[str, Any] = {}
    projections: list[ProjectionQuantization] = []
    populations: list[PopulationQuantization] = []
    warnings: list[str] = []

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the form ``report.json`` embeds under ``"quantization"``)."""
        return self.model_dump(mode="json")

    def projection(self, name: str) -> ProjectionQuantization:
        """The entry of the projection of that name."""
        return next(p for p in self.projections if p.name == name)

    def population(self, name: str) -> PopulationQuantization:
        """The entry of the population of that name."""
        return next(p for p in self.populations if p.name == name)


# ---- building entries ----------------------------------------------------------------------------
def weight_entry(base: dict[str, Any], weight: np.ndarray, quantized: np.ndarray,
                 dequantized: np.ndarray, clipped: np.ndarray,
                 theta_post: np.ndarray) -> ProjectionQuantization:
    """Error statistics of one projection (``theta_post[k]``: v_th - v_reset at its target)."""
    # in place where possible: at 100M synapses every float64 temporary is 800 MB
    error = np.subtract(dequantized, weight, dtype=np.float64)
    np.abs(error, out=error)
    nonzero = weight != 0
    zeroed = nonzero & (quantized == 0)
    survived = nonzero & ~zeroed
    frac = np.divide(error, theta_post, out=np.zeros_like(error), where=theta_post > 0)
    count_nonzero = int(nonzero.sum())
    return ProjectionQuantization(
        **base,
        synapses=int(weight.size),
        max_abs_error=float(error.max(initial=0.0)),
        mean_abs_error=float(error.mean()) if error.size else 0.0,
        max_error_frac_threshold=float(frac.max(initial=0.0)),
        mean_error_frac_threshold=float(frac.mean()) if frac.size else 0.0,
        nonzero=count_nonzero,
        zeroed=int(zeroed.sum()),
        zeroed_fraction=float(zeroed.sum() / count_nonzero) if count_nonzero else 0.0,
        clipped=int(clipped.sum()),
        smallest_surviving=float(np.abs(weight[survived]).min()) if survived.any() else None,
    )


def with_weight_totals(entry: PopulationQuantization,
                       incoming: list[ProjectionQuantization]) -> PopulationQuantization:
    """A population entry completed with the weight statistics of all projections into it."""
    synapses = sum(p.synapses for p in incoming)
    kept = [p.smallest_surviving for p in incoming if p.smallest_surviving is not None]
    return entry.model_copy(update=dict(
        weight_max_abs_error=max((p.max_abs_error for p in incoming), default=0.0),
        weight_mean_abs_error=(sum(p.mean_abs_error * p.synapses for p in incoming) / synapses
                               if synapses else 0.0),
        zeroed=sum(p.zeroed for p in incoming), clipped=sum(p.clipped for p in incoming),
        smallest_surviving=min(kept) if kept else None))


def passthrough_projection(name: str, pre: str, post: str, synapses: int) -> ProjectionQuantization:
    """Entry of a projection into an already-integer population (nothing changed)."""
    return ProjectionQuantization(name=name, pre=pre, post=post, synapses=synapses,
                                  passthrough=True)


def projection_warnings(entry: ProjectionQuantization) -> list[str]:
    """One line per problem: many weights zeroed, any weight clipped."""
    lines = []
    if entry.zeroed and entry.zeroed_fraction > ZEROED_WARNING_FRACTION:
        lines.append(
            f"projection '{entry.name}': {entry.zeroed} of {entry.nonzero} nonzero weights "
            f"({100 * entry.zeroed_fraction:.1f}%) rounded to 0 (step {entry.step:.3g}; "
            f"smallest surviving |w| {_g(entry.smallest_surviving)})")
    if entry.clipped:
        lines.append(f"projection '{entry.name}': {entry.clipped} weights clipped to the largest "
                     f"representable magnitude")
    return lines


def population_warnings(entry: PopulationQuantization) -> list[str]:
    """One line when neurons cannot reach threshold from their maximum input; one per parameter
    (threshold, per-step drive) that moved by more than 1% of ``v_th - v_reset``."""
    lines = []
    if entry.unreachable:
        newly = entry.unreachable - entry.unreachable_float
        lines.append(f"population '{entry.name}': {entry.unreachable} of {entry.size} neurons "
                     f"cannot reach threshold from their maximum input ({newly} of them could "
                     "in float)")
    for what, frac in (("threshold", entry.threshold_error_frac),
                       ("bias (per-step drive)", entry.bias_error_frac)):
        if frac > PARAMETER_WARNING_FRACTION:
            lines.append(f"population '{entry.name}': {what} moved by {100 * frac:.3g}% of "
                         "v_th - v_reset")
    lines += [f"population '{entry.name}': {line}" for line in entry.overflow]
    return lines


# ---- rendering -----------------------------------------------------------------------------------
def _g(value: Optional[float], digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _pct(value: float) -> str:
    return f"({100 * value:.2g}%)"


def render(report: QuantizationReport) -> list[Any]:
    """Rich renderables: populations, their integer parameters, projections, warnings."""
    return [_population_table(report), *_parameter_lines(report), _projection_table(report),
            *([f"warning: {w}" for w in report.warnings] or ["no warnings"])]


def _table(title: str, columns: tuple[str, ...], left: int = 1) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index < left else "right", no_wrap=True)
    return table


def _population_table(report: QuantizationReport) -> Table:
    table = _table(f"quantization for {report.target}: populations (errors in float units and "
                   "as % of v_th - v_reset)", ("population", "kind", "v scale", "thresh err",
                                               "bias err", "leak err", "max input",
                                               "unreachable"), left=2)
    for p in report.populations:
        if p.passthrough:
            table.add_row(p.name, f"{p.kind} (unchanged)", *["-"] * 6)
            continue
        table.add_row(p.name, f"{p.kind}->{p.quantized_kind}", _g(p.scale),
                      f"{_g(p.threshold_error, 2)} {_pct(p.threshold_error_frac)}",
                      f"{_g(p.bias_error, 2)} {_pct(p.bias_error_frac)}",
                      _g(p.mem_decay_error, 2), _g(p.max_input), f"{p.unreachable}/{p.size}")
    return table


def _parameter_lines(report: QuantizationReport) -> list[str]:
    return [f"  {p.name}: " + ", ".join(f"{k}={v}" for k, v in p.parameters.items())
            for p in report.populations if p.parameters]


def _projection_table(report: QuantizationReport) -> Table:
    table = _table("projections", ("projection", "synapses", "w scale", "step", "layout",
                                   "max err", "zeroed", "clipped", "min kept |w|"))
    for q in report.projections:
        if q.passthrough:
            table.add_row(q.name, f"{q.synapses:,}", "-", "-", "unchanged", *["-"] * 4)
            continue
        table.add_row(
            q.name, f"{q.synapses:,}", _g(q.scale, 2), _g(q.step, 2), _layout(q),
            f"{_g(q.max_abs_error, 2)} {_pct(q.max_error_frac_threshold)}",
            f"{q.zeroed}/{q.nonzero}", str(q.clipped), _g(q.smallest_surviving))
    return table


def _layout(q: ProjectionQuantization) -> str:
    if q.receptor_shift is not None:
        return "shift " + "/".join(f"{k[0]}{v}" for k, v in q.receptor_shift.items())
    return f"exp {q.weight_exp} {q.num_weight_bits}b {q.sign_mode}"


# ---- float vs quantized spike agreement (snnc quantize --steps) ----------------------------------
COUNT_TOLERANCE = 0.10  # a neuron "differs" when its spike count is off by more than 10%


def rate_agreement(network: Any, reference: Any, quantized: Any) -> list[dict[str, Any]]:
    """Per neuron population: mean rates of two ``SpikeRecord`` runs and how their counts differ.

    ``rate_error`` is ``|rate_q - rate_f| / rate_f`` (None when the float population is silent);
    ``fraction_differing`` counts neurons with ``|count_q - count_f| > 10% of count_f`` (a silent
    float neuron differs as soon as the quantized one spikes).
    """
    rows = []
    seconds = reference.steps * reference.dt / 1000.0
    for population in network.neuron_populations():
        size = population.size
        counts_f = _counts(reference, population.name, size)
        counts_q = _counts(quantized, population.name, size)
        rate_f = counts_f.sum() / size / seconds
        rate_q = counts_q.sum() / size / seconds
        differing = np.abs(counts_q - counts_f) > COUNT_TOLERANCE * counts_f
        rows.append({
            "population": population.name, "size": size,
            "rate_float_hz": float(rate_f), "rate_quantized_hz": float(rate_q),
            "rate_error": float(abs(rate_q - rate_f) / rate_f) if rate_f > 0 else None,
            "fraction_differing": float(differing.mean()),
        })
    return rows


def _counts(record: Any, name: str, size: int) -> np.ndarray:
    _, ids = record.spikes.get(name, (None, np.zeros(0, dtype=np.int64)))
    return np.bincount(np.asarray(ids, dtype=np.int64), minlength=size)
