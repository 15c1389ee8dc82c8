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


def test_fixed_probability_does_not_depend_on_chunking(monkeypatch):
    from snnc.ir import connect as connect_module

    rule = FixedProbability(p=0.3, seed=21)
    pre, post = connection_pairs(rule, 200, 300)
    monkeypatch.setattr(connect_module, "_GAP_CHUNK", 64)  # ~280 chunks instead of one
    pre_small, post_small = connection_pairs(rule, 200, 300)
    assert np.array_equal(pre, pre_small) and np.array_equal(post, post_small)


def test_fixed_probability_is_drawn_in_bulk():
    """Vectorised: one numpy draw per 2^22 synapses (here one or a few), never one per synapse."""
    from snnc.ir.connect import _GAP_CHUNK, _bernoulli_chunks

    assert len(list(_bernoulli_chunks(0.5, 2_000_000, seed=1))) == 1
    chunks = list(_bernoulli_chunks(0.9, 10_000_000, seed=1))
    assert len(chunks) <= 9_000_000 // _GAP_CHUNK + 2


def test_fixed_probability_is_bernoulli_per_pair():
    """Over many seeds every pair (the first and last included: no off-by-one in the gaps) is
    connected with probability p, and two pairs together with p^2 (independence)."""
    n_pre, n_post, p, seeds = 3, 4, 0.3, 600
    hits = np.zeros((seeds, n_pre * n_post), dtype=bool)
    for seed in range(seeds):
        pre, post = connection_pairs(FixedProbability(p=p, seed=seed), n_pre, n_post)
        hits[seed, pre * n_post + post] = True
    frequency = hits.mean(axis=0)
    assert np.all(np.abs(frequency - p) < 5 * np.sqrt(p * (1 - p) / seeds))
    both = (hits[:, 0] & hits[:, 1]).mean()
    assert abs(both - p * p) < 5 * np.sqrt(p * p * (1 - p * p) / seeds)


def test_drawn_values_are_numpys_draws_from_the_seed():
    """What docs/describe-a-network.md promises: ``default_rng(seed)`` draws, one per synapse in
    expansion order; delays from ``uniform`` are integers lo..hi, from ``normal`` rounded."""
    from snnc.ir import normal, one_to_one, uniform

    net = Network("draws")
    net.population("a", 50, LIF(tau_mem=5.0))
    net.population("b", 50, LIF(tau_mem=5.0))
    net.connect("a", "b", one_to_one(), weight=normal(0.5, 0.1, seed=3),
                delay=uniform(2, 9, seed=4))
    net.connect("b", "a", one_to_one(), weight=uniform(-1, 1, seed=5), delay=normal(20, 4, seed=6))
    ab, ba = expand(net, "a->b"), expand(net, "b->a")
    assert np.array_equal(ab.weight, np.random.default_rng(3).normal(0.5, 0.1, 50))
    assert np.array_equal(ab.delay, np.random.default_rng(4).integers(2, 10, 50))
    assert np.array_equal(ba.weight, np.random.default_rng(5).uniform(-1, 1, 50))
    assert np.array_equal(ba.delay, np.rint(np.random.default_rng(6).normal(20, 4, 50)))
    assert ab.weight.dtype == np.float64 and np.issubdtype(ab.delay.dtype, np.integer)


def test_rules_expand_in_their_documented_order():
    from snnc.ir import explicit, one_to_one
    from snnc.ir.connect import Explicit, OneToOne

    pre, post = connection_pairs(AllToAll(), 2, 3)
    assert list(zip(pre.tolist(), post.tolist())) == [
        (0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    pre, post = connection_pairs(OneToOne(), 3, 3)
    assert pre.tolist() == post.tolist() == [0, 1, 2]
    rule = explicit([2, 0, 1, 0], [1, 1, 0, 0])  # the user's order is kept, not sorted
    assert isinstance(rule, Explicit) and isinstance(one_to_one(), OneToOne)
    pre, post = connection_pairs(rule, 3, 2)
    assert pre.tolist() == [2, 0, 1, 0] and post.tolist() == [1, 1, 0, 0]
    assert pre.dtype == post.dtype == np.int32
