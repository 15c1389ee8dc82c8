"""spinnaker-emu at scale: a sparse random network on hundreds of cores, vs the reference.

    .venv/bin/python benchmarks/emu_scale.py [--neurons 50000] [--fan-in 20] [--steps 200]

One ``spinnaker_lif`` population (exponential synapses, 80 % excitatory weights, delays 1..59 so that
delay cores appear) driven by 2,000 Poisson sources. Every packet reaches every core of its sending
core's multicast group, so the emulator's load and run grow with packets x cores reached, which the
printed provenance makes visible (CPU load far above one tick). Prints compile, load, run and
reference seconds, the spike totals and whether they are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from snnc.backends import first_divergence
from snnc.backends.reference import simulate
from snnc.backends.spinnaker_emu import SpinnakerEmuBackend
from snnc.compiler import compile_network
from snnc.ir import Network, explicit, poisson
from snnc.ir.neurons import SpinnakerLIF

ONE = 1 << 15


def sparse_network(n: int, fan_in: int, seed: int = 1) -> Network:
    rng = np.random.default_rng(seed)
    m = n * fan_in
    decay, init = int(0.8 * 2**32), int(0.9 * 2**32)
    net = Network(f"emu_scale_{n}", dt=1.0)
    net.source("noise", 2000, poisson(20.0, seed=3))
    net.population("p", n, SpinnakerLIF(v_thresh=ONE, exp_tc=31000, r_membrane=20 * ONE,
                                        decay_exc=decay, init_exc=init, decay_inh=decay,
                                        init_inh=init, weight_shift_exc=10, weight_shift_inh=10))
    net.connect("p", "p", explicit(rng.integers(0, n, m), rng.integers(0, n, m)),
                weight=np.where(rng.random(m) < 0.8, 40, -160), delay=rng.integers(1, 60, m))
    net.connect("noise", "p", explicit(rng.integers(0, 2000, 5 * n), rng.integers(0, n, 5 * n)),
                weight=60, delay=1)
    return net


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=50_000)
    parser.add_argument("--fan-in", type=int, default=20)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    net = sparse_network(args.neurons, args.fan_in)
    compile_s, build = timed(lambda: compile_network(net, "spinnaker-emu"))
    backend = SpinnakerEmuBackend()
    load_s, machine = timed(lambda: backend.load(build))
    run_s, got = timed(lambda: backend.run(machine, args.steps))
    ref_s, expected = timed(lambda: simulate(build.network, args.steps, "spinnaker"))
    summary = backend.provenance["summary"]
    print(json.dumps({
        "benchmark": "emu_scale", "neurons": args.neurons, "steps": args.steps,
        "cores": len(build.partition.cores), "chips": summary["chips_used"],
        "compile_s": round(compile_s, 2), "emu_load_s": round(load_s, 2),
        "emu_run_s": round(run_s, 2), "reference_s": round(ref_s, 2),
        "spikes": got.total, "identical": first_divergence(expected, got) is None,
        "packets_received": summary["packets_received"], "max_cpu_load": summary["max_cpu_load"],
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }), flush=True)


if __name__ == "__main__":
    main()
