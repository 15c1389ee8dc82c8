"""``snnc run`` and ``snnc verify``: file format, --input, --record-v, one-line errors, exit codes."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends import SpikeRecord
from snnc.backends.reference import ReferenceBackend, simulate
from snnc.cli import cli
from snnc.ir import LIF, LoihiLIF, Network, all_to_all, poisson, spike_times


def small_net() -> Network:
    net = Network("cli")
    net.source("inp", 3, spike_times([0, 1, 4], [0, 2, 1]))
    net.source("noise", 5, poisson(rate_hz=200.0, seed=3))
    net.population("hid", 4, LIF(tau_mem=10.0, tau_syn=2.0, v_th=0.5))
    net.population("out", 2, LoihiLIF(du=4095, dv=300, vth=10))
    net.connect("inp", "hid", all_to_all(), weight=0.6, delay=2)
    net.connect("noise", "hid", all_to_all(), weight=0.3, delay=1)
    net.connect("hid", "out", all_to_all(), weight=200, delay=3)
    return net


@pytest.fixture()
def net_file(tmp_path):
    path = tmp_path / "net.yaml"
    small_net().save(str(path))
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_run_writes_the_design_spike_file(net_file, tmp_path):
    out = tmp_path / "spikes.npz"
    result = invoke("run", net_file, "--target", "reference", "--steps", 50, "-o", out,
                    "--record-v", "hid")
    assert result.exit_code == 0, result.output
    data = np.load(out)
    expected = simulate(small_net(), 50, "float", record_v=["hid"])
    assert int(data["steps"]) == 50 and float(data["dt"]) == 1.0
    for name in ("inp", "noise", "hid", "out"):
        assert data[f"{name}.times"].dtype == np.int32 and data[f"{name}.ids"].dtype == np.int32
        assert np.array_equal(data[f"{name}.times"], expected.spikes[name][0])
        assert np.array_equal(data[f"{name}.ids"], expected.spikes[name][1])
    assert data["hid.v"].shape == (50, 4)
    assert np.array_equal(data["hid.v"], expected.voltages["hid"])
    assert data["hid.times"].size > 0 and data["out.times"].size > 0


def test_run_is_byte_identical(net_file, tmp_path):
    digests = []
    for k in range(2):
        out = tmp_path / f"s{k}.npz"
        assert invoke("run", net_file, "--target", "reference", "--steps", 30, "-o", out).exit_code == 0
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_input_replaces_a_source(net_file, tmp_path):
    spikes = tmp_path / "in.npz"
    np.savez(spikes, times=np.array([3, 7, 7]), ids=np.array([2, 0, 1]))
    out = tmp_path / "s.npz"
    result = invoke("run", net_file, "--target", "reference", "--steps", 20, "-o", out,
                    "--input", f"inp={spikes}")
    assert result.exit_code == 0, result.output
    record = SpikeRecord.load(out)
    assert record.spikes["inp"][0].tolist() == [3, 7, 7]
    assert record.spikes["inp"][1].tolist() == [2, 0, 1]


@pytest.mark.parametrize("times,ids,message", [
    ([1], [3], "--input inp: neuron id 3 out of range for 'inp' of size 3"),
    ([-1], [0], "'times' must be non-negative integers"),
    ([1, 2], [0], "must be 1-D of equal length"),
])
def test_bad_input_files_are_one_line_errors(net_file, tmp_path, times, ids, message):
    spikes = tmp_path / "in.npz"
    np.savez(spikes, times=np.array(times), ids=np.array(ids))
    result = invoke("run", net_file, "--target", "reference", "--steps", 5, "-o",
                    tmp_path / "s.npz", "--input", f"inp={spikes}")
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("args,message", [
    (["--input", "hid=x.npz"], "--input hid: 'hid' is not a spike-source population (sources: inp, noise)"),
    (["--input", "nope"], "--input: expected POP=FILE.npz, got 'nope'"),
    (["--record-v", "inp"], "--record-v: cannot record the voltage of 'inp'"),
    (["--numerics", "bogus"], "Invalid value for '--numerics'"),
])
def test_bad_options_are_one_line_errors(net_file, tmp_path, args, message):
    result = invoke("run", net_file, "--target", "reference", "--steps", 5, "-o",
                    tmp_path / "s.npz", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_numerics_only_for_the_reference(net_file, tmp_path):
    result = invoke("run", net_file, "--target", "spinnaker-emu", "--numerics", "loihi",
                    "--steps", 5, "-o", tmp_path / "s.npz")
    assert result.exit_code == 2 and "--numerics applies to --target reference only" in result.output


def test_missing_network_file(tmp_path):
    result = invoke("run", tmp_path / "none.yaml", "--target", "reference", "--steps", 5, "-o",
                    tmp_path / "s.npz")
    assert result.exit_code == 2 and "none.yaml: no such file or build directory" in result.output


class _DroppingBackend:
    """A stand-in target: the reference's spikes, minus the last spike of 'out' when asked."""

    name = "loihi-sim"

    def __init__(self, drop: bool) -> None:
        self.drop = drop

    def run(self, source, steps, *, record_v=(), **options):
        record = ReferenceBackend().run(source, steps, numerics="float")
        if self.drop:
            times, ids = record.spikes["out"]
            record.spikes["out"] = (times[:-1], ids[:-1])
        return record


@pytest.mark.parametrize("drop", [False, True])
def test_verify_compares_target_and_reference(net_file, monkeypatch, drop):
    import snnc.api as api_module
    import snnc.commands.run as run_module

    net = small_net()
    # verify runs the reference with the target's numerics; this stand-in build is float-only
    monkeypatch.setattr(api_module, "get_target", lambda name: SimpleNamespace(
        name=name, numerics="float"))
    monkeypatch.setattr(run_module, "_compiled", lambda source, target: SimpleNamespace(
        target=target, network=net))
    real = api_module.get_backend
    monkeypatch.setattr(api_module, "get_backend", lambda name: _DroppingBackend(drop)
                        if name == "loihi-sim" else real(name))
    result = invoke("verify", net_file, "--target", "loihi-sim", "--steps", 40)
    last = simulate(net, 40).spikes["out"]
    if drop:
        assert result.exit_code == 1
        assert (f"first divergence: population 'out', neuron {int(last[1][-1])}, step "
                f"{int(last[0][-1])}: expected spike, got no spike") in result.output
    else:
        assert result.exit_code == 0, result.output
        assert "matches the reference" in result.output
