"""NIR's neurons without leak (IF, I) import with ``tau_mem`` infinite: a decay of exactly 1.

They used to import with ``tau_mem = 1e30`` ms, whose decay ``exp(-dt/1e30)`` is also exactly 1.0
in float64, so the float reference must give the same spikes either way; the hardware targets can
now tell an IF from a very slow leak.
"""

from pathlib import Path

import nir
import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import LI, LIF, Network, equal, from_nir, load, save, spike_times, to_nir
from snnc.ir.errors import UnsupportedOnTarget

DATA = Path(__file__).resolve().parents[1] / "data" / "nir"
IF_LAYERS = ("1", "3", "6", "10", "12")


@pytest.fixture(scope="module")
def cnn():
    return from_nir(DATA / "cnn_sinabs.nir", dt=1e-3, reset="subtract")


def with_tau_mem(net, tau_mem):
    """A copy of the network whose IF layers have another tau_mem (the old import: 1e30 ms)."""
    copy = net.model_copy(update={"populations": dict(net.populations)})
    for name in IF_LAYERS:
        population = copy.populations[name]
        neuron = population.neuron.model_copy(update={"tau_mem": tau_mem})
        copy.populations[name] = population.model_copy(update={"neuron": neuron})
    return copy


def test_sinabs_if_layers_have_an_infinite_tau_mem_and_spike_as_before(cnn, tmp_path):
    for name in IF_LAYERS:
        neuron = cnn.populations[name].neuron
        assert neuron.kind == "lif" and neuron.tau_mem == float("inf"), name
        assert (neuron.tau_syn, neuron.v_leak, neuron.v_th) == (0.0, 0.0, 1.0)
    save(cnn, tmp_path / "cnn.yaml")  # YAML keeps it (.inf)
    assert load(tmp_path / "cnn.yaml").populations["1"].neuron.tau_mem == float("inf")
    steps = 15
    frames = np.random.default_rng(2).random((steps, 2 * 34 * 34)) < 0.15
    times, ids = np.nonzero(frames)
    source = spike_times(times, ids)
    runs = []
    for net in (cnn, with_tau_mem(cnn, 1e30)):
        net.populations["input"] = net.populations["input"].model_copy(update={"source": source})
        runs.append(simulate(net, steps, "float", record_v=["10"]))
    now, before = runs
    for name in IF_LAYERS[:-1]:
        assert now.spikes[name][0].size > 0, name  # every hidden layer is driven
    for name in IF_LAYERS:
        assert all(np.array_equal(a, b) for a, b in zip(now.spikes[name], before.spikes[name]))
    np.testing.assert_array_equal(now.voltages["10"], before.voltages["10"])  # bit for bit


def test_integrator_imports_as_li_without_leak_and_both_export_back():
    nodes = {"in": nir.Input(np.array([2])), "w": nir.Linear(np.array([[1.0, 0.5], [0.2, 1.0]])),
             "if": nir.IF(r=np.array([1.0, 2.0]), v_threshold=np.ones(2), v_reset=np.zeros(2)),
             "w2": nir.Linear(np.array([[0.5, 0.5]])), "integ": nir.I(r=np.array([0.7])),
             "out": nir.Output(np.array([1]))}
    edges = [("in", "w"), ("w", "if"), ("if", "w2"), ("w2", "integ"), ("integ", "out")]
    net = from_nir(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False), dt=1e-3,
                   integrator="euler")
    integ = net.populations["integ"].neuron
    assert integ.kind == "li" and integ.tau_mem == float("inf")
    graph = to_nir(net)
    assert isinstance(graph.nodes["if"], nir.IF) and isinstance(graph.nodes["integ"], nir.I)
    assert equal(net, from_nir(graph, dt=1e-3, integrator="euler", name=net.name))


def test_export_refuses_an_infinite_tau_mem_nir_cannot_carry():
    def network(neuron):
        net = Network("x", dt=1.0)
        net.source("inp", 1, spike_times())
        net.population("p", 2, neuron)
        net.connect("inp", "p", weight=0.5)
        return net

    for neuron, message in (
            (LIF(tau_mem=np.array([np.inf, 10.0])), "infinite for some neurons only"),
            (LIF(tau_mem=np.inf, tau_syn=2.0), "with a synaptic current has no NIR node"),
            (LI(tau_mem=np.inf, tau_syn=2.0), "with a synaptic current has no NIR node")):
        with pytest.raises(UnsupportedOnTarget, match=message) as caught:
            to_nir(network(neuron))
        assert caught.value.where == "populations.p.neuron.tau_mem"
