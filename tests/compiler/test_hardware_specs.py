"""Hardware specs as data (docs/hardware-specs.md): a bad spec file is one line naming the file and
the field; the planning chips' counts are the hand-computed ones; each rule that
test_planning_specs.py does not break is broken here (Speck's bias memory, Akida's 80 NPUs and
per-NPU memory), next to a network that just fits.

Hand computations are in the comments; the limits are the specs' (compiler/specs/*.yaml), whose
sources the docs table lists.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.cli import cli
from snnc.compiler import compile_network
from snnc.compiler.hardware import BUILTIN, HardwareSpec, load_hardware
from snnc.ir import LIF, Network, SnncError, all_to_all, explicit, from_nir, poisson, save

NEURON = LIF(tau_mem=10.0)
NIR = Path(__file__).resolve().parents[1] / "data" / "nir"


def _report(net: Network, hardware: str):
    return compile_network(net, "reference", hardware).report


def _one(violations: list[str], *parts: str) -> str:
    found = [v for v in violations if all(p in v for p in parts)]
    assert len(found) == 1, (parts, violations)
    return found[0]


# ---- a bad spec file: one line, the file and the field -------------------------------------------
@pytest.mark.parametrize("text,field,words", [
    ("base: truenorth\nname: t\naxon_typez: 8\n", "axon_typez",
     "unknown field 'axon_typez': did you mean axon_types?"),
    ("base: truenorth\nname: t\naxon_types: many\n", "axon_types", "valid integer"),
    ("base: speck\nname: s\nkernel_memory_per_core: [16384, 16384]\n", "kernel_memory_per_core",
     "needs one positive entry count per core (9 cores), got 2"),
    ("base: xylo-imu\nname: x\nhidden_neurons: 0\n", "hidden_neurons", "greater than or equal to 1"),
    ("base: truenorth\nname: t\nfamily: loihi\n", "core_model", "needs family: planning"),
    ("base: loihi2\nname: l\ncore_model: crossbar\nfamily: planning\n", "core_model",
     "needs axons_per_core, axon_types"),
])
def test_bad_spec_field_is_one_line_naming_file_and_field(tmp_path, text, field, words):
    spec = tmp_path / "chip.yaml"
    spec.write_text(text)
    net = tmp_path / "net.yaml"
    tiny = Network("n")
    tiny.population("a", 2, NEURON)
    save(tiny, net)
    result = CliRunner().invoke(cli, ["compile", str(net), "--target", "reference",
                                      "--hardware", str(spec), "-o", str(tmp_path / "b")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0].startswith(f"{spec}: {field}: "), lines[0]
    assert words in lines[0]


def test_unknown_field_with_no_close_match_points_to_the_docs(tmp_path):
    spec = tmp_path / "chip.yaml"
    spec.write_text("base: truenorth\nname: t\nzzz: 1\n")
    with pytest.raises(SnncError, match=r"unknown field 'zzz': \(every field: docs/hardware-"):
        load_hardware(str(spec))


def test_every_builtin_field_is_documented():
    """docs/hardware-specs.md has a row for every field of HardwareSpec and every built-in spec."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "hardware-specs.md").read_text()
    missing = [f for f in HardwareSpec.model_fields if f"| `{f}` |" not in page]
    assert not missing, missing
    assert all(f"`{name}`" in page for name in BUILTIN)


# ---- TrueNorth: per-core axons by hand -----------------------------------------------------------
def test_truenorth_axons_and_types_counted_per_core():
    net = Network("tn")
    net.source("inp", 100, poisson(10.0, 0))
    net.population("a", 300, NEURON)  # cores: 256 + 44
    net.connect("inp", "a", all_to_all(), weight=0.5, name="x")
    net.connect("inp", "a", all_to_all(), weight=-0.5, delay=2, name="y")
    report = _report(net, "truenorth")
    assert report.fits, report.violations
    plan = report.totals["planning"]
    # every core sees 100 inputs at 2 delays: 200 axons (of 256); weights +0.5 and -0.5: 2 types
    assert plan["axons_by_core"] == [200, 200] and plan["axons_max"] == 200
    assert plan["axon_types_needed"] == 2
    # a third delay: 300 axons > 256 on both cores
    net.connect("inp", "a", all_to_all(), weight=0.5, delay=3, name="z")
    violations = _report(net, "truenorth").violations
    _one(violations, "core 0: 300 axons", "> IBM TrueNorth's 256")
    _one(violations, "core 1: 300 axons", "> IBM TrueNorth's 256")


def test_truenorth_one_neuron_over_the_axons_is_named():
    net = Network("tn")
    net.source("inp", 300, poisson(10.0, 0))
    net.population("a", 1, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, name="x")
    line = _one(_report(net, "truenorth").violations, "axons")
    assert line == ("core 0: 300 axons (one per pre neuron and delay) > IBM TrueNorth's 256; "
                    "neuron 'a'[0] alone needs 300 — give each neuron at most 256 (pre neuron, "
                    "delay) inputs")


# ---- Speck: Sinabs' CNN from its NIR file, layer by layer -----------------------------------------
def test_speck_plans_the_sinabs_cnn_from_its_nir_structure():
    """cnn_sinabs.nir: Conv 2->16 (5x5) on 34x34 (stride 2), Conv 16->16 (3x3), SumPool 2, Conv
    16->8 (3x3), SumPool 2, Flatten, Affine 128->256, Affine 256->10. Sinabs' memory_summary per
    layer (kernel c * 2^(ceil log2 kxky + ceil log2 f), neurons f * 2^(ceil log2 h + ceil log2 w);
    a pooling belongs to the sending core, an Affine's kernel is its input map)."""
    net = from_nir(NIR / "cnn_sinabs.nir", dt=1e-3)
    report = _report(net, "speck")
    assert report.fits, report.violations
    layers = report.totals["planning"]["layers"]
    expected = {
        "1": (2 * 2 ** (5 + 4), 16 * 2 ** (4 + 4)),    # [16, 2, 5, 5] -> [16, 16, 16]
        "3": (16 * 2 ** (4 + 4), 16 * 2 ** (4 + 4)),   # [16, 16, 3, 3] -> [16, 16, 16]
        "6": (16 * 2 ** (4 + 3), 8 * 2 ** (3 + 3)),    # [8, 16, 3, 3] -> [8, 8, 8]
        "10": (8 * 2 ** (4 + 8), 256),                 # Affine on [8, 4, 4]: c 8, k 4 x 4 -> 256
        "12": (256 * 2 ** (0 + 4), 10),                # Affine on [256] -> 10
    }
    assert {name: (v["kernel_memory"], v["neuron_memory"]) for name, v in layers.items()} == \
        expected
    speck = load_hardware("speck")
    # layer 10's 32 Ki kernel fits only cores 3-6; every layer on its own core, within its memories
    assert layers["10"]["core"] in (3, 4, 5, 6)
    assert len({v["core"] for v in layers.values()}) == 5
    for name, v in layers.items():
        assert v["kernel_memory"] <= speck.kernel_memory_per_core[v["core"]], name
        assert v["neuron_memory"] <= speck.neuron_memory_per_core[v["core"]], name


# ---- Speck: bias memory (1 Ki output channels per core) ------------------------------------------
def _channels(channels: int) -> Network:
    net = Network("bias")
    net.source("inp", 1, poisson(10.0, 0))
    net.population("wide", channels, NEURON)  # no shape: a 1 x 1 map of `channels` channels
    net.connect("inp", "wide", all_to_all(), weight=1.0, name="w")
    return net


def test_speck_bias_memory_boundary():
    report = _report(_channels(1024), "speck")
    assert report.fits, report.violations
    layer = report.totals["planning"]["layers"]["wide"]
    # kernel: c_in 1 * 2^(ceil log2 1 + ceil log2 1024) = 1,024; neurons: 1024 * 2^(0 + 0)
    assert (layer["kernel_memory"], layer["neuron_memory"]) == (1024, 1024)
    violations = _report(_channels(1025), "speck").violations
    line = _one(violations, "layer 'wide'")
    assert "1,025 output channels > SynSense Speck / DYNAP-CNN's 1,024 bias entries" in line


def test_speck_two_destinations_fit_and_a_shaped_layer_lands_on_a_core_that_holds_it():
    net = Network("cnn")
    net.source("dvs", 2 * 8 * 8, poisson(10.0, 0))
    net.population("c1", 8 * 8 * 8, NEURON)
    net.connect("dvs", "c1", all_to_all(), weight=1.0, name="k1")
    net.population("b0", 4, NEURON)
    net.population("b1", 4, NEURON)
    net.connect("c1", "b0", all_to_all(), weight=1.0, name="v0")
    net.connect("c1", "b1", all_to_all(), weight=1.0, name="v1")
    net.metadata["linear"] = {"shapes": {"dvs": [2, 8, 8], "c1": [8, 8, 8]}}
    report = _report(net, "speck")
    layers = report.totals["planning"]["layers"]
    # c1: fan-in 128 = 2 channels x area 64: kernel 2 * 2^(6 + 3) = 1,024, neurons 8 * 2^(3 + 3)
    assert (layers["c1"]["kernel_memory"], layers["c1"]["neuron_memory"]) == (1024, 512)
    # b0: fan-in 512 from c1 (8 channels, area 64): kernel 8 * 2^(6 + 2) = 2,048; neurons 4
    assert (layers["b0"]["kernel_memory"], layers["b0"]["neuron_memory"]) == (2048, 4)
    assert report.fits, report.violations  # c1 sends to exactly 2 layers
    speck = load_hardware("speck")
    for name, layer in layers.items():
        core = layer["core"]
        assert layer["kernel_memory"] <= speck.kernel_memory_per_core[core], name
        assert layer["neuron_memory"] <= speck.neuron_memory_per_core[core], name
    assert len({layer["core"] for layer in layers.values()}) == 3


# ---- Akida AKD1000: 80 NPUs of 102,400 B -------------------------------------------------------
def test_akida_memory_bound_cores_by_hand():
    net = Network("ak")
    net.source("inp", 100, poisson(10.0, 0))
    net.population("a", 20000, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, name="w")
    report = _report(net, "akida-akd1000")
    assert report.fits, report.violations
    # a neuron's 100 synapses x 4 bits = 50 B: 102,400 / 50 = 2,048 neurons per NPU (memory-bound,
    # under its 15,000 neurons): ceil(20,000 / 2,048) = 10 NPUs
    assert report.totals["neuron_cores"] == 10
    assert max(core.neurons for core in report.cores) == 2048
    assert max(core.memory_bytes for core in report.cores) == 2048 * 50


def test_akida_neuron_bound_and_eighty_npus():
    net = Network("ak")
    net.source("inp", 1, poisson(10.0, 0))
    net.population("a", 80 * 15000, NEURON)  # 1.2 million: exactly 80 NPUs of 15,000
    net.connect("inp", "a", explicit(np.zeros(1, np.int64), np.zeros(1, np.int64)), weight=1.0,
                name="w")
    report = _report(net, "akida-akd1000")
    assert report.fits, report.violations
    assert report.totals["neuron_cores"] == 80
    net = Network("ak")
    net.source("inp", 1, poisson(10.0, 0))
    net.population("a", 80 * 15000 + 1, NEURON)
    line = _one(_report(net, "akida-akd1000").violations, "machine 'akida-akd1000'")
    assert "cores 81 > 80" in line and "use a larger machine" in line


def test_akida_has_no_delays():
    net = Network("ak")
    net.source("inp", 2, poisson(10.0, 0))
    net.population("a", 2, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, name="ok")
    assert _report(net, "akida-akd1000").fits
    net.connect("inp", "a", all_to_all(), weight=1.0, delay=2, name="late")
    _one(_report(net, "akida-akd1000").violations, "projection 'late': delay 2 steps",
         "BrainChip Akida AKD1000 has no synaptic delays")


# ---- existing specs keep their behaviour -------------------------------------------------------
def test_synaptic_specs_have_no_planning_totals():
    net = Network("n")
    net.source("inp", 4, poisson(10.0, 0))
    net.population("a", 4, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, delay=9, name="w")
    for hardware in ("loihi2", "loihi1"):
        report = _report(net, hardware)
        assert report.fits and "planning" not in report.totals


def test_targets_lists_a_planning_chip_without_the_unset_machine_fields(tmp_path):
    listed = load_hardware("truenorth").listed_fields()
    assert {"axons_per_core", "axon_types", "max_delay", "neurons_per_core"} <= set(listed)
    assert not {"ring_buffer_entries", "delay_slots", "clock_hz", "load_headroom"} & set(listed)
    assert not {"inputs", "kernel_memory_per_core"} & set(listed)  # other core models' fields
    spec = tmp_path / "tn.yaml"
    spec.write_text("base: truenorth\nname: tn_clocked\nclock_hz: 1000000\n")
    assert load_hardware(str(spec)).listed_fields()["clock_hz"] == 1000000  # set: listed
    # the machines snnc runs keep every field
    assert {"ring_buffer_entries", "clock_hz"} <= set(load_hardware("loihi2").listed_fields())


# ---- Xylo: the NIR graph's outputs are the readout; they project nowhere ------------------------
def test_xylo_counts_the_digits_classifier_from_its_nir_outputs():
    net = from_nir(Path(__file__).resolve().parents[2] / "examples" / "digits_snn" /
                   "digits_snn.nir", dt=1e-3)
    report = _report(net, "xylo-audio3")
    plan = report.totals["planning"]
    # input [1, 8, 8] = 64 channels; conv 8 x 6 x 6 = 288 hidden; the graph's output lif2: 10
    assert (plan["inputs"], plan["hidden_neurons"], plan["outputs"]) == (64, 288, 10)
    assert plan["output_populations"] == ["lif2"]
    assert report.violations == ["SynSense Xylo Audio 3: 64 input channels (source neurons), the "
                                 "chip has 16 — use fewer"]


def test_xylo_output_population_with_outgoing_weights():
    net = Network("rec")
    net.source("inp", 4, poisson(10.0, 0))
    net.population("hid", 10, NEURON)
    net.population("out", 2, NEURON)
    net.connect("inp", "hid", all_to_all(), weight=1.0, name="w_in")
    net.connect("hid", "out", all_to_all(), weight=1.0, name="w_out")
    net.connect("out", "out", all_to_all(), weight=0.5, name="w_back")
    # without NIR outputs, 'out' feeds a neuron population: hidden, and there is no readout
    plan = _report(net, "xylo-audio3").totals["planning"]
    assert (plan["hidden_neurons"], plan["outputs"]) == (12, 0)
    net.metadata["nir"] = {"outputs": ["out"]}
    report = _report(net, "xylo-audio3")
    plan = report.totals["planning"]
    assert (plan["hidden_neurons"], plan["outputs"]) == (10, 2)
    line = _one(report.violations, "projection 'w_back'")
    assert "output population 'out' projects to 'out'" in line and "no outgoing weights" in line


def test_every_builtin_spec_cites_its_sources_and_explains_its_uncertain_limits():
    from snnc.compiler.hardware import SPEC_DIR

    for name in BUILTIN:
        text = (SPEC_DIR / f"{name}.yaml").read_text()
        header = "".join(line for line in text.splitlines()[:6] if line.startswith("#"))
        assert "Source" in header, name  # "Sources: ..." or "Source: ..." in the file's head
        spec = load_hardware(name)
        assert set(spec.uncertain) <= set(HardwareSpec.model_fields), name
        assert all(len(why) > 20 for why in spec.uncertain.values()), name
        # a limit marked uncertain is one the spec sets (snnc targets puts the mark beside it)
        assert all(field not in IDENTITY for field in spec.uncertain), name


IDENTITY = ("name", "family", "description", "topology", "uncertain")
