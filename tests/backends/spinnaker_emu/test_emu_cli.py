"""``snnc run --target spinnaker-emu`` (spikes + OUT.provenance.json) and ``snnc verify`` end to end."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner
from emu_random import random_network

from snnc.backends import SpikeRecord
from snnc.backends.reference import simulate
from snnc.cli import cli
from snnc.compiler import compile_network, save_build

STEPS = 100


def _net_file(tmp_path, seed=2):
    path = tmp_path / "net.yaml"
    random_network(seed, steps=STEPS).save(str(path))
    return path


def test_run_writes_spikes_and_provenance_beside_them(tmp_path):
    net = _net_file(tmp_path)
    out = tmp_path / "out" / "spikes.npz"
    result = CliRunner().invoke(cli, ["run", str(net), "--target", "spinnaker-emu", "--steps",
                                      str(STEPS), "-o", str(out)])
    assert result.exit_code == 0, result.output
    prov = json.loads((out.parent / "spikes.provenance.json").read_text())
    assert {"summary", "cores", "routers", "links", "cost_model"} <= set(prov)
    assert "spinnaker-emu provenance" in result.output and "routers" in result.output
    record = SpikeRecord.load(out)
    expected = simulate(compile_network(random_network(2, steps=STEPS), "spinnaker-emu").network,
                        STEPS, "spinnaker")
    for name, (times, ids) in expected.spikes.items():
        assert np.array_equal(record.spikes[name][0], times)
        assert np.array_equal(record.spikes[name][1], ids)
    assert prov["summary"]["packets_sent"] == sum(c["packets_sent"] for c in prov["cores"])


def test_verify_passes_on_a_network(tmp_path):
    result = CliRunner().invoke(cli, ["verify", str(_net_file(tmp_path)), "--target",
                                      "spinnaker-emu", "--steps", str(STEPS)])
    assert result.exit_code == 0, result.output
    assert "matches the reference" in result.output


def _busy_build(tmp_path):
    """A build directory of a random network whose packets cross chips, and its busiest chip."""
    from snnc.backends.spinnaker_emu import SpinnakerEmuBackend

    for seed in range(40):
        build = compile_network(random_network(seed, steps=STEPS), "spinnaker-emu",
                                max_neurons_per_core=3)
        backend = SpinnakerEmuBackend()
        backend.run(build, STEPS)
        neuron_spikes = simulate(build.network, STEPS, "spinnaker")
        if backend.provenance["links"] and any(
                neuron_spikes.spikes[p.name][0].size for p in build.network.neuron_populations()):
            routers = backend.provenance["routers"]
            chip = max(routers, key=lambda r: r["packets"])["chip"]
            save_build(build, tmp_path / "build")
            return tmp_path / "build", chip
    raise AssertionError("no busy multi-chip network")


def test_verify_fails_on_a_corrupted_routing_entry(tmp_path):
    build_dir, (x, y) = _busy_build(tmp_path)
    ok = CliRunner().invoke(cli, ["verify", str(build_dir), "--target", "spinnaker-emu",
                                  "--steps", str(STEPS)])
    assert ok.exit_code == 0, ok.output
    with np.load(build_dir / "routing.npz") as data:
        arrays = {k: data[k].copy() for k in data.files}
    arrays[f"{x},{y}/routes"] &= np.uint32(0x3F)  # entries of the busiest chip reach no core
    np.savez(build_dir / "routing.npz", **arrays)
    bad = CliRunner().invoke(cli, ["verify", str(build_dir), "--target", "spinnaker-emu",
                                   "--steps", str(STEPS)])
    assert bad.exit_code == 1, bad.output
    assert "first divergence: population" in bad.output
