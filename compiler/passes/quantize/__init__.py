"""The quantization pass: float ``lif`` networks to each target's exact fixed-point neuron kind.

``quantize(network, target, options) -> (QuantizedNetwork, QuantizationReport)`` is pure: it never
changes its input. Every float population becomes the target's integer model its registry entry names
(``snnc.models``: ``lif`` -> ``loihi_lif`` for loihi, ``spinnaker_lif`` for spinnaker); the
projections into it get integer weights (and, on Loihi, ``weight_exp`` and ``num_weight_bits``).
Populations already in the target's integer kind pass unchanged with their projections; sources
and connectivity are kept. What the target cannot run (the registry's support rules,
``snnc.models.support``) raises ``UnsupportedOnTarget`` naming the population, model, feature
and target.

The number formats and how scales are chosen are in ``loihi.py``, ``spinnaker.py`` and
docs/quantization.md; the report in ``report.py``; what the quantizers share in ``common.py``.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Callable

from snnc.ir import Network, Population, Projection, expand
from snnc.ir.connect import connection_count
from snnc.models import REGISTRY, RULES
from snnc.models.support import check_network, check_population
from snnc.models.targets import Target, get_target

from .common import (
    Incoming,
    PopulationResult,
    QuantizedNetwork,
    QuantizeOptions,
)
from .report import (
    PopulationQuantization,
    ProjectionQuantization,
    QuantizationReport,
    passthrough_projection,
    population_warnings,
    projection_warnings,
    with_weight_totals,
)


def canonical_target(target: str) -> str:
    """The numerics a target quantizes to: ``loihi-sim``/``loihi`` -> ``loihi``, ... (targets table)."""
    found = _quantizing_target(target)
    return found.numerics


def _quantizing_target(name: str) -> Target:
    from snnc.ir.errors import SnncError

    try:
        target = get_target(name)
    except SnncError:
        target = None
    if target is None or not target.quantizes:
        from snnc.models.targets import QUANTIZE_TARGETS, TARGETS

        known = [*QUANTIZE_TARGETS, *(a for t in TARGETS.values() for a in t.aliases)]
        raise SnncError(f"cannot quantize for target '{name}' (known: {', '.join(known)})",
                        where="--target")
    return target


def quantize(network: Network, target: str,
             options: QuantizeOptions | None = None) -> tuple[QuantizedNetwork, QuantizationReport]:
    """Quantize every float population of ``network`` for ``target`` (module docstring)."""
    chip = _quantizing_target(target)
    numerics = chip.numerics
    options = options or QuantizeOptions()
    populations: dict[str, Population] = {}
    projections = list(network.projections)
    proj_reports: dict[int, ProjectionQuantization] = {}
    pop_reports: list[PopulationQuantization] = []
    messages: dict[str, tuple[float, float]] = {}  # graded populations quantized so far
    rule_warnings: list[str] = []
    for name in _order(network):
        population = network.populations[name]
        if population.is_source:
            populations[name] = population
            continue
        check_population(population, network, chip)  # one line naming what the target refuses
        model = REGISTRY.get(population.kind)
        if model.native_numerics == numerics:
            populations[name] = population
            pop_reports.append(_passthrough_population(population))
            for index, projection in enumerate(network.projections):
                if projection.post == name:
                    proj_reports[index] = passthrough_projection(
                        projection.name, projection.pre, name, _count(network, projection))
            continue
        quantizer = _population_quantizer(model.quantizers[numerics].function)
        result = quantizer(population, _incoming(network, name, messages), network, options)
        if result.message is not None:
            messages[name] = result.message
        populations[name] = Population(name=name, size=population.size, neuron=result.neuron)
        pop_reports.append(with_weight_totals(result.population,
                                              list(result.projection_reports.values())))
        for index, projection in result.projections.items():
            projections[index] = projection
        proj_reports.update(result.projection_reports)
    for index, original in enumerate(network.projections):
        if original.plasticity is not None:  # (a quantizer's new projection may not carry it)
            projection = projections[index].model_copy(update={"plasticity": original.plasticity})
            projections[index] = _quantize_plasticity(index, projection, proj_reports.get(index),
                                                      network, numerics, options, rule_warnings)
    populations = {name: populations[name] for name in network.populations}  # network order
    quantized = Network(network.name, dt=network.dt, populations=populations,
                        projections=projections, metadata=dict(network.metadata))
    check_network(quantized, chip)  # what one native process must share (LavaLowering.check)
    report = _report(numerics, options, pop_reports,
                     [proj_reports[i] for i in sorted(proj_reports)])
    report.warnings.extend(rule_warnings)
    return QuantizedNetwork(network=quantized, target=numerics, report=report), report


def _quantize_plasticity(index: int, projection: Projection,
                         weights: ProjectionQuantization | None, network: Network, numerics: str,
                         options: QuantizeOptions, warnings: list[str]) -> Projection:
    """A plastic projection's rule in the numerics' native rule (``LearningRule.quantizers``),
    in the integer units its weights were given (``weights.scale``: the float value of one
    integer weight unit; 1.0 where the weights were integers already)."""
    from snnc.ir.errors import UnsupportedOnTarget

    rule = RULES.get(projection.plasticity.rule)
    if rule.native_numerics == numerics:
        return projection
    where = f"projections[{index}].plasticity"
    if numerics not in rule.quantizers:
        raise UnsupportedOnTarget(
            f"learning rule '{rule.name}' of projection '{projection.name}' cannot run in "
            f"{numerics} numerics (it has: {', '.join(['float', *rule.quantizers])})", where=where)
    scale = weights.scale if weights is not None and weights.scale is not None else 1.0
    module, _, attribute = rule.quantizers[numerics].partition(":")
    quantize_rule: Any = getattr(importlib.import_module(module), attribute)
    native, notes = quantize_rule(projection.plasticity, projection, scale, network, options)
    warnings.extend(f"projection '{projection.name}': {note}" for note in notes)
    return projection.model_copy(update={"plasticity": native})


def _population_quantizer(path: str) -> Callable[..., PopulationResult]:
    """A model's quantizer, named ``module:attribute`` in its registry entry."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _graded(network: Network) -> set[str]:
    """Non-spiking populations that feed a projection (their value is sent every step)."""
    senders = {p.pre for p in network.projections}
    return {p.name for p in network.neuron_populations()
            if p.name in senders and not REGISTRY.get(p.kind).spiking}


def _order(network: Network) -> list[str]:
    """Network order, except that a graded population comes before the populations it feeds
    (their weights are scaled by its message unit). A cycle through graded populations is refused.
    """
    graded = _graded(network)
    feeds: dict[str, set[str]] = {name: set() for name in network.populations}
    for projection in network.projections:
        if projection.pre in graded and projection.pre != projection.post:
            feeds[projection.post].add(projection.pre)
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            from snnc.ir.errors import UnsupportedOnTarget

            raise UnsupportedOnTarget(
                f"graded populations form a cycle ({' -> '.join((*path, name))}): their messages "
                "cannot be quantized one after the other", where=f"populations.{name}")
        state[name] = 1
        for pre in sorted(feeds[name]):
            visit(pre, (*path, name))
        state[name] = 2
        order.append(name)

    for name in network.populations:
        visit(name, ())
    return order


def _incoming(network: Network, name: str,
              messages: dict[str, tuple[float, float]]) -> list[Incoming]:
    """The projections into ``name``, expanded; from a graded population, its weights are per
    message unit (``Incoming``)."""
    items = []
    for index, projection in enumerate(network.projections):
        if projection.post != name:
            continue
        synapses = expand(network, projection)
        peak = 1.0
        if projection.pre in messages:
            unit, peak = messages[projection.pre]
            synapses = dataclasses.replace(synapses, weight=synapses.weight * unit)
        items.append(Incoming(index, projection, synapses, message_peak=peak,
                              graded=projection.pre in messages))
    return items


def _count(network: Network, projection: Projection) -> int:
    """Synapses of a projection, drawn only when the rule cannot tell (fixed_probability)."""
    pre, post = network.populations[projection.pre], network.populations[projection.post]
    count = connection_count(projection.connect, pre.size, post.size, recurrent=pre is post)
    return count if count is not None else len(expand(network, projection))


def _passthrough_population(population: Population) -> PopulationQuantization:
    return PopulationQuantization(name=population.name, size=population.size,
                                  kind=population.kind, quantized_kind=population.kind,
                                  passthrough=True)


def _report(target: str, options: QuantizeOptions, populations: list[PopulationQuantization],
            projections: list[ProjectionQuantization]) -> QuantizationReport:
    warnings = [line for p in projections if not p.passthrough for line in projection_warnings(p)]
    warnings += [line for p in populations for line in population_warnings(p)]
    return QuantizationReport(target=target, options=options.model_dump(mode="json"),
                              projections=projections, populations=populations, warnings=warnings)


__all__ = ["QuantizeOptions", "QuantizedNetwork", "QuantizationReport", "canonical_target",
           "quantize"]
