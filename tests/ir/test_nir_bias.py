"""When an Affine bias first acts, worked out by hand on tiny graphs (docs/nir.md, "Biases").

The one-step-per-hop rule: a population ``h`` hops from the Input runs the framework's step ``t``
at step ``h + t``. A framework adds an Affine's bias from its step 0 on, so in snnc the bias acts
from step ``h`` (``h + k`` behind a Delay of ``k dt``), never earlier: before that step the
population has received nothing, and its voltage is exactly 0.
"""

import nir
import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import equal, expand, from_nir, spike_times, to_nir

DT = 1e-3
NEVER = 1e9  # a threshold no voltage here reaches


def graph(nodes, edges):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def lif(n, v_th=NEVER):
    # forward Euler with dt / tau = 0.5 and r = 2: v[t] = 0.5 v[t-1] + x[t] (input gain 1)
    return nir.LIF(tau=np.full(n, 2 * DT), r=np.full(n, 2.0), v_leak=np.zeros(n),
                   v_threshold=np.full(n, v_th), v_reset=np.zeros(n))


def run(net, steps, record_v, inputs=()):
    times, ids = (np.array(c, dtype=np.int64).reshape(-1) for c in (zip(*inputs) if inputs
                                                                       else ([], [])))
    net.populations["in"] = net.populations["in"].model_copy(
        update={"source": spike_times(times, ids)})
    return simulate(net, steps, "float", record_v=list(record_v))


def bias_delays(net, population):
    """The delays of the bias source's synapses into ``population``."""
    source = net.metadata["nir"]["bias_source"]
    return sorted({int(d) for p in net.projections if p.pre == source and p.post == population
                   for d in expand(net, p).delay})


def test_affine_bias_into_a_lif_acts_from_step_1_like_the_input():
    # In -> Affine(w 1, b 0.25) -> LIF: v[t] = 0.5 v[t-1] + 0.25 from step 1 on, plus 1 at step 3
    # for the input spike of step 2.
    nodes = {"in": nir.Input(np.array([1])), "w": nir.Affine(np.array([[1.0]]), np.array([0.25])),
             "lif": lif(1)}
    net = from_nir(graph(nodes, [("in", "w"), ("w", "lif")]), dt=DT, integrator="euler")
    assert net.populations["lif"].neuron.bias == 0.0  # not a neuron bias: that acts from step 0
    assert bias_delays(net, "lif") == [1]
    record = run(net, 6, ["lif"], [(2, 0)])
    np.testing.assert_array_equal(record.voltages["lif"][:, 0],
                                  [0.0, 0.25, 0.375, 1.4375, 0.96875, 0.734375])


def test_a_bias_two_hops_from_the_input_acts_from_step_2():
    # In -> Linear -> LIF -> Affine(b) -> LIF: the second layer's step 0 is snnc's step 2 (the
    # Braille output layer's case, which acted one step early before).
    nodes = {"in": nir.Input(np.array([1])), "w1": nir.Linear(np.array([[1.0]])), "a": lif(1),
             "w2": nir.Affine(np.array([[1.0]]), np.array([0.5])), "b": lif(1)}
    net = from_nir(graph(nodes, [("in", "w1"), ("w1", "a"), ("a", "w2"), ("w2", "b")]), dt=DT,
                   integrator="euler")
    assert bias_delays(net, "b") == [2]
    record = run(net, 5, ["a", "b"])
    np.testing.assert_array_equal(record.voltages["b"][:, 0], [0.0, 0.0, 0.5, 0.75, 0.875])
    assert not record.voltages["a"].any()


def test_a_bias_through_a_delay_acts_k_steps_later_into_an_if():
    # In -> Affine(b 0.5) -> Delay(2 dt) -> IF: v += r x per step, r 2: 1.0 per step from 1 + 2.
    nodes = {"in": nir.Input(np.array([1])), "w": nir.Affine(np.array([[1.0]]), np.array([0.5])),
             "delay": nir.Delay(np.array([2 * DT])),
             "if": nir.IF(r=np.array([2.0]), v_threshold=np.array([NEVER]), v_reset=np.zeros(1)),
             "out": nir.Output(np.array([1]))}
    net = from_nir(graph(nodes, [("in", "w"), ("w", "delay"), ("delay", "if"), ("if", "out")]),
                   dt=DT)
    assert bias_delays(net, "if") == [3]
    record = run(net, 6, ["if"])
    np.testing.assert_array_equal(record.voltages["if"][:, 0], [0, 0, 0, 1.0, 2.0, 3.0])
    # and it exports as the same Affine before the Delay
    assert equal(net, from_nir(to_nir(net), dt=DT, name=net.name))


@pytest.mark.parametrize("current,expected", [
    # Euler, dt/tau_syn = 0.5, dt/tau_mem = 0.25, w_in 1, r 2, bias 1 from step 1:
    # I1 = 0.5, V1 = 0.25 * 2 * 0.5 = 0.25; I2 = 0.75, V2 = 0.25 + 0.25 (-0.25 + 1.5) = 0.5625
    ("new", [0.0, 0.25, 0.5625]),
    # Norse's order: V integrates the current of the step before: one step later
    ("previous", [0.0, 0.0, 0.25]),
])
def test_a_bias_into_a_cuba_lif_rises_through_the_current_from_step_1(current, expected):
    nodes = {"in": nir.Input(np.array([1])), "w": nir.Affine(np.array([[1.0]]), np.array([1.0])),
             "cuba": nir.CubaLIF(tau_syn=np.array([2 * DT]), tau_mem=np.array([4 * DT]),
                                 r=np.array([2.0]), v_leak=np.zeros(1),
                                 v_threshold=np.array([NEVER]), v_reset=np.zeros(1),
                                 w_in=np.ones(1))}
    net = from_nir(graph(nodes, [("in", "w"), ("w", "cuba")]), dt=DT, integrator="euler",
                   current=current)
    assert bias_delays(net, "cuba") == [1 if current == "new" else 2]
    record = run(net, 3, ["cuba"])
    np.testing.assert_allclose(record.voltages["cuba"][:, 0], expected, rtol=0, atol=1e-15)
