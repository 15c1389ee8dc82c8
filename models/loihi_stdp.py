r"""The ``loihi_stdp`` learning rule: Lava 0.10's ``STDPLoihi`` on a learning connection, in the
fixed point of ``PyLearningDenseModelBitApproximate`` / ``PyLearningSparseModelBitApproximate``
(the models ``Loihi2SimCfg(select_tag="fixed_pt")`` picks for ``LearningDense`` /
``LearningSparse``), bit for bit: traces, impulses, decays, stochastic rounding and its seeds,
the learning epoch.

Sources (lava-nc 0.10): the rule ``lava/proc/learning_rules/stdp_learning_rule.py``; its
parameters ``lava/magma/core/learning/learning_rule.py``; the learning engine
``lava/magma/core/model/py/connection.py`` (``PyLearningConnection``,
``LearningConnectionModelBitApproximate``); the products ``lava/magma/core/learning/
product_series.py`` and ``learning_rule_applier.py`` (``LearningRuleApplierBitApprox``); the widths
``lava/magma/core/learning/constants.py``; the random streams ``lava/magma/core/learning/
random.py``; the weight formats ``lava/utils/weightutils.py``. The equations are in
:class:`LoihiStdp`; docs/learning/loihi_stdp.md says what they mean for a network.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from snnc.ir.values import _Frozen

from .base import LearningRule, PlasticStep, PlasticSynapses
from .jit import njit

TRACE_MAX = 2**7 - 1  # W_TRACE = 7: traces saturate at 127
IMPULSE_FRACTION_BITS = 8  # W_TRACE_FRACTIONAL_PART: an impulse's fraction in 1/256
ACCUMULATOR_MAX = 2**15 - 1  # W_ACCUMULATOR_U = 15 (Lava's lower bound is -(2**15) - 1)
ACCUMULATOR_MIN = -(2**15) - 1
WEIGHT_SHIFT = 7  # W_ACCUMULATOR_S - W_WEIGHTS_S = 16 - 9: weights sit << 7 in the accumulator
SIGN_MODES = ("excitatory", "inhibitory", "mixed")
CONN_VAR_SEED = 2  # ConnVarRandom()'s default seed: Lava never passes rng_seed to it
SCALING_EXP_OFFSET = 7  # Product stores its exponent + 7


def _literal(value: float) -> tuple[int, int]:
    """``float_to_literal`` (lava: src/lava/magma/core/learning/utils.py) as (mantissa, exponent):
    ``value ~ mantissa * 2**exponent`` with ``mantissa = sign * max(int(|value|), 1)`` and the
    exponent the rounded log2 of what is left (lossy: 0.3 becomes 2**-2, 1.5 becomes 2)."""
    if value == 0:
        return 0, 0
    sign = int(np.sign(value))
    magnitude = abs(value)
    mantissa = max(int(magnitude), 1)
    remainder = magnitude / mantissa
    if remainder == 1:
        return sign * mantissa, 0
    return sign * mantissa, int(np.round(np.log2(remainder)))


def scaling(learning_rate: float, amplitude: float) -> tuple[int, int]:
    """The ``(s_mantissa, s_exp)`` Lava's ``ProductSeries`` gives the product
    ``learning_rate * amplitude * ...``: both literals multiplied, an even mantissa above 7 halved
    into the exponent, ``s_exp`` stored + 7 (lava: product_series.py ``_generate_product``).
    Raises ``ValueError`` where Lava does (mantissa outside -8..7, exponent outside -7..8)."""
    m_rate, e_rate = _literal(learning_rate)
    m_amp, e_amp = _literal(amplitude)
    mantissa, exponent = m_rate * m_amp, e_rate + e_amp
    while abs(mantissa) > 7 and mantissa % 2 == 0 and exponent < 8:
        mantissa, exponent = mantissa // 2, exponent + 1
    if not -8 <= mantissa < 8:
        raise ValueError(f"learning_rate * A = {learning_rate * amplitude:g} is Lava's mantissa "
                         f"{mantissa}: not representable (Loihi's is -8..7)")
    if not -7 <= exponent < 9:
        raise ValueError(f"learning_rate * A = {learning_rate * amplitude:g} needs the exponent "
                         f"{exponent}: Loihi's is -7..8")
    return mantissa, exponent + SCALING_EXP_OFFSET


def impulse_parts(impulse: float) -> tuple[int, int]:
    """An impulse as Lava's fixed-point model holds it: integer part and fraction in 1/256
    (``_decompose_impulses``: ``round((impulse - floor) * 256)``)."""
    whole = math.floor(impulse)
    return int(whole), int(np.round((impulse - whole) * 2**IMPULSE_FRACTION_BITS))


class LoihiStdp(_Frozen):
    r"""Lava's ``STDPLoihi`` (a 2-factor rule) on a ``LearningDense``/``LearningSparse``, fixed point.

    Parameters have Lava's names and meaning; times are in steps. Per presynaptic neuron a trace
    :math:`x_1` and the within-epoch time of its last spike :math:`t_x`; per postsynaptic neuron
    :math:`y_1`, :math:`t_y`; all 0 at the start. Lava's step :math:`\tau` is snnc's step
    :math:`t + 1`; :math:`e(\tau) = \tau \bmod T` (or :math:`T` when 0), :math:`T` = ``t_epoch``.
    Six random streams, as Lava draws them (numpy ``default_rng``; :math:`s` = ``rng_seed``):
    :math:`r^x_d, r^x_i, r^y_d, r^y_i` from seeds :math:`s, s+1, s+2, s+3` (one draw at start, then
    two per step; ``d``: uniform [0, 1), ``i``: integer 0..127), and :math:`r_w` from seed 2 (one
    draw at start, then one per epoch). :math:`I = I_{int} + I_{frac}/256` is an impulse,
    :math:`[c]` is 1 if :math:`c` holds, :math:`sat(v) = \min(\max(v, 0), 127)`.

    Every step :math:`\tau`, the connection first delivers :math:`\sum_{pre\ spiked} w` (shifted by
    the projection's ``weight_exp``) to step :math:`\tau + 1`, then, for a presynaptic spike:
    :math:`x_1 \leftarrow sat(x_1 + I^x_{int} + [0 < I^x_{frac}])` if :math:`t_x > 0` (a second
    spike in the epoch), then :math:`t_x \leftarrow e(\tau)`; for a postsynaptic spike:
    :math:`y_1 \leftarrow sat(y_1 + I^y_{int} + [r^y_i < I^y_{frac}])` if :math:`t_y > 0`, then
    :math:`t_y \leftarrow e(\tau)` (the random of draw :math:`2\tau - 1`). When :math:`\tau \bmod T
    = 0`, with the draws :math:`2\tau` of the trace streams and draw :math:`\tau / T` of
    :math:`r_w`, the traces are replayed through the epoch, :math:`X_0 = x_1`, for :math:`k =
    1..T`:

    .. math::

        X_k &= \lfloor \alpha_+ X_{k-1} \rfloor + [r^x_d < \mathrm{frac}(\alpha_+ X_{k-1})],
            \qquad \alpha_+ = e^{-1/\tau_+} \\
        X_k &\leftarrow sat(X_k + I^x_{int} + [r^x_i < I^x_{frac}]) \quad \text{if } t_x = k

    (:math:`Y` alike with :math:`\tau_-`, :math:`y`), :math:`x_1 = X_T`, :math:`y_1 = Y_T`; and
    each synapse (pre :math:`i`, post :math:`j`) is updated in Lava's 16-bit accumulator from
    ``dw = learning_rate * A_minus * x0 * y1 + learning_rate * A_plus * y0 * x1``, its two
    products scaled by :math:`m_\pm 2^{e_\pm - 7}` (:func:`scaling`):

    .. math::

        a &= w \ll 7 \\
        a &\leftarrow c(a + c([t_x^i > 0]\, Y_{t_x^i, j}\, m_- \ll e_-)), \qquad
        a \leftarrow c(a + c([t_y^j > 0]\, X_{t_y^j, i}\, m_+ \ll e_+)) \\
        a &\leftarrow \max(a, 0) \text{ (excitatory; } \min(a, 0) \text{ inhibitory)}, \qquad
        w = \mathrm{clip}(\lfloor a / 128 \rfloor + [r_w < \mathrm{frac}(a / 128)])

    with :math:`c` the clip to :math:`[-2^{15}-1, 2^{15}-1]` and the final clip to the sign mode's
    weight range ([0, 255], [-255, 0], [-256, 255]); then :math:`t_x = t_y = 0`. At the first step
    Lava truncates the initial weights as ``truncate_weights`` (mixed: the lowest bit).

    Limits (Lava's, kept): one delay (1 step), weights of 8 bits + sign shared by the whole
    projection's ``weight_exp``, traces of 7 bits; ``A_plus``/``A_minus``/``learning_rate`` are
    powers of two times a small integer (Lava rounds them, :func:`scaling`); ``A_minus < 0``
    depresses. ``tau_plus``/``tau_minus`` must be > 0 (Lava's 0 would zero the trace).
    """

    rule: Literal["loihi_stdp"] = "loihi_stdp"
    learning_rate: float = Field(default=1.0, allow_inf_nan=False)
    A_plus: float = Field(default=1.0, allow_inf_nan=False)
    A_minus: float = Field(default=-1.0, allow_inf_nan=False)
    tau_plus: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    tau_minus: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    t_epoch: int = Field(default=1, ge=1, le=63)
    rng_seed: int = Field(default=0, ge=0, le=2**31 - 5)
    x1_impulse: float = Field(default=16.0, ge=0, lt=128, allow_inf_nan=False)
    y1_impulse: float = Field(default=16.0, ge=0, lt=128, allow_inf_nan=False)
    sign_mode: Literal["excitatory", "inhibitory", "mixed"] = "excitatory"

    @model_validator(mode="after")
    def _representable(self) -> "LoihiStdp":
        scaling(self.learning_rate, self.A_minus)  # ValueError where Lava's parser raises
        scaling(self.learning_rate, self.A_plus)
        return self

    @property
    def weight_range(self) -> tuple[int, int]:
        """Lava's ``clip_weights(num_bits=8)`` range after a learning epoch."""
        return {"excitatory": (0, 255), "inhibitory": (-255, 0), "mixed": (-256, 255)}[
            self.sign_mode]


# ---- the fixed-point arithmetic -----------------------------------------------------------------
# P = (iconf, fconf, w, by_pre, by_pre_start, post, post_channel, x1, tx, y1, ty, pending,
#      x_history, y_history, x_decay_r, x_impulse_r, y_decay_r, y_impulse_r, weight_r, by_post,
#      by_post_start, pre)
#   iconf: int64[pre_first, post_first, n_pre, n_post, t_epoch, sign (0 exc, 1 inh, 2 mixed),
#                m_minus, e_minus, m_plus, e_plus, x_int, x_frac, y_int, y_frac, weight_exp,
#                w_lo, w_hi, any_pending, swept (1 after the first epoch: all weights in range)]
#   fconf: float64[alpha_plus, alpha_minus]
#   w: int64 weights (Lava's 8-bit values, before weight_exp), synapse order
#   by_pre[by_pre_start[i]:by_pre_start[i+1]]: synapses of pre neuron i; post[s]: post-local index
#   pending[j]: what post neuron j receives at the next step (sum of w of this step's pre spikes)
#   *_r: Lava's random draws, index k = the k-th draw (0: the one made at construction)
_ICONF = ("pre_first", "post_first", "n_pre", "n_post", "t_epoch", "sign", "m_minus", "e_minus",
          "m_plus", "e_plus", "x_int", "x_frac", "y_int", "y_frac", "weight_exp", "w_lo", "w_hi",
          "any_pending", "swept")


def random_draws(rule: LoihiStdp, steps: int) -> tuple[np.ndarray, ...]:
    """Lava's random numbers for ``steps`` steps, in draw order (``TraceRandom``: seeds
    ``rng_seed .. rng_seed + 3``, 1 + 2 * steps draws; ``ConnVarRandom``: seed 2, one draw per
    epoch). A batch of ``n`` draws is the sequence of ``n`` single draws (tests/models/
    test_loihi_stdp.py runs Lava itself for the proof)."""
    count = 2 * steps + 1
    seed = rule.rng_seed

    def uniform(s: int, n: int) -> np.ndarray:
        return np.random.default_rng(seed=s).random(n)

    def integer(s: int) -> np.ndarray:
        return np.random.default_rng(seed=s).integers(0, 2**7, size=count, dtype=int)

    epochs = steps // rule.t_epoch + 1
    return (uniform(seed, count), integer(seed + 1).astype(np.int64), uniform(seed + 2, count),
            integer(seed + 3).astype(np.int64), uniform(CONN_VAR_SEED, epochs))


def initial_weights(rule: LoihiStdp, syn: PlasticSynapses) -> np.ndarray:
    """The weights as Lava holds them after its first ``run_spk`` (int64): the ring units shifted
    back by the projection's ``weight_exp``, truncated as ``truncate_weights(sign_mode, 8)``."""
    weight_exp = _weight_exp(syn)
    w = np.asarray(syn.weight, dtype=np.int64) >> weight_exp
    if rule.sign_mode == "mixed":
        return (w >> 1) << 1
    return w


def _weight_exp(syn: PlasticSynapses) -> int:
    return int(getattr(syn.projection, "weight_exp", 0) or 0)


def tables(rule: LoihiStdp, syn: PlasticSynapses, dt: float) -> tuple:
    """One projection's fixed-point state (the layout above); ``dt`` is unused (times in steps)."""
    del dt
    m_minus, e_minus = scaling(rule.learning_rate, rule.A_minus)
    m_plus, e_plus = scaling(rule.learning_rate, rule.A_plus)
    x_int, x_frac = impulse_parts(rule.x1_impulse)
    y_int, y_frac = impulse_parts(rule.y1_impulse)
    w_lo, w_hi = rule.weight_range
    iconf = np.array([syn.pre_first, syn.post_first, syn.n_pre, syn.n_post, rule.t_epoch,
                      SIGN_MODES.index(rule.sign_mode), m_minus, e_minus, m_plus, e_plus,
                      x_int, x_frac, y_int, y_frac, _weight_exp(syn), w_lo, w_hi, 0, 0],
                     dtype=np.int64)
    # Lava: np.exp(-t / taus) over the array of taus, t = 1
    alphas = np.exp(-1 / np.array([rule.tau_plus, rule.tau_minus], dtype=np.float64))
    pre = syn.pre.astype(np.int64)
    post = syn.post.astype(np.int64)
    by_pre = np.argsort(pre, kind="stable").astype(np.int64)
    by_pre_start = np.zeros(syn.n_pre + 1, np.int64)
    np.cumsum(np.bincount(pre, minlength=syn.n_pre), out=by_pre_start[1:])
    by_post = np.argsort(post, kind="stable").astype(np.int64)
    by_post_start = np.zeros(syn.n_post + 1, np.int64)
    np.cumsum(np.bincount(post, minlength=syn.n_post), out=by_post_start[1:])
    post_channel = np.zeros(syn.n_post, np.int64)
    post_channel[post] = np.asarray(syn.channel, dtype=np.int64)
    rows = rule.t_epoch + 1
    return (iconf, alphas, initial_weights(rule, syn), by_pre, by_pre_start, post, post_channel,
            np.zeros(syn.n_pre, np.int64), np.zeros(syn.n_pre, np.int64),
            np.zeros(syn.n_post, np.int64), np.zeros(syn.n_post, np.int64),
            np.zeros(syn.n_post, np.int64), np.zeros((rows, max(syn.n_pre, 1)), np.int64),
            np.zeros((rows, max(syn.n_post, 1)), np.int64),
            *random_draws(rule, syn.steps), by_post, by_post_start, pre)


@njit(cache=True, nogil=True)
def arrive(t, ring, wrap, stride, P):
    """Deliver at step ``t`` what step ``t - 1``'s presynaptic spikes sent (Lava's ``a_buff``:
    summed per post neuron, then shifted by ``weight_exp`` >= 0)."""
    iconf, post_channel, pending = P[0], P[6], P[11]
    if iconf[17] == 0:
        return
    weight_exp = iconf[14]
    base = t * stride
    for j in range(pending.size):
        if pending[j] != 0:
            ring[(base + post_channel[j]) & wrap] += pending[j] << weight_exp
            pending[j] = 0
    iconf[17] = 0


@njit(cache=True, nogil=True)
def _add_impulse(value, whole, fraction, random):
    """``_add_impulse``: add, round up when the random is below the fraction, saturate to 7 bits."""
    value += whole
    if random < fraction:
        value += 1
    return min(max(value, 0), 127)


@njit(cache=True, nogil=True)
def _decay(value, alpha, random):
    """``_decay_trace`` for one step: the product's floor, plus 1 with its fraction's chance."""
    scaled = alpha * value
    whole = math.floor(scaled)
    return np.int64(whole) + (1 if random < scaled - whole else 0)


@njit(cache=True, nogil=True)
def _replay(trace, spike_at, history, alpha, whole, fraction, decay_r, impulse_r, t_epoch):
    """``_compute_trace_histories`` for one trace: its value at each step of the epoch."""
    for n in range(trace.size):
        history[0, n] = trace[n]
    for k in range(1, t_epoch + 1):
        for n in range(trace.size):
            value = _decay(history[k - 1, n], alpha, decay_r)
            if spike_at[n] == k:
                value = _add_impulse(value, whole, fraction, impulse_r)
            history[k, n] = value
    for n in range(trace.size):
        trace[n] = history[t_epoch, n]


@njit(cache=True, nogil=True)
def _product(dependent, trace, mantissa, exponent):
    """One of dw's products (``LearningRuleApplierBitApprox.apply``): dependency * trace *
    mantissa (7 + 4 bits: no right shift), << exponent, clipped to the accumulator."""
    if not dependent:
        return 0
    value = (trace * mantissa) << exponent
    return min(max(value, -(2**15) - 1), 2**15 - 1)


@njit(cache=True, nogil=True)
def _update(s, i, j, P, random):
    """One synapse's ``LearningRuleApplierBitApprox`` update, Lava's saturation, stochastic
    rounding and clip (synapse ``s`` from pre ``i`` to post ``j``)."""
    iconf, w, tx, ty, x_history, y_history = P[0], P[2], P[8], P[10], P[12], P[13]
    sign, m_minus, e_minus, m_plus, e_plus = iconf[5], iconf[6], iconf[7], iconf[8], iconf[9]
    lo, hi = -(2**15) - 1, 2**15 - 1
    acc = w[s] << 7
    acc = min(max(acc + _product(tx[i] > 0, y_history[tx[i], j], m_minus, e_minus), lo), hi)
    acc = min(max(acc + _product(ty[j] > 0, x_history[ty[j], i], m_plus, e_plus), lo), hi)
    if sign == 0:
        acc = max(acc, 0)
    elif sign == 1:
        acc = min(acc, 0)
    scaled = acc / 128.0
    whole = math.floor(scaled)
    rounded = np.int64(whole) + (1 if random < scaled - whole else 0)
    w[s] = min(max(rounded, iconf[15]), iconf[16])


@njit(cache=True, nogil=True)
def _epoch(t_lava, P):
    """Lava's ``run_lrn``: replay the traces, update the synapses, reset the spike times. Lava
    updates every synapse; one whose pre and post neurons did not spike in the epoch keeps its
    weight bit for bit once it is in range (``w << 7`` is unchanged by the products, the
    saturation, the rounding and the clip), so after the first epoch only the others are
    computed."""
    iconf, fconf, w, post = P[0], P[1], P[2], P[5]
    x1, tx, y1, ty, x_history, y_history = P[7], P[8], P[9], P[10], P[12], P[13]
    x_decay_r, x_impulse_r, y_decay_r, y_impulse_r, weight_r = P[14], P[15], P[16], P[17], P[18]
    t_epoch = iconf[4]
    draw = 2 * t_lava
    _replay(x1, tx, x_history, fconf[0], iconf[10], iconf[11], x_decay_r[draw],
            x_impulse_r[draw], t_epoch)
    _replay(y1, ty, y_history, fconf[1], iconf[12], iconf[13], y_decay_r[draw],
            y_impulse_r[draw], t_epoch)
    random = weight_r[t_lava // t_epoch]
    by_pre, by_pre_start, by_post, by_post_start, pre = P[3], P[4], P[19], P[20], P[21]
    if iconf[18] == 0:  # the first epoch updates (and so clips) every synapse, as Lava does
        for s in range(w.size):
            _update(s, pre[s], post[s], P, random)
        iconf[18] = 1
    else:  # afterwards a synapse whose pre and post did not spike keeps its weight exactly
        for i in range(by_pre_start.size - 1):
            if tx[i] > 0:
                for q in range(by_pre_start[i], by_pre_start[i + 1]):
                    _update(by_pre[q], i, post[by_pre[q]], P, random)
        for j in range(by_post_start.size - 1):
            if ty[j] > 0:
                for q in range(by_post_start[j], by_post_start[j + 1]):
                    s = by_post[q]
                    if tx[pre[s]] == 0:  # (the others were updated above)
                        _update(s, pre[s], j, P, random)
    tx[:] = 0
    ty[:] = 0


@njit(cache=True, nogil=True)
def learn(t, spikes, P):
    """Lava's ``run_spk`` learning part for snnc step ``t`` (Lava's ``t + 1``), then ``run_lrn``
    at the end of an epoch. The sums this step's presynaptic spikes send are taken first, with
    the weights before this step's learning (Lava computes ``a_buff`` before ``run_lrn``)."""
    iconf, w, by_pre, by_pre_start, post = P[0], P[2], P[3], P[4], P[5]
    x1, tx, y1, ty, pending, y_impulse_r = P[7], P[8], P[9], P[10], P[11], P[17]
    pre_first, post_first, n_pre, n_post, t_epoch = iconf[0], iconf[1], iconf[2], iconf[3], iconf[4]
    t_lava = t + 1
    within = t_lava % t_epoch
    if within == 0:
        within = t_epoch
    for k in range(spikes.size):  # presynaptic spikes (Lava: _process_pre_spikes, random 0)
        i = spikes[k] - pre_first
        if i < 0 or i >= n_pre:
            continue
        for q in range(by_pre_start[i], by_pre_start[i + 1]):
            s = by_pre[q]
            pending[post[s]] += w[s]
            iconf[17] = 1
        if tx[i] > 0:
            x1[i] = _add_impulse(x1[i], iconf[10], iconf[11], 0)
        tx[i] = within
    impulse_r = y_impulse_r[2 * t_lava - 1]  # the trace streams advanced once since last step
    for k in range(spikes.size):  # postsynaptic spikes (back-propagating action potentials)
        j = spikes[k] - post_first
        if j < 0 or j >= n_post:
            continue
        if ty[j] > 0:
            y1[j] = _add_impulse(y1[j], iconf[12], iconf[13], impulse_r)
        ty[j] = within
    if t_lava % t_epoch == 0:
        _epoch(t_lava, P)


def weights(P: tuple) -> np.ndarray:
    """The current weights in synapse order: Lava's 8-bit (+ sign) values, the units of the
    projection's ``weight`` (before its ``weight_exp``)."""
    return np.array(P[2], dtype=np.int64)


LOIHI = PlasticStep("loihi", tables, arrive, learn, weights)

RULE = LearningRule(
    name="loihi_stdp",
    params=LoihiStdp,
    summary="Lava's STDPLoihi on a learning connection, fixed point (bit-exact to Lava 0.10)",
    steps={"loihi": LOIHI},
    lowerings={"loihi-sim": "Lava's LearningSparse with STDPLoihi, the post group's s_out into its "
                            "s_in_bap (backends/loihi_sim/lowering.py, lava_procs/learning_sparse.py)"},
    integer=True,
    example=lambda: LoihiStdp(learning_rate=1.0, A_plus=2.0, A_minus=-1.0, tau_plus=8.0,
                              tau_minus=6.0, t_epoch=2, rng_seed=3),
)
