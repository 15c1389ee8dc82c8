"""``lif`` with ``tau_syn_inh``: a second (inhibitory) current with its own time constant.

- the two-current float update against a numpy loop of ``LIF``'s docstring equations;
- one current stays the one-current Step, bit for bit (``tau_syn_inh`` None or equal);
- spinnaker: the quantizer's ``decay_inh``/``init_inh`` and inhibitory weights against
  hand-computed u0.32 values, and the emulator against the reference's spinnaker numerics;
- loihi-sim refuses it in one line.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from snnc.backends import first_divergence, get_backend
from snnc.backends.reference import simulate
from snnc.compiler import compile_network
from snnc.compiler.passes.quantize import quantize
from snnc.ir import (
    LIF,
    Network,
    UnsupportedOnTarget,
    explicit,
    fixed_probability,
    poisson,
    spike_times,
)
from snnc.models import FEATURES, REGISTRY
from snnc.models.lif import TWO_CURRENT_STEP, two_current_tables, two_current_update
from snnc.models.support import check_network

STEPS = 80
TIMES = [0, 1, 1, 2, 5, 6, 6, 9, 12, 13, 20, 21, 22, 23, 30, 31, 40]
IDS = [0, 1, 2, 0, 2, 1, 0, 2, 1, 0, 2, 2, 0, 1, 0, 2, 1]
PRE = [0, 0, 1, 1, 2, 2]
POST = [0, 1, 1, 2, 0, 2]
# dyadic: every sum is exact, whatever order the engine sums a step's input in
WEIGHTS = np.array([0.375, 0.25, -0.5, 0.5, -0.25, -0.125])


def _inputs(size: int, steps: int, delay: int = 1) -> tuple[np.ndarray, np.ndarray]:
    exc, inh = np.zeros((steps, size)), np.zeros((steps, size))
    for t, i in zip(TIMES, IDS):
        for pre, post, w in zip(PRE, POST, WEIGHTS):
            if pre == i and t + delay < steps:
                (exc if w > 0 else inh)[t + delay, post] += abs(w)
    return exc, inh


def _numpy_loop(p: dict, size: int, steps: int):
    """The docstring's equations with two currents, step by step."""
    exc_in, inh_in = _inputs(size, steps)
    a_m, a_s, a_i = (np.exp(-1.0 / p[k]) for k in ("tau_mem", "tau_syn", "tau_syn_inh"))
    v, i_e, i_i = np.zeros(size), np.zeros(size), np.zeros(size)
    left = np.zeros(size)
    spikes, trace = [], np.zeros((steps, size))
    for t in range(steps):
        i_e, i_i = a_s * i_e + exc_in[t], a_i * i_i + inh_in[t]
        free = p["v_leak"] + a_m * (v - p["v_leak"]) + (i_e - i_i) + p["bias"]
        held = left > 0
        fired = ~held & (free > p["v_th"])
        v = np.where(held, p["v_reset"], np.where(fired, p["v_reset"], free))
        left = np.where(held, left - 1, np.where(fired, p["refractory"], left))
        spikes += [(t, int(k)) for k in np.flatnonzero(fired)]
        trace[t] = v
    return spikes, trace


PARAMS = dict(tau_mem=np.array([10.0, 20.0, 15.0]), tau_syn=4.0,
              tau_syn_inh=12.0, v_th=0.6, v_reset=-0.1, v_leak=0.05,
              bias=np.array([0.04, 0.05, 0.03]), refractory=2)


def test_two_current_update_equals_a_numpy_loop():
    """The kernel itself, fed step by step with the exc_inh layout ``x[k]``, ``x[n + k]``."""
    size = 3
    params, state = two_current_tables(LIF(**PARAMS), size, 1.0)
    exc, inh = _inputs(size, STEPS)
    out = np.zeros(size, dtype=np.int64)
    got_spikes, got_trace = [], np.zeros((STEPS, size))
    for t in range(STEPS):
        x = np.concatenate([exc[t], inh[t]])
        count = two_current_update(x, params, state, 0, size, out, 0, 0)
        got_spikes += [(t, int(k)) for k in out[:count]]
        got_trace[t] = state[0]
    spikes, trace = _numpy_loop(PARAMS, size, STEPS)
    assert got_spikes == spikes and np.array_equal(got_trace, trace)
    assert len(spikes) >= 4
    # the inhibitory current outlasts the excitatory one where tau_syn_inh > tau_syn
    assert state[3, 2] > 0 and TWO_CURRENT_STEP.input == "exc_inh"


def _network(neuron: LIF) -> Network:
    net = Network("two_taus", dt=1.0)
    net.source("inp", 3, spike_times(times=TIMES, ids=IDS))
    net.population("pop", 3, neuron)
    net.connect("inp", "pop", explicit(PRE, POST), weight=WEIGHTS, delay=1)
    return net


def test_simulate_runs_two_currents_as_the_numpy_loop():
    record = simulate(_network(LIF(**PARAMS)), STEPS, "float", record_v=["pop"])
    spikes, trace = _numpy_loop(PARAMS, 3, STEPS)
    times, ids = record.spikes["pop"]
    assert list(zip(times.tolist(), ids.tolist())) == spikes
    assert np.array_equal(record.voltages["pop"], trace)


def test_one_current_keeps_the_one_current_step_bit_for_bit():
    step = REGISTRY.get("lif").steps["float"]
    same = {k: v for k, v in PARAMS.items() if k != "tau_syn_inh"}
    for neuron in (LIF(**same), LIF(**same, tau_syn_inh=4.0)):
        assert step.for_neuron(neuron) is step  # the kernel and layout of lif without the field
    assert step.for_neuron(LIF(**PARAMS)) is TWO_CURRENT_STEP
    plain = simulate(_network(LIF(**same)), STEPS, "float", record_v=["pop"])
    equal = simulate(_network(LIF(**same, tau_syn_inh=4.0)), STEPS, "float", record_v=["pop"])
    assert np.array_equal(plain.voltages["pop"], equal.voltages["pop"])
    assert REGISTRY.get("lif").used_features(LIF(**same, tau_syn_inh=4.0)) == {
        "synaptic_current": "tau_syn", "refractory": "refractory"}


def _balanced(neuron: LIF) -> Network:
    net = Network("balanced", dt=1.0)
    net.source("exc", 30, poisson(rate_hz=40.0, seed=5))
    net.source("inh", 15, poisson(rate_hz=40.0, seed=6))
    net.population("pop", 20, neuron)
    net.connect("exc", "pop", fixed_probability(0.4, seed=7), weight=0.09, delay=1)
    net.connect("inh", "pop", fixed_probability(0.4, seed=8), weight=-0.12, delay=3)
    return net


def test_spinnaker_quantizer_sets_the_inhibitory_receptor_from_tau_syn_inh():
    neuron = LIF(tau_mem=10.0, tau_syn=4.0, tau_syn_inh=8.0, v_th=1.0)
    quantized, _ = quantize(_balanced(neuron), "spinnaker")
    q = quantized.network.populations["pop"].neuron
    assert q.kind == "spinnaker_lif" and q.synapse == "exp"
    assert q.decay_exc == round(math.exp(-1 / 4) * 2**32)
    assert q.init_exc == round(4 * (1 - math.exp(-1 / 4)) * 2**32)
    assert q.decay_inh == round(math.exp(-1 / 8) * 2**32)
    assert q.init_inh == round(8 * (1 - math.exp(-1 / 8)) * 2**32)
    # a negative weight x is the inhibitory current x / (g init_inh), g = (1 - exp_tc) R
    gain = (1 - q.exp_tc / 2**15) * (q.r_membrane / 2**15)
    inh = np.asarray(quantized.network.projections[1].weight)
    expected = round(0.12 / (gain * q.init_inh / 2**32) * 2.0 ** (15 - q.weight_shift_inh))
    assert np.all(inh == -expected)


def test_spinnaker_emu_runs_it_as_the_reference_spinnaker_numerics():
    net = _balanced(LIF(tau_mem=10.0, tau_syn=4.0, tau_syn_inh=8.0, v_th=1.0, refractory=1))
    build = compile_network(net, "spinnaker-emu")
    got = get_backend("spinnaker-emu").run(build, 300, record_v=["pop"])
    expected = simulate(build.network, 300, "spinnaker", record_v=["pop"])
    assert first_divergence(expected, got, ["pop"]) is None
    assert np.array_equal(got.voltages["pop"], expected.voltages["pop"])
    assert expected.spikes["pop"][0].size > 20


def test_loihi_refuses_a_second_current_in_one_line():
    net = _network(LIF(**PARAMS))
    with pytest.raises(UnsupportedOnTarget) as refusal:
        check_network(net, "loihi-sim")
    message = str(refusal.value)
    assert "\n" not in message
    assert "population 'pop'" in message and "(lif)" in message and "loihi-sim" in message
    assert FEATURES["separate_inh_tau"] in message and "one synaptic current" in message


def test_nir_export_refuses_a_second_current_in_one_line():
    from snnc.ir import to_nir

    net = _network(LIF(tau_mem=20.0, tau_syn=5.0, tau_syn_inh=10.0, v_th=1.0))
    with pytest.raises(UnsupportedOnTarget, match="tau_syn_inh") as refusal:
        to_nir(net)
    assert "\n" not in str(refusal.value)
