"""Song, Miller & Abbott (2000): additive STDP makes one neuron's input weights bimodal.

S. Song, K. D. Miller and L. F. Abbott, "Competitive Hebbian learning through spike-timing-
dependent synaptic plasticity", Nature Neuroscience 3:919-926 (2000). One leaky integrate-and-fire
neuron is driven by 1,000 independent Poisson inputs (rates 10-40 Hz) through excitatory synapses
with additive, all-pairs STDP (tau+ = tau- = 20 ms, A-/A+ = 1.05, weights clipped to
[0, w_max]). Depression slightly outweighs potentiation, so uncorrelated inputs are weakened;
an input that happens to help fire the neuron is strengthened, which makes it more likely to help
again. The synapses compete, and the weights end near 0 or near w_max, few in between, while the
neuron's rate is held in check.

The network is snnc's (``snnc.Network``, the ``stdp`` rule on one projection) and runs on the
reference with ``snnc.run(..., record_weights={"syn": EVERY})``, the API of ``snnc run
--record-weights syn:EVERY``. Writes ``examples/stdp_song2000/weights.png``: the weight
histogram over time, the final histogram and the neuron's rate, one row per numerics.

    .venv/bin/python examples/stdp_song2000/run.py                      # 400 s of model time, float
    .venv/bin/python examples/stdp_song2000/run.py --numerics float spinnaker loihi
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import snnc
from snnc.ir.errors import SnncError

HERE = Path(__file__).resolve().parent
INPUTS = 1000
RATE_RANGE_HZ = (10.0, 40.0)
DT = 0.25  # ms: the window's discrete sums (19.5 and 20.5 steps of 1 ms) would favour LTP at 1 ms
DURATION_S = 400.0
RECORD_EVERY_S = 2.0
W_MAX = 0.01  # the LIF's voltage unit (mV-like): one input's PSP peaks at about 0.13 mV (PSP_PEAK)
A_PLUS = 0.005 * W_MAX  # Song et al.: A+ = 0.005 g_max
A_MINUS = 1.05 * A_PLUS  # A-/A+ = 1.05
TAU_STDP = 20.0  # ms, both sides
TAU_MEM, TAU_SYN = 20.0, 5.0  # ms
V_REST, V_TH, V_RESET = -70.0, -54.0, -60.0  # mV, Song et al.'s
SEED = 0
NEAR = 0.1  # "near a bound": within 10% of w_max from 0 or from w_max


def poisson_trains(rates_hz: np.ndarray, steps: int, dt: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(times, ids) of independent Bernoulli trains, probability ``rate * dt`` per step (the
    process snnc's ``poisson`` source draws), from geometric inter-spike intervals: O(spikes),
    where the source draws one uniform per input and step (1.6e9 of them for this run)."""
    times, ids = [], []
    for neuron, rate in enumerate(rates_hz):
        p = rate * dt / 1000.0
        gaps = rng.geometric(p, size=int(steps * p + 6 * np.sqrt(steps * p) + 16))
        train = np.cumsum(gaps) - 1
        if train[-1] < steps:  # too few draws (never, with six standard deviations to spare)
            raise RuntimeError("poisson_trains drew too few intervals")
        train = train[train < steps]
        times.append(train)
        ids.append(np.full(train.size, neuron))
    return np.concatenate(times), np.concatenate(ids)


def network(duration_s: float = DURATION_S, seed: int = SEED) -> snnc.Network:
    """The one neuron, its 1,000 inputs, and the plastic projection ``syn``."""
    rng = np.random.default_rng(seed)
    steps = int(round(duration_s * 1000.0 / DT))
    rates = rng.uniform(*RATE_RANGE_HZ, INPUTS)
    times, ids = poisson_trains(rates, steps, DT, rng)
    net = snnc.Network("song2000", dt=DT)
    net.source("inputs", INPUTS, snnc.spike_times(times=times, ids=ids))
    net.population("neuron", 1, snnc.LIF(tau_mem=TAU_MEM, tau_syn=TAU_SYN, v_leak=V_REST,
                                           v_init=V_REST, v_th=V_TH, v_reset=V_RESET))
    rule = snnc.Stdp(tau_plus=TAU_STDP, tau_minus=TAU_STDP, a_plus=A_PLUS, a_minus=A_MINUS,
                     w_min=0.0, w_max=W_MAX, weight_dependence="additive", pairing="all")
    weights = np.random.default_rng(seed + 1).uniform(0.0, W_MAX, INPUTS)  # as Song et al.
    net.connect("inputs", "neuron", snnc.all_to_all(), name="syn", delay=1, plasticity=rule,
                weight=weights)
    net.metadata["steps"] = steps
    return net


@dataclass
class Result:
    numerics: str
    steps: np.ndarray  # recorded steps
    history: np.ndarray  # weights / w_max, recorded steps x synapses
    final: np.ndarray  # final weights / w_max
    rate_hz: np.ndarray  # the neuron's rate per recording interval
    seconds: float  # wall time of snnc.run


def simulate(net: snnc.Network, numerics: str = "float",
             every_s: float = RECORD_EVERY_S) -> Result:
    """Run the reference in ``numerics``; weights every ``every_s`` seconds of model time."""
    steps = int(net.metadata["steps"])
    every = int(round(every_s * 1000.0 / DT))
    one_thread()
    started = time.perf_counter()
    run = snnc.run(net, "reference", steps=steps, numerics=numerics,
                   record_weights={"syn": every})
    seconds = time.perf_counter() - started
    record = run.weights["syn"]
    scale = W_MAX if numerics == "float" else quantized_w_max(numerics)
    spike_steps, _ = run.spikes["neuron"]
    edges = np.arange(0, steps + 1, every)
    rate = np.histogram(spike_steps, bins=edges)[0] / every_s
    return Result(numerics, record.steps, record.history / scale, record.weights / scale, rate,
                  seconds)


def one_thread() -> None:
    """Run the engine's step on one thread: with one neuron there is nothing to share, and
    handing each of 1.6 million steps to a second thread and back costs more than the step
    (10x slower on a busy two-core machine)."""
    import numba

    numba.set_num_threads(1)


def quantized_w_max(numerics: str) -> float:
    """w_max in the weights a chip's numerics records (its integer weight units): the quantize
    pass scales every weight of the projection by one factor, read off the initial weights."""
    from snnc.compiler.passes.quantize import quantize

    net = network(duration_s=0.01)
    quantized = quantize(net, numerics)[0].network
    given = np.asarray(net.projections[0].weight, dtype=np.float64)
    integers = np.asarray(quantized.projections[0].weight, dtype=np.float64)
    strong = given > 0.1 * W_MAX  # away from 0, where rounding dominates the ratio
    return W_MAX * float(np.median(integers[strong] / given[strong]))


def fractions(weights: np.ndarray) -> dict[str, float]:
    """Share of weights (in units of w_max) near 0, near w_max, and in the middle third."""
    return {"low": float(np.mean(weights < NEAR)), "high": float(np.mean(weights > 1 - NEAR)),
            "middle": float(np.mean((weights > 1 / 3) & (weights < 2 / 3)))}


def psp_peak(weight: float = W_MAX) -> float:
    """Peak of one input's PSP above rest, from the LIF equations (docs/numerics.md)."""
    alpha_m, alpha_s = np.exp(-DT / TAU_MEM), np.exp(-DT / TAU_SYN)
    current, v, peak = weight, 0.0, 0.0
    for _ in range(int(200 / DT)):
        v = alpha_m * v + current
        current *= alpha_s
        peak = max(peak, v)
    return peak


def plot(results: list[Result], path: Path) -> None:
    from snnc.plot import require_matplotlib, save_figure

    plt = require_matplotlib()
    from matplotlib.colors import LogNorm

    figure, axes = plt.subplots(len(results), 3, figsize=(13, 3.6 * len(results)), squeeze=False,
                                gridspec_kw={"width_ratios": [2.2, 1, 1.2]})
    bins = np.linspace(0.0, 1.0, 26)
    for row, result in zip(axes, results):
        seconds = (result.steps + 1) * DT / 1000.0
        counts = np.stack([np.histogram(w, bins=bins)[0] for w in result.history]).T
        shares = np.maximum(counts / INPUTS, 0.5 / INPUTS)  # log scale: an empty bin is 1/2 synapse
        image = row[0].imshow(shares, aspect="auto", origin="lower", cmap="magma",
                              norm=LogNorm(vmin=0.5 / INPUTS, vmax=1.0),
                              extent=(0.0, float(seconds[-1]), 0.0, 1.0))
        row[0].set_title(f"{result.numerics}: weight histogram over time", fontsize=10)
        row[0].set_xlabel("time (s)")
        row[0].set_ylabel("w / w_max")
        figure.colorbar(image, ax=row[0], label="fraction of synapses (log)")
        share = fractions(result.final)
        row[1].hist(result.final, bins=bins, color="C0")
        row[1].set_title(f"final: {share['low']:.0%} < 0.1, {share['high']:.0%} > 0.9, "
                         f"{share['middle']:.0%} in 1/3..2/3", fontsize=9)
        row[1].set_xlabel("w / w_max")
        row[1].set_ylabel("synapses")
        row[2].plot(seconds, result.rate_hz, color="C3")
        row[2].set_xlabel("time (s)")
        row[2].set_ylabel("output rate (Hz)")
        row[2].set_title("the neuron's rate", fontsize=10)
    figure.suptitle(f"Song, Miller & Abbott (2000): one LIF neuron, {INPUTS:,} Poisson inputs "
                    f"({RATE_RANGE_HZ[0]:g}-{RATE_RANGE_HZ[1]:g} Hz), additive STDP, "
                    "A-/A+ = 1.05", fontsize=11)
    figure.tight_layout()
    save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numerics", nargs="+", default=["float"],
                        choices=["float", "loihi", "spinnaker"])
    parser.add_argument("--duration", type=float, default=DURATION_S, help="seconds of model time")
    parser.add_argument("-o", "--output", default=str(HERE / "weights.png"))
    args = parser.parse_args(argv)
    net = network(args.duration)
    print(f"{INPUTS} inputs, dt {DT} ms, {args.duration:g} s; one PSP of w_max peaks at "
          f"{psp_peak():.3f} above rest (threshold 16 above)")
    results = []
    for numerics in args.numerics:
        try:
            result = simulate(net, numerics)
        except SnncError as error:  # a target that cannot run the rule says so in one line
            print(f"{numerics}: {error}", file=sys.stderr)
            continue
        results.append(result)
        share = fractions(result.final)
        print(f"{numerics:9} {result.seconds:6.1f} s wall; final weights: {share['low']:.0%} "
              f"near 0, {share['high']:.0%} near w_max, {share['middle']:.0%} in the middle "
              f"third; rate {result.rate_hz[0]:.0f} Hz at first, {result.rate_hz[-1]:.0f} Hz "
              "at the end")
    if not results:
        return 2
    try:
        plot(results, Path(args.output))
    except SnncError as error:  # matplotlib missing: the numbers above, then one line
        print(error, file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
