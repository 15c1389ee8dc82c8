"""``snnc run --record-weights PROJ[:EVERY]`` (DESIGN §6 keys) and verify's weight comparison."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import snnc
from snnc.api import first_weight_divergence
from snnc.backends.spikes import SpikeRecord, WeightRecord
from snnc.ir import LIF, Network, expand, fixed_probability, poisson


def _snnc(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from snnc.cli import main; sys.argv[0] = 'snnc'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def _network(path) -> Network:
    """40 Poisson inputs onto 4 LIF neurons through STDP, plus a frozen recurrent projection."""
    net = Network("learn", dt=1.0)
    a = net.source("a", 40, poisson(30.0, seed=1))
    b = net.population("b", 4, LIF(tau_mem=10.0, tau_syn=2.0, v_th=1.0))
    net.connect(a, b, fixed_probability(0.5, seed=2), weight=0.3, name="ab",
                delay={"uniform": [1, 3], "seed": 5},
                plasticity=snnc.Stdp(a_plus=0.02, a_minus=0.021, w_max=0.6))
    net.connect(b, b, weight=-0.1, name="bb")
    net.save(str(path))
    return net


def test_record_weights_writes_the_design_keys(tmp_path):
    net = _network(tmp_path / "net.yaml")
    out = tmp_path / "spikes.npz"
    args = ["run", str(tmp_path / "net.yaml"), "-t", "reference", "--steps", "120", "-o", str(out),
            "--record-weights", "ab:40"]
    result = _snnc(*args)
    assert result.returncode == 0, result.stderr
    data = np.load(out)
    syn = expand(net, net.projection("ab"))
    np.testing.assert_array_equal(data["ab.pre"], syn.pre)
    np.testing.assert_array_equal(data["ab.post"], syn.post)
    assert data["ab.pre"].dtype == np.int32 and data["ab.weights"].dtype == np.float64
    np.testing.assert_array_equal(data["ab.weight_steps"], [39, 79, 119])
    assert data["ab.weight_history"].shape == (3, syn.pre.size)
    np.testing.assert_array_equal(data["ab.weight_history"][-1], data["ab.weights"])
    assert not np.array_equal(data["ab.weights"], syn.weight)  # it learnt
    assert ((data["ab.weights"] >= 0) & (data["ab.weights"] <= 0.6)).all()
    again = snnc.run(net, "reference", 120, record_weights={"ab": 40})  # the API, same numbers
    np.testing.assert_array_equal(again.weights["ab"].history, data["ab.weight_history"])
    first = out.read_bytes()
    assert _snnc(*args).returncode == 0
    assert out.read_bytes() == first  # same input, byte-identical output
    loaded = SpikeRecord.load(out).weights["ab"]
    np.testing.assert_array_equal(loaded.weights, data["ab.weights"])


@pytest.mark.parametrize("flag, message", [
    ("bb", "has no learning rule"), ("nope", "no such projection"), ("ab:0", "EVERY >= 1")])
def test_record_weights_refusals_are_one_line(tmp_path, flag, message):
    _network(tmp_path / "net.yaml")
    out = tmp_path / "spikes.npz"
    result = _snnc("run", str(tmp_path / "net.yaml"), "-t", "reference", "--steps", "5",
                   "-o", str(out), "--record-weights", flag)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    assert not out.exists()


def test_first_weight_divergence_names_the_synapse():
    pre, post = np.array([0, 1, 1], np.int32), np.array([0, 0, 1], np.int32)
    want = {"p": WeightRecord(pre, post, np.array([1, 2, 3]))}
    assert first_weight_divergence(want, {"p": WeightRecord(pre, post, np.array([1, 2, 3]))}) is None
    line = first_weight_divergence(want, {"p": WeightRecord(pre, post, np.array([1, 5, 4]))})
    assert line is not None and "synapse 1 (pre 1 -> post 0)" in line and "expected 2" in line
    assert "2 of 3" in line
    assert "no weights" in str(first_weight_divergence(want, {}))
