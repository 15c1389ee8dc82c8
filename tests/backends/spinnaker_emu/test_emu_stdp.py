"""spinnaker-emu runs ``spinnaker_stdp`` in its cores: spikes and final weights equal the reference's
``spinnaker`` numerics (whose kernels tests/models/test_spinnaker_stdp.py checks against a
transcription of sPyNNaker's C), the STDP cycles are in the cost model, what it cannot run is
refused in one line."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.api import compare
from snnc.backends import SpikeRecord
from snnc.backends.reference import simulate
from snnc.backends.spinnaker_emu import CostModel, EmuMachine, SpinnakerEmuBackend
from snnc.backends.spinnaker_emu.plastic import EVENTS
from snnc.cli import cli
from snnc.compiler import compile_network
from snnc.ir import LIF, Network, fixed_probability, poisson
from snnc.ir.errors import SnncError, UnsupportedOnTarget
from snnc.models.stdp import Stdp

STEPS = 400


def plastic_network(seed: int, dependence: Any = "additive", pairing: Any = "all",
                    max_delay: int = 8) -> Network:
    """Poisson input -> hid (only plastic input, so its spikes depend on the learnt weights) ->
    out (plastic from hid, frozen from the input), a frozen inhibitory loop back."""
    rng = np.random.default_rng(seed)
    net = Network(f"stdp{seed}", dt=1.0)
    inp = net.source("inp", 40, poisson(float(rng.uniform(20, 50)), seed=seed))
    hid = net.population("hid", 7, LIF(tau_mem=10.0, tau_syn=3.0, v_th=1.0))
    out = net.population("out", 4, LIF(tau_mem=15.0, tau_syn=2.0, v_th=0.8))
    rule = Stdp(a_plus=float(rng.uniform(0.01, 0.05)), a_minus=float(rng.uniform(0.01, 0.05)),
                w_max=0.6, tau_plus=float(rng.uniform(10, 30)),
                tau_minus=float(rng.uniform(10, 30)), weight_dependence=dependence,
                pairing=pairing)
    net.connect(inp, hid, fixed_probability(0.5, seed=seed + 1),
                weight={"uniform": [0.0, 0.6], "seed": seed + 2},
                delay={"uniform": [1, max_delay], "seed": seed + 3}, plasticity=rule)
    net.connect(hid, out, weight=0.35, delay=2, plasticity=rule)
    net.connect(inp, out, fixed_probability(0.2, seed=seed + 4), weight=0.1)
    net.connect(out, hid, weight=-0.2, delay=3)
    return net


@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
@pytest.mark.parametrize("pairing", ["all", "nearest"])
@pytest.mark.parametrize("seed", [3, 4])
def test_random_plastic_networks_verify(dependence, pairing, seed):
    build = compile_network(plastic_network(seed, dependence, pairing), "spinnaker-emu",
                            max_neurons_per_core=3)  # rows and histories on several cores
    result = compare(build, "spinnaker-emu", STEPS)
    assert result.divergence is None and result.weight_divergence is None, result
    assert result.synapses > 0 and result.spikes > 0
    record = SpinnakerEmuBackend().run(build, STEPS, record_weights={"inp->hid": 0})
    start = EmuMachine(build).weights()["inp->hid"]  # before any run: the initial weights
    assert not np.array_equal(record.weights["inp->hid"].weights, start)
    assert record.spikes["hid"][0].size > 0


def test_weight_history_equals_the_reference(tmp_path):
    build = compile_network(plastic_network(5), "spinnaker-emu")
    net_path = tmp_path / "net.yaml"
    build.network.save(str(net_path))
    out = tmp_path / "spikes.npz"
    result = CliRunner().invoke(cli, ["run", str(net_path), "--target", "spinnaker-emu",
                                      "--steps", str(STEPS), "--record-weights", "inp->hid:50",
                                      "--record-weights", "hid->out", "-o", str(out)])
    assert result.exit_code == 0, result.output
    got = SpikeRecord.load(out).weights
    want = simulate(build.network, STEPS, "spinnaker",
                    record_weights={"inp->hid": 50, "hid->out": 0}).weights
    for name in ("inp->hid", "hid->out"):
        assert np.array_equal(got[name].weights, want[name].weights)
        assert np.array_equal(got[name].pre, want[name].pre)
    assert np.array_equal(got["inp->hid"].steps, np.arange(49, STEPS, 50))
    assert np.array_equal(got["inp->hid"].history, want["inp->hid"].history)
    assert len({h.tobytes() for h in got["inp->hid"].history}) > 1  # it changes over time


def test_snnc_verify_exits_zero_on_a_plastic_network(tmp_path):
    path = tmp_path / "net.yaml"
    plastic_network(6, "multiplicative").save(str(path))
    result = CliRunner().invoke(cli, ["verify", str(path), "--target", "spinnaker-emu",
                                      "--steps", str(STEPS)])
    assert result.exit_code == 0, result.output
    assert "matches the reference" in result.output and "plastic synapses identical" in \
        result.output


def test_stdp_cycles_are_in_the_cost_model():
    """Cycles with STDP costs minus cycles without = plastic_event per synapse updated +
    post_event per post spike recorded, per core."""
    build = compile_network(plastic_network(7), "spinnaker-emu")
    _, with_stdp = EmuMachine(build).run(STEPS)
    machine = EmuMachine(build, CostModel(plastic_event=0, post_event=0))
    _, free = machine.run(STEPS)
    updated = machine.plastic_state[EVENTS]  # synapses updated, per core
    record = simulate(build.network, STEPS, "spinnaker")
    posts = sum(record.spikes[name][0].size for name in ("hid", "out"))  # both learn
    assert updated.sum() > 0 and posts > 0
    extra = with_stdp.cycles_total - free.cycles_total
    assert extra.sum() == 128 * updated.sum() + 40 * posts
    assert np.all(extra[updated == 0] >= 0) and np.all(extra[updated > 0] >= 128 * updated[
        updated > 0])
    backend = SpinnakerEmuBackend()
    backend.run(build, STEPS)
    reported = {c["id"]: c["plastic_synapse_updates"] for c in backend.provenance["cores"]}
    assert [reported[c] for c in sorted(reported)] == updated.tolist()


def test_delays_beyond_the_in_core_slots_are_refused():
    # slots: 32; refused at compile (compiler/mapping/graph.py), so no build the emulator would
    # refuse at load (backends/spinnaker_emu/plastic.py keeps the same check) is made
    with pytest.raises(UnsupportedOnTarget, match="in-core slots") as refusal:
        compile_network(plastic_network(8, max_delay=60), "spinnaker-emu")
    assert "\n" not in str(refusal.value)


def test_projections_into_one_population_must_share_their_timing():
    net = plastic_network(9)
    extra = net.source("more", 5, poisson(30.0, seed=1))
    net.connect(extra, "hid", weight=0.2, plasticity=Stdp(tau_minus=40.0, w_max=0.6))
    with pytest.raises(SnncError, match="post-event history"):
        EmuMachine(compile_network(net, "spinnaker-emu"))


def test_a_rule_whose_shift_is_not_the_post_populations_is_refused():
    net = compile_network(plastic_network(10), "spinnaker-emu").network
    rule = net.projections[0].plasticity
    wrong = rule.model_copy(update={"weight_shift": rule.weight_shift + 1})
    net.projections[0] = net.projections[0].model_copy(update={"plasticity": wrong})
    with pytest.raises(UnsupportedOnTarget, match="weight_shift_exc"):
        EmuMachine(compile_network(net, "spinnaker-emu"))
