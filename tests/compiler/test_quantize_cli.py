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
    assert bad.output.strip().startswith("error: --option: expected key=value")
    bad = runner.invoke(cli, ["quantize", net, "-t", "loihi-sim", "--option", "rounding=up"])
    assert bad.exit_code == 2 and "--option rounding" in bad.output
    assert len(bad.output.strip().splitlines()) == 1


def test_unsupported_population_is_a_one_line_error(tmp_path):
    net = Network("refr", dt=1.0)
    net.population("hid", 1, LIF(tau_mem=20.0, v_th=1.0, refractory=2))
    file = str(tmp_path / "refr.yaml")
    net.save(file)
    result = CliRunner().invoke(cli, ["quantize", file, "-t", "loihi-sim"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {file}: populations.hid.neuron.refractory: 'hid': Lava's fixed-point LIF has no "
        "refractory period (refractory = 2)")


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
