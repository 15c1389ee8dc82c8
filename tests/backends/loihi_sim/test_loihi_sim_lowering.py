"""How loihi-sim lowers networks to Lava processes, what it refuses, and that it cleans up."""

import multiprocessing

import numpy as np
import pytest

from snnc.backends.loihi_sim import LoihiSimBackend
from snnc.backends.loihi_sim.lowering import plan
from snnc.backends.reference import simulate
from snnc.ir import (LIF, LoihiLIF, Network, SpinnakerLIF, UnsupportedOnTarget, all_to_all,
                     explicit, one_to_one, spike_times)


def _layered(populations: int, size: int = 10) -> Network:
    """inp -> p0 -> p1 -> ... (one_to_one, weight 100, delay 1), every population du=4095 dv=0."""
    net = Network("layers")
    net.source("inp", size, spike_times(times=np.arange(size), ids=np.arange(size)))
    previous = "inp"
    for k in range(populations):
        net.population(f"p{k}", size, LoihiLIF(du=4095, dv=0, vth=50))
        net.connect(previous, f"p{k}", one_to_one(), weight=100)
        previous = f"p{k}"
    return net


def test_fifty_populations_are_one_lif_process_and_two_blocks():
    lava_plan = plan(_layered(50), steps=5)
    assert list(lava_plan.neurons) == [f"p{k}" for k in range(50)]
    assert lava_plan.neurons["p3"] == (30, 40)
    assert len(lava_plan.blocks) == 2  # one from the RingBuffer, one inside the LIF process
    assert lava_plan.process_count == 5  # LIF, sink, RingBuffer, 2 Sparse


def test_blocks_split_by_weight_exp_delay_and_repeated_pairs():
    net = Network("blocks")
    net.population("a", 2, LoihiLIF(du=0, dv=0, vth=10))
    net.population("b", 2, LoihiLIF(du=0, dv=0, vth=10))
    net.connect("a", "b", all_to_all(), weight=3, weight_exp=1)
    net.connect("b", "a", all_to_all(), weight=-3, weight_exp=1, num_weight_bits=5)  # shares
    net.connect("a", "a", all_to_all(), weight=3, weight_exp=2)  # another exponent
    net.connect("a", "b", explicit([0, 0], [1, 1]), weight=5, weight_exp=1, name="twice")
    net.connect("b", "b", all_to_all(), weight=7, weight_exp=-2, name="neg")  # its own block
    blocks = plan(net, steps=3).blocks
    by_exp = {}
    for block in blocks:
        by_exp.setdefault(block.weight_exp, []).append(block)
    assert sorted(by_exp) == [-2, 1, 2]
    assert len(by_exp[1]) == 3  # a->b, b->a and twice share one; a0->b1 occurs 3 times: 3 layers
    assert [b.projections for b in by_exp[-2]] == [("neg",)]
    for block in blocks:  # no block holds a (post, pre) pair twice
        keys = block.post * 1000 + block.pre
        assert np.unique(keys).size == keys.size


def test_few_delay_one_synapses_ride_in_the_delaysparse():
    net = Network("fold")
    net.source("inp", 3, spike_times([0], [0]))
    net.population("out", 3, LoihiLIF(du=4095, dv=0, vth=10))
    net.connect("inp", "out", one_to_one(), weight=50, delay=1)
    net.connect("inp", "out", explicit([0, 1, 2], [1, 2, 0]), weight=50, delay=np.array([3, 5, 9]))
    (block,) = plan(net, steps=3).blocks
    assert block.delayed and sorted(block.delay.tolist()) == [1, 1, 1, 3, 5, 9]


@pytest.mark.parametrize("build,where,words", [
    (lambda net: net.population("sp", 1, SpinnakerLIF(v_thresh=1, exp_tc=1, r_membrane=1)),
     "populations.sp.neuron.kind", "spinnaker_lif"),
    (lambda net: net.population("sub", 1, LIF(tau_mem=5.0, v_reset=-0.5, reset="subtract")),
     "populations.sub.neuron.v_reset", "v_reset != 0"),
    (lambda net: net.connect("out", "out", explicit([0, 0], [0, 0]), weight=4, weight_exp=-1),
     "projections[0].weight_exp", "repeated"),
])
def test_refusals_name_the_field(build, where, words):
    net = Network("refuse")
    net.source("inp", 1, spike_times([0], [0]))
    net.population("out", 1, LoihiLIF(du=0, dv=0, vth=1))
    build(net)
    with pytest.raises(UnsupportedOnTarget) as info:
        LoihiSimBackend().run(net, 5)
    assert info.value.where == where and words in str(info.value)
    assert info.value.exit_code == 2


def test_a_repeated_source_spike_is_refused():
    net = Network("twice")
    net.source("inp", 1, spike_times([3, 3], [0, 0]))
    net.population("out", 1, LoihiLIF(du=0, dv=0, vth=1))
    with pytest.raises(UnsupportedOnTarget, match="spikes twice at step 3"):
        LoihiSimBackend().run(net, 5)


def test_voltages_and_spikes_match_the_reference_and_no_process_leaks():
    net = _layered(3, size=4)
    net.connect("p2", "p0", all_to_all(), weight=-40, delay=7)
    record = LoihiSimBackend().run(net, 30, record_v=["p0", "p2"])
    expected = simulate(net, 30, "loihi", record_v=["p0", "p2"])
    assert record.voltages["p0"].shape == (30, 4)
    for name in ("p0", "p2"):
        assert np.array_equal(record.voltages[name], expected.voltages[name])
    for name in ("inp", "p0", "p1", "p2"):
        assert [a.tolist() for a in record.spikes[name]] == \
            [a.tolist() for a in expected.spikes[name]]
    assert record.spikes["p1"][0].tolist() == [2, 3, 4, 5]  # one step per hop, from step 0
    assert multiprocessing.active_children() == []


def _verify(tmp_path, net: Network, steps: int):
    from click.testing import CliRunner

    from snnc.cli import cli

    path = tmp_path / "net.yaml"
    net.save(str(path))
    return CliRunner().invoke(cli, ["verify", str(path), "--target", "loihi-sim",
                                    "--steps", str(steps)])


def test_snnc_verify_passes_then_catches_a_perturbed_weight(tmp_path, monkeypatch):
    net = _layered(3, size=4)
    net.connect("p2", "p0", all_to_all(), weight=-40, delay=7)
    result = _verify(tmp_path, net, 20)
    assert result.exit_code == 0, result.output
    assert "loihi-sim matches the reference" in result.output

    import snnc.backends.loihi_sim.runner as runner

    honest = runner.quantized_weights

    def perturbed(block):  # a lowering bug: p0 -> p1's first synapse loses most of its weight
        weight = honest(block)
        if not block.from_sources and block.pre.size:
            weight[np.argmin(block.pre)] = 40
        return weight

    monkeypatch.setattr(runner, "quantized_weights", perturbed)
    result = _verify(tmp_path, net, 20)
    assert result.exit_code == 1
    assert "first divergence: population 'p1', neuron 0, step 2: expected spike, got no spike" \
        in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_failing_lava_process_raises_its_error_and_leaves_no_process(monkeypatch):
    # Lava 0.10 alone would hang here: its stop() waits for services that already exited.
    from snnc.backends.loihi_sim.lava_procs import sink

    def failing_step(model):
        if model.time_step == 3:
            raise ValueError("injected sink failure")
        model.collect_spikes()

    monkeypatch.setattr(sink.PyFileSinkModel, "run_spk", failing_step)  # Lava forks: children see it
    with pytest.raises(RuntimeError, match="injected sink failure"):
        LoihiSimBackend().run(_layered(2, size=3), 10)
    assert multiprocessing.active_children() == []


def test_snnc_run_with_input_writes_the_references_file_byte_for_byte(tmp_path):
    from click.testing import CliRunner

    from snnc.cli import cli

    net = _layered(2, size=4)
    net.save(str(tmp_path / "net.yaml"))
    np.savez(tmp_path / "in.npz", times=np.array([0, 0, 5, 9]), ids=np.array([3, 1, 2, 0]))
    outputs = {}
    for target, extra in (("loihi-sim", []), ("reference", ["--numerics", "loihi"])):
        outputs[target] = tmp_path / f"{target}.npz"
        result = CliRunner().invoke(cli, ["run", str(tmp_path / "net.yaml"), "--target", target,
                                          "--steps", "15", "--input", f"inp={tmp_path / 'in.npz'}",
                                          "-o", str(outputs[target]), *extra])
        assert result.exit_code == 0, result.output
    assert outputs["loihi-sim"].read_bytes() == outputs["reference"].read_bytes()
    with np.load(outputs["loihi-sim"]) as data:
        assert data["p1.times"].tolist() == [2, 2, 7, 11] and data["p1.ids"].tolist() == [1, 3, 2, 0]
