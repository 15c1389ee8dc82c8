"""The ``ltc`` model (models/ltc.py): its update against a plain numpy loop of the fused step, the
committed torch fixture (examples/ltc), graded output into a later layer, and the chips' refusal.

The numpy loop below is written from the equations of ``LTC``'s docstring (Hasani et al. 2021's
fused semi-implicit step), not from the kernel: every cell's sigmoid of one unfold reads the
previous unfold's state of all cells.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.compiler import compile_network
from snnc.ir import Network, UnsupportedOnTarget, all_to_all, load, save, spike_times
from snnc.models import REGISTRY
from snnc.models.li import LI
from snnc.models.ltc import LTC, X
from snnc.models.support import check_network

FIXTURE = Path(__file__).resolve().parents[2] / "examples" / "ltc" / "ltc_trained.npz"
SPLIT_HINT = ("NaN: the reference engine split the ltc population between its two parallel parts "
              "(docs/neuron-models/ltc.md, Limits)")


def fused_steps(inputs, tau, a, bias, w_rec, unfolds, dt, x0):
    """x[t] for every step: ``unfolds`` times f = sigmoid(x @ W + I[t] + bias),
    x = (x + dt_u f a) / (1 + dt_u (1/tau + f)), with dt_u = dt / unfolds."""
    dt_u = dt / unfolds
    x = np.array(x0, dtype=np.float64)
    out = []
    for current in inputs:
        for _ in range(unfolds):
            f = 1.0 / (1.0 + np.exp(-(x @ w_rec + current + bias)))
            x = (x + dt_u * f * a) / (1.0 + dt_u * (1.0 / tau + f))
        out.append(x)
    return np.array(out)


def _random_cell(rng, n, unfolds=5):
    return dict(tau=rng.uniform(0.5, 5.0, n), a=rng.normal(0.0, 1.0, n),
                bias=rng.normal(0.0, 0.5, n), w_rec=rng.normal(0.0, 0.8, (n, n)),
                unfolds=unfolds, x0=rng.normal(0.0, 0.3, n))


def _neuron(cell) -> LTC:
    return LTC(tau=cell["tau"], a=cell["a"], bias=cell["bias"], w_rec=cell["w_rec"],
               ode_unfolds=cell["unfolds"], x_init=cell["x0"])


def test_update_equals_the_fused_step_in_numpy():
    """(1) The float kernel, called as the engine calls it (two populations of one size share
    one table), against the numpy loop, on random parameters and inputs."""
    rng = np.random.default_rng(11)
    n, steps, dt = 4, 25, 0.7
    cells = [_random_cell(rng, n, unfolds=5), _random_cell(rng, n, unfolds=3)]
    step = REGISTRY.get("ltc").steps["float"]
    tables = [step.tables(_neuron(c), n, dt) for c in cells]
    params = np.ascontiguousarray(np.concatenate([t[0] for t in tables], axis=1))
    state = np.ascontiguousarray(np.concatenate([t[1] for t in tables], axis=1))
    inputs = rng.normal(0.0, 1.5, (steps, 2 * n))
    out_ids = np.zeros(2 * n, np.int32)
    got = np.zeros((steps, 2 * n))
    for t in range(steps):
        assert step.update(inputs[t], params, state, 0, 2 * n, out_ids, 0, 0) == 0  # no spikes
        got[t] = state[X]
    for k, c in enumerate(cells):
        cols = slice(k * n, (k + 1) * n)
        expected = fused_steps(inputs[:, cols], c["tau"], c["a"], c["bias"], c["w_rec"],
                               c["unfolds"], dt, c["x0"])
        np.testing.assert_allclose(got[:, cols], expected, rtol=0, atol=1e-12)
    assert np.ptp(got) > 0.5  # the cells move


def test_a_population_cut_between_parts_is_nan_never_wrong_numbers():
    """The kernel given part of a population (lo/hi inside it) cannot solve it: those cells are
    NaN, and a population wholly inside lo..hi is still solved exactly."""
    rng = np.random.default_rng(3)
    n = 3
    cells = [_random_cell(rng, n), _random_cell(rng, n)]
    step = REGISTRY.get("ltc").steps["float"]
    tables = [step.tables(_neuron(c), n, 1.0) for c in cells]
    params = np.ascontiguousarray(np.concatenate([t[0] for t in tables], axis=1))
    state = np.ascontiguousarray(np.concatenate([t[1] for t in tables], axis=1))
    inputs = rng.normal(0.0, 1.0, 2 * n)
    step.update(inputs, params, state, 0, n + 1, np.zeros(2 * n, np.int32), 0, 0)
    c = cells[0]
    expected = fused_steps(inputs[None, :n], c["tau"], c["a"], c["bias"], c["w_rec"],
                           c["unfolds"], 1.0, c["x0"])[0]
    np.testing.assert_allclose(state[X, :n], expected, rtol=0, atol=1e-12)
    assert np.isnan(state[X, n])  # the first cell of the cut population
    np.testing.assert_array_equal(state[X, n + 1:], cells[1]["x0"][1:])  # the other part's: untouched


def _fixture() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as data:
        return {key: data[key] for key in data.files}


def test_reference_reproduces_the_torch_fixture():
    """(2) snnc's float reference on the trained network equals torch's recorded float64 outputs
    (examples/ltc/train_ltc.py wrote them) to 1e-5: every cell's state and the readout."""
    fx = _fixture()
    steps, inputs = fx["inputs"].shape
    received_t, channel = np.nonzero(fx["inputs"])
    net = Network("ltc_fixture", dt=float(fx["dt"]))
    net.source("spikes", inputs, spike_times(times=received_t - 1, ids=channel))
    net.population("cells", fx["w_rec"].shape[0],
                   LTC(tau=fx["tau"], a=fx["a"], bias=fx["bias"], w_rec=fx["w_rec"],
                       ode_unfolds=int(fx["ode_unfolds"])))
    net.connect("spikes", "cells", all_to_all(), weight=fx["w_in"].reshape(-1))
    net.population("readout", 1, LI(tau_mem=float(fx["dt"]), integrator="euler",
                                    bias=float(fx["b_out"])))
    net.connect("cells", "readout", all_to_all(), weight=fx["w_out"])
    record = simulate(net, steps + 1, "float", record_v=["cells", "readout"])
    x, y = record.voltages["cells"][:steps], record.voltages["readout"][1:, 0]
    assert not np.isnan(x).any(), SPLIT_HINT
    assert np.max(np.abs(x - fx["x"])) <= 1e-5
    assert np.max(np.abs(y - fx["y"])) <= 1e-5
    assert np.ptp(fx["y"]) > 1.0  # the fixture's readout follows the sine, not a constant


def test_graded_output_reaches_later_layers_one_step_per_hop():
    """(3) The cells' value x[t], sent every step, adds w * x[t - d] to a later layer at t + d:
    memoryless li readouts (v[t] = input[t]) at delays 1 and 3 show the numpy loop's x."""
    rng = np.random.default_rng(5)
    n, steps = 3, 30
    cell = _random_cell(rng, n, unfolds=4)
    times = np.arange(0, steps, 2)
    ids = rng.integers(0, 2, times.size)
    w_in = rng.normal(0.0, 1.0, (2, n))
    w_out = rng.normal(0.0, 1.0, n)
    net = Network("ltc_graded", dt=1.0)
    net.source("spikes", 2, spike_times(times=times, ids=ids))
    net.population("cells", n, _neuron(cell))
    net.connect("spikes", "cells", all_to_all(), weight=w_in.reshape(-1))
    for name, delay in (("near", 1), ("far", 3)):
        net.population(name, 1, LI(tau_mem=1.0, integrator="euler"))
        net.connect("cells", name, all_to_all(), weight=w_out, delay=delay)
    record = simulate(net, steps, "float", record_v=["cells", "near", "far"])
    received = np.zeros((steps, 2))
    for t, i in zip(times, ids):
        if t + 1 < steps:
            received[t + 1, i] += 1.0  # a spike sent at t arrives at t + 1
    x = fused_steps(received @ w_in, cell["tau"], cell["a"], cell["bias"], cell["w_rec"],
                    cell["unfolds"], 1.0, cell["x0"])
    assert not np.isnan(record.voltages["cells"]).any(), SPLIT_HINT
    np.testing.assert_allclose(record.voltages["cells"], x, rtol=0, atol=1e-12)
    for name, delay in (("near", 1), ("far", 3)):
        expected = np.zeros(steps)
        expected[delay:] = x[:steps - delay] @ w_out
        np.testing.assert_allclose(record.voltages[name][:, 0], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("target", ["loihi-sim", "spinnaker-emu"])
def test_chips_refuse_in_one_line(target):
    """(4) Both chips refuse an ltc population: one line naming population, model, target."""
    net = Network("ltc_chip", dt=1.0)
    net.source("spikes", 2, spike_times(times=[0, 1], ids=[0, 1]))
    net.population("cells", 2, LTC(tau=2.0, w_rec=np.eye(2)))
    net.connect("spikes", "cells", all_to_all(), weight=0.5)
    for refuse in (lambda: check_network(net, target), lambda: compile_network(net, target)):
        with pytest.raises(UnsupportedOnTarget) as refusal:
            refuse()
        message = str(refusal.value)
        assert "\n" not in message
        assert "population 'cells'" in message and "'ltc'" in message and target in message
        assert "liquid time-constant" in message


def test_yaml_round_trip_and_matrix_checks(tmp_path):
    """The recurrent matrix survives save/load exactly; a non-square one, or one of the wrong
    size for its population, is refused with the reason."""
    w = np.random.default_rng(2).normal(size=(3, 3))
    net = Network("ltc_yaml", dt=1.0)
    net.population("cells", 3, LTC(tau=[1.0, 2.0, 3.0], w_rec=w, ode_unfolds=2))
    save(net, tmp_path / "net.yaml")
    loaded = load(tmp_path / "net.yaml").populations["cells"].neuron
    assert loaded.w_rec == net.populations["cells"].neuron.w_rec  # tuples: exact equality
    np.testing.assert_array_equal(np.array(loaded.w_rec), w)
    np.testing.assert_array_equal(loaded.tau, [1.0, 2.0, 3.0])
    assert loaded.ode_unfolds == 2
    with pytest.raises(ValueError, match="square"):
        LTC(w_rec=np.ones((2, 3)))
    step = REGISTRY.get("ltc").steps["float"]
    with pytest.raises(ValueError, match="needs 4 x 4"):
        step.tables(LTC(w_rec=w), 4, 1.0)
