"""Planning-only chips (TrueNorth, Xylo, Speck, Akida): spec fields, each rule fitting and broken.

Expectations are hand-computed from the rules as the sources state them (Merolla 2014 for
TrueNorth's crossbar, Rockpool's Xylo table, Sinabs' ``memory_summary`` formula for Speck).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.cli import cli
from snnc.compiler import compile_network
from snnc.compiler.hardware import BUILTIN, HardwareSpec, load_hardware
from snnc.ir import LIF, Network, SnncError, all_to_all, explicit, poisson, save

NEURON = LIF(tau_mem=10.0)
PLANNING = ("truenorth", "xylo-audio2", "xylo-audio3", "xylo-imu", "speck", "akida-akd1000")


def _report(net: Network, hardware: str):
    return compile_network(net, "reference", hardware).report


def _one(violations: list[str], *parts: str) -> str:
    """The single violation that contains every part (and says so when none or several do)."""
    found = [v for v in violations if all(p in v for p in parts)]
    assert len(found) == 1, (parts, violations)
    return found[0]


def _explicit(net: Network, pre: str, post: str, pairs, weight, name: str, delay=1) -> None:
    pre_ids, post_ids = (np.array(column, dtype=np.int64) for column in zip(*pairs))
    net.connect(pre, post, explicit(pre_ids, post_ids), weight=weight, delay=delay, name=name)


# ---- specs ---------------------------------------------------------------------------------------
def test_builtin_specs_load_and_old_ones_keep_their_model():
    for name in BUILTIN:
        spec = load_hardware(name)
        assert spec.name == name
        expected = "planning" if name in PLANNING else ("loihi" if "loihi" in name else "spinnaker")
        assert spec.family == expected
    for name in ("loihi2", "loihi1", "spinnaker1"):
        assert load_hardware(name).core_model == "synaptic"
        assert "axons_per_core" not in load_hardware(name).limits()  # older reports unchanged
    truenorth = load_hardware("truenorth")
    assert (truenorth.max_cores, truenorth.axons_per_core, truenorth.neurons_per_core,
            truenorth.axon_types, truenorth.max_delay) == (4096, 256, 256, 4, 15)
    speck = load_hardware("speck")
    assert speck.max_cores == 9 and len(speck.kernel_memory_per_core) == 9
    assert (load_hardware("xylo-audio2").hidden_neurons, load_hardware("xylo-audio3").outputs,
            load_hardware("xylo-imu").hidden_neurons) == (1000, 32, 496)


def _fields(**changes):
    base = load_hardware("truenorth").model_dump()
    return base | changes


def test_core_model_fields_are_checked():
    with pytest.raises(ValueError, match="needs axon_types"):
        HardwareSpec(**_fields(axon_types=None))
    with pytest.raises(ValueError, match="needs family: planning"):
        HardwareSpec(**_fields(family="loihi"))
    with pytest.raises(ValueError, match="one positive entry count per core"):
        HardwareSpec(**_fields(core_model="conv", kernel_memory_per_core=[1024] * 3,
                               neuron_memory_per_core=[1024] * 4096))


def test_user_spec_from_a_planning_base(tmp_path):
    path = tmp_path / "tn16.yaml"
    path.write_text("base: truenorth\nname: tn16\naxon_types: 16\n")
    spec = load_hardware(str(path))
    assert spec.core_model == "crossbar" and spec.axon_types == 16


def test_loihi_sim_refuses_a_planning_chip():
    net = Network("n")
    net.population("a", 2, NEURON)
    with pytest.raises(SnncError, match="planning machine"):
        compile_network(net, "loihi-sim", "truenorth")


# ---- TrueNorth: crossbar -------------------------------------------------------------------------
def test_truenorth_fits_in_ceil_n_over_256_cores():
    net = Network("tn")
    net.source("inp", 100, poisson(10.0, 0))
    net.population("a", 300, NEURON)
    net.connect("inp", "a", all_to_all(), weight=0.5, name="x")
    report = _report(net, "truenorth")
    assert report.fits, report.violations
    assert report.totals["neuron_cores"] == 2  # ceil(300 / 256)
    assert report.totals["planning"]["axon_types_needed"] == 1


def test_truenorth_five_weights_onto_one_neuron():
    net = Network("tn")
    net.source("inp", 5, poisson(10.0, 0))
    net.population("a", 1, NEURON)
    _explicit(net, "inp", "a", [(i, 0) for i in range(5)], np.arange(1.0, 6.0), "x")
    line = _one(_report(net, "truenorth").violations, "core 0")
    assert "neuron 'a'[0] needs 5 distinct weights" in line
    assert "one signed weight per axon type (4 types)" in line


def _clique(axons: int) -> Network:
    """For every pair of axons i < j a neuron that gets weight 1 from i and 2 from j: any two axons
    of one type would give that neuron two values, so the axons need ``axons`` types while each
    neuron sees only 2 weights."""
    net = Network("clique")
    pairs = list(itertools.combinations(range(axons), 2))
    net.source("inp", axons, poisson(10.0, 0))
    net.population("a", len(pairs), NEURON)
    synapses = [(i, k) for k, (i, _j) in enumerate(pairs)] + [(j, k) for k, (_i, j) in
                                                            enumerate(pairs)]
    weights = np.array([1.0] * len(pairs) + [2.0] * len(pairs))
    _explicit(net, "inp", "a", synapses, weights, "x")
    return net


def test_truenorth_axon_types_four_axons_fit_five_do_not():
    report = _report(_clique(4), "truenorth")
    assert report.fits, report.violations
    assert report.totals["planning"]["axon_types_needed"] == 4
    report = _report(_clique(5), "truenorth")
    _one(report.violations, "core 0", "more than 4 axon types")


def test_truenorth_parallel_synapses_and_delays():
    net = Network("tn")
    net.source("inp", 3, poisson(10.0, 0))
    net.population("a", 3, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, name="x")
    net.connect("inp", "a", all_to_all(), weight=1.0, name="y")
    _one(_report(net, "truenorth").violations, "core 0: 9 (axon, neuron) pairs",
         "one 0/1 synapse")
    # the same pairs at another delay are other axons: no parallel synapses
    net = Network("tn")
    net.source("inp", 3, poisson(10.0, 0))
    net.population("a", 3, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, name="x")
    net.connect("inp", "a", all_to_all(), weight=1.0, delay=2, name="y")
    assert _report(net, "truenorth").fits


def test_truenorth_axons_count_pre_neuron_and_delay():
    net = Network("tn")
    net.source("inp", 200, poisson(10.0, 0))
    net.population("a", 1, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, name="x")
    net.connect("inp", "a", all_to_all(), weight=1.0, delay=3, name="y")
    line = _one(_report(net, "truenorth").violations, "axons")
    assert line.startswith("core 0: 400 axons (one per pre neuron and delay) > IBM TrueNorth's 256")


def test_truenorth_delay_limit():
    net = Network("tn")
    net.source("inp", 1, poisson(10.0, 0))
    net.population("a", 1, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, delay=15, name="ok")
    assert _report(net, "truenorth").fits
    net.connect("inp", "a", all_to_all(), weight=1.0, delay=16, name="long")
    _one(_report(net, "truenorth").violations, "projection 'long': delay 16 steps",
         "delays of 1..15 steps")


def test_truenorth_one_destination_per_neuron():
    net = Network("tn")
    net.population("a", 10, NEURON)
    net.population("b", 300, NEURON)  # two cores: 256 + 44
    net.connect("a", "b", all_to_all(), weight=1.0, name="x")
    line = _one(_report(net, "truenorth").violations, "destination")
    assert line.startswith("10 neurons send to more than 1 (core, delay) destination,")
    assert "add 10 splitter neurons" in line


# ---- Xylo: fixed counts --------------------------------------------------------------------------
def _xylo(inputs: int, hidden: int, outputs: int, fan_out_ok: bool = True) -> Network:
    net = Network("xylo")
    net.source("inp", inputs, poisson(10.0, 0))
    net.population("hid", hidden, NEURON)
    net.population("out", outputs, NEURON)
    # each input reaches min(hidden, 60) hidden neurons, each hidden neuron all outputs
    reach = min(hidden, 60) if fan_out_ok else hidden
    _explicit(net, "inp", "hid", [(i, (i + k) % hidden) for i in range(inputs)
                                  for k in range(reach)], 1.0, "w_in")
    net.connect("hid", "out", all_to_all(), weight=1.0, name="w_out")
    return net


def test_xylo_audio2_fits_and_counts():
    report = _report(_xylo(16, 1000, 8), "xylo-audio2")
    assert report.fits, report.violations
    plan = report.totals["planning"]
    assert (plan["inputs"], plan["hidden_neurons"], plan["outputs"]) == (16, 1000, 8)
    assert plan["output_populations"] == ["out"] and report.totals["cores"] == 1


def test_xylo_audio2_each_count_broken():
    violations = _report(_xylo(17, 1200, 9), "xylo-audio2").violations
    _one(violations, "Xylo Audio 2: 1,200 hidden neurons, the chip has 1,000")
    _one(violations, "Xylo Audio 2: 17 input channels", "the chip has 16")
    _one(violations, "Xylo Audio 2: 9 output neurons", "the chip has 8")


def test_xylo_imu_boundary():
    assert _report(_xylo(16, 496, 16), "xylo-imu").fits
    _one(_report(_xylo(16, 497, 16), "xylo-imu").violations, "497 hidden neurons",
         "the chip has 496")


def test_xylo_fan_out_and_inputs_to_outputs():
    violations = _report(_xylo(4, 100, 8, fan_out_ok=False), "xylo-audio2").violations
    line = _one(violations, "synapses onto more than 64")
    assert line.startswith("SynSense Xylo Audio 2: 4 neurons")  # the 4 inputs reach 100 each
    assert _report(_xylo(4, 100, 8, fan_out_ok=False), "xylo-audio3").fits  # fan-out 1,024
    net = _xylo(4, 10, 2)
    net.connect("inp", "out", all_to_all(), weight=1.0, name="skip")
    _one(_report(net, "xylo-audio2").violations, "projection 'skip'", "hidden neurons only")


def test_xylo_has_no_delays():
    net = _xylo(4, 10, 2)
    net.connect("hid", "hid", all_to_all(), weight=0.1, delay=2, name="rec")
    _one(_report(net, "xylo-audio3").violations, "projection 'rec': delay 2 steps",
         "no synaptic delays")


# ---- Speck: conv-layer cores ---------------------------------------------------------------------
def _conv_pairs(c_in: int, c_out: int, size: int, k: int):
    """Synapses of a same-padded k x k convolution [c_in, size, size] -> [c_out, size, size]."""
    pairs = []
    r = k // 2
    for o, y, x in itertools.product(range(c_out), range(size), range(size)):
        for i, dy, dx in itertools.product(range(c_in), range(-r, r + 1), range(-r, r + 1)):
            if 0 <= y + dy < size and 0 <= x + dx < size:
                pairs.append(((i * size + y + dy) * size + x + dx, (o * size + y) * size + x))
    return pairs


def test_speck_layer_memory_is_sinabs_formula():
    net = Network("cnn")
    net.source("dvs", 2 * 8 * 8, poisson(10.0, 0))
    net.population("conv", 4 * 6 * 6, NEURON)
    # a 3 x 3 valid convolution [2, 8, 8] -> [4, 6, 6]: central pixels of the same-padded one
    pairs = [(pre, post) for pre, post in _conv_pairs(2, 4, 8, 3)]
    keep = [(pre, (post // 64) * 36 + ((post % 64) // 8 - 1) * 6 + (post % 8) - 1)
            for pre, post in pairs if 1 <= (post % 64) // 8 <= 6 and 1 <= post % 8 <= 6]
    _explicit(net, "dvs", "conv", keep, 1.0, "k")
    net.metadata["linear"] = {"shapes": {"dvs": [2, 8, 8], "conv": [4, 6, 6]}}
    report = _report(net, "speck")
    assert report.fits, report.violations
    layer = report.totals["planning"]["layers"]["conv"]
    # kernel: c_in 2 * 2^(ceil log2 9 + ceil log2 4) = 2 * 2^6; neurons: 4 * 2^(3 + 3)
    assert (layer["kernel_memory"], layer["neuron_memory"]) == (128, 256)


def test_speck_dense_layer_too_big_for_every_core():
    net = Network("dense")
    net.source("inp", 1000, poisson(10.0, 0))
    net.population("fc", 100, NEURON)
    net.connect("inp", "fc", all_to_all(), weight=1.0, name="w")
    line = _one(_report(net, "speck").violations, "layer 'fc'")
    # kernel: 1000 input channels * 2^(0 + ceil log2 100) = 128,000 entries
    assert "kernel memory 128,000 and neuron memory 100 entries" in line


def test_speck_ten_layers_and_the_matching():
    net = Network("deep")
    net.source("inp", 4, poisson(10.0, 0))
    previous = "inp"
    for k in range(10):
        net.population(f"l{k}", 4, NEURON)
        net.connect(previous, f"l{k}", all_to_all(), weight=1.0, name=f"w{k}")
        previous = f"l{k}"
    _one(_report(net, "speck").violations, "10 layers", "9 cores")
    # three layers of kernel 625 * 2^6 = 40,000 entries: only cores 5 and 6 hold 64 Ki
    net = Network("wide")
    net.source("inp", 625, poisson(10.0, 0))
    for k in range(3):
        net.population(f"l{k}", 64, NEURON)
        net.connect("inp", f"l{k}", all_to_all(), weight=1.0, name=f"w{k}")
    line = _one(_report(net, "speck").violations, "no assignment of the 3 layers")
    assert "9 cores" in line
    net = Network("two")
    net.source("inp", 625, poisson(10.0, 0))
    for k in range(2):
        net.population(f"l{k}", 64, NEURON)
        net.connect("inp", f"l{k}", all_to_all(), weight=1.0, name=f"w{k}")
    report = _report(net, "speck")
    assert report.fits, report.violations
    assert {v["core"] for v in report.totals["planning"]["layers"].values()} == {5, 6}


def test_speck_two_destinations_per_core():
    net = Network("fan")
    net.source("inp", 4, poisson(10.0, 0))
    net.population("a", 4, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, name="w")
    for k in range(3):
        net.population(f"b{k}", 4, NEURON)
        net.connect("a", f"b{k}", all_to_all(), weight=1.0, name=f"v{k}")
    _one(_report(net, "speck").violations, "layer 'a': sends to 3 layers", "2 destinations")


# ---- Akida and the command line ------------------------------------------------------------------
def test_akida_plans_synaptic_cores():
    net = Network("ak")
    net.source("inp", 100, poisson(10.0, 0))
    net.population("a", 20000, NEURON)  # 2 NPUs of 15,000 neurons
    net.connect("inp", "a", all_to_all(), weight=1.0, name="w")
    report = _report(net, "akida-akd1000")
    # memory: 2,000,000 synapses x 4 bits = 1,000,000 B over NPUs of 102,400 B: at least 10
    assert report.fits and report.totals["neuron_cores"] >= 10
    assert report.totals["neuron_cores"] == report.totals["lower_bound"]


def test_cli_does_not_fit_exits_1_with_the_rule(tmp_path):
    path = tmp_path / "net.yaml"
    save(_xylo(16, 1200, 8), path)
    result = CliRunner().invoke(cli, ["compile", str(path), "--target", "reference",
                                      "--hardware", "xylo-audio2", "-o", str(tmp_path / "b")])
    assert result.exit_code == 1, result.output
    assert "1,200 hidden neurons, the chip has 1,000" in result.output
    assert "1,200 hidden neurons" in (tmp_path / "b" / "report.txt").read_text()
    save(_xylo(16, 100, 8), path)
    result = CliRunner().invoke(cli, ["compile", str(path), "--target", "reference",
                                      "--hardware", "xylo-audio2", "-o", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output


def test_cli_targets_lists_planning_chips_and_their_uncertain_limits():
    result = CliRunner().invoke(cli, ["targets"])
    assert result.exit_code == 0
    for name in PLANNING:
        assert f"\n{name}: " in result.output
    assert "axon_types" in result.output and "⚠ targets_per_neuron" in result.output
