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

import importlib
from typing import Callable

from snnc.ir import Network, Population, Projection, expand
from snnc.ir.connect import connection_count
from snnc.models import REGISTRY
from snnc.models.support import check_population
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
    for name, population in network.populations.items():
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
        result = quantizer(population, _incoming(network, name), network, options)
        populations[name] = Population(name=name, size=population.size, neuron=result.neuron)
        pop_reports.append(with_weight_totals(result.population,
                                              list(result.projection_reports.values())))
        for index, projection in result.projections.items():
            projections[index] = projection
        proj_reports.update(result.projection_reports)
    quantized = Network(network.name, dt=network.dt, populations=populations,
                        projections=projections, metadata=dict(network.metadata))
    report = _report(numerics, options, pop_reports,
                     [proj_reports[i] for i in sorted(proj_reports)])
    return QuantizedNetwork(network=quantized, target=numerics, report=report), report


def _population_quantizer(path: str) -> Callable[..., PopulationResult]:
    """A model's quantizer, named ``module:attribute`` in its registry entry."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _incoming(network: Network, name: str) -> list[Incoming]:
    return [Incoming(i, p, expand(network, p))
            for i, p in enumerate(network.projections) if p.post == name]


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
