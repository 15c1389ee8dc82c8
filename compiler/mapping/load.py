r"""Real-time load: the cycles a SpiNNaker core must spend every tick, estimated before it runs.

A SpiNNaker application core has ``clock_hz * dt * time_scale_factor`` cycles per tick; a core
that needs more overruns its timer (spikes go out late, packets pile up). The estimate is a mean
over ticks and bursts cost more, so a core may average only ``load_headroom`` (0.5) of its
cycles: the busiest tick of W1 costs 1.5x the mean. The cost of a tick is
the emulator's cost model (``snnc.backends.spinnaker_emu.cost.CostModel``: one source of truth
for the estimate and for the emulator's measured load)::

    neuron core: tick_overhead + neuron_update * neurons
                 + packet_received * packets + synaptic_event * synaptic events
                 + packet_sent * spikes
                 + plastic_event * plastic synaptic events + post_event * spikes of neurons
                   with plastic inputs (STDP: the emulator's ``plastic.py`` charges the same)
    source core: tick_overhead + source_neuron * neurons + packet_sent * spikes
    delay core:  tick_overhead + delay_check * neurons * stages
                 + packet_received * packets + packet_sent * spikes

with every count the expected number per tick from each neuron's estimated rate: a pre neuron
of rate r (spikes per tick) causes r synaptic events per synapse. The partitioner adds neurons to
a core only while its estimate stays within the budget (``partition.py``): while walking it
counts the packets of the sending blocks a neuron links to the core; with the cores known it
recounts them per sending core (a core receives every packet of every core that targets it,
``neuron_core_loads``) and walks again where a core can still shrink. The report's loads are that
count (``core_loads``), so a core that still cannot keep up is a violation: a build that
says it fits runs in real time at those rates.

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
    """Cycle costs (the emulator's ``CostModel``) and the mean cycles a core may spend per tick
    (the tick's cycles times the spec's ``load_headroom``); ``budget`` <= 0: not limited (Loihi)."""

    tick_overhead: float
    neuron_update: float
    source_neuron: float
    delay_check: float
    packet_received: float
    synaptic_event: float
    packet_sent: float
    budget: float
    plastic_event: float = 0.0
    post_event: float = 0.0

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
                     cost.packet_sent, float(cost.budget(dt)) * spec.load_headroom,
                     cost.plastic_event, cost.post_event)


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


def _events_in(graph: Any) -> np.ndarray:
    """Per neuron: the synaptic events per tick of its incoming synapses."""
    events = np.zeros(graph.n)
    if graph.in_pre.size:
        starts = graph.in_ptr[:-1]
        nonempty = starts < graph.in_ptr[1:]
        events[nonempty] = np.add.reduceat(graph.rate[graph.in_pre], starts[nonempty])
    return events


def plastic_cycles(graph: Any, model: LoadModel) -> np.ndarray:
    """Per neuron, the STDP cycles per tick its core spends for it: ``plastic_event`` per plastic
    synaptic event arriving (on top of the row word's ``synaptic_event``, which every synapse
    costs) and ``post_event`` per spike of a neuron with plastic inputs."""
    if graph.plastic_events is None or not model.limited:
        return np.zeros(graph.n)
    return (model.plastic_event * graph.plastic_events
            + model.post_event * graph.rate * graph.plastic_post)


def neuron_core_loads(graph: Any, model: LoadModel, core_of: np.ndarray, neurons: np.ndarray,
                      pairs: np.ndarray, stage_mask: np.ndarray,
                      n_send: int) -> tuple[np.ndarray, np.ndarray]:
    """Estimated cycles per tick of each neuron core of a partition, and the part of it that no
    smaller core would shed (tick overhead and packets received: packets are counted per sending
    core, which a core receives whole; through its delay core, one per stage it emits)."""
    placed = core_of >= 0
    spikes = np.bincount(core_of[placed], weights=graph.rate[placed], minlength=n_send)
    events = np.bincount(core_of[placed], weights=_events_in(graph)[placed], minlength=n_send)
    plastic = np.bincount(core_of[placed], weights=plastic_cycles(graph, model)[placed],
                          minlength=n_send)
    stages = np.array([bin(int(m) >> 1).count("1") for m in stage_mask], dtype=np.float64)
    direct = (pairs & 1) > 0
    delayed = (pairs & 2) > 0
    received = spikes[:pairs.shape[0]] @ direct + (spikes[:pairs.shape[0]] * stages) @ delayed
    k = neurons.size
    fixed = model.tick_overhead + model.packet_received * received[:k]
    return (fixed + model.neuron_update * neurons + model.synaptic_event * events[:k]
            + model.packet_sent * spikes[:k] + plastic[:k]), fixed


def _core_neurons(core: Any, graph: Any) -> np.ndarray:
    if not core.slices:
        return np.zeros(0, np.int64)
    return np.concatenate([np.arange(graph.offsets[graph.names.index(s.population)] + s.start,
                                     graph.offsets[graph.names.index(s.population)] + s.stop)
                           for s in core.slices])


def core_loads(parts: Any, graph: Any, model: LoadModel, stages: Mapping[int, Any]) -> np.ndarray:
    """Estimated cycles per tick of every core of a finished mapping: neuron cores as the
    partitioner counted them last (``neuron_core_loads``: whole sending cores' packets, failed
    lookups included), source and delay cores from their neurons' rates (a delay core receives
    each spike of its source core once and sends one packet per stage it emits)."""
    cores = parts.partitioning.cores
    loads = np.zeros(len(cores))
    if not model.limited:
        return loads
    loads[:parts.neuron_load.size] = parts.neuron_load
    spikes = np.array([float(graph.rate[_core_neurons(core, graph)].sum()) for core in cores])
    for core in cores:
        n = core.neurons
        if core.kind == "source":
            loads[core.id] = (model.tick_overhead + model.source_neuron * n
                              + model.packet_sent * spikes[core.id])
        elif core.kind == "delay":
            used = len(stages.get(core.id, ()))
            received = spikes[core.extends] if core.extends is not None else 0.0
            loads[core.id] = (model.tick_overhead + model.delay_check * n * used
                              + model.packet_received * received
                              + model.packet_sent * received * used)
    return loads
