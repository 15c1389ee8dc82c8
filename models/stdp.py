r"""The ``stdp`` learning rule: pair-based spike-timing-dependent plasticity in float64, the
hardware-neutral meaning every target's integer rule approximates (docs/learning.md).

One module holds the rule: its parameters (the IR type), its equations, its float arithmetic for
the reference engine, and the quantizers to each chip's native rule (``loihi_stdp``,
``spinnaker_stdp``), named by import path.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from snnc.ir.values import _Frozen

from .base import LearningRule, PlasticStep, PlasticSynapses
from .jit import njit


class Stdp(_Frozen):
    r"""Pair-based STDP with exponential traces (Song, Miller & Abbott 2000; Morrison et al. 2008).

    Times in ms (like ``dt``); weights in the projection's own units. Each synapse has a
    presynaptic trace :math:`x_{pre}` and each postsynaptic neuron a trace :math:`x_{post}`, both 0
    at the start. In step :math:`t`, after the neurons of step :math:`t` updated and spiked:

    .. math::

        x_{pre} &\leftarrow x_{pre}\, e^{-dt/\tau_+}, \qquad
        x_{post} \leftarrow x_{post}\, e^{-dt/\tau_-} \\
        \text{pre spike arriving at } t \text{ (sent at } t - d)&: \quad
            x_{pre} \leftarrow x_{pre} + 1, \quad w \leftarrow w - A_-\, x_{post}\, m_-(w) \\
        \text{post spike at } t&: \quad
            x_{post} \leftarrow x_{post} + 1, \quad w \leftarrow w + A_+\, x_{pre}\, m_+(w) \\
        w &\leftarrow \min(\max(w, w_{min}), w_{max})

    with :math:`m_\pm = 1` (``additive``) or :math:`m_- = w - w_{min}`, :math:`m_+ = w_{max} - w`
    (``multiplicative``), arrivals processed before the postsynaptic spikes of the same step, and
    the clip once at the end of the step. ``pairing: nearest`` sets a trace to 1 instead of adding
    1 (only the nearest spike pairs count). A spike arriving at step :math:`t` carries the weight as
    it was at the end of step :math:`t-1`: a change at step :math:`t` acts from :math:`t + 1`.
    """

    rule: Literal["stdp"] = "stdp"
    tau_plus: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    tau_minus: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    a_plus: float = Field(default=0.01, ge=0, allow_inf_nan=False)
    a_minus: float = Field(default=0.012, ge=0, allow_inf_nan=False)
    w_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    w_max: float = Field(default=1.0, allow_inf_nan=False)
    weight_dependence: Literal["additive", "multiplicative"] = "additive"
    pairing: Literal["all", "nearest"] = "all"

    @model_validator(mode="after")
    def _bounds(self) -> "Stdp":
        if not self.w_max >= self.w_min:
            raise ValueError(f"w_max ({self.w_max}) must be >= w_min ({self.w_min})")
        return self


# ---- the float arithmetic ------------------------------------------------------------------------
# P = (iconf, fconf, w, x_pre, x_post, by_pre, by_pre_start, by_post, by_post_start, channel,
#      history, history_count, touched)
#   iconf: int64[pre_first, post_first, n_pre, n_post, max_delay, nearest, multiplicative, slots]
#   fconf: float64[decay_plus, decay_minus, a_plus, a_minus, w_min, w_max]
#   by_pre[by_pre_start[i * D + d - 1] : ...+1]: synapses of pre neuron i with delay d, in order
#   by_post[by_post_start[j] : ...+1]: synapses onto post neuron j, in order
#   history[slot, :history_count[slot]]: pre-local ids that spiked at the step of that slot
#   touched[0]: count, touched[1:]: synapses changed this step (clipped at its end)
#   post[s]: the post-local index of synapse s


def tables(rule: Stdp, syn: PlasticSynapses, dt: float) -> tuple:
    """One projection's float state (the layout above)."""
    count = syn.pre.size
    max_delay = int(syn.delay.max()) if count else 1
    slots = max_delay + 1  # learn(t) reads steps t-1..t-D, then overwrites slot t
    iconf = np.array([syn.pre_first, syn.post_first, syn.n_pre, syn.n_post, max_delay,
                      rule.pairing == "nearest", rule.weight_dependence == "multiplicative",
                      slots], dtype=np.int64)
    fconf = np.array([np.exp(-dt / rule.tau_plus), np.exp(-dt / rule.tau_minus), rule.a_plus,
                      rule.a_minus, rule.w_min, rule.w_max], dtype=np.float64)
    by_pre, by_pre_start = _grouped(syn.pre.astype(np.int64) * max_delay + syn.delay - 1,
                                    syn.n_pre * max_delay)
    by_post, by_post_start = _grouped(syn.post.astype(np.int64), syn.n_post)
    return (iconf, fconf, syn.weight.astype(np.float64).copy(), np.zeros(count),
            np.zeros(syn.n_post), by_pre, by_pre_start, by_post, by_post_start,
            syn.channel.astype(np.int64), np.zeros((slots, max(syn.n_pre, 1)), np.int64),
            np.zeros(slots, np.int64), np.zeros(2 * count + 1, np.int64),
            syn.post.astype(np.int64))


def _grouped(keys: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Synapse ids sorted by ``keys`` (stable: expansion order within a group) and group starts."""
    order = np.argsort(keys, kind="stable").astype(np.int64)
    start = np.zeros(groups + 1, np.int64)
    np.cumsum(np.bincount(keys, minlength=groups), out=start[1:])
    return order, start


@njit(cache=True, nogil=True)
def arrive(t, ring, wrap, stride, P):
    """Add the weight of every synapse whose presynaptic spike arrives at step ``t``."""
    iconf, w, by_pre, by_pre_start, channel, history, history_count = (
        P[0], P[2], P[5], P[6], P[9], P[10], P[11])
    max_delay, slots = iconf[4], iconf[7]
    base = t * stride
    for d in range(1, max_delay + 1):
        sent = t - d
        if sent < 0:
            break
        slot = sent % slots
        for k in range(history_count[slot]):
            group = history[slot, k] * max_delay + d - 1
            for q in range(by_pre_start[group], by_pre_start[group + 1]):
                s = by_pre[q]
                ring[(base + channel[s]) & wrap] += w[s]


@njit(cache=True, nogil=True)
def learn(t, spikes, P):
    """Step ``t``'s trace decay, depression at arrivals, potentiation at post spikes, clip."""
    iconf, fconf, w, x_pre, x_post = P[0], P[1], P[2], P[3], P[4]
    by_pre, by_pre_start, by_post, by_post_start = P[5], P[6], P[7], P[8]
    history, history_count, touched, post = P[10], P[11], P[12], P[13]
    pre_first, post_first, n_pre, n_post = iconf[0], iconf[1], iconf[2], iconf[3]
    max_delay, nearest, multiplicative, slots = iconf[4], iconf[5], iconf[6], iconf[7]
    decay_plus, decay_minus, a_plus, a_minus, w_min, w_max = (
        fconf[0], fconf[1], fconf[2], fconf[3], fconf[4], fconf[5])
    x_pre *= decay_plus
    x_post *= decay_minus
    n_touched = 0
    for d in range(1, max_delay + 1):  # arrivals first
        sent = t - d
        if sent < 0:
            break
        slot = sent % slots
        for k in range(history_count[slot]):
            group = history[slot, k] * max_delay + d - 1
            for q in range(by_pre_start[group], by_pre_start[group + 1]):
                s = by_pre[q]
                x_pre[s] = 1.0 if nearest else x_pre[s] + 1.0
                dep = a_minus * x_post[post[s]]
                w[s] -= dep * (w[s] - w_min) if multiplicative else dep
                touched[1 + n_touched] = s
                n_touched += 1
    for k in range(spikes.size):  # then this step's postsynaptic spikes
        j = spikes[k] - post_first
        if j < 0 or j >= n_post:
            continue
        x_post[j] = 1.0 if nearest else x_post[j] + 1.0
        for q in range(by_post_start[j], by_post_start[j + 1]):
            s = by_post[q]
            pot = a_plus * x_pre[s]
            w[s] += pot * (w_max - w[s]) if multiplicative else pot
            touched[1 + n_touched] = s
            n_touched += 1
    for k in range(n_touched):
        s = touched[1 + k]
        w[s] = min(max(w[s], w_min), w_max)
    slot = t % slots  # remember this step's presynaptic spikes for their arrivals
    count = 0
    for k in range(spikes.size):
        i = spikes[k] - pre_first
        if 0 <= i < n_pre:
            history[slot, count] = i
            count += 1
    history_count[slot] = count


def weights(P: tuple) -> np.ndarray:
    """The current weights, in synapse order."""
    return np.array(P[2], dtype=np.float64)


FLOAT = PlasticStep("float", tables, arrive, learn, weights)

RULE = LearningRule(
    name="stdp",
    params=Stdp,
    summary="pair-based STDP, exponential traces, additive or multiplicative (float64)",
    steps={"float": FLOAT},
    quantizers={"spinnaker": "snnc.compiler.passes.quantize.stdp_spinnaker:quantize_stdp",
                "loihi": "snnc.compiler.passes.quantize.stdp_loihi:quantize_stdp"},
    example=lambda: Stdp(a_plus=0.05, a_minus=0.06, w_max=2.0),
)
