"""Random Loihi networks for the loihi-sim differential tests, packed several to one Lava run.

Lava costs about a second to start a run whatever its size, so each test run holds several random
sub-networks as disjoint populations of ONE network (names prefixed ``n<k>_``): they do not interact,
so one run checks them all, and a divergence names the sub-network through its population.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import (LIF, LoihiLIF, Network, all_to_all, explicit, one_to_one, poisson, spike_times,
                     uniform)

FLOAT_SHARE = 0.4  # sub-networks of float lif, which the quantize pass converts
EXPONENTS = (0, 0, 0, 1, 2, 3, 6, 7)  # weight_exp drawn for integer projections (few groups)


def _loihi_neuron(rng: np.random.Generator, size: int, saturating: bool) -> LoihiLIF:
    """Per-neuron du, dv, vth, bias and initial state; tiny thresholds when saturating."""
    def per_neuron(lo: int, hi: int) -> np.ndarray:
        return rng.integers(lo, hi + 1, size) if rng.random() < 0.5 else int(rng.integers(lo, hi + 1))

    vth_hi = 5 if saturating else 3000
    return LoihiLIF(du=per_neuron(0, 4095), dv=per_neuron(0, 4095), vth=per_neuron(0, vth_hi),
                    bias_mant=per_neuron(-300, 300), bias_exp=per_neuron(0, 7),
                    v_init=per_neuron(-(2**20), 2**20), u_init=per_neuron(-(2**20), 2**20))


def _float_neuron(rng: np.random.Generator) -> LIF:
    return LIF(tau_mem=float(rng.uniform(2, 40)), tau_syn=float(rng.choice([0.0, 3.0, 10.0])),
               v_th=float(rng.uniform(0.5, 2.0)), bias=float(rng.uniform(-0.05, 0.1)))


def _connector(rng: np.random.Generator, pre: int, post: int, same_size: bool):
    """(rule, connection count or None to draw weights/delays from distributions, unique pairs)."""
    choice = int(rng.integers(0, 4))
    if choice == 0:
        return all_to_all(), pre * post, True
    if choice == 1 and same_size:
        return one_to_one(), pre, True
    if choice == 2:
        count = int(rng.integers(1, 3 * max(pre, post)))  # repeats pairs: extra Lava blocks
        return explicit(rng.integers(0, pre, count), rng.integers(0, post, count)), count, False
    # A Bernoulli mask, drawn here: fixed_probability's expansion draws 4M gaps per call (slow).
    post_index, pre_index = np.nonzero(rng.random((post, pre)) < rng.uniform(0.1, 0.6))
    return explicit(pre_index, post_index), None, True


def _weights(rng: np.random.Generator, count: int | None, integer: bool, saturating: bool):
    if not integer:
        scale = 2.0 if saturating else 0.6
        return uniform(-scale, scale, seed=int(rng.integers(1 << 30))) if count is None \
            else rng.uniform(-scale, scale, count)
    low, high = {0: (-256, 255), 1: (0, 255), 2: (-256, 0)}[int(rng.integers(0, 3))]
    if saturating:
        low, high = max(low, 200), 255
    if count is None:
        return int(rng.integers(low, high + 1))
    return rng.integers(low, high + 1, count)


def _delays(rng: np.random.Generator, count: int | None):
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return 1
    if kind == 1 or count is None:
        return uniform(1, 64, seed=int(rng.integers(1 << 30)))
    return rng.integers(1, 65, count)


def _project(net: Network, rng: np.random.Generator, pre: str, post: str, *, integer: bool,
             saturating: bool) -> None:
    pre_size, post_size = net.populations[pre].size, net.populations[post].size
    rule, count, unique_pairs = _connector(rng, pre_size, post_size, pre_size == post_size)
    options = {}
    if integer:
        exponent = int(rng.choice(EXPONENTS)) if not saturating else int(rng.integers(5, 8))
        if rng.random() < 0.1 and unique_pairs:  # weight_exp < 0 with repeated pairs is refused
            exponent = -int(rng.integers(1, 4))
        options = {"weight_exp": exponent, "num_weight_bits": int(rng.integers(1, 9))}
    net.connect(pre, post, rule, weight=_weights(rng, count, integer, saturating),
                delay=_delays(rng, count), **options)


def add_random_subnetwork(net: Network, seed: int, prefix: str) -> None:
    """2-4 neuron populations (integer loihi_lif, or float lif that the quantizer converts), one or
    two sources, recurrent and feed-forward projections with mixed signs and delays 1..64."""
    rng = np.random.default_rng(seed)
    integer = rng.random() >= FLOAT_SHARE
    saturating = rng.random() < 0.2
    sources = []
    for k in range(int(rng.integers(1, 3))):
        size = int(rng.integers(1, 10))
        name = f"{prefix}s{k}"
        if rng.random() < 0.5:
            rate = 900.0 if saturating else float(rng.uniform(20, 300))
            net.source(name, size, poisson(rate, seed=int(rng.integers(1 << 30))))
        else:
            steps = rng.integers(0, 100, 4 * size)
            ids = rng.integers(0, size, steps.size)
            pairs = np.unique(np.stack([steps, ids]), axis=1)  # at most one spike per neuron, step
            net.source(name, size, spike_times(times=pairs[0], ids=pairs[1]))
        sources.append(name)
    neurons = []
    for k in range(int(rng.integers(2, 5))):
        size = int(rng.integers(1, 12))
        neuron = _loihi_neuron(rng, size, saturating) if integer else _float_neuron(rng)
        neurons.append(net.population(f"{prefix}p{k}", size, neuron).name)
    for post in neurons:
        _project(net, rng, str(rng.choice(sources)), post, integer=integer, saturating=saturating)
    for _ in range(int(rng.integers(1, 5))):  # recurrent / lateral / feedback
        _project(net, rng, str(rng.choice(neurons)), str(rng.choice(neurons)), integer=integer,
                 saturating=saturating)


def packed_network(seeds: list[int], name: str = "packed") -> Network:
    """One network holding a random sub-network per seed, disjoint."""
    net = Network(name, dt=1.0)
    for k, seed in enumerate(seeds):
        add_random_subnetwork(net, seed, f"n{k}_")
    return net
