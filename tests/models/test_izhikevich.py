"""The Izhikevich models against independent expectations.

1. ``izhikevich`` (float): its update, and a whole network run, equal a numpy loop of the
   equations of models/izhikevich.py written here (bit for bit, float64).
2. ``spinnaker_izhikevich``: its Step equals a numpy int64 transcription, written here, of
   sPyNNaker's ``neural_modelling/src/neuron/models/neuron_model_izh_impl.h`` (``rk2_kernel_midpoint``,
   ``neuron_model_has_spiked``) with the exponential/delta synapses of ``synapse_types``.
3. ``snnc verify`` (and the backends' equivalent) exits 0 on random networks of float
   ``izhikevich`` populations, for loihi-sim and spinnaker-emu (whose cores run the model's
   ``spinnaker`` Step).
4. The quantized models keep the firing pattern class of each of Izhikevich's five patterns.
5. examples/izhikevich: the float traces it plots equal the numpy loop; the figure is written.
(``loihi_izhikevich``'s Step against its Lava process: tests/backends/loihi_sim/
test_lava_izhikevich.py.)
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends import first_divergence, get_backend
from snnc.backends.reference import simulate
from snnc.cli import cli
from snnc.compiler import compile_network
from snnc.compiler.passes.quantize import quantize
from snnc.ir import (
    Network,
    UnsupportedOnTarget,
    all_to_all,
    explicit,
    fixed_probability,
    poisson,
    save,
    spike_times,
)
from snnc.models import REGISTRY
from snnc.models.izhikevich import Izhikevich
from snnc.models.spinnaker_izhikevich import SpinnakerIzhikevich
from snnc.models.support import check_network

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "izhikevich" / "run.py"
PATTERNS = {"RS": (0.02, 0.2, -65.0, 8.0), "IB": (0.02, 0.2, -55.0, 4.0),
            "CH": (0.02, 0.2, -50.0, 2.0), "FS": (0.1, 0.2, -65.0, 2.0),
            "LTS": (0.02, 0.25, -65.0, 2.0)}  # Izhikevich (2003), Fig. 2


# --------------------------------------------------------------------------- the float model


def izhikevich_numpy(p: dict, x: np.ndarray, dt: float):
    """The float equations, vectorized over neurons: (spikes, v, u), each (steps, n)."""
    steps, n = x.shape
    alpha = np.where(p["tau_syn"] > 0, np.exp(-dt / np.where(p["tau_syn"] > 0, p["tau_syn"], 1)),
                     0.0)
    v = np.array(p["v_init"], dtype=np.float64) * np.ones(n)
    u = p["u_init"] * np.ones(n) if "u_init" in p else p["b"] * v
    i = np.zeros(n)
    spikes, vs, us = np.zeros((steps, n), bool), np.zeros((steps, n)), np.zeros((steps, n))
    for t in range(steps):
        i = alpha * i + x[t]
        dv = 0.04 * (v * v) + 5.0 * v + 140.0 - u + i + p["bias"]
        v_new = v + dt * dv
        u_new = u + (dt * p["a"]) * (p["b"] * v - u)
        fired = v_new >= p["v_peak"]
        v_new = np.where(fired, p["c"], v_new)
        u_new = np.where(fired, u_new + p["d"], u_new)
        v, u = v_new, u_new
        spikes[t], vs[t], us[t] = fired, v, u
    return spikes, vs, us


def _random_float(rng: np.random.Generator, n: int) -> dict:
    return dict(a=rng.uniform(0.01, 0.12, n), b=rng.uniform(0.1, 0.3, n),
                c=rng.uniform(-70, -45, n), d=rng.uniform(0, 9, n), v_peak=rng.uniform(25, 35, n),
                v_init=rng.uniform(-75, -55, n), bias=rng.uniform(-2, 14, n),
                tau_syn=rng.choice([0.0, 2.0, 7.5], n))


def _run_step(model_kind: str, numerics: str, neuron, x: np.ndarray, dt: float):
    """The model's Step, called directly: (spikes, state per step)."""
    step = REGISTRY.get(model_kind).steps[numerics]
    n = x.shape[1] // step.channels_per_neuron
    params, state = step.tables(neuron, n, dt)
    out = np.zeros(n, np.int64)
    spikes, states = np.zeros((x.shape[0], n), bool), []
    for t in range(x.shape[0]):
        count = step.update(np.ascontiguousarray(x[t]), params, state, 0, n, out, 0, 0)
        spikes[t, out[:count]] = True
        states.append(state.copy())
    return spikes, np.array(states)


@pytest.mark.parametrize("dt", [1.0, 0.5, 0.1])
def test_float_update_equals_the_equations(dt):
    rng = np.random.default_rng(int(dt * 10))
    n, steps = 40, 400
    p = _random_float(rng, n)
    x = rng.normal(0, 3, (steps, n)) * (rng.random((steps, n)) < 0.3)
    spikes, states = _run_step("izhikevich", "float", Izhikevich(**p), x, dt)
    want_spikes, want_v, want_u = izhikevich_numpy(p, x, dt)
    assert np.array_equal(spikes, want_spikes)
    assert np.array_equal(states[:, 0], want_v) and np.array_equal(states[:, 1], want_u)
    assert spikes.sum() > n  # the neurons fire


def test_u_init_defaults_to_b_v_init_and_can_be_given():
    params = dict(a=0.02, b=0.2, c=-65.0, d=8.0, v_init=-70.0)
    _, state = REGISTRY.get("izhikevich").steps["float"].tables(Izhikevich(**params), 2, 1.0)
    assert state[1].tolist() == [0.2 * -70.0] * 2
    _, state = REGISTRY.get("izhikevich").steps["float"].tables(
        Izhikevich(**params, u_init=3.5), 2, 1.0)
    assert state[1].tolist() == [3.5, 3.5]


def test_network_run_equals_the_equations_with_delays():
    """Input spikes at t through delay d are the current at t + d (docs/numerics.md)."""
    rng = np.random.default_rng(5)
    n, steps, sources = 6, 300, 4
    # a source neuron spikes at most once per step: distinct (time, id) events
    events = np.unique(rng.integers(0, steps * sources, 200))
    times, ids = events // sources, events % sources
    pairs = np.array([(s, k) for s in range(sources) for k in range(n)])
    weight = rng.uniform(-3, 9, len(pairs))
    delay = rng.integers(1, 6, len(pairs))
    p = _random_float(rng, n)
    net = Network("izh", dt=0.5)
    net.source("inp", sources, spike_times(times=times, ids=ids))
    net.population("pop", n, Izhikevich(**p))
    net.connect("inp", "pop", explicit(pairs[:, 0], pairs[:, 1]), weight=weight, delay=delay)
    record = simulate(net, steps, "float", record_v=["pop"])
    x = np.zeros((steps + 8, n))
    for t, s in zip(times, ids):
        for (pre, post), w, d in zip(pairs, weight, delay):
            if pre == s:
                x[t + d, post] += w
    spikes, v, _ = izhikevich_numpy(p, x[:steps], 0.5)
    got = np.zeros((steps, n), bool)
    got[record.spikes["pop"][0], record.spikes["pop"][1]] = True
    assert np.array_equal(got, spikes) and spikes.any()
    assert np.array_equal(record.voltages["pop"], v)


# --------------------------------------------------------------------------- sPyNNaker's C, in numpy

K = 2**15


def _wrap(x):
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


def _mul(a, b):  # accum * accum: (int64 a b) >> 15, floor (spinnaker_lif's convention)
    return _wrap((a * b) >> 15)


def _decay_s1615(x, d):  # decay_s1615: (int64 x * uint32 d) >> 32
    return _wrap((x * d) >> 32)


def spinnaker_c(p: dict, exc: np.ndarray, inh: np.ndarray):
    """neuron_impl_standard's tick for IZK_curr_exp / _curr_delta, vectorized: (spikes, V, U)."""
    steps, n = exc.shape
    k140, k5, magic, half = 140 * K, 5 * K, int(0.040008544921875 * K), int(0.5 * K)
    tq_offset = int(1.85 * K)  # GCC converts 1.85k by truncation
    V, U = p["v_init"].copy(), p["u_init"].copy()
    this_h = p["h"].copy()
    i_exc, i_inh = np.zeros(n, np.int64), np.zeros(n, np.int64)
    delta = p["delta"]
    spikes, vs, us = np.zeros((steps, n), bool), np.zeros((steps, n), np.int64), np.zeros(
        (steps, n), np.int64)
    for t in range(steps):
        # synapse_types_add_neuron_input (the uint16 ring slot, saturated, << weight shift)
        w_e = _wrap(np.minimum(exc[t], 0xFFFF) << p["shift_exc"])
        w_i = _wrap(np.minimum(inh[t], 0xFFFF) << p["shift_inh"])
        i_exc = _wrap(i_exc + np.where(delta, w_e, _decay_s1615(w_e, p["init_exc"])))
        i_inh = _wrap(i_inh + np.where(delta, w_i, _decay_s1615(w_i, p["init_inh"])))
        # neuron_model_state_update: exc - inh - external_bias (0) + I_offset + current_offset (0)
        input_this_timestep = _wrap(_wrap(i_exc - i_inh) + p["i_offset"])
        # rk2_kernel_midpoint(this_h, ...)
        h, a, b = this_h, p["a"], p["b"]
        last_v, last_u = V, U
        pre_alph = _wrap(_wrap(k140 + input_this_timestep) - last_u)
        alpha = _wrap(pre_alph + _mul(_wrap(k5 + _mul(magic, last_v)), last_v))
        eta = _wrap(last_v + _mul(_mul(h, alpha), half))
        beta = _mul(_mul(_mul(h, _wrap(_mul(b, last_v) - last_u)), a), half)
        V = _wrap(V + _mul(h, _wrap(_wrap(pre_alph - beta)
                                    + _mul(_wrap(k5 + _mul(magic, eta)), eta))))
        U = _wrap(U + _mul(_mul(a, h), _wrap(_wrap(_wrap(-last_u) - beta) + _mul(b, eta))))
        this_h = p["h"].copy()
        # threshold_type_static: V >= threshold; neuron_model_has_spiked
        fired = V >= p["v_thresh"]
        V = np.where(fired, p["c"], V)
        U = np.where(fired, _wrap(U + p["d"]), U)
        this_h = np.where(fired, _mul(p["h"], tq_offset), this_h)
        # synapse_types_shape_input
        i_exc = np.where(delta, 0, _decay_s1615(i_exc, p["decay_exc"]))
        i_inh = np.where(delta, 0, _decay_s1615(i_inh, p["decay_inh"]))
        spikes[t], vs[t], us[t] = fired, V, U
    return spikes, vs, us


def _random_spinnaker(rng: np.random.Generator, n: int, synapse: str) -> dict:
    def raw(lo, hi):
        return np.rint(rng.uniform(lo, hi, n) * K).astype(np.int64)

    p = dict(a=raw(0.01, 0.12), b=raw(0.1, 0.3), c=raw(-70, -45), d=raw(0, 9),
             v_init=raw(-75, -55), u_init=raw(-16, -8), i_offset=raw(-2, 14),
             v_thresh=raw(25, 35), h=rng.choice([K, K // 2, K // 10], n).astype(np.int64),
             decay_exc=rng.integers(0, 2**32, n), init_exc=rng.integers(0, 2**32, n),
             decay_inh=rng.integers(0, 2**32, n), init_inh=rng.integers(0, 2**32, n),
             shift_exc=rng.integers(0, 8, n), shift_inh=rng.integers(0, 8, n))
    wild = np.arange(n) < n // 5  # far outside the physiological range: the 32-bit wraps
    for key in ("i_offset", "v_init", "u_init"):
        p[key] = np.where(wild, rng.integers(-(2**31), 2**31, n), p[key])
    p["delta"] = np.full(n, synapse == "delta")
    return p


@pytest.mark.parametrize("synapse", ["exp", "delta"])
def test_spinnaker_step_equals_spynnakers_c(synapse):
    rng = np.random.default_rng(11 if synapse == "exp" else 12)
    n, steps = 60, 300
    p = _random_spinnaker(rng, n, synapse)
    exc = rng.integers(0, 3000, (steps, n)) * (rng.random((steps, n)) < 0.3)
    inh = rng.integers(0, 3000, (steps, n)) * (rng.random((steps, n)) < 0.2)
    exc[rng.random((steps, n)) < 0.01] = 70000  # a ring sum above 16 bits saturates
    fields = {key: p[key] for key in ("a", "b", "c", "d", "v_init", "u_init", "i_offset",
                                      "v_thresh", "h")}
    if synapse == "exp":
        fields.update(decay_exc=p["decay_exc"], init_exc=p["init_exc"],
                      decay_inh=p["decay_inh"], init_inh=p["init_inh"])
    shifts = dict(weight_shift_exc=3, weight_shift_inh=5)  # one per population, as sPyNNaker's
    p["shift_exc"], p["shift_inh"] = np.full(n, 3), np.full(n, 5)
    neuron = SpinnakerIzhikevich(**fields, **shifts, synapse=synapse)
    spikes, states = _run_step("spinnaker_izhikevich", "spinnaker", neuron,
                               np.concatenate([exc, inh], axis=1), 1.0)
    want_spikes, want_v, want_u = spinnaker_c(p, exc, inh)
    assert np.array_equal(states[:, 0], want_v) and np.array_equal(states[:, 1], want_u)
    assert np.array_equal(spikes, want_spikes)
    tame = np.arange(n) >= n // 5
    assert spikes[:, tame].sum() > n  # the neurons fire (and so take the 1.85 h steps)


def test_spinnaker_literals_are_the_compilers():
    """The accum literals of neuron_model_izh_impl.h, as GCC converts them (truncation)."""
    from snnc.models import spinnaker_izhikevich as sp

    assert (sp.K140, sp.K5, sp.HALF) == (140 * 32768, 5 * 32768, 16384)
    assert sp.MAGIC_MULTIPLIER / 32768 == 0.040008544921875
    assert sp.SIMPLE_TQ_OFFSET == 60620 and 60620 <= 1.85 * 32768 < 60621


# --------------------------------------------------------------------------- the quantized targets


def _random_network(seed: int) -> Network:
    rng = np.random.default_rng(seed)
    net = Network(f"izh_{seed}", dt=float(rng.choice([1.0, 0.5])))
    net.source("inp", 10, poisson(rate_hz=float(rng.uniform(50, 300)), seed=seed))
    names = []
    for k in range(int(rng.integers(1, 4))):
        size = int(rng.integers(2, 9))
        a, b, c, d = list(PATTERNS.values())[int(rng.integers(0, 5))]
        neuron = Izhikevich(a=a, b=b, c=c, d=d, bias=rng.uniform(0, 8, size),
                            v_init=rng.uniform(-70, -60, size),
                            tau_syn=float(rng.choice([0.0, 3.0])))
        names.append(f"p{k}")
        net.population(names[-1], size, neuron)
        net.connect("inp", names[-1], fixed_probability(0.6, seed=seed + k),
                    weight=float(rng.uniform(1, 6)), delay=int(rng.integers(1, 4)))
    for pre, post in zip(names, names[1:] + names[:1]):  # a ring of populations (recurrence)
        net.connect(pre, post, all_to_all(), weight=float(rng.uniform(-4, 4)),
                    delay=int(rng.integers(1, 6)))
    return net


CHIPS = [("loihi-sim", "loihi", "loihi_izhikevich"),
         ("spinnaker-emu", "spinnaker", "spinnaker_izhikevich")]


@pytest.mark.parametrize("target,numerics,kind", CHIPS)
@pytest.mark.parametrize("seed", [1, 2])
def test_chips_equal_the_reference_on_random_networks(seed, target, numerics, kind):
    net = _random_network(seed)
    build = compile_network(net, target)
    assert {p.kind for p in build.network.neuron_populations()} == {kind}
    steps = 120
    got = get_backend(target).run(build, steps)
    expected = simulate(build.network, steps, numerics)
    names = [p.name for p in build.network.neuron_populations()]
    assert first_divergence(expected, got, names) is None
    assert sum(expected.spikes[name][0].size for name in names) > 0


@pytest.mark.parametrize("target,numerics,kind", CHIPS)
def test_snnc_verify_exits_0(tmp_path, target, numerics, kind):
    path = tmp_path / "net.yaml"
    save(_random_network(4), path)
    result = CliRunner().invoke(cli, ["verify", str(path), "--target", target, "--steps", "100"])
    assert result.exit_code == 0, result.output
    assert f"matches the reference ({numerics} numerics)" in result.output
    assert " 0 neuron spikes" not in result.output


def _pattern_network(dt: float = 0.5, steps: int = 600) -> Network:
    net = Network("patterns", dt=dt)
    times = np.arange(40, steps)  # a step current of 10 from step 41 on
    net.source("step", 1, spike_times(times=times, ids=np.zeros_like(times)))
    for name, (a, b, c, d) in PATTERNS.items():
        net.population(name, 1, Izhikevich(a=a, b=b, c=c, d=d))
        net.connect("step", name, all_to_all(), weight=10.0, delay=1)
    return net


def _features(times: np.ndarray, dt: float) -> np.ndarray:
    """What tells the patterns apart: the rate, the ISIs' spread (CV), the share of burst ISIs
    (below a quarter of the longest) and the typical (median) ISI."""
    isi = np.diff(times) * dt
    return np.array([np.log(len(times)), isi.std() / isi.mean(),
                     np.mean(isi < 0.25 * isi.max()), np.log(np.median(isi))])


@pytest.mark.parametrize("numerics", ["loihi", "spinnaker"])
def test_quantized_models_keep_the_firing_pattern_class(numerics):
    """Each quantized pattern's features are nearest to its own float pattern's features."""
    dt, steps = 0.5, 600
    net = _pattern_network(dt, steps)
    names = list(PATTERNS)
    floats = simulate(net, steps, "float")
    integer = simulate(quantize(net, numerics)[0].network, steps, numerics)
    reference = np.array([_features(floats.spikes[name][0], dt) for name in names])
    assert len({tuple(np.round(r, 2)) for r in reference}) == len(names)  # distinguishable
    for index, name in enumerate(names):
        mine = _features(integer.spikes[name][0], dt)
        distance = np.linalg.norm(reference - mine, axis=1)
        assert int(np.argmin(distance)) == index, (name, np.round(distance, 3))
        counts = (integer.spikes[name][0].size, floats.spikes[name][0].size)
        assert abs(counts[0] - counts[1]) <= max(2, 0.15 * counts[1]), (name, counts)


def test_quantizers_name_their_models_and_refusals_are_one_line():
    net = _pattern_network()
    for numerics, kind in (("loihi", "loihi_izhikevich"), ("spinnaker", "spinnaker_izhikevich")):
        quantized, report = quantize(net, numerics)
        assert {p.kind for p in quantized.network.neuron_populations()} == {kind}
        assert report.population("RS").quantized_kind == kind
    bad = Network("bad", dt=1.0)
    bad.population("s", 2, REGISTRY.get("spinnaker_izhikevich").example(frozenset()))
    with pytest.raises(UnsupportedOnTarget) as refusal:
        check_network(bad, "loihi-sim")
    message = str(refusal.value)
    assert "\n" not in message and "'spinnaker_izhikevich'" in message and "loihi-sim" in message


# --------------------------------------------------------------------------- examples/izhikevich


def _example():
    spec = importlib.util.spec_from_file_location("example_izhikevich_run", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_example_patterns_equal_the_equations(tmp_path):
    example = _example()
    results = example.simulate_patterns()
    onset = int(example.ONSET / example.DT)
    x = np.zeros((example.STEPS, 1))
    x[onset + 1:] = example.CURRENT  # the source fires from the onset; delay 1
    for name, (a, b, c, d) in example.PATTERNS.items():
        p = dict(a=a, b=b, c=c, d=d, v_peak=30.0, v_init=-65.0, bias=0.0, tau_syn=np.zeros(1))
        spikes, v, _ = izhikevich_numpy(p, x, example.DT)
        assert np.array_equal(results["float"][name]["v"], v[:, 0]), name
        assert results["float"][name]["spikes"] == np.flatnonzero(spikes[:, 0]).tolist()
        for numerics in ("loihi", "spinnaker"):  # the chips' runs fire as well
            assert len(results[numerics][name]["spikes"]) >= 5, (name, numerics)
    example.plot(results, tmp_path / "patterns.png")
    assert (tmp_path / "patterns.png").stat().st_size > 10_000
