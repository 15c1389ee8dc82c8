"""snnc's integer extensions (IF, reset by subtraction, refractory hold) against hand traces.

Each trace is worked out by hand from the equations in the model's docstring, for one neuron
driven by its bias / offset alone, and checked on the reference's integer numerics.
"""

from __future__ import annotations

from snnc.backends.reference import simulate
from snnc.ir import Network
from snnc.models.loihi_lif import LoihiLIF
from snnc.models.spinnaker_lif import SpinnakerLIF


def _run(neuron, steps: int, numerics: str):
    net = Network("one", dt=1.0)
    net.population("n", 1, neuron)
    record = simulate(net, steps, numerics, record_v=["n"])
    return record.spikes["n"][0].tolist(), record.voltages["n"][:, 0].tolist()


def test_spinnaker_if_integrates_and_subtracts():
    # leak none, r_membrane = 1.0 (2^15): V += i_offset each step; v_thresh 10000; subtract.
    neuron = SpinnakerLIF(v_thresh=10000, exp_tc=0, r_membrane=2**15, i_offset=3000,
                          synapse="delta", leak="none", reset="subtract")
    spikes, v = _run(neuron, 8, "spinnaker")
    # 3000, 6000, 9000, 12000 -> spike, 2000; 5000, 8000, 11000 -> spike, 1000; 4000
    assert v == [3000, 6000, 9000, 2000, 5000, 8000, 1000, 4000]
    assert spikes == [3, 6]


def test_spinnaker_refractory_holds_v_reset():
    neuron = SpinnakerLIF(v_thresh=10000, v_reset=-500, exp_tc=0, r_membrane=2**15,
                          i_offset=4000, synapse="delta", leak="none", t_refract=2)
    spikes, v = _run(neuron, 9, "spinnaker")
    # 4000, 8000, 12000 -> spike, -500; held -500, -500; 3500, 7500, 11500 -> spike, -500
    assert v == [4000, 8000, -500, -500, -500, 3500, 7500, -500, -500]
    assert spikes == [2, 7]


def test_loihi_refractory_and_subtract():
    # du = 4095: u = a << 6 = 0 (no input); dv = 0: no leak; bias 100 per step; vth << 6 = 256.
    neuron = LoihiLIF(du=4095, dv=0, vth=4, bias_mant=100, refractory=1, reset="subtract")
    spikes, v = _run(neuron, 8, "loihi")
    # 100, 200, 300 -> spike, 300 - 256 = 44; refractory: held at 0; 100, 200, 300 -> spike, 44; 0
    assert v == [100, 200, 44, 0, 100, 200, 44, 0]
    assert spikes == [2, 6]


def test_loihi_zero_reset_without_refractory_is_lavas_lif():
    neuron = LoihiLIF(du=4095, dv=0, vth=4, bias_mant=100)
    spikes, v = _run(neuron, 6, "loihi")
    assert v == [100, 200, 0, 100, 200, 0]
    assert spikes == [2, 5]
