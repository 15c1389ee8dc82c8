"""Liquid state machine: a random recurrent LIF reservoir classifies synthetic temporal signals.

    .venv/bin/python examples/liquid_state_machine/run.py            # full run (README numbers)
    .venv/bin/python examples/liquid_state_machine/run.py --quick    # small and fast (the CI test)

Signals: three classes of noisy sinusoids, ``sin(2 pi f t / T + phase)`` with ``f`` = 1, 2, 3 cycles
per trial and a random phase (so no single time bin tells the class), each population-coded by 40
input neurons with Gaussian tuning curves into Bernoulli spikes (``snnc.encode.explicit``).
Reservoir: 80% excitatory / 20% inhibitory ``lif`` neurons, random connections with probability
``p``. Every trial runs in its own block-diagonal copy of the reservoir (``snnc.batch.replicate``),
so all trials run in one simulation with independent state. State vector of a trial: each neuron's
spike train filtered by an exponential (``tau`` steps), sampled at a few times. Readout: ridge
regression on one-hot labels (numpy), trained on each backend's own training-set states (the
reservoir runs on the chip, the readout on the host).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from snnc import encode
from snnc.backends.spikes import SpikeRecord
from snnc.batch import replicate, run_target
from snnc.ir import LIF, Network, fixed_probability, spike_times, uniform

INPUTS = 40  # input neurons, Gaussian tuning curves over the signal range [-1, 1]
CLASSES = 3
W_IN, W_EXC, G = 0.03, 0.02, 4.0  # mean weights: input, excitatory, inhibitory = -G * W_EXC


@dataclass(frozen=True)
class Config:
    """Sizes of one run; ``quick()`` is the CI-sized one."""

    neurons: int = 500
    train_per_class: int = 40
    test_per_class: int = 30
    steps: int = 100
    seed: int = 1

    @staticmethod
    def quick() -> "Config":
        return Config(neurons=200, train_per_class=12, test_per_class=10, steps=60)


def signals(per_class: int, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(trials, steps)`` noisy sinusoids of 1, 2, 3 cycles with random phase; labels 0..2."""
    labels = np.repeat(np.arange(CLASSES), per_class)
    phase = rng.uniform(-0.6, 0.6, labels.size)[:, None]  # jitter around a fixed phase
    t = np.arange(steps)[None, :] / steps
    clean = np.sin(2 * np.pi * (labels[:, None] + 1) * t + phase)
    return np.clip(clean + rng.normal(0, 0.3, clean.shape), -1, 1), labels


def encode_trials(values: np.ndarray, rng: np.random.Generator) -> encode.Spikes:
    """Population code: input neuron k of trial b spikes at step t with probability
    ``0.4 * exp(-(x_b(t) - mu_k)^2 / (2 * 0.15^2))``; neuron id ``b * INPUTS + k``."""
    centres = np.linspace(-1, 1, INPUTS)
    probability = 0.4 * np.exp(-((values[:, :, None] - centres) ** 2) / (2 * 0.15**2))
    raster = rng.random(probability.shape) < probability  # (trials, steps, INPUTS)
    return encode.explicit(raster.transpose(1, 0, 2))  # time first, then trial-major neurons


def reservoir(neurons: int, seed: int) -> Network:
    """One copy of the reservoir: ``inp`` (a placeholder source), ``exc`` and ``inh`` (``lif``).

    ``tau_mem`` 16 ms and ``tau_syn`` 4 ms, threshold 1; inhibition is ``G`` = 4 times stronger per
    synapse than excitation, which balances the 4:1 excitatory majority.
    """
    n_exc = neurons * 4 // 5
    net = Network("lsm", dt=1.0)
    net.source("inp", INPUTS, spike_times())
    neuron = LIF(tau_mem=16.0, tau_syn=4.0, v_th=1.0)
    net.population("exc", n_exc, neuron)
    net.population("inh", neurons - n_exc, neuron)
    p = min(1.0, 20.0 / neurons)  # about 20 recurrent inputs per neuron at every size
    for k, (pre, post, weight) in enumerate([
            ("inp", "exc", W_IN), ("inp", "inh", W_IN),
            ("exc", "exc", W_EXC), ("exc", "inh", W_EXC),
            ("inh", "exc", -G * W_EXC), ("inh", "inh", -G * W_EXC)]):
        prob = 0.25 if pre == "inp" else p
        net.connect(pre, post, fixed_probability(prob, seed=seed * 10 + k,
                                                 allow_self=pre != post),
                    weight=uniform(*sorted((0.5 * weight, 1.5 * weight)), seed=seed * 10 + k + 100))
    return net


def states(record: SpikeRecord, sizes: dict[str, int], trials: int, steps: int,
           samples: int = 5, tau: float = 10.0) -> np.ndarray:
    """``(trials, samples * neurons)``: exponentially filtered spike trains (time constant ``tau``
    steps) of every reservoir neuron, read at ``samples`` evenly spaced times."""
    columns = []
    for name, size in sizes.items():
        times, ids = record.spikes[name]
        trains = np.zeros((steps, trials * size))
        np.add.at(trains, (times, ids), 1.0)
        # causal exponential filter y[t] = exp(-1/tau) y[t-1] + x[t], along time
        filtered = lfilter([1.0], [1.0, -np.exp(-1.0 / tau)], trains, axis=0)
        picks = np.linspace(steps / samples - 1, steps - 1, samples).astype(int)
        columns.append(filtered[picks].reshape(samples, trials, size).transpose(1, 0, 2)
                       .reshape(trials, samples * size))
    return np.concatenate(columns, axis=1)


def ridge_fit(x: np.ndarray, labels: np.ndarray,
              alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression to one-hot targets on standardized features: (weights, (mean, std))."""
    mean, std = x.mean(0), x.std(0) + 1e-6
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    targets = np.eye(CLASSES)[labels]
    # dual form: features outnumber trials, so solve the trials x trials system
    weights = z.T @ np.linalg.solve(z @ z.T + alpha * np.eye(len(z)), targets)
    return weights, np.stack([mean, std])


def ridge_predict(x: np.ndarray, weights: np.ndarray, scaling: np.ndarray) -> np.ndarray:
    z = np.hstack([(x - scaling[0]) / scaling[1], np.ones((len(x), 1))])
    return (z @ weights).argmax(1)


def dataset(config: Config):
    """Encoded train+test trials (one copy of the reservoir each) and their labels."""
    rng = np.random.default_rng(config.seed)
    x_train, y_train = signals(config.train_per_class, config.steps, rng)
    x_test, y_test = signals(config.test_per_class, config.steps, rng)
    spikes = encode_trials(np.vstack([x_train, x_test]), rng)
    return spikes, y_train, y_test


def batched_reservoir(config: Config):
    """All trials' copies of the reservoir in one network, the reservoir sizes, and the labels."""
    spikes, y_train, y_test = dataset(config)
    trials = y_train.size + y_test.size
    net = reservoir(config.neurons, config.seed)
    batched = replicate(net, trials, sources={"inp": spikes})
    sizes = {"exc": net.populations["exc"].size, "inh": net.populations["inh"].size}
    return batched, sizes, y_train, y_test


def evaluate(config: Config, targets: list[str]) -> dict[str, dict]:
    """Accuracy (train, test) and spikes per target; all trials in one run per target."""
    batched, sizes, y_train, y_test = batched_reservoir(config)
    trials = y_train.size + y_test.size
    results = {}
    for target in targets:
        started = time.perf_counter()
        record, _ = run_target(batched, target, config.steps)
        x = states(record, sizes, trials, config.steps)
        weights, scaling = ridge_fit(x[: y_train.size], y_train)
        predicted = ridge_predict(x, weights, scaling)
        rate = sum(record.spikes[n][0].size for n in sizes) / (
            trials * config.neurons * config.steps * record.dt / 1000)
        results[target] = {
            "train": float((predicted[: y_train.size] == y_train).mean()),
            "test": float((predicted[y_train.size:] == y_test).mean()),
            "rate_hz": rate, "seconds": time.perf_counter() - started, "record": record}
    return results


def _input_only_accuracy(config: Config) -> float:
    """Baseline: the same readout on the filtered input spikes alone (no reservoir)."""
    spikes, y_train, y_test = dataset(config)
    trials = y_train.size + y_test.size
    record = SpikeRecord.from_events(config.steps, 1.0, {"inp": (spikes.times, spikes.ids)})
    x = states(record, {"inp": INPUTS}, trials, config.steps)
    weights, scaling = ridge_fit(x[: y_train.size], y_train)
    return float((ridge_predict(x[y_train.size:], weights, scaling) == y_test).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized run")
    parser.add_argument("--targets", default="reference,loihi-sim",
                        help="comma-separated: reference (float), loihi-sim, spinnaker-emu")
    args = parser.parse_args(argv)
    config = Config.quick() if args.quick else Config()
    trials = CLASSES * (config.train_per_class + config.test_per_class)
    print(f"reservoir {config.neurons} neurons (80% exc), {trials} trials of {config.steps} steps, "
          f"chance {1 / CLASSES:.3f}")
    results = evaluate(config, args.targets.split(","))
    print(f"{'target':<16}{'train':>8}{'test':>8}{'rate (Hz)':>11}{'seconds':>9}")
    for target, r in results.items():
        print(f"{target:<16}{r['train']:>8.3f}{r['test']:>8.3f}{r['rate_hz']:>11.1f}"
              f"{r['seconds']:>9.1f}")
    if "reference" in results and "loihi-sim" in results:
        drop = results["reference"]["test"] - results["loihi-sim"]["test"]
        print(f"quantization (float -> Loihi fixed point) changes test accuracy by {-drop:+.3f}")
    baseline = _input_only_accuracy(config)
    print(f"readout on the input spikes alone (no reservoir): test {baseline:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
