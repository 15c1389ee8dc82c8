"""Compile at scale: 100k and 1M neurons (100 synapses per neuron) for loihi-sim and spinnaker-emu.

    .venv/bin/python benchmarks/compile_scale.py [--sizes 100000 1000000] [--targets loihi-sim spinnaker-emu]
                                                 [--strategy greedy] [--spynnaker]

Network: populations of 10,000 neurons in a ring; population k feeds itself and k+1 with
fixed_probability 0.005 (100 synapses per neuron from 20,000 candidates), delays uniform 1..16 steps,
and a 1,000-neuron Poisson source into population 0. Neurons are the targets' native integer kinds
(quantization passes them through: this measures mapping). Each size/target runs in a fresh process
so that peak RSS is its own. Machines are enlarged until the network fits (a 16x16 SpiNNaker torus,
a 64-chip Loihi 2 system).

Printed per run: seconds per stage, total, peak RSS, cores vs the lower bound, inter-core spikes
per step (estimated), router entries per chip (max / mean / total) and, for spinnaker-emu, the core
count of sPyNNaker-style fixed slicing (256 neurons per core, computed). With --spynnaker, sPyNNaker
itself maps the same network on a virtual board (benchmarks/spynnaker_map.py, run by
.venv-spynnaker's Python 3.11; make it with `bash benchmarks/spynnaker_setup.sh`) and its cores
and router entries per chip (after its PairCompressor) are printed beside snnc's. Goal (issue 5):
1M / 100M in <= 60 s and <= 8 GiB, cores <= 1.02 x lower bound.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

POP = 10_000
ROOT = Path(__file__).resolve().parent.parent
SPYNNAKER_PY = ROOT / ".venv-spynnaker" / "bin" / "python"
HARDWARE = {
    "loihi-sim": {"base": "loihi2", "name": "loihi2_64", "chips_x": 8, "chips_y": 8},
    "spinnaker-emu": {"base": "spinnaker1", "name": "spinnaker_16x16", "chips_x": 16,
                      "chips_y": 16, "chip_layout": "full", "wrap": True},
}


def build(neurons: int, target: str):
    from snnc.ir import LoihiLIF, Network, SpinnakerLIF, fixed_probability, poisson, uniform

    kind = (LoihiLIF(du=4095, dv=100, vth=100) if target == "loihi-sim" else
            SpinnakerLIF(v_thresh=327680, exp_tc=31171, r_membrane=32768))
    net = Network("compile_scale")
    pops = neurons // POP
    net.source("input", 1000, poisson(10.0, seed=1))
    for k in range(pops):
        net.population(f"p{k}", POP, kind)
    net.connect("input", "p0", fixed_probability(0.01, seed=2), weight=5)
    for k in range(pops):
        for j, post in enumerate((k, (k + 1) % pops)):
            net.connect(f"p{k}", f"p{post}", fixed_probability(0.005, seed=3 * k + j), weight=1,
                        delay=uniform(1, 16, seed=k + 7 * j))
    return net


def run_one(neurons: int, target: str, strategy: str) -> dict:
    import tempfile
    from pathlib import Path

    import yaml

    from snnc.compiler import compile_network

    spec = Path(tempfile.mkdtemp()) / "hw.yaml"
    spec.write_text(yaml.safe_dump(HARDWARE[target]))
    net = build(neurons, target)
    start = time.perf_counter()
    build_ = compile_network(net, target, str(spec), strategy=strategy)
    total = time.perf_counter() - start
    r = build_.report
    chips = [c.entries for c in r.routing.chips] or [0]
    pops = neurons // POP
    return {
        "neurons": neurons, "target": target, "strategy": strategy,
        "synapses": r.totals["synapses"], "fits": r.fits,
        "stages": {k: round(v, 2) for k, v in build_.timings.items()}, "total_s": round(total, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "cores": r.totals["cores"], "neuron_cores": r.totals["neuron_cores"],
        "source_cores": r.totals["source_cores"], "delay_cores": r.totals["delay_cores"],
        "lower_bound": r.totals["lower_bound"],
        "spynnaker_style_cores": pops * -(-POP // 256) + (-(-1000 // 500)),
        "inter_core_spikes_per_step": round(r.totals["traffic_cut"], 1),
        "hop_traffic": round(r.totals["hop_traffic"], 1),
        "router_entries_max": max(chips), "router_entries_mean": round(sum(chips) / len(chips), 1),
        "router_entries_total": r.routing.total_entries,
        "router_entries_raw": r.routing.total_entries_raw,
        "violations": r.violations[:3],
    }


def run_spynnaker(neurons: int, timeout: float) -> tuple[dict | None, str]:
    """Map the network with sPyNNaker (virtual board) in its own venv; (row, why-not)."""
    import tempfile

    if not SPYNNAKER_PY.exists():
        return None, (f"not run: {SPYNNAKER_PY.relative_to(ROOT)} missing "
                      "(make it with `bash benchmarks/spynnaker_setup.sh`)")
    workdir = tempfile.mkdtemp(prefix=f"spynnaker_map_{neurons}_")
    try:
        out = subprocess.run([str(SPYNNAKER_PY), str(ROOT / "benchmarks" / "spynnaker_map.py"),
                              str(neurons), "--workdir", workdir],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"could not map: over the {timeout:.0f} s timeout (work dir {workdir})"
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        tail = (out.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return None, f"could not map (exit {out.returncode}): {tail} (work dir {workdir})"
    return json.loads(lines[-1]), ""


def print_peer(row: dict, peer: dict | None, why: str) -> None:
    if peer is None:
        print(f"  sPyNNaker: {why}")
        return
    snnc_cores = row["neuron_cores"] + row["source_cores"] + row["delay_cores"]
    peer_cores = peer["neuron_cores"] + peer["source_cores"] + peer["delay_cores"]
    entries, raw = peer["router_entries"] or peer["router_entries_uncompressed"], \
        peer["router_entries_uncompressed"]
    print(f"  sPyNNaker {peer['spynnaker']} (virtual board {peer['machine']}), mapped in "
          f"{peer['mapping_total_s']} s: cores {peer['cores']:,} (neuron {peer['neuron_cores']:,}, "
          f"source {peer['source_cores']}, delay {peer['delay_cores']}, system "
          f"{peer['system_cores']}); app cores snnc / sPyNNaker = {snnc_cores:,} / "
          f"{peer_cores:,} = {snnc_cores / peer_cores:.3f}")
    print(f"  sPyNNaker router entries per chip: max {entries['max']}, mean {entries['mean']}, "
          f"total {entries['total']:,} on {entries['chips']} chips (uncompressed {raw['total']:,}, "
          f"max {raw['max']}); snnc: max {row['router_entries_max']}, total "
          f"{row['router_entries_total']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--targets", nargs="+", default=["loihi-sim", "spinnaker-emu"])
    parser.add_argument("--strategy", default="greedy")
    parser.add_argument("--spynnaker", action="store_true",
                        help="also map each size with sPyNNaker on a virtual board (spinnaker-emu)")
    parser.add_argument("--spynnaker-timeout", type=float, default=1800.0)
    parser.add_argument("--json", action="store_true", help="also print each run as a JSON line")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(int(args.one[0]), args.one[1], args.one[2])))
        return
    for neurons in args.sizes:
        for target in args.targets:
            out = subprocess.run([sys.executable, __file__, "--one", str(neurons), target,
                                  args.strategy], capture_output=True, text=True)
            if out.returncode:
                print(f"{neurons} {target}: failed\n{out.stderr[-2000:]}")
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"\n== {neurons:,} neurons, {row['synapses']:,} synapses, {target} "
                  f"({row['strategy']}), fits: {row['fits']}")
            print("  stages (s): " + ", ".join(f"{k} {v}" for k, v in row["stages"].items())
                  + f"; total {row['total_s']} s; peak RSS {row['peak_rss_gib']} GiB")
            print(f"  cores {row['cores']:,} (neuron {row['neuron_cores']:,}, source "
                  f"{row['source_cores']}, delay {row['delay_cores']}); lower bound "
                  f"{row['lower_bound']:,}; ratio {row['neuron_cores'] + row['source_cores']} / "
                  f"{row['lower_bound']} = "
                  f"{(row['neuron_cores'] + row['source_cores']) / row['lower_bound']:.3f}")
            if target == "spinnaker-emu":
                ratio = (row["neuron_cores"] + row["source_cores"]) / row["spynnaker_style_cores"]
                print(f"  computed: sPyNNaker-style fixed slicing (256 neurons per core) takes "
                      f"{row['spynnaker_style_cores']:,} neuron+source cores "
                      f"(snnc / computed = {ratio:.3f})")
            print(f"  inter-core spikes/step (est.) {row['inter_core_spikes_per_step']:,}; "
                  f"hops x spikes/step {row['hop_traffic']:,}")
            print(f"  router entries per chip: max {row['router_entries_max']}, mean "
                  f"{row['router_entries_mean']}, total {row['router_entries_total']:,} (raw "
                  f"{row['router_entries_raw']:,})")
            for line in row["violations"]:
                print(f"  violation: {line}")
            if args.spynnaker and target == "spinnaker-emu":
                # after snnc's run, not beside it: the two never share the CPUs
                peer, why = run_spynnaker(neurons, args.spynnaker_timeout)
                print_peer(row, peer, why)
                row["spynnaker"] = peer if peer is not None else {"error": why}
            if args.json:
                print(json.dumps(row))


if __name__ == "__main__":
    main()
