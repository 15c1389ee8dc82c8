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


@pytest.mark.parametrize("target", ["loihi-sim"])
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
