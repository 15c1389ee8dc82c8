"""The W1 balanced network (README.md) on both hardware targets, from the command line.

    .venv/bin/python examples/balanced_network/run.py [--steps 1000] [--out DIR]

Runs, and prints, the ``snnc`` commands a user would type: for each of ``loihi-sim`` and
``spinnaker-emu`` it compiles ``net.yaml`` (with the per-core heat map, ``--plot``), runs the build,
verifies it spike for spike against the reference with that target's numerics, and plots the raster;
the float reference runs too. Then it prints the spike totals and mean rates of the excitatory and
inhibitory neurons per target.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
import sys
from pathlib import Path

import numpy as np

from snnc.backends.spikes import SpikeRecord
from snnc.cli import cli

HERE = Path(__file__).resolve().parent
NET = HERE / "net.yaml"
TARGETS = ("loihi-sim", "spinnaker-emu")
N_EXC = 800  # W1: the first 80% of the 1000 neurons are excitatory


def snnc(*args: str) -> str:
    """Run one ``snnc`` command line, echoing it; its stdout. In-process (the same code as the
    ``snnc`` executable, without starting Python again for every command)."""
    print("$ snnc " + shlex.join(args), flush=True)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = cli.main(list(args), prog_name="snnc", standalone_mode=False)
    if code not in (None, 0):
        raise SystemExit(f"snnc {args[0]} failed (exit {code})")
    return output.getvalue()


def run_all(steps: int, out: Path, targets: tuple[str, ...] = TARGETS) -> dict[str, SpikeRecord]:
    """Compile, run, verify and plot on every target; the spike records by target."""
    out.mkdir(parents=True, exist_ok=True)
    records = {}
    spikes = out / "reference.npz"
    snnc("run", str(NET), "--target", "reference", "--steps", str(steps), "-o", str(spikes))
    records["reference (float)"] = SpikeRecord.load(spikes)
    for target in targets:
        build = out / f"build-{target}"
        spikes = out / f"{target}.npz"
        snnc("compile", str(NET), "--target", target, "-o", str(build), "--plot")
        snnc("run", str(build), "--target", target, "--steps", str(steps), "-o", str(spikes))
        print(snnc("verify", str(NET), "--target", target, "--steps", str(steps)).strip())
        snnc("plot", str(spikes), "-o", str(out / f"raster-{target}.png"), "--net", str(NET),
             "--title", f"W1, 1000 neurons, {target}")
        records[target] = SpikeRecord.load(spikes)
    return records


def rates(record: SpikeRecord) -> tuple[float, float]:
    """Mean firing rate (Hz) of the excitatory and of the inhibitory neurons."""
    _, ids = record.spikes["neurons"]
    seconds = record.steps * record.dt / 1000.0
    exc = np.count_nonzero(ids < N_EXC) / (N_EXC * seconds)
    inh = np.count_nonzero(ids >= N_EXC) / ((1000 - N_EXC) * seconds)
    return exc, inh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--targets", default=",".join(TARGETS))
    args = parser.parse_args(argv)
    records = run_all(args.steps, args.out, tuple(args.targets.split(",")))
    print(f"\n{'target':<20}{'spikes':>8}{'exc (Hz)':>10}{'inh (Hz)':>10}")
    for target, record in records.items():
        exc, inh = rates(record)
        print(f"{target:<20}{record.total:>8,}{exc:>10.2f}{inh:>10.2f}")
    print(f"\nplots and reports in {args.out}: raster-<target>.png, build-<target>/report.png "
          "(per-core heat map), build-<target>/report.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
