r"""Real-time load: the cycles a SpiNNaker core must spend every tick, estimated before it runs.

A SpiNNaker application core has ``clock_hz * dt * time_scale_factor`` cycles per tick; a core
that needs more overruns its timer (spikes go out late, packets pile up). The cost of a tick is
the emulator's cost model (``snnc.backends.spinnaker_emu.cost.CostModel``: one source of truth
for the estimate and for the emulator's measured load)::

    neuron core: tick_overhead + neuron_update * neurons
                 + packet_received * packets + synaptic_event * synaptic events
                 + packet_sent * spikes
    source core: tick_overhead + source_neuron * neurons + packet_sent * spikes
    delay core:  tick_overhead + delay_check * neurons * stages
                 + packet_received * packets + packet_sent * spikes

with every count the expected number per tick from each neuron's estimated rate: a pre neuron
of rate r (spikes per tick) sends r packets per tick into each (pre, delay stage) row of a core
and causes r synaptic events per synapse. The partitioner adds neurons to a core only while this
estimate stays within the budget (``partition.py``), so a build that says it fits runs in real
time at those rates.

Rates (spikes per step per neuron) come from, in order: ``--estimate-rates STEPS`` (a reference
run of the quantized network in the target's numerics), ``--rates POP=HZ``, the sources' own
definitions (Poisson rates, spike-time counts) and ``DEFAULT_NEURON_RATE_HZ`` for every other
neuron.

Loihi has no such resource: its cores advance in barrier-synchronised time steps (each step ends
when every core is done), so a busier core makes every step longer instead of dropping spikes;
nothing a mapping can break at a given speed, and the report lists no load for Loihi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from snnc.ir import Network
from snnc.ir.errors import SnncError

if TYPE_CHECKING:
    from ..hardware import HardwareSpec

DEFAULT_NEURON_RATE_HZ = 10.0
"""Assumed rate of a neuron with no estimate (``--rates``, ``--estimate-rates``)."""


@dataclass(frozen=True)
class LoadModel:
    """Cycle costs (the emulator's ``CostModel``) and the budget of one tick; ``budget`` <= 0:
    not limited (Loihi)."""

    tick_overhead: float
    neuron_update: float
    source_neuron: float
    delay_check: float
    packet_received: float
    synaptic_event: float
    packet_sent: float
    budget: float

    @property
    def limited(self) -> bool:
        return self.budget > 0


NO_LOAD = LoadModel(0, 0, 0, 0, 0, 0, 0, 0.0)


def cost_model(spec: "HardwareSpec") -> Any:
    """The emulator's cost model for this machine (its clock and time scale factor)."""
    from snnc.backends.spinnaker_emu.cost import CostModel  # numpy only: no lava

    return CostModel(clock_hz=float(spec.clock_hz or CostModel.clock_hz),
                     time_scale_factor=spec.time_scale_factor)


def load_model(spec: "HardwareSpec", dt: float) -> LoadModel:
    """The real-time budget of ``spec`` at ``dt`` ms per tick (none for Loihi)."""
    if spec.clock_hz is None:
        return NO_LOAD
    cost = cost_model(spec)
    return LoadModel(cost.tick_overhead, cost.neuron_update, cost.source_neuron,
                     cost.delay_check, cost.packet_received, cost.synaptic_event,
                     cost.packet_sent, float(cost.budget(dt)))


def parse_rates(pairs: tuple[str, ...] | list[str], network: Network) -> dict[str, float]:
    """``POP=HZ`` strings as {population: Hz}; an unknown population or a bad rate is one line."""
    rates = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in network.populations:
            known = ", ".join(network.populations)
            raise SnncError(f"expected POP=HZ with POP one of: {known}; got '{pair}'",
                            where="--rates")
        try:
            hz = float(value)
        except ValueError:
            hz = -1.0
        if not hz >= 0 or hz == float("inf"):
            raise SnncError(f"rate of '{name}' must be a number of Hz >= 0, got '{value}'",
                            where="--rates")
        rates[name] = hz
    return rates


def estimated_rates(network: Network, steps: int, numerics: str) -> dict[str, np.ndarray]:
    """Per-neuron spikes per step of every neuron population, from a reference run of ``steps``
    steps in the target's ``numerics`` (``--estimate-rates``: the quantized network, so the
    rates are the chip's own)."""
    if steps < 1:
        raise SnncError("needs at least 1 step", where="--estimate-rates")
    from snnc.backends import get_backend

    record = get_backend("reference").run(network, steps, numerics=numerics)
    rates = {}
    for population in network.neuron_populations():
        _times, ids = record.spikes[population.name]
        rates[population.name] = np.bincount(ids, minlength=population.size) / steps
    return rates


def neuron_rates(network: Network, given: Mapping[str, float] | None,
                 measured: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Spikes per step per neuron of the populations that have an estimate (the rest: the
    default), measured first, then given in Hz."""
    rates: dict[str, np.ndarray] = {}
    for name, hz in (given or {}).items():
        size = network.populations[name].size
        rates[name] = np.full(size, hz * network.dt / 1000.0)
    for name, per_neuron in (measured or {}).items():
        if name not in rates:
            rates[name] = np.asarray(per_neuron, np.float64)
    return rates


def core_loads(parts: Any, graph: Any, model: LoadModel, stages: Mapping[int, Any]) -> np.ndarray:
    """Estimated cycles per tick of every core (neuron cores from the walker; source and delay
    cores from their neurons' rates)."""
    loads = np.zeros(len(parts.partitioning.cores))
    if not model.limited:
        return loads
    loads[:parts.neuron_load.size] = parts.neuron_load
    rate = graph.rate
    for core in parts.partitioning.cores:
        if core.kind == "neuron":
            continue
        ids = np.concatenate([np.arange(graph.offsets[graph.names.index(s.population)] + s.start,
                                        graph.offsets[graph.names.index(s.population)] + s.stop)
                              for s in core.slices]) if core.slices else np.zeros(0, np.int64)
        spikes = float(rate[ids].sum())
        if core.kind == "source":
            loads[core.id] = (model.tick_overhead + model.source_neuron * ids.size
                              + model.packet_sent * spikes)
        else:  # a delay core: receives its source core's spikes, re-sends one per stage used
            used = len(stages.get(core.extends, ())) if core.extends is not None else 0
            loads[core.id] = (model.tick_overhead + model.delay_check * ids.size * used
                              + model.packet_received * spikes
                              + model.packet_sent * spikes * used)
    return loads
