"""``adaptive_lif`` on SpiNNaker numerics: ``spinnaker_adaptive_lif`` (ATRLIF's equations in s16.15).

- the spinnaker Step against a numpy int64 loop, written here, of the fixed-point equations in
  ``SpinnakerAdaptiveLIF``'s docstring (ring saturation, u0.32 decays including 0 and 2^32,
  32-bit wraps), bit for bit: spikes and every v;
- the quantizer's integers against hand-computed ones; a quantized network whose fixed point is
  exact (decays 0 or 1, dyadic weights and thresholds) spikes exactly as the float one; on a
  general network quantized and float spike counts agree within the tolerance stated there;
- spinnaker-emu against the reference's spinnaker numerics on small random networks
  (``first_divergence``, voltages, ``snnc.verify``);
- the one-line refusals (loihi-sim for the integer kind, graded input on SpiNNaker).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from snnc import verify
from snnc.backends import first_divergence, get_backend
from snnc.backends.reference import simulate
from snnc.compiler import compile_network
from snnc.compiler.passes.quantize import quantize
from snnc.ir import (
    Network,
    UnsupportedOnTarget,
    all_to_all,
    explicit,
    fixed_probability,
    poisson,
    spike_times,
)
from snnc.models.adaptive_lif import AdaptiveLIF
from snnc.models.li import LI
from snnc.models.lif import LIF
from snnc.models.spinnaker_adaptive_lif import SpinnakerAdaptiveLIF
from snnc.models.support import check_network

ONE = 1 << 15  # 1.0 in s16.15
U1 = 1 << 32  # the model's exact u0.32 "1"
STEPS = 120

TIMES = [0, 0, 1, 3, 3, 3, 4, 7, 9, 10, 10, 15, 20, 21, 22, 30, 31, 31, 40, 41, 42, 43, 60, 61]
IDS = [0, 1, 2, 0, 1, 3, 2, 0, 3, 1, 2, 0, 3, 2, 1, 0, 1, 2, 3, 0, 1, 2, 3, 3]
PRE = [0, 0, 1, 1, 2, 2, 3, 3, 0, 2, 1, 3]
POST = [0, 1, 1, 2, 0, 2, 1, 3, 2, 1, 3, 0]
DELAY = 2


def _inputs(weights: np.ndarray, size: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Per step, each neuron's summed positive weights and summed |negative| weights."""
    exc, inh = np.zeros((steps, size)), np.zeros((steps, size))
    for t, i in zip(TIMES, IDS):
        for pre, post, w in zip(PRE, POST, weights):
            if pre == i and t + DELAY < steps:
                (exc if w > 0 else inh)[t + DELAY, post] += abs(w)
    return exc, inh


def _network(neuron, weights: np.ndarray, size: int) -> Network:
    net = Network("adaptive_spin", dt=1.0)
    net.source("inp", 4, spike_times(times=TIMES, ids=IDS))
    net.population("pop", size, neuron)
    net.connect("inp", "pop", explicit(PRE, POST), weight=weights, delay=DELAY)
    return net


# ---- the Step against a numpy loop of the stated fixed-point equations ---------------------------
def wrap(a: np.ndarray) -> np.ndarray:
    return ((a + 2**31) & 0xFFFFFFFF) - 2**31


def decay(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """(int64 x * d) >> 32: numpy's >> on int64 is arithmetic (toward minus infinity)."""
    return wrap((x * d) >> 32)


def _numpy_loop(p: dict, weights: np.ndarray, size: int, steps: int):
    ring_e, ring_i = (np.minimum(r, 0xFFFF).astype(np.int64)
                      for r in _inputs(weights.astype(np.float64), size, steps))
    v, theta = np.array(p["v_init"], np.int64), np.array(p["theta_0"], np.int64)
    i_e, i_i, r = (np.zeros(size, np.int64) for _ in range(3))
    spikes, trace = [], np.zeros((steps, size), dtype=np.int64)
    for t in range(steps):
        i_e = wrap(i_e + wrap(ring_e[t] << p["shift_e"]))
        i_i = wrap(i_i + wrap(ring_i[t] << p["shift_i"]))
        v = wrap(decay(v, p["d_mem"]) + (i_e - i_i) + p["bias"])
        theta = wrap(decay(wrap(theta - p["theta_0"]), p["d_theta"]) + p["theta_0"])
        r = decay(r, p["d_ref"])
        fired = wrap(v - r) >= theta
        r = np.where(fired, wrap(r + 2 * theta), r)
        theta = np.where(fired, wrap(theta + p["step"]), theta)
        spikes += [(t, int(k)) for k in np.flatnonzero(fired)]
        trace[t] = v
        i_e, i_i = decay(i_e, p["d_syn"]), decay(i_i, p["d_syn"])
    return spikes, trace


# 40000 + 30000 reach neuron 1 at one step (the ring saturates); neuron 3's bias wraps v
INT_WEIGHTS = np.array([900, 40000, -1500, 1200, 1100, -900, 30000, 2500, 700, -2500, 800, 600])


def test_spinnaker_step_equals_a_numpy_loop_of_the_fixed_point_equations():
    p = dict(theta_0=np.array([ONE, ONE // 2 + 77, 2 * ONE, 2**30]), step=ONE // 3,
             bias=np.array([300, -40, 0, 2**29 + 5]), v_init=np.array([0, ONE // 4, -ONE, 0]),
             d_mem=np.array([3886247119, 4000000000, U1, U1]),
             d_syn=np.array([3344923893, 0, 2000000000, 3000000000]),
             d_theta=np.array([4085499269, U1, 0, 3900000000]),
             d_ref=np.array([3077478545, 3500000000, U1, 0]), shift_e=5, shift_i=6)
    neuron = SpinnakerAdaptiveLIF(
        theta_0=p["theta_0"], theta_step=p["step"], bias=p["bias"], v_init=p["v_init"],
        decay_mem=p["d_mem"], decay_syn=p["d_syn"], decay_theta=p["d_theta"],
        decay_ref=p["d_ref"], weight_shift_exc=5, weight_shift_inh=6)
    record = simulate(_network(neuron, INT_WEIGHTS, 4), STEPS, "spinnaker", record_v=["pop"])
    spikes, trace = _numpy_loop(p, INT_WEIGHTS, 4, STEPS)
    assert np.array_equal(record.voltages["pop"], trace)
    times, ids = record.spikes["pop"]
    assert list(zip(times.tolist(), ids.tolist())) == spikes
    assert {k for _, k in spikes} >= {0, 1, 2}  # the input-driven neurons fire
    assert _inputs(INT_WEIGHTS.astype(float), 4, STEPS)[0].max() > 0xFFFF  # saturation taken
    assert np.any(np.diff(trace[:, 3]) < 0)  # neuron 3's v wrapped (it only ever rises)


# ---- quantization --------------------------------------------------------------------------------
def test_quantized_integers_are_the_hand_computed_ones():
    neuron = AdaptiveLIF(tau_mem=20.0, tau_syn=5.0, tau_theta=float("inf"), tau_ref=0.0,
                         v_th=1.3, theta_step=0.25, bias=0.01, v_init=-0.5)
    net = _network(neuron, np.array([0.2, -0.15] * 6), 4)
    quantized, report = quantize(net, "spinnaker")
    q = quantized.network.populations["pop"].neuron
    assert q.kind == "spinnaker_adaptive_lif"
    assert q.decay_mem == round(math.exp(-1 / 20) * 2**32)
    assert q.decay_syn == round(math.exp(-1 / 5) * 2**32)
    assert q.decay_theta == U1 and q.decay_ref == 0  # tau inf: exactly 1; tau 0: 0
    assert q.theta_0 == round(1.3 * ONE) and q.theta_step == ONE // 4
    assert q.bias == round(0.01 * ONE) and q.v_init == -ONE // 2
    weights = np.asarray(quantized.network.projections[0].weight)
    exc = round(0.2 * 2.0 ** (15 - q.weight_shift_exc))
    inh = round(0.15 * 2.0 ** (15 - q.weight_shift_inh))
    assert weights.tolist() == [exc, -inh] * 6
    entry = next(e for e in report.populations if e.name == "pop")
    assert entry.quantized_kind == "spinnaker_adaptive_lif" and entry.kind == "adaptive_lif"
    assert entry.parameters["decay_theta"] == str(U1)


def test_an_exactly_representable_network_spikes_as_the_float_one():
    """Decays 0 or 1 and dyadic weights and thresholds: s16.15 holds every value the float model
    computes, so spikes and voltages are the float ones exactly."""
    inf = float("inf")
    neuron = AdaptiveLIF(tau_mem=inf, tau_syn=0.0, tau_theta=inf,
                         tau_ref=np.array([0.0, inf, 0.0, inf]), v_th=1.0, theta_step=0.5,
                         bias=np.array([0.0, 0.03125, -0.015625, 0.0]))
    weights = np.array([0.25, 0.5, -0.125, 0.375, 0.25, -0.0625, 0.75, 0.5, 0.125, -0.25, 0.5,
                        0.25])
    net = _network(neuron, weights, 4)
    expected = simulate(net, STEPS, "float", record_v=["pop"])
    quantized, _ = quantize(net, "spinnaker")
    got = simulate(quantized.network, STEPS, "spinnaker", record_v=["pop"])
    assert first_divergence(expected, got, ["pop"]) is None
    assert np.array_equal(got.voltages["pop"] / ONE, expected.voltages["pop"])
    assert expected.spikes["pop"][0].size >= 8
    assert set(expected.spikes["pop"][1].tolist()) >= {1, 3}  # r kept (tau_ref inf) is tested


def test_quantized_rates_match_the_float_rates():
    """Tolerance: total spikes within 3 %, each neuron's count within 10 % (or 3 spikes). The
    decays are within 1.2e-10 of the float factors and the thresholds and 16-bit weights within
    2^-16 of theirs: that moves single spikes by a step, not rates (no reset: a spike's timing
    error does not accumulate into v)."""
    net = Network("rates", dt=1.0)
    net.source("exc", 80, poisson(rate_hz=20.0, seed=1))
    net.source("inh", 40, poisson(rate_hz=20.0, seed=2))
    net.population("pop", 40, AdaptiveLIF(tau_mem=20.0, tau_syn=5.0, tau_theta=50.0, tau_ref=5.0,
                                          v_th=1.0, theta_step=0.2, bias=0.02))
    net.connect("exc", "pop", fixed_probability(0.3, seed=3), weight=0.11)
    net.connect("inh", "pop", fixed_probability(0.3, seed=4), weight=-0.13)
    steps = 1500
    float_counts = np.bincount(simulate(net, steps, "float").spikes["pop"][1], minlength=40)
    quantized, _ = quantize(net, "spinnaker")
    fixed_counts = np.bincount(simulate(quantized.network, steps, "spinnaker").spikes["pop"][1],
                               minlength=40)
    assert float_counts.sum() > 40 * 10  # above 6 Hz: the rates are measured, not silence
    assert abs(int(fixed_counts.sum()) - int(float_counts.sum())) <= 0.03 * float_counts.sum()
    assert np.all(np.abs(fixed_counts - float_counts) <= np.maximum(3, 0.1 * float_counts))


def test_the_report_warns_where_v_can_leave_s1615():
    """No leak and excitatory input: v (never reset) rises without bound and would wrap at
    65536; with a leak and the same input its ceiling (x / (1 - alpha)) stays far inside."""
    net = Network("wrap", dt=1.0)
    net.source("inp", 8, poisson(rate_hz=250.0, seed=3))
    net.population("free", 6, AdaptiveLIF(tau_mem=float("inf")))
    net.population("leaky", 6, AdaptiveLIF(tau_mem=10.0))
    net.connect("inp", "free", all_to_all(), weight=0.3)
    net.connect("inp", "leaky", all_to_all(), weight=0.3)
    _, report = quantize(net, "spinnaker")
    entries = {e.name: e for e in report.populations}
    assert len(entries["free"].overflow) == 1 and "wraps" in entries["free"].overflow[0]
    assert "6 neurons" in entries["free"].overflow[0]
    assert entries["leaky"].overflow == []


# ---- refusals ------------------------------------------------------------------------------------
def test_loihi_refuses_the_integer_kind_in_one_line():
    net = _network(SpinnakerAdaptiveLIF(theta_0=ONE, decay_mem=U1), INT_WEIGHTS, 4)
    with pytest.raises(UnsupportedOnTarget) as refusal:
        check_network(net, "loihi-sim")
    message = str(refusal.value)
    assert "\n" not in message and "population 'pop'" in message
    assert "'spinnaker_adaptive_lif'" in message and "loihi-sim" in message


def test_graded_input_is_refused_in_one_line():
    net = Network("graded", dt=1.0)
    net.source("inp", 4, poisson(rate_hz=100.0, seed=1))
    net.population("read", 3, LI(tau_mem=10.0))
    net.population("pop", 2, AdaptiveLIF(tau_mem=10.0))
    net.connect("inp", "read", all_to_all(), weight=0.5)
    net.connect("read", "pop", all_to_all(), weight=0.5)
    with pytest.raises(UnsupportedOnTarget) as refusal:
        quantize(net, "spinnaker")
    message = str(refusal.value)
    assert "\n" not in message and "population 'pop'" in message
    assert "(adaptive_lif)" in message and "graded" in message and "spinnaker-emu" in message


# ---- spinnaker-emu -------------------------------------------------------------------------------
def _random_network(seed: int) -> Network:
    rng = np.random.default_rng(seed)
    net = Network(f"adaptive_{seed}", dt=float(rng.choice([1.0, 0.5])))
    net.source("inp", 12, poisson(rate_hz=float(rng.uniform(80, 300)), seed=seed))
    names = []
    for k in range(int(rng.integers(2, 4))):
        size = int(rng.integers(3, 10))
        neuron = AdaptiveLIF(
            tau_mem=float(rng.choice([10.0, 25.0, float("inf")])),
            tau_syn=float(rng.choice([0.0, 3.0])), tau_theta=float(rng.uniform(5, 60)),
            tau_ref=float(rng.choice([0.0, 2.0, 6.0])), v_th=rng.uniform(0.6, 1.4, size),
            theta_step=float(rng.uniform(0, 0.6)), bias=rng.uniform(-0.02, 0.05, size),
            v_init=rng.uniform(-0.3, 0.3, size))
        names.append(f"p{k}")
        net.population(names[-1], size, neuron)
        net.connect("inp", names[-1], fixed_probability(0.6, seed=seed + k),
                    weight=float(rng.uniform(0.1, 0.5)), delay=int(rng.integers(1, 4)))
    for pre, post in zip(names, names[1:] + names[:1]):  # a ring of populations (recurrence)
        net.connect(pre, post, all_to_all(), weight=float(rng.uniform(-0.4, 0.4)),
                    delay=int(rng.integers(1, 40)))  # beyond 32: the delay cores too
    net.population("out", 3, LIF(tau_mem=15.0))
    net.connect(names[-1], "out", all_to_all(), weight=0.3, delay=2)
    return net


@pytest.mark.parametrize("seed", [1, 2])
def test_spinnaker_emu_equals_the_reference_spinnaker_numerics(seed):
    net = _random_network(seed)
    build = compile_network(net, "spinnaker-emu")
    kinds = {p.name: p.kind for p in build.network.neuron_populations()}
    assert {kinds[name] for name in kinds if name.startswith("p")} == {"spinnaker_adaptive_lif"}
    names = list(kinds)
    got = get_backend("spinnaker-emu").run(build, 150, record_v=names)
    expected = simulate(build.network, 150, "spinnaker", record_v=names)
    assert first_divergence(expected, got, names) is None
    for name in names:
        assert np.array_equal(got.voltages[name], expected.voltages[name])
    assert sum(expected.spikes[name][0].size for name in names if name.startswith("p")) > 20


def test_snnc_verify_matches_on_spinnaker_emu():
    result = verify(_random_network(3), "spinnaker-emu", steps=100)
    assert result.numerics == "spinnaker" and result.spikes > 0
    assert result.divergence is None
