"""Hypothesis strategies and independent checks shared by the quantization tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from snnc.ir import LIF, LoihiLIF, Network, all_to_all, one_to_one, spike_times


def lava_truncate(weights: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """Lava's clip_weights + truncate_weights (lava/utils/weightutils.py), written independently."""
    w = np.asarray(weights, dtype=np.int64)
    if w.size == 0 or w.min() >= 0:
        mode = "exc"
    elif w.max() <= 0:
        mode = "inh"
    else:
        mode = "mixed"
    if mode == "mixed":
        w = np.clip(w, -256, 255)
    elif mode == "exc":
        w = np.clip(w, 0, 255)
    else:
        w = np.clip(w, -255, 0)
    k = 8 - num_weight_bits + (1 if mode == "mixed" else 0)
    if mode == "inh":
        return -((-w >> k) << k)
    return (w >> k) << k


def _log_uniform(lo: float, hi: float):
    return st.floats(np.log10(lo), np.log10(hi)).map(lambda e: float(10.0**e))


@st.composite
def lif_neurons(draw, spinnaker: bool = False):
    """A lif model with every field drawn over wide ranges (theta over 6 decades)."""
    theta = draw(_log_uniform(1e-3, 1e3 if not spinnaker else 1e2))
    v_reset = draw(st.floats(-5, 5))
    tau_mem = draw(_log_uniform(0.5, 200.0))
    tau_syn = draw(st.one_of(st.just(0.0), _log_uniform(0.5, 50.0)))
    integrator = draw(st.sampled_from(["exact", "euler"]))
    if integrator == "euler":
        tau_mem, tau_syn = max(tau_mem, 1.0), (0.0 if tau_syn == 0 else max(tau_syn, 1.0))
    return LIF(tau_mem=tau_mem, tau_syn=tau_syn, v_th=v_reset + theta, v_reset=v_reset,
               v_leak=v_reset + draw(st.floats(-1, 1)) * theta,
               bias=draw(st.floats(-1, 1)) * theta * 0.1,
               v_init=v_reset + draw(st.floats(-1, 1)) * theta,
               refractory=draw(st.integers(0, 3)) if spinnaker else 0, integrator=integrator)


@st.composite
def weight_arrays(draw, count: int, theta: float):
    """Weights spanning 5 decades below 10 x theta, of one sign mode, with some exact zeros."""
    mode = draw(st.sampled_from(["exc", "inh", "mixed"]))
    exponents = draw(st.lists(st.floats(-4, 1), min_size=count, max_size=count))
    magnitude = theta * 10.0 ** np.asarray(exponents)
    if mode == "mixed":
        signs = np.asarray(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=count,
                                         max_size=count)))
    else:
        signs = np.full(count, 1.0 if mode == "exc" else -1.0)
    zeros = np.asarray(draw(st.lists(st.booleans(), min_size=count, max_size=count)))
    return np.where(zeros & (np.arange(count) % 3 == 0), 0.0, signs * magnitude)


@st.composite
def lif_networks(draw, spinnaker: bool = False):
    """A source and one or two lif populations, all-to-all/one-to-one projections between them."""
    net = Network("prop", dt=draw(st.sampled_from([1.0, 0.5, 0.1])) if not spinnaker else 1.0)
    n_src = draw(st.integers(1, 5))
    net.source("src", n_src, spike_times(times=[0], ids=[0]))
    names = []
    for index in range(draw(st.integers(1, 2))):
        size = draw(st.integers(1, 4))
        names.append(net.population(f"p{index}", size, draw(lif_neurons(spinnaker))))
    for post in names:
        theta = float(post.neuron.v_th) - float(post.neuron.v_reset)
        for pre in [net.populations["src"], *names]:
            if not draw(st.booleans()) and pre.name != "src":
                continue
            if draw(st.booleans()) and pre.size == post.size:
                rule, count = one_to_one(), post.size
            else:
                rule, count = all_to_all(), pre.size * post.size
            if draw(st.booleans()):
                weight = draw(weight_arrays(count, theta))
            else:
                weight = float(draw(weight_arrays(1, theta))[0])
            net.connect(pre, post, rule, weight=weight, delay=draw(st.integers(1, 3)))
    return net


@st.composite
def loihi_networks(draw):
    """Networks of hand-made loihi_lif populations with integer weights (Lava's own parameters)."""
    net = Network("native", dt=1.0)
    net.source("src", 3, spike_times(times=[0, 1], ids=[0, 2]))
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=2))
    pops = [net.population(f"n{i}", s, LoihiLIF(
        du=draw(st.integers(0, 4095)), dv=draw(st.integers(0, 4095)),
        vth=draw(st.integers(0, 131071)), bias_mant=draw(st.integers(-4096, 4095)),
        bias_exp=draw(st.integers(0, 7)))) for i, s in enumerate(sizes)]
    for post in pops:
        for pre in [net.populations["src"], *pops]:
            count = pre.size * post.size
            weight = np.asarray(draw(st.lists(st.integers(-256, 255), min_size=count,
                                              max_size=count)), dtype=np.int64)
            net.connect(pre, post, all_to_all(), weight=weight, delay=1,
                        weight_exp=draw(st.integers(-8, 7)),
                        num_weight_bits=draw(st.integers(1, 8)))
    return net
