#!/usr/bin/env python
"""Placement quality: snnc's hops x traffic against random placements of the same cores.

For each case the partition is fixed (snnc's own); snnc's placement is compared with ``--random``
placements that put the same cores into the same slots in a random order (seeded), and with the
objective's lower bound (``compiler/mapping/place.py::hop_traffic_bound``). Also printed: the
placement before annealing (RCM order + serpentine fill, the previous algorithm).

    .venv/bin/python benchmarks/placement_quality.py                  # ring + microcircuit 0.1
    .venv/bin/python benchmarks/placement_quality.py --cases ring --random 200

Cases:
- ``ring``: 40 populations of 100 LIF neurons in a ring (each feeds the next, p = 0.05), the
  ``graph`` strategy, SpiNNaker chips with 3 application cores (many chips for few cores);
- ``microcircuit``: ``examples/microcircuit`` at scale 0.1 for spinnaker-emu (greedy).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def ring_case():
    from snnc.compiler.hardware import load_hardware
    from snnc.ir import LIF, Network, fixed_probability

    net = Network("ring40")
    for k in range(40):
        net.population(f"p{k}", 100, LIF(tau_mem=20.0, v_th=1.0))
    for k in range(40):
        net.connect(f"p{k}", f"p{(k + 1) % 40}", fixed_probability(0.05, seed=k), weight=0.1)
    spec = load_hardware("spinnaker1").model_copy(update={"cores_per_chip": 3})
    return net, spec, "graph"


def microcircuit_case():
    from snnc.compiler.hardware import load_hardware
    from snnc.compiler.passes.quantize import quantize

    sys.path.insert(0, str(ROOT / "examples" / "microcircuit"))
    from build import build  # examples/microcircuit/build.py

    quantized, _report = quantize(build(scale=0.1), "spinnaker")
    return quantized.network, load_hardware("spinnaker1"), "greedy"


CASES = {"ring": ring_case, "microcircuit": microcircuit_case}


def measure(name: str, randoms: int) -> dict:
    from snnc.compiler.artifacts import Placement
    from snnc.compiler.mapping import place as placement
    from snnc.compiler.mapping.graph import build_graph
    from snnc.compiler.mapping.partition import partition

    net, spec, strategy = CASES[name]()
    parts = partition(build_graph(net, spec), spec, strategy=strategy)
    start = time.perf_counter()
    ours = placement.place(parts, spec)
    seconds = time.perf_counter() - start
    slots = list(ours.location.values())
    rng = np.random.default_rng(0)
    scores = []
    for _ in range(randoms):
        order = rng.permutation(len(slots))
        shuffled = Placement({core: slots[i] for core, i in zip(ours.location, order)})
        scores.append(placement.hop_traffic(parts, shuffled, spec))
    before = _unrefined(parts, spec)
    return {"case": name, "cores": len(parts.partitioning.cores),
            "chips": len({loc[:2] for loc in slots}), "snnc": placement.hop_traffic(parts, ours, spec),
            "rcm_serpentine": placement.hop_traffic(parts, before, spec),
            "bound": placement.hop_traffic_bound(parts, spec),
            "random_p5": float(np.percentile(scores, 5)), "random_median": float(np.median(scores)),
            "random_best": float(min(scores)),
            "better_randoms": float(np.mean(np.array(scores) < placement.hop_traffic(parts, ours, spec))),
            "place_s": seconds}


def _unrefined(parts, spec):
    """The placement without annealing (the previous algorithm)."""
    from snnc.compiler.mapping import place as placement

    saved = placement.ANNEAL_MAX_CHIPS
    placement.ANNEAL_MAX_CHIPS = 0
    try:
        return placement.place(parts, spec)
    finally:
        placement.ANNEAL_MAX_CHIPS = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--random", type=int, default=200, help="random placements per case")
    args = parser.parse_args()
    print(f"{'case':<13}{'cores':>6}{'chips':>6}{'snnc':>10}{'RCM+serp':>10}{'bound':>9}"
          f"{'rand p5':>10}{'median':>10}{'best':>10}{'better':>8}{'place s':>9}")
    for name in args.cases:
        r = measure(name, args.random)
        print(f"{r['case']:<13}{r['cores']:>6}{r['chips']:>6}{r['snnc']:>10.2f}"
              f"{r['rcm_serpentine']:>10.2f}{r['bound']:>9.2f}{r['random_p5']:>10.2f}"
              f"{r['random_median']:>10.2f}{r['random_best']:>10.2f}{r['better_randoms']:>8.1%}"
              f"{r['place_s']:>9.2f}")


if __name__ == "__main__":
    main()
