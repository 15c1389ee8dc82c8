"""The reference engine's one-thread and two-thread loops compute the same run.

Small programs run on one thread (a single generated function), big ones in a parallel region of
two parts (``backends/reference/engine.py``, ``use_threads``). Both must give the same spikes, the
same voltages bit for bit, and the same learned weights, for every model in every numerics it has:
the choice is a speed choice only. Each network here has neurons in both parts, recurrent delay-1
synapses (a part's deliveries land in the slot the other part is about to read) and, where the
model has one, a graded output feeding a later layer.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.backends.reference.engine import PARALLEL_MIN_NEURONS, use_threads
from snnc.backends.reference.program import lower
from snnc.ir import Network, Stdp, all_to_all, fixed_probability, poisson
from snnc.models import REGISTRY

STEPS = 80
GRADED_ONLY = {"li", "loihi_li", "spinnaker_li", "ltc"}  # models that never spike


def _net(model, numerics: str, features: frozenset[str]) -> Network:
    net = Network(f"threads_{model.kind}", dt=1.0)
    net.source("inp", 12, poisson(rate_hz=300.0, seed=5))
    size = 5 if model.kind == "ltc" else 30  # ltc's example is a coupled layer of 5 cells
    net.population("a", size, model.example(features))
    net.population("b", size, model.example(features))
    weight = 60 if model.integer_weights else 0.35
    if model.kind == "spinnaker_lif":
        weight = 9000
    net.connect("inp", "a", fixed_probability(0.5, seed=1), weight=weight, delay=1)
    net.connect("a", "b", fixed_probability(0.3, seed=2), weight=weight, delay=1)
    net.connect("b", "a", fixed_probability(0.3, seed=3), weight=-weight / 2, delay=1)
    net.connect("b", "b", fixed_probability(0.2, seed=4), weight=weight / 3, delay=2)
    return net


def _cases():
    for model in REGISTRY:
        for numerics in model.steps:
            for feature in (None, *model.features):
                yield pytest.param(model.kind, numerics, feature,
                                   id=f"{model.kind}-{numerics}-{feature or 'plain'}")


def _both(monkeypatch, net: Network, numerics: str, **options):
    runs = []
    for forced in ("0", "1"):
        monkeypatch.setenv("SNNC_ENGINE_PARALLEL", forced)
        runs.append(simulate(net, STEPS, numerics, **options))
    return runs


def _assert_same(one, two) -> None:
    assert one.total == two.total
    assert set(one.spikes) == set(two.spikes)
    for name in one.spikes:
        for a, b in zip(one.spikes[name], two.spikes[name]):
            np.testing.assert_array_equal(a, b)
    assert set(one.voltages) == set(two.voltages)
    for name in one.voltages:  # bit for bit, floats included
        assert one.voltages[name].tobytes() == two.voltages[name].tobytes()


@pytest.mark.parametrize("kind, numerics, feature", list(_cases()))
def test_one_thread_and_two_threads_agree(monkeypatch, kind, numerics, feature):
    model = REGISTRY.get(kind)
    features = frozenset() if feature is None else frozenset({feature})
    net = _net(model, numerics, features)
    one, two = _both(monkeypatch, net, numerics, record_v=("a", "b"))
    assert one.total > 0 or kind in GRADED_ONLY  # the network is active
    _assert_same(one, two)


def test_plastic_weights_agree(monkeypatch):
    net = Network("threads_stdp", dt=1.0)
    net.source("inp", 20, poisson(rate_hz=40.0, seed=7))
    net.population("post", 20, REGISTRY.get("lif").example(frozenset()))
    net.connect("inp", "post", all_to_all(), weight=0.3, delay=1,
                plasticity=Stdp(a_plus=0.01, a_minus=0.012, w_max=1.0), name="ab")
    net.connect("post", "post", fixed_probability(0.2, seed=1), weight=0.1, delay=1)
    one, two = _both(monkeypatch, net, "float", record_weights={"ab": 10})
    _assert_same(one, two)
    wa, wb = one.weights["ab"], two.weights["ab"]
    assert wa.weights.tobytes() == wb.weights.tobytes()
    assert wa.history.tobytes() == wb.history.tobytes()
    assert not np.array_equal(wa.weights, np.full_like(wa.weights, 0.3))  # it learned


def test_big_programs_use_two_threads_small_ones_one(monkeypatch):
    monkeypatch.delenv("SNNC_ENGINE_PARALLEL", raising=False)
    import numba

    small, big = Network("small"), Network("big")
    small.population("p", 10, REGISTRY.get("lif").example(frozenset()))
    big.population("p", PARALLEL_MIN_NEURONS, REGISTRY.get("lif").example(frozenset()))
    assert not use_threads(lower(small, 1, "float"))
    assert use_threads(lower(big, 1, "float")) == (numba.config.NUMBA_NUM_THREADS > 1)


@pytest.mark.parametrize("size, buckets", [(1, 1), (5000, 3), (200_000, 70_000)])
def test_the_small_csr_sort_equals_the_counting_sort(size, buckets):
    """program._stable_order sorts small arrays with numpy and large ones with a counting sort:
    both are stable, so the CSR (and every float sum's order) is the same either way."""
    from snnc.backends.reference.program import _counting_order

    keys = np.random.default_rng(size).integers(0, buckets, size)
    np.testing.assert_array_equal(_counting_order(keys, buckets), np.argsort(keys, kind="stable"))
