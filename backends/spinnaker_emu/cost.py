"""The emulator's cost model: ARM968 cycles per tick and per core, against the timer tick.

A SpiNNaker 1 application core is an ARM968 at 200 MHz; sPyNNaker's timer fires every ``dt`` ms
(times ``time_scale_factor``), so a core has ``200e6 * dt / 1000 * time_scale_factor`` cycles per
tick (200,000 at dt = 1 ms). A core that needs more than that in a tick overruns: on the machine
its timer callbacks queue up, spikes go out late and packets pile up in the input buffer.

Cycles of a core in one tick (counts are this tick's, for this core)::

    neuron core: tick_overhead + neuron_update * neurons
                 + packet_received * packets + synaptic_event * row words + packet_sent * spikes
    source core: tick_overhead + source_neuron * neurons + packet_sent * spikes
    delay core:  tick_overhead + delay_check * neurons * stages
                 + packet_received * packets + packet_sent * spikes
    + on a neuron core with plastic synapses (``plastic.py``):
                 plastic_event * plastic synapses updated + post_event * post spikes recorded

The constants are estimates, not measurements: ``synaptic_event`` = 15 comes from sPyNNaker's
planning figure of 13e6 static synaptic events per second per core (200e6 / 13e6 ≈ 15,
``population_vertex.py::__update_n_synapse_cores``); ``plastic_event`` = 128 from its figure of
1.4e6 STDP synaptic events per second per core in the same place (200e6 / 1.4e6 ≈ 143 cycles, of
which the static event's 15 are already counted: a plastic synapse's word is also a row word);
``post_event`` = 40 (an estimate: one history append, a shuffle when full); the others are of
the order that sPyNNaker's C code spends (interrupt entry and a master-population-table binary
search + DMA set-up per packet; an s16.15 LIF update with two exponential synapses per neuron).
Override any of them with
``CostModel(...)`` (``SpinnakerEmuBackend().run(..., cost=CostModel(neuron_update=150))``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

KIND_NEURON, KIND_SOURCE, KIND_DELAY = "neuron", "source", "delay"


@dataclass(frozen=True)
class CostModel:
    """Cycles per unit of work on one application core, and the clock that pays for them."""

    clock_hz: float = 200e6
    time_scale_factor: float = 1.0
    tick_overhead: int = 1000
    neuron_update: int = 100
    source_neuron: int = 20
    delay_check: int = 5
    packet_received: int = 120
    synaptic_event: int = 15
    packet_sent: int = 20
    plastic_event: int = 128
    post_event: int = 40

    def budget(self, dt_ms: float) -> int:
        """Cycles available in one tick of ``dt_ms`` milliseconds."""
        return int(round(self.clock_hz * dt_ms / 1000.0 * self.time_scale_factor))

    def static_cycles(self, kind: str, neurons: int, stages: int = 0) -> int:
        """Cycles a core spends every tick whatever arrives: overhead plus its per-neuron work."""
        per_neuron = {KIND_NEURON: self.neuron_update, KIND_SOURCE: self.source_neuron,
                      KIND_DELAY: self.delay_check * stages}[kind]
        return self.tick_overhead + per_neuron * neurons

    def tick_cycles(self, static: int, received: int, events: int, sent: int) -> int:
        """Cycles of one core in one tick (the formula the tick loop evaluates)."""
        return (static + self.packet_received * received + self.synaptic_event * events
                + self.packet_sent * sent)

    def as_arrays(self, static: np.ndarray, dt_ms: float) -> tuple:
        """The tuple the numba tick loop takes."""
        return (static.astype(np.int64), np.int64(self.packet_received),
                np.int64(self.synaptic_event), np.int64(self.packet_sent),
                np.int64(self.budget(dt_ms)))

    def to_dict(self) -> dict:
        return asdict(self)
