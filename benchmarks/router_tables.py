#!/usr/bin/env python
"""Router entries per chip: snnc's ordered covering against its order-free covering and sPyNNaker.

    .venv/bin/python benchmarks/router_tables.py                      # microcircuit 0.1 + ring 100k
    .venv/bin/python benchmarks/router_tables.py --cases microcircuit --scales 0.1 1.0 --tsf 6 60
    .venv/bin/python benchmarks/router_tables.py --cases ring --sizes 100000 1000000 --check

Cases (spinnaker-emu, the target's default machine unless said):

- ``microcircuit``: ``examples/microcircuit/build.py`` at each ``--scales`` (Poisson drive), compiled
  with ``--time-scale-factor`` from ``--tsf`` (one per scale, the last one repeats), on one SpiNN-5
  board or (``--torus [SIDE]``) a SIDE x SIDE torus (16: the ring's).
- ``ring``: ``benchmarks/compile_scale.py``'s ring (10,000-neuron populations, 100 synapses per
  neuron) on its 16 x 16 torus, at each ``--sizes``.

Each network is compiled once; the partition and placement are then routed again as before
ordered covering (``route.compress_order_free``, keys laid out by group only) and without
compression. Printed per case: cores, chips with tables, entries per chip
(max / total) now, with the order-free compressor and uncompressed (after default-route elision),
the floor no compressor can beat with these trees (distinct non-default routes per chip), route
seconds, and sPyNNaker's figures: measured by ``benchmarks/spynnaker_map.py`` where a
``.venv-spynnaker`` exists and the case is the ring; otherwise the figures recorded in
docs/compile.md (ring) and issue 15 (microcircuit), marked "recorded". ``--check`` runs the
independent route checker (``compiler/mapping/check.py``) on the build.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPYNNAKER_PY = ROOT / ".venv-spynnaker" / "bin" / "python"
# sPyNNaker 7.4.1 (PairCompressor, compress as far as possible): max / total entries per chip.
RECORDED = {
    ("ring", 100_000): (8, 155, "docs/compile.md"),
    ("ring", 1_000_000): (13, 1_617, "docs/compile.md"),
    ("microcircuit", 0.1): (16, 71, "issue 15"),
    ("microcircuit", 1.0): (121, 10_388, "issue 15"),
}


def microcircuit(scale: float, torus: int):
    sys.path.insert(0, str(ROOT / "examples" / "microcircuit"))
    from build import build  # type: ignore[attr-defined]  # examples/microcircuit/build.py

    return build(scale=scale), (torus_spec(torus) if torus else None)


def torus_spec(side: int = 16) -> str:
    """compile_scale.py's SpiNNaker torus (16 x 16: 4,096 cores), ``side`` chips a side."""
    import tempfile

    import yaml

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from compile_scale import HARDWARE

    spec = Path(tempfile.mkdtemp()) / "hw.yaml"
    spec.write_text(yaml.safe_dump(HARDWARE["spinnaker-emu"] | {
        "name": f"spinnaker_{side}x{side}", "chips_x": side, "chips_y": side}))
    return str(spec)


def ring(neurons: int):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from compile_scale import build  # the ring of compile_scale.py, on its torus

    return build(neurons, "spinnaker-emu"), torus_spec()


def table_sizes(routing) -> list[int]:
    return [len(t) for t in routing.tables.values()] or [0]


def route_floor(parts, placement, spec) -> list[int]:
    """Distinct non-default route words per chip: a lower bound for any compressor."""
    from snnc.compiler.mapping.route import route

    raw = route(parts, placement, spec, compress_tables=False)
    return [len(set(t.routes.tolist())) for t in raw.tables.values()] or [0]


def measure(case: str, size: float, tsf: float | None, check: bool, torus: int) -> dict:
    import snnc.compiler.mapping.route as route_module
    from snnc.compiler import compile_network

    net, hardware = microcircuit(size, torus) if case == "microcircuit" else ring(int(size))
    captured: dict[str, Any] = {}
    start = time.perf_counter()
    build = compile_network(net, "spinnaker-emu", hardware, time_scale_factor=tsf,
                            hook=lambda name, _s, artifact: captured.__setitem__(name, artifact))
    compile_s = time.perf_counter() - start
    parts, placement, spec = captured["partition"], captured["place"], build.hardware
    now = table_sizes(build.routing)
    ordered_s = build.timings["route"]
    # the compressor before ordered covering: order-free, keys laid out by group only
    original = route_module.compress, route_module._chip_major
    route_module.compress = route_module.compress_order_free
    route_module._chip_major = lambda groups, placement: groups
    try:
        start = time.perf_counter()
        before = table_sizes(route_module.route(parts, placement, spec))
        before_s = time.perf_counter() - start
    finally:
        route_module.compress, route_module._chip_major = original
    raw = table_sizes(route_module.route(parts, placement, spec, compress_tables=False))
    row = {"case": case, "size": size, "tsf": tsf, "cores": len(build.partition.cores),
           "chips": len(build.routing.tables), "fits": build.report.fits,
           "now": (max(now), sum(now)), "order_free": (max(before), sum(before)),
           "uncompressed": (max(raw), sum(raw)),
           "floor": (lambda f: (max(f), sum(f)))(route_floor(parts, placement, spec)),
           "route_s": round(ordered_s, 2), "route_order_free_s": round(before_s, 2),
           "compile_s": round(compile_s, 1)}
    if check:
        from snnc.compiler.mapping.check import check_routes

        problems = check_routes(build.network, build.partition, build.placement, build.routing,
                                spec)
        row["checker"] = "proved" if not problems else f"{len(problems)} problems: {problems[0]}"
    row["spynnaker"] = spynnaker(case, size)
    return row


def spynnaker(case: str, size: float) -> dict | None:
    """sPyNNaker's max / total: measured (ring, with .venv-spynnaker) or recorded."""
    if case == "ring" and SPYNNAKER_PY.exists():
        out = subprocess.run([str(SPYNNAKER_PY), str(ROOT / "benchmarks" / "spynnaker_map.py"),
                              str(int(size))], capture_output=True, text=True, check=True)
        stats = json.loads(out.stdout.strip().splitlines()[-1])["router_entries"]
        return {"max": stats["max"], "total": stats["total"], "source": "measured"}
    key = (case, int(size) if case == "ring" else float(size))
    if key in RECORDED:
        top, total, where = RECORDED[key]
        return {"max": top, "total": total, "source": f"recorded ({where})"}
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=["microcircuit", "ring"],
                        default=["microcircuit", "ring"])
    parser.add_argument("--scales", nargs="+", type=float, default=[0.1])
    parser.add_argument("--tsf", nargs="+", type=float, default=[6.0],
                        help="time scale factor per microcircuit scale (the last repeats)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[100_000])
    parser.add_argument("--check", action="store_true", help="run the independent route checker")
    parser.add_argument("--torus", type=int, nargs="?", const=16, default=0, metavar="SIDE",
                        help="microcircuit on a SIDE x SIDE torus (default 16, the ring's) instead "
                             "of one SpiNN-5 board")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = []
    if "microcircuit" in args.cases:
        runs += [("microcircuit", s, args.tsf[min(i, len(args.tsf) - 1)])
                 for i, s in enumerate(args.scales)]
    if "ring" in args.cases:
        runs += [("ring", n, None) for n in args.sizes]
    if not SPYNNAKER_PY.exists():
        print("no .venv-spynnaker (bash benchmarks/spynnaker_setup.sh): sPyNNaker figures are the "
              "recorded ones")
    for case, size, tsf in runs:
        row = measure(case, size, tsf, args.check, args.torus)
        if args.json:
            print(json.dumps(row))
            continue
        peer = row["spynnaker"]
        print(f"{case} {size:,g}" + (f" (time scale factor {tsf:g})" if tsf else "")
              + f": {row['cores']} cores, tables on {row['chips']} chips, fits "
              f"{'yes' if row['fits'] else 'NO'}, compile {row['compile_s']} s")
        for label, key in (("ordered covering (now)", "now"), ("before (order-free)", "order_free"),
                           ("uncompressed", "uncompressed"), ("floor (distinct routes)", "floor")):
            print(f"  {label:<26} max {row[key][0]:>5}  total {row[key][1]:>7,}")
        if peer:
            print(f"  {'sPyNNaker ' + peer['source']:<26} max {peer['max']:>5}  total "
                  f"{peer['total']:>7,}")
        print(f"  route {row['route_s']} s (order-free {row['route_order_free_s']} s)"
              + (f"; checker: {row['checker']}" if "checker" in row else ""))


if __name__ == "__main__":
    main()
