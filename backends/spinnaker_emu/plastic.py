r"""Plastic projections in the neuron cores: sPyNNaker's STDP synapse processing (``spinnaker_stdp``).

A plastic synapse lives where sPyNNaker keeps it: in a row of its target core (one row per
presynaptic neuron, target core and projection, with the row's pre-event history: the time and
trace of its last spike), and every neuron that a plastic synapse reaches keeps a post-event
history of 16 entries on its core (``post_events.h``). The arithmetic is the rule's own
(``models/spinnaker_stdp.py``: ``add_post_event``, ``add_pre_spike``, ``update_synapse``), over
the emulator's rows, histories and uint16 ring buffers (``synapse_dynamics_stdp_mad_impl.c``).

Per tick ``t`` (the tick loop, ``engine.py``):

1. ``plastic_arrive`` (before the neurons update): the packets sent at ``t - 1`` that reach
   plastic rows are processed: each row's pre trace is advanced, each of its synapses brought up
   to date over its neuron's history and its new 16-bit weight added into ring slot
   ``(t - 1 + delay) & slot_mask`` of its core (saturating at 0xFFFF, counted). A packet is
   processed after the neurons of the tick that sent it updated, as the reference's ``arrive``;
2. ``plastic_learn`` (after the neurons updated, before the packets go out): the spikes of ``t``
   enter their neurons' post histories, and the packets of ``t`` that reach plastic rows wait
   for step 1 of ``t + 1``.

The row's static words carry weight 0 (the master population table, lookups and the synaptic
event count stay the static path's, ``loader._synapse_words``); the cycles of the STDP work are
added per core (``CostModel.plastic_event`` per synapse updated, ``post_event`` per post spike
recorded). Limits (refused in one line): delays above the in-core slots (sPyNNaker's delay
extension re-times the pre spike, which STDP would see), plastic projections into one population
that differ in their depression timing (one post history per neuron, as one synapse dynamics per
core in sPyNNaker), a rule that is not ``spinnaker_stdp`` (compile for spinnaker-emu first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from snnc.ir.errors import UnsupportedOnTarget
from snnc.ir.expand import expand
from snnc.models.jit import njit
from snnc.models.spinnaker_stdp import (
    MAX_POST_SYNAPTIC_EVENTS,
    add_post_event,
    add_pre_spike,
    check_post,
    exp_lut,
    update_synapse,
)

RING_MAX = 0xFFFF
# per rule: iconf columns
R_SHIFT, R_MULT, R_NEAREST, R_BACKPROP, R_SHIFT_PLUS, R_SHIFT_MINUS = range(6)


@dataclass
class PlasticLoad:
    """Every plastic synapse of the machine, grouped into rows, and what the tick loop takes."""

    names: list[str]
    synapses: dict[str, np.ndarray]  # projection -> machine synapse index, in expansion order
    pre: dict[str, np.ndarray]
    post: dict[str, np.ndarray]
    arrays: tuple  # the initial state (copied for every run)

    def fresh(self) -> tuple:
        """The state for one run (mutable arrays copied: runs repeat from the start)."""
        return tuple(a.copy() for a in self.arrays)

    def weights(self, state: tuple) -> dict[str, np.ndarray]:
        """Each projection's current weights (int64), in synapse order."""
        return {name: state[W][self.synapses[name]].astype(np.int64) for name in self.names}


# positions in the state tuple
(CONF, WCONF, LUT_PLUS, N_PLUS, LUT_MINUS, N_MINUS, G_PTR, G_ROWS, ROW_PTR, ROW_RULE, ROW_CORE,
 ROW_TIME, ROW_TRACE, W, DELAY, SLOT, RING_AT, SLOT_NEURON, SLOT_RULE, SLOT_CORE, SLOT_COUNT,
 SLOT_TIMES, SLOT_TRACES, HAS_ROWS, PRE_N, PENDING, PSTATE, COSTS, EVENTS) = range(29)


def _rules(projections: list[Any], dt: float) -> tuple:
    """Per projection: its configuration, weight constants and look-up tables (padded)."""
    conf = np.array([[r.weight_shift, r.weight_dependence == "multiplicative",
                      r.pairing == "nearest", r.backprop_delay, r.lut_shift_plus,
                      r.lut_shift_minus] for r in (p.plasticity for p in projections)], np.int64)
    wconf = np.array([[r.min_weight, r.max_weight, r.a2_plus, r.a2_minus]
                      for r in (p.plasticity for p in projections)], np.int64)
    plus = [exp_lut(dt, p.plasticity.tau_plus, p.plasticity.lut_shift_plus) for p in projections]
    minus = [exp_lut(dt, p.plasticity.tau_minus, p.plasticity.lut_shift_minus)
             for p in projections]

    def padded(luts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        table = np.zeros((len(luts), max(lut.size for lut in luts)), np.int64)
        for k, lut in enumerate(luts):
            table[k, :lut.size] = lut
        return table, np.array([lut.size for lut in luts], np.int64)

    return conf.reshape(-1, 6), wconf.reshape(-1, 4), *padded(plus), *padded(minus)


def _pre_packets(machine: Any, pop: Any, pre: np.ndarray) -> np.ndarray:
    """The packet ``g`` each synapse's presynaptic neuron sends (-1: it sends nothing)."""
    if pop.is_source:
        core, local = machine.build.partition.where(pop.name, pop.size)
        first = machine._first_packet()[core[pre]]
        return np.where(first >= 0, first + local[pre], -1).astype(np.int64)
    return machine.neuron_g[machine.global_index[pop.name][pre]].astype(np.int64)


def _reached(machine: Any, g: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Whether packet ``g`` reaches ``core`` (the routing walk's deliveries)."""
    ptr, target = machine.packets.delivered
    sent = np.repeat(np.arange(ptr.size - 1, dtype=np.int64), np.diff(ptr))
    pairs = (sent << 24) | target.astype(np.int64)
    return np.isin((g << 24) | core, pairs) & (g >= 0)


def _refuse_mixed_timing(projections: list[Any]) -> None:
    """One post history per neuron: the projections into a population share its timing."""
    seen: dict[str, Any] = {}
    for p in projections:
        r = p.plasticity
        key = (r.tau_minus, r.lut_shift_minus, r.pairing)
        first = seen.setdefault(p.post, (p.name, key))
        if first[1] != key:
            raise UnsupportedOnTarget(
                f"plastic projections '{first[0]}' and '{p.name}' into '{p.post}' differ in "
                "tau_minus, lut_shift_minus or pairing: a neuron keeps one post-event history "
                "(one STDP rule per core in sPyNNaker)", where=f"projections.{p.name}.plasticity")


def load_plastic(machine: Any) -> PlasticLoad:
    """Rows, histories and tables of every plastic projection of the machine's build."""
    net = machine.build.network
    projections = [p for p in net.projections if p.plasticity is not None]
    for p in projections:
        where = f"projections.{p.name}.plasticity"
        if p.plasticity.rule != "spinnaker_stdp":
            raise UnsupportedOnTarget(f"plastic projection '{p.name}' has rule "
                                      f"'{p.plasticity.rule}': spinnaker-emu runs spinnaker_stdp "
                                      "(compile the network for spinnaker-emu)", where=where)
        check_post(p.plasticity, net.populations[p.post].neuron, where)
    _refuse_mixed_timing(projections)
    layout = machine.neurons
    parts: dict[str, list[np.ndarray]] = {key: [] for key in (
        "g", "core", "rule", "order", "w", "delay", "ring_at", "neuron")}
    names, pres, posts, sizes = [], {}, {}, []
    for k, p in enumerate(projections):
        syn = expand(net, p)
        delay = np.asarray(syn.delay, np.int64)
        if delay.size and delay.max() > machine.slots:
            raise UnsupportedOnTarget(
                f"plastic projection '{p.name}' has delays up to {int(delay.max())}, above the "
                f"{machine.slots} in-core slots: a delay core would re-time its spikes for STDP",
                where=f"projections.{p.name}.delay")
        post_core = layout.core[p.post][syn.post]
        parts["g"].append(_pre_packets(machine, net.populations[p.pre], syn.pre))
        parts["core"].append(post_core)
        parts["rule"].append(np.full(syn.pre.size, k, np.int64))
        parts["order"].append(np.arange(syn.pre.size, dtype=np.int64))
        parts["w"].append(np.asarray(syn.weight, np.int64))
        parts["delay"].append(delay)
        parts["ring_at"].append(machine.ring_base[post_core] + layout.local[p.post][syn.post])
        parts["neuron"].append(layout.index[p.post][syn.post])
        names.append(p.name)
        pres[p.name], posts[p.name] = syn.pre.astype(np.int32), syn.post.astype(np.int32)
        sizes.append(syn.pre.size)
    cat = {key: (np.concatenate(v).astype(np.int64) if v else np.zeros(0, np.int64))
           for key, v in parts.items()}
    return _grouped(machine, projections, names, pres, posts, sizes, cat)


def _grouped(machine, projections, names, pres, posts, sizes, cat) -> PlasticLoad:
    """Sort the synapses into rows (packet, core, projection), index rows by packet."""
    g, core, rule = cat["g"], cat["core"], cat["rule"]
    reached = _reached(machine, g, core)
    # unreached synapses (a pre neuron that sends nothing, a route that misses the core) keep
    # their weight; they are put last, outside every row
    order = np.lexsort((cat["order"], rule, core, g, ~reached))
    n_reached = int(reached.sum())
    synapse_of = np.empty(g.size, np.int64)
    synapse_of[order] = np.arange(g.size)
    starts = np.cumsum([0, *sizes])
    by_projection = {name: synapse_of[starts[k]:starts[k + 1]] for k, name in enumerate(names)}
    key_g, key_core, key_rule = g[order][:n_reached], core[order][:n_reached], \
        rule[order][:n_reached]
    new_row = np.ones(n_reached, bool)
    new_row[1:] = ((key_g[1:] != key_g[:-1]) | (key_core[1:] != key_core[:-1])
                   | (key_rule[1:] != key_rule[:-1]))
    row_start = np.flatnonzero(new_row)
    row_ptr = np.append(row_start, n_reached).astype(np.int64)
    n_packets = machine.packets.key.size
    row_g = key_g[row_start]
    g_ptr = np.zeros(n_packets + 1, np.int64)
    np.cumsum(np.bincount(row_g, minlength=n_packets), out=g_ptr[1:])
    has_rows = (np.diff(g_ptr) > 0).astype(np.uint8)
    # post histories: one per neuron that a plastic synapse reaches
    neurons, slot = np.unique(cat["neuron"], return_inverse=True)
    slot_rule = np.zeros(neurons.size, np.int64)
    slot_rule[slot] = rule
    sends = machine.neuron_g >= 0
    senders = np.flatnonzero(sends & (has_rows[np.where(sends, machine.neuron_g, 0)] > 0)
                             if n_packets else sends).astype(np.int64)
    layout_core = np.zeros(machine.n_neurons, np.int64)
    for name, index in machine.neurons.index.items():
        layout_core[index] = machine.neurons.core[name]
    rules = _rules(projections, float(machine.build.network.dt)) if projections else (
        np.zeros((0, 6), np.int64), np.zeros((0, 4), np.int64), np.zeros((0, 1), np.int64),
        np.zeros(0, np.int64), np.zeros((0, 1), np.int64), np.zeros(0, np.int64))
    n_rows, n_slots, cost = row_g.size, neurons.size, machine.cost
    rows = (g_ptr, np.arange(n_rows, dtype=np.int64), row_ptr,
            key_rule[row_start].astype(np.int64), key_core[row_start].astype(np.int64),
            np.zeros(n_rows, np.int64), np.zeros(n_rows, np.int64))  # ..., row time, row trace
    synapses = (cat["w"][order], cat["delay"][order], slot[order].astype(np.int64),
                cat["ring_at"][order])
    histories = (neurons.astype(np.int64), slot_rule, layout_core[neurons],
                 np.zeros(n_slots, np.int64),
                 np.zeros((n_slots, MAX_POST_SYNAPTIC_EVENTS), np.int64),
                 np.zeros((n_slots, MAX_POST_SYNAPTIC_EVENTS), np.int64))
    packets = (has_rows, senders, np.zeros(max(int(has_rows.sum()), 1), np.int64),
               np.array([0, -2], np.int64))  # pending packets; (count, tick)
    costs = (np.array([cost.plastic_event, cost.post_event], np.int64),
             np.zeros(len(machine.cores), np.int64))  # per core: synapses updated
    arrays = (*rules, *rows, *synapses, *histories, *packets, *costs)
    assert len(arrays) == EVENTS + 1
    return PlasticLoad(names, by_projection, pres, posts, arrays)


@njit(cache=True)
def plastic_arrive(t, state, net, P, saturations, tick_plastic):
    """Step 1 of the module docstring: the plastic rows reached by the packets of ``t - 1``."""
    pstate = P[PSTATE]
    if pstate[0] == 0 or pstate[1] != t - 1:
        return
    conf, wconf, lut_plus, n_plus, lut_minus, n_minus = P[0], P[1], P[2], P[3], P[4], P[5]
    g_ptr, g_rows, row_ptr, row_rule, row_core, row_time, row_trace = (
        P[6], P[7], P[8], P[9], P[10], P[11], P[12])
    w, delay, slot, ring_at = P[13], P[14], P[15], P[16]
    slot_count, slot_times, slot_traces, pending, costs, events = (
        P[20], P[21], P[22], P[25], P[27], P[28])
    ring = state[3]
    delay_shift, slot_mask = net[6][0], net[6][1]
    sent = t - 1
    for k in range(pstate[0]):
        g = pending[k]
        for rr in range(g_ptr[g], g_ptr[g + 1]):
            r = g_rows[rr]
            q = row_rule[r]
            nearest, backprop = conf[q, R_NEAREST] != 0, conf[q, R_BACKPROP] != 0
            plus, minus = lut_plus[q, :n_plus[q]], lut_minus[q, :n_minus[q]]
            last_time, last_trace = row_time[r], row_trace[r]
            row_time[r] = sent
            row_trace[r] = add_pre_spike(sent, last_time, last_trace, nearest, plus,
                                         conf[q, R_SHIFT_PLUS])
            c = row_core[r]
            for s in range(row_ptr[r], row_ptr[r + 1]):
                j = slot[s]
                d = delay[s]
                w[s] = update_synapse(sent, last_time, last_trace, d if backprop else 0, w[s],
                                      slot_times[j], slot_traces[j], slot_count[j],
                                      conf[q, R_SHIFT], conf[q, R_MULT] != 0, nearest, wconf[q],
                                      plus, conf[q, R_SHIFT_PLUS], minus, conf[q, R_SHIFT_MINUS])
                at = ring_at[s] + (((sent + d) & slot_mask) << delay_shift)
                total = np.int64(ring[at]) + w[s]
                if total > RING_MAX:
                    total = RING_MAX
                    saturations[c] += 1
                ring[at] = total
            n = row_ptr[r + 1] - row_ptr[r]
            tick_plastic[c] += costs[0] * n
            events[c] += n
    pstate[0] = 0


@njit(cache=True)
def plastic_learn(t, net, P, spiked, tick_plastic):
    """Step 2: the post spikes of ``t`` into their histories; the packets of ``t`` wait."""
    conf, lut_minus, n_minus = P[0], P[4], P[5]
    slot_neuron, slot_rule, slot_core, slot_count, slot_times, slot_traces = (
        P[17], P[18], P[19], P[20], P[21], P[22])
    has_rows, senders, pending, pstate, costs = P[23], P[24], P[25], P[26], P[27]
    for j in range(slot_neuron.size):
        if spiked[slot_neuron[j]]:
            q = slot_rule[j]
            slot_count[j] = add_post_event(t, slot_times[j], slot_traces[j], slot_count[j],
                                           conf[q, R_NEAREST] != 0, lut_minus[q, :n_minus[q]],
                                           conf[q, R_SHIFT_MINUS])
            tick_plastic[slot_core[j]] += costs[1]
    neuron_g, src_ptr, src_g = net[0], net[2], net[3]
    count = 0
    for k in range(senders.size):
        if spiked[senders[k]]:
            pending[count] = neuron_g[senders[k]]
            count += 1
    for k in range(src_ptr[t], src_ptr[t + 1]):
        if has_rows[src_g[k]]:
            pending[count] = src_g[k]
            count += 1
    pstate[0] = count
    pstate[1] = t
