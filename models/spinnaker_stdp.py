r"""The ``spinnaker_stdp`` learning rule: sPyNNaker's pair-based STDP, in its own fixed point.

As an sPyNNaker application core computes it (SpiNNakerManchester/sPyNNaker, 7.x):

- ``neural_modelling/src/neuron/plasticity/stdp/synapse_dynamics_stdp_mad_impl.c``: the deferred
  update. Nothing happens at a postsynaptic spike but an entry in the neuron's post-event history
  (``post_events.h``); when a presynaptic spike reaches the core (sent at tick :math:`t_s`) every
  synapse of its row is brought up to date over the post events of the window
  :math:`(t_{last} - d, t_s - d]` (:math:`t_{last}` the row's previous pre spike, :math:`d` the
  synapse's delay, here the dendritic, back-propagated one), its new weight is stored and added into
  ring-buffer slot :math:`t_s + d`;
- ``timing_dependence/timing_pair_impl.h`` / ``timing_nearest_pair_impl.h``: the traces and the
  pairing; ``maths.h``: the exponential look-up tables and ``STDP_FIXED_MUL_16X16``;
- ``weight_dependence/weight_additive_one_term_impl.h`` / ``weight_multiplicative_impl.h``: the
  weight update in s16.15; ``stdp_typedefs.h``: the fixed point (``STDP_FIXED_POINT 11``);
- ``spynnaker/pyNN/models/neuron/plasticity/stdp/common.py::get_exp_lut_array``: the tables.

The emulator's cores (``backends/spinnaker_emu/plastic.py``) call the same per-synapse functions
defined here, over their own rows, histories and ring buffers.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from snnc.ir.values import Int, _Frozen

from .base import LearningRule, PlasticStep, PlasticSynapses
from .jit import njit

STDP_FIXED_POINT = 11  # stdp_typedefs.h: traces and look-up values are s4.11 in int16
STDP_ONE = 1 << STDP_FIXED_POINT
S1615_TO_STDP_RIGHT_SHIFT = 4  # mul_accum_fixed: an s4.11 value << 4 is an s16.15 accum
MAX_POST_SYNAPTIC_EVENTS = 16  # post_events.h: the history of each postsynaptic neuron
U32 = 0xFFFFFFFF  # times and their differences are uint32_t
WEIGHT_MAX = 0xFFFF  # weight_t is uint16_t
ACCUM_MAX = 2**31 - 1


class SpinnakerStdp(_Frozen):
    r"""sPyNNaker's pair-based STDP in its native units (module docstring for the C it follows).

    Weights of the projection are the 16-bit ring-buffer weights :math:`W` of the post
    population's excitatory receptor; inside an update a weight is the s16.15 accum
    :math:`w = W \ll` ``weight_shift`` (``weight_shift``: that receptor's ring-buffer left shift,
    the post population's ``weight_shift_exc``). ``min_weight``, ``max_weight``, ``a2_plus``,
    ``a2_minus`` are raw s16.15 integers (value :math:`\times 2^{15}`): for ``additive`` in the
    units of :math:`w`, for ``multiplicative`` ``a2_*`` are plain factors.

    Look-up tables (``get_exp_lut_array``, host side):
    :math:`E_\pm[k] = \lfloor 2^{11} e^{-(k \ll s_\pm)\,dt/\tau_\pm} \rfloor`,
    :math:`k < n_\pm` (:math:`n_\pm` the even size that reaches :math:`\ln 2^{11}\,\tau_\pm/dt`),
    and :math:`E(\Delta) = E[\Delta \gg s]` or 0 beyond the table. With
    :math:`a \otimes b = (a_{16} b_{16}) \gg 11` (``__smulbb``: the low 16 bits, signed) and
    :math:`a \cdot b = (a b) \gg 15` (s16.15, toward minus infinity), all times uint32 ticks:

    .. math::

        \text{post spike at } t:&\quad o \leftarrow \mathrm{int16}(o \otimes E_-(t - t_o) + 2^{11}),
            \ t_o \leftarrow t \ \text{(appended to the 16-entry history)} \\
        \text{pre spike sent at } t_s:&\quad r \leftarrow \mathrm{int16}(r \otimes E_+(t_s - t_r)
            + 2^{11}),\ t_r \leftarrow t_s \ \text{(per row; the update uses the old } r, t_r) \\
        \text{each post event } (t_p, o_p) \in (t_r - d, t_s - d]:&\quad
            \Delta = t_p + d - t_r > 0 \Rightarrow w \leftarrow P(w, r \otimes E_+(\Delta)) \\
        \text{last post event } (t_q, o_q) \le t_s - d:&\quad
            w \leftarrow D(w, o_q \otimes E_-(t_s - t_q - d)) \\
        W &\leftarrow (w \gg \text{weight\_shift}) \bmod 2^{16}, \quad
            \text{ring}[t_s + d] \mathrel{+}= W \ \text{(saturating at } 2^{16}-1)

    additive: :math:`P(w, x) = \min(w + a_{2+} \cdot (x \ll 4),\ w_{max})`,
    :math:`D(w, x) = \max(w - a_{2-} \cdot (x \ll 4),\ w_{min})`; multiplicative:
    :math:`P = w + ((w_{max} - w) \cdot a_{2+}) \cdot (x \ll 4)`,
    :math:`D = w - ((w - w_{min}) \cdot a_{2-}) \cdot (x \ll 4)` (no clamp, as the C). The
    depression term exists only once a post spike is in the history ("valid"). ``pairing:
    nearest`` (``timing_nearest_pair_impl.h``) uses :math:`E_\pm(\Delta)` without traces and drops
    a potentiation when the previous post event (undelayed, as the C compares it) is later than the
    row's last pre spike. ``backprop_delay: false`` takes :math:`d = 0` in the window (the weight
    still lands in slot :math:`t_s + d`). The history keeps the placeholder event at time 0 and the
    15 latest post spikes (older ones are shuffled out and never paired).
    """

    rule: Literal["spinnaker_stdp"] = "spinnaker_stdp"
    tau_plus: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    tau_minus: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    lut_shift_plus: Annotated[Int, Field(ge=0, le=15)] = 0
    lut_shift_minus: Annotated[Int, Field(ge=0, le=15)] = 0
    min_weight: Annotated[Int, Field(ge=0, le=ACCUM_MAX)] = 0
    max_weight: Annotated[Int, Field(ge=0, le=ACCUM_MAX)]
    a2_plus: Annotated[Int, Field(ge=0, le=ACCUM_MAX)]
    a2_minus: Annotated[Int, Field(ge=0, le=ACCUM_MAX)]
    weight_shift: Annotated[Int, Field(ge=0, le=15)] = 0
    weight_dependence: Literal["additive", "multiplicative"] = "additive"
    pairing: Literal["all", "nearest"] = "all"
    backprop_delay: bool = True

    @model_validator(mode="after")
    def _bounds(self) -> "SpinnakerStdp":
        if self.max_weight < self.min_weight:
            raise ValueError(f"max_weight ({self.max_weight}) must be >= min_weight "
                             f"({self.min_weight})")
        if self.max_weight >> self.weight_shift > WEIGHT_MAX:
            raise ValueError(f"max_weight >> weight_shift ({self.max_weight >> self.weight_shift})"
                             " does not fit sPyNNaker's 16-bit weight")
        return self


# ---- host side: the look-up tables ---------------------------------------------------------------
def exp_lut(dt: float, tau: float, shift: int = 0) -> np.ndarray:
    """sPyNNaker's ``get_exp_lut_array`` values (int64): ``floor(2**11 exp(-(k << shift) dt/tau))``
    for the even size that covers ``ln(2**11) tau / dt`` ticks."""
    decay = dt / float(tau)
    size, extra = divmod(math.log(STDP_ONE) / decay / (1 << shift), 2)
    size = (int(size) + (extra > 0)) * 2
    values = np.floor(np.exp((np.arange(size) << shift) * -decay) * STDP_ONE)
    return values.astype(np.uint16).astype(np.int64)


# ---- the core's arithmetic (shared with spinnaker-emu's cores) -----------------------------------
@njit(cache=True, nogil=True, inline="always")
def int16(x):
    """C's conversion to ``int16_t`` (two's complement wrap)."""
    return ((x + 0x8000) & 0xFFFF) - 0x8000


@njit(cache=True, nogil=True, inline="always")
def wrap32(x):
    """A 32-bit accum result (two's complement wrap)."""
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


@njit(cache=True, nogil=True, inline="always")
def mul16(a, b):
    """``STDP_FIXED_MUL_16X16``: ``__smulbb`` (low 16 bits, signed) then ``>> 11``."""
    return (int16(a) * int16(b)) >> STDP_FIXED_POINT


@njit(cache=True, nogil=True, inline="always")
def accum_mul(a, b):
    """s16.15 product on ARM: ``(int64 a*b) >> 15``, toward minus infinity, 32-bit result."""
    return wrap32((a * b) >> 15)


@njit(cache=True, nogil=True, inline="always")
def lut_decay(delta, lut, shift):
    """``maths_lut_exponential_decay``: ``lut[delta >> shift]``, 0 beyond the table."""
    index = (delta & U32) >> shift
    return lut[index] if index < lut.size else 0


@njit(cache=True, nogil=True)
def add_pre_spike(time, last_time, last_trace, nearest, lut_plus, shift_plus):
    """``timing_add_pre_spike``: the row's new trace (nearest pairing has none)."""
    if nearest:
        return 0
    return int16(mul16(last_trace, lut_decay(time - last_time, lut_plus, shift_plus)) + STDP_ONE)


@njit(cache=True, nogil=True)
def add_post_event(time, times, traces, count_minus_one, nearest, lut_minus, shift_minus):
    """``timing_add_post_spike`` + ``post_events_add`` on one neuron's history; returns the new
    ``count_minus_one`` (a full history drops its oldest real event, keeping entry 0)."""
    trace = 0
    if not nearest:
        last_time, last_trace = times[count_minus_one], traces[count_minus_one]
        decayed = int16(mul16(last_trace, lut_decay(time - last_time, lut_minus, shift_minus)))
        trace = int16(decayed + STDP_ONE)
    if count_minus_one < MAX_POST_SYNAPTIC_EVENTS - 1:
        count_minus_one += 1
    else:
        for e in range(2, MAX_POST_SYNAPTIC_EVENTS):
            times[e - 1] = times[e]
            traces[e - 1] = traces[e]
    times[count_minus_one] = time
    traces[count_minus_one] = trace
    return count_minus_one


@njit(cache=True, nogil=True, inline="always")
def _potentiate(w, x, multiplicative, wconf):
    """``weight_one_term_apply_potentiation``; ``wconf`` = (min, max, a2_plus, a2_minus)."""
    if multiplicative:
        scale = accum_mul(wrap32(wconf[1] - w), wconf[2])
        return wrap32(w + accum_mul(scale, x << S1615_TO_STDP_RIGHT_SHIFT))
    w = wrap32(w + accum_mul(wconf[2], x << S1615_TO_STDP_RIGHT_SHIFT))
    return min(w, wconf[1])


@njit(cache=True, nogil=True, inline="always")
def _depress(w, x, multiplicative, wconf):
    """``weight_one_term_apply_depression``."""
    if multiplicative:
        scale = accum_mul(wrap32(w - wconf[0]), wconf[3])
        return wrap32(w - accum_mul(scale, x << S1615_TO_STDP_RIGHT_SHIFT))
    w = wrap32(w - accum_mul(wconf[3], x << S1615_TO_STDP_RIGHT_SHIFT))
    return max(w, wconf[0])


@njit(cache=True, nogil=True)
def update_synapse(time, last_pre_time, last_pre_trace, post_delay, weight, times, traces,
                   count_minus_one, weight_shift, multiplicative, nearest, wconf, lut_plus,
                   shift_plus, lut_minus, shift_minus):
    """``plasticity_update_synapse`` for one synapse: the 16-bit weight after the pre spike of
    ``time`` (``post_events_get_window_delayed`` walks the history back from its end)."""
    w = wrap32(weight << weight_shift)
    begin = last_pre_time - post_delay if last_pre_time >= post_delay else 0
    end = time - post_delay if time >= post_delay else 0
    count = count_minus_one + 1
    end_index, index = count, count
    while True:
        if index < count and times[index] > end:
            end_index = index
        next_index = index
        index -= 1
        if not (times[index] > begin and index != 0):
            break
    prev_time, prev_trace, prev_valid = times[index], traces[index], index != 0
    for k in range(next_index, end_index):  # potentiation by each post event of the window
        delayed_post = (times[k] + post_delay) & U32
        since_pre = (delayed_post - last_pre_time) & U32
        if since_pre > 0:
            if nearest:
                x = lut_decay(since_pre, lut_plus, shift_plus)
                if ((delayed_post - prev_time) & U32) < since_pre:
                    x = 0  # not the first pre-post pairing
            else:
                x = mul16(last_pre_trace, lut_decay(since_pre, lut_plus, shift_plus))
            w = _potentiate(w, x, multiplicative, wconf)
        prev_time, prev_trace, prev_valid = times[k], traces[k], True
    if prev_valid:  # depression by the last post event before the pre spike
        since_post = (time - ((prev_time + post_delay) & U32)) & U32
        x = lut_decay(since_post, lut_minus, shift_minus)
        if not nearest:
            x = mul16(prev_trace, x)
        w = _depress(w, x, multiplicative, wconf)
    return (w >> weight_shift) & WEIGHT_MAX


# ---- the reference's kernels ---------------------------------------------------------------------
# P = (iconf, wconf, w, delay, channel, post, by_pre, by_pre_start, pre_time, pre_trace,
#      post_count, post_times, post_traces, lut_plus, lut_minus, pending)
(PRE_FIRST, POST_FIRST, N_PRE, N_POST, WEIGHT_SHIFT, MULTIPLICATIVE, NEAREST, BACKPROP,
 SHIFT_PLUS, SHIFT_MINUS, N_PENDING, PENDING_STEP) = range(12)


def tables(rule: SpinnakerStdp, syn: PlasticSynapses, dt: float) -> tuple:
    """One projection's state: weights, rows by pre neuron, histories, tables (layout above)."""
    weight = np.asarray(syn.weight, dtype=np.int64)
    if weight.size and (weight.min() < 0 or weight.max() > WEIGHT_MAX):
        from snnc.ir.errors import UnsupportedOnTarget

        name = getattr(syn.projection, "name", "?")
        raise UnsupportedOnTarget(f"plastic projection '{name}': sPyNNaker's plastic weights are "
                                  f"16-bit (0..65535), got {weight.min()}..{weight.max()}",
                                  where=f"projections.{name}.weight")
    iconf = np.array([syn.pre_first, syn.post_first, syn.n_pre, syn.n_post, rule.weight_shift,
                      rule.weight_dependence == "multiplicative", rule.pairing == "nearest",
                      rule.backprop_delay, rule.lut_shift_plus, rule.lut_shift_minus, 0, -2],
                     dtype=np.int64)
    wconf = np.array([rule.min_weight, rule.max_weight, rule.a2_plus, rule.a2_minus], np.int64)
    pre = syn.pre.astype(np.int64)
    by_pre = np.argsort(pre, kind="stable").astype(np.int64)  # a row: one pre neuron's synapses
    by_pre_start = np.zeros(syn.n_pre + 1, np.int64)
    np.cumsum(np.bincount(pre, minlength=syn.n_pre), out=by_pre_start[1:])
    n_post = max(syn.n_post, 1)
    history = (np.zeros(n_post, np.int64),
               np.zeros((n_post, MAX_POST_SYNAPTIC_EVENTS), np.int64),
               np.zeros((n_post, MAX_POST_SYNAPTIC_EVENTS), np.int64))
    return (iconf, wconf, weight.copy(), syn.delay.astype(np.int64), syn.channel.astype(np.int64),
            syn.post.astype(np.int64), by_pre, by_pre_start, np.zeros(max(syn.n_pre, 1), np.int64),
            np.zeros(max(syn.n_pre, 1), np.int64), *history,
            exp_lut(dt, rule.tau_plus, rule.lut_shift_plus),
            exp_lut(dt, rule.tau_minus, rule.lut_shift_minus), np.zeros(max(syn.n_pre, 1), np.int64))


@njit(cache=True, nogil=True)
def arrive(t, ring, wrap, stride, P):
    """The pre spikes of step ``t - 1`` reach their rows: deferred update of each synapse over
    its post neuron's history, then ring slot ``t - 1 + delay`` += the new 16-bit weight."""
    iconf, wconf, w, delay, channel, post = P[0], P[1], P[2], P[3], P[4], P[5]
    by_pre, by_pre_start, pre_time, pre_trace = P[6], P[7], P[8], P[9]
    post_count, post_times, post_traces, lut_plus, lut_minus, pending = (
        P[10], P[11], P[12], P[13], P[14], P[15])
    if iconf[N_PENDING] == 0 or iconf[PENDING_STEP] != t - 1:
        return
    sent = t - 1
    shift, multiplicative, nearest = iconf[WEIGHT_SHIFT], iconf[MULTIPLICATIVE] != 0, \
        iconf[NEAREST] != 0
    backprop, shift_plus, shift_minus = iconf[BACKPROP] != 0, iconf[SHIFT_PLUS], iconf[SHIFT_MINUS]
    for k in range(iconf[N_PENDING]):
        i = pending[k]
        last_time, last_trace = pre_time[i], pre_trace[i]
        pre_time[i] = sent
        pre_trace[i] = add_pre_spike(sent, last_time, last_trace, nearest, lut_plus, shift_plus)
        for q in range(by_pre_start[i], by_pre_start[i + 1]):
            s = by_pre[q]
            j = post[s]
            w[s] = update_synapse(sent, last_time, last_trace, delay[s] if backprop else 0, w[s],
                                  post_times[j], post_traces[j], post_count[j], shift,
                                  multiplicative, nearest, wconf, lut_plus, shift_plus, lut_minus,
                                  shift_minus)
            ring[((sent + delay[s]) * stride + channel[s]) & wrap] += w[s]
    iconf[N_PENDING] = 0


@njit(cache=True, nogil=True)
def learn(t, spikes, P):
    """Step ``t``'s post spikes enter their neurons' histories; its pre spikes wait for
    ``arrive(t + 1)`` (a packet is processed after the neurons of its tick updated)."""
    iconf, by_pre_start, post_count, post_times, post_traces, lut_minus, pending = (
        P[0], P[7], P[10], P[11], P[12], P[14], P[15])
    pre_first, post_first, n_pre, n_post = iconf[PRE_FIRST], iconf[POST_FIRST], iconf[N_PRE], \
        iconf[N_POST]
    nearest, shift_minus = iconf[NEAREST] != 0, iconf[SHIFT_MINUS]
    n_pending = 0
    for k in range(spikes.size):
        j = spikes[k] - post_first
        if 0 <= j < n_post:
            post_count[j] = add_post_event(t, post_times[j], post_traces[j], post_count[j],
                                           nearest, lut_minus, shift_minus)
        i = spikes[k] - pre_first
        if 0 <= i < n_pre and by_pre_start[i + 1] > by_pre_start[i]:
            pending[n_pending] = i
            n_pending += 1
    iconf[N_PENDING] = n_pending
    iconf[PENDING_STEP] = t


def weights(P: tuple) -> np.ndarray:
    """The current 16-bit weights (int64), in synapse order."""
    return np.array(P[2], dtype=np.int64)


def check_post(rule: SpinnakerStdp, post_neuron: object, where: str) -> None:
    """Refuses (one line) a rule whose ``weight_shift`` is not the post population's excitatory
    ring-buffer shift (the C takes it from the core: the two must be one number)."""
    from snnc.ir.errors import UnsupportedOnTarget

    shift = getattr(post_neuron, "weight_shift_exc", None)
    if shift is None:
        raise UnsupportedOnTarget(f"spinnaker_stdp needs a SpiNNaker post population with a "
                                  f"ring-buffer shift, not '{getattr(post_neuron, 'kind', '?')}'",
                                  where=where)
    if int(shift) != rule.weight_shift:
        raise UnsupportedOnTarget(f"spinnaker_stdp weight_shift {rule.weight_shift} differs from "
                                  f"the post population's weight_shift_exc {shift} "
                                  "(spinnaker numerics: one shift per post core)",
                                  where=f"{where}.weight_shift")


SPINNAKER = PlasticStep("spinnaker", tables, arrive, learn, weights)

RULE = LearningRule(
    name="spinnaker_stdp",
    params=SpinnakerStdp,
    summary="sPyNNaker's pair-based STDP (s4.11 traces, exp LUTs, deferred update, s16.15 weights)",
    steps={"spinnaker": SPINNAKER},
    lowerings={"spinnaker-emu": "the neuron cores' synapse processing (backends/spinnaker_emu/"
                                "plastic.py)"},
    integer=True,
    check_post=check_post,
    example=lambda: SpinnakerStdp(max_weight=2000 << 4, a2_plus=300 << 4, a2_minus=360 << 4,
                                  weight_shift=4),
)
