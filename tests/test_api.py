"""The Python API (snnc.compile / run / verify / validate) against the CLI's own machinery."""

import numpy as np
import pytest

import snnc
from snnc.backends import get_backend
from snnc.backends.spikes import SpikeRecord


def _net() -> snnc.Network:
    net = snnc.Network("api", dt=1.0)
    net.source("inp", 8, snnc.poisson(rate_hz=80.0, seed=4))
    net.population("hid", 12, snnc.LIF(tau_mem=10.0, tau_syn=2.0, v_th=1.0))
    net.connect("inp", "hid", snnc.fixed_probability(0.5, seed=5), weight=0.4, delay=2)
    return net


def test_run_equals_the_backend_it_names():
    net = _net()
    result = snnc.run(net, "reference", steps=60, numerics="spinnaker", record_v=["hid"])
    direct = get_backend("reference").run(net, 60, numerics="spinnaker", record_v=["hid"])
    for name in ("inp", "hid"):
        for got, want in zip(result.spikes[name], direct.spikes[name]):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(result.voltages["hid"], direct.voltages["hid"])
    assert result.total == direct.total > 0
    assert result.counts("hid").sum() == direct.spikes["hid"][0].size


def test_inputs_replace_a_source_and_unknown_ones_are_refused():
    net = _net()
    times, ids = np.array([0, 0, 1], np.int32), np.array([0, 1, 2], np.int32)
    result = snnc.run(net, "reference", steps=10, inputs={"inp": (times, ids)})
    np.testing.assert_array_equal(result.spikes["inp"][0], times)
    with pytest.raises(snnc.NetworkError, match="not a spike-source population"):
        snnc.run(net, "reference", steps=10, inputs={"hid": (times, ids)})


def test_a_build_runs_and_verifies_on_its_target():
    build = snnc.compile(_net(), "spinnaker-emu")
    assert build.fits and build.target == "spinnaker-emu"
    check = snnc.verify(build, steps=80)
    assert check and check.divergence is None and check.spikes > 0
    ran = build.run(80)
    reference = snnc.run(build, "reference", steps=80)  # the build's numerics by default
    assert reference.numerics == "spinnaker"
    for got, want in zip(ran.spikes["hid"], reference.spikes["hid"]):
        np.testing.assert_array_equal(got, want)


def test_verify_is_falsy_and_names_the_first_divergence(monkeypatch):
    build = snnc.compile(_net(), "spinnaker-emu")
    backend = type(get_backend("spinnaker-emu"))
    real_run = backend.run

    def one_spike_lost(self, source, steps, **options):
        record = real_run(self, source, steps, **options)
        times, ids = record.spikes["hid"]
        spikes = dict(record.spikes, hid=(times[1:], ids[1:]))
        return SpikeRecord(record.steps, record.dt, spikes, record.voltages)

    monkeypatch.setattr(backend, "run", one_spike_lost)
    check = snnc.verify(build, steps=80)
    assert not check
    assert "hid" in str(check) and check.divergence is not None


def test_validate_checks_the_graph_and_the_target():
    net = _net()
    snnc.validate(net)
    net.population("sub", 3, snnc.LIF(tau_mem=10.0, v_th=1.0, reset="subtract", v_reset=0.5))
    snnc.validate(net, "spinnaker-emu")  # SpiNNaker subtracts from any v_reset
    with pytest.raises(snnc.UnsupportedOnTarget, match="'sub'.*loihi-sim"):
        snnc.validate(net, "loihi-sim")  # Loihi's subtraction needs v_reset 0
