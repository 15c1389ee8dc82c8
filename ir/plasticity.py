"""Learning rules in the IR: a projection's ``plasticity`` is the parameter object of a registered
rule (``snnc.models``: ``stdp``, and each target's native rule), validated by its ``rule`` name
against the rule registry exactly as a population's ``neuron`` is by its ``kind`` (``neurons.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator

from snnc.models import RULES
from snnc.models.rstdp import RStdp
from snnc.models.stdp import Stdp


def _plasticity(value: Any) -> Any:
    """A registered rule's parameter object, from itself or from a mapping with ``rule``."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        name = value.get("rule")
        if not isinstance(name, str) or name not in RULES:
            raise ValueError(f"unknown learning rule {name!r} (known: {', '.join(RULES.names)})")
        return RULES.get(name).params.model_validate(dict(value))
    name = getattr(value, "rule", None)
    if not isinstance(name, str) or name not in RULES or not isinstance(value, RULES.get(name).params):
        raise ValueError(f"expected a learning rule (known: {', '.join(RULES.names)}), "
                         f"got {type(value).__name__}")
    return value


Plasticity = Annotated[Any, BeforeValidator(_plasticity)]

__all__ = ["Plasticity", "RStdp", "Stdp"]
