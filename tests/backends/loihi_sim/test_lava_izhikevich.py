"""``SnncIzhikevich`` (lava_procs/izhikevich.py) in Lava 0.10's fixed-point simulator equals the
reference's ``loihi_izhikevich`` Step (models/loihi_izhikevich.py), bit for bit.

The Lava process runs directly (RingBuffer -> Dense -> SnncIzhikevich, every v, u and current
recorded through file sinks); the Step is called with the input Dense delivers (written here:
the ring buffer's column k - 1 at step k, times the weights, shifted by weight_exp). Parameters
are random per neuron, around Izhikevich's patterns, with some neurons far outside them (so that
the 24-bit saturations are exercised), and a hand-computed first step pins the equations.
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

from snnc.backends.loihi_sim.lava_procs.izhikevich import SnncIzhikevich, loihi_izhikevich
from snnc.backends.loihi_sim.lava_procs.sink import FileVoltageSink
from snnc.backends.loihi_sim.runner import _stop
from snnc.models import REGISTRY
from snnc.models.loihi_izhikevich import LoihiIzhikevich, lava_arrays

N, STEPS, INPUTS = 40, 150, 20
STATE_MAX = 2**23 - 1


def _run(data: np.ndarray, weights: np.ndarray, weight_exp: int, neuron: SnncIzhikevich,
         tmp: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(spikes, v, u, i) per step of the Lava run; step k of the arrays is Lava's step k + 1."""
    steps = data.shape[1]
    ring = RingBuffer(data=data.astype(np.int32))
    dense = Dense(weights=weights, weight_exp=weight_exp)
    ring.s_out.connect(dense.s_in)
    dense.a_out.connect(neuron.a_in)
    files = {}
    for var in ("v", "u", "i_syn"):
        files[var] = tmp / f"{var}.npz"
        sink = FileVoltageSink(size=N, num_steps=steps, path=str(files[var]))
        neuron.s_out.connect(sink.s_in)
        sink.v_ref.connect_var(getattr(neuron, var))
    executable = ring.compile(Loihi2SimCfg(select_tag="fixed_pt"))
    try:
        ring.create_runtime(executable=executable)
        ring.run(condition=RunSteps(num_steps=steps, blocking=False))
        _wait(ring.runtime)
    except BaseException:
        _stop(ring, failing=True)
        raise
    _stop(ring, failing=False)
    loaded = {var: np.load(path) for var, path in files.items()}
    raster = np.zeros((steps, N), dtype=bool)
    raster[loaded["v"]["times"], loaded["v"]["ids"]] = True
    return (raster, *(loaded[var]["v"].astype(np.int64) for var in ("v", "u", "i_syn")))


def _wait(runtime, limit_s: float = 60.0) -> None:
    """Poll a non-blocking run (a blocking one never returns when a ProcessModel raises)."""
    deadline = time.monotonic() + limit_s
    while not all(port.probe() for port in runtime.service_to_runtime):
        reports = [str(actor.exception[1]) for actor in runtime._messaging_infrastructure.actors
                   if actor.exception]
        if reports or time.monotonic() > deadline:
            raise RuntimeError("a Lava process failed:\n" + "\n".join(reports) if reports
                               else f"the Lava run took more than {limit_s} s")
        time.sleep(0.01)
    runtime.wait()


def _dense_input(data: np.ndarray, weights: np.ndarray, weight_exp: int) -> np.ndarray:
    """What the neurons receive per step (steps, n): Dense's sum of step k - 1, << weight_exp,
    through its int32 port. The weights are even, so Lava's mixed-sign truncation keeps them."""
    raw = (weights.astype(np.int64) @ data.astype(np.int64)) << weight_exp
    a = np.zeros_like(raw)
    a[:, 1:] = ((raw[:, :-1] + 2**31) % 2**32) - 2**31
    return a.T


def _random_neuron(rng: np.random.Generator) -> LoihiIzhikevich:
    """Izhikevich-like integers (frac 12..16, dt 0.5 or 1 ms), a fifth of the neurons wild."""
    frac = rng.integers(12, 17, N)
    dt = rng.choice([0.5, 1.0], N)
    one, coef = 2.0**frac, 2.0**16

    def state(lo, hi):
        return np.rint(rng.uniform(lo, hi, N) * one).astype(np.int64)

    wild = np.arange(N) < N // 5
    values = dict(frac=frac, du=rng.integers(0, 4097, N), k_sq=np.rint(0.04 * dt * coef),
                  k_lin=np.rint(5 * dt * coef), k_dt=np.rint(dt * coef),
                  drive=np.rint(dt * rng.uniform(135, 160, N) * one),
                  a_dt=np.rint(rng.uniform(0.01, 0.12, N) * dt * coef),
                  b=np.rint(rng.uniform(0.1, 0.3, N) * coef), c=state(-70, -45), d=state(0, 9),
                  v_peak=state(25, 35), v_init=state(-75, -55), u_init=state(-16, -8))
    values["k_sq"] = np.where(wild, 2**16, values["k_sq"])  # v^2 grows fast: v saturates
    values["u_init"] = np.where(wild, rng.integers(-STATE_MAX, STATE_MAX + 1, N),
                                values["u_init"])
    values["d"] = np.where(wild, rng.integers(2**22, STATE_MAX, N), values["d"])  # u saturates
    values["drive"] = np.where(wild, rng.integers(-(2**31), 2**31, N), values["drive"])
    return LoihiIzhikevich(**{k: np.asarray(v, dtype=np.int64) for k, v in values.items()})


def _step(neuron: LoihiIzhikevich, a: np.ndarray):
    """The reference's loihi Step, called directly: (spikes, v, u, i) per step."""
    step = REGISTRY.get("loihi_izhikevich").steps["loihi"]
    params, state = step.tables(neuron, N, 1.0)
    out = np.zeros(N, np.int64)
    spikes, history = np.zeros(a.shape, bool), []
    for t in range(a.shape[0]):
        count = step.update(np.ascontiguousarray(a[t]), params, state, 0, N, out, 0, 0)
        spikes[t, out[:count]] = True
        history.append(state.copy())
    states = np.array(history)
    return spikes, states[:, 0], states[:, 1], states[:, 2]


@pytest.mark.parametrize("seed,weight_exp", [(1, 6), (2, 9)])
def test_lava_process_equals_the_reference_step(tmp_path, seed, weight_exp):
    rng = np.random.default_rng(seed)
    data = (rng.random((INPUTS, STEPS)) < 0.3).astype(np.int64)
    weights = 2 * rng.integers(-128, 128, (N, INPUTS))
    neuron = _random_neuron(rng)
    process = loihi_izhikevich(lava_arrays(neuron, N), N)  # the factory the lowering names
    got = _run(data, weights, weight_exp, process, tmp_path)
    want = _step(neuron, _dense_input(data, weights, weight_exp))
    for what, g, w in zip(("spikes", "v", "u", "i"), got, want):
        bad = np.argwhere(g != w)
        assert bad.size == 0, f"{what} differs first at (step, neuron) {tuple(bad[0])}"
    spikes, v, u, i = want
    tame = np.arange(N) >= N // 5
    assert spikes[:, tame].sum() > N  # the Izhikevich-like neurons fire
    assert np.any(np.abs(v) == STATE_MAX) and np.any(np.abs(u) == STATE_MAX)  # saturation taken
    assert np.any(i != 0) and np.any(i < 0)


def test_first_step_by_hand():
    """One neuron, frac 16, dt 1 ms (k_sq 2621, k_lin 5 * 2^16, k_dt 2^16), v = -65 mV, u = -13,
    drive 150 * 2^16 (140 + a bias of 10), a = 3 with du = 4096 (i = 3 << 6 = 192 units):
    delta = (V^2 * 2621 >> 32) + (V * 5) + drive + ((192 - U) >> 0) with V = -65 * 2^16."""
    one = 2**16
    V, U = -65 * one, -13 * one
    delta = ((V * V * 2621) >> 32) + ((V * 5 * one) >> 16) + 150 * one + (((192 - U) * one) >> 16)
    u_step = ((((V * 13107) >> 16) - U) * 1311) >> 16
    neuron = REGISTRY.get("loihi_izhikevich").example(frozenset())
    step = REGISTRY.get("loihi_izhikevich").steps["loihi"]
    params, state = step.tables(neuron, 1, 1.0)
    step.update(np.array([3]), params, state, 0, 1, np.zeros(1, np.int64), 0, 0)
    assert state[:, 0].tolist() == [V + delta, U + u_step, 192]
    # in mV: v + 0.04 v^2 (0.04 as 2621 / 2^16) + 5 v + 150 - u + i: the float Euler step
    mv = -65 + 65**2 * 2621 / 2**16 - 325 + 150 + 13 + 192 / one
    assert abs((V + delta) / one - mv) < 1e-4 and abs(mv - -58.0254) < 1e-4


def test_process_checks_its_ranges():
    base = dict(shape=(2,), v=0, u=0, frac=16, k_sq=2621, k_lin=5, k_dt=1, drive=0, a_dt=1, b=1,
                c=0, d=0, v_peak=1)
    with pytest.raises(ValueError, match="du"):
        SnncIzhikevich(**base, du=4097)
    with pytest.raises(ValueError, match="k_sq"):
        SnncIzhikevich(**{**base, "k_sq": 2**16 + 1}, du=0)
    with pytest.raises(ValueError, match="integers"):
        SnncIzhikevich(**{**base, "c": 0.5}, du=0)
