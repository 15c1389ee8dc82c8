"""Connectivity expansion: statistics, determinism, CSR order, allow_self."""

import numpy as np
import pytest

from snnc.ir import LIF, Network, connection_pairs, expand, fixed_probability
from snnc.ir.connect import AllToAll, FixedProbability, _bernoulli_positions


def test_fixed_probability_is_deterministic_and_sorted():
    rule = FixedProbability(p=0.05, seed=11)
    pre1, post1 = connection_pairs(rule, 300, 400)
    pre2, post2 = connection_pairs(rule, 300, 400)
    assert np.array_equal(pre1, pre2) and np.array_equal(post1, post2)
    flat = pre1.astype(np.int64) * 400 + post1
    assert np.all(np.diff(flat) > 0), "pairs are distinct and in CSR order"
    other = connection_pairs(FixedProbability(p=0.05, seed=12), 300, 400)[0]
    assert not np.array_equal(pre1[:100], other[:100])


def test_fixed_probability_count_matches_binomial():
    n_pre, n_post, p = 2000, 1500, 0.01
    pre, post = connection_pairs(FixedProbability(p=p, seed=3), n_pre, n_post)
    mean = n_pre * n_post * p
    std = np.sqrt(n_pre * n_post * p * (1 - p))
    assert abs(pre.size - mean) < 5 * std
    # every post neuron is hit about equally: chi-square-ish bound on the in-degree spread
    in_degree = np.bincount(post, minlength=n_post)
    assert abs(in_degree.mean() - n_pre * p) < 1.0
    assert in_degree.std() < 2 * np.sqrt(n_pre * p)


def test_bernoulli_positions_cross_chunk_boundary():
    # with p = 0.9 and 10M positions, several gap chunks are needed; the result is exact Bernoulli
    positions = _bernoulli_positions(0.9, 10_000_000, seed=1)
    assert positions[-1] < 10_000_000 and np.all(np.diff(positions) > 0)
    assert abs(positions.size - 9_000_000) < 5 * np.sqrt(10_000_000 * 0.09)


def test_allow_self_false_removes_diagonal():
    pre, post = connection_pairs(AllToAll(allow_self=False), 5, 5, recurrent=True)
    assert pre.size == 20 and not np.any(pre == post)
    pre, post = connection_pairs(FixedProbability(p=1.0, allow_self=False), 7, 7, recurrent=True)
    assert pre.size == 42 and not np.any(pre == post)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_fixed_probability_edge_cases(p):
    pre, _ = connection_pairs(FixedProbability(p=p), 10, 20)
    assert pre.size == int(p * 200)


def test_drawn_delay_distribution_is_integer_and_in_range():
    from snnc.ir import uniform

    net = Network("d")
    net.population("a", 100, LIF(tau_mem=5.0))
    net.connect("a", "a", fixed_probability(0.5, seed=1), weight=0.1, delay=uniform(1, 8, seed=2))
    synapses = expand(net, "a->a")
    assert synapses.delay.min() == 1 and synapses.delay.max() == 8
    assert np.issubdtype(synapses.delay.dtype, np.integer)
