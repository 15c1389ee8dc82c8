"""The float ``stdp`` rule against an independent plain-numpy model of its stated equations
(models/stdp.py, docs/learning.md), and against traces computed by hand.

The numpy model is written from the docstring, not from the kernels: dense per-synapse arrays, one
Python loop over steps. It sums each neuron's input in the order the reference documents (a slot's
contributions in delivery order: frozen synapses the step after their spike, plastic synapses at
their arrival step before that step's frozen delivery), so spikes and weights agree to the last
bit. (Each population here has one frozen projection in, so the order between frozen projections
does not arise.)
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import LIF, Network, NetworkError, expand, fixed_probability, poisson, spike_times
from snnc.ir.errors import UnsupportedOnTarget
from snnc.models.stdp import Stdp


def _numpy_run(net: Network, steps: int):
    """Plain-numpy LIF (exact integrator, reset to zero) + the stdp rule of models/stdp.py."""
    dt = net.dt
    neurons = {p.name: p for p in net.neuron_populations()}
    v = {n: np.zeros(p.size) for n, p in neurons.items()}
    i = {n: np.zeros(p.size) for n, p in neurons.items()}
    spiked = {n: np.zeros((steps, p.size), bool) for n, p in net.populations.items()}
    for p in net.source_populations():
        from snnc.ir import source_spikes
        t, ids = source_spikes(p.source, p.size, steps, dt)
        spiked[p.name][t, ids] = True
    projections = []
    for proj in net.projections:
        syn = expand(net, proj)
        projections.append(dict(proj=proj, pre=syn.pre.astype(int), post=syn.post.astype(int),
                                w=np.asarray(syn.weight, float).copy(),
                                d=np.asarray(syn.delay, int), x_pre=np.zeros(len(syn.pre)),
                                x_post=np.zeros(net.populations[proj.post].size)))
    pending = {}  # step -> per population input summed so far (a ring buffer's slot)

    def slot(step):
        return pending.setdefault(step, {n: np.zeros(p.size) for n, p in neurons.items()})

    for t in range(steps):
        for pr in projections:  # plastic synapses deliver at arrival: by delay, pre id, synapse
            if pr["proj"].plasticity is None:
                continue
            for d in range(1, int(pr["d"].max()) + 1):
                if t - d < 0:
                    break
                for pre_id in np.flatnonzero(spiked[pr["proj"].pre][t - d]):
                    for s in np.flatnonzero((pr["pre"] == pre_id) & (pr["d"] == d)):
                        slot(t)[pr["proj"].post][pr["post"][s]] += pr["w"][s]
        if t > 0:  # frozen synapses deliver the step after their spike: by id, delay, synapse
            for pr in projections:
                if pr["proj"].plasticity is not None:
                    continue
                for pre_id in np.flatnonzero(spiked[pr["proj"].pre][t - 1]):
                    for d in np.unique(pr["d"]):
                        for s in np.flatnonzero((pr["pre"] == pre_id) & (pr["d"] == d)):
                            slot(t - 1 + d)[pr["proj"].post][pr["post"][s]] += pr["w"][s]
        x = slot(t)
        for name, pop in neurons.items():
            n = pop.neuron
            a_m, a_s = np.exp(-dt / n.tau_mem), np.exp(-dt / n.tau_syn)
            i[name] = a_s * i[name] + x[name]
            v[name] = n.v_leak + a_m * (v[name] - n.v_leak) + i[name] + n.bias
            fire = v[name] > n.v_th
            v[name][fire] = n.v_reset
            spiked[name][t] = fire
        for pr in projections:
            rule = pr["proj"].plasticity
            if rule is None:
                continue
            pr["x_pre"] *= np.exp(-dt / rule.tau_plus)
            pr["x_post"] *= np.exp(-dt / rule.tau_minus)
            w = pr["w"]
            touched = np.zeros(w.size, bool)
            arriving = np.array([t - d >= 0 and spiked[pr["proj"].pre][t - d, p]
                                 for p, d in zip(pr["pre"], pr["d"])], bool)
            for s in np.flatnonzero(arriving):
                pr["x_pre"][s] = 1.0 if rule.pairing == "nearest" else pr["x_pre"][s] + 1.0
                dep = rule.a_minus * pr["x_post"][pr["post"][s]]
                w[s] -= dep * (w[s] - rule.w_min) if rule.weight_dependence == "multiplicative" else dep
                touched[s] = True
            for j in np.flatnonzero(spiked[pr["proj"].post][t]):
                pr["x_post"][j] = 1.0 if rule.pairing == "nearest" else pr["x_post"][j] + 1.0
                for s in np.flatnonzero(pr["post"] == j):
                    pot = rule.a_plus * pr["x_pre"][s]
                    w[s] += pot * (rule.w_max - w[s]) if rule.weight_dependence == "multiplicative" else pot
                    touched[s] = True
            w[touched] = np.clip(w[touched], rule.w_min, rule.w_max)
    return spiked, {pr["proj"].name: pr["w"] for pr in projections if pr["proj"].plasticity}


def _random_net(seed: int, dependence: str, pairing: str) -> Network:
    rng = np.random.default_rng(seed)
    net = Network("stdp", dt=1.0)
    inp = net.source("inp", 30, poisson(float(rng.uniform(20, 60)), seed=seed))
    hid = net.population("hid", 6, LIF(tau_mem=10.0, tau_syn=3.0, v_th=1.0))
    out = net.population("out", 3, LIF(tau_mem=15.0, tau_syn=2.0, v_th=0.8))
    rule = Stdp(a_plus=0.03, a_minus=0.033, w_min=0.0, w_max=0.5, tau_plus=15.0, tau_minus=25.0,
                weight_dependence=dependence, pairing=pairing)
    net.connect(inp, hid, fixed_probability(0.6, seed=seed + 1),
                weight={"uniform": [0.0, 0.5], "seed": seed + 2},
                delay={"uniform": [1, 4], "seed": seed + 3}, plasticity=rule)
    net.connect(hid, out, weight=0.3, delay=2, plasticity=rule)          # plastic, neuron pre
    net.connect(inp, out, fixed_probability(0.2, seed=seed + 4), weight=0.1)  # frozen alongside
    net.connect(out, hid, weight=-0.2, delay=3)                          # frozen recurrent
    return net


@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
@pytest.mark.parametrize("pairing", ["all", "nearest"])
@pytest.mark.parametrize("seed", [1, 2])
def test_float_stdp_equals_numpy_model_of_the_equations(dependence, pairing, seed):
    net = _random_net(seed, dependence, pairing)
    steps = 300
    record = simulate(net, steps, "float",
                      record_weights={p.name: 0 for p in net.projections if p.plasticity})
    spiked, weights = _numpy_run(net, steps)
    for name in ("hid", "out"):
        times, ids = np.nonzero(spiked[name])
        got_t, got_i = record.spikes[name]
        assert got_t.size > 20  # the rule is exercised: neurons fire
        np.testing.assert_array_equal(got_t, times)
        np.testing.assert_array_equal(got_i, ids)
    for name, expected in weights.items():
        got = record.weights[name].weights
        assert not np.array_equal(got, expand(net, net.projection(name)).weight * np.ones_like(got))
        np.testing.assert_array_equal(got, expected)  # to the last bit: same operation order


def test_hand_computed_pair():
    """One synapse, delay 2: pre spike sent at 0 arrives at 2; post fires at 5 (forced by a strong
    frozen input sent at 4). x_pre = e^{-3/tau+} at 5: w = w0 + a_plus e^{-3/20}; then a second pre
    spike sent at 7 arrives at 9 and depresses by a_minus e^{-4/20} (x_post = 1 at 5)."""
    net = Network("pair", dt=1.0)
    pre = net.source("pre", 1, spike_times(times=[0, 7], ids=[0, 0]))
    kick = net.source("kick", 1, spike_times(times=[4], ids=[0]))
    post = net.population("post", 1, LIF(tau_mem=20.0, tau_syn=0.0, v_th=1.0))
    rule = Stdp(a_plus=0.1, a_minus=0.05, w_max=1.0)
    net.connect(pre, post, weight=0.2, delay=2, plasticity=rule, name="p")
    net.connect(kick, post, weight=5.0, delay=1)
    record = simulate(net, 12, "float", record_weights={"p": 1})
    np.testing.assert_array_equal(record.spikes["post"][0], [5])
    history = record.weights["p"].history[:, 0]
    w5 = 0.2 + 0.1 * np.exp(-1 / 20) ** 3
    assert history[4] == 0.2 and history[5] == pytest.approx(w5, abs=1e-15)
    assert history[9] == pytest.approx(w5 - 0.05 * np.exp(-1 / 20) ** 4, abs=1e-15)
    assert record.weights["p"].weights[0] == history[-1]
    np.testing.assert_array_equal(record.weights["p"].steps, np.arange(12))


def test_weights_are_clipped_and_the_changed_weight_acts_next_step():
    """a_plus larger than the range: one post spike takes w to w_max exactly."""
    net = Network("clip", dt=1.0)
    pre = net.source("pre", 1, spike_times(times=[0, 3], ids=[0, 0]))
    kick = net.source("kick", 1, spike_times(times=[0], ids=[0]))
    post = net.population("post", 1, LIF(tau_mem=1e3, tau_syn=0.0, v_th=1.0))
    net.connect(pre, post, weight=0.1, delay=1, plasticity=Stdp(a_plus=10.0, w_max=0.7), name="p")
    net.connect(kick, post, weight=2.0, delay=1)
    record = simulate(net, 6, "float", record_v=["post"], record_weights={"p": 1})
    np.testing.assert_array_equal(record.spikes["post"][0], [1])
    assert record.weights["p"].history[1, 0] == 0.7  # potentiated at 1, clipped
    # the second pre spike (sent 3) arrives at 4 with the new weight (no depression yet: x_post
    # decays but the arrival's depression is applied after the input was summed)
    assert record.voltages["post"][4, 0] == pytest.approx(0.7, abs=1e-12)


def test_refusals_are_one_line():
    net = Network("bad", dt=1.0)
    pre = net.source("pre", 2, spike_times(times=[0], ids=[0]))
    post = net.population("post", 1, LIF(tau_mem=20.0, tau_syn=5.0, v_th=1.0))
    net.connect(pre, post, weight=2.0, plasticity=Stdp(w_max=1.0), name="p")
    with pytest.raises(UnsupportedOnTarget, match=r"outside the rule's \[w_min, w_max\]"):
        simulate(net, 5, "float")
    with pytest.raises(NetworkError, match="no such projection"):
        simulate(net, 5, "float", record_weights={"nope": 0})
    with pytest.raises(ValueError, match="w_max"):
        Stdp(w_min=1.0, w_max=0.5)


def test_yaml_round_trip_keeps_the_rule(tmp_path):
    net = _random_net(3, "multiplicative", "nearest")
    net.save(str(tmp_path / "net.yaml"))
    from snnc.ir import load

    again = load(str(tmp_path / "net.yaml"))
    assert again.projections[0].plasticity == net.projections[0].plasticity
    assert again.projections[2].plasticity is None
