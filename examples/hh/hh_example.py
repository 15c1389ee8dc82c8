"""Hodgkin-Huxley (``hh``, Traub-Miles rates) on the reference: one action potential, a tonic
spike train and the f-I curve.

    .venv/bin/python examples/hh/hh_example.py [-o examples/hh/hh.png]

Panel 1: a neuron held below its own rhythm by a -60 pA bias receives one synaptic current
(2000 pA, tau_syn 2 ms) and fires one action potential; a second neuron with no bias fires on its
own (the default Traub-Miles cell is tonically active at about 14 Hz). Panel 2: the firing rate
against the bias current, from the mean inter-spike interval after a 50 ms transient. Both chips
refuse the model in one line, which the script prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from snnc.backends.reference import simulate
from snnc.ir import Network, SnncError, one_to_one, spike_times
from snnc.models.hh import HH
from snnc.models.support import check_network

HERE = Path(__file__).resolve().parent
DT = 0.1  # ms; the default 10 sub-steps integrate it in 0.01 ms steps
TRACE_STEPS = 1000  # 100 ms
INPUT_STEP = 299  # the input spike leaves at step 299 and arrives (delay 1) at step 300: 30 ms
FI_BIASES = np.arange(-100.0, 1001.0, 25.0)  # pA
FI_STEPS, FI_SKIP = 3000, 500  # 300 ms, the first 50 ms left out


def trace_network() -> Network:
    """``evoked``: silenced by -60 pA, one 2000 pA synaptic input; ``tonic``: no bias."""
    net = Network("hh_trace", dt=DT)
    net.source("inp", 1, spike_times(times=[INPUT_STEP], ids=[0]))
    net.population("evoked", 1, HH(bias=-60.0, tau_syn=2.0))
    net.population("tonic", 1, HH())
    net.connect("inp", "evoked", one_to_one(), weight=2000.0, delay=1)
    return net


def fi_network() -> Network:
    """One neuron per bias current (an array parameter: one value per neuron)."""
    net = Network("hh_fi", dt=DT)
    net.population("hh", FI_BIASES.size, HH(bias=FI_BIASES))
    return net


def rates_hz(times: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """1000 / mean inter-spike interval (ms) after the transient; 0 with fewer than two spikes."""
    rates = np.zeros(FI_BIASES.size)
    for k in range(FI_BIASES.size):
        late = times[(ids == k) & (times >= FI_SKIP)]
        if late.size >= 2:
            rates[k] = 1000.0 / (np.mean(np.diff(late)) * DT)
    return rates


def refusals() -> list[str]:
    """The one-line refusal of each chip target."""
    lines = []
    for target in ("loihi-sim", "spinnaker-emu"):
        try:
            check_network(fi_network(), target)
        except SnncError as error:
            lines.append(f"{target}: {error}")
    return lines


def plot(trace, rates: np.ndarray, path: Path) -> None:
    from snnc.plot import require_matplotlib, save_figure

    plt = require_matplotlib()
    figure, (left, zoom, right) = plt.subplots(1, 3, figsize=(15, 4.5),
                                               gridspec_kw={"width_ratios": [1.4, 0.8, 1.1]})
    time_ms = (np.arange(TRACE_STEPS) + 1) * DT  # v after step t is v at (t + 1) dt
    arrival = (INPUT_STEP + 1) * DT
    labels = {"evoked": "-60 pA bias + one 2000 pA synaptic input",
              "tonic": "no bias (fires on its own)"}
    for axis, names in ((left, ("tonic", "evoked")), (zoom, ("evoked",))):
        for name in names:
            colour = {"evoked": "C0", "tonic": "C1"}[name]
            axis.plot(time_ms, trace.voltages[name][:, 0], color=colour, linewidth=1.1,
                      label=labels[name])
        axis.axvline(arrival, color="0.5", linestyle=":", linewidth=0.8)
        axis.axhline(-20.0, color="0.7", linewidth=0.6)
        axis.set(xlabel="time (ms)", ylabel="v (mV)")
    left.text(40.0, -17.0, "v_th = -20 mV: an upward crossing is a spike", fontsize="small",
              color="0.4")
    left.set_title("membrane potential (dt 0.1 ms, 10 sub-steps)")
    left.legend(loc="upper right", fontsize="small")
    zoom.set_xlim(arrival - 1.0, arrival + 9.0)
    zoom.set_title("the evoked action potential (input at the dotted line)")
    zoom.title.set_fontsize("medium")
    right.plot(FI_BIASES, rates, "o-", color="C2", markersize=3.5)
    right.set(xlabel="bias current (pA)", ylabel="firing rate (Hz)",
              title="f-I curve (rate from the mean ISI after 50 ms)")
    right.grid(alpha=0.3)
    figure.suptitle("hh: Hodgkin-Huxley, Traub-Miles rates (C 200 pF, gNa 20 uS, gK 6 uS)")
    figure.tight_layout()
    save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(HERE / "hh.png"))
    args = parser.parse_args(argv)
    trace = simulate(trace_network(), TRACE_STEPS, "float", record_v=["evoked", "tonic"])
    for name in ("evoked", "tonic"):
        steps = trace.spikes[name][0].tolist()
        print(f"{name:<7} spikes at steps {steps}, peak {trace.voltages[name].max():.1f} mV")
    times, ids = simulate(fi_network(), FI_STEPS, "float").spikes["hh"]
    rates = rates_hz(times, ids)
    silent = FI_BIASES[rates == 0]
    print(f"f-I: silent up to {silent.max():.0f} pA; "
          + ", ".join(f"{b:.0f} pA {r:.1f} Hz" for b, r in zip(FI_BIASES[::8], rates[::8])))
    for line in refusals():
        print(line)
    try:
        plot(trace, rates, Path(args.output))
    except SnncError as error:  # matplotlib missing: the numbers above, then one line
        print(error, file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
