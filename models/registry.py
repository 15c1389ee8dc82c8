"""The registry of neuron models: the one table every layer looks a ``kind`` up in.

The built-in models are the modules of this package that define ``MODEL`` (one module per model):
first those listed in ``BUILTIN``, in that order, then every other one by module name, so that a
new model is its module alone. ``registered(model)`` adds another for the duration of a ``with``
block, which is how tests prove that a new model needs no edit outside its own module.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from typing import Iterator

from snnc.ir.errors import NetworkError

from .base import LearningRule, NeuronModel

BUILTIN = ("lif", "li", "loihi_lif", "loihi_li", "spinnaker_lif", "spinnaker_li")
"""Modules of ``snnc.models`` whose models tables list first, in this order."""

_NOT_MODELS = frozenset({"base", "jit", "lava_fixed_point", "registry", "support", "targets"})
"""The package's own infrastructure (``support`` imports this module: never import it here)."""


class Registry:
    """Models by kind, in registration order."""

    def __init__(self, models: list[NeuronModel]) -> None:
        self._models: dict[str, NeuronModel] = {}
        for model in models:
            self.add(model)

    def add(self, model: NeuronModel) -> None:
        if model.kind in self._models:
            raise ValueError(f"neuron kind {model.kind!r} is already registered")
        self._models[model.kind] = model

    def remove(self, kind: str) -> None:
        del self._models[kind]

    def get(self, kind: str, where: str = "neuron.kind") -> NeuronModel:
        """The model of ``kind``; an unknown kind is a one-line ``NetworkError`` listing the known."""
        model = self._models.get(kind)
        if model is None:
            raise NetworkError(f"unknown neuron kind {kind!r} (known: {', '.join(self._models)})",
                               where=where)
        return model

    def of(self, neuron: object) -> NeuronModel:
        """The model of a neuron parameter object (``LIF(...)``, ...)."""
        return self.get(getattr(neuron, "kind"))  # noqa: B009 (an object has no kind to mypy)

    def __iter__(self) -> Iterator[NeuronModel]:
        return iter(list(self._models.values()))

    def __contains__(self, kind: object) -> bool:
        return kind in self._models

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._models)


def _model_modules() -> list[str]:
    found = sorted(info.name for info in pkgutil.iter_modules(importlib.import_module(
        __package__).__path__) if info.name not in _NOT_MODELS and not info.name.startswith("_"))
    return [*BUILTIN, *(name for name in found if name not in BUILTIN)]


def _modules() -> list:
    return [importlib.import_module(f"{__package__}.{name}") for name in _model_modules()]


def _builtin() -> list[NeuronModel]:
    return [module.MODEL for module in _modules() if hasattr(module, "MODEL")]


class RuleRegistry:
    """Learning rules by name (a projection's ``plasticity.rule``), in registration order: the
    modules of this package that define ``RULE``."""

    def __init__(self, rules: list[LearningRule]) -> None:
        self._rules: dict[str, LearningRule] = {}
        for rule in rules:
            self.add(rule)

    def add(self, rule: LearningRule) -> None:
        if rule.name in self._rules:
            raise ValueError(f"learning rule {rule.name!r} is already registered")
        self._rules[rule.name] = rule

    def remove(self, name: str) -> None:
        del self._rules[name]

    def get(self, name: str, where: str = "plasticity.rule") -> LearningRule:
        """The rule called ``name``; an unknown one is a one-line ``NetworkError``."""
        rule = self._rules.get(name)
        if rule is None:
            raise NetworkError(f"unknown learning rule {name!r} (known: {', '.join(self._rules)})",
                               where=where)
        return rule

    def __iter__(self) -> Iterator[LearningRule]:
        return iter(list(self._rules.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._rules)


REGISTRY = Registry(_builtin())
RULES = RuleRegistry([module.RULE for module in _modules() if hasattr(module, "RULE")])


@contextlib.contextmanager
def registered(model: NeuronModel) -> Iterator[NeuronModel]:
    """Register ``model`` for the duration of the block (tests; plug-ins loaded by the caller)."""
    REGISTRY.add(model)
    try:
        yield model
    finally:
        REGISTRY.remove(model.kind)
