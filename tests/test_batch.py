"""snnc.batch: copies of a network side by side behave exactly like separate runs."""

import numpy as np
import pytest

from snnc import encode
from snnc.backends.reference import simulate
from snnc.batch import copy_counts, feedforward_lag, replicate
from snnc.ir import LIF, Network, NetworkError, fixed_probability, normal, spike_times


def _net(times=(), ids=()) -> Network:
    net = Network("small", dt=1.0)
    net.source("inp", 6, spike_times(times, ids))
    net.population("hid", 5, LIF(tau_mem=8.0, tau_syn=2.0, v_th=1.0,
                                  bias=np.linspace(0.0, 0.05, 5)))
    net.population("out", 3, LIF(tau_mem=10.0, v_th=0.8))
    net.connect("inp", "hid", fixed_probability(0.6, seed=1), weight=normal(0.6, 0.3, seed=2),
                delay=2)
    net.connect("hid", "hid", fixed_probability(0.3, seed=3), weight=-0.2)
    net.connect("hid", "out", weight=normal(0.5, 0.2, seed=4))
    return net


def test_copies_equal_separate_runs():
    values = np.random.default_rng(0).random((4, 6))
    spikes = encode.rate(values, 30, seed=7)
    batched = replicate(_net(), 4, sources={"inp": spikes})
    assert batched.populations["hid"].size == 20
    together = simulate(batched, 34)
    for copy in range(4):
        own = spikes.ids // 6 == copy
        alone = simulate(_net(spikes.times[own], spikes.ids[own] % 6), 34)
        for name, size in (("hid", 5), ("out", 3)):
            times, ids = together.spikes[name]
            mine = ids // size == copy
            assert np.array_equal(times[mine], alone.spikes[name][0])
            assert np.array_equal(ids[mine] % size, alone.spikes[name][1])
    counts = copy_counts(together, "out", 3, 4)
    assert counts.shape == (4, 3) and counts.sum() == together.spikes["out"][0].size


def test_spike_time_sources_repeat_in_every_copy():
    batched = replicate(_net([1, 3], [0, 5]), 3)
    source = batched.populations["inp"].source
    assert source.ids.tolist() == [0, 5, 6, 11, 12, 17]
    assert source.times.tolist() == [1, 3, 1, 3, 1, 3]


def test_lag_is_the_shortest_delay_path():
    assert feedforward_lag(_net(), "inp", "hid") == 2
    assert feedforward_lag(_net(), "inp", "out") == 3
    with pytest.raises(NetworkError, match="not reachable"):
        feedforward_lag(_net(), "out", "inp")


def test_bad_source_name_is_an_error():
    with pytest.raises(NetworkError, match="not a source population"):
        replicate(_net(), 2, sources={"hid": ([0], [0])})
