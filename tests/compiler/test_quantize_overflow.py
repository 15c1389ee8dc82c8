"""The quantization report warns where a target's fixed-point voltage can leave its range."""

import numpy as np
import pytest

from snnc.compiler.passes.quantize import quantize
from snnc.ir import LIF, Network, all_to_all, poisson


def _net(tau_mem: float, inhibitory: float) -> Network:
    net = Network("o", dt=1.0)
    net.source("inp", 4, poisson(rate_hz=100.0, seed=1))
    net.population("pop", 3, LIF(tau_mem=tau_mem, v_th=1.0))
    net.connect("inp", "pop", all_to_all(), weight=np.array([0.5, -inhibitory] * 6))
    return net


@pytest.mark.parametrize("target", ["loihi-sim", "spinnaker-emu"])
def test_if_with_inhibition_warns_that_v_has_no_floor(target):
    _, report = quantize(_net(float("inf"), 0.3), target)
    lines = [w for w in report.warnings if "fall without bound" in w]
    assert len(lines) == 1 and lines[0].startswith("population 'pop': 3 neurons' voltage")


@pytest.mark.parametrize("target", ["loihi-sim", "spinnaker-emu"])
def test_a_leaky_neuron_within_range_gets_no_overflow_warning(target):
    _, report = quantize(_net(10.0, 0.01), target)
    assert not [w for w in report.warnings if "beyond the fixed-point range" in w]


def test_loihi_warns_where_its_scale_leaves_v_no_room_below():
    # the scale fits v_th and the largest excitatory input; strong inhibition pulls v below
    # -(2^23 - 1) integer units (-4 float units here), where Loihi saturates: said, not hidden
    _, report = quantize(_net(10.0, 0.3), "loihi-sim")
    lines = [w for w in report.warnings if "beyond the fixed-point range" in w]
    assert len(lines) == 1 and "Loihi's v saturates there" in lines[0]


def test_a_deep_floor_beyond_s1615_warns_on_spinnaker():
    # the floor under all-inhibitory input: -x_neg / (1 - alpha_m) = -(2 * 2000) / (1 - e^-0.001)
    _, report = quantize(_net(1000.0, 2000.0), "spinnaker-emu")
    lines = [w for w in report.warnings if "beyond the fixed-point range (-6.554e+04)" in w]
    assert len(lines) == 1 and "fall to -4" in lines[0]
