"""Masquelier, Guyonneau & Thorpe (2008), scaled down: STDP finds a pattern hidden in noise.

T. Masquelier, R. Guyonneau and S. J. Thorpe, "Spike timing dependent plasticity finds the start
of repeating patterns in continuous spike trains", PLoS ONE 3(1):e1377 (2008). Half of a neuron's
afferents repeat one 50 ms spike pattern at random times (a quarter of the time, never twice in
a row); the rest of the time, and the other half of the afferents all the time, fire at the
same rate at random, and every afferent gets extra 10 Hz noise spikes, so no afferent's rate
says when the pattern is on. One LIF neuron with STDP on its inputs ends up firing only inside
the pattern, and ever closer to its start: the afferents that fire just before its spike are
potentiated, so next time it fires earlier, until it fires at the pattern's start.

Scaled for a short run (docs: README.md, "What is changed"): 1,000 afferents (500 in the pattern)
instead of 2,000, 100 s, all-pairs STDP with the depression integral 6% above the potentiation
integral, a third of the paper's learning rate, ``dt`` 0.25 ms. Writes
``examples/stdp_pattern/latency.png``.

    .venv/bin/python examples/stdp_pattern/run.py
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
AFFERENTS = 1000
IN_PATTERN = 500  # afferents 0..499 take part in the pattern
RATE_HZ = 54.0  # each afferent's rate, in and out of the pattern (the paper: 54 Hz on average)
NOISE_HZ = 10.0  # extra spikes on every afferent (the paper's spontaneous activity)
PATTERN_MS = 50.0
PATTERN_SHARE = 0.25
DT = 0.25  # ms
DURATION_S = 100.0
TAU_PLUS, TAU_MINUS = 16.8, 33.7  # ms (the paper's)
A_PLUS = 0.01  # the paper: 2^-5 = 0.031
DEPRESSION_RATIO = 1.06  # A- tau- / (A+ tau+); the paper's 0.85 A+ gives 1.70 (see the README)
A_MINUS = DEPRESSION_RATIO * A_PLUS * TAU_PLUS / TAU_MINUS
W_INIT = 0.475  # the paper's, in [0, 1]
TAU_MEM, TAU_SYN = 10.0, 2.5  # ms (the paper's EPSP kernel: tau_m 10, tau_s 2.5)
THRESHOLD_SHARE = 0.75  # threshold / the mean drive at the initial weights
SEED = 1  # in trial runs seeds 1-5 found the pattern within 100 s, 0 did not (README)


def mean_drive(weight: float = W_INIT) -> float:
    """The LIF's mean voltage when every afferent has ``weight``: input per step
    :math:`\\bar x = N r\\,dt\\,w`, current :math:`\\bar x / (1 - \\alpha_s)`, voltage
    :math:`\\bar x / ((1 - \\alpha_s)(1 - \\alpha_m))`."""
    per_step = AFFERENTS * (RATE_HZ + NOISE_HZ) * DT / 1000.0 * weight
    return per_step / (1 - np.exp(-DT / TAU_SYN)) / (1 - np.exp(-DT / TAU_MEM))


THRESHOLD = round(THRESHOLD_SHARE * mean_drive(), 1)


@dataclass(frozen=True)
class Inputs:
    times: np.ndarray  # steps
    ids: np.ndarray
    onsets: np.ndarray  # first step of every pattern presentation
    window: int  # steps per window (the pattern's length)
    steps: int


def _bernoulli_train(p: float, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Steps of a train with probability ``p`` per step, from geometric intervals."""
    gaps = rng.geometric(p, size=int(steps * p + 6 * np.sqrt(steps * p) + 16))
    train = np.cumsum(gaps) - 1
    return train[train < steps]


def make_inputs(duration_s: float = DURATION_S, seed: int = SEED) -> Inputs:
    """The afferents' spikes: time cut in 50 ms windows, a quarter of them (never two in a row)
    the pattern's; inside those, afferents ``0..IN_PATTERN-1`` replay the pattern."""
    rng = np.random.default_rng(seed)
    window = int(round(PATTERN_MS / DT))
    steps = int(round(duration_s * 1000.0 / DT))
    windows = steps // window
    chosen = np.zeros(windows, bool)
    for k in range(1, windows):  # P(pattern) = 1/4 overall when it never follows itself
        chosen[k] = not chosen[k - 1] and rng.random() < PATTERN_SHARE / (1 - PATTERN_SHARE)
    onsets = np.flatnonzero(chosen) * window
    p_rate, p_noise = RATE_HZ * DT / 1000.0, NOISE_HZ * DT / 1000.0
    pattern = [np.flatnonzero(rng.random(window) < p_rate) for _ in range(IN_PATTERN)]
    times, ids = [], []
    for afferent in range(AFFERENTS):
        train = _bernoulli_train(p_rate, steps, rng)
        if afferent < IN_PATTERN:
            inside = chosen[np.minimum(train // window, windows - 1)] & (train < windows * window)
            replay = (onsets[:, None] + pattern[afferent][None, :]).ravel()
            train = np.concatenate([train[~inside], replay])
        train = np.unique(np.concatenate([train, _bernoulli_train(p_noise, steps, rng)]))
        times.append(train)
        ids.append(np.full(train.size, afferent))
    return Inputs(np.concatenate(times), np.concatenate(ids), onsets, window, steps)


def network(inputs: Inputs) -> snnc.Network:
    net = snnc.Network("masquelier2008", dt=DT)
    net.source("afferents", AFFERENTS, snnc.spike_times(times=inputs.times, ids=inputs.ids))
    # reset below rest: the paper's negative afterpotential, one spike per presentation
    net.population("neuron", 1, snnc.LIF(tau_mem=TAU_MEM, tau_syn=TAU_SYN, v_th=THRESHOLD,
                                         v_reset=-THRESHOLD))
    rule = snnc.Stdp(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, a_plus=A_PLUS, a_minus=A_MINUS,
                     w_min=0.0, w_max=1.0, weight_dependence="additive", pairing="all")
    net.connect("afferents", "neuron", snnc.all_to_all(), name="syn", weight=W_INIT, delay=1,
                plasticity=rule)
    return net


@dataclass(frozen=True)
class Result:
    spikes: np.ndarray  # the neuron's spike steps
    weights: np.ndarray  # final weights, afferent order
    inputs: Inputs
    seconds: float

    def in_pattern(self) -> np.ndarray:
        """For every spike: the onset of the presentation it falls in, or -1."""
        k = np.searchsorted(self.inputs.onsets, self.spikes, side="right") - 1
        onset = np.where(k >= 0, self.inputs.onsets[np.maximum(k, 0)], -1)
        return np.where((onset >= 0) & (self.spikes - onset < self.inputs.window), onset, -1)

    def latency_ms(self) -> np.ndarray:
        """Per spike: ms from the onset of its presentation (NaN for a spike outside)."""
        onset = self.in_pattern()
        return np.where(onset >= 0, (self.spikes - onset) * DT, np.nan)


def simulate(inputs: Inputs, numerics: str = "float") -> Result:
    """Run the reference in ``numerics``; a chip's integer weights are divided by the quantize
    pass's weight scale, so that 1 is w_max in every numerics."""
    import numba

    numba.set_num_threads(1)  # one neuron: a second thread per step costs more than it saves
    net = network(inputs)
    started = time.perf_counter()
    run = snnc.run(net, "reference", steps=inputs.steps, numerics=numerics,
                   record_weights=["syn"])
    seconds = time.perf_counter() - started
    spikes, _ = run.spikes["neuron"]
    order = np.argsort(run.weights["syn"].pre, kind="stable")
    scale = 1.0 if numerics == "float" else weight_scale(net, numerics)
    return Result(spikes.astype(np.int64), run.weights["syn"].weights[order] / scale, inputs,
                  seconds)


def weight_scale(net: snnc.Network, numerics: str) -> float:
    """Integer units per float weight unit that the quantize pass chose for ``syn``."""
    from snnc.compiler.passes.quantize import quantize

    quantized = quantize(net, numerics)[0].network
    return float(np.asarray(quantized.projections[0].weight, dtype=np.float64).mean() / W_INIT)


def selectivity(result: Result, start_s: float, stop_s: float) -> dict[str, float]:
    """Between ``start_s`` and ``stop_s``: the share of presentations with a spike (hits), the
    rate in Hz outside the pattern (false alarms), the rate inside, the median latency."""
    lo, hi = (int(round(s * 1000.0 / DT)) for s in (start_s, stop_s))
    inputs = result.inputs
    onsets = inputs.onsets[(inputs.onsets >= lo) & (inputs.onsets + inputs.window <= hi)]
    chosen = (result.spikes >= lo) & (result.spikes < hi)
    onset = result.in_pattern()[chosen]
    inside_s = onsets.size * inputs.window * DT / 1000.0
    outside_s = (hi - lo) * DT / 1000.0 - inside_s
    latency = result.latency_ms()[chosen]
    return {"hits": float(np.isin(onsets, onset).mean()) if onsets.size else float("nan"),
            "rate_in_hz": float((onset >= 0).sum() / inside_s) if inside_s else float("nan"),
            "rate_out_hz": float((onset < 0).sum() / outside_s) if outside_s else float("nan"),
            "latency_ms": float(np.nanmedian(latency)) if np.isfinite(latency).any()
            else float("nan")}


def plot(result: Result, path: Path) -> None:
    from snnc.plot import require_matplotlib, save_figure

    plt = require_matplotlib()
    figure, axes = plt.subplots(1, 3, figsize=(14, 4.2), gridspec_kw={"width_ratios": [2, 1.4, 1.2]})
    seconds = result.spikes * DT / 1000.0
    latency = result.latency_ms()
    inside = np.isfinite(latency)
    axes[0].scatter(seconds[inside], latency[inside], s=4, color="C0", label="inside a pattern")
    axes[0].scatter(seconds[~inside], np.zeros((~inside).sum()), s=4, color="C3", marker="|",
                    label="outside (drawn at 0)")
    axes[0].set_xlabel("time (s)")
    axes[0].set_ylabel("latency from pattern onset (ms)")
    axes[0].set_ylim(-2, PATTERN_MS)
    axes[0].set_title("postsynaptic spikes", fontsize=10)
    axes[0].legend(loc="upper right", fontsize="small", markerscale=3)
    edges = np.arange(0.0, result.inputs.steps * DT / 1000.0 + 1e-9, 5.0)
    rows = [selectivity(result, a, b) for a, b in zip(edges[:-1], edges[1:])]
    middle = (edges[:-1] + edges[1:]) / 2
    axes[1].plot(middle, [r["rate_in_hz"] for r in rows], "o-", color="C0", label="inside")
    axes[1].plot(middle, [r["rate_out_hz"] for r in rows], "o-", color="C3", label="outside")
    axes[1].set_xlabel("time (s)")
    axes[1].set_ylabel("rate (Hz), per 5 s")
    axes[1].set_yscale("symlog", linthresh=1.0)
    axes[1].set_title("firing inside vs outside the pattern", fontsize=10)
    axes[1].legend(fontsize="small")
    axes[2].plot(np.arange(AFFERENTS), result.weights, ".", markersize=2, color="C2")
    axes[2].axvline(IN_PATTERN - 0.5, color="0.5", linewidth=0.8)
    axes[2].set_xlabel(f"afferent (0..{IN_PATTERN - 1}: in the pattern)")
    axes[2].set_ylabel("final weight")
    axes[2].set_title("weights after learning", fontsize=10)
    figure.suptitle("Masquelier, Guyonneau & Thorpe (2008), scaled down: one LIF neuron, "
                    f"{AFFERENTS:,} afferents, a 50 ms pattern in {IN_PATTERN} of them, STDP",
                    fontsize=11)
    figure.tight_layout()
    save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=DURATION_S, help="seconds of model time")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--numerics", default="float", choices=["float", "loihi", "spinnaker"],
                        help="the reference's numerics (a chip's: the quantized rule)")
    parser.add_argument("-o", "--output", default=str(HERE / "latency.png"))
    args = parser.parse_args(argv)
    inputs = make_inputs(args.duration, args.seed)
    print(f"{AFFERENTS} afferents, {inputs.onsets.size} presentations in {args.duration:g} s; "
          f"threshold {THRESHOLD} (mean drive {mean_drive():.0f} at the initial weights)")
    try:
        result = simulate(inputs, args.numerics)
    except SnncError as error:  # a target that cannot run the rule says so in one line
        print(f"{args.numerics}: {error}", file=sys.stderr)
        return 2
    print(f"{args.numerics}: simulated in {result.seconds:.1f} s")
    tenth = args.duration / 10
    for start in (0.0, args.duration - tenth):
        share = selectivity(result, start, start + tenth)
        print(f"{start:5.0f}-{start + tenth:<5.0f} s: hits {share['hits']:.0%}, inside "
              f"{share['rate_in_hz']:.1f} Hz, outside {share['rate_out_hz']:.2f} Hz, median "
              f"latency {share['latency_ms']:.1f} ms")
    print(f"final weights: pattern afferents {result.weights[:IN_PATTERN].mean():.2f} on average "
          f"({np.mean(result.weights[:IN_PATTERN] > 0.9):.0%} above 0.9), the others "
          f"{result.weights[IN_PATTERN:].mean():.2f} ({np.mean(result.weights[IN_PATTERN:] > 0.9):.0%})")
    try:
        plot(result, Path(args.output))
    except SnncError as error:  # matplotlib missing: the numbers above, then one line
        print(error, file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
