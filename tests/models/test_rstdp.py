"""The float ``rstdp`` rule (models/rstdp.py) against a plain-numpy model of its equations, and
Izhikevich's (2007) distal-reward effect: only the synapse whose pairings precede the rewards grows.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import LIF, Network, NetworkError, expand, fixed_probability, poisson, source_spikes
from snnc.models.rstdp import RStdp


def _numpy_rstdp(net: Network, steps: int, name: str):
    """One plastic projection from a source into a LIF population whose only other input is a
    frozen drive with delay 1 (so every input of a step is summed plastic-first, as documented)."""
    proj = net.projection(name)
    rule = proj.plasticity
    dt = net.dt
    spiked = {p.name: np.zeros((steps, p.size), bool) for p in net.populations.values()}
    for p in net.source_populations():
        t, i = source_spikes(p.source, p.size, steps, dt)
        spiked[p.name][t, i] = True
    syn = expand(net, proj)
    pre, post, d = syn.pre.astype(int), syn.post.astype(int), np.asarray(syn.delay, int)
    w = np.asarray(syn.weight, float).copy()
    drive = next(p for p in net.projections if p.plasticity is None)
    dsyn = expand(net, drive)
    pop = net.populations[proj.post]
    n = pop.neuron
    v, cur = np.zeros(pop.size), np.zeros(pop.size)
    x_pre, x_post, c, level = np.zeros(w.size), np.zeros(pop.size), np.zeros(w.size), 0.0
    for t in range(steps):
        x = np.zeros(pop.size)
        for delay in range(1, int(d.max()) + 1):  # plastic arrivals: delay, pre id, synapse
            if t - delay < 0:
                break
            for i in np.flatnonzero(spiked[proj.pre][t - delay]):
                for s in np.flatnonzero((pre == i) & (d == delay)):
                    x[post[s]] += w[s]
        if t > 0:
            for i in np.flatnonzero(spiked[drive.pre][t - 1]):
                for s in np.flatnonzero(dsyn.pre == i):
                    x[dsyn.post[s]] += dsyn.weight[s]
        cur = np.exp(-dt / n.tau_syn) * cur + x
        v = n.v_leak + np.exp(-dt / n.tau_mem) * (v - n.v_leak) + cur + n.bias
        fire = v > n.v_th
        v[fire] = n.v_reset
        spiked[proj.post][t] = fire
        x_pre *= np.exp(-dt / rule.tau_plus)
        x_post *= np.exp(-dt / rule.tau_minus)
        c *= np.exp(-dt / rule.tau_c)
        level *= np.exp(-dt / rule.tau_d)
        for s in range(w.size):
            if t - d[s] >= 0 and spiked[proj.pre][t - d[s], pre[s]]:
                x_pre[s] += 1.0
                c[s] -= rule.a_minus * x_post[post[s]]
        for j in np.flatnonzero(fire):
            x_post[j] += 1.0
            for s in np.flatnonzero(post == j):
                c[s] += rule.a_plus * x_pre[s]
        level += spiked[rule.reward][t].sum()
        w = np.minimum(np.maximum(w + rule.learning_rate * level * c, rule.w_min), rule.w_max)
    return spiked[proj.post], w


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_float_rstdp_equals_numpy_model(seed):
    net = Network("rstdp", dt=1.0)
    inp = net.source("inp", 25, poisson(40.0, seed=seed))
    drive = net.source("drive", 5, poisson(30.0, seed=seed + 10))
    reward = net.source("reward", 2, poisson(15.0, seed=seed + 20))
    out = net.population("out", 4, LIF(tau_mem=10.0, tau_syn=2.0, v_th=1.0))
    net.connect(drive, out, weight=0.6, delay=1, name="drive")
    net.connect(inp, out, fixed_probability(0.6, seed=seed), name="learnt",
                weight={"uniform": [0.1, 0.4], "seed": seed}, delay={"uniform": [1, 3], "seed": 4},
                plasticity=RStdp(reward=reward.name, a_plus=0.2, a_minus=0.25, tau_c=300.0,
                                 tau_d=50.0, learning_rate=0.02, w_max=0.8))
    steps = 300
    record = simulate(net, steps, "float", record_weights={"learnt": 0})
    fired, weights = _numpy_rstdp(net, steps, "learnt")
    times, ids = np.nonzero(fired)
    assert times.size > 30
    np.testing.assert_array_equal(record.spikes["out"][0], times)
    np.testing.assert_array_equal(record.spikes["out"][1], ids)
    got = record.weights["learnt"].weights
    assert not np.array_equal(got, expand(net, net.projection("learnt")).weight)
    np.testing.assert_array_equal(got, weights)


def test_distal_reward_strengthens_only_the_paired_synapse():
    """Izhikevich (2007) Fig. 1 in miniature: input 0 fires 5 ms before the post neuron every
    100 ms and a reward follows 300 ms later; input 1 fires at random; after training synapse 0
    has grown and synapse 1 has not grown as much."""
    from snnc.ir import spike_times

    steps, period = 6000, 100
    paired = np.arange(50, steps, period)
    rng = np.random.default_rng(7)
    noise = np.sort(rng.choice(steps, size=paired.size, replace=False))
    net = Network("distal", dt=1.0)
    inp = net.source("inp", 2, spike_times(np.concatenate([paired, noise]),
                                           np.r_[np.zeros(paired.size), np.ones(noise.size)]))
    kick = net.source("kick", 1, spike_times(paired + 4, np.zeros(paired.size)))
    reward = net.source("reward", 1, spike_times(paired[paired + 305 < steps] + 300,
                                                 np.zeros(int((paired + 305 < steps).sum()))))
    out = net.population("out", 1, LIF(tau_mem=10.0, tau_syn=0.0, v_th=1.0))
    net.connect(kick, out, weight=2.0, delay=1, name="kick")
    net.connect(inp, out, weight=0.2, delay=1, name="learnt",
                plasticity=RStdp(reward=reward.name, tau_c=1000.0, tau_d=200.0, a_plus=1.0,
                                 a_minus=1.5, learning_rate=0.002, w_max=1.0))
    weights = simulate(net, steps, "float", record_weights={"learnt": 0}).weights["learnt"]
    w_paired, w_noise = weights.weights[weights.pre == 0][0], weights.weights[weights.pre == 1][0]
    assert w_paired > 0.5 and w_paired > w_noise + 0.3


def test_unknown_reward_population_is_one_line():
    net = Network("bad", dt=1.0)
    inp = net.source("inp", 2, poisson(10.0, seed=1))
    out = net.population("out", 1, LIF(tau_mem=10.0, tau_syn=2.0, v_th=1.0))
    net.connect(inp, out, weight=0.2, plasticity=RStdp(reward="dopamine"))
    with pytest.raises(NetworkError, match="reward population 'dopamine' does not exist"):
        simulate(net, 5, "float")
