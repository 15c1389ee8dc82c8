"""Bad input: one line ``FILE: WHERE: WHAT``, exit code 2, no traceback (table-driven).

Each case is a network file (a base network with one thing broken) and the exact message expected.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.cli import cli

# every built-in kind, in the registry's order (models/registry.py: BUILTIN, then by module name)
KINDS = ("lif, li, loihi_lif, loihi_li, spinnaker_lif, spinnaker_li, adaptive_lif, atrlif, hh, "
         "izhikevich, lif_cond, loihi_izhikevich, ltc, rf, rf_float, rf_iz, rf_iz_float, "
         "sigma_delta, sigma_delta_float, spinnaker_adaptive_lif, spinnaker_izhikevich, "
         "spinnaker_lif_cond, spinnaker_sigma_delta")

BASE = """\
snnc: 1
name: t
dt: 1.0
populations:
  inp: {size: 2, source: {kind: spike_times, times: [0, 1], ids: [0, 1]}}
  hid:
    size: 3
    neuron: {kind: lif, tau_mem: 20.0}
  out:
    size: 2
    neuron: {kind: loihi_lif, du: 4095, dv: 200, vth: 10}
projections:
  - {from: inp, to: hid, connect: all_to_all, weight: 0.5, delay: 1}
  - {from: hid, to: out, connect: all_to_all, weight: 4, delay: 2}
"""

# (case id, replace this text in BASE, with this text, expected message after "net.yaml: ")
CASES = [
    ("yaml-syntax", "size: 3", "size: [3", "line 8: YAML syntax error: expected ',' or ']', but got ':'"),
    ("unknown-top-field", "dt: 1.0", "dt: 1.0\nsteps: 5", "steps: unknown field (expected one of: "
     "snnc, name, dt, populations, projections, metadata)"),
    ("format-version", "snnc: 1", "snnc: 2", "snnc: unsupported format version 2 (this snnc reads 1)"),
    ("dt-negative", "dt: 1.0", "dt: -1", "dt: must be > 0, got -1"),
    ("populations-not-mapping", "populations:\n", "populations: [1]\nx:\n",
     "x: unknown field (expected one of: snnc, name, dt, populations, projections, metadata)"),
    ("size-negative", "size: 3", "size: -3", "populations.hid.size: must be >= 1, got -3"),
    ("size-not-int", "size: 3", "size: three", "populations.hid.size: expected an integer, got 'three'"),
    ("unknown-population-field", "size: 3", "size: 3\n    colour: red",
     "populations.hid.colour: unknown field 'colour' for population (expected one of: name, "
     "size, neuron, source)"),
    ("neuron-and-source", "size: 3", "size: 3\n    source: {kind: poisson, rate_hz: 5}",
     "populations.hid: a population has exactly one of 'neuron' or 'source'"),
    ("neither", "    neuron: {kind: lif, tau_mem: 20.0}\n", "",
     "populations.hid: a population has exactly one of 'neuron' or 'source'"),
    ("unknown-neuron-kind", "kind: lif,", "kind: lifx,",
     "populations.hid.neuron.kind: neuron kind 'lifx'; expected one of: " + KINDS),
    ("missing-neuron-kind", "{kind: lif, tau_mem: 20.0}", "{tau_mem: 20.0}",
     "populations.hid.neuron.kind: neuron kind missing; expected one of: " + KINDS),
    ("tau-mem-negative", "tau_mem: 20.0", "tau_mem: -5", "populations.hid.neuron.tau_mem: must be > 0, "
     "got -5"),
    ("tau-mem-missing", "{kind: lif, tau_mem: 20.0}", "{kind: lif}",
     "populations.hid.neuron.tau_mem: required field missing"),
    ("unknown-neuron-field", "tau_mem: 20.0", "tau_mem: 20.0, tau_m: 3",
     "populations.hid.neuron.tau_m: unknown field 'tau_m' for lif: did you mean tau_mem? "
     "(expected one of: kind, tau_mem, tau_syn, v_th, v_reset, v_leak, bias, v_init, refractory, "
     "reset, integrator, tau_syn_inh)"),
    ("reset-literal", "tau_mem: 20.0", "tau_mem: 20.0, reset: halfway",
     "populations.hid.neuron.reset: must be one of 'zero' or 'subtract', got 'halfway'"),
    ("param-bad-type", "tau_mem: 20.0", "tau_mem: fast",
     "populations.hid.neuron.tau_mem: expected a number, a list, {file, key}, {normal: [mean, std], "
     "seed} or {uniform: [lo, hi], seed}, got 'fast'"),
    ("param-array-length", "tau_mem: 20.0", "tau_mem: [20.0, 10.0]",
     "populations.hid.neuron.tau_mem: has 2 values, expected one per neuron (3)"),
    ("loihi-du-range", "du: 4095", "du: 5000", "populations.out.neuron.du: must be <= 4095, got 5000"),
    ("loihi-vth-negative", "vth: 10", "vth: -1", "populations.out.neuron.vth: must be >= 0, got -1"),
    ("loihi-vth-range", "vth: 10", "vth: 200000",
     "populations.out.neuron.vth: must be <= 131071, got 200000"),
    ("loihi-bias-exp", "vth: 10", "vth: 10, bias_exp: 9",
     "populations.out.neuron.bias_exp: must be <= 7, got 9"),
    ("loihi-bias-mant", "vth: 10", "vth: 10, bias_mant: 5000",
     "populations.out.neuron.bias_mant: must be <= 4095, got 5000"),
    ("loihi-dv-fraction", "dv: 200", "dv: 0.05", "populations.out.neuron.dv: must be an integer, got 0.05"),
    ("poisson-negative-rate", "{kind: spike_times, times: [0, 1], ids: [0, 1]}",
     "{kind: poisson, rate_hz: -2}", "populations.inp.source.rate_hz: must be >= 0, got -2"),
    ("spike-lengths", "ids: [0, 1]", "ids: [0]",
     "populations.inp.source: times and ids must have the same length, got 2 and 1"),
    ("spike-id-range", "ids: [0, 1]", "ids: [0, 7]",
     "populations.inp.source.ids: neuron id 7 out of range for size 2"),
    ("source-kind", "kind: spike_times,", "kind: spikes,",
     "populations.inp.source.kind: source kind 'spikes'; expected one of: spike_times, poisson"),
    ("unknown-from", "{from: inp, to: hid", "{from: input, to: hid",
     "projections[0].from: unknown population 'input' (known: inp, hid, out)"),
    ("unknown-to", "{from: inp, to: hid", "{from: inp, to: hidden",
     "projections[0].to: unknown population 'hidden' (known: inp, hid, out)"),
    ("to-source", "{from: inp, to: hid", "{from: hid, to: inp",
     "projections[0].to: 'inp' is a spike source and cannot receive synapses"),
    ("missing-from", "{from: inp, to: hid", "{to: hid", "projections[0].from: required field missing"),
    ("missing-weight", "weight: 0.5, delay: 1}", "delay: 1}", "projections[0].weight: required field missing"),
    ("delay-zero", "weight: 0.5, delay: 1}", "weight: 0.5, delay: 0}",
     "projections[0].delay: delay must be >= 1, got 0"),
    ("delay-fraction", "weight: 0.5, delay: 1}", "weight: 0.5, delay: 1.5}",
     "projections[0].delay: delay must be an integer, got 1.5"),
    ("delay-distribution-below-one", "weight: 0.5, delay: 1}",
     "weight: 0.5, delay: {uniform: [0, 3], seed: 1}}",
     "projections[0].delay: delays must be >= 1 step, got uniform[0.0, 3.0]"),
    ("p-above-one", "connect: all_to_all, weight: 0.5",
     "connect: {kind: fixed_probability, p: 1.5}, weight: 0.5",
     "projections[0].connect.p: must be <= 1, got 1.5"),
    ("p-negative", "connect: all_to_all, weight: 0.5",
     "connect: {kind: fixed_probability, p: -0.1}, weight: 0.5",
     "projections[0].connect.p: must be >= 0, got -0.1"),
    ("connect-kind", "connect: all_to_all, weight: 0.5", "connect: everyone, weight: 0.5",
     "projections[0].connect.kind: connect kind 'everyone'; expected one of: all_to_all, one_to_one, "
     "fixed_probability, explicit"),
    ("one-to-one-sizes", "connect: all_to_all, weight: 0.5", "connect: one_to_one, weight: 0.5",
     "projections[0].connect: one_to_one needs equal sizes, got 2 and 3"),
    ("weight-string", "weight: 0.5, delay: 1}", "weight: heavy, delay: 1}",
     "projections[0].weight: expected a number, a list, {file, key}, {normal: [mean, std], seed} or "
     "{uniform: [lo, hi], seed}, got 'heavy'"),
    ("weight-length", "weight: 0.5, delay: 1}", "weight: [0.5, 0.1], delay: 1}",
     "projections[0].weight: has 2 values for 6 connections"),
    ("weight-array-fixed-p", "connect: all_to_all, weight: 0.5",
     "connect: {kind: fixed_probability, p: 0.5}, weight: [1.0, 2.0]",
     "projections[0].weight: an array of 2 weights needs a rule with a known connection count "
     "(all_to_all, one_to_one or explicit), not fixed_probability"),
    ("loihi-weight-range", "weight: 4, delay: 2}", "weight: 300, delay: 2}",
     "projections[1].weight: Loihi 8-bit weights into 'out': must be <= 255, got 300 (range -256..255)"),
    ("loihi-weight-fraction", "weight: 4, delay: 2}", "weight: 0.5, delay: 2}",
     "projections[1].weight: Loihi 8-bit weights into 'out': must be an integer, got 0.5 "
     "(range -256..255)"),
    ("weight-exp-range", "weight: 4, delay: 2}", "weight: 4, delay: 2, weight_exp: 9}",
     "projections[1].weight_exp: must be <= 7, got 9"),
    ("explicit-lengths", "connect: all_to_all, weight: 0.5",
     "connect: {kind: explicit, pre: [0, 1], post: [0]}, weight: 0.5",
     "projections[0].connect: pre and post must have the same length, got 2 and 1"),
    ("explicit-range", "connect: all_to_all, weight: 0.5",
     "connect: {kind: explicit, pre: [0, 5], post: [0, 1]}, weight: 0.5",
     "projections[0].connect.pre: index 5 out of range for population 'inp' of size 2"),
    ("npz-missing-file", "weight: 0.5, delay: 1}", "weight: {file: nope.npz, key: w}, delay: 1}",
     "projections[0].weight: array file 'nope.npz' not found (in {dir})"),
    ("npz-missing-key", "weight: 0.5, delay: 1}", "weight: {file: arrays.npz, key: nokey}, delay: 1}",
     "projections[0].weight: key 'nokey' not in 'arrays.npz' (keys: w6, w2)"),
    ("npz-length", "weight: 0.5, delay: 1}", "weight: {file: arrays.npz, key: w2}, delay: 1}",
     "projections[0].weight: has 2 values for 6 connections"),
    ("duplicate-projection-name", "  - {from: hid, to: out,",
     "  - {name: x, from: inp, to: hid, weight: 1}\n  - {name: x, from: hid, to: out,",
     "projections[1].name: duplicate projection name 'x'"),
    # YAML itself
    ("empty-file", BASE, "", "the file must be a YAML mapping with populations and projections"),
    ("duplicate-population", "  out:\n", "  hid: {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n"
     "  out:\n", "line 9: duplicate key 'hid'"),
    ("duplicate-field", "tau_mem: 20.0}", "tau_mem: 20.0, tau_mem: 5.0}",
     "line 8: duplicate key 'tau_mem'"),
    ("metadata-not-mapping", "dt: 1.0", "dt: 1.0\nmetadata: 5",
     "metadata: expected a mapping, got 5"),
    # wrong types: booleans are not numbers, names are not lists
    ("size-bool", "size: 3", "size: true", "populations.hid.size: expected an integer, got True"),
    ("weight-bool", "weight: 0.5, delay: 1}", "weight: true, delay: 1}",
     "projections[0].weight: expected a number, a list, {file, key}, {normal: [mean, std], seed} "
     "or {uniform: [lo, hi], seed}, got True"),
    ("from-not-a-name", "{from: inp, to: hid", "{from: [inp], to: hid",
     "projections[0].from: expected a population name, got ['inp']"),
    ("spike-time-fraction", "times: [0, 1]", "times: [0, 1.5]",
     "populations.inp.source: times must be integers"),
    ("explicit-negative-index", "connect: all_to_all, weight: 0.5",
     "connect: {kind: explicit, pre: [0, -1], post: [0, 1]}, weight: 0.5",
     "projections[0].connect.pre: index -1 out of range for population 'inp' of size 2"),
    # seeds and distributions, checked when loaded rather than when drawn
    ("connect-seed-negative", "connect: all_to_all, weight: 0.5",
     "connect: {kind: fixed_probability, p: 0.5, seed: -1}, weight: 0.5",
     "projections[0].connect.seed: must be >= 0, got -1"),
    ("poisson-seed-negative", "{kind: spike_times, times: [0, 1], ids: [0, 1]}",
     "{kind: poisson, rate_hz: 5, seed: -3}", "populations.inp.source.seed: must be >= 0, got -3"),
    ("normal-std-negative", "weight: 0.5, delay: 1}",
     "weight: {normal: [0, -1], seed: 1}, delay: 1}",
     "projections[0].weight: normal std must be >= 0, got -1"),
    ("normal-one-number", "weight: 0.5, delay: 1}", "weight: {normal: [0]}, delay: 1}",
     "projections[0].weight.normal: expected normal: [mean, std] (two numbers), got [0]"),
    ("distribution-seed-negative", "weight: 0.5, delay: 1}",
     "weight: {uniform: [0, 1], seed: -2}, delay: 1}",
     "projections[0].weight.seed: must be >= 0, got -2"),
    ("uniform-reversed", "weight: 0.5, delay: 1}", "weight: 0.5, delay: {uniform: [3, 1]}}",
     "projections[0].delay: uniform needs lo <= hi, got [3, 1]"),
    ("uniform-delay-without-integer", "weight: 0.5, delay: 1}",
     "weight: 0.5, delay: {uniform: [1.5, 1.7]}}",
     "projections[0].delay: delays are whole steps: uniform[1.5, 1.7] holds no integer"),
    ("uniform-delay-too-long", "weight: 0.5, delay: 1}",
     "weight: 0.5, delay: {uniform: [1, 70000]}}",
     "projections[0].delay: delays must be <= 65535 steps, got uniform[1.0, 70000.0]"),
    # a normal delay is only known to be bad once drawn: validate draws it (std 0: every draw is -5)
    ("normal-delay-drawn-below-one", "weight: 0.5, delay: 1}",
     "weight: 0.5, delay: {normal: [-5, 0]}}",
     "projections[0].delay: drawn delay -5 outside 1..65535"),
    # NPZ files that are not what they should be
    ("npz-not-an-archive", "weight: 0.5, delay: 1}",
     "weight: {file: garbage.npz, key: w}, delay: 1}",
     "projections[0].weight: cannot read array file 'garbage.npz': not a NumPy .npz archive"),
    ("npz-is-npy", "weight: 0.5, delay: 1}", "weight: {file: single.npy, key: w}, delay: 1}",
     "projections[0].weight: cannot read array file 'single.npy': not a NumPy .npz archive"),
    ("npz-object-array", "weight: 0.5, delay: 1}", "weight: {file: odd.npz, key: obj}, delay: 1}",
     "projections[0].weight: cannot read 'odd.npz:obj': Object arrays cannot be loaded when "
     "allow_pickle=False"),
    ("npz-strings", "weight: 0.5, delay: 1}", "weight: {file: odd.npz, key: text}, delay: 1}",
     "projections[0].weight: 'odd.npz:text' must hold integers or floats, got dtype <U1"),
    ("npz-two-dimensional", "weight: 0.5, delay: 1}",
     "weight: {file: odd.npz, key: matrix}, delay: 1}",
     "projections[0].weight: 'odd.npz:matrix' must be 1-D, got shape (2, 3)"),
    ("npz-spike-key-missing", "{kind: spike_times, times: [0, 1], ids: [0, 1]}",
     "{kind: spike_times, file: arrays.npz, times: w2, ids: k}",
     "populations.inp.source.ids: key 'k' not in 'arrays.npz' (keys: w6, w2)"),
]

CATEGORIES = {  # the kinds of bad input the error contract names, and cases of each
    "YAML syntax": ["yaml-syntax", "duplicate-population", "empty-file"],
    "unknown field": ["unknown-top-field", "unknown-population-field", "unknown-neuron-field"],
    "wrong type": ["size-not-int", "param-bad-type", "weight-string", "size-bool"],
    "unknown population": ["unknown-from", "unknown-to"],
    "negative size": ["size-negative"],
    "delay < 1": ["delay-zero", "delay-distribution-below-one", "normal-delay-drawn-below-one"],
    "p outside [0, 1]": ["p-above-one", "p-negative"],
    "missing NPZ file or key": ["npz-missing-file", "npz-missing-key", "npz-spike-key-missing"],
    "array length mismatch": ["param-array-length", "weight-length", "npz-length", "spike-lengths"],
    "out-of-range Lava parameter": ["loihi-du-range", "loihi-vth-range", "loihi-bias-exp",
                                    "loihi-bias-mant", "loihi-weight-range"],
}


def test_the_table_covers_every_category_of_the_contract():
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 30
    for category, cases in CATEGORIES.items():
        assert set(cases) <= set(ids), category


def _write_arrays(folder: Path) -> None:
    np.savez(folder / "arrays.npz", w6=np.full(6, 0.5), w2=np.ones(2))
    np.savez(folder / "odd.npz", obj=np.array([1, "a", None], dtype=object),
             text=np.array(list("abcdef")), matrix=np.ones((2, 3)))
    (folder / "garbage.npz").write_text("not a zip archive")
    np.save(folder / "single.npy", np.ones(6))


@pytest.mark.parametrize("case,old,new,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line(tmp_path: Path, case, old, new, expected):
    assert old in BASE, f"{case}: the base network has no {old!r}"
    _write_arrays(tmp_path)
    path = tmp_path / "net.yaml"
    path.write_text(BASE.replace(old, new, 1))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"{path}: {expected.replace('{dir}', str(tmp_path))}"]
    assert "Traceback" not in result.output


def test_base_network_is_valid(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text(BASE)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output


def test_missing_file(tmp_path: Path):
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2
    assert result.output.strip() == f"{tmp_path / 'absent.yaml'}: cannot read: No such file or directory"


def test_debug_shows_traceback(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text(BASE.replace("size: 3", "size: -3"))
    result = CliRunner().invoke(cli, ["--debug", "validate", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1] == (f"snnc.ir.errors.NetworkError: {path}: populations.hid.size: "
                         "must be >= 1, got -3")


def test_not_a_text_file(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_bytes(b"snnc: 1\nname: \xff\xfe\n")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.output.strip() == f"{path}: not a text file (not UTF-8 at byte 14)"


def test_the_installed_command_prints_one_line_and_no_traceback(tmp_path: Path):
    """The real console script (not click's test runner, which hides tracebacks)."""
    snnc = Path(sys.executable).with_name("snnc")
    path = tmp_path / "net.yaml"
    for text, expected in [
        (BASE.replace("tau_mem: 20.0", "tau_mem: -5"),
         "populations.hid.neuron.tau_mem: must be > 0, got -5"),
        (BASE.replace("weight: 0.5", "weight: {file: odd.npz, key: obj}"),
         "projections[0].weight: cannot read 'odd.npz:obj': Object arrays cannot be loaded when "
         "allow_pickle=False"),
    ]:
        _write_arrays(tmp_path)
        path.write_text(text)
        run = subprocess.run([str(snnc), "validate", str(path)], capture_output=True, text=True,
                             timeout=120)
        assert (run.returncode, run.stdout, run.stderr) == (2, "", f"{path}: {expected}\n")


# ---- commands that write files write none when the input is bad ---------------------------------
def _commands(tmp_path: Path, net: Path) -> dict[str, tuple[list[str], Path]]:
    return {
        "compile": (["compile", str(net), "--target", "loihi-sim", "-o", str(tmp_path / "build")],
                    tmp_path / "build"),
        "run": (["run", str(net), "--target", "reference", "--steps", "5", "-o",
                 str(tmp_path / "spikes.npz")], tmp_path / "spikes.npz"),
        "quantize": (["quantize", str(net), "--target", "loihi-sim", "-o",
                      str(tmp_path / "q.yaml")], tmp_path / "q.yaml"),
        "export-nir": (["export-nir", str(net), "-o", str(tmp_path / "m.nir")],
                       tmp_path / "m.nir"),
    }


@pytest.mark.parametrize("command", ["compile", "run", "quantize", "export-nir"])
@pytest.mark.parametrize("case", ["tau-mem-negative", "npz-missing-key", "yaml-syntax"])
def test_a_command_given_bad_input_writes_nothing(tmp_path: Path, command, case):
    _, old, new, expected = next(c for c in CASES if c[0] == case)
    _write_arrays(tmp_path)
    net = tmp_path / "net.yaml"
    net.write_text(BASE.replace(old, new, 1))
    before = sorted(p.name for p in tmp_path.iterdir())
    args, output = _commands(tmp_path, net)[command]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"{net}: {expected}"]
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary files either


@pytest.mark.parametrize("command", ["compile", "run", "quantize"])
def test_a_draw_that_fails_after_loading_writes_nothing(tmp_path: Path, command):
    """The normal delay loads (only drawing shows it is bad), then fails at expansion."""
    net = tmp_path / "net.yaml"
    net.write_text(BASE.replace("weight: 0.5, delay: 1}", "weight: 0.5, delay: {normal: [-5, 0]}}"))
    args, output = _commands(tmp_path, net)[command]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{net}: projections[0].delay: drawn delay -5 outside 1..65535"]
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


def test_info_prints_nothing_but_the_error_when_a_draw_fails(tmp_path: Path):
    net = tmp_path / "net.yaml"
    net.write_text(BASE.replace("weight: 0.5, delay: 1}", "weight: 0.5, delay: {normal: [-5, 0]}}"))
    result = CliRunner().invoke(cli, ["info", str(net)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"{net}: projections[0].delay: drawn delay -5 outside 1..65535\n"


@pytest.mark.parametrize("command", ["compile", "quantize"])
def test_a_network_the_target_cannot_express_writes_nothing(tmp_path: Path, command):
    net = tmp_path / "net.yaml"
    net.write_text(BASE.replace("tau_mem: 20.0}",
                                "tau_mem: 20.0, reset: subtract, v_reset: -0.5}"))
    args, output = _commands(tmp_path, net)[command]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{net}: populations.hid.neuron.v_reset: population 'hid' (lif) uses reset by "
        "subtracting the threshold with v_reset != 0, which loihi-sim cannot run: Loihi "
        "subtracts v_th - v_reset (set v_reset: 0)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]
