"""lif -> loihi_lif: properties over random networks, a hand-computed case, and traces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quantize_nets import lava_truncate, lif_networks, loihi_networks

from snnc.compiler.passes.quantize import QuantizeOptions, quantize
from snnc.ir import (
    LI,
    LIF,
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
)

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


def _float_params(neuron: LIF, size: int, dt: float) -> dict[str, np.ndarray]:
    """theta, drive constant, initial v (shifted so reset is 0) and decays, computed afresh."""
    get = {f: np.asarray(resolve(getattr(neuron, f), size), dtype=float)
           for f in ("tau_mem", "tau_syn", "v_th", "v_reset", "v_leak", "bias", "v_init")}
    if neuron.integrator == "euler":
        a_m = 1 - dt / get["tau_mem"]
        a_s = np.where(get["tau_syn"] > 0, 1 - dt / np.maximum(get["tau_syn"], 1e-300), 0.0)
    else:
        a_m = np.exp(-dt / get["tau_mem"])
        a_s = np.where(get["tau_syn"] > 0, np.exp(-dt / np.maximum(get["tau_syn"], 1e-300)), 0.0)
    return {"theta": get["v_th"] - get["v_reset"], "a_m": a_m, "a_s": a_s,
            "b": get["bias"] + (1 - a_m) * (get["v_leak"] - get["v_reset"]),
            "v0": get["v_init"] - get["v_reset"]}


@PROPERTY
@given(net=lif_networks(), weight_bits=st.integers(2, 8))
def test_weights_survive_lava_and_dequantize_within_half_a_step(net, weight_bits):
    quantized, report = quantize(net, "loihi", QuantizeOptions(weight_bits=weight_bits))
    assert not diagnostics(quantized.network)
    for projection in net.projections:
        new = quantized.network.projection(projection.name)
        w = expand(net, projection).weight
        q = expand(quantized.network, new).weight.astype(np.int64)
        assert np.array_equal(lava_truncate(q, new.num_weight_bits), q)
        assert 0 <= new.weight_exp <= 7 and new.num_weight_bits == weight_bits
        assert q.min(initial=0) >= -256 and q.max(initial=0) <= 255
        v_lsb = report.population(projection.post).scale
        scale = 64 * 2**new.weight_exp * v_lsb
        entry = report.projection(projection.name)
        assert math.isclose(entry.scale, scale)
        mixed = w.size and w.min() < 0 < w.max()
        step = scale * 2 ** (8 - weight_bits + (1 if mixed else 0))
        assert entry.clipped == 0
        assert np.all(np.abs(w - q * scale) <= step / 2 * (1 + 1e-9))


@PROPERTY
@given(net=lif_networks())
def test_parameters_in_lava_ranges_and_errors_within_half_a_step(net):
    quantized, report = quantize(net, "loihi")
    for name, population in net.populations.items():
        if population.is_source:
            continue
        size = population.size
        neuron = quantized.network.populations[name].neuron
        assert neuron.kind == "loihi_lif"
        du, dv, vth, mant, exp, v_init = (np.asarray(resolve(getattr(neuron, f), size))
                                          for f in ("du", "dv", "vth", "bias_mant",
                                                    "bias_exp", "v_init"))
        assert du.min() >= 0 and du.max() <= 4095 and dv.min() >= 0 and dv.max() <= 4095
        assert vth.min() >= 0 and vth.max() <= 2**17 - 1
        assert mant.min() >= -4096 and mant.max() <= 4095 and exp.min() >= 0 and exp.max() <= 7
        assert np.abs(v_init).max() <= 2**23 - 1
        p = _float_params(population.neuron, size, net.dt)
        lsb = report.population(name).scale
        assert np.all(np.abs(vth * 64 * lsb - p["theta"]) <= 32 * lsb * (1 + 1e-9))
        assert np.all(np.abs(mant * 2.0**exp * lsb - p["b"]) <= 2.0**exp / 2 * lsb * (1 + 1e-9))
        assert np.all(np.abs(v_init * lsb - p["v0"]) <= lsb / 2 * (1 + 1e-9))
        # the 24-bit bound: threshold (or initial v) plus u's fixed point when all excitatory
        # (or all inhibitory) inputs arrive every step, plus bias, fits
        excitatory, inhibitory = np.zeros(size), np.zeros(size)
        for projection in net.projections:
            if projection.post == name:
                syn = expand(net, projection)
                excitatory += np.bincount(syn.post, np.maximum(syn.weight, 0), minlength=size)
                inhibitory += np.bincount(syn.post, np.maximum(-syn.weight, 0), minlength=size)
        u_peak = np.maximum(excitatory, inhibitory) / ((du + 1) / 4096)
        state = np.maximum(p["theta"], np.abs(p["v0"])) + u_peak + np.abs(p["b"])
        assert np.all(state / lsb <= 2**23 - 1)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(net=loihi_networks())
def test_loihi_lif_networks_pass_unchanged(net):
    quantized, report = quantize(net, "loihi-sim")
    assert equal(quantized.network, net)
    assert all(p.passthrough for p in report.projections + report.populations)
    assert report.warnings == []


def _w1_neuron(**changes) -> LIF:
    tau = -1.0 / math.log(1 - 200 / 4096)  # alpha_m = 1 - 200/4096 exactly: dv = 200
    fields = dict(tau_mem=tau, tau_syn=0.0, v_th=640.0, bias=32.0)
    fields.update(changes)
    return LIF(**fields)


def test_hand_computed_w1_neuron():
    # S: threshold 131071*64/640 = 13107, 24 bit (2^23-1)/(640+8+32) = 12336, so S = 2^13.
    net = Network("w1", dt=1.0)
    net.source("inp", 1, spike_times())
    net.population("hid", 1, _w1_neuron())
    net.connect("inp", "hid", explicit([0], [0]), weight=8.0)
    quantized, report = quantize(net, "loihi")
    neuron = quantized.network.populations["hid"].neuron
    assert (neuron.du, neuron.dv) == (4095, 200)
    assert neuron.vth == 640 * 8192 // 64 == 81920
    assert (neuron.bias_mant, neuron.bias_exp) == (2048, 7)  # 32 * 8192 = 2048 << 7
    projection = quantized.network.projections[0]
    assert (projection.weight, projection.weight_exp) == (128, 3)  # 8 * 8192 / 64 = 128 << 3
    assert report.population("hid").scale == 1 / 8192
    assert report.projection("inp->hid").max_abs_error == 0.0
    # forcing W1's native scale (64 units per float unit) gives exactly the peers' Lava parameters
    quantized, _ = quantize(net, "loihi", QuantizeOptions(loihi_v_scale=64))
    neuron = quantized.network.populations["hid"].neuron
    assert (neuron.vth, neuron.bias_mant, neuron.bias_exp) == (640, 2048, 0)
    assert (quantized.network.projections[0].weight, quantized.network.projections[0].weight_exp) \
        == (8, 0)


@pytest.mark.parametrize("neuron, field, words", [
    (_w1_neuron(reset="subtract", v_reset=-0.5, v_th=10.0), "v_reset", "v_reset != 0"),
    (SpinnakerLIF(v_thresh=10, exp_tc=30000, r_membrane=1000), "kind", "'spinnaker_lif'"),
])
def test_what_loihi_cannot_express_is_refused_by_name(neuron, field, words):
    net = Network("bad", dt=1.0)
    net.population("pop", 2, neuron)
    with pytest.raises(UnsupportedOnTarget) as error:
        quantize(net, "loihi")
    assert error.value.where == f"populations.pop.neuron.{field}"
    assert "population 'pop'" in str(error.value) and words in str(error.value)
    assert "loihi-sim" in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("fields", [dict(refractory=3), dict(reset="subtract"),
                                    dict(refractory=2, reset="subtract")])
def test_refractory_and_subtract_reach_loihi_lif(fields):
    net = Network("ok", dt=1.0)
    net.population("pop", 2, _w1_neuron(**fields))
    quantized, _ = quantize(net, "loihi")
    neuron = quantized.network.populations["pop"].neuron
    assert neuron.refractory == fields.get("refractory", 0)
    assert neuron.reset == fields.get("reset", "zero")


# ---- traces: the quantized neuron against the float one, within a hand-derived bound -------------
def _dec(x: int, d: int) -> int:
    magnitude = (abs(x) * (4096 - d)) >> 12
    return magnitude if x >= 0 else -magnitude


def _loihi_trace(n, weights: dict[int, int], wexp: int, steps: int):
    """Lava's PyLifModelBitAcc for one neuron (LoihiLIF docstring), input a[t] given per step."""
    u, v, vs, spikes = 0, n.v_init, [], []
    for t in range(steps):
        a = weights.get(t, 0) << wexp
        u = _dec(u, n.du + 1) + (a << 6)
        u = u - 2**24 if u > 2**23 else (u + 2**24 if u <= -(2**23) else u)
        v = max(-(2**23 - 1), min(2**23 - 1, _dec(v, n.dv) + u + (n.bias_mant << n.bias_exp)))
        spikes.append(v > n.vth << 6)
        v = 0 if spikes[-1] else v
        vs.append(v)
    return np.array(vs), spikes


def test_single_neuron_trace_matches_float_within_the_error_budget():
    lif = LIF(tau_mem=10.0, tau_syn=3.0, v_th=1.0, v_reset=-0.2, v_leak=0.1, bias=0.03,
              v_init=0.1)
    arrivals = {2: 0.3137, 5: 0.41, 6: -0.2, 11: 0.5, 12: 0.45, 25: 0.61, 26: 0.33}
    net = Network("trace", dt=1.0)
    net.source("inp", len(arrivals), spike_times(times=[t - 1 for t in arrivals],
                                                 ids=list(range(len(arrivals)))))
    net.population("hid", 1, lif)
    net.connect("inp", "hid", explicit(list(range(len(arrivals))), [0] * len(arrivals)),
                weight=np.array(list(arrivals.values())))
    quantized, report = quantize(net, "loihi")
    n = quantized.network.populations["hid"].neuron
    projection = quantized.network.projections[0]
    q_by_step = dict(zip(arrivals, (int(w) for w in projection.weight)))
    steps = 40
    v_q, spikes_q = _loihi_trace(n, q_by_step, projection.weight_exp, steps)
    lsb = report.population("hid").scale
    unit = report.projection("inp->hid").scale
    # float model, shifted so reset is 0, and the bound e_v on |v_q * lsb - v_f| carried alongside
    a_m, a_s = math.exp(-0.1), math.exp(-1 / 3)
    a_mq, a_sq = (4096 - n.dv) / 4096, (4096 - n.du - 1) / 4096
    b = 0.03 + (1 - a_m) * 0.3
    db = abs((n.bias_mant << n.bias_exp) * lsb - b)
    i_f, v_f, e_u, e_v, spikes_f = 0.0, 0.3, 0.0, abs(n.v_init * lsb - 0.3), []
    for t in range(steps):
        x = arrivals.get(t, 0.0)
        dx = abs(q_by_step.get(t, 0) * unit - x)
        e_u = a_sq * e_u + abs(a_sq - a_s) * abs(i_f) + lsb + dx  # decay error, truncation, weight
        i_f = a_s * i_f + x
        e_v = a_mq * e_v + abs(a_mq - a_m) * abs(v_f) + lsb + e_u + db
        v_f = a_m * v_f + i_f + b
        spikes_f.append(v_f > 1.2)
        if spikes_f[-1]:
            v_f, e_v = 0.0, 0.0
        assert spikes_q[t] == spikes_f[t], f"step {t}"
        assert abs(v_q[t] * lsb - v_f) <= e_v + 1e-12, f"step {t}"
    assert sum(spikes_f) >= 2  # the trace exercises threshold and reset


def test_population_that_can_only_spike_in_float_is_a_warning():
    # one strong inhibitory weight sets the projection's 8-bit step (0.125 at S = 2^17); the
    # hundred excitatory weights of 0.001 vanish, though in float they drive v to ~10 > 1
    net = Network("silenced", dt=1.0)
    net.source("inp", 101, spike_times())
    net.population("hid", 1, LIF(tau_mem=100.0, v_th=1.0))
    net.connect("inp", "hid", all_to_all(), weight=np.array([-10.0] + [1e-3] * 100))
    _, report = quantize(net, "loihi")
    entry = report.population("hid")
    assert (entry.unreachable, entry.unreachable_float, entry.zeroed) == (1, 0, 100)
    assert report.projection("inp->hid").step == 0.125
    assert ("population 'hid': 1 of 1 neurons cannot reach threshold from their maximum input "
            "(1 of them could in float)") in report.warnings
    assert any("100 of 101 nonzero weights (99.0%) rounded to 0" in w for w in report.warnings)


def test_input_array_is_not_modified():
    net = Network("pure", dt=1.0)
    net.source("inp", 2, spike_times())
    net.population("hid", 2, LIF(tau_mem=5.0, v_th=1.0))
    weights = np.array([0.1, -0.2, 0.3, 0.0])
    net.connect("inp", "hid", all_to_all(), weight=weights)
    before = net.model_copy(deep=True)
    quantize(net, "loihi")
    assert equal(net, before)
    assert net.populations["hid"].kind == "lif"


@settings(max_examples=25, deadline=None, derandomize=True)
@given(net=lif_networks(), rounding=st.sampled_from(["floor", "stochastic"]),
       seed=st.integers(0, 3))
def test_floor_and_stochastic_rounding_stay_within_one_step(net, rounding, seed):
    options = QuantizeOptions(rounding=rounding, seed=seed)
    quantized, report = quantize(net, "loihi", options)
    again, _ = quantize(net, "loihi", options)
    assert equal(quantized.network, again.network)  # stochastic: reproducible from its seed
    for projection in net.projections:
        new = quantized.network.projection(projection.name)
        w = expand(net, projection).weight
        q = expand(quantized.network, new).weight.astype(np.int64)
        assert np.array_equal(lava_truncate(q, new.num_weight_bits), q)
        entry = report.projection(projection.name)
        error = w - q * entry.scale
        assert np.all(np.abs(error) < entry.step * (1 + 1e-9))
        if rounding == "floor":
            assert np.all(error >= -1e-12 * np.abs(w))  # toward minus infinity


def test_forced_coarse_scale_warns_that_the_threshold_moved():
    net = Network("coarse", dt=1.0)
    net.population("hid", 1, LIF(tau_mem=10.0, v_th=1.0, bias=0.5))
    # vth = round(100 * 1.0 / 64) = 2, an effective threshold of 1.28; bias 50 units is exact
    _, report = quantize(net, "loihi", QuantizeOptions(loihi_v_scale=100))
    assert report.population("hid").threshold_error == pytest.approx(0.28)
    assert report.warnings == ["population 'hid': threshold moved by 28% of v_th - v_reset"]


def test_stochastic_rounding_is_seeded_unbiased_and_per_projection():
    # scale forced to 64: one integer weight unit is exactly 1.0, so 0.3 rounds to 0 or 1
    net = Network("stochastic", dt=1.0)
    net.source("inp", 2000, spike_times())
    net.population("a", 1, LIF(tau_mem=20.0, v_th=100.0))
    net.population("b", 1, LIF(tau_mem=20.0, v_th=100.0))
    net.connect("inp", "a", all_to_all(), weight=0.3)
    net.connect("inp", "b", all_to_all(), weight=0.3)

    def weights(seed: int, rounding: str = "stochastic") -> list[np.ndarray]:
        quantized, report = quantize(net, "loihi", QuantizeOptions(
            rounding=rounding, seed=seed, loihi_v_scale=64))
        assert {p.scale for p in report.projections} == {1.0}
        return [np.asarray(resolve(p.weight, 2000)) for p in quantized.network.projections]

    a, b = weights(seed=7)
    assert set(a.tolist()) == {0, 1} and set(b.tolist()) == {0, 1}
    again = weights(seed=7)
    assert np.array_equal(again[0], a) and np.array_equal(again[1], b)  # same seed, same bits
    assert not np.array_equal(weights(seed=8)[0], a)  # another seed, other draws
    assert not np.array_equal(a, b)  # each projection has its own stream
    for drawn in (a, b):  # unbiased: P(up) = 0.3
        assert abs(drawn.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / 2000)
    nearest, _ = weights(seed=7, rounding="nearest")
    assert np.all(nearest == 0)


@pytest.mark.parametrize("v_scale", [64.0, 1e30])
def test_weights_beyond_8_bits_clip_to_the_top_with_their_sign_and_warn(v_scale):
    # at S = 64 one unit of weight_exp 7 is 128: 1e5 needs 781 > 255; at S = 1e30 every weight
    # is astronomically many units (the integer cast must not wrap them to the other sign)
    net = Network("clip", dt=1.0)
    net.source("inp", 4, spike_times())
    net.population("hid", 1, LIF(tau_mem=20.0, v_th=1.0))
    net.connect("inp", "hid", all_to_all(), weight=np.array([1e5, -1e5, 2e5, 0.0]))
    quantized, report = quantize(net, "loihi", QuantizeOptions(loihi_v_scale=v_scale))
    projection = quantized.network.projections[0]
    assert projection.weight_exp == 7
    assert np.asarray(projection.weight).tolist() == [254, -254, 254, 0]  # mixed: [-254, 254]
    entry = report.projection("inp->hid")
    assert entry.clipped == 3 and entry.zeroed == 0
    assert "projection 'inp->hid': 3 weights clipped to the largest representable magnitude" \
        in report.warnings
