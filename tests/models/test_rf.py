"""``rf`` and ``rf_iz`` (models/rf.py, models/rf_iz.py): the reference's loihi Steps against a
plain numpy loop of Lava 0.10's fixed-point equations written here, hand-computed traces (also
through ``simulate``: spike timing t + d), and the parameter checks. The float kinds
``rf_float`` / ``rf_iz_float`` against the float loop of the same equations, and their quantizer
(compiler/passes/quantize/rf.py): the integer parameters it derives, no saturation where it
promises none, and the quantized run tracking the float one.

The loop below follows ``lava/proc/rf/process.py`` (the integer decays and threshold of
``RF.__init__``) and ``lava/proc/rf/models.py`` / ``lava/proc/rf_iz/models.py`` (``run_spk`` of
the fixed-point models), vectorised over neurons in int64 numpy as Lava computes them.
"""

from __future__ import annotations

import numpy as np
import pytest
from snnc.ir.values import ParameterError  # a model built with a bad field (one line)

from snnc.backends.reference import simulate
from snnc.compiler.passes.quantize import quantize
from snnc.ir import Network, all_to_all, poisson, spike_times
from snnc.models import REGISTRY
from snnc.models.rf import RF
from snnc.models.rf_float import RFFloat
from snnc.models.rf_iz import RFIZ
from snnc.models.rf_iz_float import RFIZFloat

LIMIT = 2**23 - 1


# --------------------------------------------------------------------------- the numpy loop


def lava_loop(kind: str, period, alpha, vth: float, state_exp: int, decay_bits: int,
              inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spikes, re, im), each (steps, n), of Lava's fixed-point RF / RF_IZ fed ``inputs``
    (steps, n) on ``a_real_in`` (and 0 on ``a_imag_in``)."""
    steps, n = inputs.shape
    period = np.broadcast_to(np.asarray(period, np.float64), (n,))
    alpha = np.broadcast_to(np.asarray(alpha, np.float64), (n,))
    sin_d = np.int64(np.int32((1 - alpha) * np.sin(2 * np.pi / period) * 2**decay_bits))
    cos_d = np.int64(np.int32((1 - alpha) * np.cos(2 * np.pi / period) * 2**decay_bits))
    theta = int(vth * 2**state_exp)

    def shrink(x: np.ndarray) -> np.ndarray:
        return np.sign(x) * (np.abs(x) >> decay_bits)

    re, im = np.zeros(n, np.int64), np.zeros(n, np.int64)
    out = np.zeros((3, steps, n), np.int64)
    for t in range(steps):
        drive = (inputs[t].astype(np.int32) << np.int32(state_exp)).astype(np.int64)  # int32
        new_re = np.clip(shrink(cos_d * re) - shrink(sin_d * im) + drive, -LIMIT, LIMIT)
        new_im = np.clip(shrink(sin_d * re) + shrink(cos_d * im), -LIMIT, LIMIT)
        if kind == "rf":
            spike = (new_re >= theta) & (new_im >= 0) & (im < 0)
        else:
            spike = new_im >= theta
            new_re = np.where(spike, 0, new_re)
            new_im = np.where(spike, theta - 1, new_im)
        re, im = new_re, new_im
        out[:, t] = spike, re, im
    return out[0].astype(bool), out[1], out[2]


def step_loop(kind: str, neuron, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spikes, re, im) of the model's loihi Step, driven directly with ``inputs``."""
    step = REGISTRY.get(kind).steps["loihi"]
    steps, n = inputs.shape
    params, state = step.tables(neuron, n, 1.0)
    spikes = np.zeros((steps, n), bool)
    re, im = np.zeros((steps, n), np.int64), np.zeros((steps, n), np.int64)
    out_ids = np.zeros(n, np.int64)
    for t in range(steps):
        x = np.ascontiguousarray(inputs[t], dtype=np.int64)
        count = step.update(x, params, state, 0, n, out_ids, 0, 0)
        spikes[t, out_ids[:count]] = True
        re[t], im[t] = state[0], state[1]
    return spikes, re, im


def _inputs(rng: np.random.Generator, steps: int, n: int, huge: bool) -> np.ndarray:
    """Mostly small signed inputs; with ``huge``, some beyond 24 bits (saturation, and beyond 32
    bits after ``<< state_exp``: Lava's int32 shift wraps)."""
    a = rng.integers(-3000, 3000, (steps, n)) * (rng.random((steps, n)) < 0.4)
    if huge:
        big = rng.random((steps, n)) < 0.05
        a = np.where(big, rng.integers(-(2**31), 2**31 - 1, (steps, n)), a)
    return a.astype(np.int64)


CASES = [  # (periods, alphas, vth, state_exp, decay_bits, huge inputs)
    (np.array([3.0, 4.0, 7.3, 12.0, 25.0, 1.5]), 0.05, 30.0, 6, 12, False),
    (10.0, np.array([0.0, 0.01, 0.1, 0.3, 0.9, 1.0]), 0.3, 0, 8, False),
    (np.array([2.2, 5.0, 6.0, 9.9, 40.0, 3.3]), np.array([0.0, 0.2, 0.02, 0.0, 0.5, 0.07]),
     101.7, 3, 1, True),
    (6.0, 0.0, 1000.0, 7, 12, True),
]


@pytest.mark.parametrize("kind, cls", [("rf", RF), ("rf_iz", RFIZ)])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_step_is_lavas_fixed_point_loop(kind, cls, case):
    periods, alphas, vth, state_exp, decay_bits, huge = CASES[case]
    inputs = _inputs(np.random.default_rng(case), 300, 6, huge)
    neuron = cls(period=periods, alpha=alphas, vth=vth, state_exp=state_exp,
                 decay_bits=decay_bits)
    expected = lava_loop(kind, periods, alphas, vth, state_exp, decay_bits, inputs)
    got = step_loop(kind, neuron, inputs)
    for name, e, g in zip(("spikes", "re", "im"), expected, got):
        assert np.array_equal(e, g), f"{name} differs first at step {np.argmax((e != g).any(1))}"
    assert expected[0].any()  # the case fires
    if huge:  # and it exercises the saturation
        assert np.abs(expected[1]).max() == LIMIT or np.abs(expected[2]).max() == LIMIT


# --------------------------------------------------------------------------- by hand


def _quarter_turn(cls, vth: float):
    """period 4, alpha 0, decay_bits 12: s = trunc(sin(pi/2) 4096) = 4096, c = trunc(6e-17 *
    4096) = 0, so each step maps (re, im) to (-im + a, re) exactly."""
    return cls(period=4.0, alpha=0.0, vth=vth, state_exp=0, decay_bits=12)


def test_rf_by_hand():
    # a = 10 at t = 0: (10, 0) (0, 10) (-10, 0) (0, -10) (10, 0): at t = 4 im crosses 0 upward
    # with re = 10 >= 5, a spike; the quarter turns repeat it every 4 steps
    inputs = np.zeros((13, 1), np.int64)
    inputs[0] = 10
    spikes, re, im = step_loop("rf", _quarter_turn(RF, 5.0), inputs)
    assert list(np.flatnonzero(spikes[:, 0])) == [4, 8, 12]
    assert list(re[:5, 0]) == [10, 0, -10, 0, 10] and list(im[:5, 0]) == [0, 10, 0, -10, 0]
    # vth 10.9 is theta = trunc(10.9) = 10 <= re: it still fires; theta 11 > re: silent
    assert step_loop("rf", _quarter_turn(RF, 10.9), inputs)[0][4, 0]
    assert not step_loop("rf", _quarter_turn(RF, 11.0), inputs)[0].any()


def test_rf_iz_by_hand():
    # vth 10: t = 1 reaches im = 10 >= 10: a spike, re -> 0, im -> 9; then (-9, 0) (0, -9)
    # (9, 0) (0, 9): im stays below 10, no other spike
    inputs = np.zeros((8, 1), np.int64)
    inputs[0] = 10
    spikes, re, im = step_loop("rf_iz", _quarter_turn(RFIZ, 10.0), inputs)
    assert list(np.flatnonzero(spikes[:, 0])) == [1]
    assert list(re[:6, 0]) == [10, 0, -9, 0, 9, 0] and list(im[:6, 0]) == [0, 9, 0, -9, 0, 9]


def test_state_exp_scales_input_and_threshold():
    # state_exp 3: a = 10 enters as 80; vth 9.9 is theta = trunc(79.2) = 79 <= 80: spike at 4
    inputs = np.zeros((6, 1), np.int64)
    inputs[0] = 10
    neuron = RF(period=4.0, alpha=0.0, vth=9.9, state_exp=3, decay_bits=12)
    spikes, re, _ = step_loop("rf", neuron, inputs)
    assert re[0, 0] == 80 and list(np.flatnonzero(spikes[:, 0])) == [4]
    neuron = RF(period=4.0, alpha=0.0, vth=10.01, state_exp=3, decay_bits=12)  # theta 80
    assert step_loop("rf", neuron, inputs)[0][4, 0]
    neuron = RF(period=4.0, alpha=0.0, vth=10.2, state_exp=3, decay_bits=12)  # theta 81
    assert not step_loop("rf", neuron, inputs)[0].any()


@pytest.mark.parametrize("delay", [1, 3])
def test_simulate_times_a_spike_at_t_plus_d(delay):
    # a source spike at step 2 with weight 10 (excitatory, 8 bits: unchanged) arrives at 2 + d;
    # the quarter-turn neuron then fires 4 steps later, and every 4 after
    net = Network("rf_hand", dt=1.0)
    net.source("inp", 1, spike_times(times=[2], ids=[0]))
    net.population("res", 1, _quarter_turn(RF, 5.0))
    net.connect("inp", "res", weight=10, delay=delay)
    record = simulate(net, 20, "loihi", record_v=["res"])
    arrival = 2 + delay
    assert list(record.spikes["res"][0]) == list(range(arrival + 4, 20, 4))
    assert record.voltages["res"][arrival, 0] == 10  # the voltage is re


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("fields", [
    dict(decay_bits=0),  # Lava's default: float decays its fixed-point model cannot shift
    dict(decay_bits=13),
    dict(state_exp=8),
    dict(vth=-1.0),
    dict(vth=[1.0, 2.0]),  # one threshold per Lava RF process
    dict(alpha=1.5),
    dict(period=0.0),
])
@pytest.mark.parametrize("cls", [RF, RFIZ])
def test_out_of_range_parameters_are_refused(cls, fields):
    given = dict(period=8.0, alpha=0.1, vth=1.0, state_exp=0, decay_bits=12) | fields
    with pytest.raises(ParameterError):
        cls(**given)


def test_kinds_load_from_yaml_names():
    assert RF(period=8, alpha=0.1, decay_bits=12).kind == "rf"
    assert RFIZ(period=8, alpha=0.1, decay_bits=12).kind == "rf_iz"
    assert REGISTRY.get("rf").native_numerics == "loihi"
    assert REGISTRY.get("rf_iz").native_numerics == "loihi"


# --------------------------------------------------------------------------- the float kinds


def float_loop(kind: str, period, alpha, vth: float, inputs: np.ndarray):
    """(spikes, re, im) of Lava's floating-point ``PyRFModelFloat`` / ``PyRF_IZModelFloat``."""
    steps, n = inputs.shape
    sin_d = (1 - np.asarray(alpha, np.float64)) * np.sin(np.pi * 2 * 1 / np.asarray(period))
    cos_d = (1 - np.asarray(alpha, np.float64)) * np.cos(np.pi * 2 * 1 / np.asarray(period))
    re, im = np.zeros(n), np.zeros(n)
    out = np.zeros((3, steps, n))
    for t in range(steps):
        new_re = cos_d * re - sin_d * im + inputs[t]
        new_im = sin_d * re + cos_d * im
        if kind == "rf_float":
            spike = (new_re >= vth) & (new_im >= 0) & (im < 0)
        else:
            spike = new_im >= vth
            new_re = new_re * (1 - spike)
            new_im = spike * (vth - 1e-5) + (1 - spike) * new_im
        re, im = new_re, new_im
        out[:, t] = spike, re, im
    return out[0].astype(bool), out[1], out[2]


def float_step_loop(kind: str, neuron, inputs: np.ndarray):
    step = REGISTRY.get(kind).steps["float"]
    steps, n = inputs.shape
    params, state = step.tables(neuron, n, 1.0)
    spikes = np.zeros((steps, n), bool)
    re, im = np.zeros((steps, n)), np.zeros((steps, n))
    ids = np.zeros(n, np.int64)
    for t in range(steps):
        count = step.update(np.ascontiguousarray(inputs[t]), params, state, 0, n, ids, 0, 0)
        spikes[t, ids[:count]] = True
        re[t], im[t] = state[0], state[1]
    return spikes, re, im


@pytest.mark.parametrize("kind, cls", [("rf_float", RFFloat), ("rf_iz_float", RFIZFloat)])
def test_float_step_is_lavas_float_loop(kind, cls):
    rng = np.random.default_rng(7)
    periods, alphas = rng.uniform(1.5, 30, 8), rng.choice([0.0, 0.05, 0.3], 8)
    inputs = rng.normal(0, 0.5, (300, 8)) * (rng.random((300, 8)) < 0.5)
    expected = float_loop(kind, periods, alphas, 0.4, inputs)
    got = float_step_loop(kind, cls(period=periods, alpha=alphas, vth=0.4), inputs)
    for name, e, g in zip(("spikes", "re", "im"), expected, got):
        assert np.array_equal(e, g), name  # the same float64 operations in the same order
    assert expected[0].any()


def _float_net(cls, alpha: float) -> Network:
    rng = np.random.default_rng(5)
    net = Network("rf_quantize", dt=1.0)
    net.source("inp", 20, poisson(rate_hz=100.0, seed=2))
    net.population("res", 6, cls(period=rng.uniform(3, 20, 6), alpha=alpha, vth=0.5))
    net.connect("inp", "res", all_to_all(), weight=rng.uniform(-0.3, 0.6, 120))
    return net


@pytest.mark.parametrize("cls, kind", [(RFFloat, "rf"), (RFIZFloat, "rf_iz")])
def test_quantizer_parameters_and_weights(cls, kind):
    net = _float_net(cls, 0.05)
    quantized, report = quantize(net, "loihi")
    float_neuron = net.populations["res"].neuron
    neuron = quantized.network.populations["res"].neuron
    assert neuron.kind == kind and (neuron.state_exp, neuron.decay_bits) == (6, 12)
    assert np.array_equal(neuron.period, float_neuron.period) and neuron.alpha == 0.05
    scale = 1.0 / report.populations[0].scale  # integer state units per float unit
    assert scale == 2.0 ** np.round(np.log2(scale))  # a power of two (the default)
    theta = int(neuron.vth * 2**neuron.state_exp)  # Lava's integer threshold
    assert theta == round(scale * 0.5)
    projection = quantized.network.projections[0]
    w_int = np.asarray(projection.weight, np.int64)
    assert np.abs(w_int).max() <= 255
    # each integer weight adds w << weight_exp << state_exp state units: w * 2^e * 64 / S float
    dequantized = w_int * 2.0**projection.weight_exp * 64 / scale
    step = 2.0 * 2.0**projection.weight_exp * 64 / scale  # a mixed projection keeps even weights
    assert np.abs(dequantized - net.projections[0].weight).max() <= step / 2 + 1e-12


@pytest.mark.parametrize("cls", [RFFloat, RFIZFloat])
def test_quantized_run_tracks_the_float_run(cls):
    net = _float_net(cls, 0.05)
    quantized, report = quantize(net, "loihi")
    scale = 1.0 / report.populations[0].scale
    exact = simulate(net, 300, "float", record_v=["res"])
    fixed = simulate(quantized.network, 300, "loihi", record_v=["res"])
    # the decays' truncation to 2^-12 over the ~1/alpha = 20 steps the state remembers, and the
    # weights' rounding (half a step of 2^-7 per synapse): within 2% of the peak (0.8% measured)
    # rf has no reset, so its state never depends on its spikes: compare the whole run; rf_iz's
    # reset makes a spike a step apart change the rest of the trace: compare each neuron up to
    # its first differing spike
    error = np.abs(fixed.voltages["res"] / scale - exact.voltages["res"])
    if cls is RFIZFloat:
        differs = np.cumsum(_raster(exact, 300) != _raster(fixed, 300), axis=0) > 0
        error = np.where(differs, 0.0, error)
    assert error.max() < 0.02 * np.abs(exact.voltages["res"]).max()
    assert np.abs(fixed.voltages["res"]).max() < 2**23 - 1  # the X / alpha bound: no saturation
    count, count_q = exact.spikes["res"][0].size, fixed.spikes["res"][0].size
    assert count > 50 and abs(count - count_q) <= 0.05 * count


def _raster(record, steps: int) -> np.ndarray:
    raster = np.zeros((steps, 6), bool)
    raster[record.spikes["res"][0], record.spikes["res"][1]] = True
    return raster


def test_undamped_resonator_is_reported():
    _, report = quantize(_float_net(RFFloat, 0.0), "loihi")
    assert any("alpha 0 (no decay)" in line and "saturate" in line for line in report.warnings)
