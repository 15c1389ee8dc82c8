"""loihi-sim runs plastic projections as Lava's learning connections (``LearningSparse`` with
``STDPLoihi``, the post group's spikes into ``s_in_bap``): spikes and weights equal the reference's
``loihi`` numerics (``models/loihi_stdp.py``, itself checked against Lava's LearningDense and
LearningSparse run directly in tests/models/test_loihi_stdp.py); a whole network built in Lava by
hand (RingBuffer -> Dense -> LIF -> LearningDense -> LIF) equals the reference; what Lava's
learning connection cannot run is refused in one line; the float rule's quantization."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import Dense, LearningDense
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.io.source import RingBuffer as Source
from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
from lava.proc.lif.process import LIF as LavaLIF
from lava.utils.weightutils import SignMode

from snnc.api import compare
from snnc.backends.loihi_sim import LoihiSimBackend
from snnc.backends.loihi_sim.backend import plastic_weights
from snnc.backends.loihi_sim.export import export_lava
from snnc.backends.reference import simulate
from snnc.compiler import compile_network
from snnc.compiler.passes.quantize import quantize
from snnc.ir import LIF, LoihiLIF, Network, explicit, fixed_probability, poisson, spike_times
from snnc.ir.errors import UnsupportedOnTarget
from snnc.models.loihi_stdp import LoihiStdp
from snnc.models.stdp import Stdp

STEPS = 150


def plastic_network(seed: int, **rule_options) -> Network:
    """Poisson input -> hid (plastic, its only input) -> out (plastic) plus frozen paths; float
    lif, so the quantize pass makes loihi_lif and loihi_stdp of them."""
    rng = np.random.default_rng(seed)
    net = Network(f"stdp{seed}", dt=1.0)
    inp = net.source("inp", 30, poisson(float(rng.uniform(20, 50)), seed=seed))
    hid = net.population("hid", 7, LIF(tau_mem=10.0, tau_syn=3.0, v_th=1.0))
    out = net.population("out", 4, LIF(tau_mem=15.0, tau_syn=2.0, v_th=0.8))
    rule = Stdp(a_plus=float(rng.uniform(0.01, 0.05)), a_minus=float(rng.uniform(0.01, 0.05)),
                w_max=0.6, tau_plus=float(rng.uniform(10, 30)),
                tau_minus=float(rng.uniform(10, 30)), **rule_options)
    net.connect(inp, hid, fixed_probability(0.5, seed=seed + 1),
                weight={"uniform": [0.0, 0.6], "seed": seed + 2}, plasticity=rule)
    net.connect(hid, out, weight=0.35, plasticity=rule)
    net.connect(inp, out, fixed_probability(0.2, seed=seed + 4), weight=0.1)
    net.connect(out, hid, weight=-0.2, delay=3)
    return net


@pytest.mark.parametrize("seed", [3, 8])
def test_random_plastic_networks_verify(seed):
    build = compile_network(plastic_network(seed), "loihi-sim")
    result = compare(build, "loihi-sim", STEPS)
    assert result.divergence is None and result.weight_divergence is None, result
    assert result.synapses > 0 and result.spikes > 0
    initial = LoihiSimBackend().run(build, 0, record_weights={"inp->hid": 0})
    final = plastic_weights(build, STEPS)
    assert not np.array_equal(final["inp->hid"], initial.weights["inp->hid"].weights)


def test_weight_history_equals_reference():
    build = compile_network(plastic_network(5), "loihi-sim")
    wanted = {"inp->hid": 20, "hid->out": 30}
    got = LoihiSimBackend().run(build, 60, record_weights=wanted).weights
    want = simulate(build.network, 60, "loihi", record_weights=wanted).weights
    for name in wanted:
        assert np.array_equal(got[name].steps, want[name].steps)
        assert np.array_equal(got[name].history, want[name].history)
        assert np.array_equal(got[name].pre, want[name].pre)
        assert got[name].history.shape == (60 // wanted[name], want[name].pre.size)


def _hand_built_lava(rule: LoihiStdp, source_raster, w_in, w_plastic, lif, steps):
    """Lava alone: RingBuffer -> Dense -> LIF a -> LearningDense(STDPLoihi) -> LIF b, b's spikes
    into s_in_bap; spikes of a and b (steps x neurons) and the final plastic weights."""
    source = Source(data=source_raster)
    dense = Dense(weights=w_in, sign_mode=SignMode.EXCITATORY)
    a = LavaLIF(shape=(w_in.shape[0],), **lif)
    b = LavaLIF(shape=(w_plastic.shape[0],), **lif)
    learning = LearningDense(
        weights=w_plastic, sign_mode=SignMode.EXCITATORY,
        learning_rule=STDPLoihi(learning_rate=rule.learning_rate, A_plus=rule.A_plus,
                                A_minus=rule.A_minus, tau_plus=rule.tau_plus,
                                tau_minus=rule.tau_minus, t_epoch=rule.t_epoch,
                                rng_seed=rule.rng_seed, x1_impulse=rule.x1_impulse,
                                y1_impulse=rule.y1_impulse))
    sink_a, sink_b = Sink(shape=a.s_out.shape, buffer=steps), Sink(shape=b.s_out.shape, buffer=steps)
    source.s_out.connect(dense.s_in)
    dense.a_out.connect(a.a_in)
    a.s_out.connect(learning.s_in)
    learning.a_out.connect(b.a_in)
    b.s_out.connect(learning.s_in_bap)
    a.s_out.connect(sink_a.a_in)
    b.s_out.connect(sink_b.a_in)
    try:
        source.run(condition=RunSteps(steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        spikes = sink_a.data.get().T.astype(bool), sink_b.data.get().T.astype(bool)
        weights = learning.weights.get().astype(np.int64)
    finally:
        source.stop()
    return spikes, weights


@pytest.mark.parametrize("t_epoch", [1, 3])
def test_hand_built_lava_network_equals_reference(t_epoch):
    """The reference's loihi numerics of a native loihi_lif/loihi_stdp network equal the same
    network written directly in Lava (Lava's stock LearningDense model), spikes and weights."""
    rng = np.random.default_rng(t_epoch)
    steps, n_src, n_a, n_b = 80, 12, 9, 5
    lif = dict(du=1200, dv=300, vth=40, bias_mant=0, bias_exp=0)
    raster = (rng.random((n_src, steps)) < 0.3).astype(np.int32)
    w_in = rng.integers(60, 200, (n_a, n_src))
    w_plastic = rng.integers(20, 256, (n_b, n_a))
    rule = LoihiStdp(learning_rate=1, A_plus=2, A_minus=-1, tau_plus=6, tau_minus=9,
                     t_epoch=t_epoch, rng_seed=17, x1_impulse=20.5, y1_impulse=12.25)
    (lava_a, lava_b), lava_w = _hand_built_lava(rule, raster, w_in, w_plastic, lif, steps)

    net = Network("hand_built", dt=1.0)
    times, ids = np.nonzero(raster.T)
    net.source("src", n_src, spike_times(times.tolist(), ids.tolist()))
    net.population("a", n_a, LoihiLIF(**lif))
    net.population("b", n_b, LoihiLIF(**lif))
    post, pre = np.meshgrid(np.arange(n_a), np.arange(n_src), indexing="ij")
    net.connect("src", "a", explicit(pre.ravel(), post.ravel()),
                weight=w_in[post.ravel(), pre.ravel()].astype(float))
    post, pre = np.meshgrid(np.arange(n_b), np.arange(n_a), indexing="ij")
    net.connect("a", "b", explicit(pre.ravel(), post.ravel()),
                weight=w_plastic[post.ravel(), pre.ravel()].astype(float), plasticity=rule)
    record = simulate(net, steps, "loihi", record_weights={"a->b": 0})
    for name, lava in (("a", lava_a), ("b", lava_b)):
        t, i = record.spikes[name]
        ours = np.zeros_like(lava)
        ours[t, i] = True
        assert np.array_equal(ours, lava), name
    assert lava_b.any() and lava_a.any()
    weights = record.weights["a->b"]
    assert np.array_equal(weights.weights, lava_w[weights.post, weights.pre])
    assert not np.array_equal(weights.weights, w_plastic[weights.post, weights.pre])


def _native(delay=1, **rule) -> Network:
    net = Network("native")
    net.source("s", 4, poisson(50.0, seed=1))
    net.population("a", 3, LoihiLIF(du=4095, dv=0, vth=10))
    net.connect("s", "a", weight=50, delay=delay, plasticity=LoihiStdp(**rule))
    return net


def test_refusals_are_one_line():
    from snnc.backends.loihi_sim.lowering import plan

    with pytest.raises(UnsupportedOnTarget, match="needs delay 1"):
        plan(_native(delay=2), 10)
    with pytest.raises(UnsupportedOnTarget, match="additive"):
        compile_network(plastic_network(1, weight_dependence="multiplicative"), "loihi-sim")
    with pytest.raises(UnsupportedOnTarget, match="nearest"):
        compile_network(plastic_network(1, pairing="nearest"), "loihi-sim")
    net = Network("repeated")
    net.source("s", 4, poisson(50.0, seed=1))
    net.population("a", 3, LoihiLIF(du=4095, dv=0, vth=10))
    net.connect("s", "a", explicit([0, 1, 0], [2, 2, 2]), weight=20, plasticity=LoihiStdp())
    with pytest.raises(UnsupportedOnTarget, match="twice"):
        plan(net, 10)


def test_export_lava_refuses_plastic_networks(tmp_path):
    build = compile_network(plastic_network(2), "loihi-sim")
    with pytest.raises(UnsupportedOnTarget, match="plastic"):
        export_lava(build, 10, str(tmp_path), tmp_path / "net.py")


def test_quantized_rule_keeps_the_float_steps():
    """A * impulse is the float step in integer units, one decay step moved (the pair is timed at
    the presynaptic send, not the arrival); tau in steps; what changes is in the report."""
    net = plastic_network(4)
    net = Network(net.name, dt=0.5, populations=net.populations, projections=net.projections)
    quantized, report = quantize(net, "loihi")
    float_rule = net.projections[0].plasticity
    entry = next(p for p in report.projections if p.name == "inp->hid")
    rule = quantized.network.projections[0].plasticity
    assert isinstance(rule, LoihiStdp) and rule.t_epoch == 1 and rule.learning_rate == 1
    assert rule.tau_plus == float_rule.tau_plus / 0.5
    plus = float_rule.a_plus / entry.scale * math.exp(0.5 / float_rule.tau_plus)
    minus = float_rule.a_minus / entry.scale * math.exp(-0.5 / float_rule.tau_minus)
    assert abs(rule.A_plus * rule.x1_impulse - plus) <= rule.A_plus / 512
    assert abs(-rule.A_minus * rule.y1_impulse - minus) <= -rule.A_minus / 512
    assert 16 <= rule.x1_impulse < 32 and 16 <= rule.y1_impulse < 32
    assert math.log2(rule.A_plus).is_integer() and math.log2(-rule.A_minus).is_integer()
    w_max_units = float_rule.w_max / entry.scale
    assert w_max_units <= 255  # weight_exp was chosen for weights grown to w_max
    text = " ".join(report.warnings)
    assert "stochastically" in text and "also potentiates" in text and "[0," in text


def test_recurrent_plastic_projection_verifies():
    """A plastic projection from a population onto itself: its spikes are both the connection's
    presynaptic input and its back-propagated postsynaptic spikes."""
    net = Network("recurrent", dt=1.0)
    net.source("inp", 20, poisson(60.0, seed=2))
    net.population("a", 8, LIF(tau_mem=8.0, tau_syn=2.0, v_th=1.0))
    net.connect("inp", "a", fixed_probability(0.5, seed=3), weight=0.3)
    net.connect("a", "a", fixed_probability(0.6, seed=4),
                weight={"uniform": [0.0, 0.3], "seed": 5},
                plasticity=Stdp(a_plus=0.02, a_minus=0.025, w_max=0.4))
    result = compare(compile_network(net, "loihi-sim"), "loihi-sim", 120)
    assert result.divergence is None and result.weight_divergence is None, result
    assert result.synapses > 0 and result.spikes > 0


def test_native_rule_with_epochs_and_mixed_signs_verifies():
    """loihi_stdp written directly: t_epoch 3, mixed-sign weights with weight_exp 1, fractional
    impulses; loihi-sim equals the reference in spikes and weights."""
    rng = np.random.default_rng(9)
    net = Network("native_epochs", dt=1.0)
    net.source("inp", 16, poisson(80.0, seed=4))
    net.population("a", 6, LoihiLIF(du=1500, dv=400, vth=30))
    net.population("b", 4, LoihiLIF(du=2500, dv=200, vth=25))
    rule = LoihiStdp(learning_rate=0.5, A_plus=3, A_minus=-2, tau_plus=5, tau_minus=7,
                     t_epoch=3, rng_seed=21, x1_impulse=18.5, y1_impulse=9.75, sign_mode="mixed")
    net.connect("inp", "a", weight=rng.integers(-60, 200, 96).astype(float), weight_exp=1,
                plasticity=rule)
    net.connect("a", "b", weight=rng.integers(20, 120, 24).astype(float))
    build = compile_network(net, "loihi-sim")
    result = compare(build, "loihi-sim", 120)
    assert result.divergence is None and result.weight_divergence is None, result
    assert result.synapses == 96 and result.spikes > 0
    initial = LoihiSimBackend().run(build, 0, record_weights={"inp->a": 0}).weights["inp->a"]
    final = plastic_weights(build, 120)["inp->a"]
    assert (initial.weights < 0).any() and not np.array_equal(final, initial.weights)
