"""One tiny NIR graph per node kind, checked against numbers worked out by hand.

Each graph is small enough that the synapse table and the voltages can be written down from NIR's
definition of the node and snnc's one timing rule (a NIR edge delivers one step late: a spike of
step t reaches the next neuron node at t + 1; an Affine bias acts from the step the population's
first input arrives, step 1 behind an Input). The IF/I readouts below keep their
threshold out of reach, so their voltage is the running sum of what they received.
"""

import math

import nir
import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import expand, from_nir, spike_times
from snnc.ir.errors import UnsupportedOnTarget

DT = 1e-3
NEVER = 1e9  # a threshold no voltage here reaches


def graph(nodes, edges):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def if_node(n, r=1.0, v_th=NEVER):
    return nir.IF(r=np.full(n, r), v_threshold=np.full(n, v_th), v_reset=np.zeros(n))


def run(net, inputs, steps, record_v=(), source="in"):
    """Simulate on the float reference with ``inputs`` = [(step, id), ...] on ``source``."""
    times, ids = (np.array(column, dtype=np.int64) for column in zip(*inputs))
    net.populations[source] = net.populations[source].model_copy(
        update={"source": spike_times(times, ids)})
    return simulate(net, steps, "float", record_v=list(record_v))


def table(net, projection):
    """{(pre, post): weight} of one projection, from its expanded synapses."""
    syn = expand(net, projection)
    return {(int(a), int(b)): float(w) for a, b, w in zip(syn.pre, syn.post, syn.weight)}


def bias_delivery(net, population):
    """{(neuron, delay): weight} of the bias source's projections into ``population``."""
    found = {}
    for projection in net.projections:
        if projection.pre == net.metadata["nir"]["bias_source"] and projection.post == population:
            syn = expand(net, projection)
            found.update({(int(b), int(d)): float(w)
                          for b, d, w in zip(syn.post, syn.delay, syn.weight)})
    return found


def the_projection(net):
    """The one projection that carries spikes (the bias source's aside)."""
    (projection,) = [p for p in net.projections if p.pre != net.metadata["nir"]["bias_source"]]
    return projection


# ---- SumPool2d / AvgPool2d -----------------------------------------------------------------------
def test_sum_pool_reads_each_2x2_block_and_sums_it():
    # [1, 4, 4] image, kernel 2, stride 2: output (oy, ox) reads pixels (2 oy + a, 2 ox + b).
    net = from_nir(graph({"in": nir.Input(np.array([1, 4, 4])),
                          "pool": nir.SumPool2d(np.array([2, 2]), np.array([2, 2]),
                                                np.array([0, 0])),
                          "if": if_node(4)},
                         [("in", "pool"), ("pool", "if")]), dt=DT)
    assert net.populations["if"].size == 4
    blocks = {0: [0, 1, 4, 5], 1: [2, 3, 6, 7], 2: [8, 9, 12, 13], 3: [10, 11, 14, 15]}
    assert table(net, the_projection(net)) == {(pre, post): 1.0 for post, pres in blocks.items()
                                               for pre in pres}
    # step 0: pixels 0, 5 (block 0) and 6 (block 1); step 2: pixels 3 (block 1), 10, 15 (block 3)
    record = run(net, [(0, 0), (0, 5), (0, 6), (2, 3), (2, 10), (2, 15)], 5, ["if"])
    np.testing.assert_array_equal(record.voltages["if"], [[0, 0, 0, 0], [2, 1, 0, 0],
                                                          [2, 1, 0, 0], [2, 2, 0, 2],
                                                          [2, 2, 0, 2]])


def test_avg_pool_with_padding_divides_by_the_kernel_area():
    # [1, 3, 3], kernel 2, stride 2, padding 1: output rows read input rows {-1, 0} and {1, 2};
    # padded taps count in the divisor (PyTorch's count_include_pad): every weight is 1/4.
    net = from_nir(graph({"in": nir.Input(np.array([1, 3, 3])),
                          "pool": nir.AvgPool2d(np.array([2, 2]), np.array([2, 2]),
                                                np.array([1, 1])),
                          "if": if_node(4)},
                         [("in", "pool"), ("pool", "if")]), dt=DT)
    reads = {0: [0], 1: [1, 2], 2: [3, 6], 3: [4, 5, 7, 8]}
    assert table(net, the_projection(net)) == {(pre, post): 0.25 for post, pres in reads.items()
                                               for pre in pres}
    record = run(net, [(0, 0), (0, 4), (0, 8), (1, 2)], 3, ["if"])
    np.testing.assert_array_equal(record.voltages["if"], [[0, 0, 0, 0], [0.25, 0, 0, 0.5],
                                                          [0.25, 0.25, 0, 0.5]])


# ---- Conv1d --------------------------------------------------------------------------------------
def test_conv1d_with_stride_padding_and_bias():
    # weight [1, 2, 3] on length 4, stride 2, padding 1: output 0 reads positions -1, 0, 1 and
    # output 1 reads 1, 2, 3; the bias 0.5 acts from step 1, like the input (one hop).
    conv = nir.Conv1d(input_shape=4, weight=np.array([[[1.0, 2.0, 3.0]]]), stride=2, padding=1,
                      dilation=1, groups=1, bias=np.array([0.5]))
    net = from_nir(graph({"in": nir.Input(np.array([1, 4])), "conv": conv, "if": if_node(2)},
                         [("in", "conv"), ("conv", "if")]), dt=DT)
    assert table(net, the_projection(net)) == {(0, 0): 2.0, (1, 0): 3.0, (1, 1): 1.0,
                                               (2, 1): 2.0, (3, 1): 3.0}
    assert bias_delivery(net, "if") == {(0, 1): 0.5, (1, 1): 0.5}
    record = run(net, [(0, 1), (1, 3)], 4, ["if"])
    # v[t] = 0.5 t + what arrived: pixel 1 at step 1 (3, 1), pixel 3 at step 2 (0, 3)
    np.testing.assert_array_equal(record.voltages["if"], [[0.0, 0.0], [3.5, 1.5], [4.0, 5.0],
                                                          [4.5, 5.5]])


# ---- Scale + IF, both resets ---------------------------------------------------------------------
@pytest.mark.parametrize("reset,spikes,final", [
    ("zero", {0: [2, 4], 1: [2, 4]}, [0.0, 0.0]),
    # subtract: channel 0 0.6, 1.2 -> 0.2, 0.8, 1.4 -> 0.4; channel 1 0.7, 1.4 -> 0.4, 1.1 -> 0.1,
    # 0.8
    ("subtract", {0: [2, 4], 1: [2, 3]}, [0.4, 0.8]),
])
def test_scale_into_if_counts_input_per_step_and_resets(reset, spikes, final):
    # Scale [0.6, 1.4] then IF r = [1, 0.5], threshold 1: each input spike adds r * scale =
    # 0.6 and 0.7 (no dt: IF integrates v += r x per step, as Sinabs and snnTorch do).
    nodes = {"in": nir.Input(np.array([2])), "scale": nir.Scale(np.array([0.6, 1.4])),
             "if": nir.IF(r=np.array([1.0, 0.5]), v_threshold=np.ones(2), v_reset=np.zeros(2))}
    net = from_nir(graph(nodes, [("in", "scale"), ("scale", "if")]), dt=DT, reset=reset)
    assert table(net, the_projection(net)) == pytest.approx({(0, 0): 0.6, (1, 1): 0.7})
    record = run(net, [(t, k) for t in range(4) for k in range(2)], 6, ["if"])
    times, ids = record.spikes["if"]
    assert {k: times[ids == k].tolist() for k in range(2)} == spikes
    np.testing.assert_allclose(record.voltages["if"][-1], final, atol=1e-12)


# ---- Integrator (nir.I) --------------------------------------------------------------------------
def test_integrator_sums_r_times_its_input_and_never_spikes():
    nodes = {"in": nir.Input(np.array([2])), "w": nir.Linear(np.array([[2.0, -1.0]])),
             "integ": nir.I(r=np.array([0.5]))}
    net = from_nir(graph(nodes, [("in", "w"), ("w", "integ")]), dt=DT, integrator="euler")
    assert net.populations["integ"].kind == "li"
    record = run(net, [(0, 0), (1, 1), (2, 0), (2, 1)], 5, ["integ"])
    # steps 1..3 receive 0.5 * (2, -1, 2 - 1): 1, 0.5, 1.0, then nothing more
    np.testing.assert_array_equal(record.voltages["integ"][:, 0], [0, 1.0, 0.5, 1.0, 1.0])
    assert record.spikes.get("integ", (np.zeros(0),))[0].size == 0


# ---- Threshold -----------------------------------------------------------------------------------
@pytest.mark.parametrize("integrator,reset", [("exact", "zero"), ("euler", "subtract")])
def test_threshold_is_stateless_and_fires_on_this_steps_input(integrator, reset):
    # Affine [[1, 1]] bias -0.5, threshold 0.9: both inputs (1.5) fire, one (0.5) does not, and
    # nothing carries over between steps, whatever the integrator or reset chosen.
    nodes = {"in": nir.Input(np.array([2])),
             "w": nir.Affine(np.array([[1.0, 1.0]]), np.array([-0.5])),
             "thr": nir.Threshold(np.array([0.9])), "out": nir.Output(np.array([1]))}
    net = from_nir(graph(nodes, [("in", "w"), ("w", "thr"), ("thr", "out")]), dt=DT,
                   integrator=integrator, reset=reset)
    record = run(net, [(2, 0), (2, 1), (4, 0), (5, 1), (6, 0), (6, 1)], 9, ["thr"])
    assert record.spikes["thr"][0].tolist() == [3, 7]
    # the bias acts from step 1 (one hop), like the input
    np.testing.assert_array_equal(record.voltages["thr"][:, 0],
                                  [0.0, -0.5, -0.5, 0.0, -0.5, 0.5, 0.5, 0.0, -0.5])


# ---- LI / CubaLI readouts ------------------------------------------------------------------------
def test_li_readout_is_the_closed_form_exponential():
    # exact: v - v_leak decays by a = e^(-dt/tau) per step from v(-1) = 0, and a spike of step 0
    # adds (1 - a) r w at step 1:  v[t] = v_leak (1 - a^(t+1)) + (1 - a) r w a^(t-1)  (t >= 1)
    tau, r, w, v_leak = 2e-3, 3.0, 0.8, 0.1
    nodes = {"in": nir.Input(np.array([1])), "w": nir.Linear(np.array([[w]])),
             "li": nir.LI(tau=np.array([tau]), r=np.array([r]), v_leak=np.array([v_leak]))}
    net = from_nir(graph(nodes, [("in", "w"), ("w", "li")]), dt=DT)
    record = run(net, [(0, 0)], 8, ["li"])
    a = math.exp(-DT / tau)
    expected = [v_leak * (1 - a ** (t + 1)) + ((1 - a) * r * w * a ** (t - 1) if t else 0.0)
                for t in range(8)]
    np.testing.assert_allclose(record.voltages["li"][:, 0], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("current,expected", [
    # forward Euler, dt/tau_syn = 0.5, dt/tau_mem = 0.25, w_in 1.5, r 2, one spike at step 0:
    # I1 = 0.5 * 1.5 = 0.75, V1 = 0.25 * 2 * 0.75 = 0.375; I2 = 0.375, V2 = 0.375 + 0.25 *
    # (-0.375 + 0.75) = 0.46875; I3 = 0.1875, V3 = 0.46875 + 0.25 * (-0.46875 + 0.375)
    ("new", [0.0, 0.375, 0.46875, 0.4453125]),
    # Norse's order: V integrates the current from before this step's input, one step later
    ("previous", [0.0, 0.0, 0.375, 0.46875]),
])
def test_cuba_li_readout_follows_the_euler_equations(current, expected):
    nodes = {"in": nir.Input(np.array([1])), "w": nir.Linear(np.array([[1.0]])),
             "cli": nir.CubaLI(tau_syn=np.array([2e-3]), tau_mem=np.array([4e-3]),
                               r=np.array([2.0]), v_leak=np.array([0.0]), w_in=np.array([1.5]))}
    net = from_nir(graph(nodes, [("in", "w"), ("w", "cli")]), dt=DT, integrator="euler",
                   current=current)
    assert net.populations["cli"].kind == "li"
    record = run(net, [(0, 0)], 4, ["cli"])
    np.testing.assert_allclose(record.voltages["cli"][:, 0], expected, rtol=0, atol=1e-15)


# ---- Affine chains, Flatten, Delay ---------------------------------------------------------------
def test_an_affine_chain_folds_into_one_projection_and_one_bias():
    # W2 W1 = [[1, -1]] [[1, 2], [1, 1]] = [[0, 1]] (the zero is no synapse);
    # bias W2 b1 + b2 = (0.5 - (-1)) + 0.25 = 1.75
    nodes = {"in": nir.Input(np.array([2])),
             "a1": nir.Affine(np.array([[1.0, 2.0], [1.0, 1.0]]), np.array([0.5, -1.0])),
             "a2": nir.Affine(np.array([[1.0, -1.0]]), np.array([0.25])), "if": if_node(1)}
    net = from_nir(graph(nodes, [("in", "a1"), ("a1", "a2"), ("a2", "if")]), dt=DT)
    assert table(net, the_projection(net)) == {(1, 0): 1.0}
    assert bias_delivery(net, "if") == {(0, 1): 1.75}
    record = run(net, [(0, 0), (1, 1)], 3, ["if"])
    np.testing.assert_array_equal(record.voltages["if"][:, 0], [0.0, 1.75, 4.5])


def test_flatten_keeps_c_order_and_delay_adds_whole_steps():
    # [2, 1, 2] flattened in C order is (c, x) -> 2 c + x; Delay [0, 0, 2 dt, 3 dt] then costs 0,
    # 0, 2 and 3 more steps than the hop.
    nodes = {"in": nir.Input(np.array([2, 1, 2])),
             "flat": nir.Flatten(input_type={"input": np.array([2, 1, 2])}, start_dim=0),
             "delay": nir.Delay(np.array([0.0, 0.0, 2 * DT, 3 * DT])), "if": if_node(4)}
    net = from_nir(graph(nodes, [("in", "flat"), ("flat", "delay"), ("delay", "if")]), dt=DT)
    delays = {}
    for projection in net.projections:
        syn = expand(net, projection)
        for pre, post, d in zip(syn.pre, syn.post, syn.delay):
            delays[int(pre), int(post)] = int(d)
    assert delays == {(0, 0): 1, (1, 1): 1, (2, 2): 3, (3, 3): 4}
    record = run(net, [(0, k) for k in range(4)], 5, ["if"])
    np.testing.assert_array_equal(record.voltages["if"], [[0, 0, 0, 0], [1, 1, 0, 0],
                                                          [1, 1, 0, 0], [1, 1, 1, 0],
                                                          [1, 1, 1, 1]])


# ---- nested graphs -------------------------------------------------------------------------------
def test_doubly_nested_graph_is_inlined_with_dotted_names():
    inner = graph({"input": nir.Input(np.array([2])), "w": nir.Linear(np.array([[1.0, 0.5]])),
                   "if": if_node(1, v_th=1.2), "output": nir.Output(np.array([1]))},
                  [("input", "w"), ("w", "if"), ("if", "output")])
    middle = graph({"input": nir.Input(np.array([2])), "b": inner,
                    "output": nir.Output(np.array([1]))},
                   [("input", "b"), ("b", "output")])
    outer = graph({"in": nir.Input(np.array([2])), "a": middle, "out": nir.Output(np.array([1]))},
                  [("in", "a"), ("a", "out")])
    net = from_nir(outer, dt=DT)
    assert sorted(net.populations) == ["a.b.if", "in"]
    assert net.metadata["nir"]["outputs"] == ["a.b.if"]
    record = run(net, [(0, 0), (1, 1), (2, 1)], 4, ["a.b.if"])
    # receives 1 at step 1 and 0.5 at steps 2, 3: 1, 1.5 > 1.2 fires and resets, 0.5
    assert record.spikes["a.b.if"][0].tolist() == [2]
    np.testing.assert_array_equal(record.voltages["a.b.if"][:, 0], [0, 1.0, 0.0, 0.5])


def test_nested_graph_without_a_single_input_is_refused():
    inner = graph({"w": nir.Linear(np.eye(1)), "output": nir.Output(np.array([1]))},
                  [("w", "output")])
    outer = graph({"in": nir.Input(np.array([1])), "sub": inner, "if": if_node(1)},
                  [("in", "sub"), ("sub", "if")])
    with pytest.raises(UnsupportedOnTarget) as caught:
        from_nir(outer, dt=DT)
    assert caught.value.where == "sub"
    assert caught.value.message == "a nested graph needs exactly one Input node, found 0"
