"""IR at scale: build (Python builder), expand, save and reload a 1M-neuron / 100M-synapse network.

    .venv/bin/python benchmarks/ir_scale.py [--neurons 1000000] [--synapses 100000000] [--dir /tmp/x]

Prints seconds per stage and the peak resident memory. Goal (issue 2): expansion <= 20 s and peak
RSS <= 4 GiB on a 2-core machine. Two files are measured: the rule form (YAML only: connectivity is
re-drawn from its seeds on load) and the materialized form (explicit arrays in NPZ).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from snnc.ir import LIF, Network, expand_all, fixed_probability, load, materialize, uniform


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def build(neurons: int, synapses: int) -> Network:
    """A balanced network: 80% excitatory, 20% inhibitory, all four projections fixed_probability."""
    n_exc = int(neurons * 0.8)
    n_inh = neurons - n_exc
    p = synapses / float(neurons) ** 2
    net = Network("ir_scale", dt=1.0)
    exc = net.population("exc", n_exc, LIF(tau_mem=20.0, v_th=20.0, v_reset=10.0, refractory=2))
    inh = net.population("inh", n_inh, LIF(tau_mem=20.0, v_th=20.0, v_reset=10.0, refractory=2))
    for seed, (pre, post, weight) in enumerate(
        [(exc, exc, 0.1), (exc, inh, 0.1), (inh, exc, -0.5), (inh, inh, -0.5)]
    ):
        net.connect(pre, post, fixed_probability(p, seed=seed), weight=weight,
                    delay=uniform(1, 8, seed=100 + seed))
    return net


def timed(label: str, results: dict, function, *args):
    start = time.perf_counter()
    value = function(*args)
    results[label] = time.perf_counter() - start
    print(f"{label:<28} {results[label]:7.2f} s   peak RSS {peak_rss_gib():5.2f} GiB", flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=1_000_000)
    parser.add_argument("--synapses", type=int, default=100_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temp dir)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="snnc_ir_scale_"))
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, float] = {}
    try:
        net = timed("build (builder)", results, build, args.neurons, args.synapses)
        expanded = timed("expand", results, expand_all, net)
        total = sum(len(s) for s in expanded.values())
        print(f"{'':<28} {total:,} synapses, {args.neurons:,} neurons")
        timed("save (rules, YAML)", results, net.save, folder / "rules.yaml")
        explicit = materialize(net, expanded)
        del expanded
        timed("save (explicit, YAML+NPZ)", results, explicit.save, folder / "explicit.yaml")
        del explicit
        size = sum(f.stat().st_size for f in folder.iterdir()) / 2**30
        print(f"{'':<28} files: {size:.2f} GiB")
        timed("load (rules)", results, load, folder / "rules.yaml")
        reloaded = timed("load (explicit)", results, load, folder / "explicit.yaml")
        again = timed("expand (explicit, reloaded)", results, expand_all, reloaded)
        assert sum(len(s) for s in again.values()) == total
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"peak RSS {peak_rss_gib():.2f} GiB; expansion {results['expand']:.1f} s "
          f"(goal <= 20 s, <= 4 GiB)")


if __name__ == "__main__":
    main()
