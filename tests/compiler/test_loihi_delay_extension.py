"""The delay-extension pass (compiler/passes/delays.py): delays above a Loihi core's 64 steps
through relay neurons, exactly (the reference runs any delay natively, so it is the oracle), in the
compile pipeline, the report, loihi-sim and ``snnc run``/``snnc verify``."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends import SpikeRecord
from snnc.backends.reference import simulate
from snnc.cli import cli
from snnc.compiler import compile_network, load_build
from snnc.compiler.passes.delays import (INTERNAL_POPULATIONS, RELAY, extend_delays,
                                         internal_populations)
from snnc.ir import (LIF, LoihiLIF, Network, UnsupportedOnTarget, all_to_all, explicit, poisson,
                     spike_times, uniform, verify)

D = 64
DELAYS = [1, 64, 65, 128, 129, 200]


def _fan_out() -> Network:
    """One source neuron spiking at step 3 into 6 post neurons, one delay each."""
    net = Network("fan")
    net.source("src", 1, spike_times([3], [0]))
    net.population("out", len(DELAYS), LoihiLIF(du=4095, dv=0, vth=5))
    net.connect("src", "out", explicit([0] * len(DELAYS), range(len(DELAYS))), weight=10,
                delay=np.array(DELAYS))
    return net


def _spikes(record: SpikeRecord, names) -> dict:
    return {n: [a.tolist() for a in record.spikes[n]] for n in names}


def test_relays_deliver_every_delay_at_its_step():
    net = _fan_out()
    extended, report = extend_delays(net, D)
    verify(extended)
    assert report.relay_populations == ("src~delay1", "src~delay2", "src~delay3")
    assert (report.relay_neurons, report.moved_synapses, report.max_delay) == (3, 4, D)
    assert internal_populations(extended) == report.relay_populations
    assert all(extended.populations[r].neuron == RELAY for r in report.relay_populations)
    assert max(int(np.max(p.delay)) for p in extended.projections) == D
    original, relayed = simulate(net, 220, "loihi"), simulate(extended, 220, "loihi")
    assert _spikes(relayed, ["out"]) == _spikes(original, ["out"])
    assert original.spikes["out"][0].tolist() == [3 + d for d in DELAYS]
    # relay s spikes s * 64 steps after the source, once
    assert [relayed.spikes[f"src~delay{s}"][0].tolist() for s in (1, 2, 3)] == [[67], [131], [195]]
    assert net.populations.keys() == {"src", "out"} and len(net.projections) == 1  # input kept


def _random_integer_network(seed: int, into: Network | None = None) -> Network:
    """loihi_lif populations, recurrent and feed-forward, mixed signs, weights off Lava's grid,
    every num_weight_bits, weight_exp -3..3, delays up to 300 (some projections all short)."""
    rng = np.random.default_rng(seed)
    net = Network(f"r{seed}") if into is None else into
    x = f"n{seed}_" if into is not None else ""  # a disjoint sub-network of ``into``
    net.source(f"{x}s0", 5, poisson(float(rng.uniform(30, 200)), seed=seed))
    pairs = np.unique(np.stack([rng.integers(0, 40, 6), rng.integers(0, 3, 6)]), axis=1)
    net.source(f"{x}s1", 3, spike_times(pairs[0], pairs[1]))  # one spike per neuron and step
    names = [f"{x}s0", f"{x}s1"]
    for k in range(3):
        size = int(rng.integers(2, 8))
        net.population(f"{x}p{k}", size, LoihiLIF(du=int(rng.integers(0, 4096)),
                                                  dv=int(rng.integers(0, 600)),
                                                  vth=int(rng.integers(5, 60)),
                                                  bias_mant=int(rng.integers(0, 150)),
                                                  bias_exp=int(rng.integers(3, 7))))
        names.append(f"{x}p{k}")
    for k in range(9):
        pre = str(rng.choice(names))
        post = str(rng.choice(names[2:]))
        n_pre, n_post = net.populations[pre].size, net.populations[post].size
        count = int(rng.integers(1, 2 * n_pre * n_post))
        sign = int(rng.integers(0, 3))
        low, high = {0: (-255, 255), 1: (0, 255), 2: (-255, 0)}[sign]
        top = 300 if k % 3 else 60  # every third projection stays within one core's delays
        exp = int(rng.integers(-3, 4))
        pairs = (rng.integers(0, n_pre, count), rng.integers(0, n_post, count))
        if exp < 0:  # unique pairs (loihi-sim refuses repeats there; the reference does not mind)
            flat = np.unique(pairs[0] * n_post + pairs[1])
            pairs, count = (flat // n_post, flat % n_post), flat.size
        net.connect(pre, post, explicit(*pairs), weight=rng.integers(low, high + 1, count),
                    delay=rng.integers(1, top + 1, count), weight_exp=exp,
                    num_weight_bits=int(rng.integers(1, 9)))
    return net


@pytest.mark.parametrize("seed", range(6))
def test_random_integer_networks_are_unchanged_by_the_relays(seed):
    net = _random_integer_network(seed)
    extended, report = extend_delays(net, D)
    verify(extended)
    assert report.relay_neurons > 0
    neurons = [p.name for p in net.neuron_populations()]
    original = simulate(net, 400, "loihi", record_v=neurons)
    relayed = simulate(extended, 400, "loihi", record_v=neurons)
    assert sum(original.spikes[n][0].size for n in neurons) > 0
    assert _spikes(relayed, net.populations) == _spikes(original, net.populations)
    for name in neurons:
        assert np.array_equal(relayed.voltages[name], original.voltages[name])


def test_loihi_sim_runs_random_long_delay_networks_as_the_reference_runs_the_originals():
    from snnc.backends.loihi_sim import LoihiSimBackend

    net = Network("packed")  # one Lava run; seeds 0 and 2 split a mixed -256 off alone
    for seed in (0, 2):
        _random_integer_network(seed, into=net)
    neurons = [p.name for p in net.neuron_populations()]
    record = LoihiSimBackend().run(net, 240, record_v=neurons)
    expected = simulate(net, 240, "loihi", record_v=neurons)
    assert set(record.spikes) == set(net.populations)
    assert _spikes(record, net.populations) == _spikes(expected, net.populations)
    for name in neurons:
        assert np.array_equal(record.voltages[name], expected.voltages[name])


def test_short_projections_are_untouched_and_only_needed_stages_exist():
    net = _fan_out()
    net.population("side", 2, LoihiLIF(du=4095, dv=0, vth=5))
    short = net.connect("src", "side", all_to_all(), weight=7, delay=uniform(1, 64, seed=3))
    net.connect("side", "side", all_to_all(), weight=-3, delay=64, name="rec")
    extended, report = extend_delays(net, D)
    assert extended.projection(short.name) is short
    assert extended.projection("rec") is net.projection("rec")
    assert dict(extended.projection(short.name)) == dict(short)
    assert "side~delay1" not in extended.populations  # side has no long delay
    kept = extended.projection("src->out")  # the kept part: its own fields, its short synapses
    assert (kept.weight, kept.weight_exp, kept.num_weight_bits) == (10, 0, 8)
    assert kept.delay.tolist() == [1, 64] and kept.connect.post.tolist() == [0, 1]
    assert extended.projection("src->out~delay1").delay.tolist() == [1, 64]
    alone, _ = extend_delays(Network("none"), D)
    assert extend_delays(_fan_out(), 300)[0].populations.keys() == {"src", "out"}
    assert alone.metadata.get(INTERNAL_POPULATIONS) is None


def test_a_mixed_minus_256_split_off_alone_keeps_its_value():
    net = Network("edge")
    net.source("src", 2, spike_times([0, 5], [0, 1]))
    net.population("out", 2, LoihiLIF(du=4095, dv=0, vth=300))
    # mixed sign, 8 bits: Lava floors -255 to -256; in an all-negative part it would clip to -255
    net.connect("src", "out", explicit([0, 1, 1], [0, 1, 0]), weight=np.array([5, -255, -256]),
                delay=np.array([1, 100, 90]), name="p")
    extended, _ = extend_delays(net, D)
    long = extended.projection("p~delay1")  # + one weight-1 synapse on a free pair: mixed again
    assert long.weight.tolist() == [-256, -256, 1] and long.connect.pre.tolist() == [1, 1, 0]
    assert (long.connect.post.tolist(), long.delay.tolist()) == ([1, 0, 0], [36, 26, 1])
    v = simulate(net, 120, "loihi", record_v=["out"]).voltages["out"]
    assert np.array_equal(simulate(extended, 120, "loihi", record_v=["out"]).voltages["out"], v)
    assert (v[95, 0], v[105, 1]) == ((4 - 256) * 64, -256 * 64)  # 5 -> 4, -255 -> -256
    # with weight_exp < 0 and every pair used there is no free pair for the weight-1 synapse
    net = Network("full")
    net.source("src", 1, spike_times([0], [0]))
    net.population("out", 1, LoihiLIF(du=4095, dv=0, vth=5))
    net.connect("src", "out", explicit([0, 0], [0, 0]), weight=np.array([5, -256]),
                delay=np.array([1, 100]), weight_exp=-1)
    with pytest.raises(UnsupportedOnTarget, match="cannot be split off exactly"):
        extend_delays(net, D)


def test_weights_off_lavas_grid_get_the_whole_projections_values():
    net = Network("grid")
    net.source("src", 1, spike_times([2], [0]))
    net.population("out", 2, LoihiLIF(du=4095, dv=0, vth=0))
    # mixed sign, 8 bits: Lava drops 1 bit of each weight (7 -> 6); the long part alone is
    # excitatory and would keep 7, so it gets 6
    net.connect("src", "out", explicit([0, 0], [0, 1]), weight=np.array([-4, 7]),
                delay=np.array([1, 70]))
    extended, _ = extend_delays(net, D)
    assert extended.projection("src->out~delay1").weight == 6
    record_v = ["out"]
    assert np.array_equal(simulate(extended, 80, "loihi", record_v=record_v).voltages["out"],
                          simulate(net, 80, "loihi", record_v=record_v).voltages["out"])


def _float_network(seed: int = 4) -> Network:
    """A few lif populations (quantized by compile), mixed weights, delays up to 200."""
    rng = np.random.default_rng(seed)
    net = Network("long")
    net.source("inp", 6, poisson(120.0, seed=seed))
    for k, size in enumerate((5, 4, 3)):
        net.population(f"p{k}", size, LIF(tau_mem=float(rng.uniform(5, 20)), tau_syn=3.0,
                                          v_th=1.0))
    for k, (pre, post) in enumerate([("inp", "p0"), ("p0", "p1"), ("inp", "p1"), ("p1", "p2"),
                                     ("p2", "p0"), ("p1", "p1")]):
        n = net.populations[pre].size * net.populations[post].size
        recurrent = pre == post == "p1"
        weights = rng.uniform(-1, 0, n) if recurrent else rng.uniform(-0.4, 1.2, n)
        net.connect(pre, post, all_to_all(), weight=weights,
                    delay=rng.integers(1, 201, n) if k != 2 else 3)
    return net


def test_verify_loihi_sim_with_delays_up_to_200(tmp_path):
    path = tmp_path / "long.yaml"
    _float_network().save(str(path))
    result = CliRunner().invoke(cli, ["verify", str(path), "--target", "loihi-sim",
                                      "--steps", "300"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "loihi-sim matches the reference" in result.stdout
    assert int(result.stdout.split("numerics): ")[1].split()[0].replace(",", "")) > 50


def test_compile_report_counts_the_relays_and_run_drops_them(tmp_path):
    build = compile_network(_float_network(), "loihi-sim")
    entry = build.report.delay_extension
    relays = internal_populations(build.network)
    assert entry["relay_populations"] == list(relays) and entry["max_delay"] == 64
    assert entry["relay_neurons"] == sum(build.network.populations[r].size for r in relays) > 0
    sizes = sum(p.size for p in build.network.neuron_populations())
    assert build.report.totals["neurons"] == sizes == 12 + entry["relay_neurons"]
    on_cores = {s.population for c in build.report.cores for s in c.slices}
    assert set(relays) <= on_cores
    assert f"delay extension: {entry['relay_neurons']:,} relay neurons" in build.report.to_text()
    assert '"delay_extension"' in build.report.to_json()
    assert "delays" in build.timings and list(build.timings)[:3] == ["validate", "quantize",
                                                                     "delays"]
    # Loihi 1 silicon delays at most 63: the relays follow the hardware's limit
    assert compile_network(_float_network(), "loihi-sim", "loihi1").report.delay_extension[
        "max_delay"] == 63
    out = tmp_path / "build"
    assert CliRunner().invoke(cli, ["compile", "-o", str(out), "--target", "loihi-sim",
                                    str(_save(_float_network(), tmp_path))]).exit_code == 0
    assert load_build(out).report.delay_extension == entry
    spikes = tmp_path / "s.npz"
    result = CliRunner().invoke(cli, ["run", str(out), "--target", "reference", "--steps", "300",
                                      "-o", str(spikes)])
    assert result.exit_code == 0, result.stderr
    written = SpikeRecord.load(spikes)
    assert set(written.spikes) == {"inp", "p0", "p1", "p2"}
    plain = simulate(_float_network(), 300, "loihi")  # the reference quantizes the float net
    assert _spikes(written, ["p0", "p1", "p2"]) == _spikes(plain, ["p0", "p1", "p2"])


def _save(net: Network, folder) -> str:
    path = folder / "net.yaml"
    net.save(str(path))
    return str(path)


def test_no_relays_for_short_delays_or_other_targets():
    short = compile_network(_fan_out().model_copy(update={"projections": []}), "loihi-sim")
    assert short.report.delay_extension is None
    assert '"delay_extension"' not in short.report.to_json()
    emu = compile_network(_float_network(), "spinnaker-emu")
    assert "delays" not in emu.timings and not internal_populations(emu.network)


def test_loihi_sim_runs_a_plain_network_with_long_delays_without_relays_in_its_record():
    from snnc.backends.loihi_sim import LoihiSimBackend

    net = _fan_out()
    record = LoihiSimBackend().run(net, 210, record_v=["out"])
    assert set(record.spikes) == {"src", "out"}
    expected = simulate(net, 210, "loihi", record_v=["out"])
    assert _spikes(record, ["src", "out"]) == _spikes(expected, ["src", "out"])
    assert np.array_equal(record.voltages["out"], expected.voltages["out"])
