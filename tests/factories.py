"""Factory functions for small networks used across tests (no mock classes)."""

from __future__ import annotations


from snnc.ir import LIF, LoihiLIF, Network, all_to_all, explicit, spike_times


def chain_lif(weight: float = 0.6, delay: int = 1) -> Network:
    """inp (2 sources) -> hid (3 lif) all-to-all."""
    net = Network("chain", dt=1.0)
    inp = net.source("inp", 2, spike_times(times=[0, 2, 4], ids=[0, 1, 0]))
    hid = net.population("hid", 3, LIF(tau_mem=10.0, tau_syn=0.0, v_th=1.0))
    net.connect(inp, hid, all_to_all(), weight=weight, delay=delay)
    return net


def loihi_pair(w: int = 10) -> Network:
    """One source neuron into one loihi_lif neuron (du=4095, dv=163, vth=25): the NIR LIF benchmark."""
    net = Network("loihi_pair", dt=0.1)
    inp = net.source("inp", 1, spike_times())
    out = net.population("out", 1, LoihiLIF(du=4095, dv=163, vth=25))
    net.connect(inp, out, explicit([0], [0]), weight=w, delay=1)
    return net


