"""``loihi_stdp`` against Lava 0.10 itself: Lava's ``LearningDense``/``LearningSparse`` with
``STDPLoihi``, run directly in its fixed-point simulator (``Loihi2SimCfg(select_tag="fixed_pt")``)
from random pre- and postsynaptic spike trains, must give the same weights after every step, the
same traces after every epoch and the same delivered input as the rule's numba kernels."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from lava.magma.core.learning.learning_rule import LoihiLearningRule
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import LearningDense
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.io.source import RingBuffer as Source
from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
from lava.proc.sparse.process import LearningSparse
from lava.utils.weightutils import SignMode
from scipy.sparse import csr_matrix

from snnc.backends.loihi_sim.lava_procs.learning_sparse import PyLearningSparseModelFixed
from snnc.models import RULES
from snnc.models.base import PlasticSynapses
from snnc.models.loihi_stdp import LOIHI, LoihiStdp, scaling

LAVA_SIGN = {"excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY,
             "mixed": SignMode.MIXED}


def _lava_rule(rule: LoihiStdp) -> STDPLoihi:
    return STDPLoihi(learning_rate=rule.learning_rate, A_plus=rule.A_plus, A_minus=rule.A_minus,
                     tau_plus=rule.tau_plus, tau_minus=rule.tau_minus, t_epoch=rule.t_epoch,
                     rng_seed=rule.rng_seed, x1_impulse=rule.x1_impulse,
                     y1_impulse=rule.y1_impulse)


def run_lava(rule, weights, mask, pre, post, weight_exp=0, sparse=False):
    """Lava's learning connection fed ``pre`` (into s_in) and ``post`` (into s_in_bap) spike
    rasters (neurons x steps); weights (post x pre) after every step, x1/y1 after every epoch,
    and what a_out sent at every step."""
    steps = pre.shape[1]
    kwargs = dict(learning_rule=_lava_rule(rule), sign_mode=LAVA_SIGN[rule.sign_mode],
                  weight_exp=weight_exp)
    models = {}
    if sparse:  # snnc's fix of Lava's sparse path (backends/loihi_sim/lava_procs/learning_sparse.py)
        rows, cols = np.nonzero(mask)
        matrix = csr_matrix((weights[rows, cols], (rows, cols)), shape=weights.shape)
        conn = LearningSparse(weights=matrix, **kwargs)
        models = {LearningSparse: PyLearningSparseModelFixed}
    else:
        conn = LearningDense(weights=weights.copy(), **kwargs)
    pre_src, post_src = Source(data=pre), Source(data=post)
    sink = Sink(shape=(weights.shape[0],), buffer=steps)
    pre_src.s_out.connect(conn.s_in)
    post_src.s_out.connect(conn.s_in_bap)
    conn.a_out.connect(sink.a_in)
    history, traces = [], {}
    config = Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map=models)
    try:
        for t in range(steps):
            conn.run(condition=RunSteps(1), run_cfg=config)
            if sparse:  # the stored values, explicit zeros included, in row-major order
                history.append(conn.runtime.get_var(conn.weights.id).astype(np.int64))
            else:
                history.append(conn.weights.get()[mask])
            if (t + 1) % rule.t_epoch == 0:
                traces[t] = (conn.x1.get().copy(), conn.y1.get().copy())
        received = sink.data.get().copy()
    finally:
        conn.stop()
    # the sink's column k is Lava step k + 1 = snnc step k: the input of that step (the sum over
    # step k - 1's presynaptic spikes)
    return np.array(history), traces, received[:, :steps]


def run_kernels(rule, weights, mask, pre, post, weight_exp=0):
    """The same through ``loihi_stdp``'s PlasticStep, the way the reference engine calls it."""
    n_post, n_pre = weights.shape
    steps = pre.shape[1]
    post_idx, pre_idx = np.nonzero(mask)
    syn = PlasticSynapses(
        pre=pre_idx.astype(np.int32), post=post_idx.astype(np.int32),
        weight=(weights[post_idx, pre_idx].astype(np.int64) << weight_exp),
        delay=np.ones(post_idx.size, np.int64), channel=post_idx.astype(np.int64) + 3,
        pre_first=0, post_first=n_pre, n_pre=n_pre, n_post=n_post, steps=steps,
        projection=SimpleNamespace(weight_exp=weight_exp))
    P = LOIHI.tables(rule, syn, 1.0)
    stride, slots = 1 << (n_post + 3).bit_length(), 2
    ring = np.zeros(stride * slots, np.int64)
    history, traces, received = [], {}, np.zeros((n_post, steps), np.int64)
    for t in range(steps):
        LOIHI.arrive(t, ring, stride * slots - 1, stride, P)
        slot = (t * stride) & (stride * slots - 1)
        received[:, t] = ring[slot + 3:slot + 3 + n_post]
        ring[slot:slot + stride] = 0
        spikes = np.r_[np.flatnonzero(pre[:, t]), n_pre + np.flatnonzero(post[:, t])]
        LOIHI.learn(t, spikes.astype(np.int32), P)
        history.append(LOIHI.weights(P))
        if (t + 1) % rule.t_epoch == 0:
            traces[t] = (P[7].copy(), P[9].copy())
    return np.array(history), traces, received


CASES = {
    # name: (rule, sign of weights, weight_exp, rates (pre, post), sparse)
    "epoch1": (dict(A_plus=1, A_minus=-1, tau_plus=10, tau_minus=10, t_epoch=1), 1, 0,
               (0.2, 0.2), False),
    "epoch4_fractional_impulses_saturating": (
        dict(A_plus=4, A_minus=-2, tau_plus=6.5, tau_minus=12, t_epoch=4, x1_impulse=10.5,
             y1_impulse=7.25), 1, 0, (0.45, 0.4), False),
    "mixed_exp2_epoch3": (
        dict(learning_rate=0.5, A_plus=3, A_minus=-2, tau_plus=5, tau_minus=9, t_epoch=3,
             y1_impulse=20.7, sign_mode="mixed"), 0, 2, (0.3, 0.35), False),
    "inhibitory_epoch2": (
        dict(A_plus=1, A_minus=-0.25, tau_plus=4, tau_minus=4, t_epoch=2, sign_mode="inhibitory",
             x1_impulse=30.3), -1, 1, (0.3, 0.3), False),
    "sparse_epoch2": (dict(learning_rate=2, A_plus=1, A_minus=-3, tau_plus=7, tau_minus=3,
                           t_epoch=2, x1_impulse=12.9), 1, 0, (0.3, 0.25), True),
}


def _network(sign, rates, sparse, seed, n_pre=6, n_post=4, steps=48):
    rng = np.random.default_rng(seed)
    pre = (rng.random((n_pre, steps)) < rates[0]).astype(np.int32)
    post = (rng.random((n_post, steps)) < rates[1]).astype(np.int32)
    if sign > 0:
        weights = rng.integers(0, 256, (n_post, n_pre))
    elif sign < 0:
        weights = -rng.integers(0, 256, (n_post, n_pre))
    else:
        weights = rng.integers(-256, 256, (n_post, n_pre))
    weights[0, :2] = 255 * (sign or 1)  # some start on the bound
    mask = rng.random((n_post, n_pre)) < 0.6 if sparse else np.ones((n_post, n_pre), bool)
    if sparse:
        weights[1, mask[1]] = 0  # synapses that start at 0 (Lava's own truncation drops them)
    return weights.astype(np.int64), mask, pre, post


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("case", sorted(CASES))
def test_kernels_equal_lava_learning_connection(case, seed):
    params, sign, weight_exp, rates, sparse = CASES[case]
    rule = LoihiStdp(rng_seed=11 + 5 * seed, **params)
    weights, mask, pre, post = _network(sign, rates, sparse, seed)
    lava_w, lava_traces, lava_in = run_lava(rule, weights, mask, pre, post, weight_exp, sparse)
    ours_w, our_traces, our_in = run_kernels(rule, weights, mask, pre, post, weight_exp)
    for t in range(pre.shape[1]):
        assert np.array_equal(ours_w[t], lava_w[t]), f"weights differ at step {t}"
    for t, (x1, y1) in lava_traces.items():
        assert np.array_equal(our_traces[t][0], x1) and np.array_equal(our_traces[t][1], y1), t
    assert np.array_equal(our_in, lava_in)
    assert not np.array_equal(ours_w[-1], ours_w[0])  # the rule did learn
    lo, hi = rule.weight_range
    assert ((ours_w == lo) | (ours_w == hi)).any()  # and some weight sat on a bound


@pytest.mark.parametrize("rate", [0.125, 0.25, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 3.5, 4, 5, 7, 8, 16])
@pytest.mark.parametrize("amplitude", [-8, -4.5, -3, -1, -0.3, 0.0625, 1, 2.5, 6, 7, 12, 16, 64])
def test_scaling_is_lavas_product_series(rate, amplitude):
    """The products' mantissa and exponent are those Lava's parser makes of STDPLoihi's dw."""
    dw = f"{rate} * {amplitude} * x0 * y1"
    try:
        from lava.magma.core.learning.utils import float_to_literal

        dw = f"{float_to_literal(rate)} * {float_to_literal(amplitude)} * x0 * y1"
        product = LoihiLearningRule(dw=dw, x1_tau=1, y1_tau=1).dw.products[0]
        expected = (product.s_mantissa, product.s_exp)
    except ValueError:
        with pytest.raises(ValueError):
            scaling(rate, amplitude)
        return
    assert scaling(rate, amplitude) == expected


def test_rule_is_registered_and_refuses_what_lava_cannot_represent():
    assert RULES.get("loihi_stdp").params is LoihiStdp
    with pytest.raises(ValueError, match="mantissa"):
        LoihiStdp(A_plus=9)
