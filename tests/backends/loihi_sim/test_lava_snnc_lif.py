"""``SnncLIF`` (lava_procs/lif.py) in Lava 0.10's fixed-point simulator.

1. With refractory = 0 and reset_subtract = 0 it gives Lava's own fixed-point ``LIF``'s bits:
   both neurons sit in ONE Lava graph behind the same input and copies of the same Dense, and
   every spike, every v and every u (all recorded through file sinks) must agree.
2. With refractory periods and both resets it matches a plain Python loop of the equations (written
   here, per neuron, with Python ints; no snnc code).
3. A hand-computed trace for one neuron (du = 4095, dv = 0, vth = 10, refractory = 2).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import Dense
from lava.proc.io.source import RingBuffer
from lava.proc.lif.process import LIF

from snnc.backends.loihi_sim.lava_procs.lif import SnncLIF
from snnc.backends.loihi_sim.lava_procs.sink import FileVoltageSink
from snnc.backends.loihi_sim.runner import _stop

N, STEPS, INPUTS = 50, 100, 40
V_MAX = 2**23 - 1


# --------------------------------------------------------------------------- running Lava graphs


def _run(data: np.ndarray, weights: np.ndarray, weight_exp: int, neurons: dict, tmp: Path) -> dict:
    """RingBuffer(data) -> Dense(weights) -> each neuron process; per neuron (spikes, v, u) with
    spikes a (steps, n) bool raster. Step k of the arrays is Lava's time_step k + 1."""
    steps = data.shape[1]
    ring = RingBuffer(data=data.astype(np.int32))
    files = {}
    for name, neuron in neurons.items():
        dense = Dense(weights=weights, weight_exp=weight_exp)
        ring.s_out.connect(dense.s_in)
        dense.a_out.connect(neuron.a_in)
        size = neuron.s_out.shape[0]
        for var in ("v", "u"):  # FileVoltageSink records whichever Var its v_ref reads
            path = tmp / f"{name}_{var}.npz"
            sink = FileVoltageSink(size=size, num_steps=steps, path=str(path))
            neuron.s_out.connect(sink.s_in)
            sink.v_ref.connect_var(getattr(neuron, var))
            files[name, var] = path
    executable = ring.compile(Loihi2SimCfg(select_tag="fixed_pt"))
    try:
        ring.create_runtime(executable=executable)
        ring.run(condition=RunSteps(num_steps=steps, blocking=False))
        _wait(ring.runtime)
    except BaseException:
        _stop(ring, failing=True)  # Lava's own stop() waits forever after a failed process
        raise
    _stop(ring, failing=False)
    results = {}
    for name, neuron in neurons.items():
        with np.load(files[name, "v"]) as v_file, np.load(files[name, "u"]) as u_file:
            raster = np.zeros((steps, neuron.s_out.shape[0]), dtype=bool)
            raster[v_file["times"], v_file["ids"]] = True
            results[name] = (raster, v_file["v"].astype(np.int64), u_file["v"].astype(np.int64))
    return results


def _wait(runtime, limit_s: float = 60.0) -> None:
    """Wait for the run to end; raise when a Lava process failed or the run outlives ``limit_s``.
    A blocking run never returns when a ProcessModel raises in run_spk (its neighbours wait on
    it), so the run is started non-blocking and polled."""
    deadline = time.monotonic() + limit_s
    while not all(port.probe() for port in runtime.service_to_runtime):
        reports = [str(actor.exception[1]) for actor in runtime._messaging_infrastructure.actors
                   if actor.exception]
        if reports or time.monotonic() > deadline:
            raise RuntimeError("a Lava process failed:\n" + "\n".join(reports) if reports
                               else f"the Lava run took more than {limit_s} s")
        time.sleep(0.01)
    runtime.wait()  # collects the answers that have arrived


def _dense_input(data: np.ndarray, weights: np.ndarray, weight_exp: int) -> np.ndarray:
    """What the neurons receive per step: Dense delivers the ring buffer's column k - 1 at step k
    (nothing at step 0), shifted by weight_exp, sent through Dense's int32 port. The weights are
    drawn so that Lava's clip and truncation leave them unchanged."""
    raw = weights.astype(np.int64) @ data.astype(np.int64)  # (n, steps)
    shifted = raw << weight_exp if weight_exp >= 0 else raw >> -weight_exp
    a = np.zeros_like(shifted)
    a[:, 1:] = ((shifted[:, :-1] + 2**31) % 2**32) - 2**31
    return a.T  # (steps, n)


# --------------------------------------------------------------------------- the expectation


def _wrap32(x: int) -> int:
    return ((x + 2**31) % 2**32) - 2**31


def _dec(x: int, d: int) -> int:
    p = x * (4096 - d)
    return (1 if p > 0 else -1) * (abs(p) >> 12) if p else 0


def _expected(params: dict, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The equations, one neuron and one step at a time in Python ints. Also counts how often each
    overflow path was taken (so the tests can see that they exercised it)."""
    steps, n = a.shape
    p = {k: np.broadcast_to(np.asarray(v), (n,)) for k, v in params.items()}
    spikes = np.zeros((steps, n), dtype=bool)
    vs = np.zeros((steps, n), dtype=np.int64)
    us = np.zeros((steps, n), dtype=np.int64)
    seen = dict(wrap32=0, wrap24=0, out_of_24=0, saturated=0, refractory=0)
    for i in range(n):
        du, dv, vth = int(p["du"][i]), int(p["dv"][i]), int(p["vth"][i]) * 64
        bias = int(p["bias_mant"][i]) * 2 ** int(p["bias_exp"][i])
        refractory, subtract = int(p["refractory"][i]), bool(p["reset_subtract"][i])
        u, v, left = int(p["u"][i]), int(p["v"][i]), 0
        for t in range(steps):
            total = _dec(u, du + 1) + int(a[t, i]) * 64
            u = _wrap32(total)
            seen["wrap32"] += u != total
            if u > 2**23:
                u -= 2**24
                seen["wrap24"] += 1
            elif u <= -(2**23):
                u += 2**24
                seen["wrap24"] += 1
            seen["out_of_24"] += not -(2**23) < u <= 2**23
            if left > 0:
                left -= 1
                v = 0
                seen["refractory"] += 1
            else:
                total = _wrap32(_dec(v, dv) + u + bias)
                v = min(max(total, -V_MAX), V_MAX)
                seen["saturated"] += v != total
                if v > vth:
                    spikes[t, i] = True
                    v = v - vth if subtract else 0
                    left = refractory
            vs[t, i], us[t, i] = v, u
    return spikes, vs, us, seen


def _assert_same(got: tuple, want: tuple, label: str) -> None:
    for what, g, w in zip(("spikes", "v", "u"), got, want):
        bad = np.argwhere(g != w)
        assert bad.size == 0, f"{label}: {what} differs first at (step, neuron) {tuple(bad[0])}"


# --------------------------------------------------------------------------- random networks


def _inputs(rng: np.random.Generator, rate: float, low: int, high: int):
    """A random spike raster and EVEN weights in [low, high] (with mixed signs Lava keeps 7 bits
    plus sign, i.e. even weights only, so its truncation leaves these unchanged)."""
    data = (rng.random((INPUTS, STEPS)) < rate).astype(np.int64)
    weights = 2 * rng.integers(low // 2, high // 2 + 1, (N, INPUTS))
    weights[0, 0], weights[0, 1] = -256, 254  # both signs: Lava's sign mode is MIXED
    return data, weights


def _params(rng: np.random.Generator, per_neuron: bool) -> dict:
    def draw(lo: int, hi: int):
        return rng.integers(lo, hi + 1, N) if per_neuron else int(rng.integers(lo, hi + 1))

    return dict(du=draw(0, 4095), dv=draw(0, 4095), vth=draw(1, 3000),
                bias_mant=rng.integers(-300, 301, N), bias_exp=rng.integers(0, 8, N),
                u=rng.integers(-(2**20), 2**20, N), v=rng.integers(-(2**20), 2**20, N))


# (seed, weight_exp, scalar or per-neuron du/dv/vth, weights' range, input rate)
LAVA_TRIALS = [(1, 0, False, (-256, 254), 0.3),  # ordinary dynamics
               (2, 6, True, (-256, 254), 0.3),   # u wraps at 24 bit, v saturates
               (3, 13, True, (60, 254), 0.9)]    # a << 6 passes 2^31: the 32-bit wrap


def test_without_refractory_and_subtract_it_is_lavas_lif(tmp_path):
    seen_total: dict = {}
    for seed, weight_exp, per_neuron, (low, high), rate in LAVA_TRIALS:
        rng = np.random.default_rng(seed)
        data, weights = _inputs(rng, rate, low, high)
        params = _params(rng, per_neuron)
        ours = SnncLIF(shape=(N,), refractory=0, reset_subtract=0, **params)
        lavas = LIF(shape=(N,), **params)
        results = _run(data, weights, weight_exp, {"snnc": ours, "lava": lavas}, tmp_path)
        _assert_same(results["snnc"], results["lava"], f"trial {seed}")
        expected = _expected(dict(params, refractory=0, reset_subtract=0),
                             _dense_input(data, weights, weight_exp))
        _assert_same(results["lava"], expected[:3], f"trial {seed} (Python loop vs Lava)")
        for key, count in expected[3].items():
            seen_total[key] = seen_total.get(key, 0) + count
        assert results["lava"][0].any(), f"trial {seed}: no spikes"
    # The trials went through every overflow path at least once.
    assert all(seen_total[key] > 0 for key in ("wrap32", "wrap24", "out_of_24", "saturated"))


def test_the_edges_of_lavas_24_bit_wrap(tmp_path):
    """du = 4095 makes u = a << 6 exactly; weight_exp 10 puts it on the edges of Lava's wrap, which
    is one period of 2^24 applied above +2^23 or at/below -2^23 (not two's complement)."""
    weights = np.array([[128, 0], [-128, 0], [130, 0], [-256, 0], [254, 254], [0, 0]])
    data = np.ones((2, 6), dtype=np.int64)
    # Neuron 5, outside the declared ranges (u beyond 24 bits, bias_exp 12), makes v's int32 sum
    # wrap: within the ranges that sum cannot leave int32.
    last = np.arange(6) == 5
    params = dict(du=np.where(last, 0, 4095), dv=0, vth=131071, u=np.where(last, 2**31 - 1, 0),
                  v=np.where(last, V_MAX, 0), bias_mant=np.where(last, 4095, 0),
                  bias_exp=np.where(last, 12, 0))  # arrays: Lava's LIF model adds to du, vth
    results = _run(data, weights, 10, {"snnc": SnncLIF(shape=(6,), **params),
                                       "lava": LIF(shape=(6,), **params)}, tmp_path)
    _assert_same(results["snnc"], results["lava"], "wrap edges")
    assert results["lava"][1][0, 5] == -V_MAX  # V_MAX + (2^31 - 2^24 - ...) + 4095 * 2^12 wrapped
    u_after = [2**23,           # a << 6 = +2^23 is kept: 2^23 itself is not wrapped
               2**23,           # -2^23 becomes +2^23
               2**23 + 2**17 - 2**24,
               0,               # -2^24 + 2^24
               2 * 254 * 2**16 - 2**24]  # > 2^23 + 2^24: still above 2^23 after one wrap
    assert results["lava"][2][1:, :5].tolist() == [u_after] * 5


def _refractory_case(rng: np.random.Generator, refractory, reset_subtract):
    data, weights = _inputs(rng, 0.4, -60, 254)
    params = dict(_params(rng, True), vth=rng.integers(1, 400, N),
                  refractory=refractory, reset_subtract=reset_subtract)
    return data, weights, params


@pytest.mark.parametrize("reset_subtract", [0, 1])
@pytest.mark.parametrize("refractory", [1, 3, 7])
def test_refractory_and_reset_match_the_equations(tmp_path, refractory, reset_subtract):
    rng = np.random.default_rng(100 + 10 * refractory + reset_subtract)
    data, weights, params = _refractory_case(rng, refractory, reset_subtract)
    weight_exp = 1
    got = _run(data, weights, weight_exp, {"n": SnncLIF(shape=(N,), **params)}, tmp_path)["n"]
    spikes, v, u, seen = _expected(params, _dense_input(data, weights, weight_exp))
    _assert_same(got, (spikes, v, u), f"refractory={refractory} reset_subtract={reset_subtract}")
    assert spikes.sum() > 2 * N and seen["refractory"] > N  # neurons spike and sit out steps
    if reset_subtract:  # subtracting leaves a residual, visible at the spike steps
        assert np.any(v[spikes] > 0)


def test_per_neuron_refractory_and_reset_match_the_equations(tmp_path):
    rng = np.random.default_rng(7)
    refractory, reset_subtract = rng.choice([0, 1, 3, 7], N), rng.integers(0, 2, N)
    data, weights, params = _refractory_case(rng, refractory, reset_subtract)
    got = _run(data, weights, 3, {"n": SnncLIF(shape=(N,), **params)}, tmp_path)["n"]
    spikes, v, u, seen = _expected(params, _dense_input(data, weights, 3))
    _assert_same(got, (spikes, v, u), "per-neuron refractory and reset")
    assert seen["saturated"] > 0 and spikes[:, refractory == 0].any()


# --------------------------------------------------------------------------- by hand

# One neuron, du = 4095 (u is this step's input << 6), dv = 0 (no leak), bias 0, vth = 10 (the
# threshold is 10 << 6 = 640), v starts at 300, refractory = 2. The input neuron spikes at every
# step through a weight of 3, and Dense delivers it one step later: u = 0 at step 0, then
# 3 << 6 = 192 at every step.
#   step 0: v = 300;  step 1: v = 492;  step 2: v = 684 > 640: spike, v = 0 or 684 - 640 = 44
#   steps 3, 4: refractory, v = 0 (the residual 44 is dropped), u = 192 still
#   step 5: 192, 6: 384, 7: 576, 8: 768 > 640: spike, v = 0 or 128; steps 9, 10 refractory; ...
HAND_SPIKES = [2, 8, 14]
HAND_V_ZERO = [300, 492, 0, 0, 0, 192, 384, 576, 0, 0, 0, 192, 384, 576, 0, 0, 0, 192]
HAND_V_SUBTRACT = [300, 492, 44, 0, 0, 192, 384, 576, 128, 0, 0, 192, 384, 576, 128, 0, 0, 192]


@pytest.mark.parametrize("reset_subtract,v_trace", [(0, HAND_V_ZERO), (1, HAND_V_SUBTRACT)])
def test_hand_computed_trace(tmp_path, reset_subtract, v_trace):
    steps = len(v_trace)
    neuron = SnncLIF(shape=(1,), du=4095, dv=0, vth=10, v=300, refractory=2,
                     reset_subtract=reset_subtract)
    data = np.ones((1, steps), dtype=np.int64)
    spikes, v, u = _run(data, np.array([[3]]), 0, {"n": neuron}, tmp_path)["n"]
    assert np.flatnonzero(spikes[:, 0]).tolist() == HAND_SPIKES
    assert v[:, 0].tolist() == v_trace
    assert u[:, 0].tolist() == [0] + [192] * (steps - 1)


# --------------------------------------------------------------------------- the Process


def test_parameters_broadcast_and_are_checked():
    neuron = SnncLIF(shape=(3,), du=[1, 2, 3], vth=5, refractory=2)
    assert neuron.du.init.tolist() == [1, 2, 3]
    assert neuron.vth.init.tolist() == [5, 5, 5] and neuron.refractory_left.init == 0
    with pytest.raises(ValueError, match="refractory"):
        SnncLIF(shape=(3,), refractory=-1)
    with pytest.raises(ValueError, match="reset_subtract"):
        SnncLIF(shape=(3,), reset_subtract=2)
    with pytest.raises(ValueError, match="integers"):
        SnncLIF(shape=(3,), vth=1.5)
    with pytest.raises(ValueError, match="broadcast"):
        SnncLIF(shape=(3,), du=[1, 2])
