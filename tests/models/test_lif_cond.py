"""``lif_cond`` (PyNN IF_cond_exp) and ``spinnaker_lif_cond`` (sPyNNaker's, in s16.15).

- the float update against a numpy loop of the equations in ``LIFCond``'s docstring;
- the spinnaker Step against a Python-integer transcription, written here, of sPyNNaker's C
  (``neuron_impl_standard.h`` order, ``input_type_conductance.h``, ``neuron_model_lif_impl.h``,
  ``synapse_types_exponential_impl.h``), bit for bit;
- the quantizer's integers against hand-computed ones, and quantized rates against float rates;
- loihi-sim's one-line refusal.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.compiler.passes.quantize import quantize
from snnc.ir import Network, UnsupportedOnTarget, explicit, fixed_probability, poisson, spike_times
from snnc.models.lif_cond import LIFCond
from snnc.models.spinnaker_lif_cond import SpinnakerLIFCond
from snnc.models.support import check_network

ONE = 1 << 15  # 1.0 in s16.15
STEPS = 120

# two sources' spikes (several in one step, repeated neurons) through explicit synapses
TIMES = [0, 0, 1, 3, 3, 3, 4, 7, 9, 10, 10, 15, 20, 21, 22, 30, 31, 31, 40, 41, 42, 43, 60, 61]
IDS = [0, 1, 2, 0, 1, 3, 2, 0, 3, 1, 2, 0, 3, 2, 1, 0, 1, 2, 3, 0, 1, 2, 3, 3]
PRE = [0, 0, 1, 1, 2, 2, 3, 3, 0, 2]
POST = [0, 1, 1, 2, 0, 2, 1, 2, 2, 1]
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
    net = Network("cond", dt=1.0)
    net.source("inp", 4, spike_times(times=TIMES, ids=IDS))
    net.population("pop", size, neuron)
    net.connect("inp", "pop", explicit(PRE, POST), weight=weights, delay=DELAY)
    return net


# ---- float ---------------------------------------------------------------------------------------
# dyadic weights (µS): every sum of them is exact, so the engine's summation order cannot matter
FLOAT_WEIGHTS = np.array([0.0625, 0.03125, -0.125, 0.09375, 0.046875, -0.0625, 0.125, -0.03125,
                          0.25, -0.25])


def _float_loop(size: int, steps: int, p: dict) -> tuple[list, np.ndarray]:
    """The docstring's equations, step by step, in numpy float64."""
    exc, inh = _inputs(FLOAT_WEIGHTS, size, steps)
    a_m, r = np.exp(-1.0 / p["tau_m"]), p["tau_m"] / p["cm"]
    a_e, a_i = np.exp(-1.0 / p["tau_syn_E"]), np.exp(-1.0 / p["tau_syn_I"])
    refractory = math.ceil(p["tau_refrac"] / 1.0)
    v, g_e, g_i = np.full(size, p["v_init"]), np.zeros(size), np.zeros(size)
    left = np.zeros(size, dtype=np.int64)
    spikes, trace = [], np.zeros((steps, size))
    for t in range(steps):
        g_e, g_i = g_e + exc[t], g_i + inh[t]
        current = g_e * (p["e_rev_E"] - v) + g_i * (p["e_rev_I"] - v) + p["i_offset"]
        alpha = current * r + p["v_rest"]
        free = alpha - a_m * (alpha - v)
        held = left > 0
        fired = ~held & (free >= p["v_thresh"])
        v = np.where(held | fired, p["v_reset"], free)
        left = np.where(held, left - 1, np.where(fired, refractory, left))
        spikes += [(t, int(k)) for k in np.flatnonzero(fired)]
        trace[t] = v
        g_e, g_i = a_e * g_e, a_i * g_i
    return spikes, trace


def test_float_update_equals_a_numpy_loop_of_the_equations():
    p = dict(tau_m=np.array([20.0, 12.0, 30.0]), cm=np.array([1.0, 0.5, 2.0]), v_rest=-65.0,
             v_reset=-70.0, v_thresh=np.array([-52.0, -55.0, -50.0]), tau_syn_E=5.0,
             tau_syn_I=np.array([10.0, 3.0, 8.0]), e_rev_E=0.0, e_rev_I=-80.0,
             i_offset=np.array([0.5, 0.9, 0.4]), tau_refrac=2.5, v_init=-60.0)
    net = _network(LIFCond(**p), FLOAT_WEIGHTS, 3)
    record = simulate(net, STEPS, "float", record_v=["pop"])
    spikes, trace = _float_loop(3, STEPS, p)
    times, ids = record.spikes["pop"]
    assert list(zip(times.tolist(), ids.tolist())) == spikes
    assert np.array_equal(record.voltages["pop"], trace)
    assert len(spikes) >= 6 and len({k for _, k in spikes}) == 3  # every neuron fires
    assert np.any(np.diff(trace, axis=0) < 0)  # inhibition (or reset) pulls v down


def test_v_init_defaults_to_v_rest_and_refractory_holds_v_reset():
    net = Network("dc", dt=0.5)
    net.population("n", 1, LIFCond(i_offset=2.0, tau_refrac=1.2, v_reset=-68.0))
    v = simulate(net, 60, "float", record_v=["n"]).voltages["n"][:, 0]
    a = 2.0 * 20.0 - 65.0  # I R + v_rest: the target of the closed form
    assert v[0] == a - np.exp(-0.5 / 20.0) * (a - (-65.0))  # from v_rest
    first = int(np.flatnonzero(v == -68.0)[0])  # the first spike's reset
    # ceil(1.2 / 0.5) = 3 refractory steps held at v_reset, then v moves again
    assert v[first + 1:first + 4].tolist() == [-68.0] * 3 and v[first + 4] > -68.0


# ---- spinnaker numerics: sPyNNaker's C, transcribed with Python integers --------------------------
def wrap(x: int) -> int:
    return ((x + 2**31) % 2**32) - 2**31


def mul(a: int, b: int) -> int:
    """accum * accum as the ARM core computes it: (int64 a b) >> 15, floor."""
    return wrap((a * b) >> 15)


def decay(x: int, d: int) -> int:
    """decay_s1615: (int64 x * uint32 d) >> 32."""
    return wrap((x * d) >> 32)


def _c_transcription(p: dict, size: int, weights: np.ndarray, steps: int):
    ring_e, ring_i = _inputs(weights.astype(np.float64), size, steps)
    v = [int(p["v_init"][k]) for k in range(size)]
    g_e, g_i, refract = [0] * size, [0] * size, [0] * size
    spikes, trace = [], np.zeros((steps, size), dtype=np.int64)
    for t in range(steps):
        for k in range(size):
            # synapses.c: this tick's ring entries, uint16-saturated, into the receptors' state
            for g, ring, shift, init in ((g_e, ring_e, "shift_e", "init_e"),
                                         (g_i, ring_i, "shift_i", "init_i")):
                w = min(int(ring[t, k]), 0xFFFF)
                if w > 0:
                    g[k] = wrap(g[k] + decay(wrap(w << p[shift][k]), p[init][k]))
            # neuron_impl_standard.h: input_type_get_input_value (>> g_shift), then the currents
            # at the voltage the step starts with (input_type_conductance.h)
            exc = mul(g_e[k] >> p["g_shift"], wrap(p["v_rev_e"][k] - v[k]))
            inh = wrap(-mul(g_i[k] >> p["g_shift"], wrap(p["v_rev_i"][k] - v[k])))
            if refract[k] <= 0:  # neuron_model_lif_impl.h
                total = wrap(wrap(exc - inh) + p["i_offset"][k])
                alpha = wrap(mul(total, p["r_membrane"][k]) + p["v_rest"][k])
                v[k] = wrap(alpha - mul(p["exp_tc"][k], wrap(alpha - v[k])))
            else:
                refract[k] -= 1
            if v[k] >= p["v_thresh"][k]:  # threshold_type_static.h; neuron_model_has_spiked
                v[k] = p["v_reset"][k]
                refract[k] = p["t_refract"]
                spikes.append((t, k))
            trace[t, k] = v[k]
            g_e[k] = decay(g_e[k], p["decay_e"][k])  # synapse_types_shape_input
            g_i[k] = decay(g_i[k], p["decay_i"][k])
    return spikes, trace


INT_WEIGHTS = np.array([900, 40000, -1500, 1200, 1100, -900, 30000, -40000, 700, -2500])


def test_spinnaker_step_equals_sPyNNakers_c_bit_for_bit():
    p = dict(v_thresh=[-50 * ONE, -52 * ONE + 77, -49 * ONE], v_reset=[-65 * ONE] * 3,
             v_rest=[-65 * ONE, -64 * ONE + 3, -66 * ONE], v_init=[-60 * ONE, -65 * ONE, -58 * ONE],
             i_offset=[ONE * 4 // 5, ONE * 5 // 4, ONE * 7 // 10], exp_tc=[31170, 29650, 30000],
             r_membrane=[20 * ONE, 12 * ONE + 5, 25 * ONE], v_rev_e=[0, -3 * ONE, 5],
             v_rev_i=[-70 * ONE, -80 * ONE, -75 * ONE + 11],
             decay_e=[3516421809, 3000000000, 3600000000], init_e=[3892727437] * 3,
             decay_i=[3886247119, 2500000000, 3900000000], init_i=[4087201773, 3000000000, 4e9],
             shift_e=[6, 6, 6], shift_i=[7, 7, 7], g_shift=10, t_refract=3)
    neuron = SpinnakerLIFCond(
        v_thresh=np.array(p["v_thresh"]), v_reset=-65 * ONE, v_rest=np.array(p["v_rest"]),
        v_init=np.array(p["v_init"]), i_offset=np.array(p["i_offset"]),
        exp_tc=np.array(p["exp_tc"]), r_membrane=np.array(p["r_membrane"]),
        v_rev_e=np.array(p["v_rev_e"]), v_rev_i=np.array(p["v_rev_i"]),
        decay_exc=np.array(p["decay_e"]), init_exc=np.array(p["init_e"]),
        decay_inh=np.array(p["decay_i"]), init_inh=np.array(p["init_i"], dtype=np.int64),
        t_refract=3, weight_shift_exc=6, weight_shift_inh=7, g_shift=10)
    p["init_i"] = [int(x) for x in p["init_i"]]
    net = _network(neuron, INT_WEIGHTS, 3)
    record = simulate(net, STEPS, "spinnaker", record_v=["pop"])
    spikes, trace = _c_transcription(p, 3, INT_WEIGHTS, STEPS)
    assert np.array_equal(record.voltages["pop"], trace)
    times, ids = record.spikes["pop"]
    assert list(zip(times.tolist(), ids.tolist())) == spikes
    assert len(spikes) >= 6
    # the 16-bit ring saturates: 40000 + 30000 reach neuron 1 together (sources 0, 3 at step 3)
    assert _inputs(INT_WEIGHTS.astype(float), 3, STEPS)[0].max() > 0xFFFF


# ---- quantization --------------------------------------------------------------------------------
def test_quantized_integers_are_the_hand_computed_ones():
    neuron = LIFCond(tau_m=20.0, cm=0.5, v_thresh=-50.3, tau_syn_E=5.0, tau_syn_I=10.0,
                     i_offset=0.25, tau_refrac=2.5)
    net = _network(neuron, np.array([0.01, -0.02] * 5), 3)
    quantized, _ = quantize(net, "spinnaker")
    q = quantized.network.populations["pop"].neuron
    assert q.kind == "spinnaker_lif_cond"
    assert q.exp_tc == round(math.exp(-1 / 20) * 2**15) == 31170
    assert q.r_membrane == 40 * ONE  # tau_m / cm = 40 MOhm
    assert q.v_thresh == math.ceil(-50.3 * ONE) and q.v_reset == -65 * ONE
    assert q.i_offset == round(0.25 * ONE) and q.v_rev_i == -70 * ONE and q.v_rev_e == 0
    assert q.decay_exc == round(math.exp(-1 / 5) * 2**32)
    assert q.init_inh == round(10 * (1 - math.exp(-1 / 10)) * 2**32)
    assert q.t_refract == 3 and q.g_shift == 10
    weights = np.asarray(quantized.network.projections[0].weight)
    # ring weight = round(|w| 1024 / init 2^(15 - shift)) on the receptor of w's sign
    exc = round(0.01 * 1024 / (q.init_exc / 2**32) * 2.0 ** (15 - q.weight_shift_exc))
    inh = round(0.02 * 1024 / (q.init_inh / 2**32) * 2.0 ** (15 - q.weight_shift_inh))
    assert weights.tolist() == [exc, -inh] * 5


def test_quantized_rates_match_the_float_rates():
    """Tolerance: total spikes within 2 %, every neuron's count within 10 % (or 3 spikes): the
    s16.15 rounding of exp_tc (2e-5), of the decays (1e-10) and of the 16-bit weights (< 1e-4
    relative at these shifts) shifts single spikes by a step, not rates."""
    net = Network("rates", dt=1.0)
    net.source("exc", 80, poisson(rate_hz=20.0, seed=1))
    net.source("inh", 40, poisson(rate_hz=20.0, seed=2))
    net.population("pop", 40, LIFCond(tau_refrac=2.0, tau_syn_I=10.0, i_offset=0.2))
    net.connect("exc", "pop", fixed_probability(0.3, seed=3), weight=0.01)
    net.connect("inh", "pop", fixed_probability(0.3, seed=4), weight=-0.02)
    steps = 1500
    float_counts = np.bincount(simulate(net, steps, "float").spikes["pop"][1], minlength=40)
    quantized, _ = quantize(net, "spinnaker")
    fixed_counts = np.bincount(simulate(quantized.network, steps, "spinnaker").spikes["pop"][1],
                               minlength=40)
    assert float_counts.sum() > 40 * 10  # above 6 Hz: the rates are measured, not silence
    assert abs(int(fixed_counts.sum()) - int(float_counts.sum())) <= 0.02 * float_counts.sum()
    assert np.all(np.abs(fixed_counts - float_counts) <= np.maximum(3, 0.1 * float_counts))


def test_loihi_refuses_conductance_synapses_in_one_line():
    net = _network(LIFCond(), FLOAT_WEIGHTS, 3)
    with pytest.raises(UnsupportedOnTarget) as refusal:
        check_network(net, "loihi-sim")
    message = str(refusal.value)
    assert "\n" not in message
    assert "population 'pop'" in message and "'lif_cond'" in message
    assert "loihi-sim" in message and "conductance" in message


# ---- spinnaker-emu -------------------------------------------------------------------------------
def test_spinnaker_emu_runs_lif_cond_as_the_reference_spinnaker_numerics():
    """The emulator's cores run spinnaker_lif_cond's Step: spikes and voltages bit for bit equal
    to the reference's spinnaker numerics (``snnc verify``'s comparison)."""
    from snnc.backends import first_divergence, get_backend
    from snnc.compiler import compile_network

    net = Network("cond_emu", dt=1.0)
    net.source("exc", 60, poisson(rate_hz=30.0, seed=11))
    net.source("inh", 30, poisson(rate_hz=30.0, seed=12))
    net.population("pop", 30, LIFCond(tau_refrac=2.0, tau_syn_I=10.0, i_offset=0.3))
    net.population("out", 10, LIFCond(tau_syn_E=3.0, i_offset=0.5))
    net.connect("exc", "pop", fixed_probability(0.3, seed=13), weight=0.012, delay=1)
    net.connect("inh", "pop", fixed_probability(0.3, seed=14), weight=-0.03, delay=4)
    net.connect("pop", "out", fixed_probability(0.5, seed=15), weight=0.02, delay=2)
    build = compile_network(net, "spinnaker-emu")
    got = get_backend("spinnaker-emu").run(build, 200, record_v=["pop", "out"])
    expected = simulate(build.network, 200, "spinnaker", record_v=["pop", "out"])
    assert first_divergence(expected, got, ["pop", "out"]) is None
    for name in ("pop", "out"):
        assert np.array_equal(got.voltages[name], expected.voltages[name])
    assert expected.spikes["pop"][0].size > 30 and expected.spikes["out"][0].size > 0
