"""Run the microcircuit on snnc's reference and compare its rates and CVs with NEST's.

    .venv/bin/python examples/microcircuit/run.py [--net net.yaml | --scale 0.1 --seed 55
        --drive poisson] [--steps 15000] [--t0 500] [--numerics spinnaker,loihi]
        [--raster examples/microcircuit/raster.png]

Without ``--net`` it builds the network first (build.py) into ``examples/microcircuit/out/``. It
runs the float reference (``snnc.backends.reference.simulate(net, steps, "float")``) for
``--steps`` steps of 0.1 ms, computes per-population rates (Hz) and ISI CVs over
``[t0, steps dt)`` ms (NEST's example: 500 ms presimulation, 1000 ms measured), and prints them next
to NEST's at the same scale (NEST 3.10.0 running its own Potjans_2014 model, ``nest_reference.py
example``, five seeds) and NEST's full-scale rates. ``--numerics`` adds the reference's quantized
numerics (``lif`` quantized by snnc's pass); a numerics snnc refuses for this network is reported
in one line. The raster shows 200 ms after ``t0``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from analysis import population_stats  # noqa: E402
from build import FULL_MEAN_RATES, POPULATIONS  # noqa: E402

# NEST 3.10.0 (pip nest-simulator), nest_reference.py example --scale 0.1 --seed 1..5 (Poisson
# drive, 500 ms presimulation, rates and CVs over [500, 1500) ms): mean and sd over the 5 seeds.
NEST_SCALE_0_1 = {
    "rate": np.array([0.404, 1.968, 3.943, 4.922, 6.443, 7.698, 0.842, 6.938]),
    "rate_sd": np.array([0.029, 0.068, 0.055, 0.038, 0.339, 0.032, 0.018, 0.072]),
    "cv": np.array([0.48, 0.51, 0.57, 0.59, 0.62, 0.62, 0.52, 0.60]),
}
RASTER_MS = 200.0
COLOURS = {"E": "#2b6cb0", "I": "#c53030"}


def simulate(net, steps: int, numerics: str):
    from snnc.backends.reference import simulate as reference

    return reference(net, steps, numerics)


def stats(record, net, t0: float) -> dict[str, dict]:
    """Per population: rate, CV (analysis.population_stats) over [t0, end) ms."""
    t1 = record.steps * record.dt
    out = {}
    for name in POPULATIONS:
        times, ids = record.spikes[name]
        out[name] = population_stats(times * record.dt, ids, net.populations[name].size, t0, t1)
    return out


def run(net, steps: int, t0: float, numerics: tuple[str, ...] = ()) -> dict[str, dict]:
    """{numerics: {"record", "stats", "seconds"} or {"refused": message}}; float always first."""
    from snnc.ir.errors import SnncError

    results = {}
    for kind in ("float",) + tuple(n for n in numerics if n != "float"):
        start = time.perf_counter()
        try:
            record = simulate(net, steps, kind)
        except SnncError as error:
            results[kind] = {"refused": str(error).splitlines()[0]}
            continue
        results[kind] = {"record": record, "stats": stats(record, net, t0),
                         "seconds": time.perf_counter() - start}
    return results


def table(results: dict[str, dict]) -> str:
    """The comparison table (plain text; the README has it as markdown)."""
    ran = [k for k, r in results.items() if "stats" in r]
    head = f"{'pop':<6}" + "".join(f"{k + ' Hz':>13}{'CV':>6}" for k in ran)
    head += f"{'NEST 0.1 Hz':>17}{'CV':>6}{'full Hz':>9}{'float/NEST':>12}"
    lines = [head]
    for i, name in enumerate(POPULATIONS):
        row = f"{name:<6}"
        for k in ran:
            s = results[k]["stats"][name]
            row += f"{s['rate']:>13.3f}{s['cv']:>6.2f}"
        nest_rate, nest_sd = NEST_SCALE_0_1["rate"][i], NEST_SCALE_0_1["rate_sd"][i]
        ratio = results["float"]["stats"][name]["rate"] / nest_rate if nest_rate else float("nan")
        row += (f"{nest_rate:>10.3f} ±{nest_sd:<5.3f}{NEST_SCALE_0_1['cv'][i]:>6.2f}"
                f"{FULL_MEAN_RATES[i]:>9.3f}{ratio:>12.2f}")
        lines.append(row)
    return "\n".join(lines)


def raster(record, net, t0: float, path: Path, title: str, rates: dict[str, dict]) -> None:
    """Spikes of all neurons in [t0, t0 + 200 ms), L2/3 at the top; E blue, I red; rates beside."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, (ax, bar) = plt.subplots(1, 2, figsize=(11, 6.5), width_ratios=(4, 1.3), sharey=True)
    total = sum(net.populations[n].size for n in POPULATIONS)
    top, centres = total, []
    for i, name in enumerate(POPULATIONS):
        size = net.populations[name].size
        times, ids = record.spikes[name]
        ms = times * record.dt
        keep = (ms >= t0) & (ms < t0 + RASTER_MS)
        colour = COLOURS[name[-1]]
        ax.scatter(ms[keep], top - ids[keep], s=4, c=colour, marker=".", linewidths=0,
                   rasterized=True)
        centres.append(top - size / 2)
        bar.barh(top - size / 2, rates[name]["rate"], height=size * 0.8, color=colour)
        bar.plot(NEST_SCALE_0_1["rate"][i], top - size / 2, "kD", ms=5,
                 label="NEST, same scale" if i == 0 else None)
        top -= size
        if name.endswith("I") and top > 0:
            for a in (ax, bar):
                a.axhline(top, color="0.6", lw=0.6)
    ax.set_yticks(centres, [n.replace("23", "2/3") for n in POPULATIONS], fontsize=11)
    ax.set_ylim(0, total)
    ax.set_xlim(t0, t0 + RASTER_MS)
    ax.set_xlabel("time (ms)", fontsize=11)
    ax.set_title(title, fontsize=11)
    bar.set_xlabel("rate (Hz)", fontsize=11)
    bar.set_title("snnc float (bars)", fontsize=10)
    from matplotlib.patches import Patch

    handles = bar.get_legend_handles_labels()[0] + [
        Patch(color=COLOURS["E"], label="excitatory"),
        Patch(color=COLOURS["I"], label="inhibitory")]
    bar.legend(handles=handles, fontsize=9, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", type=Path, help="a network written by build.py")
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=55)
    parser.add_argument("--drive", choices=("poisson", "dc"), default="poisson")
    parser.add_argument("--steps", type=int, default=15000)
    parser.add_argument("--t0", type=float, default=500.0, help="rate window start (ms)")
    parser.add_argument("--numerics", default="",
                        help="also run these quantized numerics: loihi, spinnaker (comma list)")
    parser.add_argument("--raster", type=Path, default=HERE / "raster.png")
    args = parser.parse_args(argv)
    numerics = tuple(n for n in args.numerics.split(",") if n)
    unknown = [n for n in numerics if n not in ("float", "loihi", "spinnaker")]
    if unknown:
        parser.error(f"unknown numerics {unknown} (known: loihi, spinnaker)")
    if args.t0 >= args.steps * 0.1:
        parser.error("--t0 must be before the end of the run")

    from snnc.ir import load

    path = args.net
    if path is None:
        from build import build

        path = HERE / "out" / "net.yaml"
        start = time.perf_counter()
        build(args.scale, args.seed, args.drive).save(str(path))
        print(f"built {path} in {time.perf_counter() - start:.1f} s")
    net = load(path)
    results = run(net, args.steps, args.t0, numerics)
    for kind, r in results.items():
        if "seconds" in r:
            spikes = sum(r["record"].spikes[n][0].size for n in POPULATIONS)
            print(f"{kind}: {args.steps} steps in {r['seconds']:.1f} s, {spikes:,} neuron spikes")
        else:
            print(f"{kind}: refused: {r['refused']}")
    print(f"\nrates over [{args.t0:g}, {args.steps * 0.1:g}) ms\n" + table(results))
    meta = net.metadata
    raster(results["float"]["record"], net, args.t0, args.raster,
           f"Potjans-Diesmann microcircuit, scale {meta.get('scale', '?')}, snnc float reference "
           f"({meta.get('drive', '?')} drive, seed {meta.get('seed', '?')})",
           results["float"]["stats"])
    print(f"\nraster: {args.raster}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
