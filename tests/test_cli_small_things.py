"""Issue 18 item 9: quantize --input, provenance named after the spikes file, -t everywhere,
plural forms in the summary lines."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from snnc.backends.reference import simulate
from snnc.cli import cli
from snnc.commands.run import provenance_path
from snnc.ir import LIF, Network, all_to_all, spike_times


def _silent_network(tmp_path) -> str:
    """A source with no spikes (as an imported NIR network's input) into 4 LIF neurons."""
    net = Network("silent", dt=1.0)
    inp = net.source("inp", 2, spike_times())
    hid = net.population("hid", 4, LIF(tau_mem=10.0, tau_syn=0.0, v_th=1.0))
    net.connect(inp, hid, all_to_all(), weight=0.7, delay=1)
    path = tmp_path / "net.yaml"
    net.save(str(path))
    return str(path)


def _spikes_file(tmp_path) -> tuple[str, np.ndarray, np.ndarray]:
    times = np.repeat(np.arange(0, 60, 3), 2)
    ids = np.tile([0, 1], times.size // 2)
    path = tmp_path / "drive.npz"
    np.savez(path, times=times, ids=ids)
    return str(path), times, ids


def test_quantize_input_drives_both_runs_and_silence_is_warned(tmp_path):
    net = _silent_network(tmp_path)
    runner = CliRunner()
    silent = runner.invoke(cli, ["quantize", net, "-t", "spinnaker-emu", "--steps", "60",
                                 "--format", "json"])
    assert silent.exit_code == 0, silent.output
    assert "no population spiked in either run" in silent.stderr
    drive, times, ids = _spikes_file(tmp_path)
    driven = runner.invoke(cli, ["quantize", net, "-t", "spinnaker-emu", "--steps", "60",
                                 "--input", f"inp={drive}", "--format", "json"])
    assert driven.exit_code == 0, driven.output
    assert "no population spiked" not in driven.stderr
    row = json.loads(driven.stdout)["agreement"][0]
    # independent: the float network with the same spikes, on the reference directly
    from snnc.ir import load

    network = load(net)
    network.populations["inp"] = network.populations["inp"].model_copy(
        update={"source": spike_times(times, ids)})
    expected = simulate(network, 60, "float")
    hz = expected.spikes["hid"][0].size / 4 / 0.060
    assert hz > 0 and row["population"] == "hid"
    assert abs(row["rate_float_hz"] - hz) < 1e-9


def test_quantize_input_needs_steps(tmp_path):
    net = _silent_network(tmp_path)
    drive, _, _ = _spikes_file(tmp_path)
    result = CliRunner().invoke(cli, ["quantize", net, "-t", "loihi-sim",
                                      "--input", f"inp={drive}"])
    assert result.exit_code == 2
    assert result.stderr == ("--input: --input sets the spikes of the --steps comparison: give "
                             "--steps too\n")


def test_provenance_is_named_after_the_spikes_file():
    assert provenance_path("out/a.npz").as_posix() == "out/a.provenance.json"
    assert provenance_path("b.NPZ").as_posix() == "b.provenance.json"
    assert provenance_path("run").as_posix() == "run.provenance.json"


def test_two_emulator_runs_in_one_folder_keep_their_own_provenance(tmp_path):
    net = _silent_network(tmp_path)
    drive, _, _ = _spikes_file(tmp_path)
    runner = CliRunner()
    for name, steps in (("a", "30"), ("b", "45")):
        result = runner.invoke(cli, ["run", net, "-t", "spinnaker-emu", "--steps", steps,
                                     "--input", f"inp={drive}", "-o",
                                     str(tmp_path / f"{name}.npz")])
        assert result.exit_code == 0, result.output
        assert f"{tmp_path / name}.provenance.json: provenance written" in result.stdout
    first = json.loads((tmp_path / "a.provenance.json").read_text())
    second = json.loads((tmp_path / "b.provenance.json").read_text())
    for prov in (first, second):  # the keys the file-format contract names (docs/cli.md)
        assert {"max_cpu_load", "tick_overruns"} <= set(prov["summary"])
    assert json.dumps(first["summary"]) != json.dumps(second["summary"])  # 30 vs 45 ticks
    # provenance.json, the contract's name, holds the latest run written to the folder
    assert json.loads((tmp_path / "provenance.json").read_text()) == second


def test_every_command_with_a_target_takes_t_with_the_same_choices():
    from snnc.models.targets import TARGETS

    for name, command in cli.commands.items():
        for param in command.params:
            if "--target" in getattr(param, "opts", ()):
                assert "-t" in param.opts, name
                choices = set(getattr(param.type, "choices", ()))
                assert choices and choices <= set(TARGETS), (name, choices)


def test_summary_lines_take_the_number(tmp_path):
    net = Network("one", dt=1.0)
    inp = net.source("inp", 1, spike_times(times=[0], ids=[0]))
    out = net.population("out", 1, LIF(tau_mem=10.0, tau_syn=0.0, v_th=0.5))
    net.connect(inp, out, all_to_all(), weight=1.0, delay=1)
    path = tmp_path / "one.yaml"
    net.save(str(path))
    runner = CliRunner()
    valid = runner.invoke(cli, ["validate", str(path)])  # neurons count the source's too
    assert valid.stdout == f"{path}: ok (2 populations, 1 projection, 2 neurons)\n"
    lone = Network("lone", dt=1.0)
    lone.population("only", 1, LIF(tau_mem=10.0))
    lone.save(str(tmp_path / "lone.yaml"))
    alone = runner.invoke(cli, ["validate", str(tmp_path / "lone.yaml")])
    assert alone.stdout == f"{tmp_path / 'lone.yaml'}: ok (1 population, 0 projections, 1 neuron)\n"
    ran = runner.invoke(cli, ["run", str(path), "-t", "reference", "--steps", "1",
                              "-o", str(tmp_path / "s.npz")])
    assert ran.exit_code == 0, ran.output
    # one source spike at step 0 (the output neuron fires at step 1, after the run)
    assert ran.stdout.startswith(f"{tmp_path / 's.npz'}: 1 spike from 1 population in 1 step ")


def test_run_refuses_to_write_spikes_over_the_networks_own_arrays(tmp_path):
    net = Network("arrays", dt=1.0)
    inp = net.source("inp", 20, spike_times(times=list(range(20)), ids=list(range(20))))
    hid = net.population("hid", 20, LIF(tau_mem=10.0))
    net.connect(inp, hid, all_to_all(), weight=[0.01 * k for k in range(400)], delay=1)
    path = tmp_path / "net.yaml"
    net.save(str(path))
    assert (tmp_path / "net.npz").is_file()  # the 400 weights live there
    before = (tmp_path / "net.npz").read_bytes()
    result = CliRunner().invoke(cli, ["run", str(path), "-t", "reference", "--steps", "5",
                                      "-o", str(tmp_path / "net.npz")])
    assert result.exit_code == 2
    assert "refusing to write spikes over the network's own arrays" in result.stderr
    assert (tmp_path / "net.npz").read_bytes() == before
