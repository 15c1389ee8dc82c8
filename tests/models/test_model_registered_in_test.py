"""A neuron model defined and registered only here runs through every layer with no other edit.

``snnc.models.registered`` adds the model for the test; the IR loads it from a mapping and from
YAML, the reference runs it in float numerics (checked against a plain numpy loop of its stated
equation), the support matrix lists it, and the chip targets refuse it in one line.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import Network, UnsupportedOnTarget, all_to_all, load, save, spike_times
from snnc.ir.values import RangeChecked, Value, _Frozen
from snnc.models import NeuronModel, Step, registered
from snnc.models.jit import njit
from snnc.models.support import check_network, support_matrix

V, = range(1)
LEAK, THRESHOLD = range(2)


class ShiftIF(_Frozen):
    """A toy integrate-and-fire: ``v = leak * v + x``; spike when ``v >= threshold``, v = 0."""

    kind: Literal["test_shift_if"] = "test_shift_if"
    leak: RangeChecked(ge=0, le=1) = 1.0  # type: ignore[valid-type]
    threshold: Value = 1.0


def _tables(neuron: ShiftIF, size: int, dt: float):
    params = np.zeros((2, size))
    params[LEAK], params[THRESHOLD] = neuron.leak, neuron.threshold
    return params, np.zeros((1, size))


@njit(nogil=True)
def _update(x, params, state, lo, hi, out_ids, n_out, gbase):
    for k in range(lo, hi):
        v = params[LEAK, k] * state[V, k] + x[k]
        if v >= params[THRESHOLD, k]:
            v = 0.0
            out_ids[n_out] = gbase + k
            n_out += 1
        state[V, k] = v
    return n_out


MODEL = NeuronModel(kind="test_shift_if", params=ShiftIF, summary="a test-only model",
                    steps={"float": Step("float", _tables, _update, np.float64, V)})


def _network() -> Network:
    net = Network("toy", dt=1.0)
    net.source("inp", 2, spike_times(times=[0, 1, 2, 3, 5, 8], ids=[0, 1, 0, 0, 1, 0]))
    net.population("toy", 3, {"kind": "test_shift_if", "leak": 0.5, "threshold": 0.6})
    net.connect("inp", "toy", all_to_all(), weight=np.array([0.25, 0.5, 0.75, 0.4, 0.3, 0.2]))
    return net


def _numpy_loop(steps: int) -> list[tuple[int, int]]:
    weights = np.array([[0.25, 0.5, 0.75], [0.4, 0.3, 0.2]])  # (pre, post), all_to_all order
    inputs = {0: [0], 1: [1], 2: [0], 3: [0], 5: [1], 8: [0]}
    v, spikes = np.zeros(3), []
    for t in range(steps):
        x = sum((weights[i] for i in inputs.get(t - 1, [])), np.zeros(3))  # delay 1
        v = 0.5 * v + x
        for k in np.flatnonzero(v >= 0.6):
            spikes.append((t, int(k)))
        v[v >= 0.6] = 0.0
    return spikes


def test_a_test_model_runs_through_every_layer(tmp_path):
    with registered(MODEL):
        net = _network()
        save(net, tmp_path / "toy.yaml")
        loaded = load(tmp_path / "toy.yaml")
        assert loaded.populations["toy"].neuron == net.populations["toy"].neuron
        record = simulate(loaded, 12, "float")
        times, ids = record.spikes["toy"]
        assert list(zip(times.tolist(), ids.tolist())) == _numpy_loop(12)
        matrix = support_matrix()
        assert matrix["support"]["reference"]["test_shift_if"]["supported"]
        assert not matrix["support"]["loihi-sim"]["test_shift_if"]["supported"]
        for target in ("loihi-sim", "spinnaker-emu"):
            with pytest.raises(UnsupportedOnTarget, match=f"'test_shift_if', which {target}"):
                check_network(net, target)
    # gone again once the block ends
    with pytest.raises(Exception, match="unknown neuron kind"):
        _network()
