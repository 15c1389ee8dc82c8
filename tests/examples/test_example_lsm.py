"""examples/liquid_state_machine: well above chance (1/3) in float and on loihi-sim."""

import numpy as np
import pytest
from example_loader import load_example

from snnc.backends.reference import simulate
from snnc.backends.spikes import SpikeRecord, first_divergence

lsm = load_example("liquid_state_machine")
FLOOR = 0.75  # test accuracy floor at the quick size (chance 0.33; full: 0.98 float, 0.99 Loihi)


@pytest.fixture(scope="module")
def results():
    return lsm.evaluate(lsm.Config.quick(), ["reference", "loihi-sim"])


def test_ridge_readout_separates_a_linearly_separable_toy():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    x = np.eye(3)[labels] * 3 + rng.normal(0, 0.3, (60, 3))
    weights, scaling = lsm.ridge_fit(x, labels)
    assert (lsm.ridge_predict(x, weights, scaling) == labels).all()


def test_states_are_filtered_counts():
    # one neuron of trial 0 spikes at steps 0 and 2; tau 1 step: state at step 3 = e^-3 + e^-1
    record = SpikeRecord.from_events(4, 1.0, {"exc": ([0, 2], [0, 0])})
    x = lsm.states(record, {"exc": 1}, 1, 4, samples=1, tau=1.0)
    assert x.shape == (1, 1) and x[0, 0] == pytest.approx(np.exp(-3) + np.exp(-1))


@pytest.mark.parametrize("target", ["reference", "loihi-sim"])
def test_accuracy_well_above_chance(results, target):
    assert results[target]["test"] >= FLOOR
    assert 5 < results[target]["rate_hz"] < 150  # an active, not saturated, reservoir


def test_loihi_sim_equals_reference_loihi_numerics(results):
    config = lsm.Config.quick()
    batched, _, _, _ = lsm.batched_reservoir(config)
    expected = simulate(batched, config.steps, "loihi")
    assert first_divergence(expected, results["loihi-sim"]["record"]) is None
    assert expected.total > 0
