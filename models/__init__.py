"""Neuron models as data: one module per model, one registry, one table of targets.

Each model module (``lif.py``, ``li.py``, ``loihi_lif.py``, ``spinnaker_lif.py``) defines the IR
parameter type, the equations, the update in every numerics that runs it, the quantizers to the
targets' integer models with the features they keep, and the backends that lower it; ``MODEL``
collects them (``base.NeuronModel``). ``targets.py`` defines each target once. Everything that
says what a target can run (``snnc targets --support``, ``snnc validate --target``, the refusals
of quantize and the backends) is derived in ``support.py`` from these two tables.

This package sits between the IR and the compiler/backends: it imports only ``snnc.ir``'s values
and errors, never the compiler, a backend, or lava (quantizers and lowerings are named by import
path and loaded on first use). See docs/models.md, "Add a neuron model".
"""

if __name__ != "snnc.models":  # pyproject's package-dir: the folder models/ is snnc.models
    raise ImportError(f"models/ is the package snnc.models: import snnc.models, not {__name__}")

from .base import (
    FEATURES,
    LavaLowering,
    LearningRule,
    NeuronModel,
    PlasticStep,
    PlasticSynapses,
    Quantizer,
    Step,
)
from .registry import REGISTRY, RULES, Registry, RuleRegistry, registered

__all__ = ["FEATURES", "LavaLowering", "LearningRule", "NeuronModel", "PlasticStep",
           "PlasticSynapses", "Quantizer", "Step", "REGISTRY", "RULES", "Registry", "RuleRegistry",
           "registered"]
