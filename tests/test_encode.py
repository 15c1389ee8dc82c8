"""snnc.encode: rate, latency and explicit spike codes against hand-computed expectations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc import encode
from snnc.ir import LIF, Network, NetworkError


def test_latency_linear_hand_computed():
    # steps 11: t = round((1 - x) * 10); 1.0 -> 0, 0.5 -> 5, 0.25 -> 8 (7.5 to even), 0 silent
    spikes = encode.latency([0.5, 1.0, 0.0, 0.25], 11)
    times, ids = spikes
    assert ids.tolist() == [1, 0, 3]
    assert times.tolist() == [0, 5, 8]
    assert times.dtype == np.int32 and ids.dtype == np.int32


def test_latency_log_hand_computed():
    # t = floor(5 * ln(x / (x - 0.01))): x=1 -> floor(0.0503) = 0; x=0.02 -> floor(5 ln 2) = 3
    times, ids = encode.latency([0.02, 1.0, 0.005], 10, method="log")
    assert list(zip(times.tolist(), ids.tolist())) == [(0, 1), (3, 0)]


def test_latency_log_normalized_puts_latest_spike_last():
    x = np.array([0.02, 0.5, 1.0])
    spikes = encode.latency(x, 20, method="log", normalize=True)
    assert spikes.times.max() == 19
    assert dict(zip(spikes.ids.tolist(), spikes.times.tolist()))[0] == 19


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.integers(1, 50),
       st.sampled_from(["linear", "log"]))
def test_latency_is_monotone_and_one_spike_at_most(values, steps, method):
    spikes = encode.latency(values, steps, method=method)
    assert np.bincount(spikes.ids, minlength=len(values)).max(initial=0) <= 1
    first = np.full(len(values), steps)  # silent: later than any spike
    first[spikes.ids] = spikes.times
    order = np.argsort(values, kind="stable")
    # a larger value never spikes later
    assert np.all(np.diff(first[order]) <= 0)
    assert np.all((spikes.times >= 0) & (spikes.times < steps))


def test_rate_mean_count_within_binomial_bounds():
    p, steps, n = 0.3, 200, 500
    spikes = encode.rate(np.full(n, p), steps, seed=1)
    counts = spikes.counts()
    # the total is Binomial(steps * n, p): within 5 sigma of its mean
    mean, sigma = steps * n * p, np.sqrt(steps * n * p * (1 - p))
    assert abs(counts.sum() - mean) < 5 * sigma
    # each neuron's count is Binomial(steps, p); its sample variance is close to steps p (1-p)
    assert abs(counts.var() / (steps * p * (1 - p)) - 1) < 0.25


def test_rate_max_rate_scales_probability_and_extremes_are_exact():
    # 500 Hz at dt = 1 ms is p = 0.5 * value; value 0 never spikes, value 1 at 1000 Hz always spikes
    spikes = encode.rate([0.0, 1.0, 1.0], 400, max_rate_hz=500.0, seed=3)
    counts = spikes.counts()
    assert counts[0] == 0
    assert abs(counts[1:].sum() - 400) < 5 * np.sqrt(800 * 0.25)
    assert encode.rate([1.0], 7, max_rate_hz=1000.0).counts().tolist() == [7]
    with pytest.raises(NetworkError, match="max_rate_hz"):
        encode.rate([1.0], 5, max_rate_hz=2000.0)


def test_rate_is_deterministic_per_seed_and_sorted():
    a = encode.rate(np.linspace(0, 1, 40), 30, seed=5)
    b = encode.rate(np.linspace(0, 1, 40), 30, seed=5)
    c = encode.rate(np.linspace(0, 1, 40), 30, seed=6)
    assert np.array_equal(a.times, b.times) and np.array_equal(a.ids, b.ids)
    assert not np.array_equal(a.raster(), c.raster())
    key = a.times.astype(np.int64) * 1000 + a.ids
    assert np.all(np.diff(key) > 0)


def test_shapes_flatten_in_c_order():
    image = np.zeros((2, 3, 4))
    image[1, 2, 3] = 1.0  # flat index (1 * 3 + 2) * 4 + 3 = 23
    spikes = encode.latency(image, 5)
    assert spikes.size == 24 and spikes.ids.tolist() == [23] and spikes.times.tolist() == [0]


def test_explicit_round_trips_a_raster():
    raster = np.zeros((6, 2, 2), dtype=int)
    raster[0, 1, 0] = raster[3, 0, 1] = raster[3, 0, 0] = 1
    spikes = encode.explicit(raster)
    assert list(zip(spikes.times.tolist(), spikes.ids.tolist())) == [(0, 2), (3, 0), (3, 1)]
    assert np.array_equal(spikes.raster(), raster.reshape(6, 4) != 0)


def test_source_plugs_into_a_network():
    spikes = encode.latency([1.0, 0.5], 3)
    net = Network("enc")
    net.source("inp", spikes.size, spikes.source())
    net.population("out", 1, LIF(tau_mem=10.0))
    net.connect("inp", "out", weight=0.5)
    source = net.populations["inp"].source
    assert source.times.tolist() == [0, 1] and source.ids.tolist() == [0, 1]


def test_bad_arguments_are_snnc_errors():
    with pytest.raises(NetworkError, match="steps"):
        encode.rate([0.5], 0)
    with pytest.raises(NetworkError, match="finite"):
        encode.latency([np.nan], 4)
    with pytest.raises(NetworkError, match="method"):
        encode.latency([0.5], 4, method="cubic")
