"""What each target can run, derived from the model registry and the target table.

``support(model, target)`` says whether ``target`` runs ``model`` (natively, or after quantizing
it to the target's integer model), which of the model's features it keeps exactly, and why not.
``check_network(network, target)`` applies that to every population and raises the first refusal
as one line naming the population, the model, the feature and the target. ``support_matrix()`` is
what ``snnc targets --support --json`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from snnc.ir.errors import UnsupportedOnTarget

from .base import FEATURES, NeuronModel
from .registry import REGISTRY, Registry
from .targets import TARGETS, Target, get_target

_GRADED_REASON = ("graded (non-spiking) messages between layers are not lowered to this target; "
                  "a non-spiking population may only be a final readout here")


@dataclass(frozen=True)
class Support:
    """Whether a target runs a model, with which features, and why not."""

    supported: bool
    runs_as: str | None  # the kind the target's backend runs (after quantization)
    features: dict[str, bool] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # feature (or "kind") -> why not
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"supported": self.supported, "features": dict(self.features),
                "reason": self.reason, "runs_as": self.runs_as,
                "feature_reasons": dict(self.reasons)}


def _features(model: NeuronModel, target: Target, keeps: frozenset[str] | None
              ) -> tuple[dict[str, bool], dict[str, str]]:
    features, reasons = {}, {}
    for name in model.features:
        kept = keeps is None or name in keeps
        if name == "graded_output" and not target.graded:
            kept, reasons[name] = False, _GRADED_REASON
        features[name] = kept
        if not kept and name not in reasons:
            reasons[name] = f"its quantization to {target.name} does not keep it exactly"
    return features, reasons


def support(model: NeuronModel, target: Target | str, registry: Registry = REGISTRY) -> Support:
    """How ``target`` runs ``model`` (module docstring)."""
    target = get_target(target) if isinstance(target, str) else target
    if not target.quantizes:  # the reference: every model in the numerics it has
        if not model.steps:
            return Support(False, None, reason=f"'{model.kind}' has no update the reference runs")
        features, reasons = _features(model, target, None)
        return Support(True, model.kind, features, reasons)
    if model.native_numerics == target.numerics and target.name in model.lowerings:
        features, reasons = _features(model, target, None)
        return Support(True, model.kind, features, reasons)
    quantizer = model.quantizers.get(target.numerics)
    if quantizer is None:
        reason = model.refusals.get(target.numerics) or (
            f"no {target.numerics} model for '{model.kind}' and no quantization to one")
        return Support(False, None, reason=reason)
    native = registry.get(quantizer.to)
    if target.name not in native.lowerings:
        return Support(False, None, reason=f"'{model.kind}' quantizes to '{native.kind}', which "
                                           f"{target.name} does not lower")
    features, reasons = _features(model, target, quantizer.keeps)
    reasons.update({k: v for k, v in quantizer.refuses.items() if not features.get(k, True)})
    return Support(True, native.kind, features, reasons)


def used_features(population: Any, network: Any, model: NeuronModel) -> dict[str, str]:
    """``{feature: field}`` a population uses, including ``graded_output`` (a non-spiking
    population with outgoing projections)."""
    used = model.used_features(population.neuron)
    if not model.spiking and any(p.pre == population.name for p in network.projections):
        used["graded_output"] = "kind"
    return used


def check_population(population: Any, network: Any, target: Target | str,
                     registry: Registry = REGISTRY) -> Support:
    """Refuse (``UnsupportedOnTarget``, one line) what ``target`` cannot run of this population."""
    target = get_target(target) if isinstance(target, str) else target
    model = registry.get(population.kind, where=f"populations.{population.name}.neuron.kind")
    where = f"populations.{population.name}.neuron"
    verdict = support(model, target, registry)
    if not verdict.supported:
        raise UnsupportedOnTarget(f"population '{population.name}' is '{model.kind}', which "
                                  f"{target.name} cannot run: {verdict.reason}", where=f"{where}.kind")
    for feature, field_name in used_features(population, network, model).items():
        if not verdict.features.get(feature, False):
            reason = verdict.reasons.get(feature, "not supported")
            raise UnsupportedOnTarget(
                f"population '{population.name}' ({model.kind}) uses {FEATURES[feature]}, which "
                f"{target.name} cannot run: {reason}", where=f"{where}.{field_name}")
    quantizer = model.quantizers.get(target.numerics) if target.quantizes else None
    if quantizer is not None and quantizer.check is not None:
        quantizer.check(population)
    return verdict


def check_network(network: Any, target: Target | str, registry: Registry = REGISTRY) -> None:
    """``check_population`` for every neuron population, in network order; then each native
    lowering's check of all its populations together (one process per kind on loihi-sim)."""
    target = get_target(target) if isinstance(target, str) else target
    by_kind: dict[str, list[Any]] = {}
    for population in network.neuron_populations():
        check_population(population, network, target, registry)
        by_kind.setdefault(population.kind, []).append(population)
    for kind, populations in by_kind.items():
        check = getattr(registry.get(kind).lowerings.get(target.name), "check", None)
        if check is not None:
            check(populations)
    for index, projection in enumerate(network.projections):
        if projection.plasticity is not None:
            check_plasticity(index, projection, target)


def check_plasticity(index: int, projection: Any, target: Target, rules: Any = None) -> None:
    """Refuses (one line) a plastic projection whose rule ``target`` cannot run: the reference
    runs every rule that has arithmetic; a chip runs a float rule it has a quantizer to, and a
    native rule it lowers (``LearningRule.quantizers``, ``.lowerings``)."""
    from snnc.ir.errors import UnsupportedOnTarget

    from .registry import RULES

    rule = (rules or RULES).get(projection.plasticity.rule, where=f"projections[{index}]"
                                                                  ".plasticity.rule")
    if not target.quantizes:
        return
    native = rule.native_numerics
    if native is None and target.numerics in rule.quantizers:
        return
    if native == target.numerics and target.name in rule.lowerings:
        return
    why = (f"it has no {target.numerics} form" if native is None or native != target.numerics
           else f"{target.name} has no lowering of it yet")
    raise UnsupportedOnTarget(
        f"projection '{projection.name}' learns with '{rule.name}', which {target.name} cannot "
        f"run: {why} (runs on: {', '.join(_rule_targets(rule)) or 'the reference only'})",
        where=f"projections[{index}].plasticity")


def _rule_targets(rule: Any) -> list[str]:
    found = ["reference"]
    for target in TARGETS.values():
        if not target.quantizes:
            continue
        if (rule.native_numerics is None and target.numerics in rule.quantizers) or (
                rule.native_numerics == target.numerics and target.name in rule.lowerings):
            found.append(target.name)
    return found


def support_matrix(registry: Registry = REGISTRY) -> dict[str, Any]:
    """``{"targets": [...], "models": [...], "support": {T: {M: {...}}}, "features": {...}}``."""
    targets = list(TARGETS.values())
    return {
        "targets": [{"name": t.name, "numerics": t.numerics, "hardware": t.hardware,
                     "max_delay": t.max_delay, "delay_extension": t.delay_extension,
                     "graded": t.graded, "summary": t.summary} for t in targets],
        "models": [{"kind": m.kind, "summary": m.summary, "spiking": m.spiking,
                    "integer": m.integer_weights, "features": list(m.features)}
                   for m in registry],
        "features": dict(FEATURES),
        "support": {t.name: {m.kind: support(m, t, registry).as_json() for m in registry}
                    for t in targets},
    }
