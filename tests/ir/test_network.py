"""The IR: the design note's example loads as written, the builder, save/load round trips."""

import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.cli import cli
from snnc.ir import (
    LIF, LoihiLIF, Network, NetworkError, Poisson, all_to_all, equal, expand, explicit,
    fixed_probability, load, materialize, normal, one_to_one, poisson, source_spikes, spike_times,
    uniform,
)
from snnc.ir import sources as sources_module

ROOT = Path(__file__).resolve().parents[2]
DESIGN_EXAMPLE = ROOT / "examples" / "design_note" / "net.yaml"

# docs/describe-a-network.md's example, character for character: "it must load as written".
DESIGN_NOTE_YAML = (
    "snnc: 1                 # format version\n"
    "name: example\n"
    "dt: 1.0                 # ms per step\n"
    "populations:\n"
    "  inp:\n"
    "    size: 4\n"
    "    source: {kind: spike_times, times: [0, 3, 5], ids: [0, 1, 3]}   "
    "# or {kind: spike_times, file: x.npz, times: k1, ids: k2}\n"
    "  noise:\n"
    "    size: 100\n"
    "    source: {kind: poisson, rate_hz: 20.0, seed: 7}                 "
    "# drawn from its seed: the same spikes on every backend\n"
    "  hid:\n"
    "    size: 3\n"
    "    neuron: {kind: lif, tau_mem: 20.0, tau_syn: 5.0, v_th: 1.0, v_reset: 0.0, bias: 0.0}\n"
    "  out:\n"
    "    size: 2\n"
    "    neuron: {kind: loihi_lif, du: 4095, dv: 200, vth: 10, bias_mant: 0, bias_exp: 0}\n"
    "projections:\n"
    "  - {from: inp, to: hid, connect: all_to_all, weight: 0.5, delay: 1}\n"
    "  - {from: noise, to: hid, connect: {kind: fixed_probability, p: 0.1, seed: 3}, weight: 0.2, "
    "delay: {uniform: [1, 4], seed: 4}}\n"
    "  - from: hid\n"
    "    to: out\n"
    "    connect: {kind: explicit, file: arrays.npz, pre: h2o_pre, post: h2o_post}\n"
    "    weight: {file: arrays.npz, key: h2o_w}      # integers: `out` is loihi_lif\n"
    "    delay: {file: arrays.npz, key: h2o_d}\n"
)


def test_the_example_file_and_the_docs_are_the_design_note_text():
    assert DESIGN_EXAMPLE.read_text() == DESIGN_NOTE_YAML
    page = (ROOT / "docs" / "describe-a-network.md").read_text()
    section = page[page.index("## YAML, format 1"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    assert block == DESIGN_NOTE_YAML


def test_design_note_text_loads_as_written(tmp_path):
    (tmp_path / "net.yaml").write_text(DESIGN_NOTE_YAML)
    shutil.copy(DESIGN_EXAMPLE.parent / "arrays.npz", tmp_path / "arrays.npz")
    net = load(tmp_path / "net.yaml")
    assert (net.name, net.dt, net.format) == ("example", 1.0, 1)
    assert {n: (p.size, p.kind) for n, p in net.populations.items()} == {
        "inp": (4, "spike_times"), "noise": (100, "poisson"), "hid": (3, "lif"),
        "out": (2, "loihi_lif")}
    inp = net.populations["inp"].source
    assert inp.times.tolist() == [0, 3, 5] and inp.ids.tolist() == [0, 1, 3]
    noise = net.populations["noise"].source
    assert (noise.rate_hz, noise.seed) == (20.0, 7)
    hid = net.populations["hid"].neuron
    assert (hid.tau_mem, hid.tau_syn, hid.v_th, hid.v_reset, hid.bias) == (20.0, 5.0, 1.0, 0.0, 0.0)
    out = net.populations["out"].neuron
    assert (out.du, out.dv, out.vth, out.bias_mant, out.bias_exp) == (4095, 200, 10, 0, 0)
    first, second, third = net.projections
    assert (first.pre, first.post, first.connect.kind, first.weight, first.delay) == \
        ("inp", "hid", "all_to_all", 0.5, 1)
    assert (second.connect.p, second.connect.seed, second.weight) == (0.1, 3, 0.2)
    assert (second.delay.uniform, second.delay.seed) == ((1.0, 4.0), 4)
    arrays = np.load(DESIGN_EXAMPLE.parent / "arrays.npz")
    h2o = expand(net, third)
    assert h2o.pre.tolist() == arrays["h2o_pre"].tolist()
    assert h2o.post.tolist() == arrays["h2o_post"].tolist()
    assert h2o.weight.tolist() == arrays["h2o_w"].tolist() and h2o.weight.dtype == np.int32
    assert h2o.delay.tolist() == arrays["h2o_d"].tolist()
    noise = expand(net, second)
    assert set(noise.delay.tolist()) <= {1, 2, 3, 4} and np.all(noise.weight == 0.2)
    assert abs(len(noise) - 30) < 5 * np.sqrt(300 * 0.1 * 0.9)  # Binomial(100 x 3, 0.1)


def test_design_note_example_loads_as_written():
    net = load(DESIGN_EXAMPLE)
    assert list(net.populations) == ["inp", "noise", "hid", "out"]
    assert net.populations["hid"].neuron.tau_syn == 5.0
    assert net.populations["out"].neuron.dv == 200
    assert [p.name for p in net.projections] == ["inp->hid", "noise->hid", "hid->out"]
    h2o = expand(net, "hid->out")
    assert h2o.weight.dtype == np.int32  # loihi_lif target: integer weights
    assert h2o.pre.tolist() == [0, 1, 2, 0, 1, 2]
    inp_hid = expand(net, "inp->hid")
    assert len(inp_hid) == 4 * 3 and np.all(inp_hid.weight == 0.5)


def test_builder_matches_yaml(tmp_path):
    net = Network("demo", dt=1.0)
    inp = net.source("inp", 4, spike_times(times=[0, 3, 5], ids=[0, 1, 3]))
    hid = net.population("hid", 3, LIF(tau_mem=20.0, tau_syn=5.0))
    net.connect(inp, hid, weight=0.5, delay=1)
    text = """
snnc: 1
name: demo
dt: 1.0
populations:
  inp: {size: 4, source: {kind: spike_times, times: [0, 3, 5], ids: [0, 1, 3]}}
  hid: {size: 3, neuron: {kind: lif, tau_mem: 20.0, tau_syn: 5.0}}
projections:
  - {from: inp, to: hid, connect: all_to_all, weight: 0.5, delay: 1}
"""
    (tmp_path / "n.yaml").write_text(text)
    assert equal(load(tmp_path / "n.yaml"), net)


def _rich_network() -> Network:
    rng = np.random.default_rng(1)
    net = Network("rich", dt=0.5, metadata={"origin": "test"})
    src = net.source("src", 50, poisson(rate_hz=rng.uniform(5, 50, 50), seed=3))
    exc = net.population("exc", 40, LIF(tau_mem=20.0, tau_syn=5.0, v_init=rng.uniform(0, 1, 40),
                                         refractory=2, reset="subtract"))
    out = net.population("out", 40, LoihiLIF(du=4095, dv=200, vth=640, bias_mant=32, bias_exp=6))
    net.connect(src, exc, fixed_probability(0.2, seed=9), weight=normal(0.1, 0.02, seed=4),
                delay=uniform(1, 8, seed=5))
    net.connect(exc, exc, fixed_probability(0.1, seed=2, allow_self=False), weight=-0.3, delay=3)
    net.connect(exc, out, one_to_one(), weight=rng.integers(-256, 256, 40), delay=np.arange(1, 41),
                weight_exp=2, num_weight_bits=6)
    return net


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _expansions_identical(a: Network, b: Network) -> None:
    for projection in a.projections:
        x, y = expand(a, projection), expand(b, projection.name)
        for field in ("pre", "post", "weight", "delay"):
            assert _same_bits(getattr(x, field), getattr(y, field)), (projection.name, field)


def test_save_load_round_trip_exact(tmp_path):
    net = _rich_network()
    net.save(tmp_path / "rich.yaml")
    back = load(tmp_path / "rich.yaml")
    assert equal(back, net)
    _expansions_identical(net, back)  # distributions drawn again from their seeds: same bits
    for name, population in net.populations.items():
        model, again = population.neuron or population.source, back.populations[name]
        for field, value in model:
            if isinstance(value, np.ndarray):
                other = getattr(again.neuron or again.source, field)
                assert value.tobytes() == other.astype(value.dtype).tobytes(), (name, field)
    # saving again gives byte-identical files
    back.save(tmp_path / "again.yaml")
    assert (tmp_path / "again.yaml").read_text().replace("again.npz", "rich.npz") == \
        (tmp_path / "rich.yaml").read_text()


def test_materialized_network_round_trips_bit_for_bit(tmp_path):
    net = _rich_network()
    frozen = materialize(net)
    assert all(p.connect.kind == "explicit" for p in frozen.projections)
    frozen.save(tmp_path / "frozen.yaml")
    assert (tmp_path / "frozen.npz").exists()  # the long pre/post/weight arrays went to the NPZ
    back = load(tmp_path / "frozen.yaml")
    assert equal(back, frozen)
    _expansions_identical(net, back)  # the drawn synapses, frozen into files, are the same bits


def test_awkward_floats_survive_inline_yaml(tmp_path):
    values = np.array([0.1 + 0.2, 1e-300, 5e-324, -0.0, 1 / 3, 1e16, -123456789.123456789])
    net = Network("floats", dt=0.1)
    net.source("src", 1, spike_times())
    net.population("p", values.size, LIF(tau_mem=1 / 3, v_init=values, bias=values))
    net.connect("src", "p", all_to_all(), weight=values)
    net.save(tmp_path / "f.yaml")
    assert not (tmp_path / "f.npz").exists()  # 7 values: written inline in the YAML
    back = load(tmp_path / "f.yaml")
    assert back.dt == 0.1 and back.populations["p"].neuron.tau_mem == 1 / 3
    assert _same_bits(back.populations["p"].neuron.v_init, values)
    assert _same_bits(expand(back, "src->p").weight, values)


def test_the_same_file_loaded_twice_saves_byte_identical_files(tmp_path, monkeypatch):
    _rich_network().save(tmp_path / "source.yaml")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    load(tmp_path / "source.yaml").save(tmp_path / "a" / "net.yaml")
    # a day later, as far as any timestamp in the files could tell
    later = time.time() + 86400.0
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(time, "localtime", lambda *_: time.gmtime(later))
    load(tmp_path / "source.yaml").save(tmp_path / "b" / "net.yaml")
    for name in ("net.yaml", "net.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    design_a, design_b = tmp_path / "a" / "design.yaml", tmp_path / "b" / "design.yaml"
    load(DESIGN_EXAMPLE).save(design_a)
    load(DESIGN_EXAMPLE).save(design_b)
    assert design_a.read_bytes() == design_b.read_bytes()
    _expansions_identical(load(DESIGN_EXAMPLE), load(design_a))


# ---- Poisson sources: the spikes depend only on seed, size and step count ------------------------
def test_poisson_spikes_depend_only_on_seed_size_and_steps(monkeypatch):
    source = Poisson(rate_hz=50.0, seed=5)
    times, ids = source_spikes(source, 30, 200, 1.0)
    again = source_spikes(Poisson(rate_hz=50.0, seed=5), 30, 200, 1.0)
    assert np.array_equal(times, again[0]) and np.array_equal(ids, again[1])
    # sorted by time then id, inside the run
    assert np.all(np.diff(times.astype(np.int64) * 30 + ids) > 0)
    assert times.min() >= 0 and times.max() < 200 and ids.max() < 30
    # a shorter run is the start of a longer one
    short = source_spikes(source, 30, 120, 1.0)
    keep = times < 120
    assert np.array_equal(short[0], times[keep]) and np.array_equal(short[1], ids[keep])
    # drawing in chunks of 7 cells instead of 2^24 changes nothing
    monkeypatch.setattr(sources_module, "_POISSON_CHUNK_CELLS", 7)
    chunked = source_spikes(source, 30, 200, 1.0)
    assert np.array_equal(chunked[0], times) and np.array_equal(chunked[1], ids)
    # another seed, other spikes; the count is Binomial(30 x 200, 50 Hz x 1 ms)
    other = source_spikes(Poisson(rate_hz=50.0, seed=6), 30, 200, 1.0)
    assert not (other[0].size == times.size and np.array_equal(other[1], ids))
    assert abs(times.size - 300) < 5 * np.sqrt(6000 * 0.05 * 0.95)


def test_poisson_per_neuron_rates():
    rates = np.array([0.0, 100.0, 0.0, 500.0])
    times, ids = source_spikes(Poisson(rate_hz=rates, seed=1), 4, 2000, 1.0)
    counts = np.bincount(ids, minlength=4)
    assert counts[0] == 0 and counts[2] == 0
    for neuron, p in ((1, 0.1), (3, 0.5)):
        assert abs(counts[neuron] - 2000 * p) < 5 * np.sqrt(2000 * p * (1 - p))


# ---- the command line skeleton -------------------------------------------------------------------
def test_version_help_and_validate():
    runner = CliRunner()
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    assert runner.invoke(cli, ["--version"]).output == f"snnc, version {version}\n"
    help_text = runner.invoke(cli, ["--help"]).output
    for command in ("validate", "info", "compile", "run", "verify", "report", "targets",
                    "import-nir", "export-nir", "quantize"):
        assert re.search(rf"^  {command}\s", help_text, re.M), command
    assert "--debug" in help_text and "--version" in help_text
    result = runner.invoke(cli, ["validate", str(DESIGN_EXAMPLE)])
    # 4 + 100 + 3 + 2 neurons
    assert (result.exit_code, result.output) == (
        0, f"{DESIGN_EXAMPLE}: ok (4 populations, 3 projections, 109 neurons)\n")


def test_info_prints_synapses_delay_range_and_memory(tmp_path):
    net = Network("summary")
    net.source("a", 5, spike_times())
    net.population("b", 4, LIF(tau_mem=10.0))
    net.population("c", 2, LoihiLIF(du=0, dv=0, vth=5))
    net.connect("a", "b", all_to_all(), weight=0.25, delay=3)
    net.connect("b", "c", explicit([0, 1, 3], [0, 1, 1]), weight=[3, -4, 5], delay=[2, 7, 5])
    net.connect("b", "b", one_to_one(), weight=-0.5)
    net.save(tmp_path / "summary.yaml")
    result = CliRunner().invoke(cli, ["info", str(tmp_path / "summary.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # per synapse: int32 pre and post, int32 delay, and a float64 weight (int32 into loihi_lif)
    row = {name: next(line for line in lines if f" {name} " in line)
           for name in ("a->b", "b->c", "b->b")}
    assert re.search(r"all_to_all\s.*\s20\s.*0\.25\.\.0\.25\s.*3\.\.3\s.*400 B", row["a->b"])
    assert re.search(r"explicit\s.*\s3\s.*-4\.\.5\s.*2\.\.7\s.*48 B", row["b->c"])
    assert re.search(r"one_to_one\s.*\s4\s.*-0\.5\.\.-0\.5\s.*1\.\.1\s.*80 B", row["b->b"])
    assert lines[-1] == "neurons 11  synapses 27  delays 1..7 steps  memory (expanded) 528 B"
    for name, size, kind in (("a", 5, "spike_times"), ("b", 4, "lif"), ("c", 2, "loihi_lif")):
        assert any(re.search(rf"\s{name}\s.*\s{size}\s.*\s{kind}\s", line) for line in lines)


def test_equal_detects_a_changed_array():
    a, b = _rich_network(), _rich_network()
    assert equal(a, b)
    weights = np.array(b.projections[2].weight)
    weights[0] += 1
    b.projections[2] = b.projections[2].model_copy(update={"weight": weights})
    assert not equal(a, b)


def test_builder_rejects_bad_projection_immediately():
    net = Network("bad")
    net.population("a", 2, LIF(tau_mem=5.0))
    with pytest.raises(NetworkError, match="unknown population 'zz'"):
        net.connect("a", "zz", weight=1.0)
    with pytest.raises(NetworkError, match="one_to_one needs equal sizes"):
        net.population("b", 3, LIF(tau_mem=5.0))
        net.connect("a", "b", one_to_one(), weight=1.0)
    # field errors of the builder calls are NetworkErrors at the YAML path too
    for call, message in [
        (lambda: net.population("c", -1, LIF(tau_mem=5.0)), "populations.c.size: must be >= 1"),
        (lambda: net.population("c", True, LIF(tau_mem=5.0)),
         "populations.c.size: expected an integer"),
        (lambda: net.connect("a", "b", weight=1.0, delay=0),
         "projections[0].delay: delay must be >= 1"),
        (lambda: net.connect("a", "b", weight=1.0, weight_exp=9),
         "projections[0].weight_exp: must be <= 7"),
        (lambda: net.connect("a", "b", weight=1.0, colour=2),
         "projections[0].colour: unknown field"),
    ]:
        with pytest.raises(NetworkError) as error:
            call()
        assert str(error.value).startswith(message)
    assert list(net.populations) == ["a", "b"] and net.projections == []


def test_arrays_are_read_only():
    net = _rich_network()
    with pytest.raises(ValueError):
        net.projections[2].weight[0] = 5
