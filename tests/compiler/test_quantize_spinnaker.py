"""lif -> spinnaker_lif: properties over random networks, sPyNNaker's shift rule, traces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from quantize_nets import lif_networks

from snnc.compiler.passes.quantize import QuantizeOptions, quantize
from snnc.ir import (
    LI,
    LIF,
    LoihiLIF,
    Network,
    SpinnakerLIF,
    UnsupportedOnTarget,
    all_to_all,
    diagnostics,
    equal,
    expand,
    explicit,
    resolve,
    spike_times,
    uniform,
)

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True)


def _gain(neuron: SpinnakerLIF, size: int) -> np.ndarray:
    """Float volts per ring-buffer current unit, from the quantized integers alone."""
    get = {f: np.asarray(resolve(getattr(neuron, f), size), dtype=float)
           for f in ("exp_tc", "r_membrane", "init_exc")}
    init = 1.0 if neuron.synapse == "delta" else get["init_exc"] / 2**32
    return (1 - get["exp_tc"] / 2**15) * get["r_membrane"] / 2**15 * init


@PROPERTY
@given(net=lif_networks(spinnaker=True))
def test_weights_dequantize_within_half_a_step_and_parameters_fit(net):
    quantized, report = quantize(net, "spinnaker-emu")
    assert not diagnostics(quantized.network)
    for projection in net.projections:
        post = quantized.network.populations[projection.post]
        neuron = post.neuron
        assert neuron.kind == "spinnaker_lif"
        assert 0 <= neuron.weight_shift_exc <= 31 and 0 <= neuron.weight_shift_inh <= 31
        w = expand(net, projection).weight
        syn = expand(quantized.network, quantized.network.projection(projection.name))
        q = syn.weight.astype(np.int64)
        assert np.abs(q).max(initial=0) <= 0xFFFF
        assert np.all(np.sign(q)[q != 0] == np.sign(w)[q != 0])  # receptor follows the sign
        shift = np.where(w < 0, neuron.weight_shift_inh, neuron.weight_shift_exc)
        step = 2.0 ** (shift - 15) * _gain(neuron, post.size)[syn.post]
        assert report.projection(projection.name).clipped == 0
        assert np.all(np.abs(w - q * step) <= step / 2 * (1 + 1e-9))
    for name, population in net.populations.items():
        if population.is_source:
            continue
        neuron = quantized.network.populations[name].neuron
        v_th = np.asarray(resolve(population.neuron.v_th, population.size), dtype=float)
        v_thresh = np.asarray(resolve(neuron.v_thresh, population.size))
        # V >= v_thresh on raw integers is exactly v > v_th in float
        assert np.all((v_thresh - 1) / 2**15 <= v_th) and np.all(v_thresh / 2**15 > v_th)
        assert neuron.t_refract == population.neuron.refractory
        # every field inside its s16.15 / u0.32 / shift range
        for field in ("v_thresh", "v_reset", "v_rest", "v_init", "i_offset", "r_membrane"):
            raw = np.asarray(resolve(getattr(neuron, field), population.size))
            assert raw.min() >= -(2**31) and raw.max() <= 2**31 - 1, field
        exp_tc = np.asarray(resolve(neuron.exp_tc, population.size))
        assert exp_tc.min() >= 0 and exp_tc.max() <= 2**15
        for field in ("decay_exc", "init_exc", "decay_inh", "init_inh"):
            raw = np.asarray(resolve(getattr(neuron, field), population.size))
            assert raw.min() >= 0 and raw.max() <= 2**32 - 1, field
        assert 0 <= neuron.weight_shift_exc <= 15 and 0 <= neuron.weight_shift_inh <= 15


def _spinnaker_net(delay, weight=1.0, **lif) -> Network:
    net = Network("shift", dt=1.0)
    net.source("inp", 10, spike_times())
    net.population("hid", 2, LIF(tau_mem=20.0, v_th=5.0, **lif))
    net.connect("inp", "hid", all_to_all(), weight=weight, delay=delay)
    return net


def test_ring_buffer_shift_follows_spynnaker_hand_computed():
    g = (1 - 31170 / 2**15) * 20  # exp_tc = rint(e^-0.05 * 2^15) = 31170, R = 20, delta synapse
    w = 1.0 / g
    # equal delays: worst case = 10 synapses per neuron x 1 spike per tick x w -> 2^4 > 10.25
    quantized, report = quantize(_spinnaker_net(delay=1), "spinnaker")
    neuron = quantized.network.populations["hid"].neuron
    assert neuron.exp_tc == 31170 and neuron.r_membrane == 20 * 2**15
    assert neuron.synapse == "delta" and neuron.weight_shift_exc == 4
    assert quantized.network.projections[0].weight == round(w * 2**11) == 2100
    # delays 1..3: sPyNNaker's Poisson bound, 0.3 spikes/tick: 0.3 w + 5 sqrt(0.3 w^2) -> 2^2
    bound = 0.3 * w + 5 * math.sqrt(0.3 * w * w)
    assert 2 < bound < 4
    quantized, _ = quantize(_spinnaker_net(delay=uniform(1, 3, seed=1)), "spinnaker")
    assert quantized.network.populations["hid"].neuron.weight_shift_exc == 2
    assert np.all(np.asarray(quantized.network.projections[0].weight) == round(w * 2**13))
    # the user's override (float units) replaces the rule: 100 / g -> 2^7
    options = QuantizeOptions(max_expected_summed_weight="100")
    quantized, _ = quantize(_spinnaker_net(delay=1), "spinnaker", options)
    assert quantized.network.populations["hid"].neuron.weight_shift_exc == 7
    # too small an override clips, and says so
    options = QuantizeOptions(max_expected_summed_weight=(0.1, 0.1))
    _, report = quantize(_spinnaker_net(delay=1, weight=3.0), "spinnaker", options)
    assert report.projection("inp->hid").clipped == 20
    assert any("clipped" in line for line in report.warnings)


def test_spinnaker_lif_networks_pass_unchanged():
    net = Network("native", dt=1.0)
    net.source("inp", 2, spike_times(times=[0], ids=[1]))
    net.population("hid", 2, SpinnakerLIF(v_thresh=32768, exp_tc=31170, r_membrane=655360,
                                          weight_shift_exc=3, t_refract=2))
    net.connect("inp", "hid", all_to_all(), weight=np.array([5, -7, 0, 65535]))
    quantized, report = quantize(net, "spinnaker")
    assert equal(quantized.network, net)
    assert [p.passthrough for p in report.projections] == [True]


def test_an_li_quantizes_to_spinnaker_li():
    net = Network("readout", dt=1.0)
    net.population("pop", 2, LI(tau_mem=10.0, v_leak=0.5))
    quantized, _ = quantize(net, "spinnaker")
    neuron = quantized.network.populations["pop"].neuron
    assert neuron.kind == "spinnaker_li" and neuron.v_rest == 2**14


@pytest.mark.parametrize("neuron, field", [
    (LIF(tau_mem=np.array([10.0, np.inf])), "tau_mem"),
    (LoihiLIF(du=0, dv=0, vth=10), "kind"),
])
def test_what_spinnaker_cannot_express_is_refused_by_name(neuron, field):
    net = Network("bad", dt=1.0)
    net.population("pop", 2, neuron)
    with pytest.raises(UnsupportedOnTarget) as error:
        quantize(net, "spinnaker")
    assert error.value.where == f"populations.pop.neuron.{field}"


@pytest.mark.parametrize("fields, expected", [
    (dict(reset="subtract"), dict(reset="subtract", leak="exp")),
    (dict(tau_mem=float("inf")), dict(reset="zero", leak="none", exp_tc=2**15, r_membrane=2**15)),
    (dict(refractory=3), dict(t_refract=3)),
])
def test_subtract_if_and_refractory_reach_spinnaker_lif(fields, expected):
    net = Network("ok", dt=1.0)
    net.population("pop", 2, LIF(**{"tau_mem": 10.0, **fields}))
    quantized, _ = quantize(net, "spinnaker")
    neuron = quantized.network.populations["pop"].neuron
    for key, value in expected.items():
        assert getattr(neuron, key) == value, key


# ---- trace: an independent s16.15 implementation against float, within a derived bound -----------
def _mul(a: int, b: int) -> int:
    return (a * b) >> 15  # accum multiply, toward minus infinity


def _spinnaker_trace(n, exc: dict[int, int], inh: dict[int, int], steps: int):
    """The spinnaker_lif docstring's update for one neuron, in Python integers."""
    v, i_e, i_i, refract, vs, spikes = n.v_init, 0, 0, 0, [], []
    for t in range(steps):
        i_e += (exc.get(t, 0) << n.weight_shift_exc) * n.init_exc >> 32
        i_i += (inh.get(t, 0) << n.weight_shift_inh) * n.init_inh >> 32
        if refract == 0:
            alpha = _mul(i_e - i_i + n.i_offset, n.r_membrane) + n.v_rest
            v = alpha - _mul(n.exp_tc, alpha - v)
        else:
            refract -= 1
        spikes.append(v >= n.v_thresh)
        if spikes[-1]:
            v, refract = n.v_reset, n.t_refract
        i_e, i_i = (i_e * n.decay_exc) >> 32, (i_i * n.decay_inh) >> 32
        vs.append(v)
    return np.array(vs), spikes


def test_single_neuron_trace_matches_float_within_the_error_budget():
    lif = LIF(tau_mem=10.0, tau_syn=3.0, v_th=1.0, v_reset=-0.2, v_leak=0.1, bias=0.03,
              v_init=0.1, refractory=2)
    arrivals = {2: 0.3137, 5: 0.41, 6: -0.2, 11: 0.5, 12: 0.45, 25: 0.61, 26: 0.33}
    net = Network("trace", dt=1.0)
    net.source("inp", len(arrivals), spike_times(times=[t - 1 for t in arrivals],
                                                 ids=list(range(len(arrivals)))))
    net.population("hid", 1, lif)
    net.connect("inp", "hid", explicit(list(range(len(arrivals))), [0] * len(arrivals)),
                weight=np.array(list(arrivals.values())))
    quantized, _ = quantize(net, "spinnaker")
    n = quantized.network.populations["hid"].neuron
    q = dict(zip(arrivals, (int(w) for w in quantized.network.projections[0].weight)))
    exc = {t: w for t, w in q.items() if w > 0}
    inh = {t: -w for t, w in q.items() if w < 0}
    steps, lsb = 40, 2.0**-15
    v_q, spikes_q = _spinnaker_trace(n, exc, inh, steps)
    g_m = (1 - n.exp_tc / 2**15) * n.r_membrane / 2**15
    gain = g_m * n.init_exc / 2**32
    a_m, a_s = math.exp(-0.1), math.exp(-1 / 3)
    a_mq, a_sq = n.exp_tc / 2**15, n.decay_exc / 2**32
    drive_error = abs(n.i_offset * lsb * g_m - 0.03) + abs(n.v_rest * lsb - 0.1)
    i_f, v_f, e_i, e_v, spikes_f, refract = 0.0, 0.1, 0.0, lsb, [], 0
    for t in range(steps):
        x = arrivals.get(t, 0.0)
        shift = n.weight_shift_exc if x >= 0 else n.weight_shift_inh
        dx = abs(abs(q.get(t, 0)) * 2.0 ** (shift - 15) * gain - abs(x))
        # current (in volts per step): decay error, two truncations (init, decay), weight error
        e_i = a_sq * e_i + abs(a_sq - a_s) * abs(i_f) + 2 * lsb * g_m + dx
        i_f = a_s * i_f + x
        if refract == 0:
            # two accum truncations per update, the leak's decay error, the drive's rounding
            e_v = a_mq * e_v + abs(a_mq - a_m) * abs(v_f - 0.1) + 2 * lsb + e_i + drive_error
            v_f = a_m * v_f + (1 - a_m) * 0.1 + i_f + 0.03
        else:
            refract -= 1
        spikes_f.append(v_f > 1.0)
        if spikes_f[-1]:
            v_f, e_v, refract = -0.2, lsb / 2, 2
        assert spikes_q[t] == spikes_f[t], f"step {t}"
        assert abs(v_q[t] * lsb - v_f) <= e_v + 1e-12, f"step {t}"
    assert sum(spikes_f) >= 2


def test_stochastic_rounding_is_seeded_and_unbiased():
    net = Network("stochastic", dt=1.0)
    net.source("inp", 4000, spike_times())
    net.population("hid", 1, LIF(tau_mem=20.0, v_th=5.0))
    net.connect("inp", "hid", all_to_all(), weight=0.0123)

    def run(seed: int, rounding: str = "stochastic"):
        quantized, report = quantize(net, "spinnaker", QuantizeOptions(rounding=rounding,
                                                                        seed=seed))
        step = report.projection("inp->hid").step
        return np.asarray(resolve(quantized.network.projections[0].weight, 4000)), step

    drawn, step = run(seed=2)
    assert np.array_equal(drawn, run(seed=2)[0]) and not np.array_equal(drawn, run(seed=3)[0])
    fraction = 0.0123 / step - np.floor(0.0123 / step)
    assert 0.05 < fraction < 0.95  # the weight is not on the grid: both neighbours occur
    assert set(drawn.tolist()) == {int(np.floor(0.0123 / step)), int(np.floor(0.0123 / step)) + 1}
    # unbiased: the mean dequantized weight is the float weight, within 5 standard errors
    assert abs(drawn.mean() * step - 0.0123) < 5 * step * np.sqrt(fraction * (1 - fraction) / 4000)
    nearest, _ = run(seed=2, rounding="nearest")
    assert np.all(nearest == np.rint(0.0123 / step))
