"""``snnc quantize``: the report a user reads, its warnings, options and output files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.cli import cli
from snnc.ir import LIF, Network, explicit, load, spike_times


def _tiny_weights_net(path) -> str:
    """One weight at the threshold and nine 10^6 times smaller: far below any 8-bit step."""
    net = Network("tiny", dt=1.0)
    net.source("inp", 10, spike_times(times=[0], ids=[0]))
    net.population("hid", 1, LIF(tau_mem=20.0, tau_syn=5.0, v_th=1.0))
    weights = np.array([1.0] + [1e-6] * 9)
    net.connect("inp", "hid", explicit(list(range(10)), [0] * 10), weight=weights)
    file = str(path / "tiny.yaml")
    net.save(file)
    return file


@pytest.mark.parametrize("target", ["loihi-sim", "spinnaker-emu"])
def test_weights_far_below_the_scale_are_zeroed_and_the_warning_is_printed(tmp_path, target):
    result = CliRunner().invoke(cli, ["quantize", _tiny_weights_net(tmp_path), "--target", target])
    assert result.exit_code == 0, result.output
    assert ("warning: projection 'inp->hid': 9 of 10 nonzero weights (90.0%) rounded to 0"
            in result.output)
    as_json = CliRunner().invoke(cli, ["quantize", _tiny_weights_net(tmp_path), "-t", target,
                                       "--format", "json"])
    report = json.loads(as_json.output)["quantization"]
    entry = report["projections"][0]
    assert {"name", "scale", "max_abs_error", "zeroed", "clipped"} <= entry.keys()
    assert entry["zeroed"] == 9 and entry["clipped"] == 0
    assert entry["smallest_surviving"] == 1.0
    assert report["populations"][0]["zeroed"] == 9
    assert any("rounded to 0" in line for line in report["warnings"])


def test_options_change_the_result_and_bad_options_are_one_line_errors(tmp_path):
    net = _tiny_weights_net(tmp_path)
    runner = CliRunner()
    out = str(tmp_path / "q.yaml")
    result = runner.invoke(cli, ["quantize", net, "-t", "loihi-sim", "--option", "weight_bits=4",
                                 "--format", "json", "-o", out])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["quantization"]["projections"][0]["num_weight_bits"] == 4
    quantized = load(out)
    assert quantized.populations["hid"].kind == "loihi_lif"
    assert quantized.projections[0].num_weight_bits == 4
    bad = runner.invoke(cli, ["quantize", net, "-t", "loihi-sim", "--option", "bits=4"])
    assert bad.exit_code == 2
    assert bad.output.strip().startswith("--option: expected key=value")
    bad = runner.invoke(cli, ["quantize", net, "-t", "loihi-sim", "--option", "rounding=up"])
    assert bad.exit_code == 2 and "--option rounding" in bad.output
    assert len(bad.output.strip().splitlines()) == 1


def test_unsupported_population_is_a_one_line_error(tmp_path):
    net = Network("sub", dt=1.0)
    net.population("hid", 1, LIF(tau_mem=20.0, v_th=1.0, v_reset=-0.5, reset="subtract"))
    file = str(tmp_path / "sub.yaml")
    net.save(file)
    result = CliRunner().invoke(cli, ["quantize", file, "-t", "loihi-sim"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{file}: populations.hid.neuron.v_reset: population 'hid' (lif) uses reset by "
        "subtracting the threshold with v_reset != 0, which loihi-sim cannot run: Loihi "
        "subtracts v_th - v_reset (set v_reset: 0)")


def test_steps_compares_float_and_quantized_rates_on_the_reference(tmp_path):
    from snnc.backends.reference import simulate
    from snnc.compiler.passes.quantize import quantize
    from snnc.ir import fixed_probability, poisson

    net = Network("driven", dt=1.0)
    net.source("noise", 50, poisson(rate_hz=40.0, seed=3))
    net.population("hid", 20, LIF(tau_mem=10.0, tau_syn=2.0, v_th=1.0, v_reset=0.0))
    net.connect("noise", "hid", fixed_probability(0.3, seed=4), weight=0.21, delay=2)
    file = str(tmp_path / "driven.yaml")
    net.save(file)
    result = CliRunner().invoke(cli, ["quantize", file, "-t", "loihi-sim", "--steps", "300",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)["agreement"]
    # the same runs, counted here: rate = spikes / neurons / seconds
    counts_f = np.bincount(simulate(net, 300, "float").spikes["hid"][1], minlength=20)
    fixed = simulate(quantize(net, "loihi")[0].network, 300, "loihi")
    counts_q = np.bincount(fixed.spikes["hid"][1], minlength=20)
    assert row["population"] == "hid" and counts_f.sum() > 0
    assert row["rate_float_hz"] == pytest.approx(counts_f.sum() / 20 / 0.3)
    assert row["rate_quantized_hz"] == pytest.approx(counts_q.sum() / 20 / 0.3)
    differing = np.abs(counts_q - counts_f) > 0.1 * counts_f
    assert row["fraction_differing"] == pytest.approx(differing.mean())
    table = CliRunner().invoke(cli, ["quantize", file, "-t", "spinnaker-emu", "--steps", "300"])
    assert table.exit_code == 0 and "float vs spinnaker on the reference, 300 steps" in table.output


# ---- report.json: the "quantization" section of snnc compile ------------------------------------
def test_compile_puts_the_quantization_report_in_report_json(tmp_path):
    """DESIGN/issue contract: {"projections": [{"name", "scale", "max_abs_error", "zeroed",
    "clipped"}], "populations": [...], "warnings": [...]}, with values computed by hand."""
    net = _tiny_weights_net(tmp_path)
    result = CliRunner().invoke(cli, ["compile", net, "--target", "loihi-sim", "-o",
                                      str(tmp_path / "build")])
    assert result.exit_code == 0, result.output
    quantization = json.loads((tmp_path / "build" / "report.json").read_text())["quantization"]
    assert {"projections", "populations", "warnings"} <= quantization.keys()
    (projection,) = quantization["projections"]
    assert {"name", "scale", "max_abs_error", "zeroed", "clipped"} <= projection.keys()
    # S: 24-bit bound (2^23 - 1) / (1 + 1.000009 / (742 / 4096)) = 1.29e6 -> 2^20 (threshold and
    # weight bounds are larger); weight 1.0 needs weight_exp 7: one integer unit = 64 * 2^7 / 2^20
    assert projection["name"] == "inp->hid" and projection["scale"] == 2.0**-7
    assert projection["zeroed"] == 9 and projection["clipped"] == 0
    assert projection["max_abs_error"] == pytest.approx(1e-6, rel=1e-9)  # 1.0 is exact: 128 units
    (population,) = quantization["populations"]
    assert population["name"] == "hid" and population["scale"] == 2.0**-20
    assert quantization["warnings"] == [
        "projection 'inp->hid': 9 of 10 nonzero weights (90.0%) rounded to 0 (step 0.00781; "
        "smallest surviving |w| 1)"]
    # the reference target runs the float network: no quantization
    CliRunner().invoke(cli, ["compile", net, "--target", "reference", "-o", str(tmp_path / "ref")])
    assert json.loads((tmp_path / "ref" / "report.json").read_text())["quantization"] is None


def test_compile_report_json_for_spinnaker_has_the_same_keys(tmp_path):
    net = _tiny_weights_net(tmp_path)
    result = CliRunner().invoke(cli, ["compile", net, "-t", "spinnaker-emu", "-o",
                                      str(tmp_path / "build")])
    assert result.exit_code == 0, result.output
    quantization = json.loads((tmp_path / "build" / "report.json").read_text())["quantization"]
    (projection,) = quantization["projections"]
    assert {"name", "scale", "max_abs_error", "zeroed", "clipped"} <= projection.keys()
    assert (projection["zeroed"], projection["clipped"]) == (9, 0)
    # the tiny weights lose 1e-6 each; the weight 1.0 at most half a step
    assert 1e-6 <= projection["max_abs_error"] <= max(1e-6, projection["scale"] / 2)
    assert [p["name"] for p in quantization["populations"]] == ["hid"]
    assert len(quantization["warnings"]) == 1 and "rounded to 0" in quantization["warnings"][0]


# ---- --option: every bad key or value is one line, exit 2, nothing written ---------------------
KNOWN = ("weight_bits, rounding, seed, power_of_two_scale, loihi_v_scale, ring_buffer_sigma, "
         "spikes_per_second, max_expected_summed_weight")


@pytest.mark.parametrize("option,expected", [
    ("bits=4", f"--option: expected key=value with key one of: {KNOWN}; got 'bits=4'"),
    ("weight_bits", f"--option: expected key=value with key one of: {KNOWN}; "
                    "got 'weight_bits'"),
    ("=4", f"--option: expected key=value with key one of: {KNOWN}; got '=4'"),
    ("max_expected_summed_weight=-5",
     "--option max_expected_summed_weight: must be > 0 (one value, or exc,inh) (got '-5')"),
    ("max_expected_summed_weight=20,0",
     "--option max_expected_summed_weight: must be > 0 (one value, or exc,inh) "
     "(got '20,0')"),
    # pydantic words the rest; the line names the option and repeats the value
    ("weight_bits=9", "weight_bits"), ("weight_bits=0", "weight_bits"),
    ("weight_bits=abc", "weight_bits"), ("rounding=up", "rounding"), ("seed=-1", "seed"),
    ("seed=1.5", "seed"), ("loihi_v_scale=inf", "loihi_v_scale"),
    ("loihi_v_scale=nan", "loihi_v_scale"), ("loihi_v_scale=0", "loihi_v_scale"),
    ("ring_buffer_sigma=inf", "ring_buffer_sigma"), ("spikes_per_second=0", "spikes_per_second"),
    ("power_of_two_scale=maybe", "power_of_two_scale"),
    ("max_expected_summed_weight=1,2,3", "max_expected_summed_weight"),
    ("max_expected_summed_weight=a", "max_expected_summed_weight"),
])
def test_bad_options_are_one_line_errors(tmp_path, option, expected):
    net = _tiny_weights_net(tmp_path)
    out = tmp_path / "q.yaml"
    for target in ("loihi-sim", "spinnaker-emu"):
        result = CliRunner().invoke(cli, ["quantize", net, "-t", target, "--option", option,
                                          "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        if expected.startswith("--option"):  # a full line
            assert line == expected
        else:
            value = option.partition("=")[2]
            assert line.startswith(f"--option {expected}: ")
            assert line.endswith(f"(got '{value}')")
        assert not out.exists()


def test_stochastic_rounding_is_seeded_on_the_command_line(tmp_path):
    net = Network("stochastic", dt=1.0)
    net.source("inp", 200, spike_times())
    net.population("hid", 1, LIF(tau_mem=20.0, v_th=1.0))
    net.connect("inp", "hid", weight=np.linspace(0.001, 0.05, 200))
    file = str(tmp_path / "net.yaml")
    net.save(file)

    def weights(*options):
        args = ["quantize", file, "-t", "loihi-sim", "-o", str(tmp_path / "q.yaml")]
        for option in options:
            args += ["--option", option]
        assert CliRunner().invoke(cli, args).exit_code == 0
        return np.asarray(load(tmp_path / "q.yaml").projections[0].weight)

    first = weights("rounding=stochastic", "seed=3")
    assert np.array_equal(first, weights("rounding=stochastic", "seed=3"))
    assert not np.array_equal(first, weights("rounding=stochastic", "seed=4"))
    assert not np.array_equal(first, weights("rounding=nearest"))


def test_quantize_writes_byte_identical_files_for_the_same_input(tmp_path):
    net = Network("det", dt=1.0)
    net.source("inp", 40, spike_times(times=[0, 1], ids=[3, 7]))
    net.population("hid", 30, LIF(tau_mem=20.0, tau_syn=5.0, v_th=1.0))
    net.connect("inp", "hid", weight=np.random.default_rng(0).normal(0.1, 0.05, 1200))
    file = str(tmp_path / "net.yaml")
    net.save(file)
    outputs = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        result = CliRunner().invoke(cli, [
            "quantize", file, "-t", "loihi-sim", "--option", "rounding=stochastic",
            "--option", "seed=5", "--format", "json", "-o", str(tmp_path / folder / "q.yaml")])
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    for name in ("q.yaml", "q.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
