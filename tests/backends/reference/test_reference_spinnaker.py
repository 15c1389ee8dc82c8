"""SpiNNaker numerics against hand-computed s16.15 traces (sPyNNaker's neuron_model_lif_impl.h).

Expected values are written out by hand or computed with Python integers from the equations
(``//`` is floor division: the ARM accum multiply truncates toward minus infinity).
"""

from __future__ import annotations

import numpy as np

from snnc.backends.reference import simulate
from snnc.ir import Network, SpinnakerLIF, explicit, spike_times

ONE = 1 << 15  # 1.0 in s16.15


def mul(a: int, b: int) -> int:
    """accum * accum on ARM: floor((a * b) / 2^15)."""
    return (a * b) // ONE


def if_curr_exp(**fields) -> SpinnakerLIF:
    """IF_curr_exp with tau_m = 20 ms, c_m = 1 nF (R = 20), dt = 1 ms, rest/reset -65, threshold -50."""
    params = dict(v_thresh=-50 * ONE, v_reset=-65 * ONE, v_rest=-65 * ONE, v_init=-65 * ONE,
                  exp_tc=31170,  # floor(exp(-1/20) * 2^15)
                  r_membrane=20 * ONE)
    params.update(fields)
    return SpinnakerLIF(**params)


def test_constant_current_trace_by_hand():
    # I = i_offset = 1 nA: alpha = 1 * 20 + (-65) = -45 mV = -1474560; V0 = -65 mV = -2129920
    # step 0: V = alpha - mul(31170, alpha - V0) = -1474560 - (31170 * 655360 >> 15)
    #           = -1474560 - 623400 = -2097960
    net = Network("dc")
    net.population("n", 1, if_curr_exp(i_offset=ONE))
    record = simulate(net, 40, "spinnaker", record_v=["n"])
    v = record.voltages["n"][:, 0]
    assert v[0] == -2097960
    # step 1: alpha - V = -1474560 + 2097960 = 623400; mul(31170, 623400) = 19431378000 / 32768
    # = 592998.6 -> 592998, V = -1474560 - 592998 = -2067558
    assert 31170 * 623400 == 19431378000 and 19431378000 // ONE == 592998
    assert v[1] == -2067558
    # the steady state would be -45 mV > -50 mV threshold: it spikes, resets to -65 mV
    expected, state = [], -65 * ONE
    for _ in range(40):
        alpha = mul(ONE, 20 * ONE) - 65 * ONE
        state = alpha - mul(31170, alpha - state)
        if state >= -50 * ONE:
            state = -65 * ONE
        expected.append(state)
    assert v.tolist() == expected
    assert record.spikes["n"][0].size >= 1


def test_decay_toward_rest_truncates_toward_minus_infinity():
    # V above rest, no input: alpha - V < 0, so floor and truncation differ on every inexact step
    net = Network("down")
    net.population("n", 1, if_curr_exp(v_init=-60 * ONE + 1))
    record = simulate(net, 5, "spinnaker", record_v=["n"])
    state, expected = -60 * ONE + 1, []
    for _ in range(5):
        alpha = -65 * ONE
        state = alpha - (31170 * (alpha - state)) // ONE
        expected.append(state)
    assert (31170 * (-65 * ONE - (-60 * ONE + 1))) % ONE != 0  # inexact: floor != trunc
    assert record.voltages["n"][:, 0].tolist() == expected


def delta_probe(weights, *, shift_exc=0, shift_inh=0) -> Network:
    """Weights from one source (spike at 0, delay 1) into a neuron that shows this step's input:
    delta synapse, R = 1, exp_tc = 0, rest 0, so V = (W_exc << shift_exc) - (W_inh << shift_inh)."""
    net = Network("probe")
    net.source("inp", 1, spike_times([0], [0]))
    net.population("n", 1, SpinnakerLIF(v_thresh=2**31 - 1, exp_tc=0, r_membrane=ONE,
                                        synapse="delta", weight_shift_exc=shift_exc,
                                        weight_shift_inh=shift_inh))
    count = len(weights)
    net.connect("inp", "n", explicit([0] * count, [0] * count), weight=np.array(weights), delay=1)
    return net


def test_ring_buffer_saturates_per_receptor_and_shifts_per_receptor():
    # exc: 30000 * 3 = 90000 saturates to 65535; inh: 20000 * 2 = 40000 (magnitudes)
    net = delta_probe([30000, 30000, 30000, -20000, -20000], shift_exc=3, shift_inh=1)
    record = simulate(net, 3, "spinnaker", record_v=["n"])
    assert record.voltages["n"][:, 0].tolist() == [0, (65535 << 3) - (40000 << 1), 0]


def test_exponential_synapse_init_and_decay():
    # W = 100, shift 5 -> 3200 raw; init 0.5 (u0.32 2^31) adds 1600; decay 0.5 halves it after use.
    # R = 1, exp_tc = 0, rest 0: V shows the current of each step.
    net = Network("exp")
    net.source("inp", 1, spike_times([0], [0]))
    net.population("n", 1, SpinnakerLIF(v_thresh=2**31 - 1, exp_tc=0, r_membrane=ONE,
                                        weight_shift_exc=5, init_exc=2**31, decay_exc=2**31))
    net.connect("inp", "n", explicit([0], [0]), weight=100, delay=1)
    record = simulate(net, 6, "spinnaker", record_v=["n"])
    assert record.voltages["n"][:, 0].tolist() == [0, 1600, 800, 400, 200, 100]


def test_inhibitory_current_is_a_magnitude_subtracted_from_v():
    # I_inh holds +1601 (the magnitude); V = -I_inh; decay 0.5 floors 1601 / 2 = 800
    net = Network("inh")
    net.source("inp", 1, spike_times([0], [0]))
    net.population("n", 1, SpinnakerLIF(v_thresh=2**31 - 1, exp_tc=0, r_membrane=ONE,
                                        weight_shift_inh=0, init_inh=2**32 - 1, decay_inh=2**31))
    net.connect("inp", "n", explicit([0], [0]), weight=-1602, delay=1)
    record = simulate(net, 4, "spinnaker", record_v=["n"])
    assert (1602 * (2**32 - 1)) >> 32 == 1601  # decay_s1615(1602, init just under 1.0)
    assert record.voltages["n"][:, 0].tolist() == [0, -1601, -800, -400]


def test_refractory_freezes_v_and_threshold_is_inclusive():
    # i_offset drives V = alpha exactly (exp_tc 0): V = 5 raw each step; threshold 5 -> spike (>=)
    net = Network("refr")
    net.population("n", 1, SpinnakerLIF(v_thresh=5, v_reset=-7, exp_tc=0, r_membrane=ONE,
                                        i_offset=5, t_refract=2))
    record = simulate(net, 8, "spinnaker", record_v=["n"])
    assert record.spikes["n"][0].tolist() == [0, 3, 6]
    assert record.voltages["n"][:, 0].tolist() == [-7, -7, -7, -7, -7, -7, -7, -7]


def test_delays_and_ring_slots():
    net = delta_probe([10])
    net.connect("inp", "n", explicit([0], [0]), weight=20, delay=16, name="late")
    record = simulate(net, 20, "spinnaker", record_v=["n"])
    v = record.voltages["n"][:, 0]
    assert v[1] == 10 and v[16] == 20 and np.count_nonzero(v) == 2
