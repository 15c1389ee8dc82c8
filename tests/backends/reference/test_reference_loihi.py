"""Loihi numerics against hand-computed traces, Lava's recorded CSV and the W1 spike total.

Every expected value here is derived in the test from the equations (Python integers, written out
independently of the numba kernels), or comes from another tool's run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import Network, LoihiLIF, explicit, spike_times

DATA = Path(__file__).resolve().parents[2] / "data"
sys.path.insert(0, "/work/shared/bench")


def impulse_net(weight: int, *, du: int, dv: int, vth: int = 131071, at: int = 0,
                **neuron) -> Network:
    """One source spike at step ``at`` into one loihi_lif neuron through weight ``weight``, delay 1."""
    net = Network("impulse")
    net.source("inp", 1, spike_times([at], [0]))
    net.population("out", 1, LoihiLIF(du=du, dv=dv, vth=vth, **neuron))
    net.connect("inp", "out", explicit([0], [0]), weight=weight, delay=1)
    return net


def trunc_div(numerator: int, denominator: int) -> int:
    """Integer division truncated toward zero (Python's // floors)."""
    q = abs(numerator) // denominator
    return q if numerator >= 0 else -q


def test_impulse_with_du_2047_halves_u_exactly():
    # du = 2047 is an exact halving only because Lava adds 1 to du: (4096 - 2048) / 4096 = 1/2.
    # The impulse of 128 arrives at step 1 (sent at 0, delay 1): u = 128 << 6 = 8192, then halves.
    record = simulate(impulse_net(128, du=2047, dv=0), 8, "loihi", record_v=["out"])
    expected_v = [0, 8192, 8192 + 4096, 8192 + 4096 + 2048, 15360, 15872, 16128, 16256]
    assert record.voltages["out"][:, 0].tolist() == expected_v


def test_impulse_with_du_2047_and_dv_2048():
    u, v, expected = 0, 0, []
    for step in range(10):
        u = u // 2 + (128 * 64 if step == 1 else 0)
        v = v // 2 + u
        expected.append(v)
    record = simulate(impulse_net(128, du=2047, dv=2048), 10, "loihi", record_v=["out"])
    assert record.voltages["out"][:, 0].tolist() == expected
    assert expected[:4] == [0, 8192, 8192, 6144]


def test_negative_impulse_decays_truncating_toward_zero():
    # weight -3 (inhibitory sign mode keeps it): u = -192, -96, ..., -3, -1, 0 (floor would give -2)
    u, v, us, vs = 0, 0, [], []
    for step in range(12):
        u = trunc_div(u * 2048, 4096) + (-3 * 64 if step == 1 else 0)
        v = trunc_div(v * 2048, 4096) + u
        us.append(u)
        vs.append(v)
    assert us[7:10] == [-3, -1, 0]
    record = simulate(impulse_net(-3, du=2047, dv=2048), 12, "loihi", record_v=["out"])
    assert record.voltages["out"][:, 0].tolist() == vs


def test_bias_only_spiking_uses_unshifted_bias_and_shifted_threshold():
    # bias 25 << 2 = 100 per step (not << 6); threshold 3 << 6 = 192; v = 100, 200 > 192 -> spike
    net = Network("bias")
    net.population("out", 1, LoihiLIF(du=0, dv=0, vth=3, bias_mant=25, bias_exp=2))
    record = simulate(net, 10, "loihi", record_v=["out"])
    assert record.spikes["out"][0].tolist() == [1, 3, 5, 7, 9]
    assert record.voltages["out"][:, 0].tolist() == [100, 0] * 5


def test_threshold_is_strict():
    # v reaches exactly vth << 6 = 192 and must not spike (v > vth, not >=)
    net = Network("strict")
    net.population("out", 1, LoihiLIF(du=0, dv=0, vth=3, bias_mant=96))
    record = simulate(net, 3, "loihi", record_v=["out"])
    assert record.spikes["out"][0].tolist() == [2]
    assert record.voltages["out"][:, 0].tolist() == [96, 192, 0]


def lava_step(u: int, v: int, a: int, du: int, dv: int, bias: int, vth: int) -> tuple[int, int]:
    """Lava's subthr_dynamics, then spike and reset, written out with Python integers."""
    u = trunc_div(u * (4096 - du - 1), 4096) + a * 64
    u = (u + 2**31) % 2**32 - 2**31  # Lava's int32 arithmetic
    if u > 2**23:
        u -= 2**24
    elif u <= -(2**23):
        u += 2**24
    v = trunc_div(v * (4096 - dv), 4096) + u + bias
    v = min(max(v, -(2**23 - 1)), 2**23 - 1)
    return u, (0 if v > vth << 6 else v)


@pytest.mark.parametrize("u_init,v_init,weight", [
    (2**23 - 100, 2**23 - 5, 255),      # u wraps to negative, v was saturated
    (-(2**23) + 50, -(2**23) + 1, -255),  # u wraps to positive; v saturates at -(2^23 - 1)
    (2**23 - 64 * 255, 0, 255),         # lands exactly on +2^23: kept (single wrap is '>')
])
def test_u_wraps_and_v_saturates(u_init, v_init, weight):
    net = impulse_net(weight, du=0, dv=0, u_init=u_init, v_init=v_init, at=0)
    u, v, expected = u_init, v_init, []
    for step in range(4):
        u, v = lava_step(u, v, weight if step == 1 else 0, 0, 0, 0, 131071)
        expected.append(v)
    record = simulate(net, 4, "loihi", record_v=["out"])
    assert record.voltages["out"][:, 0].tolist() == expected


def test_lava_cpu_fixed_csv():
    """The NIR paper's Lava run: du=4095, dv=163, vth=25, weight 10 (dt = 0.1 ms, 1000 steps).

    CSV row r is IR step r: column 0 is the input spike sent at step r (it reaches the neuron at
    r + 1 through the one Dense hop, our delay 1), column 1 is Lava's raw 24-bit v after step r
    (after reset; 64 units per weight unit), column 2 the output spike at step r.
    """
    rows = np.loadtxt(DATA / "lif_lava_cpu_fixed.csv", delimiter=",")
    times = np.flatnonzero(rows[:, 0])
    net = Network("nir_lif", dt=0.1)
    net.source("inp", 1, spike_times(times, np.zeros_like(times)))
    net.population("out", 1, LoihiLIF(du=4095, dv=163, vth=25))
    net.connect("inp", "out", explicit([0], [0]), weight=10, delay=1)
    record = simulate(net, 1000, "loihi", record_v=["out"])
    assert np.array_equal(record.voltages["out"][:, 0], rows[:, 1].astype(np.int64))
    assert record.spikes["out"][0].tolist() == [461, 511, 711, 761]
    assert record.spikes["out"][0].tolist() == np.flatnonzero(rows[:, 2]).tolist()


def test_weights_are_clipped_and_truncated_per_projection():
    # mixed sign, 8 bits: LSB dropped by floor (3 -> 2, -3 -> -4); nwb 6 mixed: drop 3 bits
    for weights, bits, expected in [((3, -3), 8, (2, -4)), ((13, -1), 6, (8, -8)),
                                    ((7, 5), 6, (4, 4)), ((-7, -5), 6, (-4, -4))]:
        net = Network("trunc")
        net.source("inp", 2, spike_times([0], [0]))
        net.population("out", 2, LoihiLIF(du=4095, dv=4095, vth=131071))
        net.connect("inp", "out", explicit([0, 0], [0, 1]), weight=np.array(weights),
                    delay=1, num_weight_bits=bits)
        record = simulate(net, 2, "loihi", record_v=["out"])
        assert record.voltages["out"][1].tolist() == [64 * w for w in expected], weights


def test_weight_exp_shifts_each_projections_sum():
    # two spikes of weight 3 (excitatory, kept) arrive together: sum 6; weight_exp -2 floors 6/4 = 1
    # (each weight alone would floor to 0); weight_exp +2 gives 24.
    for exp, expected in [(-2, 1), (2, 24), (0, 6)]:
        net = Network("wexp")
        net.source("inp", 2, spike_times([0, 0], [0, 1]))
        net.population("out", 1, LoihiLIF(du=4095, dv=4095, vth=131071))
        net.connect("inp", "out", explicit([0, 1], [0, 0]), weight=3, delay=1, weight_exp=exp)
        record = simulate(net, 2, "loihi", record_v=["out"])
        assert int(record.voltages["out"][1, 0]) == 64 * expected


def test_negative_weight_exp_floors_negative_sums():
    net = Network("wexp_neg")
    net.source("inp", 1, spike_times([0], [0]))
    net.population("out", 1, LoihiLIF(du=4095, dv=4095, vth=131071))
    net.connect("inp", "out", explicit([0], [0]), weight=-5, delay=3, weight_exp=-1)
    record = simulate(net, 4, "loihi", record_v=["out"])
    assert record.voltages["out"][:, 0].tolist() == [0, 0, 0, 64 * -3]  # floor(-5 / 2) = -3


def test_delays_follow_design_time_semantics():
    # a spike at step t through delay d changes v at step t + d; ring sized by the largest delay
    net = Network("delays")
    net.source("inp", 1, spike_times([2], [0]))
    net.population("out", 3, LoihiLIF(du=4095, dv=4095, vth=131071))
    net.connect("inp", "out", explicit([0, 0, 0], [0, 1, 2]), weight=1,
                delay=np.array([1, 7, 64]))
    record = simulate(net, 70, "loihi", record_v=["out"])
    v = record.voltages["out"]
    assert [int(np.flatnonzero(v[:, k])[0]) for k in range(3)] == [3, 9, 66]
    assert record.spikes["inp"][0].tolist() == [2]


def test_w1_balanced_network_total_matches_lava():
    """Lava 0.10 fixed_pt (and a numpy integer loop) give 12,233 spikes at N = 1000."""
    import w1_workload

    data = w1_workload.generate(1000)
    meta = json.loads(str(data["meta"]))
    net = Network("w1")
    net.population("n", 1000, LoihiLIF(du=meta["du12"], dv=meta["dv12"], vth=meta["vth"],
                                       bias_mant=meta["bias_mant"], bias_exp=meta["bias_exp"],
                                       v_init=data["v0_fx"].astype(np.int64)))
    net.connect("n", "n", explicit(data["pre"], data["post"]), weight=data["w"].astype(np.int64),
                delay=data["delay"].astype(np.int64))
    assert simulate(net, 1000, "loihi").total == 12_233


@pytest.mark.parametrize("longest", [2, 5, 8, 9, 16])
def test_every_delay_up_to_the_ring_length_arrives_once_and_on_time(longest):
    """A source spiking every step through delays 1..longest, weight k for delay k: each step's
    input is the sum of the weights whose delay has elapsed, so a ring slot reused too early, or
    one delay landing on another's step, changes the trace. du = 4095 makes u exactly this step's
    input << 6; v follows v = trunc(v / 4096) + u (dv = 4095), computed here in Python."""
    steps = 24
    net = Network("every_delay")
    net.source("inp", 1, spike_times(list(range(steps)), [0] * steps))
    net.population("out", 1, LoihiLIF(du=4095, dv=4095, vth=131071))
    delays = np.arange(1, longest + 1)
    net.connect("inp", "out", explicit([0] * longest, [0] * longest), weight=delays, delay=delays)
    record = simulate(net, steps, "loihi", record_v=["out"])
    expected, v = [], 0
    for t in range(steps):
        u = 64 * sum(int(d) for d in delays if d <= t)
        v = trunc_div(v * (4096 - 4095), 4096) + u
        expected.append(v)
    assert record.voltages["out"][:, 0].tolist() == expected


def test_a_lowered_program_runs_again_from_its_initial_state():
    from snnc.backends.reference.engine import Engine
    from snnc.backends.reference.program import lower

    net = impulse_net(100, du=0, dv=100, vth=20, bias_mant=40)
    program = lower(net, 50)
    runs = []
    for _ in range(2):
        engine = Engine(program, {})
        engine.run()
        runs.append([a.tolist() for a in engine.spikes()])
    assert runs[0] == runs[1] and runs[0][0]  # same spikes, and some
