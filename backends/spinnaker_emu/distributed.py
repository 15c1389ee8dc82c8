"""spinnaker-emu over MPI ranks: chips to ranks, multicast packets exchanged every tick.

The build's chips are dealt to ranks in contiguous runs of chip order ``(x, y)``, balanced by
estimated load (per core: its neurons plus the synaptic words its incoming packets touch, the
cost model's two per-tick terms). A rank *owns* the cores on its chips: only they update their
ring buffers and neurons' inputs, store delay-core spikes, and count their synaptic events,
saturations and failed lookups. Per tick ``t`` (``engine.py``'s order):

1. every rank updates the neurons (``engine.builtin_neurons``) and takes the spikes of its own
   neurons, and the delay re-sends (``engine._delay_sends``) of its own delay cores;
2. the ranks allgather those (neuron index; delay-send index, as often as sent);
3. every rank forms the tick's full packet list in the single process's order (neurons by index,
   then the sources' packets, which every rank draws itself from the per-source seeds, then the
   delay re-sends by index) and routes all of it: the per-router, per-link and per-core receive
   and send counts are the same on every rank, while each packet's deliveries are done only by
   the owner of the receiving core (``_deliver`` over the deliveries into owned cores alone).

A core therefore sees the same packets in the same order as in one process: its ring sums, its
saturation count (which depends on the order of adds) and its cost-model cycles are identical.
After the run, rank 0 takes every core's counters from its owner and the routers' and links'
from itself, and writes the usual ``provenance.json``.

The window is one tick: a packet is delivered in the tick it is sent (into slot ``t + d``), and
the delay cores' clear-then-store of their spike rows happens in the same tick, so a longer
window would have to replay per-tick cost accounting (not done).

Limits: every rank loads the whole machine (rows, tables: memory does not shrink with the rank
count; the work of delivery does), and neurons of other ranks' chips are updated and discarded
(the update is the small part of a tick). Graded (``spinnaker_li``) senders and foreign neuron
kinds are refused under ``--ranks`` for now.
"""

from __future__ import annotations

import time
from dataclasses import fields
from typing import Any, Sequence

import numpy as np

from snnc.backends.reference.distributed import balanced_ranges
from snnc.backends.spikes import SpikeRecord
from snnc.ir.errors import UnsupportedOnTarget
from snnc.models.jit import njit

from . import as_build
from .engine import _count_patterns, _deliver, builtin_neurons
from .loader import DELIVER_ROW
from .machine import Counters, EmuMachine
from .neuron import FLAG_GRADED
from .provenance import provenance, render, save

_PER_CORE = [f.name for f in fields(Counters)[:10]]


@njit(cache=True)
def _own_tick(t, state, neuron, net, delays, spiked, own_neuron, own_delay, spikes, resent,
              v_rec_index, v_rec):
    """Step 1: update every neuron; this rank's spiking neurons and delay re-sends (by index)."""
    builtin_neurons(t, state, neuron, net, spiked)
    v, _, _, _, pending = state
    n_spikes = 0
    for n in range(v.size):
        if spiked[n] and own_neuron[n]:
            spikes[n_spikes] = n
            n_spikes += 1
    for k in range(v_rec_index.size):
        v_rec[t, k] = v[v_rec_index[k]]
    slots, d_input, d_stage, d_g = delays
    rows = pending.shape[0]
    n_resent = 0
    for k in range(d_g.size):
        arrived = t - d_stage[k] * slots
        if arrived < 0 or not own_delay[k]:
            continue
        for _ in range(pending[arrived % rows, d_input[k]]):
            resent[n_resent] = k
            n_resent += 1
    pending[t % rows, :] = 0
    return n_spikes, n_resent


@njit(cache=True)
def _route_tick(t, state, net, routes, delays, cost, counters, scratch, spikes, resent,
                spike_t, spike_n, n_stored):
    """Steps 1-4 of ``engine.send_and_route`` for the tick's full packet list (every rank's
    spikes and re-sends); deliveries only into this rank's cores (``routes`` holds those)."""
    _, _, _, ring, pending = state
    (neuron_g, g_core, src_ptr, src_g, _, ring_base, layout, _, graded_g, payload, _) = net
    (dptr, dcore, dkind, drow, rptr, rlen, words, pattern_of, pc_ptr, pc, pr_ptr, pr, pl_ptr,
     pl) = routes
    d_g = delays[3]
    (static_cycles, cyc_packet, cyc_event, cyc_send, budget) = cost
    (sent, recv, events, failed, saturations, cyc_total, cyc_max, overruns, late, recv_peak,
     router_tick, router_peak, link_tick, link_peak, emitted) = counters
    _, out, tick_recv, tick_events, tick_sent, pattern_count, touched = scratch
    n_out = 0
    for j in range(spikes.size):
        n = spikes[j]
        spike_t[n_stored] = t
        spike_n[n_stored] = n
        n_stored += 1
        if neuron_g[n] >= 0:
            out[n_out] = neuron_g[n]
            n_out += 1
    for k in range(src_ptr[t], src_ptr[t + 1]):
        out[n_out] = src_g[k]
        n_out += 1
    for j in range(resent.size):
        out[n_out] = d_g[resent[j]]
        n_out += 1
    pending_row = t % pending.shape[0]
    n_touched = 0
    for k in range(n_out):
        g = out[k]
        tick_sent[g_core[g]] += 1
        emitted[g] += 1
        p = pattern_of[g]
        if pattern_count[p] == 0:
            touched[n_touched] = p
            n_touched += 1
        pattern_count[p] += 1
        _deliver(g, t, dptr, dcore, dkind, drow, rptr, rlen, words, layout, ring_base, ring,
                 pending, pending_row, tick_events, failed, saturations, graded_g, payload)
    _count_patterns(touched, n_touched, pattern_count, pc_ptr, pc, pr_ptr, pr, pl_ptr, pl,
                    tick_recv, router_tick, link_tick)
    for c in range(static_cycles.size):
        cycles = (static_cycles[c] + cyc_packet * tick_recv[c] + cyc_event * tick_events[c]
                  + cyc_send * tick_sent[c])
        cyc_total[c] += cycles
        cyc_max[c] = max(cyc_max[c], cycles)
        if cycles > budget:
            overruns[c] += 1
            late[c] += tick_recv[c]
        recv_peak[c] = max(recv_peak[c], tick_recv[c])
        sent[c] += tick_sent[c]
        recv[c] += tick_recv[c]
        events[c] += tick_events[c]
        tick_recv[c] = 0
        tick_events[c] = 0
        tick_sent[c] = 0
    for r in range(router_tick.size):
        router_peak[r] = max(router_peak[r], router_tick[r])
        router_tick[r] = 0
    for r in range(link_tick.size):
        link_peak[r] = max(link_peak[r], link_tick[r])
        link_tick[r] = 0
    return n_stored


def _scratch(machine: EmuMachine, source_packets: int, patterns: int) -> tuple:
    """The tick's work arrays: spiked flags, packets out, per-core receive/event/send counts,
    per-pattern counts and the patterns touched (``engine.tick_scratch``'s first seven)."""
    cores = len(machine.cores)
    out = machine.n_neurons + source_packets + machine.delay_sends[3].size
    return (np.zeros(machine.n_neurons, np.bool_), np.empty(out, np.int64),
            np.zeros(cores, np.int64), np.zeros(cores, np.int64), np.zeros(cores, np.int64),
            np.zeros(patterns, np.int64), np.empty(patterns, np.int64))


def _refuse_unsupported(machine: EmuMachine) -> None:
    for k, projection in enumerate(machine.build.network.projections):
        if getattr(projection, "plasticity", None) is not None:
            raise UnsupportedOnTarget("plastic projections do not run under --ranks yet; run "
                                      "without --ranks", where=f"projections[{k}]")
    if machine.families:
        kind = machine.families[0].kind if hasattr(machine.families[0], "kind") else "foreign"
        raise UnsupportedOnTarget(f"neuron kind '{kind}' runs in a generated loop that --ranks "
                                  "does not split yet; run without --ranks", where="--ranks")
    graded = np.flatnonzero((machine.params.flags & FLAG_GRADED) != 0)
    if graded.size and (machine.neuron_g[graded] >= 0).any():
        raise UnsupportedOnTarget("graded (spinnaker_li) senders send a payload every tick, "
                                  "which --ranks does not exchange yet; run without --ranks",
                                  where="--ranks")


def _core_chips(machine: EmuMachine) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The chips in (x, y) order and each core's chip index in that list."""
    location = machine.build.placement.location
    chips = sorted({(int(x), int(y)) for x, y, _ in location.values()})
    number = {chip: k for k, chip in enumerate(chips)}
    chip_of = np.zeros(len(machine.cores), np.int64)
    for core_id, (x, y, _) in location.items():
        chip_of[core_id] = number[(int(x), int(y))]
    return chips, chip_of


def _core_load(machine: EmuMachine) -> np.ndarray:
    """Per core: its neurons plus the synaptic words of every delivery into it (per spike)."""
    dptr, dcore, dkind, drow = machine.active
    words = np.where(dkind == DELIVER_ROW, machine.rows.length[np.maximum(drow, 0)], 0)
    load = np.bincount(dcore, weights=words.astype(np.float64), minlength=len(machine.cores))
    for core in machine.cores.values():
        load[core.id] += core.neurons
    return load


def chip_ranges(machine: EmuMachine, ranks: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Each core's owning rank, and each rank's run of chips (indices into (x, y) order)."""
    chips, chip_of = _core_chips(machine)
    chip_load = np.bincount(chip_of, weights=_core_load(machine), minlength=len(chips))
    ranges = balanced_ranges(chip_load, ranks, np.arange(len(chips) + 1))
    rank_of_chip = np.zeros(len(chips), np.int64)
    for rank, (lo, hi) in enumerate(ranges):
        rank_of_chip[lo:hi] = rank
    return rank_of_chip[chip_of], ranges


def _own_deliveries(active: tuple, own_core: np.ndarray) -> tuple:
    """``machine.active`` with only the deliveries into owned cores."""
    ptr, core, kind, row = active
    g = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
    keep = own_core[core]
    new_ptr = np.zeros(ptr.size, np.int64)
    np.cumsum(np.bincount(g[keep], minlength=ptr.size - 1), out=new_ptr[1:])
    return new_ptr, core[keep], kind[keep], row[keep]


class RankMachine:
    """One rank's share of an emulated machine and its run (module docstring)."""

    def __init__(self, source: Any, steps: int, comm: Any, record_v: Sequence[str]):
        self.machine = machine = EmuMachine(as_build(source))
        _refuse_unsupported(machine)
        self.comm, self.steps, self.record_v = comm, int(steps), tuple(record_v)
        self.rank_of_core, self.chip_ranges = chip_ranges(machine, comm.size)
        own_core = self.rank_of_core == comm.rank
        self.own_core = own_core
        core_of_neuron = np.zeros(machine.n_neurons, np.int64)
        for name, index in machine.neurons.index.items():
            core_of_neuron[index] = machine.neurons.core[name]
        self.own_neuron = own_core[core_of_neuron]
        slots, d_input, d_stage, d_g = machine.delay_sends
        self.own_delay = own_core[machine.packets.core[d_g]] if d_g.size else np.zeros(0, bool)
        self.active = _own_deliveries(machine.active, own_core)
        self.stats: dict[str, Any] = {"window_steps": 1, "exchange_s": 0.0, "compute_s": 0.0,
                                      "bytes_received": 0, "cores": int(own_core.sum()),
                                      "chip_ranges": self.chip_ranges}
        self.provenance: dict | None = None

    def _exchange(self, spikes: np.ndarray, resent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every rank's spiking neurons (sorted) and delay re-sends (sorted, repeats kept)."""
        if self.comm.size == 1:
            return spikes, resent
        from mpi4py import MPI

        mine = np.array([spikes.size, resent.size], np.int64)
        counts = np.zeros((self.comm.size, 2), np.int64)
        self.comm.Allgather(mine, counts)
        totals = counts.sum(axis=1)
        received = np.zeros(int(totals.sum()), np.int64)
        displacements = np.concatenate([[0], np.cumsum(totals)[:-1]])
        self.comm.Allgatherv(np.concatenate([spikes, resent]),
                             [received, totals, displacements, MPI.INT64_T])
        self.stats["bytes_received"] += int(counts.nbytes + received.nbytes - mine.nbytes
                                            - 8 * (spikes.size + resent.size))
        neurons, sends = [], []
        for r in range(self.comm.size):
            first = displacements[r]
            neurons.append(received[first:first + counts[r, 0]])
            sends.append(received[first + counts[r, 0]:first + totals[r]])
        # neuron indices of different ranks interleave (a rank's chips hold any populations)
        return np.sort(np.concatenate(neurons)), np.sort(np.concatenate(sends))

    def run(self) -> SpikeRecord | None:
        """Run every tick; rank 0 gets the SpikeRecord (and ``provenance``), the others None."""
        m = self.machine
        steps, dt = self.steps, float(m.build.network.dt)
        p = m.params
        ring = np.zeros(m.ring_size, np.uint16)
        pending = np.zeros((m.pending_rows, m.n_delay_inputs), np.int32)
        state = (m.v_init.astype(np.int64).copy(), np.zeros((2, m.n_neurons), np.int64),
                 np.zeros(m.n_neurons, np.int64), ring, pending)
        neuron = (p.v_thresh, p.v_reset, p.v_rest, p.i_offset, p.exp_tc, p.r_membrane, p.decay,
                  p.init, p.shift, p.flags, p.t_refract, p.payload_shift)
        src_ptr, src_g = m._sources(steps, dt)
        none = np.zeros(0, np.int64)
        payload = np.zeros(m.packets.key.size, np.int64)
        graded_g = np.zeros(m.packets.key.size, np.uint8)
        net = (m.neuron_g, m.packets.core, src_ptr, src_g, m.ring_pos, m.ring_base, m.layout,
               none, graded_g, payload, none)
        counters = Counters.zeros(len(m.cores), len(m.mesh.chips), m.packets.key.size)
        pat = m.patterns
        routes = (*self.active, m.rows.ptr, m.rows.length, m.rows.words, pat.of, *pat.cores,
                  *pat.routers, *pat.links)
        cost = m.cost.as_arrays(m.static, dt)
        rec_index = m._record_indices(self.record_v)
        v_rec = np.zeros((steps, rec_index.size), np.int64)
        scratch = _scratch(m, src_g.size, pat.cores[0].size - 1)
        spikes = np.zeros(m.n_neurons, np.int64)
        resent = np.zeros(max(1, m.delay_sends[3].size), np.int64)  # one send per (input, stage)
        spike_t: list[np.ndarray] = []
        spike_n: list[np.ndarray] = []
        started = time.perf_counter()
        for t in range(steps):
            t0 = time.perf_counter()
            n_spk, n_res = _own_tick(t, state, neuron, net, m.delay_sends, scratch[0],
                                     self.own_neuron, self.own_delay, spikes, resent, rec_index,
                                     v_rec)
            t1 = time.perf_counter()
            all_spikes, all_resent = self._exchange(spikes[:n_spk].copy(), resent[:n_res].copy())
            t2 = time.perf_counter()
            buf_t = np.empty(all_spikes.size, np.int64)
            buf_n = np.empty(all_spikes.size, np.int64)
            _route_tick(t, state, net, routes, m.delay_sends, cost, counters.as_tuple(), scratch,
                        all_spikes, all_resent, buf_t, buf_n, 0)
            if self.comm.rank == 0:
                spike_t.append(buf_t)
                spike_n.append(buf_n)
            self.stats["compute_s"] += (t1 - t0) + (time.perf_counter() - t2)
            self.stats["exchange_s"] += t2 - t1
        self.stats["run_s"] = time.perf_counter() - started
        counters = self._gather_counters(counters)
        v_rec = self._gather_voltages(rec_index, v_rec)
        if self.comm.rank != 0:
            return None
        self.provenance = provenance(m, counters, steps)
        return m._record(steps, dt, spike_t, spike_n, self.record_v, v_rec)

    def _gather_counters(self, counters: Counters) -> Counters:
        """Rank 0: each core's counters from its owner, the routers' and links' as they are."""
        per_core = {name: getattr(counters, name) for name in _PER_CORE}
        gathered = self.comm.gather(per_core, root=0)
        if self.comm.rank != 0:
            return counters
        for name in _PER_CORE:
            merged = getattr(counters, name)
            for rank, values in enumerate(gathered):
                mine = self.rank_of_core == rank
                merged[mine] = values[name][mine]
        return counters

    def _gather_voltages(self, rec_index: np.ndarray, v_rec: np.ndarray) -> np.ndarray:
        """Rank 0: each recorded neuron's column from the rank that owns it."""
        gathered = self.comm.gather(v_rec, root=0)
        if self.comm.rank != 0:
            return v_rec
        core_of = np.zeros(self.machine.n_neurons, np.int64)
        for name, index in self.machine.neurons.index.items():
            core_of[index] = self.machine.neurons.core[name]
        rank_of_column = self.rank_of_core[core_of[rec_index]]
        merged = v_rec.copy()
        for rank, values in enumerate(gathered):
            merged[:, rank_of_column == rank] = values[:, rank_of_column == rank]
        return merged

    def stats_dict(self) -> dict[str, Any]:
        return dict(self.stats)

    def save_provenance(self, path: Any) -> None:
        if self.provenance is not None:
            save(self.provenance, path)

    def provenance_renderables(self) -> list:
        return render(self.provenance) if self.provenance is not None else []


def plan(source: Any, steps: int, comm: Any, *, record_v: Sequence[str] = ()) -> RankMachine:
    """Load the machine and this rank's share of it (no communication)."""
    return RankMachine(source, steps, comm, record_v)


__all__ = ["RankMachine", "chip_ranges", "plan"]
