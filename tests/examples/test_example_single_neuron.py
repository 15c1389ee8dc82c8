"""examples/single_neuron: hand-computed spike times, and every hardware target equal to the
reference with that target's numerics (spikes and voltages)."""

import sys

import numpy as np
import pytest
from example_loader import load_example

from snnc.backends.reference import simulate

single = load_example("single_neuron")


@pytest.fixture(scope="module")
def results():
    return single.simulate_all()


def test_float_lif_constant_input_hand_computed(results):
    # v[t] = a v[t-1] + 0.12, a = exp(-1/10): first above 1 when 0.12 (1 - a^(t+1)) / (1 - a) > 1,
    # i.e. t + 1 > ln(1 - (1 - a) / 0.12) / ln(a) = 15.75 -> t = 15; reset to 0 repeats it every 16
    a = np.exp(-0.1)
    first = int(np.ceil(np.log(1 - (1 - a) / 0.12) / np.log(a))) - 1
    assert first == 15
    assert results[("lif", "reference", "lif_const")]["spikes"] == [15, 31, 47]


def _loihi_const_trace(steps):
    """Lava's fixed-point LIF for a bias-only neuron, written out (lava/proc/lif/models.py)."""
    v, out = 0, []
    for t in range(steps):
        v = int(np.sign(v)) * ((abs(v) * (4096 - 410)) >> 12) + 768  # u = 0: no synaptic input
        if v > 100 << 6:
            out.append(t)
            v = 0
    return out


def test_loihi_lif_constant_input_hand_computed(results):
    expected = _loihi_const_trace(single.STEPS)
    assert expected  # the neuron does fire
    for target in ("reference", "loihi-sim"):
        assert results[("loihi", target, "loihi_const")]["spikes"] == expected


@pytest.mark.parametrize("target,numerics",
                         [("loihi-sim", "loihi"), ("spinnaker-emu", "spinnaker")])
def test_hardware_targets_equal_reference_numerics(results, target, numerics):
    net = single.lif_network()
    names = ["lif_const", "lif_spike"]
    reference = simulate(net, single.STEPS, numerics, record_v=names)
    for name in names:
        assert results[("lif", target, name)]["spikes"] == reference.spikes[name][0].tolist()
        assert len(results[("lif", target, name)]["spikes"]) >= 3
    # the spike input neuron responds to the burst on every target
    assert any(30 < t < 40 for t in results[("lif", target, "lif_spike")]["spikes"])


def test_loihi_voltages_equal_reference(results):
    reference = simulate(single.loihi_network(), single.STEPS, "float",
                         record_v=["loihi_const", "loihi_spike"])
    for name in ("loihi_const", "loihi_spike"):
        v = reference.voltages[name][:, 0] / (100 << 6)
        assert np.allclose(results[("loihi", "loihi-sim", name)]["v"], v, atol=0)


def test_plot_writes_the_figure(results, tmp_path):
    single.plot(results, tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_spinnaker_emu_refuses_loihi_lif_in_one_line():
    # SpiNNaker runs lif (quantized) and spinnaker_lif only; Lava's integers are not its kind
    message = single.refusal()
    assert message.splitlines() == [message]
    assert "'loihi_lif'" in message and "spinnaker-emu cannot run" in message


def test_main_without_matplotlib_prints_spikes_then_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert single.main(["-o", str(tmp_path / "s.png")]) == 2
    out, err = capsys.readouterr()
    assert "lif_const    spinnaker-emu  spikes at [15, 31, 47]" in out
    assert err.strip().splitlines() == [
        "plot: plotting needs matplotlib: pip install 'snnc[plot]' "
        "(or: pip install matplotlib)"]
    assert not (tmp_path / "s.png").exists()
