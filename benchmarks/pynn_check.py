"""`make pynn-check`: the exported PyNN scripts of W1 and of the microcircuit (scale 0.1) run
under pyNN.nest, and their per-population rates are within 5% of snnc's reference.

    .venv/bin/python benchmarks/pynn_check.py [--nest-python .venv-nest/bin/python]
        [--w1-steps 2000] [--mc-steps 5000] [--tolerance 0.05] [--keep DIR]

For each network: `snnc export-pynn NET --steps N -o model.py`, `snnc run NET --target reference
--steps N`, `python model.py -o nest.npz` in the NEST environment; prints both rates per neuron
population (all N steps, in Hz), the ratio, and whether the spikes are identical; exits 1 when a
population's rate differs by more than the tolerance (a population silent in both passes).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SNNC = ROOT / ".venv" / "bin" / "snnc"
PYTHON = ROOT / ".venv" / "bin" / "python"


def _run(command: list[str], what: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"{what} failed (exit {done.returncode}): {' '.join(command)}")
    return time.perf_counter() - start


def _rates(path: Path, sizes: dict[str, int]) -> dict[str, float]:
    spikes = np.load(path)
    seconds = int(spikes["steps"]) * float(spikes["dt"]) / 1000.0
    return {name: spikes[f"{name}.times"].size / (size * seconds) for name, size in sizes.items()}


def _first_difference(a: Path, b: Path, names: list[str]) -> int | None:
    """The first step at which some population's spikes differ (None: identical)."""
    x, y = np.load(a), np.load(b)
    first = None
    for n in names:
        ours = sorted(zip(x[f"{n}.times"].tolist(), x[f"{n}.ids"].tolist()))
        theirs = sorted(zip(y[f"{n}.times"].tolist(), y[f"{n}.ids"].tolist()))
        if ours == theirs:
            continue
        at = next((min(p[0], q[0]) for p, q in zip(ours, theirs) if p != q), None)
        if at is None:  # one is a prefix of the other: the longer one's next spike
            longer = ours if len(ours) > len(theirs) else theirs
            at = longer[min(len(ours), len(theirs))][0]
        first = at if first is None else min(first, at)
    return first


def check(label: str, net: Path, steps: int, folder: Path, nest_python: str,
          tolerance: float) -> bool:
    """Export, run both, print the table; True when every population is within tolerance."""
    sys.path.insert(0, str(ROOT))
    from snnc.ir import load

    network = load(net)
    sizes = {p.name: p.size for p in network.neuron_populations()}
    script, ref, nest = folder / f"{label}.py", folder / f"{label}_ref.npz", folder / f"{label}_nest.npz"
    t_export = _run([str(SNNC), "export-pynn", str(net), "--steps", str(steps), "-o", str(script)],
                    "export")
    t_ref = _run([str(SNNC), "run", str(net), "--target", "reference", "--steps", str(steps),
                  "-o", str(ref)], "reference")
    t_nest = _run([nest_python, str(script), "-o", str(nest)], "pyNN.nest")
    reference, simulated = _rates(ref, sizes), _rates(nest, sizes)
    first = _first_difference(ref, nest, list(sizes))
    spikes = sum(int(np.load(ref)[f"{n}.times"].size) for n in sizes)
    same = f"all {spikes:,} spikes identical" if first is None else \
        f"spikes identical up to step {first} of {steps}"
    print(f"{label}: {steps} steps of {network.dt:g} ms; export {t_export:.1f} s, reference "
          f"{t_ref:.1f} s, pyNN.nest {t_nest:.1f} s (build + run); {same}")
    print(f"  {'population':<12} {'reference Hz':>12} {'pyNN.nest Hz':>13} {'ratio':>7}")
    good = True
    for name in sizes:
        r, s = reference[name], simulated[name]
        ratio = s / r if r else (1.0 if s == 0 else float("inf"))
        ok = abs(ratio - 1.0) <= tolerance
        good &= ok
        print(f"  {name:<12} {r:12.3f} {s:13.3f} {ratio:7.3f}{'' if ok else '  OUTSIDE'}")
    return good


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nest-python", default=str(ROOT / ".venv-nest" / "bin" / "python"))
    parser.add_argument("--w1-steps", type=int, default=2000)
    parser.add_argument("--mc-steps", type=int, default=5000)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep its files")
    parser.add_argument("--only", choices=("w1", "microcircuit"), help="check one network")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        good = True
        if args.only in (None, "w1"):
            good &= check("w1", ROOT / "examples" / "balanced_network" / "net.yaml",
                          args.w1_steps, folder, args.nest_python, args.tolerance)
        if args.only in (None, "microcircuit"):
            microcircuit = folder / "microcircuit" / "net.yaml"
            _run([str(PYTHON), str(ROOT / "examples" / "microcircuit" / "build.py"), "--scale",
                  "0.1", "-o", str(microcircuit)], "microcircuit build.py")
            good &= check("microcircuit", microcircuit, args.mc_steps, folder, args.nest_python,
                          args.tolerance)
    print("pynn-check:", "every population within" if good else "FAILED: a population outside",
          f"{args.tolerance:.0%} of the reference")
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
