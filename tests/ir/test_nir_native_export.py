"""NIR export writes imported Conv1d/Conv2d, SumPool2d/AvgPool2d, Flatten, Affine/Linear, Scale
and Threshold nodes back as themselves (not as dense Linear): the same node types, parameters
and edges as the original graph, and a re-import gives the same synapses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snnc.ir import expand, from_nir, to_nir

nir = pytest.importorskip("nir")

CNN = Path(__file__).resolve().parents[1] / "data" / "nir" / "cnn_sinabs.nir"  # tracked copy
DENSE_BYTES = 1_470_000  # the dense export of cnn_sinabs.nir before native nodes (issue 18)
GEOMETRY = ("stride", "padding", "dilation", "groups", "input_shape", "kernel_size", "start_dim",
            "end_dim")


def _same_synapses(a, b) -> None:
    assert [p.name for p in a.projections] == [p.name for p in b.projections]
    for p, q in zip(a.projections, b.projections):
        x, y = expand(a, p), expand(b, q)
        for field in ("pre", "post", "weight", "delay"):
            assert np.array_equal(getattr(x, field), getattr(y, field)), (p.name, field)


def _same_nodes(original, exported) -> None:
    assert set(original.nodes) == set(exported.nodes)
    assert sorted(map(tuple, original.edges)) == sorted(map(tuple, exported.edges))
    for name, node in original.nodes.items():
        other = exported.nodes[name]
        assert type(other) is type(node), name
        for field in ("weight", "bias", "scale", "threshold", *GEOMETRY):
            if hasattr(node, field):
                assert np.array_equal(np.asarray(getattr(node, field)),
                                      np.asarray(getattr(other, field))), (name, field)


def test_sinabs_cnn_round_trips_to_its_own_node_types(tmp_path):
    original = nir.read(CNN)
    net = from_nir(CNN, dt=1e-3)
    graph = to_nir(net)
    _same_nodes(original, graph)
    path = tmp_path / "cnn.nir"
    nir.write(path, graph)
    size = path.stat().st_size
    assert size < DENSE_BYTES / 4, size  # 1.47 MB dense; the original file is 274 KB
    _same_synapses(net, from_nir(path, dt=1e-3))


def _graph(nodes: dict, edges: list) -> object:
    return nir.NIRGraph(nodes=nodes, edges=edges)


def test_conv1d_threshold_scale_round_trip():
    rng = np.random.default_rng(1)
    conv1d = nir.Conv1d(input_shape=12, weight=rng.normal(size=(3, 2, 3)), stride=1, padding=1,
                        dilation=1, groups=1, bias=np.zeros(3))
    shape = (3, 12)
    graph = _graph(
        {"input": nir.Input(input_type=np.array([2, 12])), "c": conv1d,
         "t": nir.Threshold(threshold=np.full(shape, 0.5)),
         "s": nir.Scale(scale=rng.uniform(0.5, 2.0, shape)),
         "if": nir.IF(r=np.ones(shape), v_threshold=np.ones(shape), v_reset=np.zeros(shape)),
         "output": nir.Output(output_type=np.array(shape))},
        [("input", "c"), ("c", "t"), ("t", "s"), ("s", "if"), ("if", "output")])
    net = from_nir(graph, dt=1e-3)
    exported = to_nir(net)
    _same_nodes(graph, exported)
    _same_synapses(net, from_nir(exported, dt=1e-3))


def test_avgpool_round_trips():
    """cnn_sinabs with its SumPool2d nodes made AvgPool2d: the 1/4 of each window is part of
    the synapses, and the conv weights after it come back within rounding."""
    graph = nir.read(CNN)
    for name in ("4", "7"):
        old = graph.nodes[name]
        avg = nir.AvgPool2d(kernel_size=old.kernel_size, stride=old.stride, padding=old.padding)
        avg.input_type, avg.output_type = old.input_type, old.output_type
        graph.nodes[name] = avg
    net = from_nir(graph, dt=1e-3)
    exported = to_nir(net)
    assert {k: type(v).__name__ for k, v in exported.nodes.items()} == {
        k: type(v).__name__ for k, v in graph.nodes.items()}
    for name in ("5", "9"):
        assert np.allclose(exported.nodes[name].weight, graph.nodes[name].weight, rtol=1e-13,
                           atol=0)
    _same_synapses(net, from_nir(exported, dt=1e-3))


def test_a_network_not_from_nir_still_exports_dense():
    from snnc.ir import LIF, Network, all_to_all, spike_times

    net = Network("plain", dt=1.0)
    net.source("s", 3, spike_times([0], [0]))
    net.population("p", 2, LIF(tau_mem=10.0))
    net.connect("s", "p", all_to_all(), weight=0.5)
    graph = to_nir(net)
    assert {type(v).__name__ for v in graph.nodes.values()} == {"Input", "Linear", "LIF",
                                                                 "Output"}
