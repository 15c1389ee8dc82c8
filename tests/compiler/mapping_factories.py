"""Random and structured networks for mapping tests (native integer kinds: no quantization)."""

from __future__ import annotations

import numpy as np

from snnc.compiler.hardware import load_hardware
from snnc.compiler.mapping.graph import build_graph
from snnc.compiler.mapping.partition import partition
from snnc.compiler.mapping.place import place
from snnc.compiler.mapping.route import route
from snnc.ir import LoihiLIF, Network, SpinnakerLIF, fixed_probability, poisson, uniform

NEURON = {"loihi": LoihiLIF(du=4095, dv=0, vth=10),
          "spinnaker": SpinnakerLIF(v_thresh=1000, exp_tc=30000, r_membrane=32768)}


def random_network(seed: int, family: str, max_delay: int = 1, max_size: int = 120) -> Network:
    """1-4 neuron populations and 0-2 sources, random fixed-probability projections."""
    rng = np.random.default_rng(seed)
    net = Network(f"random{seed}")
    names = []
    for k in range(int(rng.integers(0, 3))):
        net.source(f"s{k}", int(rng.integers(1, max_size)), poisson(float(rng.uniform(1, 50)), k))
        names.append(f"s{k}")
    for k in range(int(rng.integers(1, 5))):
        net.population(f"p{k}", int(rng.integers(1, max_size)), NEURON[family])
        names.append(f"p{k}")
    targets = [n for n in names if n.startswith("p")]
    for k in range(int(rng.integers(1, 6))):
        pre, post = str(rng.choice(names)), str(rng.choice(targets))
        delay = uniform(1, max_delay, seed=k) if max_delay > 1 else 1
        net.connect(pre, post, fixed_probability(float(rng.uniform(0.01, 0.3)), seed=k),
                    weight=1, delay=delay, name=f"j{k}")
    return net


def map_network(net: Network, hardware, strategy: str = "greedy", cap: int | None = None):
    """(spec, graph, partition result, placement, routing) without the pipeline."""
    spec = load_hardware(hardware)
    graph = build_graph(net, spec)
    parts = partition(graph, spec, strategy=strategy, max_neurons_per_core=cap)
    placement = place(parts, spec)
    return spec, graph, parts, placement, route(parts, placement, spec)
