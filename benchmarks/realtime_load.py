#!/usr/bin/env python
"""Compile-time real-time load against the emulator's measured load, per core.

Each case is compiled for spinnaker-emu with ``--estimate-rates STEPS`` (a reference run of the
quantized network in spinnaker numerics), then run in the emulator for the same steps; printed:
cores, the report's verdict and peak estimated load, the measured peak and overruns, and the
ratio estimate / measured mean cycles per core (min, median, max over cores).

    .venv/bin/python benchmarks/realtime_load.py                      # W1 10k + microcircuit 0.1
    .venv/bin/python benchmarks/realtime_load.py --cases w1 --steps 1000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def w1():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from emu_throughput import balanced  # W1 as one spinnaker_lif population

    return balanced(10_000)


def microcircuit():
    sys.path.insert(0, str(ROOT / "examples" / "microcircuit"))
    from build import build  # examples/microcircuit/build.py

    return build(scale=0.1)


CASES = {"w1": w1, "microcircuit": microcircuit}


def measure(name: str, steps: int) -> dict:
    from snnc.backends.spinnaker_emu import SpinnakerEmuBackend
    from snnc.compiler import compile_network

    net = CASES[name]()
    start = time.perf_counter()
    build = compile_network(net, "spinnaker-emu", estimate_rates=steps)
    compile_s = time.perf_counter() - start
    backend = SpinnakerEmuBackend()
    backend.run(build, steps)
    measured = {row["id"]: row["cycles_mean"] for row in backend.provenance["cores"]}
    ratios = np.array([core.load_cycles / measured[core.id] for core in build.report.cores
                       if measured.get(core.id)])
    realtime = build.report.totals["realtime"]
    summary = backend.provenance["summary"]
    return {"case": name, "cores": len(build.report.cores), "fits": build.report.fits,
            "est_peak": realtime["max_load"], "meas_peak": summary["max_cpu_load"],
            "overruns": summary["tick_overruns"], "min": ratios.min(),
            "median": float(np.median(ratios)), "max": ratios.max(), "compile_s": compile_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    print(f"{'case':<13}{'cores':>6}{'fits':>6}{'est mean max':>14}{'meas tick max':>15}"
          f"{'overruns':>10}{'est/meas min':>14}{'median':>8}{'max':>7}{'compile s':>11}")
    for name in args.cases:
        r = measure(name, args.steps)
        print(f"{r['case']:<13}{r['cores']:>6}{'yes' if r['fits'] else 'NO':>6}"
              f"{r['est_peak']:>14.1%}{r['meas_peak']:>15.1%}{r['overruns']:>10}"
              f"{r['min']:>14.3f}{r['median']:>8.3f}{r['max']:>7.3f}{r['compile_s']:>11.1f}")


if __name__ == "__main__":
    main()
