"""Load the LTC network trained in PyTorch (``ltc_trained.npz``) into snnc and check that snnc's
float reference reproduces torch's outputs.

    .venv/bin/python examples/ltc/run_snnc.py [--plot ltc.png]

The snnc network (Python builder): a spike source ``spikes`` (the held-out input sequence), the
``ltc`` population ``cells`` (the trained tau, A, bias and recurrent matrix), the projection
``spikes -> cells`` (the trained input weights) and an ``li`` readout ``readout`` with no memory
(``tau_mem = dt`` with forward Euler: ``v[t] = sum(w * x[t - 1]) + bias``), fed by the cells'
graded output. Torch's step ``t`` is snnc's step ``t``: the input torch reads at step ``t`` is
the spikes the cells receive at ``t`` (sent at ``t - 1``), and the readout, one hop later, shows
at ``t + 1`` what torch's readout gives at ``t``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from snnc.backends.reference import simulate
from snnc.ir import Network, all_to_all, spike_times
from snnc.models.li import LI
from snnc.models.ltc import LTC

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "ltc_trained.npz"
TOLERANCE = 1e-5


def load(path: Path = FIXTURE) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def build_network(fx: dict[str, np.ndarray]) -> Network:
    """The trained network as an snnc ``Network`` (module docstring)."""
    steps, inputs = fx["inputs"].shape
    received_t, channel = np.nonzero(fx["inputs"])
    net = Network("ltc_sine", dt=float(fx["dt"]))
    # a spike received at step t is sent at t - 1 over a delay-1 projection (step 0 receives none)
    net.source("spikes", inputs, spike_times(times=received_t - 1, ids=channel))
    net.population("cells", fx["w_rec"].shape[0],
                   LTC(tau=fx["tau"], a=fx["a"], bias=fx["bias"], w_rec=fx["w_rec"],
                       ode_unfolds=int(fx["ode_unfolds"])))
    net.connect("spikes", "cells", all_to_all(), weight=fx["w_in"].reshape(-1), delay=1)
    net.population("readout", 1, LI(tau_mem=float(fx["dt"]), integrator="euler",
                                    bias=float(fx["b_out"])))
    net.connect("cells", "readout", all_to_all(), weight=fx["w_out"], delay=1)
    return net


def run(fx: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """snnc's (x[steps, cells], y[steps]) aligned with torch's ``x`` and ``y``."""
    steps = fx["inputs"].shape[0]
    record = simulate(build_network(fx), steps + 1, "float", record_v=["cells", "readout"])
    return record.voltages["cells"][:steps], record.voltages["readout"][1:, 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    parser.add_argument("--plot", type=Path, help="write a PNG of target, torch and snnc")
    args = parser.parse_args()
    fx = load(args.fixture)
    x, y = run(fx)
    dx, dy = float(np.max(np.abs(x - fx["x"]))), float(np.max(np.abs(y - fx["y"])))
    print(f"{fx['inputs'].shape[0]} steps, {x.shape[1]} cells, {int(fx['ode_unfolds'])} unfolds")
    print(f"max |snnc - torch|: cell states {dx:.3e}, readout {dy:.3e} (tolerance {TOLERANCE:g})")
    if args.plot:
        plot(fx, y, args.plot)
    if np.isnan(x).any():
        raise SystemExit("the reference engine split the ltc population between its two parallel "
                         "parts, which it cannot solve (docs/neuron-models/ltc.md, Limits)")
    if not (dx <= TOLERANCE and dy <= TOLERANCE):
        raise SystemExit("snnc's float reference does not reproduce torch")


def plot(fx: dict[str, np.ndarray], y: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(y.size)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(steps, fx["target"], color="0.6", lw=3, label="target sine")
    ax.plot(steps, fx["y"], color="C0", lw=2.5, label="torch readout")
    ax.plot(steps, y, color="C3", lw=1, ls="--", label="snnc reference readout")
    spikes = np.nonzero(fx["inputs"])
    ax.scatter(spikes[0], -1.35 - 0.15 * spikes[1], marker="|", s=12, color="k", lw=0.6)
    ax.set_xlabel("step (1 ms)")
    ax.set_ylim(-1.6, 1.6)
    ax.legend(loc="upper center", fontsize=8, ncol=3, frameon=False)
    ax.set_title("LTC network (8 cells): sine from two spike trains; input spikes below")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
