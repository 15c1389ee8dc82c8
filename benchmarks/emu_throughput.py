"""spinnaker-emu vs the reference (``spinnaker`` numerics) on the balanced network W1, same spikes.

    .venv/bin/python benchmarks/emu_throughput.py [--neurons 10000] [--steps 1000] [--repeat 3]

W1 (examples/balanced_network/, shared/bench/w1_workload.py): N neurons, 80 % excitatory; random
graph with
p = 0.02 at N = 10,000 (the W1 file's synapses when w1_workload is importable, else the same
statistics drawn here); weights +J / -5J; delays uniform 1..8 steps. The neurons are
``spinnaker_lif`` with delta synapses set up so that, in s16.15, ``V <- a V + (1 - a)(I R)`` with
``a = 3896/4096`` and ``(1 - a) R = 1``: one tick of W1's ``v = a v + u + bias``.

Prints one JSON line: compile, emulator load, emulator run and reference wall times (best of
``--repeat``, after a warm-up that compiles the numba kernels), the ratio emulator / reference
(goal <= 3), spike counts and whether the spikes are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from snnc.backends import first_divergence
from snnc.backends.reference import simulate
from snnc.backends.spinnaker_emu import EmuMachine, provenance
from snnc.compiler import compile_network
from snnc.ir import Network, explicit
from snnc.ir.neurons import SpinnakerLIF

ONE = 1 << 15  # 1.0 in s16.15
SHIFT = 10  # ring-buffer weight W stands for W << 10 = W / 32 in s16.15
J, G, P_BY_N, DMAX = 8, 5, {1000: 0.1, 10000: 0.02, 50000: 0.01}, 8


def w1_synapses(n: int, seed: int = 12345):
    """(pre, post, delay, v0 in W1 fixed-point) from w1_workload if present, else drawn alike."""
    sys.path.insert(0, "/work/shared/bench")
    try:
        import w1_workload

        d = w1_workload.generate(n)
        return d["pre"], d["post"], d["delay"].astype(np.int64), d["v0_fx"].astype(np.int64)
    except ImportError:
        rng = np.random.default_rng([seed, n])
        p = P_BY_N.get(n, 200 / n)
        m = rng.binomial(n * (n - 1), p)
        pre = rng.integers(0, n, m)
        post = (pre + rng.integers(1, n, m)) % n  # no self connections
        return pre, post, rng.integers(1, DMAX + 1, m), rng.integers(0, 640 * 64, n)


def balanced(n: int) -> Network:
    """W1 as one ``spinnaker_lif`` population with one explicit projection."""
    pre, post, delay, v0_fx = w1_synapses(n)
    n_exc = int(round(0.8 * n))
    unit = ONE >> SHIFT  # ring-buffer units per weight unit
    weight = np.where(pre < n_exc, J * unit, -G * J * unit).astype(np.int64)
    a = 3896 / 4096
    neuron = SpinnakerLIF(v_thresh=640 * ONE, v_reset=0, v_init=v0_fx << 9,
                          i_offset=32 * ONE,  # W1's bias 2048/64 = 32 weight units per step
                          exp_tc=round(a * ONE), r_membrane=round(ONE / (1 - a)),
                          synapse="delta", weight_shift_exc=SHIFT, weight_shift_inh=SHIFT)
    net = Network(f"w1_spinnaker_{n}", dt=1.0)
    net.population("w1", n, neuron)
    net.connect("w1", "w1", explicit(pre, post), weight=weight, delay=delay)
    return net


def best_of(repeat: int, function):
    """(best wall seconds, best CPU seconds of this process, last value) over ``repeat`` calls.

    CPU time is reported too because the machine is shared: wall time includes waiting for a core.
    """
    walls, cpus, value = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        value = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), value


def emulate(machine: EmuMachine, steps: int):
    """What ``SpinnakerEmuBackend.run`` does on a loaded machine: the run and its provenance."""
    record, counters = machine.run(steps)
    return record, counters, provenance(machine, counters, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    net = balanced(args.neurons)
    start = time.perf_counter()
    build = compile_network(net, "spinnaker-emu")
    compile_s = time.perf_counter() - start
    EmuMachine(build).run(5)  # warm-up: numba kernels compiled (or loaded from cache)
    simulate(build.network, 5, "spinnaker")
    load_s, _, machine = best_of(args.repeat, lambda: EmuMachine(build))
    emu_s, emu_cpu, (emu, counters, prov) = best_of(args.repeat,
                                                    lambda: emulate(machine, args.steps))
    ref_s, ref_cpu, ref = best_of(args.repeat,
                                  lambda: simulate(build.network, args.steps, "spinnaker"))
    divergence = first_divergence(ref, emu)
    print(json.dumps({
        "benchmark": "emu_throughput", "neurons": args.neurons, "steps": args.steps,
        "synapses": int(machine.rows.words.size), "cores": len(build.partition.cores),
        "chips": prov["summary"]["chips_used"],
        "compile_s": round(compile_s, 3), "emu_load_s": round(load_s, 3),
        "emu_run_s": round(emu_s, 3), "reference_s": round(ref_s, 3),
        "emu_run_cpu_s": round(emu_cpu, 3), "reference_cpu_s": round(ref_cpu, 3),
        "ratio_wall": round(emu_s / ref_s, 2), "ratio_cpu": round(emu_cpu / ref_cpu, 2),
        "ratio_load_and_run_wall": round((load_s + emu_s) / ref_s, 2),
        "spikes": emu.total, "reference_spikes": ref.total,
        "rate_hz": round(emu.total / args.neurons / (args.steps / 1000.0), 2),
        "packets": prov["summary"]["packets_sent"],
        "synaptic_events": prov["summary"]["synaptic_events"],
        "max_cpu_load": prov["summary"]["max_cpu_load"],
        "identical": divergence is None,
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }), flush=True)


if __name__ == "__main__":
    main()
