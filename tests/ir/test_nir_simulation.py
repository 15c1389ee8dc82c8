"""Imported NIR networks on the float reference against plain numpy simulations of NIR's equations.

The numpy models are written from the continuous-time equations (NIR units: I, V, seconds), not
from snnc's IR. The Braille model runs in the framework's own time and is compared one step later
per hop; the built graph's model has snnc's timing rule written in: a NIR edge delivers one step
late, so what a neuron receives at step t is what its presynaptic node emitted at t - 1 (plus k
more steps through a Delay of k dt), and an Affine bias acts from the step the population's
first input arrives (its hops from the Input: here 1 for ``cuba``).
"""

from pathlib import Path

import nir
import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends.reference import simulate
from snnc.backends.spikes import SpikeRecord
from snnc.cli import cli
from snnc.ir import from_nir, spike_times

DATA = Path(__file__).resolve().parents[1] / "data" / "nir"


def with_input(net, population, times, ids):
    """The network with a source population's spikes replaced (what ``snnc run --input`` does)."""
    source = spike_times(np.asarray(times, np.int64), np.asarray(ids, np.int64))
    net.populations[population] = net.populations[population].model_copy(update={"source": source})
    return net


def raster(record, population, steps, size):
    out = np.zeros((steps, size), dtype=bool)
    times, ids = record.spikes[population]
    out[times, ids] = True
    return out


# ---- the Braille RSNN (snnTorch): README equations, forward Euler, in the framework's time ------
def braille_numpy(graph, inputs):
    """The network as snnTorch runs it (``RSynaptic`` then ``Synaptic``), one step per sample:
    ``I += dt/tau_syn (-I + w_in x)``, ``V += dt/tau_mem (v_leak - V + r I)``, spike ``V > v_th``,
    reset to v_reset in the same step. ``x`` is this step's Affine output, biases included from
    step 0: ``fc1 input[t] + w_rec hidden[t - 1]`` (the recurrent spikes of the previous step,
    none before step 0) and ``fc2 hidden[t]``. Only the file's parameters, no snnc."""
    dt = 1e-4  # snnTorch's export assumes it
    fc1, rec, fc2 = graph.nodes["fc1"], graph.nodes["lif1.w_rec"], graph.nodes["fc2"]
    layers = [graph.nodes["lif1.lif"], graph.nodes["lif2"]]
    current = [np.zeros(n.tau_mem.size) for n in layers]
    voltage = [np.zeros(n.tau_mem.size) for n in layers]
    steps = len(inputs)
    spikes = [np.zeros((steps, n.tau_mem.size), dtype=bool) for n in layers]
    previous = np.zeros(layers[0].tau_mem.size)
    for t in range(steps):
        for k, node in enumerate(layers):
            drive = (fc1.weight @ inputs[t] + fc1.bias + rec.weight @ previous + rec.bias if k == 0
                     else fc2.weight @ spikes[0][t] + fc2.bias)
            current[k] += dt / node.tau_syn * (-current[k] + node.w_in * drive)
            voltage[k] += dt / node.tau_mem * (node.v_leak - voltage[k] + node.r * current[k])
            fired = voltage[k] > node.v_threshold
            voltage[k][fired] = node.v_reset[fired]
            spikes[k][t] = fired
        previous = spikes[0][t].astype(np.float64)
    return spikes


def test_braille_matches_the_snntorch_equations_on_every_cell(tmp_path):
    # The whole user path: snnc import-nir, then snnc run on the float reference with --input.
    # One step per hop: the hidden layer runs the framework's step t at t + 1, the output layer
    # at t + 2, and the Affine biases act from those steps (fc2's bias from step 2).
    model = DATA / "braille_noDelay_bias_zero.nir"
    sample = np.load(DATA / "braille_test0_input.npy")
    assert sample.shape == (256, 12) and int(sample.sum()) == 539
    times, ids = np.nonzero(sample)
    np.savez(tmp_path / "sample.npz", times=times, ids=ids)
    runner = CliRunner()
    result = runner.invoke(cli, ["import-nir", str(model), "--dt", "0.0001", "--integrator",
                                 "euler", "--reset", "zero", "-o", str(tmp_path / "braille.yaml")])
    assert result.exit_code == 0, result.output
    assert "'lif2' lags 2 steps" in result.output
    steps = 256 + 2
    result = runner.invoke(cli, ["run", str(tmp_path / "braille.yaml"), "--target", "reference",
                                 "--steps", str(steps), "--input",
                                 f"input={tmp_path / 'sample.npz'}", "-o",
                                 str(tmp_path / "spikes.npz")])
    assert result.exit_code == 0, result.output
    record = SpikeRecord.load(tmp_path / "spikes.npz")
    hidden, output = braille_numpy(nir.read(model), sample.astype(np.float64))
    assert hidden.sum() > 100 and 0 < output.sum() < output.size  # both layers are driven
    for name, expected, lag in (("lif1.lif", hidden, 1), ("lif2", output, 2)):
        got = raster(record, name, steps, expected.shape[1])
        assert not got[:lag].any(), name  # nothing before the population's first step
        mismatch = np.argwhere(got[lag:lag + 256] != expected)
        assert mismatch.size == 0, (f"{name}: {len(mismatch)} of {expected.size} cells differ, "
                                    f"first (step, neuron) {mismatch[0].tolist()}")
    assert output.size == 1792


# ---- a graph built with the nir package: CubaLIF, recurrent Affine through a Delay, LIF out ---
DT = 1e-3
REC_DELAY = np.array([0, 1, 2, 3, 1])  # steps, per recurrent target


def built_graph():
    rng = np.random.default_rng(5)
    n = 5
    nodes = {
        "in": nir.Input(np.array([3])),
        "w_in": nir.Affine(rng.normal(1.2, 0.6, (n, 3)), rng.normal(0.05, 0.05, n)),
        "cuba": nir.CubaLIF(tau_syn=np.full(n, 2e-3), tau_mem=np.linspace(5e-3, 2e-2, n),
                            r=np.full(n, 2.0), v_leak=np.full(n, 0.1), v_threshold=np.ones(n),
                            v_reset=np.full(n, -0.2), w_in=np.full(n, 1.5)),
        "w_rec": nir.Affine(rng.normal(0.0, 0.6, (n, n)), rng.normal(0.0, 0.05, n)),
        "delay": nir.Delay(REC_DELAY * DT),
        "readout": nir.Linear(rng.normal(0.8, 0.4, (2, n))),
        "out_lif": nir.LIF(tau=np.full(2, 1e-2), r=np.ones(2), v_leak=np.zeros(2),
                           v_threshold=np.full(2, 0.3), v_reset=np.zeros(2)),
        "out": nir.Output(np.array([2])),
    }
    edges = [("in", "w_in"), ("w_in", "cuba"), ("cuba", "w_rec"), ("w_rec", "delay"),
             ("delay", "cuba"), ("cuba", "readout"), ("readout", "out_lif"), ("out_lif", "out")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def discrete(tau, integrator):
    """(decay, gain) of ``tau x' = -x + u`` over one step with u held: exact or forward Euler."""
    if integrator == "exact":
        decay = np.exp(-DT / tau)
        return decay, 1.0 - decay
    return 1.0 - DT / tau, DT / tau


def emitted(weight, bias, history, t):
    """What an Affine emits at step t (nothing before step 0)."""
    return weight @ history[t] + bias if t >= 0 else np.zeros(weight.shape[0])


def built_numpy(graph, inputs, steps, integrator, reset, current_order):
    nodes = graph.nodes
    cuba, out = nodes["cuba"], nodes["out_lif"]
    a_s, g_s = discrete(cuba.tau_syn, integrator)
    a_m, g_m = discrete(cuba.tau_mem, integrator)
    a_o, g_o = discrete(out.tau, integrator)
    i_syn, v = np.zeros(5), np.zeros(5)
    v_out = np.zeros(2)
    s = np.zeros((steps, 5))
    s_out = np.zeros((steps, 2), dtype=bool)
    volts = np.zeros((steps, 5))
    for t in range(steps):
        x = emitted(nodes["w_in"].weight, nodes["w_in"].bias, inputs, t - 1)
        for j, k in enumerate(REC_DELAY):
            x[j] += emitted(nodes["w_rec"].weight[j:j + 1], nodes["w_rec"].bias[j:j + 1], s,
                            t - 1 - k)[0]
        x_out = nodes["readout"].weight @ s[t - 1] if t else np.zeros(2)
        old = i_syn.copy()
        i_syn = a_s * i_syn + g_s * cuba.w_in * x
        drive = old if current_order == "previous" else i_syn
        v = cuba.v_leak + a_m * (v - cuba.v_leak) + g_m * cuba.r * drive
        fired = v > cuba.v_threshold
        v = np.where(fired, cuba.v_reset if reset == "zero" else v - cuba.v_threshold, v)
        s[t], volts[t] = fired, v
        v_out = out.v_leak + a_o * (v_out - out.v_leak) + g_o * out.r * x_out
        fired_out = v_out > out.v_threshold
        v_out = np.where(fired_out, out.v_reset if reset == "zero" else v_out - out.v_threshold,
                         v_out)
        s_out[t] = fired_out
    return s.astype(bool), s_out, volts


@pytest.mark.parametrize("integrator", ["exact", "euler"])
@pytest.mark.parametrize("reset", ["zero", "subtract"])
@pytest.mark.parametrize("current_order", ["new", "previous"])
def test_built_cuba_graph_matches_numpy(integrator, reset, current_order):
    steps = 250
    graph = built_graph()
    rng = np.random.default_rng(11)
    inputs = (rng.random((steps, 3)) < 0.15).astype(np.float64)
    net = from_nir(graph, dt=DT, integrator=integrator, reset=reset, current=current_order)
    delays = sorted({int(p.delay) for p in net.projections if p.pre == "cuba" and p.post == "cuba"})
    lag = 1 if current_order == "previous" else 0
    assert delays == sorted({1 + int(k) + lag for k in REC_DELAY})
    times, ids = np.nonzero(inputs)
    record = simulate(with_input(net, "in", times, ids), steps, "float", record_v=["cuba"])
    hidden, output, volts = built_numpy(graph, inputs, steps, integrator, reset, current_order)
    assert 20 < hidden.sum() < steps * 5 // 2 and output.any()
    np.testing.assert_allclose(record.voltages["cuba"], volts, rtol=0, atol=1e-9)
    assert np.array_equal(raster(record, "cuba", steps, 5), hidden)
    assert np.array_equal(raster(record, "out_lif", steps, 2), output)
