"""Random ``spinnaker_lif`` networks for the differential tests (seeded: the same on every run).

Each network has one or two spike sources (explicit times or Poisson), one to three populations
with random s16.15 parameters (exponential and delta synapses, refractory periods, offsets) and
random projections: excitatory and inhibitory weights up to the full 16 bits (so ring buffers
saturate), delays from 1 to beyond the 32 in-core slots (delay-extension cores).
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import Network, explicit, poisson, spike_times
from snnc.ir.neurons import SpinnakerLIF

ONE = 1 << 15


def _u032(x: float) -> int:
    return min(int(round(x * 2**32)), 2**32 - 1)


def random_neuron(rng: np.random.Generator) -> SpinnakerLIF:
    tau_m, tau_e, tau_i = rng.uniform(2.0, 40.0, 3)
    delta = bool(rng.random() < 0.3)
    return SpinnakerLIF(
        v_thresh=int(rng.integers(ONE // 2, 8 * ONE)),
        v_reset=int(rng.integers(-ONE, ONE // 2)),
        v_rest=int(rng.integers(-ONE // 2, ONE // 4)),
        v_init=int(rng.integers(-ONE, ONE)),
        i_offset=int(rng.choice([0, rng.integers(0, ONE // 2)])),
        exp_tc=int(round(math.exp(-1.0 / tau_m) * ONE)),
        r_membrane=int(rng.integers(ONE, 20 * ONE)),
        synapse="delta" if delta else "exp",
        decay_exc=_u032(math.exp(-1.0 / tau_e)), init_exc=_u032(tau_e * (1 - math.exp(-1 / tau_e))),
        decay_inh=_u032(math.exp(-1.0 / tau_i)), init_inh=_u032(tau_i * (1 - math.exp(-1 / tau_i))),
        t_refract=int(rng.integers(0, 4)),
        weight_shift_exc=int(rng.integers(2, 8)), weight_shift_inh=int(rng.integers(2, 8)),
    )


def _source(rng: np.random.Generator, size: int, steps: int):
    if rng.random() < 0.5:
        return poisson(float(rng.uniform(20, 200)), seed=int(rng.integers(1 << 30)))
    count = int(rng.integers(size, 6 * size))
    return spike_times(times=rng.integers(0, steps, count), ids=rng.integers(0, size, count))


def random_network(seed: int, steps: int = 120, max_delay: int = 110) -> Network:
    """A random network; populations large enough to span several cores at small core sizes."""
    rng = np.random.default_rng(seed)
    net = Network(f"random_{seed}", dt=1.0)
    names = []
    for k in range(int(rng.integers(1, 3))):
        size = int(rng.integers(4, 40))
        net.source(f"src{k}", size, _source(rng, size, steps))
        names.append((f"src{k}", size, True))
    for k in range(int(rng.integers(1, 4))):
        size = int(rng.integers(3, 60))
        net.population(f"pop{k}", size, random_neuron(rng))
        names.append((f"pop{k}", size, False))
    targets = [n for n in names if not n[2]]
    for pre, pre_size, _ in names:
        for post, post_size, _ in targets:
            if rng.random() < 0.5 and not (pre.startswith("src") and post == targets[0][0]):
                continue
            _project(net, rng, pre, pre_size, post, post_size, max_delay)
    return net


def _project(net, rng, pre, pre_size, post, post_size, max_delay) -> None:
    """Explicit random pairs with integer weights (negative = inhibitory) and delays."""
    if pre_size == post_size and rng.random() < 0.2:
        pre_ids = post_ids = np.arange(pre_size)
    else:
        pick = rng.random((pre_size, post_size)) < rng.uniform(0.05, 0.5)
        pre_ids, post_ids = np.nonzero(pick)
    count = pre_ids.size
    big = rng.random() < 0.15  # near-full 16-bit weights: ring buffers saturate
    top = 0xFFFF if big else int(rng.integers(50, 4000))
    sign = int(rng.choice([1, -1, 0]))  # 0: mixed signs
    lo, hi = (-top, top) if sign == 0 else ((1, top) if sign > 0 else (-top, -1))
    delay_hi = int(rng.choice([4, 32, max_delay]))
    net.connect(pre, post, explicit(pre_ids, post_ids),
                weight=rng.integers(lo, hi + 1, count), delay=rng.integers(1, delay_hi + 1, count))


def random_lif_network(seed: int, steps: int = 120) -> Network:
    """A float ``lif`` network of the same shape: ``snnc compile`` quantizes it to spinnaker_lif."""
    from snnc.ir import LIF

    rng = np.random.default_rng(10_000 + seed)
    net = Network(f"random_lif_{seed}", dt=1.0)
    size_in, size_a, size_b = (int(v) for v in rng.integers(5, 40, 3))
    net.source("inp", size_in, _source(rng, size_in, steps))
    for name, size in (("a", size_a), ("b", size_b)):
        net.population(name, size, LIF(tau_mem=float(rng.uniform(5, 30)),
                                       tau_syn=float(rng.choice([0.0, rng.uniform(2, 10)])),
                                       v_th=1.0, refractory=int(rng.integers(0, 3)),
                                       bias=float(rng.uniform(0, 0.05))))
    for pre, post, p in (("inp", "a", 0.4), ("a", "b", 0.3), ("b", "a", 0.2), ("a", "a", 0.1)):
        pre_size, post_size = net.populations[pre].size, net.populations[post].size
        pre_ids, post_ids = np.nonzero(rng.random((pre_size, post_size)) < p)
        weight = rng.uniform(-0.3, 0.8, pre_ids.size)
        net.connect(pre, post, explicit(pre_ids, post_ids), weight=weight,
                    delay=rng.integers(1, int(rng.choice([8, 70])) + 1, pre_ids.size))
    return net
