"""Izhikevich's five cortical firing patterns (2003), in float and in both chips' integers.

Regular spiking (RS), intrinsically bursting (IB), chattering (CH), fast spiking (FS) and
low-threshold spiking (LTS) neurons with the parameters of Izhikevich, "Simple model of spiking
neurons", IEEE Trans. Neural Networks 14(6), 2003 (Fig. 2), each driven by a step current of 10
from 20 ms on. The step current is a source neuron that fires at every step from the onset, into
a delta synapse (``tau_syn`` 0) of weight 10: ``x[t] = 10`` from the onset + 1 step on.

Each pattern runs as the float ``izhikevich`` model (``dt`` 0.5 ms, forward Euler), as
``loihi_izhikevich`` (snnc's fixed point, the numerics loihi-sim computes bit for bit) and as
``spinnaker_izhikevich`` (sPyNNaker's s16.15 RK2 step, the numerics spinnaker-emu computes), all
quantized from the same float network by ``snnc``'s quantization pass and simulated by the
reference. Writes ``examples/izhikevich/patterns.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from snnc.backends.reference import simulate
from snnc.compiler.passes.quantize import quantize
from snnc.ir import Network, one_to_one, spike_times
from snnc.ir.errors import SnncError
from snnc.models.izhikevich import Izhikevich

HERE = Path(__file__).resolve().parent
PATTERNS = {  # name: (a, b, c, d), Izhikevich (2003), Fig. 2
    "RS": (0.02, 0.2, -65.0, 8.0),
    "IB": (0.02, 0.2, -55.0, 4.0),
    "CH": (0.02, 0.2, -50.0, 2.0),
    "FS": (0.1, 0.2, -65.0, 2.0),
    "LTS": (0.02, 0.25, -65.0, 2.0),
}
TITLES = {"RS": "regular spiking", "IB": "intrinsically bursting", "CH": "chattering",
          "FS": "fast spiking", "LTS": "low-threshold spiking"}
DT = 0.5  # ms
DURATION = 300.0  # ms
ONSET = 20.0  # ms: the step current starts
CURRENT = 10.0
STEPS = int(DURATION / DT)
NUMERICS = {"float": 1.0, "loihi": None, "spinnaker": 2.0**-15}  # mV per state unit (loihi: 2^-frac)


def network() -> Network:
    """One single-neuron population per pattern, all fed by the step-current source."""
    net = Network("izhikevich_patterns", dt=DT)
    times = np.arange(int(ONSET / DT), STEPS)
    net.source("step", 1, spike_times(times=times, ids=np.zeros_like(times)))
    for name, (a, b, c, d) in PATTERNS.items():
        net.population(name, 1, Izhikevich(a=a, b=b, c=c, d=d))
        net.connect("step", name, one_to_one(), weight=CURRENT, delay=1)
    return net


def simulate_patterns() -> dict[str, dict[str, dict]]:
    """``{numerics: {pattern: {"v": mV per step, "spikes": steps}}}``."""
    net, names = network(), list(PATTERNS)
    results: dict[str, dict[str, dict]] = {}
    for numerics, mv_per_unit in NUMERICS.items():
        runnable = net if numerics == "float" else quantize(net, numerics)[0].network
        record = simulate(runnable, STEPS, numerics, record_v=names)
        results[numerics] = {}
        for name in names:
            unit = mv_per_unit
            if unit is None:  # loihi_izhikevich holds mV as 2^frac units
                unit = 2.0 ** -runnable.populations[name].neuron.frac
            results[numerics][name] = {"v": record.voltages[name][:, 0] * unit,
                                       "spikes": record.spikes[name][0].tolist()}
    return results


def plot(results: dict, path: Path) -> None:
    from snnc.plot import require_matplotlib, save_figure

    plt = require_matplotlib()
    figure, axes = plt.subplots(len(PATTERNS), 1, figsize=(11, 12), sharex=True)
    time = np.arange(STEPS) * DT
    styles = {"float": ("C0", "-", 1.4), "loihi": ("C1", "--", 1.0),
              "spinnaker": ("C2", ":", 1.2)}
    for axis, name in zip(axes, PATTERNS):
        for numerics, (colour, line, width) in styles.items():
            trace = results[numerics][name]
            spikes = np.asarray(trace["spikes"], dtype=int)
            v = trace["v"].copy()
            v[spikes] = 30.0  # recorded after the reset: draw each spike up to v_peak
            axis.plot(time, v, color=colour, linestyle=line, linewidth=width, label=numerics)
        a, b, c, d = PATTERNS[name]
        axis.set_title(f"{name}: {TITLES[name]} (a={a}, b={b}, c={c:g}, d={d:g})", fontsize=10)
        axis.set_ylabel("v (mV)")
        axis.set_ylim(-90, 40)
        axis.axvline(ONSET, color="0.7", linewidth=0.6)
        axis.legend(loc="lower right", fontsize="small", ncol=3)
    axes[-1].set_xlabel("time (ms)")
    figure.suptitle("Izhikevich (2003) patterns, step current 10 from 20 ms: float, "
                    "loihi_izhikevich, spinnaker_izhikevich", fontsize=11)
    figure.tight_layout()
    save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(HERE / "patterns.png"))
    args = parser.parse_args(argv)
    results = simulate_patterns()
    for name in PATTERNS:
        counts = ", ".join(f"{numerics} {len(results[numerics][name]['spikes'])}"
                           for numerics in NUMERICS)
        print(f"{name:<4} spikes in {DURATION:g} ms: {counts}")
    try:
        plot(results, Path(args.output))
    except SnncError as error:  # matplotlib missing: the counts above, then one line
        print(error, file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
