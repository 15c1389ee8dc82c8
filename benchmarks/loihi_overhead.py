"""What snnc's loihi-sim costs over the same network written by hand in Lava.

Two networks, each run twice in this one script, same machine, same moment:
  3pop:  3 x 1000 loihi_lif neurons, a chain p0 -> p1 -> p2 with 10%-dense mixed-sign weights;
  50pop: 50 x 20 loihi_lif neurons, a chain p0 -> ... -> p49 with 10%-dense mixed-sign weights.
Neurons are driven by a bias. "hand" is what a careful Lava user writes: one LIF and one Dense per
population / projection, `Loihi2SimCfg(select_tag="fixed_pt")`, and a file-writing sink per
population (never Monitor + get(), research §5). "snnc" is `LoihiSimBackend().run(net, steps)`, which
merges the populations into one LIF process. Both must produce the same spikes (checked).

    .venv/bin/python benchmarks/loihi_overhead.py [--steps 1000] [--only 3pop|50pop]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from snnc.backends.loihi_sim import LoihiSimBackend
from snnc.backends.loihi_sim.lava_procs.sink import FileSink
from snnc.ir import LoihiLIF, Network, explicit

NEURON = dict(du=3000, dv=400, vth=300, bias_exp=3)  # plus a per-neuron bias_mant 150..450


def chain(populations: int, size: int, seed: int = 0):
    """The network, each projection's dense (post x pre) weights and each population's bias_mant."""
    rng = np.random.default_rng(seed)
    net = Network(f"chain{populations}", dt=1.0)
    matrices = []
    biases = [rng.integers(150, 451, size) for _ in range(populations)]
    for k in range(populations):
        net.population(f"p{k}", size, LoihiLIF(bias_mant=biases[k], **NEURON))
    for k in range(populations - 1):
        dense = np.where(rng.random((size, size)) < 0.1, rng.integers(-120, 121, (size, size)), 0)
        post, pre = np.nonzero(dense)
        net.connect(f"p{k}", f"p{k + 1}", explicit(pre, post), weight=dense[post, pre])
        matrices.append(dense)
    return net, matrices, biases


def run_by_hand(populations: int, size: int, matrices: list[np.ndarray], biases: list[np.ndarray],
                steps: int):
    """The same network in plain Lava; returns (timings, spikes per population)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.lif.process import LIF

    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        lifs = [LIF(shape=(size,), bias_mant=bias, **NEURON) for bias in biases]
        paths = [Path(tmp) / f"p{k}.npz" for k in range(populations)]
        for lif, path in zip(lifs, paths):
            lif.s_out.connect(FileSink(size=size, num_steps=steps, path=str(path)).s_in)
        for k, dense in enumerate(matrices):
            connection = Dense(weights=dense)
            lifs[k].s_out.connect(connection.s_in)
            connection.a_out.connect(lifs[k + 1].a_in)
        timings["build"] = time.perf_counter() - start
        start = time.perf_counter()
        executable = lifs[0].compile(Loihi2SimCfg(select_tag="fixed_pt"))
        timings["compile"] = time.perf_counter() - start
        try:
            start = time.perf_counter()
            lifs[0].create_runtime(executable=executable)
            timings["start"] = time.perf_counter() - start
            start = time.perf_counter()
            lifs[0].run(condition=RunSteps(num_steps=steps))
            timings["run"] = time.perf_counter() - start
        finally:
            start = time.perf_counter()
            lifs[0].stop()
            timings["stop"] = time.perf_counter() - start
        start = time.perf_counter()
        spikes = []
        for path in paths:
            with np.load(path) as data:
                spikes.append((data["times"], data["ids"]))
        timings["readout"] = time.perf_counter() - start
    return timings, spikes


def run_snnc(net: Network, steps: int):
    backend = LoihiSimBackend()
    start = time.perf_counter()
    record = backend.run(net, steps)
    total = time.perf_counter() - start
    timings = dict(backend.timings)
    timings["lower+split"] = total - sum(timings.values())
    return timings, record, backend.process_count


def report(name: str, hand: dict, snnc: dict, processes: tuple[int, int]) -> None:
    keys = ["build", "compile", "start", "run", "stop", "readout", "lower+split"]
    print(f"\n== {name}: Lava processes hand {processes[0]}, snnc {processes[1]}")
    print(f"{'seconds':<12}" + "".join(f"{k:>12}" for k in keys) + f"{'total':>10}")
    for label, t in (("hand Lava", hand), ("snnc", snnc)):
        print(f"{label:<12}" + "".join(f"{t.get(k, 0.0):>12.3f}" for k in keys)
              + f"{sum(t.values()):>10.2f}")
    ratio = sum(snnc.values()) / sum(hand.values())
    run_ratio = snnc["run"] / hand["run"]
    print(f"snnc / hand: total {ratio:.2f}x, run phase {run_ratio:.2f}x")


def compare(name: str, populations: int, size: int, steps: int) -> None:
    net, matrices, biases = chain(populations, size)
    hand, hand_spikes = run_by_hand(populations, size, matrices, biases, steps)
    snnc, record, snnc_processes = run_snnc(net, steps)
    for k, (times, ids) in enumerate(hand_spikes):
        got_t, got_i = record.spikes[f"p{k}"]
        order = np.lexsort((ids, times))
        assert np.array_equal(times[order], got_t) and np.array_equal(ids[order], got_i), k
    print(f"same spikes by hand and through snnc: {record.total} spikes")
    report(name, hand, snnc, (3 * populations - 1, snnc_processes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--only", choices=["3pop", "50pop"])
    args = parser.parse_args()
    if args.only in (None, "3pop"):
        compare("3pop: 3 x 1000 LIF, 10% dense chain", 3, 1000, args.steps)
    if args.only in (None, "50pop"):
        compare("50pop: 50 x 20 LIF, 10% dense chain", 50, 20, args.steps)


if __name__ == "__main__":
    main()
