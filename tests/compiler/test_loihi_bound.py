"""The row-aware core lower bound (mapping/partition.py::lower_bound) against independent counts.

Checked on random small networks with synaptic memory small enough that rows bind: a plain-Python
dynamic programme finds the fewest cores of any cut of the network order into contiguous runs that
fit (feasibility from the expanded synapses, sets of rows and pre neurons), and the bound must not
exceed it, nor the cores the partitioner uses (both strategies); the walker's greedy count must
equal that optimum (the old rule: cores never grow). Hand-computed cases pin the formula.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from mapping_factories import NEURON, random_network

from snnc.compiler.hardware import load_hardware
from snnc.compiler.mapping.graph import build_graph
from snnc.compiler.mapping.partition import (
    lower_bound,
    neuron_cap,
    order_runs,
    partition,
    population_slices,
    totals_bound,
)
from snnc.ir import Network, all_to_all, expand, explicit, fixed_probability, spike_times


def _small(hardware: str, memory: int, fan_in: int | None = None):
    """A built-in spec with ``memory`` bytes of synaptic memory per core (and a fan-in limit)."""
    update = {"memory_bytes_per_core": memory}
    if fan_in is not None:
        update["fan_in_per_core"] = fan_in
    return load_hardware(hardware).model_copy(update=update)


def _inputs(net: Network, spec) -> tuple[list[int], dict[int, list[tuple[int, int]]]]:
    """Neuron ids in network order and, per neuron, its (pre, stage) synapses, from ``expand``."""
    offset = dict(zip(net.populations, np.cumsum([0] + [p.size for p in net.populations.values()])))
    ids = [int(offset[name]) + i for name, p in net.populations.items() if not p.is_source
           for i in range(p.size)]
    synapses: dict[int, list[tuple[int, int]]] = {v: [] for v in ids}
    for projection in net.projections:
        s = expand(net, projection)
        stage = ((s.delay.astype(int) - 1) // spec.delay_slots if spec.delay_slots
                 else np.zeros(len(s), int))
        for pre, post, k in zip((s.pre + offset[projection.pre]).tolist(),
                                (s.post + offset[projection.post]).tolist(), stage.tolist()):
            synapses[post].append((pre, k))
    return ids, synapses


def _fits(group: list[int], synapses, spec, cap: int) -> bool:
    """Every per-core limit, counted from scratch (a lone neuron always gets a core)."""
    if len(group) == 1:
        return True
    syn = [x for v in group for x in synapses[v]]
    rows, pres = set(syn), {p for p, _ in syn}
    fan_in = spec.input_axon_limit
    return (len(group) <= cap
            and len(syn) * spec.synapse_bits + len(rows) * spec.axon_bits
            <= 8 * spec.memory_bytes_per_core
            and (fan_in is None or len(pres) <= fan_in))


def _fewest_runs(ids: list[int], synapses, spec, cap: int) -> int:
    """Fewest contiguous runs of ``ids`` that each fit: exact, by dynamic programming."""
    @lru_cache(maxsize=None)
    def best(i: int) -> int:
        if i == len(ids):
            return 0
        return min(1 + best(j) for j in range(i + 1, min(len(ids), i + cap) + 1)
                   if _fits(ids[i:j], synapses, spec, cap))
    return best(0)


CASES = [("loihi2", 160, None), ("loihi2", 400, None), ("loihi1", 300, 12), ("loihi1", 1200, 30),
         ("spinnaker1", 500, None), ("spinnaker1", 800, 8)]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), case=st.sampled_from(CASES), cap=st.sampled_from([4, 16, None]))
def test_bound_is_below_the_fewest_contiguous_cores_and_the_walker_meets_them(seed, case, cap):
    hardware, memory, fan_in = case
    family = "spinnaker" if hardware.startswith("spinnaker") else "loihi"
    net = random_network(seed, family, max_delay=40 if family == "spinnaker" else 20, max_size=40)
    spec = _small(hardware, memory, fan_in)
    graph = build_graph(net, spec)
    limit = neuron_cap(spec, cap)
    ids, synapses = _inputs(net, spec)
    sources = totals_bound(graph, spec, limit) - totals_bound(
        graph, spec.model_copy(update={"sources_on_cores": False}), limit)
    optimum = _fewest_runs(ids, synapses, spec, limit)
    bound = lower_bound(graph, spec, limit)
    assert totals_bound(graph, spec, limit) <= bound <= optimum + sources
    # per population alone: the greedy count equals the exact optimum
    for name, count in population_slices(graph, spec, limit).items():
        own = [v for v in ids if graph.population_of(v)[0] == name]
        assert count == _fewest_runs(own, synapses, spec, limit), name
    for strategy in ("greedy", "graph"):
        parts = partition(graph, spec, strategy=strategy, max_neurons_per_core=cap)
        used = sum(c.kind in ("neuron", "source") for c in parts.partitioning.cores)
        assert parts.partitioning.lower_bound <= used, strategy
        if strategy == "greedy":
            assert used - sources == optimum  # greedy cuts are optimal: never more than before


def _fan(sources: int, sizes: list[int], memory: int):
    """``sources`` host-side inputs all-to-all into populations of ``sizes`` on a small Loihi 2."""
    net = Network("fan")
    net.source("s", sources, _spikes(sources))
    for k, n in enumerate(sizes):
        net.population(f"p{k}", n, NEURON["loihi"])
        net.connect("s", f"p{k}", all_to_all(), weight=1)
    spec = _small("loihi2", memory)
    return spec, build_graph(net, spec)


def _spikes(n: int):
    """One spike of every source at step 1."""
    return spike_times([1] * n, list(range(n)))


def test_hand_computed_rows_bound():
    # 16 inputs into 10 neurons; a core of n neurons needs 16 n x 29 + 16 x 32 bits, 238 bytes =
    # 1,904 bits hold n = 3: 4 cores (3 + 3 + 3 + 1). Totals: (160 x 29 + 16 x 32) / 1904 -> 3.
    spec, graph = _fan(16, [10], 238)
    cap = neuron_cap(spec, None)
    assert totals_bound(graph, spec, cap) == 3
    assert population_slices(graph, spec, cap) == {"p0": 4}
    assert lower_bound(graph, spec, cap) == 4
    assert len(partition(graph, spec).partitioning.cores) == 4
    # two such populations: 4 + 4 - (2 runs - 1) = 7; the walker shares a core across the
    # boundary (p0's last neuron with q's first two: same 16 rows) and uses 7; totals say 6
    spec, graph = _fan(16, [10, 10], 238)
    assert totals_bound(graph, spec, cap) == 6
    assert lower_bound(graph, spec, cap) == 7
    assert len(partition(graph, spec).partitioning.cores) == 7


def test_runs_of_an_order():
    spec, graph = _fan(4, [3, 2], 10_000)
    ids = graph.neuron_ids()  # 4 .. 8 (the source holds 0 .. 3)
    assert order_runs(ids, graph) == 2
    assert order_runs(ids[::-1].copy(), graph) == 5
    assert order_runs(np.array([4, 5, 7, 8, 6]), graph) == 3


def test_rows_are_what_the_bound_adds_on_a_random_ring():
    # a small ring as benchmarks/compile_scale.py builds it: each neuron gets ~20 synapses from 2 x
    # 400 candidates, so a pre neuron's targets land on different cores with rows of their own
    net = Network("ring")
    for k in range(4):
        net.population(f"p{k}", 400, NEURON["loihi"])
    for k in range(4):
        for j, post in enumerate((k, (k + 1) % 4)):
            net.connect(f"p{k}", f"p{post}", fixed_probability(0.025, seed=3 * k + j), weight=1)
    spec = _small("loihi2", 2048)
    graph = build_graph(net, spec)
    cap = neuron_cap(spec, None)
    parts = partition(graph, spec)
    used = len(parts.partitioning.cores)
    bound = parts.partitioning.lower_bound
    assert bound == lower_bound(graph, spec, cap)
    assert totals_bound(graph, spec, cap) < 0.8 * used  # rows ignored: far below
    assert bound <= used <= 1.1 * bound
    assert (parts.memory_bytes <= spec.memory_bytes_per_core).all()


def test_report_gives_the_bound_and_the_ratio():
    from snnc.compiler import compile_network
    from snnc.compiler.report import render_text

    spec, _graph = _fan(16, [10, 10], 238)
    net = Network("fan")
    net.source("s", 16, _spikes(16))
    for k in range(2):
        net.population(f"p{k}", 10, NEURON["loihi"])
        net.connect("s", f"p{k}", all_to_all(), weight=1)
    build = compile_network(net, "loihi-sim", spec)
    t = build.report.totals
    assert (t["lower_bound"], t["lower_bound_totals"]) == (7, 6)
    assert t["cores_over_bound"] == round(t["neuron_cores"] / 7, 4) == 1.0
    assert "lower bound 7 (1.000x; totals 6)" in render_text(build.report)


@pytest.mark.parametrize("model,cores", [("conv", 2), ("fixed", 1)])
def test_assigned_core_models_are_bounded_by_their_assignment(model, cores):
    # conv: one core per layer (population), fixed: one core for the network; memory plays no part
    spec, graph = _fan(16, [10, 3], 238)
    spec = spec.model_copy(update={"core_model": model})
    cap = neuron_cap(spec, None)
    parts = partition(graph, spec)
    assert lower_bound(graph, spec, cap) == len(parts.partitioning.cores) == cores
    assert parts.partitioning.lower_bound == cores


def test_explicit_projection_rows():
    # explicit pairs: p0 gets pres {0, 1}, p1 {0, 1}, p2 {2, 3}; 2 synapses + 2 rows per neuron:
    # 2 x 29 + 2 x 32 = 122 bits alone; p0 + p1 share rows: 4 x 29 + 64 = 180 bits; all three:
    # 6 x 29 + 128 = 302 bits. 24 bytes = 192 bits: {p0, p1}, {p2} -> 2 cores.
    net = Network("pairs")
    net.source("s", 4, _spikes(4))
    net.population("p", 3, NEURON["loihi"])
    net.connect("s", "p", explicit([0, 1, 0, 1, 2, 3], [0, 0, 1, 1, 2, 2]), weight=1)
    spec = _small("loihi2", 24)
    graph = build_graph(net, spec)
    cap = neuron_cap(spec, None)
    assert population_slices(graph, spec, cap) == {"p": 2}
    assert totals_bound(graph, spec, cap) == 2  # 6 x 29 + 4 x 32 = 302 bits > 192
    assert lower_bound(graph, spec, cap) == 2
