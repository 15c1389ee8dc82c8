"""Every learning rule x every target: the run where the registry says it runs, a one-line
refusal naming the projection where it does not (models/support.py ``check_plasticity``).

Rules and targets come from the registries, so a new rule is swept with no edit here. Where the
float rule runs on a chip, ``snnc.verify`` must find the chip's spikes AND final weights identical
to the reference's in that chip's numerics.
"""

from __future__ import annotations

import numpy as np
import pytest

import snnc
from snnc.ir import LIF, Network, UnsupportedOnTarget, fixed_probability, poisson
from snnc.models import RULES
from snnc.models.support import check_plasticity
from snnc.models.targets import TARGETS

PAIRS = [(rule.name, target) for rule in RULES for target in TARGETS]


def _float_network(rule) -> Network:
    """Poisson inputs driving LIF neurons through the rule (weights inside its bounds)."""
    net = Network(f"sweep-{rule.rule}", dt=1.0)
    inp = net.source("inp", 40, poisson(40.0, seed=3))
    out = net.population("out", 8, LIF(tau_mem=10.0, tau_syn=2.0, v_th=1.0))
    low, high = rule.w_min, rule.w_max
    net.connect(inp, out, fixed_probability(0.5, seed=4), name="learnt", delay=1,
                weight={"uniform": [low + 0.3 * (high - low), low + 0.6 * (high - low)],
                        "seed": 5},
                plasticity=rule)
    return net


def _plastic_projection(rule):
    return snnc.Projection(name="p", pre="a", post="b", connect=snnc.AllToAll(), weight=1,
                           plasticity=rule)


@pytest.mark.parametrize("name, target", PAIRS)
def test_every_rule_on_every_target_runs_or_is_refused(name, target):
    rule = RULES.get(name)
    assert rule.example is not None, f"rule {name!r} has no example (LearningRule.example)"
    chip = TARGETS[target]
    projection = _plastic_projection(rule.example())
    runs = (not chip.quantizes
            or (rule.native_numerics is None and chip.numerics in rule.quantizers)
            or (rule.native_numerics == chip.numerics and target in rule.lowerings))
    if not runs:
        with pytest.raises(UnsupportedOnTarget) as refused:
            check_plasticity(0, projection, chip)
        line = str(refused.value)
        assert "\n" not in line and "'p'" in line and name in line and target in line
        return
    check_plasticity(0, projection, chip)  # no refusal
    if rule.native_numerics is not None:
        return  # a native rule is reached through the float rule's quantizer (below)
    net = _float_network(rule.example())
    if target == "reference":
        result = snnc.run(net, "reference", 150, record_weights=["learnt"])
        weights = result.weights["learnt"]
        assert result.spikes["out"][0].size > 0
        assert not np.array_equal(weights.weights, snnc.expand(net, net.projection("learnt")).weight)
        return
    check = snnc.verify(net, target, 150)
    assert check, str(check)
    assert check.synapses > 0 and check.spikes > 0
