"""The emulated machine: a build loaded onto chips, cores and routers, and its run.

``EmuMachine(build)`` loads (``loader``) and walks the routes once; ``run(steps)`` runs the tick
loop (``engine.run_ticks``) and returns the spikes and the provenance counters. The arrays are
attributes, so a test can corrupt a synaptic row (``machine.rows.weight``) and see the spikes
change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping, Sequence

import numpy as np

from snnc.backends.spikes import SpikeRecord, WeightRecord
from snnc.ir.errors import NetworkError
from snnc.ir.sources import source_spikes

from .cost import CostModel
from .engine import run_ticks
from .foreign import as_tuple, loop_module
from .loader import (
    NeuronLayout,
    Packets,
    Rows,
    active_deliveries,
    build_rows,
    lookups,
    neuron_cores,
    neuron_layout,
    neuron_params,
    route_packets,
    route_patterns,
)
from .neuron import FLAG_GRADED
from .plastic import PlasticLoad, load_plastic
from .router import N_LINKS, mesh_of

SPIKE_CHUNK = 1 << 20


@dataclass
class Counters:
    """Provenance counters the tick loop fills (per core, per router, per link, per packet)."""

    sent: np.ndarray
    received: np.ndarray
    events: np.ndarray
    failed_lookups: np.ndarray
    saturations: np.ndarray
    cycles_total: np.ndarray
    cycles_max: np.ndarray
    overruns: np.ndarray
    late: np.ndarray
    received_peak: np.ndarray
    router_tick: np.ndarray
    router_peak: np.ndarray
    link_tick: np.ndarray
    link_peak: np.ndarray
    emitted: np.ndarray

    @staticmethod
    def zeros(n_cores: int, n_chips: int, n_packets: int) -> "Counters":
        per_core = {f.name: np.zeros(n_cores, np.int64) for f in fields(Counters)[:10]}
        return Counters(**per_core, router_tick=np.zeros(n_chips, np.int64),
                        router_peak=np.zeros(n_chips, np.int64),
                        link_tick=np.zeros(n_chips * N_LINKS, np.int64),
                        link_peak=np.zeros(n_chips * N_LINKS, np.int64),
                        emitted=np.zeros(n_packets, np.int64))

    def as_tuple(self) -> tuple:
        return tuple(vars(self).values())


def _next_pow2(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


class EmuMachine:
    """A compiled build loaded onto the emulated SpiNNaker machine."""

    def __init__(self, build: Any, cost: CostModel | None = None) -> None:
        self.build = build
        hardware = build.hardware
        # the build's machine: its clock and time scale factor (snnc compile --time-scale-factor)
        self.cost = cost or CostModel(
            clock_hz=float(getattr(hardware, "clock_hz", None) or CostModel.clock_hz),
            time_scale_factor=float(getattr(hardware, "time_scale_factor", 1.0)))
        self.slots = int(getattr(hardware, "delay_slots", 16))
        self.cores = {c.id: c for c in build.partition.cores}
        used = {(int(x), int(y)) for x, y, _ in build.placement.location.values()}
        used |= {tuple(chip) for chip in build.routing.tables}
        self.mesh = mesh_of(hardware, used)
        self.neurons: NeuronLayout = neuron_layout(build)
        self.n_neurons = self.neurons.total
        self.families = self.neurons.families  # foreign kinds (foreign.py)
        self.params, self.v_init = neuron_params(build, self.neurons)
        self.packets: Packets = route_packets(build, self.mesh)
        self._ring_layout()
        self.rows: Rows = build_rows(build, self.slots, self.neuron_bits, self.slot_bits)
        self._delay_cores()
        kind, row = lookups(build, self.packets, self.rows, self.delay_base)
        self.active = active_deliveries(self.packets, kind, row)
        self.patterns = route_patterns(self.packets)
        self._neuron_packets()
        self._static_cycles()
        self.plastic: PlasticLoad = load_plastic(self)
        self.plastic_state: tuple = self.plastic.fresh()  # the last run's (weights(): its end)

    # ---- loading helpers ------------------------------------------------------------------------
    def _ring_layout(self) -> None:
        """Each neuron core's ring: ``ring_slots`` slots x 2 receptors x 2^neuron_bits entries."""
        biggest = max((c.neurons for c in self.cores.values() if c.kind == "neuron"), default=1)
        self.neuron_bits = max(0, int(biggest - 1).bit_length())
        self.ring_slots = _next_pow2(self.slots)
        self.slot_bits = self.ring_slots.bit_length() - 1
        per_core = self.ring_slots << (self.neuron_bits + 1)
        self.ring_base = np.zeros(len(self.cores), np.int64)
        self.ring_pos = np.zeros(self.n_neurons, np.int64)
        cores = neuron_cores(self.build)
        for k, core in enumerate(cores):
            self.ring_base[core.id] = per_core * k
        layout = self.neurons
        for name, index in layout.index.items():  # a neuron's entries are its own core's
            self.ring_pos[index] = self.ring_base[layout.core[name]] + layout.local[name]
        self.ring_size = per_core * len(cores)
        self.layout = (np.int64(self.neuron_bits + 1), np.int64(self.ring_slots - 1),
                       np.int64((1 << (self.neuron_bits + 1)) - 1))

    def _delay_cores(self) -> None:
        """Delay-core inputs (one per source neuron) and what each stage sends."""
        self.delay_base, total = {}, 0
        inputs, stages, packets = [], [], []
        last_stage = 0
        for core in self.cores.values():
            if core.kind != "delay":
                continue
            self.delay_base[core.id] = total
            first = self.packets.offset.get(core.id)
            for stage in self.build.routing.delay_stages.get(core.id, ()):
                local = np.arange(core.neurons)
                inputs.append(total + local)
                stages.append(np.full(core.neurons, stage))
                packets.append(first + (stage - 1) * core.neurons + local)
                last_stage = max(last_stage, stage)
            total += core.neurons
        self.n_delay_inputs = total
        self.pending_rows = last_stage * self.slots + 1

        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

        self.delay_sends = (np.int64(self.slots), cat(inputs), cat(stages), cat(packets))

    def _neuron_packets(self) -> None:
        """Packet number of every neuron's spike; population and index of every neuron."""
        net = self.build.network
        self.neuron_g = np.full(self.n_neurons, -1, np.int64)
        self.population_of = np.zeros(self.n_neurons, np.int64)
        self.index_in_population = np.zeros(self.n_neurons, np.int64)
        self.population_names = [p.name for p in net.neuron_populations()]
        self.global_index: dict[str, np.ndarray] = self.neurons.index
        for k, pop in enumerate(net.neuron_populations()):
            core, local = self.neurons.core[pop.name], self.neurons.local[pop.name]
            idx = self.global_index[pop.name]
            first = self._first_packet()[core]
            self.neuron_g[idx] = np.where(first >= 0, first + local, -1)
            self.population_of[idx] = k
            self.index_in_population[idx] = np.arange(pop.size)

    def _foreign_graded_packets(self) -> np.ndarray:
        """Packet of every graded neuron of a foreign family (its payload: ``message_row``)."""
        parts = [self.neuron_g[f.first + f.graded_local] for f in self.families]
        g = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return g[g >= 0].astype(np.int64)

    def _first_packet(self) -> np.ndarray:
        """First packet number of every core (by id); -1 for cores that send nothing."""
        first = np.full(len(self.cores), -1, np.int64)
        first[list(self.packets.offset)] = list(self.packets.offset.values())
        return first

    def _static_cycles(self) -> None:
        static = np.zeros(len(self.cores), np.int64)
        stages = self.build.routing.delay_stages
        for core in self.cores.values():
            static[core.id] = self.cost.static_cycles(core.kind, core.neurons,
                                                      len(stages.get(core.id, ())))
        self.static = static

    # ---- running --------------------------------------------------------------------------------
    def _sources(self, steps: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Packets the source cores send, grouped by tick: (ptr over ticks, packet numbers).

        Also keeps each source population's spikes in ``self.source_events`` (they are recorded).
        """
        times, packets = [], []
        self.source_events = {}
        for pop in self.build.network.source_populations():
            t, i = source_spikes(pop.source, pop.size, steps, dt)
            # a neuron spikes at most once per tick: a repeated (time, id) is one packet
            unique = np.unique(t.astype(np.int64) << 32 | i.astype(np.int64))
            t, i = unique >> 32, unique & 0xFFFFFFFF
            self.source_events[pop.name] = (t, i)
            core, local = self.build.partition.where(pop.name, pop.size)
            first = self._first_packet()[core[i]]
            keep = first >= 0
            times.append(t[keep].astype(np.int64))
            packets.append(first[keep] + local[i][keep])
        t = np.concatenate(times) if times else np.zeros(0, np.int64)
        g = np.concatenate(packets) if packets else np.zeros(0, np.int64)
        order = np.argsort(t, kind="stable")
        ptr = np.zeros(steps + 1, np.int64)
        np.cumsum(np.bincount(t, minlength=steps)[:steps], out=ptr[1:])
        return ptr, g[order]

    def _route_arrays(self) -> tuple:
        """Per-packet deliveries that do work, rows, and the route patterns (the loop's tuple)."""
        r, pat = self.rows, self.patterns
        return (*self.active, r.ptr, r.length, r.words, pat.of, *pat.cores, *pat.routers,
                *pat.links)

    def _record_indices(self, record_v: Sequence[str]) -> np.ndarray:
        for name in record_v:
            if name not in self.global_index:
                raise NetworkError(f"no neuron population '{name}' to record", where="--record-v")
        parts = [self.global_index[name] for name in record_v]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def weights(self) -> dict[str, np.ndarray]:
        """``{plastic projection: its 16-bit weights (int64) in synapse order}`` at the end of
        the last run (the initial weights before any run)."""
        return self.plastic.weights(self.plastic_state)

    def run(self, steps: int, record_v: Sequence[str] = (),
            record_weights: Mapping[str, int] | None = None,
            progress: bool = False) -> tuple[SpikeRecord, Counters]:
        """Run ``steps`` ticks from the initial state; spikes (and voltages) and counters.
        ``record_weights[projection] = every``: its final weights and, with ``every`` > 0, its
        weights at the end of every ``every``-th tick (as the reference records them).
        ``progress``: a bar (``snnc.progress``), the tick loop in about 100 chunks; the loop
        carries its whole state from chunk to chunk, so the spikes are the same."""
        dt = float(self.build.network.dt)
        p = self.params
        ring = np.zeros(self.ring_size, np.uint16)
        pending = np.zeros((self.pending_rows, self.n_delay_inputs), np.int32)
        state = (self.v_init.astype(np.int64).copy(), np.zeros((2, self.n_neurons), np.int64),
                 np.zeros(self.n_neurons, np.int64), ring, pending)
        neuron = (p.v_thresh, p.v_reset, p.v_rest, p.i_offset, p.exp_tc, p.r_membrane, p.decay,
                  p.init, p.shift, p.flags, p.t_refract, p.payload_shift)
        src_ptr, src_g = self._sources(steps, dt)
        builtin_g = self.neuron_g[:p.flags.size]
        graded_n = np.flatnonzero(((p.flags & FLAG_GRADED) != 0) & (builtin_g >= 0))
        graded_sent = self._foreign_graded_packets()
        graded_g = np.zeros(self.packets.key.size, np.uint8)
        graded_g[self.neuron_g[graded_n]] = 1
        graded_g[graded_sent] = 1
        payload = np.zeros(self.packets.key.size, np.int64)  # the last payload of each packet
        net = (self.neuron_g, self.packets.core, src_ptr, src_g, self.ring_pos, self.ring_base,
               self.layout, graded_n.astype(np.int64), graded_g, payload, graded_sent)
        counters = Counters.zeros(len(self.cores), len(self.mesh.chips), self.packets.key.size)
        rec_index = self._record_indices(record_v)
        v_rec = np.zeros((steps, rec_index.size), np.int64)
        cost = self.cost.as_arrays(self.static, dt)
        # foreign kinds: the generated loop that calls their kernels, each family's own state
        # the built-in loop for built-in kinds with STDP; otherwise the generated one, with the
        # foreign families' calls and the STDP calls only where the machine has plastic rows
        plastic_rows = bool(self.plastic.names)
        loop = (run_ticks if plastic_rows and not self.families else
                loop_module(self.families, plastic_rows).run_ticks)
        fams = tuple(as_tuple(f) for f in self.families)
        plastic = self.plastic_state = self.plastic.fresh()
        every = {name: int(e) for name, e in (record_weights or {}).items()}
        intervals = [e for e in every.values() if e > 0]
        chunk = math.gcd(*intervals) if intervals else 0
        history: dict[str, list] = {name: [] for name in every}
        spike_t, spike_n, t = [], [], 0
        from snnc.progress import Bar, bars_enabled, chunk_for

        shown = progress and bars_enabled() and steps >= 2
        bar_chunk = chunk_for(steps) if shown else 0
        with Bar(steps, "spinnaker-emu", "ticks", enabled=shown) as bar:
            while t < steps:
                stop = min(steps, (t // chunk + 1) * chunk) if chunk else steps
                if bar_chunk:
                    stop = min(stop, t + bar_chunk)
                buf_t = np.empty(max(SPIKE_CHUNK, self.n_neurons), np.int64)
                buf_n = np.empty_like(buf_t)
                t, written = loop(t, stop, state, neuron, net, self._route_arrays(),
                                  self.delay_sends, cost, counters.as_tuple(), buf_t, buf_n,
                                  rec_index, v_rec, plastic, *fams)
                spike_t.append(buf_t[:written])
                spike_n.append(buf_n[:written])
                if t == stop and chunk:
                    now = self.weights()
                    for name, e in every.items():
                        if e and t % e == 0:
                            history[name].append((t - 1, now[name]))
                bar.update(t)
        record = self._record(steps, dt, spike_t, spike_n, record_v, v_rec)
        record.weights.update(self._weight_records(every, history))
        return record, counters

    def _weight_records(self, every: Mapping[str, int],
                        history: Mapping[str, list]) -> dict[str, WeightRecord]:
        final = self.weights()
        out = {}
        for name, e in every.items():
            if name not in final:
                raise NetworkError(f"cannot record the weights of '{name}': not a plastic "
                                   f"projection (plastic: {', '.join(final) or 'none'})",
                                   where="--record-weights")
            snaps = history[name]
            out[name] = WeightRecord(
                self.plastic.pre[name], self.plastic.post[name], final[name],
                np.array([s for s, _ in snaps], np.int32) if e else None,
                (np.stack([w for _, w in snaps]) if snaps
                 else np.zeros((0, final[name].size), np.int64)) if e else None)
        return out

    def _record(self, steps, dt, spike_t, spike_n, record_v, v_rec) -> SpikeRecord:
        times = np.concatenate(spike_t) if spike_t else np.zeros(0, np.int64)
        neurons = np.concatenate(spike_n) if spike_n else np.zeros(0, np.int64)
        events = dict(self.source_events)
        for k, name in enumerate(self.population_names):
            pick = self.population_of[neurons] == k
            events[name] = (times[pick], self.index_in_population[neurons[pick]])
        voltages, col = {}, 0
        for name in record_v:
            size = self.global_index[name].size
            voltages[name] = v_rec[:, col:col + size]
            col += size
        return SpikeRecord.from_events(steps, dt, events, voltages)
