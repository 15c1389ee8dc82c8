"""NIR import on real files written by other frameworks (tests/data/nir, from the NIR paper).

Expectations are independent of the importer: spike steps and voltages from the paper's CSVs,
synapse counts from the layer shapes, weights and convolutions recomputed with plain numpy.
"""

from pathlib import Path

import nir
import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends.reference import simulate
from snnc.cli import cli
from snnc.ir import expand, from_nir, load, spike_times
from snnc.ir.errors import NetworkError, UnsupportedOnTarget
from snnc.ir.nir_linear import conv2d_matrix

DATA = Path(__file__).resolve().parents[1] / "data" / "nir"


def with_input(net, population, times, ids):
    """The network with a source population's spikes replaced (what ``--input`` does)."""
    source = spike_times(np.asarray(times, np.int64), np.asarray(ids, np.int64))
    net.populations[population] = net.populations[population].model_copy(update={"source": source})
    return net


# ---- lif_norse.nir against the exact ODE solution ----------------------------------------------
def lif_exact():
    table = np.loadtxt(DATA / "lif_exact.csv", delimiter=",")
    return np.flatnonzero(table[:, 0]), table[:, 1], np.flatnonzero(table[:, 2])


@pytest.mark.parametrize("integrator", ["exact", "euler"])
def test_lif_norse_spikes_one_step_after_the_exact_solution(integrator):
    inputs, _, expected = lif_exact()
    assert expected.tolist() == [460, 510, 710, 760]  # the paper's steps
    net = from_nir(DATA / "lif_norse.nir", dt=1e-4, integrator=integrator)
    assert net.dt == pytest.approx(0.1)
    record = simulate(with_input(net, "input", inputs, np.zeros_like(inputs)), 1000, "float")
    times, ids = record.spikes["1"]
    assert times.tolist() == [461, 511, 711, 761]  # one hop: one step later
    assert not ids.any()


def test_lif_norse_voltage_is_the_exact_ode_solution_one_step_later():
    # Up to the first spike (the CSV's solver then resets at the sub-step crossing time, which
    # no discrete model reproduces), --integrator exact gives the exact solution to 1e-12.
    inputs, voltage, spikes = lif_exact()
    net = from_nir(DATA / "lif_norse.nir", dt=1e-4, integrator="exact")
    record = simulate(with_input(net, "input", inputs, np.zeros_like(inputs)), 1000, "float",
                      record_v=["1"])
    first = spikes[0]
    assert np.count_nonzero(inputs < first) == 12
    np.testing.assert_allclose(record.voltages["1"][1:first + 1, 0], voltage[:first], rtol=0,
                               atol=1e-12)


def test_metadata_records_the_choices():
    net = from_nir(str(DATA / "lif_norse.nir"), dt=1e-4, integrator="euler", reset="subtract")
    meta = net.metadata["nir"]
    assert (meta["dt_s"], meta["integrator"], meta["reset"]) == (1e-4, "euler", "subtract")
    assert meta["inputs"] == {"input": [1]} and meta["outputs"] == ["1"]
    neuron = net.populations["1"].neuron
    assert (neuron.integrator, neuron.reset, neuron.tau_mem) == ("euler", "subtract",
                                                                  pytest.approx(2.5))
    # euler: the weight 1 is scaled by r dt / tau = 0.1 ms / 2.5 ms
    assert net.projections[0].weight == pytest.approx(0.04)


# ---- cnn_sinabs.nir: convolutions and poolings unrolled ------------------------------------------
def taps(size, kernel, stride, padding):
    """Per output position along one axis, how many kernel taps land inside the input."""
    out = (size + 2 * padding - kernel) // stride + 1
    return [sum(0 <= o * stride - padding + k < size for k in range(kernel)) for o in range(out)]


def expected_cnn_synapses():
    """Synapses per projection from the layer shapes in the README (pooling 2x2 = 4 sources)."""
    conv0 = 16 * 2 * sum(taps(34, 5, 2, 1)) ** 2
    conv2 = 16 * 16 * sum(taps(16, 3, 1, 1)) ** 2
    conv5 = 8 * 16 * sum(taps(8, 3, 1, 1)) ** 2 * 4
    return {"input->1": conv0, "1->3": conv2, "3->6": conv5, "6->10": 256 * 128 * 4,
            "10->12": 10 * 256}


@pytest.fixture(scope="module")
def cnn():
    return from_nir(DATA / "cnn_sinabs.nir", dt=1e-4, reset="subtract")


def test_cnn_sinabs_counts(cnn):
    graph = nir.read(DATA / "cnn_sinabs.nir")
    weights = [n.weight for n in graph.nodes.values() if hasattr(n, "weight")]
    assert all(np.all(w != 0) for w in weights)  # so every tap is a synapse
    sizes = {name: p.size for name, p in cnn.populations.items()}
    assert sizes == {"input": 2 * 34 * 34, "1": 16 * 16 * 16, "3": 16 * 16 * 16, "6": 8 * 8 * 8,
                     "10": 256, "12": 10}
    counts = {p.name: len(expand(cnn, p)) for p in cnn.projections}
    assert counts == expected_cnn_synapses()
    assert all(p.delay == 1 for p in cnn.projections)
    assert cnn.metadata["nir"]["outputs"] == ["12"]


def test_cnn_sinabs_weights_are_the_kernels(cnn):
    graph = nir.read(DATA / "cnn_sinabs.nir")
    rng = np.random.default_rng(0)
    # input -> 1: stride 2, padding 1: post (co, oy, ox) reads pre (ci, 2 oy - 1 + ky, ...)
    syn = expand(cnn, "input->1")
    pick = rng.choice(len(syn), 200, replace=False)
    co, oy, ox = np.unravel_index(syn.post[pick], (16, 16, 16))
    ci, iy, ix = np.unravel_index(syn.pre[pick], (2, 34, 34))
    kernel = graph.nodes["0"].weight[co, ci, iy - (2 * oy - 1), ix - (2 * ox - 1)]
    np.testing.assert_array_equal(syn.weight[pick], kernel.astype(np.float64))
    # 3 -> 6: SumPool 2 then conv k3 p1: pre (c, y, x) lies in pooled pixel (y // 2, x // 2)
    syn = expand(cnn, "3->6")
    pick = rng.choice(len(syn), 200, replace=False)
    co, oy, ox = np.unravel_index(syn.post[pick], (8, 8, 8))
    ci, y, x = np.unravel_index(syn.pre[pick], (16, 16, 16))
    kernel = graph.nodes["5"].weight[co, ci, y // 2 - oy + 1, x // 2 - ox + 1]
    np.testing.assert_array_equal(syn.weight[pick], kernel.astype(np.float64))


def test_cnn_sinabs_runs_and_layer_one_is_an_if_convolution(cnn):
    graph = nir.read(DATA / "cnn_sinabs.nir")
    rng = np.random.default_rng(1)
    steps = 12
    frames = rng.random((steps, 2, 34, 34)) < 0.2
    t, c, y, x = np.nonzero(frames)
    net = with_input(cnn, "input", t, np.ravel_multi_index((c, y, x), (2, 34, 34)))
    record = simulate(net, steps + 5, "float")
    assert set(record.spikes) >= {"1", "3", "6", "10", "12"}
    # numpy: IF with subtract reset on a strided, padded convolution (sliding windows)
    kernel = graph.nodes["0"].weight.astype(np.float64)
    padded = np.pad(frames.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (5, 5), axis=(2, 3))[:, :, ::2, ::2]
    current = np.einsum("tcyxkl,ockl->toyx", windows, kernel).reshape(steps, -1)
    v, spikes = np.zeros(current.shape[1]), []
    for step in range(steps):
        v += current[step]
        fired = v > 1.0
        v[fired] -= 1.0
        spikes.append(np.flatnonzero(fired))
    times, ids = record.spikes["1"]
    for step in range(steps):  # layer 1 integrates the input of step t at step t + 1
        assert ids[times == step + 1].tolist() == spikes[step].tolist()
    assert times.size > 0


def naive_conv2d(x, weight, stride, padding, dilation, groups):
    """Direct loops: out[o, i, j] = sum w[o, c, a, b] x[g c, i s - p + a d, j s - p + b d]."""
    c_out, c_group, k_y, k_x = weight.shape
    c_in, height, width = x.shape
    padded = np.zeros((c_in, height + 2 * padding, width + 2 * padding))
    padded[:, padding:padding + height, padding:padding + width] = x
    h_out = (height + 2 * padding - dilation * (k_y - 1) - 1) // stride + 1
    w_out = (width + 2 * padding - dilation * (k_x - 1) - 1) // stride + 1
    out = np.zeros((c_out, h_out, w_out))
    for o in range(c_out):
        group = o // (c_out // groups)
        for i in range(h_out):
            for j in range(w_out):
                for c in range(c_group):
                    for a in range(k_y):
                        for b in range(k_x):
                            out[o, i, j] += weight[o, c, a, b] * padded[
                                group * c_group + c, i * stride + a * dilation,
                                j * stride + b * dilation]
    return out


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    (1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 1), (3, 1, 1, 2), (2, 0, 2, 4)])
def test_conv2d_matrix_is_a_convolution(stride, padding, dilation, groups):
    rng = np.random.default_rng(stride * 100 + padding * 10 + dilation + groups)
    weight = rng.normal(size=(4, 4 // groups, 3, 2))
    x = rng.normal(size=(4, 9, 8))
    matrix, shape = conv2d_matrix(weight, x.shape, stride, padding, dilation, groups, "conv")
    expected = naive_conv2d(x, weight, stride, padding, dilation, groups)
    assert shape == expected.shape
    np.testing.assert_allclose(matrix @ x.ravel(), expected.ravel(), atol=1e-12)


# ---- files and graphs snnc cannot take: one line, exit 2 -----------------------------------------
def import_cli(tmp_path, name, *options):
    out = tmp_path / "net.yaml"
    return CliRunner().invoke(cli, ["import-nir", str(name), "--dt", "0.0001", *options,
                                    "-o", str(out)]), out


def test_rockpool_file_fails_with_one_line(tmp_path):
    path = DATA / "lif_rockpool.nir"
    result, out = import_cli(tmp_path, path)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"{path}: 1_LIFNeuronTorch: nir.read rejects the file: Type inference error: type "
        "mismatch: 1_LIFNeuronTorch.output: [[1]] -> output.input: [[1 1 1]]"]
    assert not out.exists()


def test_nested_subgraph_file_fails_with_one_line(tmp_path):
    path = DATA / "braille_noDelay_bias_zero_subgraph.nir"
    result, _ = import_cli(tmp_path, path, "--integrator", "euler")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: lif: nir.read rejects the file: ")
    assert "references destination node 'lif'" in lines[0]


def test_import_cli_writes_a_loadable_network_and_prints_the_lag(tmp_path):
    result, out = import_cli(tmp_path, DATA / "two_lif_neurons.nir")
    assert result.exit_code == 0, result.output
    assert "spikes lag one step per hop; 'lif2' lags 2 steps" in result.output
    net = load(out)
    assert [p.size for p in net.populations.values()] == [1, 1, 1]
    assert net.dt == pytest.approx(0.1)


def small_graph(nodes, edges):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def lif(n):
    return nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n),
                   v_threshold=np.ones(n))


@pytest.mark.parametrize("nodes,edges,error,where,message", [
    ({"in": nir.Input(np.array([3])), "w": nir.Linear(np.ones((2, 3))), "a": lif(3)},
     [("in", "w"), ("w", "a")], NetworkError, "a",
     "shape mismatch: 'w' sends 2 values [2], 'a' takes 3"),
    ({"in": nir.Input(np.array([2])), "s": nir.Linear(np.ones((2, 2))), "a": lif(2),
      "o": nir.Output(np.array([2]))},
     [("in", "s"), ("s", "a"), ("s", "o")], UnsupportedOnTarget, "o",
     "an Output must be fed by one neuron node directly"),
    ({"in": nir.Input(np.array([2])), "d": nir.Delay(np.full(2, 1.5e-4)), "a": lif(2)},
     [("in", "d"), ("d", "a")], NetworkError, "d", "not whole numbers of steps"),
    ({"in": nir.Input(np.array([2])), "x": nir.Linear(np.eye(2)), "y": nir.Linear(np.eye(2)),
      "a": lif(2)}, [("in", "x"), ("x", "y"), ("y", "x"), ("y", "a")], UnsupportedOnTarget, "y",
     "a cycle of linear nodes"),
    ({"in": nir.Input(np.array([2])), "w": nir.Affine(np.ones((2, 2, 2)), np.zeros(2)),
      "a": lif(2)}, [("in", "w"), ("w", "a")], NetworkError, "w",
     "weight must be 2-D [out, in], got shape [2, 2, 2]"),
    ({"in": nir.Input(np.array([2, 4, 4])), "a": lif(2),
      "w": nir.Conv2d(None, np.ones((2, 2, 3)), 1, 0, 1, 1, np.zeros(2))},
     [("in", "w"), ("w", "a")], NetworkError, "w", "cannot use its parameters"),
])
def test_graphs_snnc_cannot_express(nodes, edges, error, where, message):
    with pytest.raises(error) as caught:
        from_nir(small_graph(nodes, edges), dt=1e-4)
    assert caught.value.where == where and message in caught.value.message
    assert "\n" not in str(caught.value)


def test_unsupported_node_type_is_named(monkeypatch):
    class Spiky(nir.Threshold):
        pass

    graph = small_graph({"in": nir.Input(np.array([1])), "odd": Spiky(np.ones(1))},
                        [("in", "odd")])
    with pytest.raises(UnsupportedOnTarget) as caught:
        from_nir(graph, dt=1e-4)
    assert caught.value.where == "odd"
    assert caught.value.message.startswith("NIR node type Spiky is not supported by snnc")


def test_euler_with_tau_below_dt_is_refused():
    graph = small_graph({"in": nir.Input(np.array([1])), "a": lif(1)}, [("in", "a")])
    with pytest.raises(NetworkError, match="forward Euler would decay by a negative factor"):
        from_nir(graph, dt=0.02, integrator="euler")
