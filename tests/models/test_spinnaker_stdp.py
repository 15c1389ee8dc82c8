"""``spinnaker_stdp``'s kernels against a plain-Python transcription of sPyNNaker's C.

The transcription below is written from the C (SpiNNakerManchester/sPyNNaker,
``neural_modelling/src/neuron/plasticity/stdp/``: ``synapse_dynamics_stdp_mad_impl.c``,
``post_events.h``, ``timing_dependence/timing_pair_impl.h`` and ``timing_nearest_pair_impl.h``,
``weight_dependence/weight_additive_one_term_impl.h`` and ``weight_multiplicative_impl.h``,
``maths.h``, ``stdp_typedefs.h``) and structured like it: an event-driven core that keeps one
post-event history per neuron and one pre-event history per row, walks the history with pointers
as ``post_events_get_window_delayed`` does, and writes each new weight into its ring slot. It
shares no code with ``models/spinnaker_stdp.py``; the kernels run through the reference engine's
calls (``arrive`` before, ``learn`` after each step).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from snnc.models import RULES, PlasticSynapses
from snnc.models.spinnaker_stdp import SpinnakerStdp, exp_lut

# ---- the transcription ---------------------------------------------------------------------------
FIXED = 11
ONE = 1 << FIXED
HISTORY = 16


def c_int16(x: int) -> int:
    x &= 0xFFFF
    return x - 0x10000 if x & 0x8000 else x


def c_int32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - 0x100000000 if x & 0x80000000 else x


def c_uint32(x: int) -> int:
    return x & 0xFFFFFFFF


def smulbb_shift(a: int, b: int) -> int:
    """maths_fixed_mul16: bottom halves as signed 16-bit, product >> STDP_FIXED_POINT."""
    return (c_int16(a) * c_int16(b)) >> FIXED


def accum_times(a: int, b: int) -> int:
    """gcc's s16.15 multiply on ARM (the product floored, 32-bit result)."""
    return c_int32((a * b) // 32768)


def mul_accum_fixed(a: int, stdp_fixed: int) -> int:
    return accum_times(a, c_int32(stdp_fixed << 4))


class Lut:
    """int16_lut with sPyNNaker's host-side values (get_exp_lut_array), written out here again."""

    def __init__(self, dt: float, tau: float, shift: int) -> None:
        lam = dt / tau
        whole, rest = divmod(math.log(2048) / lam / 2**shift, 2)
        n = (int(whole) + (1 if rest > 0 else 0)) * 2
        self.values = [int(math.floor(math.exp(-(k << shift) * lam) * 2048)) for k in range(n)]
        self.shift = shift

    def decay(self, time: int) -> int:
        index = c_uint32(time) >> self.shift
        return self.values[index] if index < len(self.values) else 0


class PostHistory:
    """post_event_history_t: entry 0 is the placeholder event at time 0."""

    def __init__(self) -> None:
        self.count_minus_one = 0
        self.times = [0] * HISTORY
        self.traces = [0] * HISTORY

    def add(self, time: int, trace: int) -> None:  # post_events_add
        if self.count_minus_one < HISTORY - 1:
            self.count_minus_one += 1
            self.times[self.count_minus_one] = time
            self.traces[self.count_minus_one] = trace
        else:
            for e in range(2, HISTORY):
                self.times[e - 1] = self.times[e]
                self.traces[e - 1] = self.traces[e]
            self.times[HISTORY - 1] = time
            self.traces[HISTORY - 1] = trace

    def time_at(self, pointer: int) -> int:
        # times[count] lies past the events (whatever memory holds): its only use, as the first
        # "end" candidate, cannot change the window, so any value stands in for it
        return self.times[pointer] if pointer < HISTORY else 0x7FFFFFFF

    def window(self, begin_time: int, end_time: int) -> dict:  # post_events_get_window_delayed
        count = self.count_minus_one + 1
        end_event = count
        event = count
        window: dict = {}
        while True:
            if self.time_at(event) > end_time:
                end_event = event
            window["next"] = event
            event -= 1
            if not (self.times[event] > begin_time and event != 0):
                break
        window["prev_time"] = self.times[event]
        window["prev_trace"] = self.traces[event]
        window["prev_time_valid"] = event != 0
        window["num_events"] = end_event - window["next"]
        return window

    def next(self, window: dict) -> dict:  # post_events_next
        k = window["next"]
        return {"prev_time": self.times[k], "prev_trace": self.traces[k], "next": k + 1,
                "prev_time_valid": True, "num_events": window["num_events"] - 1}


class PairTiming:
    """timing_pair_impl.h"""

    def __init__(self, plus: Lut, minus: Lut) -> None:
        self.plus, self.minus = plus, minus

    def add_post_spike(self, time, last_time, last_trace):
        decayed = c_int16(smulbb_shift(last_trace, self.minus.decay(time - last_time)))
        return c_int16(decayed + ONE)

    def add_pre_spike(self, time, last_time, last_trace):
        return c_int16(smulbb_shift(last_trace, self.plus.decay(time - last_time)) + ONE)

    def apply_pre_spike(self, time, last_post_time, last_post_trace, state, weight):
        since = c_uint32(time - last_post_time)
        return weight.depress(state, smulbb_shift(last_post_trace, self.minus.decay(since)))

    def apply_post_spike(self, time, last_pre_time, last_pre_trace, last_post_time, state,
                         weight):
        since = c_uint32(time - last_pre_time)
        if since > 0:
            return weight.potentiate(state, smulbb_shift(last_pre_trace, self.plus.decay(since)))
        return state


class NearestTiming(PairTiming):
    """timing_nearest_pair_impl.h: no traces."""

    def add_post_spike(self, time, last_time, last_trace):
        return 0

    def add_pre_spike(self, time, last_time, last_trace):
        return 0

    def apply_pre_spike(self, time, last_post_time, last_post_trace, state, weight):
        return weight.depress(state, self.minus.decay(c_uint32(time - last_post_time)))

    def apply_post_spike(self, time, last_pre_time, last_pre_trace, last_post_time, state,
                         weight):
        since_pre = c_uint32(time - last_pre_time)
        since_post = c_uint32(time - last_post_time)
        if since_pre > 0:
            decayed = self.plus.decay(since_pre)
            if since_post < since_pre:
                decayed = 0
            return weight.potentiate(state, decayed)
        return state


class Additive:
    """weight_additive_one_term_impl.h (weights as accum bits in Python ints)."""

    def __init__(self, rule: SpinnakerStdp) -> None:
        self.r = rule

    def initial(self, weight):
        return c_int32(weight << self.r.weight_shift)

    def depress(self, w, depression):
        w = c_int32(w - mul_accum_fixed(self.r.a2_minus, depression))
        return max(w, self.r.min_weight)

    def potentiate(self, w, potentiation):
        w = c_int32(w + mul_accum_fixed(self.r.a2_plus, potentiation))
        return min(w, self.r.max_weight)

    def final(self, w):
        return (w >> self.r.weight_shift) & 0xFFFF


class Multiplicative(Additive):
    """weight_multiplicative_impl.h"""

    def depress(self, w, depression):
        scale = accum_times(c_int32(w - self.r.min_weight), self.r.a2_minus)
        return c_int32(w - mul_accum_fixed(scale, depression))

    def potentiate(self, w, potentiation):
        scale = accum_times(c_int32(self.r.max_weight - w), self.r.a2_plus)
        return c_int32(w + mul_accum_fixed(scale, potentiation))


class Core:
    """One core's STDP, event by event: rows of (post, delay, weight) per pre neuron."""

    def __init__(self, rule: SpinnakerStdp, dt: float, rows: dict, n_post: int) -> None:
        plus = Lut(dt, rule.tau_plus, rule.lut_shift_plus)
        minus = Lut(dt, rule.tau_minus, rule.lut_shift_minus)
        self.timing = (NearestTiming if rule.pairing == "nearest" else PairTiming)(plus, minus)
        self.weight = (Multiplicative if rule.weight_dependence == "multiplicative"
                       else Additive)(rule)
        self.backprop = rule.backprop_delay
        self.rows = rows  # pre -> list of [synapse id, post, delay, weight]
        self.pre_history = {pre: [0, 0] for pre in rows}  # prev_time, prev_trace
        self.post = [PostHistory() for _ in range(n_post)]
        self.ring: dict = {}

    def post_spike(self, time, neuron):  # synapse_dynamics_process_post_synaptic_event
        h = self.post[neuron]
        h.add(time, self.timing.add_post_spike(time, h.times[h.count_minus_one],
                                               h.traces[h.count_minus_one]))

    def update(self, time, last_pre_time, last_pre_trace, delay, state, history):
        begin = last_pre_time - delay if last_pre_time >= delay else 0
        end = time - delay if time >= delay else 0
        window = history.window(begin, end)
        while window["num_events"] > 0:
            delayed_post = history.times[window["next"]] + delay
            state = self.timing.apply_post_spike(delayed_post, last_pre_time, last_pre_trace,
                                                 window["prev_time"], state, self.weight)
            window = history.next(window)
        if window["prev_time_valid"]:
            state = self.timing.apply_pre_spike(time, window["prev_time"] + delay,
                                                window["prev_trace"], state, self.weight)
        return state

    def pre_spike(self, time, pre):  # synapse_dynamics_process_plastic_synapses
        last_time, last_trace = self.pre_history[pre]
        self.pre_history[pre] = [time, self.timing.add_pre_spike(time, last_time, last_trace)]
        for synapse in self.rows[pre]:
            _, post, delay, weight = synapse
            post_delay = delay if self.backprop else 0
            state = self.update(time, last_time, last_trace, post_delay,
                                self.weight.initial(weight), self.post[post])
            synapse[3] = self.weight.final(state)
            key = (time + delay, post)
            self.ring[key] = self.ring.get(key, 0) + synapse[3]


def transcribed(rule, dt, pre, post, weight, delay, n_post, pre_spikes, post_spikes, steps):
    """Final weights (synapse order) and ring writes {(arrival, post): sum} of the C's core.

    Per tick: the post spikes enter the histories (the neuron update), then the tick's pre
    packets are processed (after the neurons of their tick)."""
    rows: dict = {i: [] for i in np.unique(pre).tolist()}
    for s in range(pre.size):
        rows[int(pre[s])].append([s, int(post[s]), int(delay[s]), int(weight[s])])
    core = Core(rule, dt, rows, n_post)
    for t in range(steps):
        for j in post_spikes.get(t, ()):
            core.post_spike(t, j)
        for i in pre_spikes.get(t, ()):
            if i in rows:
                core.pre_spike(t, i)
    final = np.zeros(pre.size, np.int64)
    for row in rows.values():
        for s, _, _, w in row:
            final[s] = w
    return final, {key: total for key, total in core.ring.items() if total}  # as a ring shows


# ---- running the kernels as the reference engine does --------------------------------------------
def kernels(rule, dt, pre, post, weight, delay, n_pre, n_post, pre_spikes, post_spikes, steps):
    """Final weights and ring writes of ``arrive``/``learn`` (pre ids 0.., post ids n_pre..)."""
    step = RULES.get("spinnaker_stdp").steps["spinnaker"]
    syn = PlasticSynapses(pre=pre.astype(np.int32), post=post.astype(np.int32),
                          weight=weight.astype(np.int64), delay=delay.astype(np.int64),
                          channel=post.astype(np.int64), pre_first=0, post_first=n_pre,
                          n_pre=n_pre, n_post=n_post, steps=steps)
    P = step.tables(rule, syn, dt)
    stride = 1 << max(n_post - 1, 0).bit_length()
    slots = 1 << (steps + int(delay.max()) + 2).bit_length()  # no slot is ever reused
    ring = np.zeros(slots * stride, np.int64)
    for t in range(steps):
        step.arrive(t, ring, ring.size - 1, stride, P)
        spikes = [i for i in pre_spikes.get(t, ())] + [n_pre + j for j in post_spikes.get(t, ())]
        step.learn(t, np.array(spikes, np.int32), P)
    step.arrive(steps, ring, ring.size - 1, stride, P)  # the packets of the last tick
    table = ring.reshape(slots, stride)
    writes = {(int(a), int(c)): int(table[a, c]) for a, c in zip(*np.nonzero(table))}
    return step.weights(P), writes


def run_both(rule, dt, pre, post, weight, delay, n_pre, n_post, pre_spikes, post_spikes, steps):
    got = kernels(rule, dt, pre, post, weight, delay, n_pre, n_post, pre_spikes, post_spikes,
                  steps)
    want = transcribed(rule, dt, pre, post, weight, delay, n_post, pre_spikes, post_spikes, steps)
    return got, want


def one_synapse(rule, pre_times, post_times, w0=1000, d=1, steps=None):
    steps = steps or max([*pre_times, *post_times]) + 1
    args = (rule, 1.0, np.array([0]), np.array([0]), np.array([w0]), np.array([d]), 1, 1,
            {t: [0] for t in pre_times}, {t: [0] for t in post_times}, steps)
    (w, ring), (w_c, ring_c) = run_both(*args)
    assert np.array_equal(w, w_c) and ring == ring_c
    return int(w[0]), ring


# ---- hand-computed cases -------------------------------------------------------------------------
RULE = SpinnakerStdp(max_weight=60000 << 4, a2_plus=32768, a2_minus=16384, weight_shift=4)


def test_lut_is_spynnakers_table():
    lut = exp_lut(1.0, 20.0)
    # ln(2048) * 20 = 152.5 ticks: divmod(152.5, 2) = (76, 0.5) -> 77 pairs = 154 entries
    assert lut.size == 154
    assert lut[0] == 2048 and lut[6] == 1517 and lut[14] == 1017  # floor(2048 e^{-k/20})
    assert lut[-1] == 0 and lut[-2] == 1
    assert exp_lut(1.0, 20.0, shift=2).size == 40  # 152.5 / 4 = 38.1 -> 20 pairs


def test_pair_by_hand():
    """pre 10, post 15, pre 30 (d = 1): W 1000 -> 2008.

    At 30 the window (9, 29] holds the post at 15: potentiation with the pre trace 2048 at
    delta 15 + 1 - 10 = 6: x = 2048*1517 >> 11 = 1517, w += 32768 * (1517 << 4) >> 15 = 24272,
    w = 16000 + 24272 = 40272; depression by that post (trace 2048) at delta 30 - 16 = 14:
    x = 1017, w -= 16384 * (1017 << 4) >> 15 = 8136, w = 32136; W = 32136 >> 4 = 2008.
    The first pre spike (10) finds no post event: it carries 1000 into slot 11."""
    w, ring = one_synapse(RULE, [10, 30], [15])
    assert w == 2008
    assert ring == {(11, 0): 1000, (31, 0): 2008}


def test_dendritic_delay_puts_two_delays_into_the_interval():
    """sPyNNaker times a pair at the synapse: the pre spike at its send tick, the post spike
    back-propagated by the (dendritic) delay d, so the interval is t_post + d - t_pre.

    pre 10 (d = 3), post 13 (where the float rule, which delays the pre spike, sees a coincident
    pair), pre 20: the window (7, 17] holds the post; potentiation at 13 + 3 - 10 = 6:
    x = 1517 -> +24272; depression by it at 20 - 16 = 4: floor(2048 e^{-0.2}) = 1676 ->
    16384 * 26816 >> 15 = 13408; W = (16000 + 24272 - 13408) >> 4 = 1679."""
    w, ring = one_synapse(RULE, [10, 20], [13], d=3)
    assert w == 1679
    assert ring == {(13, 0): 1000, (23, 0): 1679}


def test_without_backprop_the_window_ends_at_the_pre_spike():
    """backprop_delay false: d = 0 in the window, (9, 30] at 30, so a post at 30 itself pairs:
    potentiation at 30 - 10 = 20: x = 753 -> 32768 * 12048 >> 15 = 12048; depression at 0:
    x = 2048 -> 16384 * 32768 >> 15 = 16384; W = (16000 + 12048 - 16384) >> 4 = 729, written at
    slot 30 + d = 31."""
    rule = RULE.model_copy(update={"backprop_delay": False})
    w, ring = one_synapse(rule, [10, 30], [30])
    assert w == 729
    assert ring == {(11, 0): 1000, (31, 0): 729}


def test_long_gap_reads_zero_beyond_the_table():
    """pre 1, post 5, pre 210: potentiation at 5 + 1 - 1 = 5 (floor(2048 e^{-0.25}) = 1594:
    +25504), depression at 210 - 6 = 204, past the table's 154 entries: 0."""
    w, _ = one_synapse(RULE, [1, 210], [5])
    assert w == (16000 + 25504) >> 4


def test_bounds_clamp_additive():
    """a2 = 10: pre 10, post 20, pre 30 potentiates far past max_weight (clamped at 1100 << 4);
    a post at 2, before the first pre, only depresses: clamped at min_weight 900 << 4."""
    strong = dict(max_weight=1100 << 4, min_weight=900 << 4, a2_plus=10 * 32768, weight_shift=4)
    w_up, _ = one_synapse(SpinnakerStdp(**strong, a2_minus=0), [10, 30], [20])
    w_down, ring = one_synapse(SpinnakerStdp(**strong, a2_minus=10 * 32768), [10, 30], [2])
    assert (w_up, w_down) == (1100, 900)
    assert ring == {(11, 0): 900, (31, 0): 900}  # the first pre already paired with post 2


def test_history_keeps_the_last_fifteen_post_spikes():
    """20 post spikes between two pre spikes: the 5 oldest are shuffled out, never paired (nearest
    pairing: only times count). The window's first post is then 25 (interval 16), not 20 (11)."""
    nearest = RULE.model_copy(update={"pairing": "nearest"})
    posts = list(range(20, 40))
    w_all, _ = one_synapse(nearest, [10, 60], posts)
    w_last, _ = one_synapse(nearest, [10, 60], posts[5:])
    w_first, _ = one_synapse(nearest, [10, 60], posts[:15])
    assert w_all == w_last != w_first


# ---- random spike trains -------------------------------------------------------------------------
def random_case(seed, rule, steps=300, n_pre=6, n_post=4, density=0.6, rate=0.06):
    rng = np.random.default_rng(seed)
    pairs = [(i, j) for i in range(n_pre) for j in range(n_post) if rng.random() < density]
    pre = np.array([p for p, _ in pairs], np.int64)
    post = np.array([q for _, q in pairs], np.int64)
    top = rule.max_weight >> rule.weight_shift
    weight = rng.integers(0, top + 1, pre.size)
    delay = rng.integers(1, 9, pre.size)
    pre_spikes: dict = {}
    post_spikes: dict = {}
    for t in range(steps):
        pre_spikes[t] = [i for i in range(n_pre) if rng.random() < rate]
        post_spikes[t] = [j for j in range(n_post) if rng.random() < rate * 1.5]
    return (rule, 1.0, pre, post, weight, delay, n_pre, n_post, pre_spikes, post_spikes, steps)


RULES_TO_TRY = [
    SpinnakerStdp(max_weight=3000 << 5, a2_plus=400 << 5, a2_minus=480 << 5, weight_shift=5),
    SpinnakerStdp(max_weight=3000 << 5, a2_plus=400 << 5, a2_minus=480 << 5, weight_shift=5,
                  min_weight=200 << 5, pairing="nearest"),
    SpinnakerStdp(max_weight=20000 << 2, a2_plus=3277, a2_minus=3932, weight_shift=2,
                  weight_dependence="multiplicative", tau_plus=15.0, tau_minus=30.0),
    SpinnakerStdp(max_weight=20000 << 2, a2_plus=6000, a2_minus=9000, weight_shift=2,
                  weight_dependence="multiplicative", pairing="nearest", backprop_delay=False),
    SpinnakerStdp(max_weight=500, a2_plus=50, a2_minus=60, weight_shift=0, tau_plus=5.0,
                  tau_minus=8.0, lut_shift_plus=1, lut_shift_minus=2),
]


@pytest.mark.parametrize("rule", RULES_TO_TRY, ids=lambda r: f"{r.weight_dependence}-{r.pairing}")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_trains_match_the_transcription(rule, seed):
    (w, ring), (w_c, ring_c) = run_both(*random_case(seed, rule))
    assert np.array_equal(w, w_c)
    assert ring == ring_c
    _, _, _, _, w0, *_ = random_case(seed, rule)
    assert not np.array_equal(w, w0)  # the rule did learn something


def test_dense_bursts_hit_the_bounds_and_the_history_limit():
    rule = RULES_TO_TRY[0]
    (w, ring), (w_c, ring_c) = run_both(*random_case(7, rule, rate=0.4, steps=200))
    assert np.array_equal(w, w_c) and ring == ring_c
    assert (w == rule.max_weight >> rule.weight_shift).any() or (w == 0).any()


def test_weights_are_refused_beyond_sixteen_bits():
    with pytest.raises(ValueError, match="16-bit"):
        SpinnakerStdp(max_weight=70000, a2_plus=1, a2_minus=1, weight_shift=0)


# ---- the quantizer: float stdp -> spinnaker_stdp -------------------------------------------------
def _quantized(rule, weight=0.1, tau_mem=10.0, fan_in=50):
    from snnc.compiler.passes.quantize import quantize
    from snnc.ir import LIF, Network, poisson

    net = Network("q", dt=1.0)
    inp = net.source("inp", fan_in, poisson(20.0, seed=1))
    out = net.population("out", 5, LIF(tau_mem=tau_mem, tau_syn=3.0, v_th=1.0))
    net.connect(inp, out, weight=weight, plasticity=rule)
    quantized, report = quantize(net, "spinnaker")
    return quantized.network.projections[0].plasticity, report


def test_quantizer_counts_w_max_in_the_shift_and_maps_the_units():
    from snnc.compiler.passes.quantize.spinnaker import ring_buffer_shift
    from snnc.models.stdp import Stdp

    rule = Stdp(a_plus=0.01, a_minus=0.012, w_max=0.6, tau_plus=17.0, tau_minus=23.0)
    native, report = _quantized(rule)
    unit = report.projections[0].scale  # float value of one 16-bit weight unit
    p = native.weight_shift
    gain = unit / 2.0 ** (p - 15)  # unit = 2**(p - 15) * gain (spinnaker.py's weight scale)
    # all delays 1: the worst case, 50 inputs at w_max (not at their initial 0.1)
    assert p == ring_buffer_shift(50 * 0.6 / gain) > ring_buffer_shift(50 * 0.1 / gain)
    assert p == report.projections[0].receptor_shift["exc"]
    assert native.max_weight == round(0.6 / unit) << p and native.min_weight == 0
    assert native.a2_plus == round(0.01 / unit * 2**p)
    assert native.a2_minus == round(0.012 / unit * 2**p)
    assert (native.tau_plus, native.tau_minus, native.backprop_delay) == (17.0, 23.0, False)
    text = "\n".join(report.warnings)
    for words in ("plus the synapse's delay", "whole 16-bit units", "last 15 post spikes",
                  "presynaptic spike arrives", "never interact"):
        assert words in text


def test_quantizer_multiplicative_factors_and_small_steps():
    from snnc.models.stdp import Stdp

    native, _ = _quantized(Stdp(a_plus=0.25, a_minus=0.125, w_max=0.6,
                                weight_dependence="multiplicative", pairing="nearest"))
    assert (native.a2_plus, native.a2_minus) == (8192, 4096)  # 0.25, 0.125 in s16.15
    assert native.pairing == "nearest"
    _, report = _quantized(Stdp(a_plus=1e-7, a_minus=1e-7, w_max=0.6))
    assert any("below one weight unit" in w for w in report.warnings)


def test_quantizer_refuses_neurons_with_different_gains():
    from snnc.ir.errors import UnsupportedOnTarget
    from snnc.models.stdp import Stdp

    with pytest.raises(UnsupportedOnTarget, match="differ in their input gain"):
        _quantized(Stdp(w_max=0.6), tau_mem={"uniform": [5.0, 20.0], "seed": 3})


@pytest.mark.parametrize("lead, grows", [(5, True), (-5, False)])
def test_spinnaker_numerics_learn_in_the_float_rules_direction(lead, grows):
    """A pre spike every 50 ms and a teacher that makes the post neuron fire ``lead`` ms later:
    causal pairs grow the weight, anti-causal ones shrink it, in float and spinnaker numerics."""
    from snnc.backends.reference import simulate
    from snnc.compiler.passes.quantize import quantize
    from snnc.ir import LIF, Network, spike_times
    from snnc.models.stdp import Stdp

    pre_times = np.arange(20, 980, 50)
    net = Network("pairing", dt=1.0)
    pre = net.source("pre", 1, spike_times([float(t) for t in pre_times], [0] * pre_times.size))
    teach_times = pre_times + lead
    teacher = net.source("teach", 1, spike_times([float(t) for t in teach_times],
                                                 [0] * teach_times.size))
    out = net.population("out", 1, LIF(tau_mem=5.0, tau_syn=0.0, v_th=1.0))
    net.connect(teacher, out, weight=2.0)
    net.connect(pre, out, weight=0.3, plasticity=Stdp(a_plus=0.02, a_minus=0.02, w_max=0.6))
    quantized, _ = quantize(net, "spinnaker")
    final = {}
    for numerics, network in (("float", net), ("spinnaker", quantized.network)):
        record = simulate(network, 1000, numerics, record_weights={"pre->out": 0})
        final[numerics] = record.weights["pre->out"].weights[0]
    start = {"float": 0.3, "spinnaker": int(np.asarray(
        quantized.network.projections[1].weight).ravel()[0])}
    for numerics in final:
        assert (final[numerics] > start[numerics]) == grows, (numerics, final, start)


def test_the_reference_refuses_a_weight_shift_the_post_does_not_have():
    """The rule's weight_shift must be the post population's ring-buffer shift (the C takes it
    from the core): the reference refuses a mismatch in one line, as spinnaker-emu does."""
    from snnc.backends.reference import simulate
    from snnc.ir import Network, SpinnakerLIF, UnsupportedOnTarget, poisson

    net = Network("shift", dt=1.0)
    net.source("pre", 4, poisson(50.0, seed=1))
    cell = dict(v_thresh=10000, exp_tc=30000, r_membrane=2**15)
    net.population("out", 2, SpinnakerLIF(**cell, weight_shift_exc=3))
    rule = SpinnakerStdp(max_weight=2000 << 4, a2_plus=300 << 4, a2_minus=360 << 4,
                         weight_shift=4)
    net.connect("pre", "out", weight=100, plasticity=rule)
    with pytest.raises(UnsupportedOnTarget, match="weight_shift 4 differs from the post "
                                                  "population's weight_shift_exc 3") as refusal:
        simulate(net, 10, "spinnaker")
    assert "\n" not in str(refusal.value)
    net.populations["out"] = net.populations["out"].model_copy(
        update={"neuron": SpinnakerLIF(**cell, weight_shift_exc=4)})
    assert simulate(net, 10, "spinnaker").steps == 10  # the matching shift runs
