r"""The ``rstdp`` learning rule: reward-modulated STDP with an eligibility trace, in float64.

Izhikevich (2007), "Solving the distal reward problem through linkage of STDP and dopamine
signaling", Cereb. Cortex 17:2443: spike pairs do not change a weight directly; they tag the
synapse with an eligibility trace :math:`c` that decays over seconds, and a reward signal
:math:`d` (dopamine), raised by the spikes of a *reward* population, turns the tags into weight
changes. The pairing traces are those of ``stdp`` (models/stdp.py), and its arrival kernel (the
spike that arrives at step :math:`t` carries the weight of the end of :math:`t - 1`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from snnc.ir.errors import NetworkError
from snnc.ir.values import _Frozen

from . import stdp
from .base import LearningRule, PlasticStep, PlasticSynapses
from .jit import njit


class RStdp(_Frozen):
    r"""Reward-modulated pair STDP (Izhikevich 2007) with exponential traces.

    Times in ms; weights in the projection's units; ``reward`` names a spiking population or a
    source whose spikes are the reward. Per synapse an eligibility trace :math:`c` (0 at start),
    one reward level :math:`d` per projection (0 at start). In step :math:`t`, after the neurons of
    step :math:`t` updated and spiked:

    .. math::

        x_{pre} &\leftarrow x_{pre} e^{-dt/\tau_+},\quad x_{post} \leftarrow x_{post} e^{-dt/\tau_-},
            \quad c \leftarrow c\, e^{-dt/\tau_c},\quad d \leftarrow d\, e^{-dt/\tau_d} \\
        \text{pre spike arriving at } t&: \quad x_{pre} \leftarrow x_{pre} + 1,
            \quad c \leftarrow c - A_-\, x_{post} \\
        \text{post spike at } t&: \quad x_{post} \leftarrow x_{post} + 1,
            \quad c \leftarrow c + A_+\, x_{pre} \\
        d &\leftarrow d + n_{reward}[t] \quad \text{(spikes of the reward population at } t) \\
        w &\leftarrow \min(\max(w + \eta\, d\, c,\ w_{min}),\ w_{max}) \quad \text{(every synapse)}

    in that order (arrivals before postsynaptic spikes; :math:`d` after the reward spikes of the
    same step).
    """

    rule: Literal["rstdp"] = "rstdp"
    reward: str = Field(min_length=1)
    tau_plus: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    tau_minus: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    a_plus: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    a_minus: float = Field(default=1.5, ge=0, allow_inf_nan=False)
    tau_c: float = Field(default=1000.0, gt=0, allow_inf_nan=False)
    tau_d: float = Field(default=200.0, gt=0, allow_inf_nan=False)
    learning_rate: float = Field(default=0.01, ge=0, allow_inf_nan=False)
    w_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    w_max: float = Field(default=1.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounds(self) -> "RStdp":
        if not self.w_max >= self.w_min:
            raise ValueError(f"w_max ({self.w_max}) must be >= w_min ({self.w_min})")
        return self


# P = stdp's layout (models/stdp.py, entries 0..13: the arrival kernel is stdp.arrive) +
#   14 c: float64[S]; 15 level: float64[d]; 16 rconf: int64[reward first, reward last + 1];
#   17 mconf: float64[decay_c, decay_d, learning_rate]


def tables(rule: RStdp, syn: PlasticSynapses, dt: float) -> tuple:
    """stdp's state plus the eligibility traces, the reward level and the reward's ids."""
    if rule.reward not in syn.bounds:
        raise NetworkError(f"reward population '{rule.reward}' does not exist "
                           f"(populations: {', '.join(syn.bounds)})", where="plasticity.reward")
    pairing = stdp.Stdp(tau_plus=rule.tau_plus, tau_minus=rule.tau_minus, a_plus=rule.a_plus,
                        a_minus=rule.a_minus, w_min=rule.w_min, w_max=rule.w_max)
    first, last = syn.bounds[rule.reward]
    return (*stdp.tables(pairing, syn, dt), np.zeros(syn.pre.size), np.zeros(1),
            np.array([first, last], np.int64),
            np.array([np.exp(-dt / rule.tau_c), np.exp(-dt / rule.tau_d), rule.learning_rate]))


@njit(cache=True, nogil=True)
def learn(t, spikes, P):
    """Step ``t``: traces decay; pairs tag ``c``; reward spikes raise ``d``; ``w += eta d c``."""
    iconf, fconf, w, x_pre, x_post = P[0], P[1], P[2], P[3], P[4]
    by_pre, by_pre_start, by_post, by_post_start = P[5], P[6], P[7], P[8]
    history, history_count, post = P[10], P[11], P[13]
    c, level, rconf, mconf = P[14], P[15], P[16], P[17]
    pre_first, post_first, n_pre, n_post = iconf[0], iconf[1], iconf[2], iconf[3]
    max_delay, slots = iconf[4], iconf[7]
    decay_plus, decay_minus, a_plus, a_minus, w_min, w_max = (
        fconf[0], fconf[1], fconf[2], fconf[3], fconf[4], fconf[5])
    x_pre *= decay_plus
    x_post *= decay_minus
    c *= mconf[0]
    level[0] *= mconf[1]
    for d in range(1, max_delay + 1):  # arrivals first
        sent = t - d
        if sent < 0:
            break
        slot = sent % slots
        for k in range(history_count[slot]):
            group = history[slot, k] * max_delay + d - 1
            for q in range(by_pre_start[group], by_pre_start[group + 1]):
                s = by_pre[q]
                x_pre[s] += 1.0
                c[s] -= a_minus * x_post[post[s]]
    rewards = 0
    for k in range(spikes.size):
        g = spikes[k]
        if rconf[0] <= g < rconf[1]:
            rewards += 1
        j = g - post_first
        if j < 0 or j >= n_post:
            continue
        x_post[j] += 1.0
        for q in range(by_post_start[j], by_post_start[j + 1]):
            s = by_post[q]
            c[s] += a_plus * x_pre[s]
    level[0] += rewards
    gain = mconf[2] * level[0]
    for s in range(w.size):
        w[s] = min(max(w[s] + gain * c[s], w_min), w_max)
    slot = t % slots  # this step's presynaptic spikes, for their arrivals
    count = 0
    for k in range(spikes.size):
        i = spikes[k] - pre_first
        if 0 <= i < n_pre:
            history[slot, count] = i
            count += 1
    history_count[slot] = count


FLOAT = PlasticStep("float", tables, stdp.arrive, learn, stdp.weights)

RULE = LearningRule(
    name="rstdp",
    params=RStdp,
    summary="reward-modulated STDP: eligibility traces turned into weight changes by a reward "
            "population's spikes (Izhikevich 2007; float64)",
    steps={"float": FLOAT},
    example=lambda: RStdp(reward="inp", a_plus=0.5, a_minus=0.6, learning_rate=0.05, w_max=2.0),
)
