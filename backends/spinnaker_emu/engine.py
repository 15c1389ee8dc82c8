"""The tick loop: every core and router of the machine, one 1 ms timer tick after another (numba).

Per tick ``t`` (the order of ``neuron/c_main.c::timer_callback`` and the router):

1. every neuron core consumes ring-buffer slot ``t & slot_mask``, updates its neurons and sends one
   multicast packet per spike (``update_neurons``), and one payload packet per graded
   (``spinnaker_li``) neuron, payload ``V >> payload_shift``, every tick; neurons of other
   (foreign) kinds run their model's ``spinnaker`` Step here too, after the built-in ones, in a
   loop generated for their kernels (``foreign.py``);
2. every source core sends the packets of its spikes at ``t``; every delay core re-sends, for each of
   its stages ``s``, the spikes it received at ``t - s * slots``;
3. each packet sent is delivered as the routing walk found (``loader.Packets``): a neuron core
   looks the key up in its master population table and adds the row's weights into its ring slot
   ``(t + delay) & slot_mask`` (uint16, saturating), a delay core stores the spike, a lookup that
   fails is counted;
   plastic rows (``plastic.py``) are processed at the start of tick ``t + 1``, before the neurons
   update (``plastic_arrive``), and the spikes of ``t`` enter the post histories just before
   their packets go out (``plastic_learn``);
4. per core the cost model turns this tick's counts into cycles (load, overruns); per router and
   link the packets of this tick update totals and peaks.

Everything a tick needs is an array; Python only calls ``run_ticks`` once per chunk of ticks.
``builtin_neurons`` (step 1 of the built-in kinds) and ``send_and_route`` (the rest of the tick)
are shared with the generated loops, so a machine with foreign kinds runs the same tick.
"""

from __future__ import annotations

import numpy as np

from snnc.models.jit import njit

from .neuron import update_neurons
from .plastic import plastic_arrive, plastic_learn

RING_MAX = 0xFFFF
DELIVER_ROW, DELIVER_DELAY, DELIVER_MISS = 0, 1, 2


@njit(cache=True)
def _deliver(g, t, dptr, dcore, dkind, drow, rptr, rlen, words, layout, ring_base, ring,
             pending, pending_row, events, failed, saturations, graded_g, payload):
    """Deliver one packet ``g`` to every core the routing walk reached that has work to do.

    (Cores whose lookup finds an empty row only count the packet: see ``_count_patterns``.)

    A row word is ``weight << 16 | delay << (neuron_bits + 1) | receptor << neuron_bits |
    neuron`` (sPyNNaker's ``synapse_row.h``); its ring entry is the core's
    ``((t + delay) & slot_mask) << (neuron_bits + 1) | receptor << neuron_bits | neuron``.

    A graded packet (``graded_g[g]``, payload ``m = payload[g]``) adds ``(weight * |m|) >> 15``
    instead of ``weight``, on the word's receptor when ``m >= 0`` and on the other one when
    ``m < 0`` (the receptor of the sign of ``w * m``, ``models/spinnaker_li.py``).
    """
    delay_shift, slot_mask, low_mask = layout
    graded = graded_g[g] != 0
    magnitude = abs(payload[g]) if graded else 0
    flip = (np.int64(1) << (delay_shift - 1)) if graded and payload[g] < 0 else 0
    for k in range(dptr[g], dptr[g + 1]):
        core = dcore[k]
        kind = dkind[k]
        if kind == DELIVER_ROW:
            row = drow[k]
            base = ring_base[core]
            for w in range(rptr[row], rptr[row] + rlen[row]):
                word = np.int64(words[w])
                slot = (t + ((word >> delay_shift) & slot_mask)) & slot_mask
                add = ((word >> 16) * magnitude) >> 15 if graded else word >> 16
                if add == 0:
                    continue
                at = base + (slot << delay_shift) + ((word & low_mask) ^ flip)
                total = np.int64(ring[at]) + add
                if total > RING_MAX:
                    total = RING_MAX
                    saturations[core] += 1
                ring[at] = total
            events[core] += rlen[row]
        elif kind == DELIVER_DELAY:
            pending[pending_row, drow[k]] += 1
        elif kind == DELIVER_MISS:
            failed[core] += 1  # no master-population-table entry: the packet is lost


@njit(cache=True)
def _count_patterns(touched, n_touched, pattern_count, pc_ptr, pc, pr_ptr, pr, pl_ptr, pl,
                    recv, router_tick, link_tick):
    """This tick's packets per core received, per router and per link, pattern by pattern."""
    for j in range(n_touched):
        p = touched[j]
        count = pattern_count[p]
        for k in range(pc_ptr[p], pc_ptr[p + 1]):
            recv[pc[k]] += count
        for k in range(pr_ptr[p], pr_ptr[p + 1]):
            router_tick[pr[k]] += count
        for k in range(pl_ptr[p], pl_ptr[p + 1]):
            link_tick[pl[k]] += count
        pattern_count[p] = 0


@njit(cache=True)
def _delay_sends(t, slots, pending, d_input, d_stage, d_g, out, n_out):
    """Packets the delay cores send at ``t``: input ``i`` at stage ``s`` if it arrived at t-s*slots."""
    rows = pending.shape[0]
    for k in range(d_g.size):
        arrived = t - d_stage[k] * slots
        if arrived < 0:
            continue
        for _ in range(pending[arrived % rows, d_input[k]]):
            out[n_out] = d_g[k]
            n_out += 1
    return n_out


@njit(cache=True)
def tick_scratch(n_neurons, n_cores, n_out, n_patterns):
    """Per-tick work arrays of the loop: spiked flags, packets out, per-core and pattern counts,
    and per core the cycles of this tick's STDP work (``plastic.py``)."""
    return (np.zeros(n_neurons, dtype=np.bool_), np.empty(n_out, dtype=np.int64),
            np.zeros(n_cores, dtype=np.int64), np.zeros(n_cores, dtype=np.int64),
            np.zeros(n_cores, dtype=np.int64), np.zeros(n_patterns, dtype=np.int64),
            np.empty(n_patterns, dtype=np.int64), np.zeros(n_cores, dtype=np.int64))


@njit(cache=True)
def builtin_neurons(t, state, neuron, net, spiked):
    """Step 1 for the built-in kinds (``spinnaker_lif``/``spinnaker_li``, global neurons
    ``0 .. flags.size - 1``): ``update_neurons`` on slot ``t`` of every core's ring."""
    v, i_syn, refract, ring, _ = state
    (v_thresh, v_reset, v_rest, i_offset, exp_tc, r_membrane, decay, init, shift, flags,
     t_refract, _) = neuron
    ring_pos, layout = net[4], net[6]
    delay_shift, slot_mask, _ = layout
    update_neurons(v, i_syn, refract, ring, ring_pos, (t & slot_mask) << delay_shift,
                   np.int64(1) << (delay_shift - 1), v_thresh, v_reset, v_rest, i_offset,
                   exp_tc, r_membrane, decay, init, shift, flags, t_refract, spiked)


@njit(cache=True)
def send_and_route(t, state, neuron, net, routes, delays, cost, counters, spike_t, spike_n,
                   n_spikes, v_rec_index, v_rec, scratch):
    """Steps 1 (the packets of this tick's spikes and payloads) to 4 of tick ``t``, once every
    neuron has been updated (``spiked`` and ``v`` hold tick ``t``); returns the spikes written."""
    v, _, _, ring, pending = state
    payload_shift = neuron[11]
    (neuron_g, g_core, src_ptr, src_g, _, ring_base, layout, graded_n, graded_g, payload,
     graded_sent) = net
    (dptr, dcore, dkind, drow, rptr, rlen, words, pattern_of, pc_ptr, pc, pr_ptr, pr, pl_ptr,
     pl) = routes
    (slots, d_input, d_stage, d_g) = delays
    (static_cycles, cyc_packet, cyc_event, cyc_send, budget) = cost
    (sent, recv, events, failed, saturations, cyc_total, cyc_max, overruns, late, recv_peak,
     router_tick, router_peak, link_tick, link_peak, emitted) = counters
    spiked, out, tick_recv, tick_events, tick_sent, pattern_count, touched, tick_plastic = scratch
    n_out = 0
    for n in range(v.size):
        if spiked[n]:
            spike_t[n_spikes] = t
            spike_n[n_spikes] = n
            n_spikes += 1
            if neuron_g[n] >= 0:  # a core with nowhere to send sends nothing
                out[n_out] = neuron_g[n]
                n_out += 1
    for j in range(graded_n.size):  # graded neurons: one payload packet each, every tick
        g = neuron_g[graded_n[j]]
        payload[g] = v[graded_n[j]] >> payload_shift[graded_n[j]]
        out[n_out] = g
        n_out += 1
    for j in range(graded_sent.size):  # foreign graded neurons: payload set by their update
        out[n_out] = graded_sent[j]
        n_out += 1
    for k in range(v_rec_index.size):
        v_rec[t, k] = v[v_rec_index[k]]
    # 2. source and delay cores
    for k in range(src_ptr[t], src_ptr[t + 1]):
        out[n_out] = src_g[k]
        n_out += 1
    pending_row = t % pending.shape[0]
    n_out = _delay_sends(t, slots, pending, d_input, d_stage, d_g, out, n_out)
    for j in range(pending.shape[1]):  # a loop: a slice assignment compiles a shape check
        pending[pending_row, j] = 0
    # 3. routers deliver every packet sent this tick
    n_touched = 0
    for k in range(n_out):
        g = out[k]
        tick_sent[g_core[g]] += 1
        emitted[g] += 1
        p = pattern_of[g]
        if pattern_count[p] == 0:
            touched[n_touched] = p
            n_touched += 1
        pattern_count[p] += 1
        _deliver(g, t, dptr, dcore, dkind, drow, rptr, rlen, words, layout, ring_base, ring,
                 pending, pending_row, tick_events, failed, saturations, graded_g, payload)
    _count_patterns(touched, n_touched, pattern_count, pc_ptr, pc, pr_ptr, pr, pl_ptr, pl,
                    tick_recv, router_tick, link_tick)
    # 4. cost model and peaks
    for c in range(static_cycles.size):
        cycles = (static_cycles[c] + cyc_packet * tick_recv[c] + cyc_event * tick_events[c]
                  + cyc_send * tick_sent[c] + tick_plastic[c])
        tick_plastic[c] = 0
        cyc_total[c] += cycles
        cyc_max[c] = max(cyc_max[c], cycles)
        if cycles > budget:
            overruns[c] += 1
            late[c] += tick_recv[c]
        recv_peak[c] = max(recv_peak[c], tick_recv[c])
        sent[c] += tick_sent[c]
        recv[c] += tick_recv[c]
        events[c] += tick_events[c]
        tick_recv[c] = 0
        tick_events[c] = 0
        tick_sent[c] = 0
    for r in range(router_tick.size):
        router_peak[r] = max(router_peak[r], router_tick[r])
        router_tick[r] = 0
    for r in range(link_tick.size):
        link_peak[r] = max(link_peak[r], link_tick[r])
        link_tick[r] = 0
    return n_spikes


@njit(cache=True)
def scratch_of(state, net, routes, delays, counters):
    """``tick_scratch`` sized for this machine (every neuron, source and delay packet at once)."""
    n_neurons = state[0].size
    n_out = n_neurons + net[3].size + delays[3].size + net[10].size
    return tick_scratch(n_neurons, counters[0].size, n_out, routes[8].size - 1)


@njit(cache=True)
def run_ticks(t_start, t_stop, state, neuron, net, routes, delays, cost, counters, spike_t,
              spike_n, v_rec_index, v_rec, plastic):
    """Run ticks ``t_start .. t_stop-1``; returns (first tick not run, spikes written).

    Stops early (at a tick boundary) when ``spike_t`` could overflow; the caller grows it and
    calls again. ``state``/``counters`` are updated in place, so calls chain exactly. (The loop
    of a machine with foreign kinds is generated from this one, ``foreign.py``.)
    """
    scratch = scratch_of(state, net, routes, delays, counters)
    n_neurons = state[0].size
    n_spikes = 0
    for t in range(t_start, t_stop):
        if n_spikes + n_neurons > spike_t.size:
            return t, n_spikes
        plastic_arrive(t, state, net, plastic, counters[4], scratch[7])
        builtin_neurons(t, state, neuron, net, scratch[0])
        plastic_learn(t, net, plastic, scratch[0], scratch[7])
        n_spikes = send_and_route(t, state, neuron, net, routes, delays, cost, counters, spike_t,
                                  spike_n, n_spikes, v_rec_index, v_rec, scratch)
    return t_stop, n_spikes
