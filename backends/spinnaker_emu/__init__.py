"""``spinnaker-emu``: a SpiNNaker 1 machine emulated core by core, router by router.

A compiled build (``snnc compile --target spinnaker-emu``) is loaded onto chips and application
cores; every spike is a multicast packet that the routers deliver with the build's own routing
tables; neuron cores keep sPyNNaker's s16.15 LIF state (or any registered model's ``spinnaker``
Step and tables, ``foreign.py``), synaptic rows and uint16 ring buffers; delay-extension cores
re-send spikes for long delays. Its spikes equal the reference's
``spinnaker`` numerics bit for bit, and each run also yields provenance (``self.provenance``):
CPU load and tick overruns from a cost model, router and link traffic, saturations, drops.
See docs/spinnaker-emu.md.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from snnc.backends.spikes import SpikeRecord
from snnc.ir.errors import UnsupportedOnTarget
from snnc.models.targets import TARGETS

from .cost import CostModel
from .machine import EmuMachine
from .provenance import provenance, render, save

TARGET = TARGETS["spinnaker-emu"].name


def as_build(source: Any, hardware: Any = None) -> Any:
    """A compiled build for spinnaker-emu: ``source`` itself, or ``source`` (a Network) compiled."""
    if hasattr(source, "routing") and hasattr(source, "placement"):
        if source.target != TARGET:
            raise UnsupportedOnTarget(f"build was compiled for '{source.target}', not '{TARGET}'",
                                      where="--target")
        return source
    from snnc.compiler import compile_network

    return compile_network(source, TARGET, hardware)


class SpinnakerEmuBackend:
    """The ``spinnaker-emu`` target. After ``run``, ``provenance`` holds the run's report."""

    name = TARGET

    def __init__(self) -> None:
        self.provenance: dict | None = None
        self.machine: EmuMachine | None = None

    def load(self, source: Any, *, hardware: Any = None, cost: CostModel | None = None) -> EmuMachine:
        """Load (compiling if needed) onto the emulated machine, without running."""
        self.machine = EmuMachine(as_build(source, hardware), cost)
        return self.machine

    def run(self, source: Any, steps: int, *, record_v: Sequence[str] = (),
            hardware: Any = None, cost: CostModel | None = None,
            record_weights: Mapping[str, int] | None = None, **options: Any) -> SpikeRecord:
        """Run ``steps`` ticks; returns the spikes (and, for ``record_weights``, the plastic
        projections' weights) and keeps the provenance in ``self.provenance``."""
        machine = source if isinstance(source, EmuMachine) else self.load(
            source, hardware=hardware, cost=cost)
        record, counters = machine.run(steps, record_v, record_weights,
                                       progress=bool(options.get("progress")))
        self.provenance = provenance(machine, counters, steps)
        return record

    def save_provenance(self, path: Any) -> None:
        """Write the last run's ``provenance.json`` (``snnc run`` puts it beside the spikes)."""
        if self.provenance is not None:
            save(self.provenance, path)

    def provenance_renderables(self) -> list:
        """The last run's provenance as a summary line and rich tables (what ``snnc run`` prints)."""
        return render(self.provenance) if self.provenance is not None else []


__all__ = ["SpinnakerEmuBackend", "EmuMachine", "CostModel", "provenance", "render", "save"]
