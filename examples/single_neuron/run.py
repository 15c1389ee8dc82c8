"""One neuron, three targets: a float ``lif`` and a fixed-point ``loihi_lif`` neuron under a
constant input and under a spike input, on ``reference``, ``loihi-sim`` and ``spinnaker-emu``.

    .venv/bin/python examples/single_neuron/run.py [-o single_neuron.png]

Constant input is a bias (a current added every step); spike input comes from a ``spike_times``
source. The float ``lif`` neurons are quantized by the compiler for each hardware target; the
``loihi_lif`` neurons are already Loihi's integers, so they run on ``reference`` and ``loihi-sim``
(``spinnaker-emu`` refuses that kind). Voltages are plotted as fractions of each target's threshold,
so float and integer traces share an axis; spikes are marked on top.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from snnc.batch import run_target
from snnc.ir import LIF, LoihiLIF, Network, SnncError, one_to_one, spike_times

HERE = Path(__file__).resolve().parent
STEPS = 60
INPUT_TIMES = [5, 8, 11, 14, 30, 31, 32, 33, 34, 35]  # a slow train, then a burst


def _source(net: Network) -> None:
    net.source("spikes_in", 1, spike_times(INPUT_TIMES, [0] * len(INPUT_TIMES)))


def lif_network() -> Network:
    """``lif_const``: bias 0.12 per step (tau_mem 10 ms); ``lif_spike``: 0.3 per input spike."""
    net = Network("single_lif", dt=1.0)
    _source(net)
    net.population("lif_const", 1, LIF(tau_mem=10.0, v_th=1.0, bias=0.12))
    net.population("lif_spike", 1, LIF(tau_mem=10.0, tau_syn=4.0, v_th=1.0))
    net.connect("spikes_in", "lif_spike", one_to_one(), weight=0.3)
    return net


def loihi_network() -> Network:
    """The same two neurons written directly in Loihi's integers (Lava's parameter names)."""
    net = Network("single_loihi_lif", dt=1.0)
    _source(net)
    # dv = 410: v decays by 410/4096 (about tau 10 steps); vth 100 -> v threshold 100 << 6 = 6400
    net.population("loihi_const", 1, LoihiLIF(du=4095, dv=410, vth=100, bias_mant=768, bias_exp=0))
    # du = 1024: the current u decays by a quarter per step (about tau_syn 4 steps)
    net.population("loihi_spike", 1, LoihiLIF(du=1024, dv=410, vth=100))
    net.connect("spikes_in", "loihi_spike", one_to_one(), weight=36)
    return net


RUNS = [  # (network, target): the lif neurons everywhere, loihi_lif where Loihi's integers run
    ("lif", "reference"), ("lif", "loihi-sim"), ("lif", "spinnaker-emu"),
    ("loihi", "reference"), ("loihi", "loihi-sim"),
]
REFUSED = ("loihi", "spinnaker-emu")  # SpiNNaker runs lif and spinnaker_lif only


def threshold_and_reset(network: Network, population: str) -> tuple[float, float]:
    """The voltage a neuron must exceed to spike, and its reset, in that population's own units."""
    neuron = network.populations[population].neuron
    if neuron.kind == "lif":
        return float(neuron.v_th), float(neuron.v_reset)
    if neuron.kind == "loihi_lif":
        return float(int(neuron.vth) << 6), 0.0
    return float(neuron.v_thresh), float(neuron.v_reset)  # spinnaker_lif, s16.15 raw


def simulate_all(steps: int = STEPS) -> dict[tuple[str, str], dict]:
    """Spikes and normalized voltages per (network, target) and population."""
    builders = {"lif": lif_network, "loihi": loihi_network}
    results = {}
    for kind, target in RUNS:
        net = builders[kind]()
        names = [p.name for p in net.neuron_populations()]
        record, build = run_target(net, target, steps, record_v=names)
        runnable = build.network if build is not None else net
        for name in names:
            v_th, v_reset = threshold_and_reset(runnable, name)
            voltage = np.asarray(record.voltages[name], dtype=np.float64)[:, 0]
            results[(kind, target, name)] = {
                "spikes": record.spikes[name][0].tolist(),
                "v": (voltage - v_reset) / (v_th - v_reset)}
    return results


def refusal(steps: int = STEPS) -> str:
    """The one-line error ``spinnaker-emu`` gives for the ``loihi_lif`` network."""
    try:
        run_target(loihi_network(), REFUSED[1], steps)
    except SnncError as error:
        return str(error)
    raise AssertionError("spinnaker-emu ran loihi_lif neurons")  # it cannot: not a SpiNNaker kind


def plot(results: dict, path: Path) -> None:
    from snnc.plot import require_matplotlib, save_figure

    plt = require_matplotlib()
    panels = [("lif", "lif_const"), ("lif", "lif_spike"), ("loihi", "loihi_const"),
              ("loihi", "loihi_spike")]
    figure, axes = plt.subplots(2, 2, figsize=(12, 6.5), sharex=True)
    for axis, (kind, name) in zip(axes.ravel(), panels):
        for index, (run_kind, target) in enumerate(RUNS):
            if run_kind != kind:
                continue
            result = results[(kind, target, name)]
            colour = f"C{index % 3}"
            axis.plot(result["v"], color=colour, label=target, linewidth=1.2,
                      linestyle=("-", "--", ":")[index % 3])
            axis.plot(result["spikes"], [1.15 + 0.08 * (index % 3)] * len(result["spikes"]), "|",
                      color=colour, markersize=9)
        axis.axhline(1.0, color="0.6", linewidth=0.6)
        if name.endswith("spike"):
            axis.plot(INPUT_TIMES, [-0.15] * len(INPUT_TIMES), "^", color="k", markersize=4)
        axis.set_title(f"{name} ({'constant' if name.endswith('const') else 'spike'} input)")
        axis.set_ylabel("v / threshold")
        axis.legend(loc="lower right", fontsize="small")
    for axis in axes[1]:
        axis.set_xlabel("step")
    figure.tight_layout()
    save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(HERE / "single_neuron.png"))
    args = parser.parse_args(argv)
    results = simulate_all()
    for (kind, target, name), result in results.items():
        print(f"{name:<12} {target:<14} spikes at {result['spikes']}")
    print(f"{'loihi_*':<12} {REFUSED[1]:<14} refused: {refusal()}")
    try:
        plot(results, Path(args.output))
    except SnncError as error:  # matplotlib missing: the spikes above, then one line
        print(error, file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
