"""Neuron kinds in the IR: a population's ``neuron`` is the parameter object of a registered model.

The models themselves (parameters, equations, updates, quantizers, lowerings) live in
``snnc.models``, one module each; this module is the IR's view of them: the field type that
validates a population's ``neuron`` by its ``kind`` against the registry (so a model registered
later, e.g. by a test, is accepted with no edit here), and the names older code imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Iterator

from pydantic import BaseModel, BeforeValidator

from snnc.models import REGISTRY
from snnc.models.li import LI
from snnc.models.lif import LIF
from snnc.models.loihi_lif import LoihiLIF
from snnc.models.spinnaker_lif import SpinnakerLIF


class _Kinds(Mapping[str, type[BaseModel]]):
    """``kind -> parameter type`` of every registered model, read live from the registry."""

    def __getitem__(self, kind: str) -> type[BaseModel]:
        if kind not in REGISTRY:
            raise KeyError(kind)
        return REGISTRY.get(kind).params

    def __iter__(self) -> Iterator[str]:
        return iter(REGISTRY.kinds)

    def __len__(self) -> int:
        return len(REGISTRY.kinds)


NEURON_KINDS: Mapping[str, type[BaseModel]] = _Kinds()


def _neuron(value: Any) -> Any:
    """A registered model's parameter object, from itself or from a mapping with ``kind``."""
    if isinstance(value, Mapping):
        kind = value.get("kind")
        if not isinstance(kind, str) or kind not in REGISTRY:
            raise ValueError(f"unknown neuron kind {kind!r} (known: {', '.join(REGISTRY.kinds)})")
        return REGISTRY.get(kind).params.model_validate(dict(value))
    kind = getattr(value, "kind", None)
    if not isinstance(kind, str) or kind not in REGISTRY or not isinstance(
            value, REGISTRY.get(kind).params):
        raise ValueError(f"expected a neuron model (known kinds: {', '.join(REGISTRY.kinds)}), "
                         f"got {type(value).__name__}")
    return value


Neuron = Annotated[Any, BeforeValidator(_neuron)]


def integer_weights(kind: str) -> bool:
    """True when weights into ``kind`` are integers in its target's own units."""
    return kind in REGISTRY and REGISTRY.get(kind).integer_weights


__all__ = ["LI", "LIF", "LoihiLIF", "SpinnakerLIF", "NEURON_KINDS", "Neuron", "integer_weights"]
