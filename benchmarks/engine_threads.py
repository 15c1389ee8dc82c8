"""One thread against two in the reference engine, on the same program (docs/performance.md).

The engine chooses by size (``backends/reference/engine.py``: ``use_threads``); here
``SNNC_ENGINE_PARALLEL=0/1`` forces each loop in turn on one lowered program, interleaved, after
one warm-up run of each (numba compiles there), and checks that both give the same spikes.

    .venv/bin/python benchmarks/engine_threads.py --case w1 --size 50000 --numerics float
    .venv/bin/python benchmarks/engine_threads.py --case microcircuit --size 0.5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def network(case: str, size: float, numerics: str):
    if case == "microcircuit":
        sys.path.insert(0, str(ROOT / "examples" / "microcircuit"))
        from build import build  # type: ignore[import-not-found]  # examples/microcircuit/build.py

        return build(scale=size)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT.parent / "shared" / "bench"))
    import w1_workload  # the shared benchmark network
    from sim_throughput import w1_network

    return w1_network(w1_workload.generate(int(size)), "loihi" if numerics == "loihi" else "lif")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["w1", "microcircuit"], default="w1")
    parser.add_argument("--size", type=float, default=50000, help="W1 neurons / microcircuit scale")
    parser.add_argument("--numerics", default="float", choices=["float", "loihi", "spinnaker"])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from snnc.backends.reference import prepare
    from snnc.backends.reference.engine import Engine
    from snnc.backends.reference.program import lower

    started = time.perf_counter()
    runnable = prepare(network(args.case, args.size, args.numerics), args.numerics)
    program = lower(runnable, args.steps, args.numerics)
    print(f"{args.case} {args.size:g} {args.numerics}: {program.neurons_simulated:,} neurons, "
          f"{program.weights.size:,} synapses, built and lowered in "
          f"{time.perf_counter() - started:.1f} s (load {os.getloadavg()[0]:.1f})")
    times: dict[str, list[float]] = {"0": [], "1": []}
    spikes: dict[str, set] = {"0": set(), "1": set()}
    for rep in range(args.repeats + 1):
        for forced in ("0", "1"):
            os.environ["SNNC_ENGINE_PARALLEL"] = forced
            engine = Engine(program, {})
            started = time.perf_counter()
            engine.run()
            elapsed = time.perf_counter() - started
            ids = engine.spikes()[1]
            spikes[forced].add((ids.size, int(np.int64(ids).sum())))
            if rep:  # the first round compiles
                times[forced].append(elapsed)
    one, two = np.median(times["0"]), np.median(times["1"])
    print(f"one thread: {one:.3f} s (runs {', '.join(f'{t:.3f}' for t in times['0'])})")
    print(f"two threads: {two:.3f} s (runs {', '.join(f'{t:.3f}' for t in times['1'])})")
    print(f"two / one: {one / two:.2f}x; same spikes: {spikes['0'] == spikes['1']} "
          f"(load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
