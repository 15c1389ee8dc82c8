"""Float vs quantized spike agreement per population on the balanced W1 network
(examples/balanced_network/).

    .venv/bin/python benchmarks/quantize_agreement.py [--neurons 10000] [--steps 1000]
        [--workload /work/shared/bench]

Builds a float ``lif`` version of W1 on exactly the peers' synapses (``w1_workload.generate``):
tau_mem from dv = 200 (alpha_m = 1 - 200/4096), delta synapses (tau_syn 0), v_th 640, reset 0,
bias 32 per step, weights +8 / -40, delays 1..8, v_init uniform in [0, 640) — then runs it on the
reference with float numerics and, quantized with the default options, with loihi and spinnaker
numerics, and prints per population (E, I) the mean rates, the rate error and the fraction of
neurons whose spike count differs by more than 10%. Goal (issue 4): rate error <= 2% for both.
For contrast it also runs Loihi at W1's native voltage scale 64 (``loihi_v_scale=64``: exactly the
peers' Lava parameters, vth 640 and weights 8/-40).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from snnc.backends.reference import simulate
from snnc.compiler.passes.quantize import QuantizeOptions, quantize
from snnc.compiler.passes.quantize.report import rate_agreement
from snnc.ir import LIF, Network, explicit


def w1_float_network(neurons: int, workload_dir: str) -> Network:
    """The W1 network with float ``lif`` populations E (80%) and I (20%), the peers' synapses."""
    sys.path.insert(0, workload_dir)
    import w1_workload  # the peers' generator: numpy only, deterministic from its seed

    data = w1_workload.generate(neurons)
    meta = json.loads(str(data["meta"]))
    n_exc = meta["NE"]
    tau_mem = -1.0 / math.log(1 - meta["dv12"] / 4096)
    net = Network("w1_float", dt=1.0)
    v_init = data["v0_fx"] / 64.0
    sizes = {"E": (0, n_exc), "I": (n_exc, neurons)}
    for name, (lo, hi) in sizes.items():
        net.population(name, hi - lo, LIF(tau_mem=tau_mem, tau_syn=0.0, v_th=float(meta["vth"]),
                                          bias=meta["bias_fx"] / 64.0, v_init=v_init[lo:hi]))
    pre, post = data["pre"].astype(np.int64), data["post"].astype(np.int64)
    delay = data["delay"].astype(np.int64)
    for src, (slo, shi) in sizes.items():
        weight = float(meta["J"]) if src == "E" else -float(meta["g"] * meta["J"])
        for dst, (dlo, dhi) in sizes.items():
            keep = (pre >= slo) & (pre < shi) & (post >= dlo) & (post < dhi)
            net.connect(src, dst, explicit(pre[keep] - slo, post[keep] - dlo), weight=weight,
                        delay=delay[keep], name=f"{src}->{dst}")
    return net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--workload", default="/work/shared/bench",
                        help="folder holding the peers' w1_workload.py")
    args = parser.parse_args()
    net = w1_float_network(args.neurons, args.workload)
    start = time.perf_counter()
    reference = simulate(net, args.steps, "float")
    print(f"float: {reference.total:,} spikes in {time.perf_counter() - start:.1f} s")
    worst = 0.0
    runs = [("loihi", "loihi", QuantizeOptions()),
            ("spinnaker", "spinnaker", QuantizeOptions()),
            # W1's own Lava parameters (vth 640, weights 8/-40): the peers' Loihi run, for contrast
            ("loihi, v scale 64", "loihi", QuantizeOptions(loihi_v_scale=64))]
    for label, target, options in runs:
        quantized, report = quantize(net, target, options)
        start = time.perf_counter()
        record = simulate(quantized.network, args.steps, target)
        print(f"{label}: {record.total:,} spikes in {time.perf_counter() - start:.1f} s; "
              f"warnings: {report.warnings or 'none'}")
        for row in rate_agreement(net, reference, record):
            if options.loihi_v_scale is None:
                worst = max(worst, row["rate_error"] or 0.0)
            print(f"  {row['population']}: float {row['rate_float_hz']:.3f} Hz, {target} "
                  f"{row['rate_quantized_hz']:.3f} Hz, rate error {100 * row['rate_error']:.2f}%, "
                  f"neurons off by >10%: {100 * row['fraction_differing']:.1f}%")
    print(f"worst per-population rate error with default options {100 * worst:.2f}% (goal <= 2%)")


if __name__ == "__main__":
    main()
