r"""Partitioning: slices of populations onto cores so that no core exceeds any per-core limit.

Both strategies reduce to one primitive, the **walker** (``_walk``): it takes the neurons in a given
order and fills cores one after the other, opening a new core as soon as the next neuron would break
a limit of the current one:

* neurons: at most ``min(neurons_per_core, --max-neurons-per-core, ring-buffer cap)``;
* synaptic memory by the target's storage format,
  :math:`\lceil (synapses \cdot synapse\_bits + rows \cdot axon\_bits)/8 \rceil \le memory`,
  where rows are the distinct (pre neuron, delay stage) pairs that reach the core;
* fan-in: distinct pre neurons (input axons) reaching the core;
* real-time load (SpiNNaker): the cycles the core must spend every tick at the estimated rates
  (``load.py``: neuron updates, packets received, synaptic events, packets sent) within the tick's
  cycle budget.

Row and axon counts are kept exactly with stamp arrays (one int per pre neuron), so the walker is
O(synapses) in numba. Because the order is a single sequence over all populations, a core may hold
the tail of one population and the head of the next, so cores stay full. Without a load budget
(Loihi) every limit is monotone (a part of a core that fits, fits), so this greedy fill uses the
fewest cores of any cut of its order into contiguous runs. ``lower_bound`` is row-aware (each
population's fewest cores alone, rows counted, less one per run boundary of the order) and is met
to within a few percent; ``totals_bound`` (resource totals with one row per pre neuron) holds for
every partition but ignores that a pre neuron needs a row on every core it reaches.

Strategies:

* ``greedy``: network order (population by population, neuron by neuron), like sPyNNaker's fixed
  slicing but packed across populations and under every limit.
* ``graph``: traffic-aware. The neurons are coarsened into blocks (contiguous runs of a population,
  at most 2048 blocks), the block graph is weighted by estimated spike traffic (synapses x the
  pre neuron's rate), and Louvain community detection (``networkx.community.louvain_communities``,
  seeded) groups blocks that talk to each other; the walker then fills cores in community order.
  Why Louvain in networkx: it is already a dependency (Lava pins networkx), deterministic with a
  seed, handles weighted graphs of thousands of nodes in about a second, and — unlike balanced
  k-way cuts (METIS, Kernighan-Lin) — it does not fix the number of parts: the walker still packs
  cores to capacity, so traffic is cut without spending cores. METIS (pymetis) would need a
  compiled extension that is not in the environment.

SpiNNaker spike sources occupy cores (kind ``source``, up to ``source_neurons_per_core`` each, as
sPyNNaker's SpikeSourcePoisson); on Loihi sources are host-side inputs (Lava RingBuffers) and use no
core, but still count as input axons on the cores they feed. A source core with synapses of delay
stage >= 1 gets a delay-extension core (kind ``delay``, see ``artifacts.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from snnc.models.jit import njit

from ..artifacts import Core, CoreSlice, Partitioning
from ..hardware import HardwareSpec
from .graph import SynapseGraph
from .load import NO_LOAD, LoadModel, neuron_core_loads, plastic_cycles

LOAD_ROUNDS = 4  # walks with a lowered budget until every shrinkable core keeps up (load.py)

STRATEGIES = ("greedy", "graph")
MAX_BLOCKS = 2048  # nodes of the coarsened graph for the ``graph`` strategy
TOP_EDGES = 16  # heaviest edges kept per block (sparsifies dense random block graphs)


@dataclass(frozen=True, eq=False)
class PartitionResult:
    """The ``Partitioning`` plus per-core usage and the core-to-core links routing needs.

    Arrays are indexed by core id. ``pairs[s, d]`` (s a sending core, d a neuron core) has bit 1
    when some synapse of delay stage 0 goes from s to d, bit 2 when one of stage >= 1 does.
    ``stage_mask[s]`` has bit k when synapses of stage k leave core s. ``core_of`` gives every
    global neuron id its core (-1: a host-side source).
    """

    partitioning: Partitioning
    core_of: np.ndarray
    neurons: np.ndarray
    synapses: np.ndarray
    rows: np.ndarray
    fan_in: np.ndarray
    fan_out: np.ndarray
    memory_bytes: np.ndarray
    pairs: np.ndarray
    pair_traffic: np.ndarray  # float32[s, d]: estimated packets per step from s to d
    stage_mask: np.ndarray
    delay_core: dict[int, int]  # sending core -> its delay-extension core
    neuron_load: np.ndarray = np.zeros(0)  # float64 per neuron core: estimated cycles per tick
    totals_bound: int = 0  # ``totals_bound`` of the graph (the report's lower_bound_totals)


def neuron_cap(spec: HardwareSpec, max_neurons_per_core: int | None) -> int:
    """Neurons per core allowed by the user's cap (else the spec's) and the ring buffer."""
    cap = spec.neurons_per_core if max_neurons_per_core is None else max_neurons_per_core
    if spec.ring_buffer_entries and spec.delay_slots:
        # sPyNNaker's ring buffer: 2^ceil(log2 n) neurons x receptors x slots <= entries.
        ring = spec.ring_buffer_entries // (spec.receptors * spec.delay_slots)
        cap = min(cap, 1 << (max(ring, 1).bit_length() - 1))
    return max(1, cap)


@njit(cache=True)
def _count_new(v, ptr, in_pre, in_stage, stages, core, tick, stamp_row, tent_row, stamp_ax,
               tent_ax, rate, block_of, block_rate, stamp_blk, tent_blk):  # pragma: no cover
    """Rows and axons neuron ``v`` would add to ``core``; and its load terms: the packets per
    tick of the sending blocks it newly links to the core (a core receives every packet of a
    sending core that targets it: ``block_of`` groups pre neurons as cores will hold them) and
    the synaptic events per tick of its synapses."""
    new_rows = 0
    new_axons = 0
    packets = 0.0
    events = 0.0
    for j in range(ptr[v], ptr[v + 1]):
        p = in_pre[j]
        r = p * stages + in_stage[j]
        events += rate[p]
        if stamp_row[r] != core and tent_row[r] != tick:
            tent_row[r] = tick
            new_rows += 1
        b = block_of[p] * stages + in_stage[j]
        if stamp_blk[b] != core and tent_blk[b] != tick:
            tent_blk[b] = tick
            packets += block_rate[block_of[p]]
        if stamp_ax[p] != core and tent_ax[p] != tick:
            tent_ax[p] = tick
            new_axons += 1
    return new_rows, new_axons, packets, events


@njit(cache=True)
def _walk(order, ptr, in_pre, in_stage, stages, n_total, cap, syn_bits, row_bits, mem_bits,
          fan_in, rate, costs, block_of, block_rate, extra):  # pragma: no cover - numba
    """Fill cores in ``order``; returns core index per position and per-core usage.

    ``costs`` = (tick overhead, per neuron, per packet received, per synaptic event, per packet
    sent, budget) in cycles; budget <= 0: load is not limited (and not computed). ``extra[v]``:
    neuron v's own further cycles per tick (STDP work, ``load.plastic_cycles``)."""
    overhead, c_neuron, c_packet, c_event, c_sent, budget = costs
    n = order.size
    core_at = np.empty(n, np.int32)
    stamp_row = np.full(n_total * stages, -1, np.int32)
    tent_row = np.full(n_total * stages, -1, np.int64)
    stamp_ax = np.full(n_total, -1, np.int32)
    tent_ax = np.full(n_total, -1, np.int64)
    stamp_blk = np.full(block_rate.size * stages, -1, np.int32)
    tent_blk = np.full(block_rate.size * stages, -1, np.int64)
    neurons = np.zeros(n + 1, np.int64)
    syn = np.zeros(n + 1, np.int64)
    rows = np.zeros(n + 1, np.int64)
    axons = np.zeros(n + 1, np.int64)
    load = np.zeros(n + 1, np.float64)
    core = 0
    tick = 0
    for i in range(n):
        v = order[i]
        degree = ptr[v + 1] - ptr[v]
        tick += 1
        nr, na, packets, events = _count_new(v, ptr, in_pre, in_stage, stages, core, tick,
                                             stamp_row, tent_row, stamp_ax, tent_ax, rate,
                                             block_of, block_rate, stamp_blk, tent_blk)
        added = c_neuron + c_packet * packets + c_event * events + c_sent * rate[v] + extra[v]
        first = overhead if neurons[core] == 0 else 0.0
        fits = (neurons[core] + 1 <= cap
                and (syn[core] + degree) * syn_bits + (rows[core] + nr) * row_bits <= mem_bits
                and (fan_in < 0 or axons[core] + na <= fan_in))
        if fits and budget > 0 and load[core] + first + added > budget and neurons[core] > 0:
            # over the budget: a new core helps only if this neuron alone keeps up there (a
            # core whose input packets alone exceed the budget is a violation, not a reason to
            # give every neuron a core of its own)
            tick += 1
            _r, _a, alone_packets, alone_events = _count_new(
                v, ptr, in_pre, in_stage, stages, core + 1, tick, stamp_row, tent_row, stamp_ax,
                tent_ax, rate, block_of, block_rate, stamp_blk, tent_blk)
            alone = (overhead + c_neuron + c_packet * alone_packets + c_event * alone_events
                     + c_sent * rate[v] + extra[v])
            fits = alone > budget
        if not fits and neurons[core] > 0:
            core += 1
            tick += 1
            nr, na, packets, events = _count_new(v, ptr, in_pre, in_stage, stages, core, tick,
                                                 stamp_row, tent_row, stamp_ax, tent_ax, rate,
                                                 block_of, block_rate, stamp_blk, tent_blk)
            added = c_neuron + c_packet * packets + c_event * events + c_sent * rate[v] + extra[v]
        for j in range(ptr[v], ptr[v + 1]):
            stamp_row[in_pre[j] * stages + in_stage[j]] = core
            stamp_ax[in_pre[j]] = core
            stamp_blk[block_of[in_pre[j]] * stages + in_stage[j]] = core
        if budget > 0:
            load[core] += (overhead if neurons[core] == 0 else 0.0) + added
        neurons[core] += 1
        syn[core] += degree
        rows[core] += nr
        axons[core] += na
        core_at[i] = core
    m = core + 1 if n else 0
    return core_at, neurons[:m], syn[:m], rows[:m], axons[:m], load[:m]


@njit(cache=True)
def _links(order, core_at, ptr, in_pre, in_stage, core_of, rate, n_send, n_dst,
           n_total):  # pragma: no cover - numba
    """Distinct (pre neuron, target core) links: fan-out per core, core pairs, traffic cut."""
    stamp0 = np.full(n_total, -1, np.int32)
    stamp_d = np.full(n_total, -1, np.int32)
    fan_out = np.zeros(n_send, np.int64)
    pairs = np.zeros((n_send, n_dst), np.uint8)
    pair_traffic = np.zeros((n_send, n_dst), np.float32)
    stage_mask = np.zeros(n_send, np.int64)
    traffic = 0.0
    for i in range(order.size):
        v = order[i]
        c = core_at[i]
        for j in range(ptr[v], ptr[v + 1]):
            p = in_pre[j]
            s = in_stage[j]
            src = core_of[p]
            if src >= 0:
                stage_mask[src] |= 1 << s
            first = stamp0[p] != c and stamp_d[p] != c
            if s == 0 and stamp0[p] != c:
                stamp0[p] = c
                if src >= 0:
                    pairs[src, c] |= 1
                    pair_traffic[src, c] += rate[p]
                if src != c:
                    traffic += rate[p]
            elif s > 0 and stamp_d[p] != c:
                stamp_d[p] = c
                if src >= 0:
                    pairs[src, c] |= 2
                    pair_traffic[src, c] += rate[p]
                traffic += rate[p]
            if first and src >= 0:
                fan_out[src] += 1
    return fan_out, pairs, pair_traffic, stage_mask, traffic


def _slices(ids: np.ndarray, graph: SynapseGraph) -> tuple[CoreSlice, ...]:
    """Runs of consecutive global ids as population slices, in the given order."""
    if ids.size == 0:
        return ()
    breaks = np.flatnonzero(np.diff(ids) != 1) + 1
    pieces = []
    for run in np.split(ids, breaks):
        start = int(run[0])
        stop = start + run.size
        k = int(np.searchsorted(graph.offsets, start, side="right")) - 1
        base = int(graph.offsets[k])
        while start < stop:  # a run may cross a population boundary
            end = min(stop, int(graph.offsets[k + 1]))
            pieces.append(CoreSlice(graph.names[k], start - base, end - base))
            start, k = end, k + 1
            base = int(graph.offsets[k]) if k < len(graph.names) else base
    return tuple(pieces)


def _graph_order(ids: np.ndarray, graph: SynapseGraph, cap: int) -> np.ndarray:
    """Neuron order for the ``graph`` strategy: blocks grouped by Louvain community."""
    if ids.size == 0:
        return ids
    block = max(1, cap // 4, -(-ids.size // MAX_BLOCKS))
    position = np.full(graph.n, -1, dtype=np.int64)
    position[ids] = np.arange(ids.size)
    n_blocks = -(-ids.size // block)
    weights = _block_weights(ids, block, n_blocks, position, graph.in_ptr, graph.in_pre,
                             graph.rate)
    weights = weights + weights.T
    np.fill_diagonal(weights, 0.0)
    g = nx.Graph()
    g.add_nodes_from(range(n_blocks))
    keep = np.argsort(-weights, axis=1, kind="stable")[:, :TOP_EDGES]
    for a in range(n_blocks):
        for b in keep[a]:
            if weights[a, b] > 0:
                g.add_edge(a, int(b), weight=float(weights[a, b]))
    if g.number_of_edges() == 0:
        return ids
    communities = nx.community.louvain_communities(g, weight="weight", seed=0)
    ordered = sorted((sorted(c) for c in communities), key=lambda c: c[0])
    blocks = [b for community in ordered for b in community]
    return np.concatenate([ids[b * block:(b + 1) * block] for b in blocks])


@njit(cache=True)
def _block_weights(ids, block, n_blocks, position, ptr, in_pre, rate):  # pragma: no cover
    w = np.zeros((n_blocks, n_blocks))
    for i in range(ids.size):
        v = ids[i]
        b = i // block
        for j in range(ptr[v], ptr[v + 1]):
            q = position[in_pre[j]]
            if q >= 0:
                w[q // block, b] += rate[in_pre[j]]
    return w


def totals_bound(graph: SynapseGraph, spec: HardwareSpec, cap: int) -> int:
    """Fewest neuron (+ source) cores any partition needs, from resource totals alone.

    Memory counts every synapse and at least one row per pre neuron that has synapses (a row is
    per core, so any partition has at least that many). It holds for every partition, but with
    random connectivity a pre neuron's targets are spread over many cores, each with a row of its
    own, so on Loihi this bound is far below what any partition needs (the row-aware
    ``lower_bound`` below)."""
    neurons = int(graph.neuron_ids().size)
    senders = int(_senders(graph.in_pre, graph.n))
    bits = graph.synapse_count * spec.synapse_bits + senders * spec.axon_bits
    bound = max(-(-neurons // cap), -(-bits // (8 * spec.memory_bytes_per_core)))
    return bound + _source_core_count(graph, spec)


@njit(cache=True)
def _senders(in_pre, n):  # pragma: no cover - numba
    """Distinct pre neurons among the synapses."""
    seen = np.zeros(n, np.bool_)
    count = 0
    for p in in_pre:
        if not seen[p]:
            seen[p] = True
            count += 1
    return count


def _source_core_count(graph: SynapseGraph, spec: HardwareSpec) -> int:
    if not spec.sources_on_cores:
        return 0
    return -(-int(graph.source_ids().size) // spec.source_capacity)


@njit(cache=True)
def _fewest_slices(lows, highs, ptr, in_pre, in_stage, stages, n_total, cap, syn_bits, row_bits,
                   mem_bits, fan_in):  # pragma: no cover - numba
    """Per range ``lows[k]..highs[k]-1`` (one population each, in increasing id order), the fewest
    contiguous slices of it alone such that every slice fits every per-core limit (neurons,
    synaptic memory with its rows, fan-in axons); a neuron that does not fit even alone is a slice
    of its own.

    A plain greedy count, written apart from ``_walk``: every limit is monotone (a part of a slice
    that fits, fits), so cutting as late as possible gives the fewest slices of a sequence. A row
    or pre neuron is in the current slice when its mark is the slice's first id (marks only grow:
    one pair of arrays serves every population)."""
    seen_row = np.full(n_total * stages, -1, np.int64)
    seen_pre = np.full(n_total, -1, np.int64)
    counts = np.zeros(lows.size, np.int64)
    for k in range(lows.size):
        v = lows[k]
        while v < highs[k]:
            start = v
            counts[k] += 1
            syn = 0
            rows = 0
            pres = 0
            while v < highs[k]:
                degree = ptr[v + 1] - ptr[v]
                new_rows = 0
                new_pres = 0
                for j in range(ptr[v], ptr[v + 1]):
                    r = in_pre[j] * stages + in_stage[j]
                    if seen_row[r] < start:
                        seen_row[r] = start
                        new_rows += 1
                    if stages > 1 and seen_pre[in_pre[j]] < start:
                        seen_pre[in_pre[j]] = start
                        new_pres += 1
                if stages == 1:
                    new_pres = new_rows  # one row per pre neuron
                fits = (v - start + 1 <= cap
                        and (syn + degree) * syn_bits + (rows + new_rows) * row_bits <= mem_bits
                        and (fan_in < 0 or pres + new_pres <= fan_in))
                if not fits and v > start:
                    break  # v opens the next slice (its marks are this slice's, below v)
                syn += degree
                rows += new_rows
                pres += new_pres
                v += 1
    return counts


def population_slices(graph: SynapseGraph, spec: HardwareSpec, cap: int) -> dict[str, int]:
    """Per non-empty neuron population, the fewest cores it needs alone (``_fewest_slices``)."""
    fan_in = spec.input_axon_limit if spec.input_axon_limit is not None else -1
    keep = [k for k in range(len(graph.names))
            if not graph.is_source[k] and graph.offsets[k + 1] > graph.offsets[k]]
    lows = np.array([graph.offsets[k] for k in keep], np.int64)
    highs = np.array([graph.offsets[k + 1] for k in keep], np.int64)
    counts = _fewest_slices(lows, highs, graph.in_ptr, graph.in_pre, graph.in_stage, graph.stages,
                            graph.n, cap, spec.synapse_bits, spec.axon_bits,
                            spec.memory_bytes_per_core * 8, fan_in)
    return {graph.names[k]: int(c) for k, c in zip(keep, counts)}


def order_runs(order: np.ndarray, graph: SynapseGraph) -> int:
    """Maximal runs of ``order`` made of consecutive ids of one population (network order: one
    per non-empty neuron population)."""
    if order.size == 0:
        return 0
    population = np.searchsorted(graph.offsets, order, side="right") - 1
    breaks = (np.diff(order) != 1) | (np.diff(population) != 0)
    return 1 + int(np.count_nonzero(breaks))


def lower_bound(graph: SynapseGraph, spec: HardwareSpec, cap: int,
                order: np.ndarray | None = None, *, totals: int | None = None) -> int:
    """Row-aware fewest neuron (+ source) cores: the larger of ``totals_bound`` and the slice
    bound :math:`\\sum_P g_P - (R - 1)`, where :math:`g_P` is the fewest cores population P needs
    alone (``population_slices``, rows counted) and R the runs of ``order`` (``order_runs``;
    default network order).

    The slice bound holds for every partition that cuts ``order`` into contiguous runs, as the
    walker does: restricted to one population, such a partition's cores are contiguous slices of
    it that fit, at least :math:`g_P` of them, and each of the R - 1 run boundaries splits at
    most one core in two. It ignores real-time load (a bound with fewer limits stays a bound).
    Cores of the ``conv`` and ``fixed`` models are not walked but assigned (``_assigned``): one
    per non-empty neuron population, one in all; their bound is that count."""
    ids = graph.neuron_ids() if order is None else order
    if spec.core_model == "fixed":
        return int(ids.size > 0)
    if spec.core_model == "conv":
        sizes = np.diff(graph.offsets)
        return int(np.count_nonzero((sizes > 0) & ~graph.is_source))
    base = totals_bound(graph, spec, cap) if totals is None else totals
    slices = sum(population_slices(graph, spec, cap).values())
    bound = max(0, slices - (order_runs(ids, graph) - 1)) + _source_core_count(graph, spec)
    return max(base, bound)


def _sending_blocks(graph: SynapseGraph, spec: HardwareSpec,
                    cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Every neuron's block of ``cap`` consecutive neurons (``source_capacity`` for sources), as
    sending cores will hold them, and each block's spikes per tick: the packets a core receives
    when any neuron of the block reaches it (load estimate of the walker)."""
    block_of = np.zeros(graph.n, np.int32)
    first = 0
    for k in range(len(graph.names)):
        start, stop = int(graph.offsets[k]), int(graph.offsets[k + 1])
        size = spec.source_capacity if graph.is_source[k] else cap
        block_of[start:stop] = first + np.arange(stop - start) // size
        first += -(-(stop - start) // size)
    return block_of, np.bincount(block_of, weights=graph.rate, minlength=first)


def partition(graph: SynapseGraph, spec: HardwareSpec, *, strategy: str = "greedy",
              max_neurons_per_core: int | None = None,
              load: LoadModel = NO_LOAD) -> PartitionResult:
    """Slice populations onto cores (see module docstring); ``load`` is the real-time budget
    (``load.py``; none for Loihi)."""
    cap = neuron_cap(spec, max_neurons_per_core)
    ids = graph.neuron_ids()
    order = ids if strategy == "greedy" else _graph_order(ids, graph, cap)
    fan_in = spec.input_axon_limit if spec.input_axon_limit is not None else -1
    costs = (float(load.tick_overhead), float(load.neuron_update), float(load.packet_received),
             float(load.synaptic_event), float(load.packet_sent), float(load.budget))
    block_of, block_rate = _sending_blocks(graph, spec, cap)
    extra = plastic_cycles(graph, load)
    for _round in range(LOAD_ROUNDS):
        if spec.core_model in ("conv", "fixed"):
            # not walked: a conv core holds one whole layer, a fixed-size chip the whole network
            # (their rules are checked by mapping/rules.py)
            core_at, neurons, syn, rows, axons, neuron_load = _assigned(order, graph,
                                                                        spec.core_model)
        else:
            core_at, neurons, syn, rows, axons, neuron_load = _walk(
                order, graph.in_ptr, graph.in_pre, graph.in_stage, graph.stages, graph.n, cap,
                spec.synapse_bits, spec.axon_bits, spec.memory_bytes_per_core * 8, fan_in,
                graph.rate, costs, block_of, block_rate, extra)
        cores = _neuron_cores(order, core_at, graph)
        core_of = np.full(graph.n, -1, dtype=np.int32)
        core_of[order] = core_at
        cores += _source_cores(graph, spec, len(cores), core_of)
        n_send = len(cores)
        fan_out, pairs, pair_traffic, stage_mask, traffic = _links(
            order, core_at, graph.in_ptr, graph.in_pre, graph.in_stage, core_of, graph.rate,
            n_send, neurons.size, graph.n)
        if not load.limited:
            break
        # the walker's packet count is an estimate (sending cores did not exist yet): with the
        # cores known, count what each neuron core receives and walk again with a budget
        # lowered by the worst excess among the cores that can still shrink
        exact, fixed = neuron_core_loads(graph, load, core_of, neurons, pairs, stage_mask,
                                         n_send)
        over = (exact > load.budget * (1 + 1e-9)) & (neurons > 1) & (fixed < load.budget)
        if not over.any():
            neuron_load = exact
            break
        costs = (*costs[:5], costs[5] * float(np.min(load.budget / exact[over])) * 0.99)
        neuron_load = exact
    delay_core = {}
    for c in range(n_send):
        if stage_mask[c] > 1:
            delay_core[c] = len(cores)
            cores.append(Core(len(cores), "delay", cores[c].slices, extends=c))
    pad = len(cores) - neurons.size
    usage = [np.concatenate([a, np.zeros(pad, np.int64)]) for a in (neurons, syn, rows, axons)]
    usage[0][neurons.size:] = [c.neurons for c in cores[neurons.size:]]
    fan_out = np.concatenate([fan_out, np.zeros(len(cores) - n_send, np.int64)])
    totals = totals_bound(graph, spec, cap)
    bound = lower_bound(graph, spec, cap, order, totals=totals)
    return PartitionResult(
        partitioning=Partitioning(tuple(cores), strategy, bound, traffic),
        core_of=core_of,
        neurons=usage[0], synapses=usage[1], rows=usage[2], fan_in=usage[3], fan_out=fan_out,
        memory_bytes=-(-(usage[1] * spec.synapse_bits + usage[2] * spec.axon_bits) // 8),
        pairs=pairs, pair_traffic=pair_traffic, stage_mask=stage_mask,
        delay_core=delay_core, neuron_load=neuron_load, totals_bound=totals)


def _assigned(order: np.ndarray, graph: SynapseGraph, core_model: str) -> tuple[np.ndarray, ...]:
    """The walker's outputs for cores fixed by the core model: ``conv``, one core per neuron
    population (in network order); ``fixed``, one core for every neuron."""
    population = np.searchsorted(graph.offsets, order, side="right") - 1
    if core_model == "conv":
        _kinds, core_at = np.unique(population, return_inverse=True)
    else:
        core_at = np.zeros(order.size, np.int64)
    core_at = core_at.astype(np.int32)
    n_cores = int(core_at.max()) + 1 if order.size else 0
    degree = (graph.in_ptr[order + 1] - graph.in_ptr[order]).astype(np.int64)
    neurons = np.bincount(core_at, minlength=n_cores).astype(np.int64)
    syn = np.bincount(core_at, weights=degree, minlength=n_cores).astype(np.int64)
    post_core = np.repeat(core_at, degree)
    # positions of every neuron's incoming synapses, neuron by neuron in ``order``
    starts = graph.in_ptr[order].astype(np.int64)
    at = np.repeat(starts - np.cumsum(degree) + degree, degree) + np.arange(int(degree.sum()))
    pre, stage = graph.in_pre[at], graph.in_stage[at]
    axon_keys = np.unique(post_core.astype(np.int64) * graph.n + pre)
    row_keys = np.unique((post_core.astype(np.int64) * graph.n + pre) * graph.stages + stage)
    axons = np.bincount(axon_keys // graph.n, minlength=n_cores).astype(np.int64)
    rows = np.bincount(row_keys // (graph.n * graph.stages), minlength=n_cores).astype(np.int64)
    return core_at, neurons, syn, rows, axons, np.zeros(n_cores)


def _neuron_cores(order: np.ndarray, core_at: np.ndarray, graph: SynapseGraph) -> list[Core]:
    bounds = np.flatnonzero(np.diff(core_at)) + 1
    return [Core(k, "neuron", _slices(chunk, graph))
            for k, chunk in enumerate(np.split(order, bounds) if order.size else [])]


def _source_cores(graph: SynapseGraph, spec: HardwareSpec, first: int,
                  core_of: np.ndarray) -> list[Core]:
    """Source populations packed onto cores (SpiNNaker only; Loihi sources stay on the host)."""
    if not spec.sources_on_cores:
        return []
    ids = graph.source_ids()
    cores = []
    for k, start in enumerate(range(0, ids.size, spec.source_capacity)):
        chunk = ids[start:start + spec.source_capacity]
        core_of[chunk] = first + k
        cores.append(Core(first + k, "source", _slices(chunk, graph)))
    return cores
