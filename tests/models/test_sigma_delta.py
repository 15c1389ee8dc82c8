"""``sigma_delta`` (models/sigma_delta.py): the reference's loihi step against Lava's equations.

1. The step kernel, on random inputs for every (act_mode, cum_error, exponents) combination,
   equals a plain numpy loop written here from Lava 0.10's ``PySigmaDeltaModelFixed``
   (lava-nc/lava ``src/lava/proc/sdn/models.py``): int32 numpy arrays, so Lava's wraps happen
   where numpy's int32 arithmetic puts them. Inputs beyond int32 (an int64 reference sum) are
   compared with Lava receiving them wrapped to int32.
2. A hand-computed trace of one neuron (threshold, residue, cum_error's reset, the floor shift).
3. ``simulate(..., "loihi")`` of source -> sigma_delta -> sigma_delta (delay 2, weight_exp) equals
   the numpy loop fed by the stated delivery rule (``w * m[t]`` arrives at ``t + d``, shifted by
   ``weight_exp``); the messages are graded and sparse (some steps send nothing).
4. The parameter ranges are Lava's declared widths, after Lava's scaling.
"""

from __future__ import annotations

import numpy as np
import pytest
from snnc.ir.values import ParameterError  # a model built with a bad field (one line)

from snnc.backends.reference import simulate
from snnc.ir import Network, all_to_all, spike_times
from snnc.models import REGISTRY
from snnc.models.sigma_delta import (
    MESSAGE,
    SIGMA,
    SigmaDelta,
    sigma_delta_tables,
    sigma_delta_update,
)


class LavaSigmaDelta:
    """Lava's fixed-point sigma-delta dynamics, written from its source with numpy int32 arrays
    (``AbstractSigmaDeltaModel.dynamics`` then ``PySigmaDeltaModelFixed.run_spk``)."""

    def __init__(self, size, vth, bias, relu, cum_error, spike_exp, state_exp):
        scale = 1 << (spike_exp + state_exp)
        self.vth = np.int32(vth * scale)
        self.bias = (np.asarray(bias, np.int64) * scale).astype(np.int32) * np.ones(size, np.int32)
        self.relu, self.cum_error, self.state_exp = relu, cum_error, state_exp
        self.sigma, self.act, self.residue, self.error = (np.zeros(size, np.int32)
                                                          for _ in range(4))
        self.ties = 0  # steps where the compared value equals vth exactly (>= vs > matters)

    def step(self, a_in: np.ndarray) -> np.ndarray:
        self.sigma = a_in.astype(np.int32) + self.sigma
        act = self.sigma + self.bias
        if self.relu:
            act = np.maximum(act, 0)
        delta = act - self.act + self.residue
        if self.cum_error:
            self.error += delta
            self.ties += int(np.sum(np.abs(self.error) == self.vth))
            s_out = np.where(np.abs(self.error) >= self.vth, delta, 0).astype(np.int32)
            self.error *= (1 - (np.abs(s_out) > 0)).astype(np.int32)
        else:
            self.ties += int(np.sum(np.abs(delta) == self.vth))
            s_out = np.where(np.abs(delta) >= self.vth, delta, 0).astype(np.int32)
        self.residue = delta - s_out
        self.act = act
        return np.right_shift(s_out, self.state_exp)


def _run_kernel(neuron: SigmaDelta, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sigma, message) per step, from the model's own tables and update kernel."""
    steps, size = inputs.shape
    params, state = sigma_delta_tables(neuron, size)
    out = np.zeros(size, np.int32)
    sigmas, messages = np.zeros((steps, size), np.int64), np.zeros((steps, size), np.int64)
    for t in range(steps):
        assert sigma_delta_update(inputs[t], params, state, 0, size, out, 0, 0) == 0  # no spikes
        sigmas[t], messages[t] = state[SIGMA], state[MESSAGE]
    return sigmas, messages


CASES = [(relu, cum, spike_exp, state_exp) for relu in (True, False) for cum in (False, True)
         for spike_exp, state_exp in ((0, 0), (2, 3), (6, 1))]


@pytest.mark.parametrize("relu, cum_error, spike_exp, state_exp", CASES)
def test_step_equals_lavas_equations_on_random_inputs(relu, cum_error, spike_exp, state_exp):
    rng = np.random.default_rng(hash((relu, cum_error, spike_exp, state_exp)) % 2**32)
    size, steps = 12, 80
    scale = 1 << (spike_exp + state_exp)
    vth = int(rng.integers(1, 6))
    bias = rng.integers(-(2**15) // scale, (2**15 - 1) // scale + 1, size)
    bias[:4] = rng.integers(-6, 7, 4)  # act near 0 (relu's corner) in the first columns
    neuron = SigmaDelta(vth=vth, bias=bias, act_mode="relu" if relu else "unit",
                        cum_error=cum_error, spike_exp=spike_exp, state_exp=state_exp)
    inputs = rng.integers(-400, 401, (steps, size)) * (rng.random((steps, size)) < 0.5)
    inputs[:, :6] = rng.integers(-8, 9, (steps, 6)) * scale  # multiples of the scale: ties
    inputs[:, -2] = rng.integers(2**30, 2**31, steps)  # sigma wraps around int32 within steps
    inputs[:, -1] = rng.integers(-(2**33), 2**33, steps)  # an int64 sum: Lava gets it wrapped
    sigmas, messages = _run_kernel(neuron, inputs)
    lava = LavaSigmaDelta(size, vth, bias, relu, cum_error, spike_exp, state_exp)
    for t in range(steps):
        wrapped = ((inputs[t] + 2**31) % 2**32 - 2**31).astype(np.int32)
        want = lava.step(wrapped)
        assert np.array_equal(messages[t], want), t
        assert np.array_equal(sigmas[t], lava.sigma), t
    small = messages[:, :-2]
    assert np.any(small != 0) and np.any(small == 0)  # graded and sparse, not trivially either
    assert np.any(sigmas[:, -2] < 0)  # the wrap did happen
    assert lava.ties > 0  # |delta| (or |error|) == vth happened: the comparison's edge is tested


def test_hand_computed_trace():
    """vth 3 (scaled by 2^(1+1) = 12), bias 1 (4), relu, state_exp 1; input 10, 0, 0, -30, 5.

    sigma: 10 10 10 -20 -15; act = relu(sigma + 4): 14 14 14 0 0;
    delta = act - act_prev + residue: 14, 0, 0, -14, 0; |delta| >= 12: sent 14, -, -, -14, -;
    message = sent >> 1: 7 0 0 -7 0. With cum_error (vth 4 -> 16): delta 14 is held (error 14),
    next step delta = 0 + 14 (residue) = 14, error 28 >= 16: sent 14, error reset; then -14 ->
    error -14, held; the held residue -14 then error -28: sent at the last step.
    """
    inputs = np.array([[10], [0], [0], [-30], [5]])
    plain = SigmaDelta(vth=3, bias=1, spike_exp=1, state_exp=1)
    sigmas, messages = _run_kernel(plain, inputs)
    assert sigmas[:, 0].tolist() == [10, 10, 10, -20, -15]
    assert messages[:, 0].tolist() == [7, 0, 0, -7, 0]
    # |delta| == vth' (12) is sent; 11 is held as residue and sent with the next 1
    _, messages = _run_kernel(SigmaDelta(vth=3, spike_exp=1, state_exp=1),
                              np.array([[12], [11], [1]]))
    assert messages[:, 0].tolist() == [6, 0, 6]
    cum = SigmaDelta(vth=4, bias=1, spike_exp=1, state_exp=1, cum_error=True)
    _, messages = _run_kernel(cum, inputs)
    assert messages[:, 0].tolist() == [0, 7, 0, 0, -7]
    unit = SigmaDelta(vth=0, bias=-3, act_mode="unit", state_exp=2)  # act = sigma - 12, floor
    _, messages = _run_kernel(unit, np.array([[1], [1], [-5]]))
    assert messages[:, 0].tolist() == [(1 - 12) >> 2, 1 >> 2, -5 >> 2]  # -3, 0, -2


def test_simulate_two_graded_layers_equals_numpy():
    steps, rng = 50, np.random.default_rng(11)
    times, ids = np.nonzero(rng.random((steps, 4)) < 0.35)
    w1 = rng.integers(0, 256, (3, 4))  # post x pre, excitatory: Lava keeps all 8 bits
    w2 = rng.integers(-128, 128, (2, 3)) * 2  # mixed sign: Lava drops one bit, even ones stay
    exp1, exp2, delay2 = 2, -1, 2
    first = SigmaDelta(vth=5, bias=[-3, 0, 7], spike_exp=1, state_exp=2)
    second = SigmaDelta(vth=2, bias=0, act_mode="unit", cum_error=True, state_exp=1)
    net = Network("sdn", dt=1.0)
    net.source("inp", 4, spike_times(times=times, ids=ids))
    net.population("a", 3, first)
    net.population("b", 2, second)
    net.connect("inp", "a", all_to_all(), weight=w1.T.ravel(), weight_exp=exp1)
    net.connect("a", "b", all_to_all(), weight=w2.T.ravel(), delay=delay2, weight_exp=exp2)
    record = simulate(net, steps, "loihi", record_v=["a", "b"])

    spikes = np.zeros((steps, 4), np.int64)
    spikes[times, ids] = 1
    a = LavaSigmaDelta(3, 5, [-3, 0, 7], True, False, 1, 2)
    b = LavaSigmaDelta(2, 2, 0, False, True, 0, 1)
    sent = np.zeros((steps, 3), np.int64)
    for t in range(steps):
        a_in = (w1 @ spikes[t - 1]) << exp1 if t >= 1 else np.zeros(3, np.int64)
        sent[t] = a.step(a_in)
        assert np.array_equal(record.voltages["a"][t], a.sigma), t
        b_in = (w2 @ sent[t - delay2]) >> -exp2 if t >= delay2 else np.zeros(2, np.int64)
        b.step(b_in)
        assert np.array_equal(record.voltages["b"][t], b.sigma), t
    assert np.any(sent != 0) and np.any(sent == 0) and np.any(record.voltages["b"] != 0)


def test_ranges_are_lavas_declared_widths_after_scaling():
    SigmaDelta(vth=2**23 - 1)
    SigmaDelta(vth=2**20 - 1, spike_exp=2, state_exp=1, bias=[2**12 - 1, -(2**12)])
    for bad in (dict(vth=2**20, spike_exp=2, state_exp=1),  # 2^23 after scaling
                dict(vth=1, bias=2**12, spike_exp=3),  # bias 2^15 after scaling
                dict(vth=1, spike_exp=8), dict(vth=-1), dict(vth=1, act_mode="sigmoid"),
                dict(vth=1.5)):
        with pytest.raises(ParameterError):
            SigmaDelta(**bad)


def test_registry_entry():
    model = REGISTRY.get("sigma_delta")
    assert not model.spiking and model.native_numerics == "loihi"
    assert model.steps["loihi"].message_row == MESSAGE
    assert model.lowerings["loihi-sim"].message_bits == 24  # Lava's s_out precision
