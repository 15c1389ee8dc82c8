"""examples/stdp_song2000 and examples/stdp_pattern: the published qualitative results, as numbers.

- Song, Miller & Abbott (2000): additive STDP with A-/A+ = 1.05 splits uniformly drawn weights
  into two groups, near 0 and near w_max, with few in between, and brings the neuron's rate down.
- Masquelier, Guyonneau & Thorpe (2008): the neuron ends up firing inside the repeated pattern and
  (almost) never outside it, earlier in the pattern than at first, and the weights that end high
  belong to afferents of the pattern.
"""

import numpy as np
import pytest
from example_loader import load_example

song = load_example("stdp_song2000")
pattern = load_example("stdp_pattern")


@pytest.fixture(scope="module")
def song_float():
    return song.simulate(song.network())


def test_song_weights_end_bimodal(song_float):
    final = song_float.final  # in units of w_max
    assert final.min() >= 0.0 and final.max() <= 1.0
    counts = np.histogram(final, bins=10, range=(0.0, 1.0))[0]
    interior = counts[2:8]  # 0.2 .. 0.8
    # two modes, one at each bound: both end bins outnumber every interior bin ...
    assert counts[0] > interior.max() and counts[-1] > interior.max(), counts
    # ... and most synapses sit near a bound, few in the middle third
    share = song.fractions(final)
    assert share["low"] + share["high"] > 0.7, share
    assert share["high"] > 0.04, share
    assert share["middle"] < 0.1, share


def test_song_started_unimodal_and_rate_regulated(song_float):
    first = song_float.history[0]  # 2 s in: still the uniform draw, barely moved
    assert song.fractions(first)["middle"] > 0.25
    # the neuron's rate falls as depression wins for uncorrelated inputs, then holds
    start, end = song_float.rate_hz[0], song_float.rate_hz[-10:].mean()
    assert end < start / 3, (start, end)
    assert end > 1.0  # still firing: the strong synapses keep it driven


def test_song_psp_peak_matches_lif_closed_form():
    # a delta input w into i[t] = a_s i + x, v[t] = a_m v + i peaks at
    # w * max_t sum_{k<=t} a_m^(t-k) a_s^k = w * max_t (a_m^(t+1) - a_s^(t+1)) / (a_m - a_s)
    a_m, a_s = np.exp(-song.DT / 20.0), np.exp(-song.DT / 5.0)
    t = np.arange(2000)
    closed = song.W_MAX * np.max((a_m ** (t + 1) - a_s ** (t + 1)) / (a_m - a_s))
    assert song.psp_peak() == pytest.approx(closed, rel=1e-12)


def test_poisson_trains_rate_and_independence():
    rng = np.random.default_rng(5)
    steps = 200_000
    times, ids = song.poisson_trains(np.array([10.0, 40.0]), steps, 0.25, rng)
    for neuron, rate in enumerate((10.0, 40.0)):
        expected = rate * steps * 0.25 / 1000.0
        got = np.count_nonzero(ids == neuron)
        assert abs(got - expected) < 5 * np.sqrt(expected)
        train = np.sort(times[ids == neuron])
        assert np.all(np.diff(train) > 0) and train[-1] < steps  # one spike per step at most


@pytest.fixture(scope="module")
def learned():
    return pattern.simulate(pattern.make_inputs(duration_s=60.0, seed=pattern.SEED))


def test_pattern_inputs_hide_the_pattern():
    inputs = pattern.make_inputs(duration_s=20.0, seed=3)
    window = inputs.window
    # a quarter of the windows carry the pattern, never two in a row
    share = inputs.onsets.size / (inputs.steps // window)
    assert 0.18 < share < 0.32
    assert np.all(np.diff(inputs.onsets) >= 2 * window)
    # every presentation is the same spikes in afferents 0..IN_PATTERN-1 (noise spikes aside)
    def presentation(onset):
        chosen = (inputs.times >= onset) & (inputs.times < onset + window) \
            & (inputs.ids < pattern.IN_PATTERN)
        return set(zip(inputs.times[chosen] - onset, inputs.ids[chosen]))
    first, second = presentation(inputs.onsets[0]), presentation(inputs.onsets[1])
    assert len(first & second) > 0.7 * len(first)
    # rates inside and outside the pattern windows are equal to within noise
    inside = np.zeros(inputs.steps, bool)
    for onset in inputs.onsets:
        inside[onset:onset + window] = True
    rate_in = inside[inputs.times].sum() / inside.sum()
    rate_out = (~inside[inputs.times]).sum() / (~inside).sum()
    assert rate_in == pytest.approx(rate_out, rel=0.05)


def test_pattern_neuron_ends_selective(learned):
    late = pattern.selectivity(learned, 50.0, 60.0)
    assert late["hits"] > 0.6, late
    assert late["rate_in_hz"] > 20 * max(late["rate_out_hz"], 0.5), late  # far more inside


def test_pattern_latency_decreases(learned):
    early = pattern.selectivity(learned, 0.0, 10.0)
    late = pattern.selectivity(learned, 50.0, 60.0)
    assert early["rate_out_hz"] > 5.0  # at first it fires anywhere
    assert late["latency_ms"] < early["latency_ms"] / 2, (early, late)
    assert late["latency_ms"] < 15.0


def test_pattern_weights_concentrate_on_pattern_afferents(learned):
    high = learned.weights > 0.9
    assert high[:pattern.IN_PATTERN].sum() > 10 * max(high[pattern.IN_PATTERN:].sum(), 1)
    assert learned.weights[pattern.IN_PATTERN:].mean() < pattern.W_INIT / 1.5
