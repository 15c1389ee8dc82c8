"""Every NIR node kind snnc imports, on the float reference against numpy; nested graphs inline.

Timing (docs/nir.md): a NIR edge delivers one step late; an Affine bias acts from the step the
population's first input arrives (its number of hops from the Input: 1 for ``lif_c``, 2 for
``thr`` and ``cli``), through the synaptic current where there is one.
"""

from pathlib import Path

import nir
import numpy as np

from snnc.backends.reference import simulate
from snnc.ir import equal, from_nir, spike_times

DATA = Path(__file__).resolve().parents[1] / "data" / "nir"
DT = 1e-3


def test_nested_graph_imports_like_the_flat_one():
    flat = nir.read(DATA / "braille_noDelay_bias_zero.nir")
    n = flat.nodes
    inner = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([38])), "lif": n["lif1.lif"], "w_rec": n["lif1.w_rec"],
               "output": nir.Output(np.array([38]))},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
        type_check=False)
    nested = nir.NIRGraph(
        nodes={"input": n["input"], "fc1": n["fc1"], "lif1": inner, "fc2": n["fc2"],
               "lif2": n["lif2"], "output": n["output"]},
        edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
               ("lif2", "output")], type_check=False)
    options = {"dt": 1e-4, "integrator": "euler", "name": "braille"}
    assert equal(from_nir(nested, **options), from_nir(flat, **options))


def node_graph():
    rng = np.random.default_rng(21)
    nodes = {
        "img": nir.Input(np.array([2, 4, 4])),
        "pool": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                              padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type=np.array([2, 2, 2]), start_dim=0),
        "scale": nir.Scale(rng.uniform(0.5, 1.5, 8)),
        "if": nir.IF(r=np.full(8, 1.5), v_threshold=np.full(8, 0.6), v_reset=np.zeros(8)),
        "to_li": nir.Linear(rng.normal(0.5, 0.5, (3, 8))),
        "li": nir.LI(tau=np.full(3, 5e-3), r=np.full(3, 2.0), v_leak=np.full(3, 0.05)),
        "to_thr": nir.Affine(rng.normal(0.3, 0.4, (3, 8)), rng.normal(0.1, 0.1, 3)),
        "thr": nir.Threshold(np.full(3, 1.0)),
        "to_i": nir.Linear(rng.normal(0.2, 0.3, (2, 8))),
        "integ": nir.I(r=np.full(2, 0.7)),
        "to_cli": nir.Affine(rng.normal(0.5, 0.4, (2, 8)), np.array([0.3, -0.2])),
        "cli": nir.CubaLI(tau_syn=np.full(2, 2e-3), tau_mem=np.full(2, 8e-3), r=np.full(2, 1.3),
                          v_leak=np.zeros(2), w_in=np.full(2, 0.9)),
        "seq": nir.Input(np.array([1, 6])),
        "conv": nir.Conv1d(input_shape=6, weight=rng.normal(0.4, 0.3, (2, 1, 3)), stride=1,
                           padding=1, dilation=1, groups=1, bias=np.array([0.05, -0.02])),
        "lif_c": nir.LIF(tau=np.full(12, 4e-3), r=np.ones(12), v_leak=np.zeros(12),
                         v_threshold=np.full(12, 0.3), v_reset=np.zeros(12)),
        "out": nir.Output(np.array([3])),
    }
    edges = [("img", "pool"), ("pool", "flat"), ("flat", "scale"), ("scale", "if"),
             ("if", "to_li"), ("to_li", "li"), ("if", "to_thr"), ("to_thr", "thr"),
             ("thr", "out"), ("if", "to_i"), ("to_i", "integ"), ("if", "to_cli"),
             ("to_cli", "cli"), ("seq", "conv"), ("conv", "lif_c")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def nodes_numpy(g, img, seq, steps):
    """The exact integrator, reset to zero, written from NIR's equations node by node."""
    n = g.nodes
    decay = {k: np.exp(-DT / t) for k, t in (("li", n["li"].tau), ("cli_s", n["cli"].tau_syn),
                                            ("cli_m", n["cli"].tau_mem), ("lif_c", n["lif_c"].tau))}
    pooled = img.reshape(steps, 2, 2, 2, 2, 2).mean(axis=(3, 5)).reshape(steps, 8)
    padded = np.pad(seq, ((0, 0), (1, 1)))
    conv = np.stack([sum(n["conv"].weight[o, 0, k] * padded[:, k:k + 6] for k in range(3))
                     for o in range(2)], axis=1).reshape(steps, 12)
    conv += np.repeat(n["conv"].bias, 6)
    v = {k: np.zeros(size) for k, size in (("if", 8), ("li", 3), ("integ", 2), ("cli", 2),
                                           ("lif_c", 12))}
    i_cli = np.zeros(2)
    out = {k: np.zeros((steps, size)) for k, size in (("if", 8), ("thr", 3), ("lif_c", 12),
                                                      ("li", 3), ("integ", 2), ("cli", 2))}
    for t in range(steps):
        s_if = out["if"][t - 1] if t else np.zeros(8)
        x_if = n["scale"].scale * pooled[t - 1] if t else np.zeros(8)
        v["if"] += n["if"].r * x_if
        out["if"][t] = v["if"] > n["if"].v_threshold
        v["if"][out["if"][t] > 0] = 0.0
        a = decay["li"]
        v["li"] = n["li"].v_leak + a * (v["li"] - n["li"].v_leak) + (1 - a) * n["li"].r * (
            n["to_li"].weight @ s_if)
        out["thr"][t] = n["to_thr"].weight @ s_if + (n["to_thr"].bias if t >= 2 else 0.0) > (
            n["thr"].threshold)
        v["integ"] += n["integ"].r * (n["to_i"].weight @ s_if)
        x_cli = n["to_cli"].weight @ s_if + (n["to_cli"].bias if t >= 2 else 0.0)
        a_s, a_m = decay["cli_s"], decay["cli_m"]
        i_cli = a_s * i_cli + (1 - a_s) * n["cli"].w_in * x_cli
        v["cli"] = a_m * v["cli"] + (1 - a_m) * n["cli"].r * i_cli
        x_c = conv[t - 1] if t else np.zeros(12)
        a = decay["lif_c"]
        v["lif_c"] = a * v["lif_c"] + (1 - a) * x_c
        out["lif_c"][t] = v["lif_c"] > n["lif_c"].v_threshold
        v["lif_c"][out["lif_c"][t] > 0] = 0.0
        for k in ("li", "integ", "cli"):
            out[k][t] = v[k]
    return out


def test_every_node_kind_matches_numpy():
    steps = 120
    graph = node_graph()
    rng = np.random.default_rng(4)
    img = (rng.random((steps, 2, 4, 4)) < 0.3).astype(np.float64)
    seq = (rng.random((steps, 6)) < 0.3).astype(np.float64)
    net = from_nir(graph, dt=DT)
    assert {p.name: p.kind for p in net.populations.values()} == {
        "img": "spike_times", "seq": "spike_times", "if": "lif", "lif_c": "lif", "cli": "li",
        "integ": "li", "li": "li", "thr": "lif", "bias": "poisson"}
    assert net.metadata["nir"]["outputs"] == ["thr"]
    for name, data in (("img", img.reshape(steps, -1)), ("seq", seq)):
        times, ids = np.nonzero(data)
        net.populations[name] = net.populations[name].model_copy(
            update={"source": spike_times(times, ids)})
    record = simulate(net, steps, "float", record_v=["li", "integ", "cli"])
    expected = nodes_numpy(graph, img, seq, steps)
    for name, size in (("if", 8), ("thr", 3), ("lif_c", 12)):
        got = np.zeros((steps, size), dtype=bool)
        times, ids = record.spikes[name]
        got[times, ids] = True
        assert 0 < got.sum() < got.size, name
        assert np.array_equal(got, expected[name] > 0), name
    for name in ("li", "integ", "cli"):
        np.testing.assert_allclose(record.voltages[name], expected[name], rtol=0, atol=1e-9)
