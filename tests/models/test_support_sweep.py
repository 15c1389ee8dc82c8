"""Every registered model x every target x every feature: the run, or the one-line refusal.

A target that the registry says runs a (model, feature) pair must run it bit-exactly against the
reference in that target's numerics; one that refuses must say so in one line naming the
population, the model, the feature and the target. Both come from ``snnc.models`` alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends import first_divergence, get_backend
from snnc.backends.reference import simulate
from snnc.compiler import compile_network
from snnc.ir import Network, UnsupportedOnTarget, all_to_all, poisson
from snnc.models import FEATURES, REGISTRY
from snnc.models.support import check_network, support, used_features
from snnc.models.targets import TARGETS

STEPS = 60


def _net(model, features: frozenset[str]) -> Network:
    neuron = model.example(features)
    net = Network(f"sweep_{model.kind}", dt=1.0)
    net.source("inp", 8, poisson(rate_hz=250.0, seed=3))
    net.population("pop", 5, neuron)
    weight = 60 if model.integer_weights else 0.35
    if model.kind == "spinnaker_lif":
        weight = 9000
    net.connect("inp", "pop", all_to_all(), weight=weight, delay=1)
    if "graded_output" in features:  # a non-spiking population that feeds a later layer
        net.population("next", 2, REGISTRY.get("lif").example(frozenset()))
        net.connect("pop", "next", all_to_all(), weight=0.5, delay=1)
    return net


def _cases():
    for model in REGISTRY:
        for target in TARGETS.values():
            for feature in (None, *model.features):
                yield pytest.param(model.kind, target.name, feature,
                                   id=f"{model.kind}-{target.name}-{feature or 'plain'}")


@pytest.mark.parametrize("kind, target_name, feature", list(_cases()))
def test_every_model_target_feature(kind, target_name, feature):
    model, target = REGISTRY.get(kind), TARGETS[target_name]
    features = frozenset() if feature is None else frozenset({feature})
    net = _net(model, features)
    population = net.populations["pop"]
    assert set(used_features(population, net, model)) >= features  # the example uses the feature
    verdict = support(model, target)
    runs = verdict.supported and all(verdict.features.get(f, False) for f in features)
    if not runs:
        with pytest.raises(UnsupportedOnTarget) as refusal:
            check_network(net, target)
        message = str(refusal.value)
        assert "\n" not in message
        assert "population 'pop'" in message
        assert f"'{kind}'" in message or f"({kind})" in message
        assert target_name in message
        if verdict.supported:  # the model runs, the feature does not: the feature is named
            assert FEATURES[feature] in message
        return
    check_network(net, target)
    if not target.quantizes:
        record = simulate(net, STEPS, "float")
        assert record.spikes["pop"][0].size or not model.spiking or feature == "no_leak"
        return
    build = compile_network(net, target.name)
    record_v = [] if model.spiking else ["pop"]
    got = get_backend(target.name).run(build, STEPS, record_v=record_v)
    expected = simulate(build.network, STEPS, target.numerics, record_v=record_v)
    compared = [name for name in ("pop", "next") if name in net.populations]
    assert first_divergence(expected, got, compared) is None
    if model.spiking:
        assert expected.spikes["pop"][0].size > 0  # the case exercises spiking, not silence
    else:  # a non-spiking population: its voltage, bit for bit, and it moves
        assert np.array_equal(got.voltages["pop"], expected.voltages["pop"])
        assert np.any(expected.voltages["pop"])


def test_support_json_shape():
    from snnc.models.support import support_matrix

    matrix = support_matrix()
    assert [t["name"] for t in matrix["targets"]] == list(TARGETS)
    assert [m["kind"] for m in matrix["models"]] == list(REGISTRY.kinds)
    for target in TARGETS:
        for kind in REGISTRY.kinds:
            cell = matrix["support"][target][kind]
            assert set(cell) >= {"supported", "features", "reason"}
            assert isinstance(cell["supported"], bool)
            assert all(isinstance(v, bool) for v in cell["features"].values())
            assert cell["supported"] or cell["reason"]
