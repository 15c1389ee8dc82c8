"""Float numerics against a plain numpy loop over the equations of ir/neurons.py, and the W1 total."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import (LI, LIF, Network, all_to_all, expand, explicit, poisson,
                     source_spikes, spike_times)

sys.path.insert(0, "/work/shared/bench")


def alpha(tau: np.ndarray, dt: float, integrator: str) -> np.ndarray:
    tau = np.asarray(tau, dtype=np.float64)
    safe = np.where(tau > 0, tau, 1.0)
    value = np.exp(-dt / safe) if integrator == "exact" else 1.0 - dt / safe
    return np.where(tau > 0, value, 0.0)


def numpy_loop(net: Network, steps: int):
    """The equations, population by population, with np.add.at delivery into per-step inboxes."""
    pops = list(net.neuron_populations())
    synapses = {p.name: expand(net, p) for p in net.projections}
    max_delay = max((int(s.delay.max()) for s in synapses.values() if len(s)), default=1)
    inbox = {p.name: np.zeros((steps + max_delay + 1, p.size)) for p in pops}
    state = {}
    for p in pops:
        n, m = p.size, p.neuron
        full = lambda value: np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
        state[p.name] = dict(
            v=full(m.v_init), i=np.zeros(n), left=np.zeros(n, dtype=np.int64),
            am=alpha(full(m.tau_mem), net.dt, m.integrator), as_=alpha(full(m.tau_syn), net.dt,
                                                                           m.integrator))
    source = {p.name: source_spikes(p.source, p.size, steps, net.dt)
              for p in net.source_populations()}
    spikes = {name: [] for name in net.populations}
    volts = {p.name: np.zeros((steps, p.size)) for p in pops}
    for t in range(steps):
        fired = {}
        for p in pops:
            m, s = p.neuron, state[p.name]
            s["i"] = s["as_"] * s["i"] + inbox[p.name][t]
            v = m.v_leak + s["am"] * (s["v"] - m.v_leak) + s["i"] + m.bias
            spiking = isinstance(m, LIF)
            if spiking:
                refractory = s["left"] > 0
                v = np.where(refractory, m.v_reset, v)
                spk = (v > m.v_th) & ~refractory
                v = np.where(spk, v - m.v_th if m.reset == "subtract" else m.v_reset, v)
                s["left"] = np.where(spk, m.refractory, np.maximum(s["left"] - 1, 0))
                fired[p.name] = np.flatnonzero(spk)
            else:
                fired[p.name] = np.zeros(0, dtype=np.int64)
            s["v"] = v
            volts[p.name][t] = v
        for name, (times, ids) in source.items():
            fired[name] = np.unique(ids[times == t])
        for name, ids in fired.items():
            spikes[name] += [(t, int(k)) for k in ids]
        for projection in net.projections:
            syn = synapses[projection.name]
            hit = np.isin(syn.pre, fired[projection.pre])
            np.add.at(inbox[projection.post], (t + syn.delay[hit], syn.post[hit]), syn.weight[hit])
    return spikes, volts


def random_float_net(seed: int) -> Network:
    """Sources and 2-3 lif/li populations, recurrent, every float feature; weights k/64 (sums exact)."""
    rng = np.random.default_rng(seed)
    net = Network(f"float{seed}", dt=float(rng.choice([0.5, 1.0])))
    net.source("poi", 6, poisson(rate_hz=float(rng.uniform(50, 300)), seed=seed))
    net.source("st", 3, spike_times(rng.integers(0, 40, 10), rng.integers(0, 3, 10)))
    names = []
    for k in range(int(rng.integers(2, 4))):
        size = int(rng.integers(1, 7))
        integrator = str(rng.choice(["exact", "euler"]))
        tau_mem = rng.uniform(2.0, 20.0, size) if rng.random() < 0.5 else float(rng.uniform(2, 20))
        tau_syn = float(rng.choice([0.0, rng.uniform(1.0, 8.0)]))
        if k == 2:
            neuron = LI(tau_mem=tau_mem, tau_syn=tau_syn, integrator=integrator, bias=0.01)
        else:
            neuron = LIF(tau_mem=tau_mem, tau_syn=tau_syn, integrator=integrator,
                         v_th=float(rng.uniform(0.5, 1.5)), v_reset=float(rng.uniform(-0.2, 0.2)),
                         v_leak=float(rng.uniform(-0.1, 0.1)), bias=float(rng.uniform(0, 0.1)),
                         v_init=rng.uniform(0, 0.5, size), refractory=int(rng.integers(0, 4)),
                         reset=str(rng.choice(["zero", "subtract"])))
        net.population(f"p{k}", size, neuron)
        names.append(f"p{k}")
    # an li population is a readout: non-spiking populations feeding later layers (graded output)
    # are refused until graded messages exist, so li only receives
    senders = [n for n in names if net.populations[n].kind != "li"]
    for pre in ["poi", "st", *senders]:
        for post in names:
            if rng.random() < 0.4:
                n = net.populations[pre].size * net.populations[post].size
                net.connect(pre, post, all_to_all(), weight=rng.integers(-16, 48, n) / 64,
                            delay=rng.integers(1, 13, n))
            elif rng.random() < 0.6:
                # (explicit random pairs: fixed_probability's expansion draws 4M gaps per call)
                count = int(rng.integers(1, 12))
                pairs = explicit(rng.integers(0, net.populations[pre].size, count),
                                 rng.integers(0, net.populations[post].size, count))
                net.connect(pre, post, pairs, weight=float(rng.integers(-16, 48)) / 64,
                            delay={"uniform": (1, 12), "seed": int(rng.integers(1 << 30))})
    return net


@pytest.mark.parametrize("seed", range(25))
def test_float_matches_numpy_loop(seed):
    net = random_float_net(seed)
    steps = 60
    pops = [p.name for p in net.neuron_populations()]
    record = simulate(net, steps, "float", record_v=pops)
    spikes, volts = numpy_loop(net, steps)
    for name in net.populations:
        times, ids = record.spikes[name]
        assert list(zip(times.tolist(), ids.tolist())) == sorted(spikes[name]), name
    for name in pops:
        np.testing.assert_array_equal(record.voltages[name], volts[name], err_msg=name)


def test_random_networks_do_spike():
    # the differential test above is only meaningful if the networks' neurons are active
    active = 0
    for seed in range(25):
        net = random_float_net(seed)
        record = simulate(net, 60, "float")
        active += sum(record.spikes[p.name][0].size > 0 for p in net.neuron_populations())
    assert active >= 25


def test_refractory_holds_v_at_reset_for_that_many_steps():
    net = Network("refr")
    net.population("n", 1, LIF(tau_mem=1e9, v_th=1.0, v_reset=-0.5, bias=0.6, refractory=2))
    record = simulate(net, 7, "float", record_v=["n"])
    # v: 0.6, 1.2 > 1 -> spike, reset to -0.5; held 2 steps; then 0.1, 0.7, 1.3 -> spike
    assert record.spikes["n"][0].tolist() == [1, 6]
    assert record.voltages["n"][:, 0] == pytest.approx([0.6, -0.5, -0.5, -0.5, 0.1, 0.7, -0.5])


def test_w1_balanced_network_total_matches_float_peers():
    """Brian2, NEST and a numpy loop all give 12,394 spikes at N = 1000 (float)."""
    import w1_workload

    data = w1_workload.generate(1000)
    meta = json.loads(str(data["meta"]))
    # forward Euler with tau = 4096/200 gives alpha = 1 - 200/4096 exactly, the peers' factor
    neuron = LIF(tau_mem=4096 / meta["dv12"], integrator="euler", v_th=float(meta["vth"]),
                 bias=meta["bias_fx"] / 64, v_init=data["v0_fx"] / 64.0)
    assert 1 - 1 / (4096 / meta["dv12"]) == (4096 - meta["dv12"]) / 4096
    net = Network("w1")
    net.population("n", 1000, neuron)
    net.connect("n", "n", explicit(data["pre"], data["post"]), weight=data["w"].astype(float),
                delay=data["delay"].astype(np.int64))
    assert simulate(net, 1000, "float").total == 12_394
