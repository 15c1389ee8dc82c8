"""The IR: the design note's example loads as written, the builder, save/load round trips."""

from pathlib import Path

import numpy as np
import pytest

from snnc.ir import (
    LIF, LoihiLIF, Network, NetworkError, equal, expand, fixed_probability, load, normal,
    one_to_one, poisson, spike_times, uniform,
)

ROOT = Path(__file__).resolve().parents[2]
DESIGN_EXAMPLE = ROOT / "examples" / "design_note" / "net.yaml"


def test_design_note_example_loads_as_written():
    net = load(DESIGN_EXAMPLE)
    assert list(net.populations) == ["inp", "noise", "hid", "out"]
    assert net.populations["hid"].neuron.tau_syn == 5.0
    assert net.populations["out"].neuron.dv == 200
    assert [p.name for p in net.projections] == ["inp->hid", "noise->hid", "hid->out"]
    h2o = expand(net, "hid->out")
    assert h2o.weight.dtype == np.int32  # loihi_lif target: integer weights
    assert h2o.pre.tolist() == [0, 1, 2, 0, 1, 2]
    inp_hid = expand(net, "inp->hid")
    assert len(inp_hid) == 4 * 3 and np.all(inp_hid.weight == 0.5)


def test_builder_matches_yaml(tmp_path):
    net = Network("demo", dt=1.0)
    inp = net.source("inp", 4, spike_times(times=[0, 3, 5], ids=[0, 1, 3]))
    hid = net.population("hid", 3, LIF(tau_mem=20.0, tau_syn=5.0))
    net.connect(inp, hid, weight=0.5, delay=1)
    text = """
snnc: 1
name: demo
dt: 1.0
populations:
  inp: {size: 4, source: {kind: spike_times, times: [0, 3, 5], ids: [0, 1, 3]}}
  hid: {size: 3, neuron: {kind: lif, tau_mem: 20.0, tau_syn: 5.0}}
projections:
  - {from: inp, to: hid, connect: all_to_all, weight: 0.5, delay: 1}
"""
    (tmp_path / "n.yaml").write_text(text)
    assert equal(load(tmp_path / "n.yaml"), net)


def _rich_network() -> Network:
    rng = np.random.default_rng(1)
    net = Network("rich", dt=0.5, metadata={"origin": "test"})
    src = net.source("src", 50, poisson(rate_hz=rng.uniform(5, 50, 50), seed=3))
    exc = net.population("exc", 40, LIF(tau_mem=20.0, tau_syn=5.0, v_init=rng.uniform(0, 1, 40),
                                         refractory=2, reset="subtract"))
    out = net.population("out", 40, LoihiLIF(du=4095, dv=200, vth=640, bias_mant=32, bias_exp=6))
    net.connect(src, exc, fixed_probability(0.2, seed=9), weight=normal(0.1, 0.02, seed=4),
                delay=uniform(1, 8, seed=5))
    net.connect(exc, exc, fixed_probability(0.1, seed=2, allow_self=False), weight=-0.3, delay=3)
    net.connect(exc, out, one_to_one(), weight=rng.integers(-256, 256, 40), delay=np.arange(1, 41),
                weight_exp=2, num_weight_bits=6)
    return net


def test_save_load_round_trip_exact(tmp_path):
    net = _rich_network()
    net.save(tmp_path / "rich.yaml")
    back = load(tmp_path / "rich.yaml")
    assert equal(back, net)
    for projection in net.projections:
        a, b = expand(net, projection), expand(back, projection.name)
        for field in ("pre", "post", "weight", "delay"):
            assert np.array_equal(getattr(a, field), getattr(b, field))
    # saving again gives byte-identical files
    back.save(tmp_path / "again.yaml")
    assert (tmp_path / "again.yaml").read_text().replace("again.npz", "rich.npz") == \
        (tmp_path / "rich.yaml").read_text()


def test_equal_detects_a_changed_array():
    a, b = _rich_network(), _rich_network()
    assert equal(a, b)
    weights = np.array(b.projections[2].weight)
    weights[0] += 1
    b.projections[2] = b.projections[2].model_copy(update={"weight": weights})
    assert not equal(a, b)


def test_builder_rejects_bad_projection_immediately():
    net = Network("bad")
    net.population("a", 2, LIF(tau_mem=5.0))
    with pytest.raises(NetworkError, match="unknown population 'zz'"):
        net.connect("a", "zz", weight=1.0)
    with pytest.raises(NetworkError, match="one_to_one needs equal sizes"):
        net.population("b", 3, LIF(tau_mem=5.0))
        net.connect("a", "b", one_to_one(), weight=1.0)


def test_arrays_are_read_only():
    net = _rich_network()
    with pytest.raises(ValueError):
        net.projections[2].weight[0] = 5
