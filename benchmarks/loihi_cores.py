"""Loihi core counts against the row-aware lower bound (issue 15, item 7).

    .venv/bin/python benchmarks/loihi_cores.py [--cases ring100k ring1m w1 microcircuit]
                                               [--strategy greedy] [--json]

Cases: the ring of benchmarks/compile_scale.py (10,000-neuron populations, 100 synapses per neuron,
delays 1..16) at 100k and 1M neurons on its 64-chip Loihi 2 (``loihi2_64``); W1 at 50k neurons
(/work/shared/bench/w1_workload.py, 25 M synapses, ``loihi_lif``) and the Potjans-Diesmann
microcircuit at scale 0.1 (examples/microcircuit/build.py, Poisson drive) on ``loihi-sim``'s
default Loihi 2. Each case is compiled in a fresh process (so that peak RSS is its own) and prints:
neuron cores used, the resource-totals bound (``lower_bound_totals``: one row per pre neuron, the
only bound before), the row-aware ``lower_bound`` (``compiler/mapping/partition.py``), cores over
each, the partition stage's seconds and the seconds the bound itself takes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ("ring100k", "ring1m", "w1", "microcircuit")


def network(case: str):
    """(network, hardware argument for compile_network)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    if case.startswith("ring"):
        import yaml
        from compile_scale import HARDWARE, build

        spec = Path(tempfile.mkdtemp()) / "hw.yaml"
        spec.write_text(yaml.safe_dump(HARDWARE["loihi-sim"]))
        return build(100_000 if case == "ring100k" else 1_000_000, "loihi-sim"), str(spec)
    if case == "w1":
        sim_throughput = importlib.import_module("sim_throughput")  # puts shared/bench on the path
        w1_workload = importlib.import_module("w1_workload")

        return sim_throughput.w1_network(w1_workload.generate(50_000), "loihi"), None
    sys.path.insert(0, str(ROOT / "examples" / "microcircuit"))
    from build import build as microcircuit  # examples/microcircuit/build.py

    return microcircuit(scale=0.1), None


def run_one(case: str, strategy: str) -> dict:
    from snnc.compiler import compile_network
    from snnc.compiler.mapping import partition as partition_module

    net, hardware = network(case)
    seconds = {}
    bound = partition_module.lower_bound

    def timed_bound(*args, **kwargs):
        start = time.perf_counter()
        value = bound(*args, **kwargs)
        seconds["bound"] = time.perf_counter() - start
        return value

    partition_module.lower_bound = timed_bound  # the partitioner looks it up at call time
    start = time.perf_counter()
    build = compile_network(net, "loihi-sim", hardware, strategy=strategy)
    total = time.perf_counter() - start
    t = build.report.totals
    return {
        "case": case, "strategy": strategy, "hardware": build.report.hardware,
        "neurons": t["neurons"], "synapses": t["synapses"], "fits": build.report.fits,
        "cores": t["neuron_cores"] + t["source_cores"],
        "lower_bound_totals": t["lower_bound_totals"], "lower_bound": t["lower_bound"],
        "cores_over_totals": round((t["neuron_cores"] + t["source_cores"])
                                   / t["lower_bound_totals"], 3),
        "cores_over_bound": t["cores_over_bound"],
        "partition_s": round(build.timings["partition"], 2),
        "bound_s": round(seconds.get("bound", 0.0), 2), "total_s": round(total, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--strategy", default="greedy")
    parser.add_argument("--json", action="store_true", help="one JSON object per case")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.strategy)))
        return
    if not args.json:
        print(f"{'case':<14}{'neurons':>10}{'synapses':>13}{'cores':>7}{'totals':>8}{'x':>7}"
              f"{'bound':>7}{'x':>7}{'partition s':>13}{'bound s':>9}{'RSS GiB':>9}")
    for case in args.cases:
        out = subprocess.run([sys.executable, __file__, "--child", case, "--strategy",
                              args.strategy], capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{case}: exit {out.returncode}: {out.stderr.strip().splitlines()[-1:]}")
        row = json.loads(out.stdout.strip().splitlines()[-1])
        if args.json:
            print(json.dumps(row))
            continue
        print(f"{row['case']:<14}{row['neurons']:>10,}{row['synapses']:>13,}{row['cores']:>7,}"
              f"{row['lower_bound_totals']:>8,}{row['cores_over_totals']:>7.3f}"
              f"{row['lower_bound']:>7,}{row['cores_over_bound']:>7.3f}{row['partition_s']:>13}"
              f"{row['bound_s']:>9}{row['peak_rss_gib']:>9}")


if __name__ == "__main__":
    main()
