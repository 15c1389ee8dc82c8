"""``adaptive_lif`` (float) and its quantization to ``atrlif``, checked without Lava.

1. The reference's float update equals a plain numpy loop of the equations written here (random
   per-neuron time constants, thresholds, biases; dyadic weights, so the input sums are exact
   in any order), spikes and voltages bit for bit.
2. A hand-computed trace of one neuron (adaptive threshold and refractory state, no decays).
3. With decays the fixed point represents exactly (tau 0 or infinite) and dyadic weights, the
   quantized network (reference, loihi numerics) spikes exactly as the float one does.
4. The quantizer's rounding bounds: every decay within half a 4096th, thresholds within half an
   integer unit, Lava's parameter forms (multiples of 1/4096 and 1/64).
5. Refusals in one line: SpiNNaker numerics, NIR export.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.compiler.passes.quantize import quantize
from snnc.ir import Network, UnsupportedOnTarget, explicit, spike_times
from snnc.models.adaptive_lif import AdaptiveLIF
from snnc.models.atrlif import ATRLIF
from snnc.models.support import check_network

DT = 1.0


def _raster_source(net: Network, name: str, raster: np.ndarray) -> None:
    """A spike_times source: ``raster[t, j]`` True when input j spikes at step t."""
    times, ids = np.nonzero(raster)
    net.source(name, raster.shape[1], spike_times(times=times.tolist(), ids=ids.tolist()))


def _input(raster: np.ndarray, weights: np.ndarray, delay: int) -> np.ndarray:
    """x[t, k] = sum_j w[j, k] s_j[t - delay] (a spike at t arrives at t + delay)."""
    x = np.zeros((raster.shape[0], weights.shape[1]))
    x[delay:] = raster[:-delay].astype(np.float64) @ weights
    return x


def _numpy_loop(p: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The docstring's equations, vectorized over neurons, one step at a time."""
    alpha = {k: np.where(p[k] > 0, np.exp(-DT / np.where(p[k] > 0, p[k], 1.0)), 0.0)
             for k in ("tau_syn", "tau_mem", "tau_theta", "tau_ref")}
    n = x.shape[1]
    i, v = np.zeros(n), np.array(p["v_init"], dtype=np.float64)
    theta0 = np.asarray(p["v_th"], dtype=np.float64)
    theta, r = theta0.copy(), np.zeros(n)
    spikes, vs = np.zeros(x.shape, bool), np.zeros(x.shape)
    for t in range(x.shape[0]):
        i = alpha["tau_syn"] * i + x[t]
        v = alpha["tau_mem"] * v + i + p["bias"]
        theta = alpha["tau_theta"] * (theta - theta0) + theta0
        r = alpha["tau_ref"] * r
        s = v - r >= theta
        r = np.where(s, r + 2.0 * theta, r)
        theta = np.where(s, theta + p["theta_step"], theta)
        spikes[t], vs[t] = s, v
    return spikes, vs


def test_float_update_equals_a_numpy_loop_of_the_equations():
    rng = np.random.default_rng(11)
    n, m, steps = 24, 10, 150
    p = dict(tau_mem=rng.uniform(2.0, 30.0, n), tau_syn=rng.uniform(0.5, 8.0, n),
             tau_theta=rng.uniform(1.0, 60.0, n), tau_ref=rng.uniform(0.5, 10.0, n),
             v_th=rng.uniform(0.3, 2.0, n), bias=rng.uniform(-0.02, 0.05, n),
             v_init=rng.uniform(-0.5, 0.5, n), theta_step=0.37)
    p["tau_mem"][:3] = np.inf  # IF neurons
    p["tau_syn"][3:6] = 0.0  # delta synapses
    p["tau_theta"][6:8] = np.inf  # the threshold never relaxes
    p["tau_ref"][8:10] = 0.0  # no refractory state left at the next check
    raster = rng.random((steps, m)) < 0.2
    weights = rng.integers(-16, 48, (m, n)) / 64.0  # dyadic: sums exact in any order
    net = Network("adaptive", dt=DT)
    _raster_source(net, "inp", raster)
    net.population("pop", n, AdaptiveLIF(**p))
    pre, post = np.nonzero(np.ones((m, n)))
    net.connect("inp", "pop", explicit(pre, post), weight=weights[pre, post], delay=2)
    record = simulate(net, steps, "float", record_v=["pop"])
    want_spikes, want_v = _numpy_loop(p, _input(raster, weights, 2))
    got = np.zeros((steps, n), bool)
    got[record.spikes["pop"]] = True
    assert np.array_equal(got, want_spikes)
    assert np.array_equal(record.voltages["pop"], want_v)
    assert 20 < want_spikes.sum() < 0.8 * want_spikes.size  # spiking, and adapting


def test_hand_computed_trace():
    """tau_syn 0, no leak, no decay of theta or r; 0.75 arrives every step from step 1:
    v = 0.75 t. Step 2: v = 1.5 >= 1, spike (r = 2, theta = 1.5). Step 5: v - r = 1.75 >= 1.5,
    spike (r = 2 + 3 = 5, theta = 2). Then v - 5 >= 2 first at v = 7.5, step 10."""
    net = Network("trace", dt=DT)
    net.source("inp", 1, spike_times(times=list(range(14)), ids=[0] * 14))
    net.population("n", 1, AdaptiveLIF(tau_mem=float("inf"), tau_syn=0.0,
                                       tau_theta=float("inf"), tau_ref=float("inf"),
                                       v_th=1.0, theta_step=0.5))
    net.connect("inp", "n", weight=0.75)
    record = simulate(net, 12, "float", record_v=["n"])
    assert record.spikes["n"][0].tolist() == [2, 5, 10]
    assert record.voltages["n"][:, 0].tolist() == [0.75 * t for t in range(12)]


def _exact_network(rng) -> tuple[Network, int]:
    """Two adaptive_lif populations whose decays are 0 or 1 (exact in 12-bit fixed point) and
    whose weights are multiples of 1/8 (exact at the scale the quantizer chooses: 2^17 units per
    float unit, v_th = 1 at 2^17 = 64 * 2048). Balanced weights keep |v| below Loihi's 64."""
    steps, m = 80, 6
    net = Network("exact", dt=DT)
    _raster_source(net, "inp", rng.random((steps, m)) < 0.3)
    common = dict(tau_mem=float("inf"), tau_syn=0.0, v_th=1.0, theta_step=0.25)
    net.population("adapt", 8, AdaptiveLIF(**common, tau_theta=float("inf"), tau_ref=0.0))
    net.population("refr", 8, AdaptiveLIF(**common, tau_theta=0.0, tau_ref=float("inf")))
    for post in ("adapt", "refr"):
        pre, idx = np.nonzero(np.ones((m, 8)))
        net.connect("inp", post, explicit(pre, idx),
                    weight=rng.integers(-4, 6, pre.size) / 8.0, delay=1)
    return net, steps


def test_quantized_network_spikes_as_the_float_one_when_the_fixed_point_is_exact():
    net, steps = _exact_network(np.random.default_rng(5))
    floats = simulate(net, steps, "float", record_v=["adapt", "refr"])
    ints = simulate(net, steps, "loihi", record_v=["adapt", "refr"])
    for name in ("adapt", "refr"):
        assert np.abs(floats.voltages[name]).max() < 60  # the premise: no saturation at 2^23
        assert np.array_equal(floats.voltages[name] * 2**17, ints.voltages[name])
        assert floats.spikes[name][0].size > 10
        for f, q in zip(floats.spikes[name], ints.spikes[name]):
            assert np.array_equal(f, q)


def test_quantizer_rounding_bounds_and_lava_forms():
    rng = np.random.default_rng(2)
    n = 16
    net = Network("q", dt=DT)
    _raster_source(net, "inp", rng.random((20, 4)) < 0.3)
    net.population("pop", n, AdaptiveLIF(
        tau_mem=rng.uniform(2, 40, n), tau_syn=rng.uniform(0.5, 9, n),
        tau_theta=rng.uniform(1, 90, n), tau_ref=rng.uniform(0.5, 12, n),
        v_th=rng.uniform(0.5, 3.0, n), bias=rng.uniform(0, 0.05, n), theta_step=0.6))
    net.connect("inp", "pop", weight=0.4)
    quantized, report = quantize(net, "loihi-sim")
    neuron = quantized.network.populations["pop"].neuron
    assert isinstance(neuron, ATRLIF)
    entry = next(p for p in report.populations if p.name == "pop")
    scale = 1.0 / entry.scale  # integer units per float unit
    src = net.populations["pop"].neuron
    for delta, tau, offset in ((neuron.delta_i, src.tau_syn, 1), (neuron.delta_v, src.tau_mem, 0),
                               (neuron.delta_theta, src.tau_theta, 0),
                               (neuron.delta_r, src.tau_ref, 0)):
        units = np.asarray(delta) * 4096
        assert np.array_equal(units, np.rint(units))  # multiples of 1/4096
        factor = (4096 - units - offset) / 4096  # Lava's integer factor (i: one 4096th more)
        assert np.abs(factor - np.exp(-DT / np.asarray(tau))).max() <= 0.5 / 4096 + 1e-12
    theta_units = np.asarray(neuron.theta_0) * 64
    assert np.array_equal(theta_units, np.rint(theta_units))
    assert np.abs(theta_units - scale * np.asarray(src.v_th)).max() <= 0.5
    assert abs(neuron.theta_step * 64 - scale * 0.6) <= 0.5
    assert theta_units.max() <= 4095 * 64 and neuron.theta_step <= 4095
    assert entry.kind == "adaptive_lif" and entry.quantized_kind == "atrlif"


def test_spinnaker_refuses_atrlif_and_nir_refuses_adaptive_lif_in_one_line():
    """Lava's integer ATRLIF is Loihi's own (adaptive_lif reaches SpiNNaker as
    spinnaker_adaptive_lif instead); NIR has no adaptive node."""
    from snnc.ir.nir_export import to_nir

    net = Network("refused", dt=DT)
    net.source("inp", 2, spike_times(times=[0], ids=[0]))
    net.population("pop", 3, ATRLIF())
    net.connect("inp", "pop", weight=5)
    with pytest.raises(UnsupportedOnTarget) as refusal:
        check_network(net, "spinnaker-emu")
    message = str(refusal.value)
    assert "\n" not in message and "'pop'" in message and "'atrlif'" in message
    assert "spinnaker-emu" in message
    floating = Network("refused", dt=DT)
    floating.source("inp", 2, spike_times(times=[0], ids=[0]))
    floating.population("pop", 3, AdaptiveLIF(tau_mem=10.0))
    floating.connect("inp", "pop", weight=0.5)
    check_network(floating, "spinnaker-emu")  # runs there as spinnaker_adaptive_lif
    with pytest.raises(UnsupportedOnTarget) as refusal:
        to_nir(floating)
    assert "\n" not in str(refusal.value) and "adaptive_lif" in str(refusal.value)


def test_atrlif_ranges_are_lavas():
    with pytest.raises(ValueError):
        ATRLIF(delta_v=1.5)
    with pytest.raises(ValueError):
        ATRLIF(theta_0=5000)
    with pytest.raises(ValueError):
        ATRLIF(bias_mant=5000)
    assert ATRLIF().delta_i == 0.4 and ATRLIF().theta_step == 3.75  # Lava's defaults
