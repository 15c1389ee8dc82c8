"""``snnc export-lava``: the exported script, run on its own, gives loihi-sim's spikes exactly.

Each network is compiled for loihi-sim, exported, and the script is run in a fresh interpreter
(as a user would: ``python net_lava.py -o spikes.npz``); its spikes NPZ must equal, population by
population, what ``LoihiSimBackend`` computes for the same build. The networks: a small W1 (float
LIF quantized by the compiler, delays 1..8), one with delays beyond Lava's 64 (relayed by the
compiler: relay neurons in the build), and one with Poisson and spike-time sources feeding
refractory, reset-by-subtraction neurons (snnc's SnncLIF, the one snnc import the script needs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends import get_backend
from snnc.cli import cli
from snnc.compiler import load_build
from snnc.ir import LIF, LoihiLIF, Network, explicit, poisson, spike_times
from snnc.models.loihi_li import LoihiLI
from snnc.models.sigma_delta import SigmaDelta

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "shared" / "bench"))
STEPS = 80


def snnc(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def w1_small() -> Network:
    import w1_workload

    data = w1_workload.generate(200, p=0.1, bias_fx=2048)  # W1 at N = 200
    meta = json.loads(str(data["meta"]))
    net = Network("w1_small")
    net.population("n", 200, LIF(tau_mem=4096 / meta["dv12"], integrator="euler",
                                 v_th=float(meta["vth"]), bias=meta["bias_fx"] / 64,
                                 v_init=data["v0_fx"] / 64.0))
    net.connect("n", "n", explicit(data["pre"], data["post"]), weight=data["w"].astype(float),
                delay=data["delay"].astype(np.int64))
    return net


def long_delays() -> Network:
    rng = np.random.default_rng(5)
    net = Network("long_delays")
    net.source("in", 8, poisson(rate_hz=150.0, seed=1))
    net.population("a", 12, LoihiLIF(du=4095, dv=300, vth=10))
    net.population("b", 5, LoihiLIF(du=2000, dv=100, vth=15))
    net.connect("in", "a", weight=rng.integers(10, 120, 96).astype(float),
                delay=rng.integers(1, 90, 96))
    net.connect("a", "b", weight=rng.integers(-40, 120, 60).astype(float),
                delay=rng.integers(30, 75, 60))
    return net


def with_sources() -> Network:
    rng = np.random.default_rng(0)
    net = Network("sources")
    net.source("p", 20, poisson(rate_hz=80.0, seed=3))
    net.source("s", 4, spike_times([0, 3, 5, 9], [0, 1, 2, 3]))
    net.population("a", 10, LoihiLIF(du=800, dv=200, vth=30, bias_mant=5))
    net.population("b", 6, LoihiLIF(du=4095, dv=100, vth=20, refractory=2, reset="subtract"))
    net.connect("p", "a", weight=rng.integers(-20, 60, 200).astype(float),
                delay=rng.integers(1, 6, 200))
    net.connect("s", "b", weight=100)
    net.connect("a", "b", weight=rng.integers(-30, 80, 60).astype(float),
                delay=rng.integers(1, 12, 60))
    return net


def graded_and_isolated() -> Network:
    """Lava's own SigmaDelta between spiking groups, graded messages through a DelaySparse, and a
    loihi_li group no synapse reaches (snnc's SnncLI, joined by an empty Sparse)."""
    rng = np.random.default_rng(9)
    net = Network("graded")
    net.source("in", 6, poisson(rate_hz=300.0, seed=2))
    net.population("sd", 5, SigmaDelta(vth=2, bias=rng.integers(-200, 200, 5), spike_exp=2))
    net.population("out", 4, LoihiLIF(du=3000, dv=200, vth=40))
    net.population("leak", 3, LoihiLI(du=4095, dv=50, bias_mant=100, bias_exp=2))
    net.connect("in", "sd", weight=rng.integers(20, 120, 30).astype(float))
    net.connect("sd", "out", weight=rng.integers(-10, 40, 20).astype(float),
                delay=rng.integers(1, 4, 20))
    return net


@pytest.mark.parametrize("make", [w1_small, long_delays, with_sources, graded_and_isolated])
def test_exported_script_equals_loihi_sim(tmp_path, make):
    net = make()
    net.save(str(tmp_path / "net.yaml"))
    snnc("compile", tmp_path / "net.yaml", "--target", "loihi-sim", "-o", tmp_path / "build")
    script = tmp_path / "out" / "net_lava.py"
    snnc("export-lava", tmp_path / "build", "--steps", STEPS, "-o", script)
    assert (tmp_path / "out" / "net_lava.npz").is_file()
    run = subprocess.run([sys.executable, str(script), "-o", str(tmp_path / "spikes.npz")],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    expected = get_backend("loihi-sim").run(load_build(tmp_path / "build"), STEPS)
    with np.load(tmp_path / "spikes.npz") as got:
        assert int(got["steps"]) == STEPS and float(got["dt"]) == expected.dt
        assert {k.rsplit(".", 1)[0] for k in got.files} - {"steps", "dt"} == set(expected.spikes)
        for name, (times, ids) in expected.spikes.items():
            np.testing.assert_array_equal(got[f"{name}.times"], times, err_msg=name)
            np.testing.assert_array_equal(got[f"{name}.ids"], ids, err_msg=name)
    neurons = [p.name for p in net.neuron_populations()]
    assert sum(expected.spikes[name][0].size for name in neurons) > 10  # it does something
    if make is long_delays:
        assert len(expected.spikes) > len(net.populations)  # the compiler's relays ran too
    header = script.read_text().split('"""')[1]
    assert ("SnncLIF" in header) == (make is with_sources)  # the snnc import is named
    if make is graded_and_isolated:
        assert "Lava's own SigmaDelta" in header and "SnncLI" in header
        assert "1 empty join(s)" in header


def test_script_refuses_more_steps_than_exported(tmp_path):
    with_sources().save(str(tmp_path / "net.yaml"))
    snnc("compile", tmp_path / "net.yaml", "--target", "loihi-sim", "-o", tmp_path / "build")
    snnc("export-lava", tmp_path / "build", "--steps", 5, "-o", tmp_path / "x.py")
    run = subprocess.run([sys.executable, str(tmp_path / "x.py"), "--steps", "6"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode != 0 and "--steps: must be 1..5" in run.stderr


@pytest.mark.parametrize("args, message", [
    (["--target", "spinnaker-emu"], "this build was compiled for 'spinnaker-emu', not loihi-sim"),
])
def test_export_of_a_non_loihi_build_is_one_line(tmp_path, args, message):
    with_sources_float = Network("f")
    with_sources_float.source("s", 2, spike_times([0], [0]))
    with_sources_float.population("a", 2, LIF(tau_mem=10.0))
    with_sources_float.connect("s", "a", weight=1.0)
    with_sources_float.save(str(tmp_path / "net.yaml"))
    snnc("compile", tmp_path / "net.yaml", *args, "-o", tmp_path / "build")
    result = CliRunner().invoke(cli, ["export-lava", str(tmp_path / "build"), "-o",
                                      str(tmp_path / "x.py")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "x.py").exists() and not (tmp_path / "x.npz").exists()


def test_netx_import_then_export_with_input(tmp_path):
    """A lava-dl network end to end: import-netx, compile, export-lava --input, the script equals
    ``snnc run BUILD --input`` (tests/data/netx: dense_cuba.net, its input spikes)."""
    data = Path(__file__).resolve().parents[2] / "data" / "netx"
    spikes = f"input={data / 'input_spikes.npz'}"
    snnc("import-netx", data / "dense_cuba.net", "-o", tmp_path / "net.yaml")
    snnc("compile", tmp_path / "net.yaml", "--target", "loihi-sim", "-o", tmp_path / "build")
    snnc("export-lava", tmp_path / "build", "--steps", 40, "--input", spikes, "-o",
         tmp_path / "netx_lava.py")
    snnc("run", tmp_path / "build", "--steps", 40, "--input", spikes, "-o", tmp_path / "sim.npz")
    run = subprocess.run([sys.executable, str(tmp_path / "netx_lava.py"), "-o",
                          str(tmp_path / "lava.npz")], capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    with np.load(tmp_path / "lava.npz") as got, np.load(tmp_path / "sim.npz") as expected:
        assert sorted(got.files) == sorted(expected.files)
        for key in expected.files:
            np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
        assert expected["layer2.times"].size > 10
