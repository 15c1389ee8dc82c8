"""The report and CLI on planning chips (issue 18, item 8's follow-ups): ``--hardware`` lists every
built-in spec, a "does not fit" line on a one-core or fixed-count chip names the limit and a fix
that can help there, counts take their plural forms, and report.txt has the planning block (per
counted rule: need, have, fits).

Expected numbers are hand-computed in the comments from the networks built here and the specs'
limits (compiler/specs/*.yaml).
"""

from __future__ import annotations

import itertools
import re

import numpy as np
from click.testing import CliRunner

from snnc.cli import cli
from snnc.compiler import compile_network
from snnc.compiler.hardware import SPEC_DIR
from snnc.ir import LIF, Network, all_to_all, explicit, poisson, save

NEURON = LIF(tau_mem=10.0)


def _report(net: Network, hardware: str, **options):
    return compile_network(net, "reference", hardware, **options).report


def _explicit(net: Network, pre: str, post: str, pairs, weight, name: str) -> None:
    pre_ids, post_ids = (np.array(column, dtype=np.int64) for column in zip(*pairs))
    net.connect(pre, post, explicit(pre_ids, post_ids), weight=weight, name=name)


def _xylo(inputs: int, hidden: int, outputs: int) -> Network:
    """``inputs`` sources -> ``hidden`` neurons (each input reaches 60) -> ``outputs`` readouts."""
    net = Network("xylo")
    net.source("inp", inputs, poisson(10.0, 0))
    net.population("hid", hidden, NEURON)
    net.population("out", outputs, NEURON)
    _explicit(net, "inp", "hid", [(i, (i + k) % hidden) for i in range(inputs)
                                  for k in range(60)], 1.0, "w_in")
    net.connect("hid", "out", all_to_all(), weight=1.0, name="w_out")
    return net


def _block(text: str) -> dict[str, tuple[str, str, str]]:
    """report.txt's planning block as {rule: (need, have, fits)}."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("planning ("))
    rows = {}
    for line in lines[start + 3:]:  # head, column names, rule
        if not line.strip():
            break
        match = re.fullmatch(r"  (.+?)\s{2,}(> [\d,]+|[\d,]+)\s{2,}(.+?)\s{2,}(yes|NO)", line)
        assert match, line
        rows[match[1]] = (match[2], match[3], match[4])
    return rows


# ---- 1: --hardware lists every built-in spec --------------------------------------------------
def test_compile_help_lists_every_spec_file():
    result = CliRunner().invoke(cli, ["compile", "--help"], terminal_width=400,
                                max_content_width=400)
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if "--hardware" in line)
    listed = re.search(r"A built-in spec \(([^;]+);", line)[1].split(", ")
    # independent of the names in compiler/hardware.py: the spec files themselves
    assert sorted(listed) == sorted(p.stem for p in SPEC_DIR.glob("*.yaml"))
    assert len(listed) == 9


# ---- 2: the fix on chips whose cores are not split -------------------------------------------
def test_xylo_neurons_line_names_the_limit_and_no_useless_option():
    report = _report(_xylo(16, 1200, 8), "xylo-audio2")
    # 1,200 hidden + 8 outputs on the one core of 1,008 (1,000 hidden + 8 outputs)
    line = next(v for v in report.violations if v.startswith("core 0"))
    assert line.startswith("core 0 (chip 0,0): neurons 1,208 > 1,008, the hidden and output "
                           "neurons SynSense Xylo Audio 2 holds in all")
    assert "use fewer hidden neurons, or another chip" in line
    assert "use --max-neurons-per-core" not in line
    # and indeed the option changes nothing on this chip: still one core of 1,208 neurons
    capped = _report(_xylo(16, 1200, 8), "xylo-audio2", max_neurons_per_core=100)
    assert [c.neurons for c in capped.cores] == [1208]
    assert capped.violations == report.violations


def test_speck_layer_over_the_neurons_per_core_is_one_core(tmp_path):
    spec = tmp_path / "small_speck.yaml"
    spec.write_text("base: speck\nname: small_speck\nneurons_per_core: 1000\n")
    net = Network("one")
    net.source("inp", 4, poisson(10.0, 0))
    net.population("a", 2000, NEURON)  # a 1 x 1 map of 2,000 channels: 2,000 neuron entries
    net.connect("inp", "a", all_to_all(), weight=1.0, name="w")
    line = next(v for v in _report(net, str(spec)).violations if v.startswith("core 0"))
    assert "neurons 2,000 > 1,000, the most neurons one" in line
    assert "cannot split layer 'a'" in line and "use fewer channels or a smaller map" in line
    assert "use --max-neurons-per-core" not in line


def test_one_core_machine_plural_forms(tmp_path):
    spec = tmp_path / "one.yaml"
    spec.write_text("base: akida-akd1000\nname: one\ncores_per_chip: 1\n")
    net = Network("n")
    net.source("inp", 10, poisson(10.0, 0))
    net.population("a", 20000, NEURON)  # 15,000 neurons per NPU: 2 cores, 1 placed
    net.connect("inp", "a", all_to_all(), weight=1.0, name="w")
    report = _report(net, str(spec))
    assert report.violations[0].startswith(
        "machine 'one': cores 2 > 1 (1 chip x 1); 1 core not placed (1)")


# ---- 3: counts take their plural forms --------------------------------------------------------
def test_report_text_counts_in_the_singular():
    net = Network("n")
    net.source("inp", 1, poisson(10.0, 0))
    net.population("a", 1, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, name="w")
    text = _report(net, "spinnaker1").to_text()
    # on SpiNNaker the source has a core of its own, which sends to a's: one multicast group
    assert "routing: 1 multicast group, entries" in text and "1 multicast groups" not in text


def test_one_neuron_over_the_fan_in_is_one_neuron():
    net = Network("wide")
    net.source("inp", 5000, poisson(1.0, 0))
    net.population("out", 1, NEURON)
    net.connect("inp", "out", all_to_all(), weight=1.0, name="w")
    line = _report(net, "loihi1").violations[0]
    assert "fan-in 5,000 axons > 4,096; 1 neuron of population 'out'" in line


def test_targets_topology_in_the_singular():
    output = CliRunner().invoke(cli, ["targets"]).output
    # truenorth.yaml: chips_x 1, chips_y 1; loihi2.yaml: a 2 x 4 mesh
    block = output[output.index("\ntruenorth: "):]
    assert re.search(r"topology\s+mesh, 1 chip \(1x1\)\n", block)
    assert re.search(r"topology\s+mesh, 8 chips \(2x4\)\n", output)
    assert " 1 chips" not in output


# ---- 4: the planning block of report.txt -----------------------------------------------------
def test_xylo_block_need_have_fits(tmp_path):
    path = tmp_path / "net.yaml"
    save(_xylo(17, 1200, 8), path)
    result = CliRunner().invoke(cli, ["compile", str(path), "-t", "reference", "--hardware",
                                      "xylo-audio2", "-o", str(tmp_path / "b"), "-q"])
    assert result.exit_code == 1
    text = (tmp_path / "b" / "report.txt").read_text()
    assert "planning (xylo-audio2, core model fixed): 4 counted rules, 3 broken" in text
    assert _block(text) == {
        "input channels": ("17", "16", "NO"),
        "hidden neurons": ("1,200", "1,000", "NO"),
        "output neurons": ("8", "8", "yes"),
        "hidden + output neurons": ("1,208", "1,008", "NO"),
    }
    # the same in report.json, as numbers
    checks = compile_network(_xylo(17, 1200, 8), "reference", "xylo-audio2") \
        .report.totals["planning"]["checks"]
    assert checks[1] == {"rule": "hidden neurons", "need": 1200, "have": 1000, "fits": False}


def _clique(axons: int) -> Network:
    """A neuron per pair of axons i < j with weight 1 from i and 2 from j: ``axons`` axon types
    (no two axons can share a type), 2 weights per neuron."""
    net = Network("clique")
    pairs = list(itertools.combinations(range(axons), 2))
    net.source("inp", axons, poisson(10.0, 0))
    net.population("a", len(pairs), NEURON)
    synapses = [(i, k) for k, (i, _j) in enumerate(pairs)] + [(j, k) for k, (_i, j)
                                                            in enumerate(pairs)]
    _explicit(net, "inp", "a", synapses, np.array([1.0] * len(pairs) + [2.0] * len(pairs)), "x")
    return net


def test_truenorth_block():
    # 4 axons: 6 neurons on one core, 4 axons of 256, 4 types of 4
    assert _block(_report(_clique(4), "truenorth").to_text()) == {
        "cores": ("1", "4,096", "yes"),
        "neurons per core (max)": ("6", "256", "yes"),
        "axons per core (max)": ("4", "256", "yes"),
        "axon types per core (max)": ("4", "4", "yes"),
    }
    # 5 axons need 5 types; the greedy typing stops counting at 5: "more than 4"
    report = _report(_clique(5), "truenorth")
    assert _block(report.to_text())["axon types per core (max)"] == ("> 4", "4", "NO")
    assert "every broken rule, counted or not, is under 'does not fit' below" in report.to_text()


def test_speck_block_names_each_layer_core():
    # two layers of kernel 625 * 2^(0 + 6) = 40,000 entries: only cores 5 and 6 (64 Ki) hold one
    net = Network("two")
    net.source("inp", 625, poisson(10.0, 0))
    for k in range(2):
        net.population(f"l{k}", 64, NEURON)
        net.connect("inp", f"l{k}", all_to_all(), weight=1.0, name=f"w{k}")
    rows = _block(_report(net, "speck").to_text())
    assert rows["layers (one per core)"] == ("2", "9", "yes")
    kernel = {rows[f"layer 'l{k}' kernel memory"] for k in range(2)}
    assert kernel == {("40,000", "65,536 (core 5)", "yes"), ("40,000", "65,536 (core 6)", "yes")}
    # neurons: 64 channels * 2^(0 + 0) = 64 entries; cores 5 and 6 have 16 Ki each
    assert {rows[f"layer 'l{k}' neuron memory"][:2] for k in range(2)} == \
        {("64", "16,384 (core 5)"), ("64", "16,384 (core 6)")}
    # a third such layer finds no core
    net.population("l2", 64, NEURON)
    net.connect("inp", "l2", all_to_all(), weight=1.0, name="w2")
    rows = _block(_report(net, "speck").to_text())
    unplaced = [rule for rule, (_n, have, fits) in rows.items() if "no core holds it" in have]
    assert len(unplaced) == 2 and all(rows[rule][2] == "NO" for rule in unplaced)


def test_akida_block_and_the_invariant():
    net = Network("ak")
    net.source("inp", 100, poisson(10.0, 0))
    net.population("a", 20000, NEURON)
    net.connect("inp", "a", all_to_all(), weight=1.0, name="w")
    report = _report(net, "akida-akd1000")
    rows = _block(report.to_text())
    assert rows["cores"] == (f"{report.totals['neuron_cores']:,}", "80", "yes")
    # 20,000 x 100 synapses x 4 bits = 1,000,000 B over cores of 102,400 B: some core is > 90% full
    need = int(rows["synaptic memory per core (max, B)"][0].replace(",", ""))
    assert 1_000_000 / report.totals["neuron_cores"] <= need <= 102_400
    # a broken counted rule always means "does not fit"
    for hardware, n in (("xylo-imu", 600), ("speck", 70000), ("truenorth", 300)):
        r = _report(_xylo(8, n, 4), hardware)
        assert all(c["fits"] for c in r.totals["planning"]["checks"]) or not r.fits


def test_synaptic_machines_have_no_planning_block():
    net = _xylo(4, 10, 2)
    for hardware in ("loihi2", "spinnaker1"):
        report = _report(net, hardware)
        assert "planning" not in report.totals and "planning (" not in report.to_text()


# ---- 6: the heat map plots the chip's own limits ----------------------------------------------
def _panels(report, hardware: str) -> list[tuple[str, str]]:
    from snnc.compiler.hardware import load_hardware
    from snnc.plot import heatmap_limits

    return heatmap_limits(report, load_hardware(hardware))


def test_truenorth_heatmap_has_the_axons_and_crops_the_chip():
    import matplotlib.pyplot as plt

    from snnc.compiler.hardware import load_hardware
    from snnc.plot import heatmap_figure

    net = Network("tn")
    net.source("inp", 100, poisson(10.0, 0))
    net.population("a", 300, NEURON)
    net.connect("inp", "a", all_to_all(), weight=0.5, name="x")
    report = _report(net, "truenorth")
    # 300 neurons: cores of 256 and 44, each reached by the 100 sources at one delay: 100 axons
    assert [c.neurons for c in report.cores] == [256, 44]
    assert [c.utilization["axons"] for c in report.cores] == [round(100 / 256, 4)] * 2
    assert _panels(report, "truenorth") == [("neurons", "neurons"), ("axons", "axons"),
                                            ("memory", "crossbar synapses")]
    assert "axons" not in _report(net, "loihi2").cores[0].utilization
    figure = heatmap_figure(report, load_hardware("truenorth"))
    # both cores sit in row 0 of TrueNorth's 64 x 64: 4 rows drawn, not 64
    assert figure.axes[0].get_ylim() == (0.0, 4.0)
    assert "rows 0-3 of 64 shown" in figure.axes[0].get_xlabel()
    assert "2 cores on 1 chip;" in figure._suptitle.get_text().replace("\n", " ")
    plt.close(figure)


def test_speck_heatmap_is_kernel_and_neuron_memory_on_the_matched_cores():
    import matplotlib.pyplot as plt

    from snnc.compiler.hardware import load_hardware
    from snnc.plot import heatmap_figure, layer_cores

    net = Network("two")
    net.source("inp", 625, poisson(10.0, 0))
    for k in range(2):
        net.population(f"l{k}", 64, NEURON)
        net.connect("inp", f"l{k}", all_to_all(), weight=1.0, name=f"w{k}")
    report = _report(net, "speck")
    # kernel 40,000 of cores 5/6's 65,536 entries; neurons 64 of their 16,384
    for core in report.cores:
        assert core.utilization["kernel_memory"] == round(40000 / 65536, 4)
        assert core.utilization["neuron_memory"] == round(64 / 16384, 4)
    assert _panels(report, "speck") == [("kernel_memory", "kernel memory"),
                                        ("neuron_memory", "neuron memory")]
    spec = load_hardware("speck")
    assert sorted(c.processor for c in layer_cores(report, spec)) == [5, 6]
    figure = heatmap_figure(report, spec)
    assert "the chip core each layer was matched to" in \
        figure._suptitle.get_text().replace("\n", " ")
    plt.close(figure)


def test_xylo_heatmap_is_its_one_count():
    report = _report(_xylo(16, 100, 8), "xylo-audio2")
    # 108 of 1,008 hidden + output neurons
    assert report.cores[0].utilization["neurons"] == round(108 / 1008, 4)
    assert _panels(report, "xylo-audio2") == [("neurons", "hidden + output neurons")]
