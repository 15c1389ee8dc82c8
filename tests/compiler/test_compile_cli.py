"""`snnc compile/report/targets`: goldens, byte-identical builds, does-not-fit messages, specs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from snnc.cli import cli
from snnc.compiler import compile_network, load_build
from snnc.compiler.mapping.check import check_routes
from snnc.compiler.hardware import hardware_for, load_hardware
from snnc.ir import LoihiLIF, Network, SnncError, all_to_all, load, spike_times

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = [("design_note", "reference"), ("design_note", "loihi-sim"),
            ("spinnaker_delays", "spinnaker-emu")]


def _compile(args, expect=0):
    result = CliRunner().invoke(cli, ["compile", *args])
    assert result.exit_code == expect, (result.stdout, result.stderr)
    return result


@pytest.mark.parametrize("example,target", EXAMPLES)
def test_golden_reports(example, target, tmp_path):
    _compile([str(ROOT / "examples" / example / "net.yaml"), "--target", target, "-o",
              str(tmp_path)])
    for name in ("report.json", "report.txt"):
        golden = GOLDEN / example / target / name
        assert (tmp_path / name).read_text() == golden.read_text(), f"{golden} differs"


@pytest.mark.parametrize("example,target", [("design_note", "reference"),
                                            ("spinnaker_delays", "spinnaker-emu")])
def test_same_input_gives_byte_identical_builds(tmp_path, example, target):
    net = str(ROOT / "examples" / example / "net.yaml")
    for out in ("a", "b"):
        _compile([net, "--target", target, "-o", str(tmp_path / out)])
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert {"network.yaml", "mapping.json", "routing.npz", "report.json"} <= set(files)
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    build = load_build(tmp_path / "a")
    assert build.target == target and build.report.fits
    assert build.partition.cores[0].kind == "neuron"


def _wide(tmp_path, inputs: int) -> str:
    """``inputs`` sources all-to-all into 3 loihi_lif neurons."""
    net = Network("wide")
    net.source("inp", inputs, spike_times())
    net.population("out", 3, LoihiLIF(du=4095, dv=0, vth=10))
    net.connect("inp", "out", all_to_all(), weight=1)
    path = tmp_path / "wide.yaml"
    net.save(str(path))
    return str(path)


@pytest.mark.parametrize("inputs,hardware,expected", [
    # 5000 input axons per neuron > Loihi 1's 4096: each neuron alone overflows its core
    (5000, "loihi1", [f"core {k} (chip 0,0): fan-in 5,000 axons > 4,096; 1 neuron of population "
                      "'out' with fan-in 5,000 — a single neuron needs more than a core has: give "
                      "it fewer incoming synapses or use --hardware loihi2" for k in range(3)]),
    # 40,000 synapses x (29 + 32) bits = 305,000 B > 128 KiB on Loihi 2
    (40000, "loihi2", [f"core {k} (chip 0,0): synaptic memory 305,000 B > 131,072 B; 1 neuron of "
                       "population 'out' with fan-in 40,000 — a single neuron needs more than a "
                       "core has: give it fewer incoming synapses" for k in range(3)]),
])
def test_does_not_fit_prints_one_line_per_violation_and_writes_the_report(
        tmp_path, inputs, hardware, expected):
    path = _wide(tmp_path, inputs)
    out = tmp_path / "build"
    (out).mkdir()
    for stale in ("network.yaml", "mapping.json", "report.png"):  # from an earlier build
        (out / stale).write_text("stale")  # a failed compile must not leave them beside its report
    result = _compile([path, "--target", "reference", "--hardware", hardware, "-o", str(out)],
                      expect=1)
    lines = [line for line in result.stderr.splitlines() if line.startswith(path)]
    assert lines == [f"{path}: {line}" for line in expected] + [
        f"{path}: does not fit {hardware} (3 violations); partial report in {out}/report.txt"]
    assert "does not fit:" in (out / "report.txt").read_text()
    assert not any((out / stale).exists() for stale in ("network.yaml", "mapping.json", "report.png"))
    report = CliRunner().invoke(cli, ["report", str(out), "--format", "json"])
    assert report.exit_code == 0 and '"fits": false' in report.stdout


def test_report_formats_and_targets(tmp_path):
    _compile([str(ROOT / "examples" / "design_note" / "net.yaml"), "--target", "reference",
              "-o", str(tmp_path)])
    runner = CliRunner()
    csv = runner.invoke(cli, ["report", str(tmp_path), "--format", "csv"]).stdout.splitlines()
    assert csv[0].startswith("id,kind,chip_x") and csv[1].startswith("0,neuron,0,0,0,5,51,")
    table = runner.invoke(cli, ["report", str(tmp_path)]).stdout
    assert table == (tmp_path / "report.txt").read_text()
    targets = runner.invoke(cli, ["targets"]).stdout
    for word in ("loihi-sim", "spinnaker-emu", "router_entries_per_chip", "1,023", "8,192 ⚠"):
        assert word in targets


def test_hardware_spec_files(tmp_path):
    spec = tmp_path / "big.yaml"
    spec.write_text("base: spinnaker1\nname: three_boards\nchips_x: 12\nchips_y: 12\n"
                    "chip_layout: full\nwrap: true\n")
    big = load_hardware(str(spec))
    assert big.max_cores == 144 * 16 and big.router_entries_per_chip == 1023
    assert len(load_hardware("spinnaker1").chips()) == 48
    with pytest.raises(SnncError, match="needs a spinnaker one"):
        hardware_for("spinnaker-emu", "loihi2")
    spec.write_text("base: spinnaker1\nneurons_per_core: -1\n")
    with pytest.raises(SnncError, match="neurons_per_core"):
        load_hardware(str(spec))
    with pytest.raises(SnncError, match="unknown hardware 'nope'"):
        load_hardware("nope")


def test_compiled_example_routes_check_and_round_trip(tmp_path):
    net = load(ROOT / "examples" / "spinnaker_delays" / "net.yaml")
    build = compile_network(net, "spinnaker-emu")
    assert build.report.totals["delay_cores"] == 3 and build.routing.tables
    assert check_routes(build.network, build.partition, build.placement, build.routing,
                        build.hardware) == []
    from snnc.compiler import save_build

    save_build(build, tmp_path)
    again = load_build(tmp_path)
    assert again.partition == build.partition and again.placement == build.placement
    assert again.routing.keys == build.routing.keys
    assert check_routes(again.network, again.partition, again.placement, again.routing,
                        again.hardware) == []


def test_plot_writes_a_png_and_says_so_without_matplotlib(tmp_path, monkeypatch):
    net = str(ROOT / "examples" / "spinnaker_delays" / "net.yaml")
    _compile([net, "--target", "spinnaker-emu", "--plot", "-o", str(tmp_path)])
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = CliRunner().invoke(cli, ["report", str(tmp_path), "--plot"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == \
        "--plot: plotting needs matplotlib: pip install 'snnc[plot]' (or: pip install matplotlib)"


def test_pipeline_runs_its_stages_in_order_through_the_hook():
    seen = []
    build = compile_network(load(ROOT / "examples" / "design_note" / "net.yaml"), "loihi-sim",
                            hook=lambda stage, seconds, artifact: seen.append(stage))
    assert seen == ["validate", "quantize", "delays", "expand", "partition", "place", "route",
                    "report"]
    assert list(build.timings) == seen
    assert build.network.populations["hid"].kind == "loihi_lif"  # the quantized network
    assert build.quantization is not None and build.report.quantization["target"] == "loihi"


def _float_net(tmp_path) -> str:
    from snnc.ir import LIF, explicit

    net = Network("float_in", dt=1.0)
    net.source("inp", 2, spike_times(times=[0, 1], ids=[0, 1]))
    net.population("hid", 1, LIF(tau_mem=20.0, tau_syn=5.0, v_th=1.0))
    net.connect("inp", "hid", explicit([0, 1], [0, 0]), weight=[0.6, 0.013])
    path = tmp_path / "float_in.yaml"
    net.save(str(path))
    return str(path)


def test_compile_option_reaches_the_quantization_pass(tmp_path):
    net = _float_net(tmp_path)
    _compile([net, "--target", "loihi-sim", "-o", str(tmp_path / "default")])
    _compile([net, "--target", "loihi-sim", "--option", "weight_bits=4", "-o",
              str(tmp_path / "coarse")])
    default = json.loads((tmp_path / "default" / "report.json").read_text())["quantization"]
    coarse = json.loads((tmp_path / "coarse" / "report.json").read_text())["quantization"]
    assert (default["options"]["weight_bits"], coarse["options"]["weight_bits"]) == (8, 4)
    # 4 weight bits quantize in steps 16x coarser: the error on the small weight grows
    error = {name: rep["projections"][0]["max_abs_error"] for name, rep in
             (("default", default), ("coarse", coarse))}
    assert error["coarse"] > error["default"]


def test_compile_bad_option_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "build"
    result = _compile([_float_net(tmp_path), "--target", "loihi-sim", "--option", "weight_bits=9",
                       "-o", str(out)], expect=2)
    (line,) = result.stderr.splitlines()
    assert line.startswith("--option weight_bits: ") and line.endswith("(got '9')")
    assert not out.exists()
