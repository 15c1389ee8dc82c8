"""``sigma_delta_float`` and ``spinnaker_sigma_delta``: the sigma-delta neuron in float64 and in
s16.15, and the quantizers that bring a float SDNN to loihi-sim and spinnaker-emu.

1. The float step equals a numpy loop of the stated equations (every act_mode x cum_error), and a
   hand-computed trace; ``simulate(..., "float")`` of source -> sdn -> sdn equals the loop fed by
   the delivery rule (``w * m[t]`` arrives at ``t + d``).
2. The spinnaker step equals a numpy int64 loop of its equations (uint16 saturation of the ring
   sums, the receptor shifts, 32-bit wraps).
3. spinnaker-emu equals the reference's spinnaker numerics, and loihi-sim (Lava's own SigmaDelta)
   the reference's loihi numerics, on small random float networks of sigma-delta layers feeding
   LIF layers, compiled by the quantizers (sigma of every sigma-delta layer, every LIF spike).
4. The quantized sigma tracks the float sigma in float units (the quantizers' units are right),
   and a float SDNN whose layers differ in vth is refused for loihi in one line.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends import first_divergence, get_backend
from snnc.backends.reference import simulate
from snnc.compiler import compile_network
from snnc.compiler.passes.quantize import quantize
from snnc.ir import (
    Network,
    UnsupportedOnTarget,
    all_to_all,
    fixed_probability,
    poisson,
    spike_times,
)
from snnc.models import REGISTRY
from snnc.models.sigma_delta_float import (
    MESSAGE,
    SIGMA,
    SigmaDeltaFloat,
    float_tables,
    float_update,
)
from snnc.models.spinnaker_sigma_delta import SpinnakerSigmaDelta, tables, update


# --------------------------------------------------------------------------- the float equations
def numpy_sdn(inputs: np.ndarray, vth: float, bias: np.ndarray, relu: bool,
              cum_error: bool) -> tuple[np.ndarray, np.ndarray]:
    """(sigma, message) per step: the docstring's equations, vectorized over neurons."""
    steps, size = inputs.shape
    sigma, act, residue, error = (np.zeros(size) for _ in range(4))
    sigmas, messages = np.zeros((steps, size)), np.zeros((steps, size))
    for t in range(steps):
        sigma = sigma + inputs[t]
        new_act = sigma + bias
        if relu:
            new_act = np.maximum(new_act, 0.0)
        delta = new_act - act + residue
        if cum_error:
            error = error + delta
            sent = np.where(np.abs(error) >= vth, delta, 0.0)
            error = np.where(sent != 0, 0.0, error)
        else:
            sent = np.where(np.abs(delta) >= vth, delta, 0.0)
        residue, act = delta - sent, new_act
        sigmas[t], messages[t] = sigma, sent
    return sigmas, messages


def _run_float(neuron: SigmaDeltaFloat, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    steps, size = inputs.shape
    params, state = float_tables(neuron, size)
    out = np.zeros(size, np.int32)
    sigmas, messages = np.zeros((steps, size)), np.zeros((steps, size))
    for t in range(steps):
        assert float_update(inputs[t].astype(np.float64), params, state, 0, size, out, 0, 0) == 0
        sigmas[t], messages[t] = state[SIGMA], state[MESSAGE]
    return sigmas, messages


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("cum_error", [False, True])
def test_float_step_equals_the_equations(relu, cum_error):
    rng = np.random.default_rng(7 + 2 * relu + cum_error)
    size, steps, vth = 10, 80, 0.3
    bias = rng.uniform(-1, 1, size)
    inputs = rng.normal(0, 0.4, (steps, size)) * (rng.random((steps, size)) < 0.6)
    neuron = SigmaDeltaFloat(vth=vth, bias=bias, act_mode="relu" if relu else "unit",
                             cum_error=cum_error)
    got = _run_float(neuron, inputs)
    want = numpy_sdn(inputs, vth, bias, relu, cum_error)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert np.any(got[1] != 0) and np.any(got[1] == 0)  # graded and sparse


def test_float_hand_computed_trace():
    """vth 1, bias 0.5, relu; input 2, 0.25, 0.5, -4: sigma 2, 2.25, 2.75, -1.25;
    act 2.5, 2.75, 3.25, 0; delta 2.5, 0.25, 0.5 + residue 0.25 = 0.75, -3.25 + residue 0.75 =
    -2.5; |delta| >= 1: sent 2.5, -, -, -2.5."""
    inputs = np.array([[2.0], [0.25], [0.5], [-4.0]])
    sigmas, messages = _run_float(SigmaDeltaFloat(vth=1.0, bias=0.5), inputs)
    assert sigmas[:, 0].tolist() == [2.0, 2.25, 2.75, -1.25]
    assert messages[:, 0].tolist() == [2.5, 0.0, 0.0, -2.5]
    # cum_error, vth 1: deltas 0.5 (error 0.5, held), 0.5 + 0.5 = 1.0 (error 1.5: sent, reset)
    _, messages = _run_float(SigmaDeltaFloat(vth=1.0, cum_error=True, act_mode="unit"),
                             np.array([[0.5], [0.5], [0.0]]))
    assert messages[:, 0].tolist() == [0.0, 1.0, 0.0]


def test_float_simulate_two_graded_layers_equals_numpy():
    steps, rng = 60, np.random.default_rng(3)
    times, ids = np.nonzero(rng.random((steps, 4)) < 0.3)
    w1 = rng.uniform(0, 0.8, (3, 4))  # post x pre
    w2 = rng.uniform(-1, 1, (2, 3))
    net = Network("sdnf", dt=1.0)
    net.source("inp", 4, spike_times(times=times, ids=ids))
    net.population("a", 3, SigmaDeltaFloat(vth=0.2, bias=[-0.3, 0.0, 0.4]))
    net.population("b", 2, SigmaDeltaFloat(vth=0.1, act_mode="unit", cum_error=True))
    net.connect("inp", "a", all_to_all(), weight=w1.T.ravel())
    net.connect("a", "b", all_to_all(), weight=w2.T.ravel(), delay=2)
    record = simulate(net, steps, "float", record_v=["a", "b"])
    spikes = np.zeros((steps, 4))
    spikes[times, ids] = 1
    a_in = np.zeros((steps, 3))
    a_in[1:] = spikes[:-1] @ w1.T
    sigma_a, sent_a = numpy_sdn(a_in, 0.2, np.array([-0.3, 0.0, 0.4]), True, False)
    b_in = np.zeros((steps, 2))
    b_in[2:] = sent_a[:-2] @ w2.T
    sigma_b, _ = numpy_sdn(b_in, 0.1, np.zeros(2), False, True)
    np.testing.assert_allclose(record.voltages["a"], sigma_a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(record.voltages["b"], sigma_b, rtol=0, atol=1e-12)
    assert np.any(sent_a != 0) and np.any(sent_a == 0) and np.any(sigma_b != 0)


# --------------------------------------------------------------------------- the s16.15 equations
def _wrap(x: np.ndarray) -> np.ndarray:
    return (x + 2**31) % 2**32 - 2**31


def numpy_spinnaker_sdn(exc, inh, neuron: SpinnakerSigmaDelta, size: int):
    """(sigma, message) per step of the s16.15 equations, int64 numpy, from the ring sums."""
    steps = exc.shape[0]
    bias = np.broadcast_to(np.asarray(neuron.bias, np.int64), (size,))
    sigma, act, residue, error = (np.zeros(size, np.int64) for _ in range(4))
    sigmas, messages = np.zeros((steps, size), np.int64), np.zeros((steps, size), np.int64)
    for t in range(steps):
        a = _wrap(_wrap(np.minimum(exc[t], 0xFFFF) << neuron.weight_shift_exc)
                  - _wrap(np.minimum(inh[t], 0xFFFF) << neuron.weight_shift_inh))
        sigma = _wrap(sigma + a)
        new_act = _wrap(sigma + bias)
        if neuron.act_mode == "relu":
            new_act = np.maximum(new_act, 0)
        delta = _wrap(new_act - act + residue)
        mag = np.where(delta == -(2**31), -(2**31), np.abs(delta))
        if neuron.cum_error:
            error = _wrap(error + delta)
            emag = np.where(error == -(2**31), -(2**31), np.abs(error))
            sent = np.where(emag >= neuron.vth, delta, 0)
            error = np.where(sent != 0, 0, error)
        else:
            sent = np.where(mag >= neuron.vth, delta, 0)
        residue, act = _wrap(delta - sent), new_act
        sigmas[t], messages[t] = sigma, sent >> neuron.payload_shift
    return sigmas, messages


@pytest.mark.parametrize("act_mode, cum_error", [("relu", False), ("unit", True),
                                                 ("unit", False), ("relu", True)])
def test_spinnaker_step_equals_the_equations(act_mode, cum_error):
    rng = np.random.default_rng(hash((act_mode, cum_error)) % 2**32)
    size, steps = 8, 100
    neuron = SpinnakerSigmaDelta(vth=int(rng.integers(2**20, 2**24)),
                                 bias=rng.integers(-(2**17), 2**17, size), act_mode=act_mode,
                                 cum_error=cum_error, weight_shift_exc=12, weight_shift_inh=13,
                                 payload_shift=4)
    exc = rng.integers(0, 2**13, (steps, size)) * (rng.random((steps, size)) < 0.5)
    inh = rng.integers(0, 2**12, (steps, size)) * (rng.random((steps, size)) < 0.5)
    exc[:, -1] = rng.integers(0x10000, 0x30000, steps)  # saturates at 0xFFFF; sigma wraps
    params, state = tables(neuron, size)
    out = np.zeros(size, np.int32)
    want = numpy_spinnaker_sdn(exc, inh, neuron, size)
    for t in range(steps):
        x = np.concatenate([exc[t], inh[t]]).astype(np.int64)
        assert update(x, params, state, 0, size, out, 0, 0) == 0
        assert np.array_equal(state[SIGMA], want[0][t]), t
        assert np.array_equal(state[MESSAGE], want[1][t]), t
    assert np.any(want[1] != 0) and np.any(want[1] == 0)
    assert np.any(np.diff(want[0][:, -1]) < 0)  # the saturated column wrapped around int32


# --------------------------------------------------------------------------- the chips
def _random_sdnn(seed: int, vth: float, act_mode: str, cum_error: bool) -> Network:
    """source -> one or two sigma-delta layers -> a LIF layer (one vth, act_mode, cum_error:
    Lava's one SigmaDelta process holds one)."""
    rng = np.random.default_rng(seed)
    net = Network(f"sdnn_{seed}", dt=1.0)
    net.source("inp", 8, poisson(rate_hz=float(rng.uniform(100, 300)), seed=seed))
    pre = "inp"
    for k in range(int(rng.integers(1, 3))):
        size = int(rng.integers(3, 7))
        neuron = SigmaDeltaFloat(vth=vth, bias=rng.uniform(-0.5, 0.3, size), act_mode=act_mode,
                                 cum_error=cum_error)
        net.population(f"s{k}", size, neuron)
        if pre == "inp":
            net.connect(pre, f"s{k}", fixed_probability(0.7, seed=seed + k),
                        weight=float(rng.uniform(0.1, 0.3)), delay=int(rng.integers(1, 4)))
        else:  # graded sigma-delta -> sigma-delta, mixed signs
            w = rng.uniform(-0.5, 1.5, (size, net.populations[pre].size))
            net.connect(pre, f"s{k}", all_to_all(), weight=w.T.ravel(),
                        delay=int(rng.integers(1, 4)))
        pre = f"s{k}"
    net.population("out", 3, REGISTRY.get("lif").params(tau_mem=10.0, tau_syn=2.0, v_th=1.0))
    out_w = rng.uniform(-0.5, 2.0, (3, net.populations[pre].size))
    net.connect(pre, "out", all_to_all(), weight=out_w.T.ravel(), delay=int(rng.integers(1, 3)))
    return net


CHIPS = [("loihi-sim", "loihi", "sigma_delta"), ("spinnaker-emu", "spinnaker",
                                                 "spinnaker_sigma_delta")]
NETS = [(1, 0.2, "relu", False), (2, 0.1, "unit", True)]


@pytest.mark.parametrize("target, numerics, kind", CHIPS)
@pytest.mark.parametrize("seed, vth, act_mode, cum_error", NETS)
def test_chips_equal_the_reference_on_random_sdnns(target, numerics, kind, seed, vth, act_mode,
                                                   cum_error):
    net = _random_sdnn(seed, vth, act_mode, cum_error)
    build = compile_network(net, target)
    layers = [p.name for p in build.network.neuron_populations() if p.kind == kind]
    assert layers and len(layers) == len(net.populations) - 2
    steps = 80
    got = get_backend(target).run(build, steps, record_v=layers)
    expected = simulate(build.network, steps, numerics, record_v=layers)
    assert first_divergence(expected, got, ["out"]) is None
    for name in layers:
        assert np.array_equal(got.voltages[name], expected.voltages[name]), name
        assert np.any(expected.voltages[name] != 0)
    assert expected.spikes["out"][0].size > 0  # the graded messages drive the LIF layer


@pytest.mark.parametrize("numerics", ["loihi", "spinnaker"])
def test_quantized_sigma_tracks_the_float_sigma(numerics):
    """The first layer's integer sigma, in float units (1/S on Loihi, 2**-15 on SpiNNaker),
    stays within a few percent of the float sigma's range: the units are the float ones."""
    net = _random_sdnn(1, 0.2, "relu", False)
    quantized, report = quantize(net, numerics)
    steps = 80
    want = simulate(net, steps, "float", record_v=["s0"]).voltages["s0"]
    got = simulate(quantized.network, steps, numerics, record_v=["s0"]).voltages["s0"]
    entry = next(p for p in report.populations if p.name == "s0")
    error = np.abs(got * entry.scale - want).max()
    assert error <= 0.03 * np.abs(want).max(), (error, np.abs(want).max())


def test_differing_vths_are_refused_for_loihi_in_one_line():
    net = _random_sdnn(1, 0.2, "relu", False)
    net.population("s9", 2, SigmaDeltaFloat(vth=0.4))
    net.connect("inp", "s9", all_to_all(), weight=0.3)
    with pytest.raises(UnsupportedOnTarget) as refusal:
        compile_network(net, "loihi-sim")
    message = str(refusal.value)
    assert "\n" not in message and "sigma_delta_float" in message and "vth" in message
    assert "loihi-sim" in message
    compile_network(net, "spinnaker-emu")  # each SpiNNaker population has its own vth
    net = _random_sdnn(1, 0.2, "relu", False)  # one vth, two act_modes: refused on the result
    net.population("s9", 2, SigmaDeltaFloat(vth=0.2, act_mode="unit"))
    net.connect("inp", "s9", all_to_all(), weight=0.3)
    with pytest.raises(UnsupportedOnTarget, match="differ in act_mode"):
        compile_network(net, "loihi-sim")


def test_registry_entries():
    float_model, spin = REGISTRY.get("sigma_delta_float"), REGISTRY.get("spinnaker_sigma_delta")
    assert not float_model.spiking and float_model.native_numerics is None
    assert float_model.steps["float"].message_row == MESSAGE
    assert {q.to for q in float_model.quantizers.values()} == {"sigma_delta",
                                                               "spinnaker_sigma_delta"}
    step = spin.steps["spinnaker"]
    assert step.input == "exc_inh" and step.message_row == MESSAGE and step.dtype is np.int64
    assert spin.native_numerics == "spinnaker" and "spinnaker-emu" in spin.lowerings
