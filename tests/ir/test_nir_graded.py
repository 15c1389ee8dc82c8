"""Non-spiking hidden layers: In -> Linear -> CubaLI -> Linear -> LIF (issue 13).

A CubaLI's output is its voltage, a graded value. It used to import without a message and drop
the LI's value (the LIF layer fired 0 spikes). Now the importer makes it a graded ``li``
population: the reference sends its value every step (``w * v[t]`` arrives at ``t + d``), and
the chip targets refuse it in one line. ``cuba_li_numpy`` is NIR's equations, discretised as the
importer does, with snnc's one-step-per-hop rule for the graded hop too; the reference's float
numerics must match it.
"""

from pathlib import Path

import nir
import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends.reference import simulate
from snnc.cli import cli
from snnc.ir import from_nir, spike_times
from snnc.ir.errors import UnsupportedOnTarget
from snnc.models import REGISTRY
from snnc.models.support import support

DT = 1e-3
STEPS = 120
W1 = np.array([[1.0, 0.5], [0.3, 1.2], [0.8, 0.8]])
W2 = np.array([[0.6, 0.2, 0.4], [0.1, 0.7, -0.2]])


def cuba_li_graph():
    li = {"tau_syn": np.full(3, 4e-3), "tau_mem": np.array([8e-3, 12e-3, 20e-3]),
          "r": np.array([2.0, 1.5, 1.0]), "v_leak": np.zeros(3), "w_in": np.array([1.0, 1.5, 2.0])}
    nodes = {
        "in": nir.Input(np.array([2])),
        "w1": nir.Linear(W1),
        "cli": nir.CubaLI(**li),
        "w2": nir.Linear(W2),
        "lif": nir.LIF(tau=np.array([5e-3, 10e-3]), r=np.array([1.0, 2.0]), v_leak=np.zeros(2),
                       v_threshold=np.array([0.5, 0.8]), v_reset=np.zeros(2)),
        "out": nir.Output(np.array([2])),
    }
    edges = [("in", "w1"), ("w1", "cli"), ("cli", "w2"), ("w2", "lif"), ("lif", "out")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def inputs():
    rng = np.random.default_rng(7)
    return (rng.random((STEPS, 2)) < 0.3).astype(np.float64)


def discrete(tau, integrator):
    """(decay, gain) of ``tau y' = -y + u`` over one step, u held: exact or forward Euler."""
    if integrator == "exact":
        decay = np.exp(-DT / tau)
        return decay, 1.0 - decay
    return 1.0 - DT / tau, DT / tau


def cuba_li_numpy(graph, x, integrator, current_order):
    """NIR's equations, not snnc's IR: ``tau_syn I' = -I + w_in u``, ``tau_mem v' = v_leak - v +
    r I`` (CubaLI, its output is v), ``tau v' = v_leak - v + r u`` (LIF, spike ``v > v_th``, reset
    to v_reset). Each hop costs one step: the CubaLI receives ``W1 x[t-1]``, the LIF ``W2
    v_cli[t-1]`` (with v_leak 0 both layers rest at exactly 0 before their first input)."""
    cli, lif = graph.nodes["cli"], graph.nodes["lif"]
    a_s, g_s = discrete(cli.tau_syn, integrator)
    a_m, g_m = discrete(cli.tau_mem, integrator)
    a, g = discrete(lif.tau, integrator)
    i_syn, v_cli, v = np.zeros(3), np.zeros(3), np.zeros(2)
    volts = np.zeros((len(x), 3))
    spikes = np.zeros((len(x), 2), dtype=bool)
    for t in range(len(x)):
        u1 = W1 @ x[t - 1] if t else np.zeros(3)
        u2 = W2 @ volts[t - 1] if t else np.zeros(2)
        old = i_syn
        i_syn = a_s * i_syn + g_s * cli.w_in * u1
        drive = old if current_order == "previous" else i_syn  # Norse: the step before's
        v_cli = cli.v_leak + a_m * (v_cli - cli.v_leak) + g_m * cli.r * drive
        v = lif.v_leak + a * (v - lif.v_leak) + g * lif.r * u2
        fired = v > lif.v_threshold
        v = np.where(fired, lif.v_reset, v)
        volts[t], spikes[t] = v_cli, fired
    return volts, spikes


@pytest.mark.parametrize("integrator", ["exact", "euler"])
@pytest.mark.parametrize("current_order", ["new", "previous"])
def test_the_numpy_model_is_not_trivial(integrator, current_order):
    # what the import used to lose: the LI's voltage rises to a few units and drives the LIF
    volts, spikes = cuba_li_numpy(cuba_li_graph(), inputs(), integrator, current_order)
    assert 1.0 < volts.max() < 20.0
    assert 5 < spikes.sum(axis=0).min() and spikes.sum() < spikes.size // 2
    assert not spikes[:3].any()  # two hops, then the voltage has to build up


@pytest.mark.parametrize("integrator", ["exact", "euler"])
@pytest.mark.parametrize("current_order", ["new", "previous"])
def test_the_numpy_cuba_li_is_the_importers_readout(integrator, current_order):
    # the model's first half against snnc as it is: the CubaLI read by an Output (allowed)
    graph = cuba_li_graph()
    readout = nir.NIRGraph(nodes={k: graph.nodes[k] for k in ("in", "w1", "cli")}
                           | {"out": nir.Output(np.array([3]))},
                           edges=[("in", "w1"), ("w1", "cli"), ("cli", "out")], type_check=False)
    net = from_nir(readout, dt=DT, integrator=integrator, current=current_order)
    x = inputs()
    times, ids = np.nonzero(x)
    net.populations["in"] = net.populations["in"].model_copy(
        update={"source": spike_times(times, ids)})
    record = simulate(net, STEPS, "float", record_v=["cli"])
    volts, _ = cuba_li_numpy(graph, x, integrator, current_order)
    np.testing.assert_allclose(record.voltages["cli"], volts, rtol=0, atol=1e-12)


def test_a_cuba_li_feeding_a_layer_imports_and_the_chips_run_or_refuse_it_in_one_line(tmp_path):
    path, out = tmp_path / "graded.nir", tmp_path / "net.yaml"
    nir.write(path, cuba_li_graph())
    result = CliRunner().invoke(cli, ["import-nir", str(path), "--dt", "0.001", "-o", str(out)])
    assert result.exit_code == 0, result.output
    for target in ("loihi-sim", "spinnaker-emu"):
        verdict = support(REGISTRY.get("li"), target)
        if verdict.supported and verdict.features["graded_output"]:  # a graded lowering
            valid = CliRunner().invoke(cli, ["validate", str(out), "--target", target])
            assert valid.exit_code == 0, valid.output
            continue
        refused = CliRunner().invoke(cli, ["validate", str(out), "--target", target])
        assert refused.exit_code == 2
        assert refused.output.strip().splitlines() == [
            f"{out}: populations.cli.neuron.kind: population 'cli' is 'li', which {target} "
            "cannot run: a non-spiking readout: only the reference's float numerics simulate it "
            "(graded messages are not lowered to the chips)"]
    assert CliRunner().invoke(cli, ["validate", str(out), "--target", "reference"]).exit_code == 0


def test_every_non_spiking_kind_feeding_a_layer_imports_as_a_graded_population():
    li = nir.LI(tau=np.array([5e-3]), r=np.ones(1), v_leak=np.zeros(1))
    integ = nir.I(r=np.ones(1))
    lif = nir.LIF(tau=np.array([5e-3]), r=np.ones(1), v_leak=np.zeros(1),
                  v_threshold=np.ones(1), v_reset=np.zeros(1))
    for node in (li, integ):
        flat = nir.NIRGraph(nodes={"in": nir.Input(np.array([1])), "w": nir.Linear(np.eye(1)),
                                   "n": node, "w2": nir.Linear(np.eye(1)), "lif": lif},
                            edges=[("in", "w"), ("w", "n"), ("n", "w2"), ("w2", "lif")],
                            type_check=False)
        net = from_nir(flat, dt=DT)
        assert net.populations["n"].kind == "li"
        assert any(p.pre == "n" and p.post == "lif" for p in net.projections)
    # the same LI read by an Output only is a readout
    inner = nir.NIRGraph(nodes={"input": nir.Input(np.array([1])), "w": nir.Linear(np.eye(1)),
                                "li": li, "output": nir.Output(np.array([1]))},
                         edges=[("input", "w"), ("w", "li"), ("li", "output")], type_check=False)
    readout = nir.NIRGraph(nodes={"in": nir.Input(np.array([1])), "sub": inner,
                                  "out": nir.Output(np.array([1]))},
                           edges=[("in", "sub"), ("sub", "out")], type_check=False)
    assert from_nir(readout, dt=DT).metadata["nir"]["outputs"] == ["sub.li"]


@pytest.mark.parametrize("integrator", ["exact", "euler"])
@pytest.mark.parametrize("current_order", ["new", "previous"])
def test_a_cuba_li_hidden_layer_drives_the_lif_as_numpy_says(integrator, current_order):
    graph, x = cuba_li_graph(), inputs()
    net = from_nir(graph, dt=DT, integrator=integrator, current=current_order)
    times, ids = np.nonzero(x)
    net.populations["in"] = net.populations["in"].model_copy(
        update={"source": spike_times(times, ids)})
    record = simulate(net, STEPS, "float", record_v=["cli"])
    volts, spikes = cuba_li_numpy(graph, x, integrator, current_order)
    np.testing.assert_allclose(record.voltages["cli"], volts, rtol=0, atol=1e-12)
    got = np.zeros_like(spikes)
    got[record.spikes["lif"]] = True
    assert np.array_equal(got, spikes)
