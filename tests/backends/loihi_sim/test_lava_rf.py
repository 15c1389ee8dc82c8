"""``rf`` / ``rf_iz`` against Lava 0.10's own ``RF`` / ``RF_IZ`` (``lava/proc/rf``, ``rf_iz``).

1. Lava's processes, built with Lava's own API and run directly behind a RingBuffer and a Dense
   (random spikes, random weights, weight_exp), record re, im and spikes; the reference's loihi
   Step fed the Dense's output (computed here with Lava's own ``clip_weights`` /
   ``truncate_weights``) must give the same bits, and ``simulate`` of the same network in snnc's
   IR the same spikes and voltages.
2. loihi-sim runs of small random networks (rf, rf_iz, loihi_lif populations, delays, recurrent
   and mixed projections) equal the reference's loihi numerics spike for spike, voltages too.
3. Populations of one kind that differ in a per-process parameter are refused in one line.
4. The float kinds ``rf_float`` / ``rf_iz_float`` give the bits of Lava's own floating-point
   ``RF`` / ``RF_IZ`` models (``select_tag="floating_pt"``, probed with Lava's ``Monitor``).
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
from lava.proc.monitor.process import Monitor
from lava.proc.rf.process import RF as LavaRF
from lava.proc.rf_iz.process import RF_IZ as LavaRFIZ
from lava.utils.weightutils import clip_weights, determine_sign_mode, truncate_weights

from snnc.backends import first_divergence, get_backend
from snnc.backends.loihi_sim.lava_procs.sink import FileVoltageSink
from snnc.backends.loihi_sim.runner import _stop
from snnc.backends.reference import simulate
from snnc.compiler import compile_network
from snnc.ir import (
    LoihiLIF,
    Network,
    UnsupportedOnTarget,
    all_to_all,
    explicit,
    poisson,
    spike_times,
)
from snnc.models import REGISTRY
from snnc.models.rf import RF
from snnc.models.rf_float import RFFloat
from snnc.models.rf_iz import RFIZ
from snnc.models.rf_iz_float import RFIZFloat

N, STEPS, INPUTS = 12, 80, 10


# --------------------------------------------------------------------------- Lava run directly


def _wait(runtime, limit_s: float = 60.0) -> None:
    """Poll a non-blocking run (a failing ProcessModel would block a blocking one forever)."""
    deadline = time.monotonic() + limit_s
    while not all(port.probe() for port in runtime.service_to_runtime):
        failed = [str(a.exception[1]) for a in runtime._messaging_infrastructure.actors
                  if a.exception]
        if failed or time.monotonic() > deadline:
            raise RuntimeError("\n".join(failed) or f"the Lava run took more than {limit_s} s")
        time.sleep(0.01)
    runtime.wait()  # collects the answers that have arrived


def _run_lava(data: np.ndarray, weights: np.ndarray, weight_exp: int, neurons: dict,
              tmp: Path) -> dict:
    """RingBuffer(data) -> Dense -> each process's a_real_in; per process (spikes, re, im),
    (steps, n) each; row k is Lava's time_step k + 1 (snnc's step k)."""
    steps = data.shape[1]
    ring = RingBuffer(data=data.astype(np.int32))
    files = {}
    for name, neuron in neurons.items():
        dense = Dense(weights=weights, weight_exp=weight_exp)
        ring.s_out.connect(dense.s_in)
        dense.a_out.connect(neuron.a_real_in)
        for var in ("real", "imag"):
            path = tmp / f"{name}_{var}.npz"
            sink = FileVoltageSink(size=N, num_steps=steps, path=str(path))
            neuron.s_out.connect(sink.s_in)
            sink.v_ref.connect_var(getattr(neuron, var))
            files[name, var] = path
    executable = ring.compile(Loihi2SimCfg(select_tag="fixed_pt"))
    try:
        ring.create_runtime(executable=executable)
        ring.run(condition=RunSteps(num_steps=steps, blocking=False))
        _wait(ring.runtime)
    except BaseException:
        _stop(ring, failing=True)
        raise
    _stop(ring, failing=False)
    out = {}
    for name in neurons:
        with np.load(files[name, "real"]) as re, np.load(files[name, "imag"]) as im:
            raster = np.zeros((steps, N), bool)
            raster[re["times"], re["ids"]] = True
            out[name] = raster, re["v"].astype(np.int64), im["v"].astype(np.int64)
    return out


def _dense_output(data: np.ndarray, weights: np.ndarray, weight_exp: int) -> np.ndarray:
    """(steps, N): what Lava's bit-accurate Dense delivers at each step: its own weight clip and
    truncation, the spiking columns summed, shifted by weight_exp, one step later."""
    mode = determine_sign_mode(weights)
    w = truncate_weights(clip_weights(weights.copy(), mode, num_bits=8), mode, 8).astype(np.int64)
    summed = (w @ data.astype(np.int64)).T  # row t: the spikes of step t
    shifted = summed << weight_exp if weight_exp >= 0 else summed >> -weight_exp
    return np.vstack([np.zeros((1, N), np.int64), shifted[:-1]])


def _step(kind: str, neuron, inputs: np.ndarray):
    step = REGISTRY.get(kind).steps["loihi"]
    params, state = step.tables(neuron, N, 1.0)
    spikes = np.zeros(inputs.shape, bool)
    re, im = np.zeros(inputs.shape, np.int64), np.zeros(inputs.shape, np.int64)
    ids = np.zeros(N, np.int64)
    for t, x in enumerate(inputs):
        count = step.update(np.ascontiguousarray(x), params, state, 0, N, ids, 0, 0)
        spikes[t, ids[:count]] = True
        re[t], im[t] = state[0], state[1]
    return spikes, re, im


def _snnc_network(kind_cls, fields: dict, data, weights, weight_exp) -> Network:
    times, ids = np.nonzero(data.T)
    net = Network("lava_rf", dt=1.0)
    net.source("inp", INPUTS, spike_times(times=times, ids=ids))
    net.population("res", N, kind_cls(**fields))
    pre, post = np.meshgrid(np.arange(INPUTS), np.arange(N))
    net.connect("inp", "res", explicit(pre.ravel(), post.ravel()), weight=weights.ravel(),
                weight_exp=weight_exp, num_weight_bits=8)
    return net


@pytest.mark.parametrize("seed, weight_exp, state_exp, decay_bits", [
    (1, 0, 6, 12), (2, 3, 0, 9), (3, -2, 7, 12), (4, 7, 4, 5)])
def test_reference_is_lavas_rf_and_rf_iz(tmp_path, seed, weight_exp, state_exp, decay_bits):
    rng = np.random.default_rng(seed)
    data = (rng.random((INPUTS, STEPS)) < 0.3).astype(np.int32)
    weights = rng.integers(-256, 256, (N, INPUTS))
    fields = dict(period=rng.uniform(1.5, 30.0, N), alpha=rng.choice([0.0, 0.02, 0.1, 0.4], N),
                  vth=float(rng.uniform(0, 300)), state_exp=state_exp, decay_bits=decay_bits)
    lava = _run_lava(data, weights, weight_exp, {
        "rf": LavaRF(shape=(N,), **fields), "rf_iz": LavaRFIZ(shape=(N,), **fields)}, tmp_path)
    inputs = _dense_output(data, weights, weight_exp)
    for kind, cls in (("rf", RF), ("rf_iz", RFIZ)):
        mine = _step(kind, cls(**fields), inputs)
        for name, expected, got in zip(("spikes", "re", "im"), lava[kind], mine):
            assert np.array_equal(expected, got), f"{kind} {name}"
        assert lava[kind][0].any(), kind  # Lava's neurons fired
        record = simulate(_snnc_network(cls, fields, data, weights, weight_exp), STEPS,
                          "loihi", record_v=["res"])
        times, ids = np.nonzero(lava[kind][0])
        assert np.array_equal(record.spikes["res"][0], times)
        assert np.array_equal(record.spikes["res"][1], ids)
        voltage = lava[kind][1] if kind == "rf" else lava[kind][2]  # re for rf, im for rf_iz
        assert np.array_equal(record.voltages["res"], voltage)


# --------------------------------------------------------------------------- loihi-sim runs


def _random_network(seed: int) -> Network:
    """Two sub-networks per kind (one shared vth, state_exp, decay_bits per kind, as Lava's one
    process per kind needs), fed by Poisson sources and each other, with delays up to 5, a
    recurrent resonator projection, and a loihi_lif layer reading resonator spikes."""
    rng = np.random.default_rng(seed)
    shared = {"rf": dict(vth=float(rng.uniform(5, 80)), state_exp=int(rng.integers(0, 8)),
                         decay_bits=int(rng.integers(6, 13))),
              "rf_iz": dict(vth=float(rng.uniform(5, 80)), state_exp=int(rng.integers(0, 8)),
                            decay_bits=int(rng.integers(6, 13)))}
    net = Network(f"rf_random_{seed}", dt=1.0)
    net.source("noise", 20, poisson(rate_hz=150.0, seed=seed))
    net.population("lif", 6, LoihiLIF(du=3000, dv=200, vth=60))
    for k, (kind, cls) in enumerate([("rf", RF), ("rf_iz", RFIZ)] * 2):
        size = int(rng.integers(3, 9))
        name = f"{kind}{k}"
        net.population(name, size, cls(period=rng.uniform(2.0, 20.0, size),
                                       alpha=rng.choice([0.0, 0.03, 0.15], size), **shared[kind]))
        net.connect("noise", name, all_to_all(), weight=rng.integers(-100, 256, 20 * size),
                    delay=rng.integers(1, 6, 20 * size), weight_exp=int(rng.integers(0, 4)))
        net.connect(name, name, all_to_all(), weight=rng.integers(-80, 80, size * size),
                    delay=int(rng.integers(1, 4)))
        net.connect(name, "lif", all_to_all(), weight=int(rng.integers(50, 200)), delay=2)
    net.connect("lif", "rf0", all_to_all(), weight=-120, delay=1)
    return net


@pytest.mark.parametrize("seed", [11, 12])
def test_loihi_sim_runs_rf_networks_bit_exactly(seed):
    net = _random_network(seed)
    build = compile_network(net, "loihi-sim")
    names = [p.name for p in net.neuron_populations()]
    got = get_backend("loihi-sim").run(build, STEPS, record_v=names)
    expected = simulate(build.network, STEPS, "loihi", record_v=names)
    assert first_divergence(expected, got, names) is None
    for name in names:
        assert np.array_equal(got.voltages[name], expected.voltages[name]), name
    assert all(expected.spikes[name][0].size for name in names)  # every population fires


def test_differing_per_process_parameters_are_refused():
    net = Network("rf_two_thresholds", dt=1.0)
    net.source("inp", 2, poisson(rate_hz=100.0, seed=1))
    for name, vth in (("a", 5.0), ("b", 7.0)):
        net.population(name, 3, RF(period=8.0, alpha=0.1, vth=vth, state_exp=6, decay_bits=12))
        net.connect("inp", name, all_to_all(), weight=50)
    with pytest.raises(UnsupportedOnTarget) as refusal:
        compile_network(net, "loihi-sim")  # refused before anything is built
    message = str(refusal.value)
    assert "\n" not in message
    assert all(word in message for word in ("rf populations 'a' and 'b'", "vth", "loihi-sim",
                                            "RF"))
    assert refusal.value.where == "populations.b.neuron.vth"


# --------------------------------------------------------------------------- the float kinds


def _run_lava_float(data: np.ndarray, weights: np.ndarray, neurons: dict) -> dict:
    """RingBuffer -> float Dense -> each process, every Var probed by a Monitor: per process
    (spikes, re, im), (steps, n) each."""
    steps = data.shape[1]
    ring = RingBuffer(data=data.astype(float))
    monitors = {}
    for name, neuron in neurons.items():
        dense = Dense(weights=weights)
        ring.s_out.connect(dense.s_in)
        dense.a_out.connect(neuron.a_real_in)
        for var in ("s_out", "real", "imag"):
            monitor = Monitor()
            monitor.probe(getattr(neuron, var), steps)
            monitors[name, var] = monitor
    ring.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
    try:
        data_of = {key: m.get_data() for key, m in monitors.items()}
    finally:
        ring.stop()
    return {name: tuple(data_of[name, var][neuron.name][var] for var in ("s_out", "real", "imag"))
            for name, neuron in neurons.items()}


def _float_dense_output(data: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Lava's float Dense: the spiking columns summed (``weights[:, s].sum(axis=1)``, the same
    float additions), delivered one step later."""
    out = np.zeros((data.shape[1], N))
    for t in range(data.shape[1] - 1):
        out[t + 1] = weights[:, data[:, t].astype(bool)].sum(axis=1)
    return out


def test_float_kinds_are_lavas_float_rf_and_rf_iz():
    rng = np.random.default_rng(21)
    data = (rng.random((INPUTS, STEPS)) < 0.3).astype(np.int32)
    weights = rng.uniform(-0.4, 0.8, (N, INPUTS))
    fields = dict(period=rng.uniform(1.5, 30.0, N), alpha=rng.choice([0.0, 0.02, 0.1], N),
                  vth=0.6)
    lava = _run_lava_float(data, weights, {"rf_float": LavaRF(shape=(N,), **fields),
                                           "rf_iz_float": LavaRFIZ(shape=(N,), **fields)})
    inputs = _float_dense_output(data, weights)
    for kind, cls in (("rf_float", RFFloat), ("rf_iz_float", RFIZFloat)):
        step = REGISTRY.get(kind).steps["float"]
        params, state = step.tables(cls(**fields), N, 1.0)
        ids = np.zeros(N, np.int64)
        for t in range(STEPS):
            count = step.update(inputs[t], params, state, 0, N, ids, 0, 0)
            spiked = np.zeros(N, bool)
            spiked[ids[:count]] = True
            assert np.array_equal(spiked, lava[kind][0][t] > 0), (kind, t)
            assert np.array_equal(state[0], lava[kind][1][t]), (kind, t)
            assert np.array_equal(state[1], lava[kind][2][t]), (kind, t)
        assert lava[kind][0].any(), kind
