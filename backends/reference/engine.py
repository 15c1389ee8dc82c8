"""The time loop: per step, update every neuron from its ring-buffer slot, then deliver the spikes.

Order within step ``t`` (DESIGN.md §2): neurons read slot ``t`` (the input arriving now), update and
spike; the slot is cleared; the sources' spikes of step ``t`` join the neurons'; every spike of step
``t`` is delivered through its synapses into slot ``t + d``. The whole loop runs in numba; Python
only calls it in chunks (for the progress bar, and to grow the spike buffer when it fills).
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Callable

import numpy as np
from numba import prange

from snnc.jit import njit

from .floating import float_update
from .loihi import loihi_update
from .program import Program
from .spinnaker import spinnaker_update

_MIN_SPIKE_CAPACITY = 1 << 20

# A step's parallel region is short (tens of microseconds): OpenMP threads that spin-wait between
# regions starve each other on a shared machine, while passive waiting costs ~15 us per step.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@njit(cache=True, nogil=True)
def deliver(ids, t, row0, wrap, stride, ring, offsets, arrivals, weights):
    """Add the weights of spikes sent at step ``t`` into the ring slot of their arrival step.

    ``row0`` selects this part's CSR rows (``part * neurons``). ``arrivals[k] = delay * stride +
    channel`` and the ring holds ``ring_slots * stride`` entries (both powers of two, ``wrap`` one
    less), so ``(t * stride + arrival) & wrap`` is slot ``(t + delay) mod ring_slots``, column
    ``channel``: no delay array, no branch in the loop.
    """
    base = t * stride
    for s in ids:
        for k in range(offsets[row0 + s], offsets[row0 + s + 1]):
            ring[(base + arrivals[k]) & wrap] += weights[k]


@njit(cache=True, nogil=True)
def _loihi_input(row, cbase, lo, hi, extra_channel, extra_neuron, extra_shift, scratch):
    """This step's input of loihi neurons lo..hi-1: their channel plus floor-shifted groups."""
    for i in range(lo, hi):
        scratch[i] = np.int64(row[cbase + i])
    for j in range(extra_channel.size):
        if lo <= extra_neuron[j] < hi:
            scratch[extra_neuron[j]] += np.int64(row[extra_channel[j]]) >> extra_shift[j]
    return scratch


@njit(cache=True, nogil=True)
def _record(state, row, neurons, buffer, t):
    for j in range(neurons.size):
        buffer[t, j] = state[row, neurons[j]]


@njit(cache=True, nogil=True)
def _part_range(size, gbase, split, part):
    """The family-local neuron range [lo, hi) that part ``part`` updates."""
    cut = min(max(split - gbase, 0), size)
    return (0, cut) if part == 0 else (cut, size)


@njit(cache=True, nogil=True)
def _update_part(part, row, split, fam_f, fam_l, fam_s, extra, buffer):
    """Update one part's neurons of every family; spikes' global ids into ``buffer``."""
    f_params, f_state, f_cbase, f_gbase = fam_f[0], fam_f[1], fam_f[2], fam_f[3]
    l_params, l_state, l_cbase, l_gbase = fam_l[0], fam_l[1], fam_l[2], fam_l[3]
    s_params, s_state, s_cbase, s_gbase = fam_s[0], fam_s[1], fam_s[2], fam_s[3]
    nf, nl, ns = f_state.shape[1], l_state.shape[1], s_state.shape[1]
    count = 0
    lo, hi = _part_range(nf, f_gbase, split, part)
    count = float_update(row[f_cbase:f_cbase + nf], f_params, f_state, lo, hi, buffer, count,
                         f_gbase)
    lo, hi = _part_range(nl, l_gbase, split, part)
    if hi > lo:
        a = _loihi_input(row, l_cbase, lo, hi, extra[0], extra[1], extra[2], extra[3])
        count = loihi_update(a, l_params, l_state, lo, hi, buffer, count, l_gbase)
    lo, hi = _part_range(ns, s_gbase, split, part)
    count = spinnaker_update(row[s_cbase:s_cbase + 2 * ns], s_params, s_state, lo, hi, buffer,
                             count, s_gbase)
    return count


@njit(cache=True, nogil=True)
def _step_part(part, sent, t, row, net, fam_f, fam_l, fam_s, extra, buffer):
    """One part's share of step ``t``: deliver step ``t - 1``'s spikes, then update its neurons."""
    ring, mask, stride, offsets, arrivals, weights = net[:6]
    neurons = (offsets.size - 1) // 2
    wrap = (mask + 1) * stride - 1
    deliver(sent, t - 1, part * neurons, wrap, stride, ring, offsets, arrivals, weights)
    return _update_part(part, row, net[9], fam_f, fam_l, fam_s, extra, buffer)


@njit(cache=True, nogil=True, parallel=True)
def _parallel_parts(sent, t, row, net, fam_f, fam_l, fam_s, extra, parts, counts):
    """The only parallel region (kept tiny: parfor compilation is slow on big bodies)."""
    for part in prange(2):
        counts[part] = _step_part(part, sent, t, row, net, fam_f, fam_l, fam_s, extra,
                                  parts[part])


@njit(cache=True, nogil=True)
def run_steps(t0, t1, net, fam_f, fam_l, fam_s, extra, pending, parts, out_t, out_i,
              per_step_max):
    """Simulate steps ``t0..t1-1``; returns (next step, spikes stored, start of the last step's).

    Step ``t`` is one parallel region over the two parts: each part first delivers the spikes of
    step ``t - 1`` (``pending`` at ``t0``) into the channels its neurons read, then updates its
    neurons from slot ``t``. Parts never write the same channel, so there are no races, and the
    merged spikes are in global-id order whatever the thread count.
    """
    ring, mask, stride, channels, src_off, src_ids = net[0], net[1], net[2], net[6], net[7], net[8]
    n_out, last_start = 0, 0
    counts = np.zeros(2, dtype=np.int64)
    for t in range(t0, t1):
        if n_out + per_step_max > out_i.size:
            return t, n_out, last_start
        sent = pending if t == t0 else out_i[last_start:n_out]
        base = (t & mask) * stride
        row = ring[base:base + channels]  # a slot's first ``channels`` entries (the rest stay 0)
        _parallel_parts(sent, t, row, net, fam_f, fam_l, fam_s, extra, parts, counts)
        last_start = n_out
        for part in range(2):
            out_i[n_out:n_out + counts[part]] = parts[part, :counts[part]]
            n_out += counts[part]
        for k in range(src_off[t], src_off[t + 1]):
            out_i[n_out] = src_ids[k]
            n_out += 1
        out_t[last_start:n_out] = t
        _record(fam_f[1], 0, fam_f[4], fam_f[5], t)
        _record(fam_l[1], 1, fam_l[4], fam_l[5], t)
        _record(fam_s[1], 0, fam_s[4], fam_s[5], t)
        row[:] = 0
    return t1, n_out, last_start


class Engine:
    """Holds a program's mutable state (ring, neuron state, spike buffer) and runs it in chunks."""

    def __init__(self, program: Program, record: dict[str, np.ndarray]) -> None:
        """``record[family] = family-local neuron indices whose voltage to store each step``."""
        p = self.program = program
        self.ring = np.zeros(p.ring_slots * p.stride, dtype=p.ring_dtype)
        self.net = (self.ring, np.int64(p.ring_slots - 1), np.int64(p.stride), p.offsets,
                    p.arrivals, p.weights, np.int64(p.channels), p.source_offsets, p.source_ids,
                    np.int64(p.split))
        self.voltages: dict[str, np.ndarray] = {}
        self.fams = []
        for name in ("float", "loihi", "spinnaker"):
            fam = p.families[name]
            neurons = record.get(name, np.zeros(0, np.int64)).astype(np.int64)
            dtype = np.float64 if name == "float" else np.int64
            buffer = np.zeros((p.steps, neurons.size), dtype=dtype)
            self.voltages[name] = buffer
            # the engine's own copy of the state: a Program can be run again from its start
            self.fams.append((fam.params, fam.state.copy(), np.int64(fam.cbase),
                              np.int64(fam.gbase), neurons, buffer))
        scratch = np.zeros(p.families["loihi"].size, dtype=np.int64)
        self.extra = (*p.extra, scratch)
        max_sources = int(np.diff(p.source_offsets).max()) if p.steps else 0
        self.per_step_max = sum(f.size for f in p.families.values()) + max_sources
        capacity = max(_MIN_SPIKE_CAPACITY, 4 * self.per_step_max)
        self.out_t = np.zeros(capacity, dtype=np.int32)
        self.out_i = np.zeros(capacity, dtype=np.int32)
        self.parts = np.zeros((2, max(p.split, p.neurons_simulated - p.split, 1)), dtype=np.int32)
        self.pending = np.zeros(0, dtype=np.int32)  # spikes of the last step run, not delivered
        self.chunks: list[tuple[np.ndarray, np.ndarray]] = []

    def run(self, on_progress: Callable[[int], None] | None = None, chunk_steps: int = 0) -> None:
        """Run all steps; ``on_progress(step)`` after each chunk of ``chunk_steps`` steps."""
        steps = self.program.steps
        chunk = chunk_steps or steps
        t = 0
        # numba's threading start-up reads multiprocessing's start method, which fixes it; Lava
        # (imported later, e.g. by `snnc verify`) then cannot set its own: undo that side effect.
        unset = multiprocessing.get_start_method(allow_none=True) is None
        while t < steps:
            stop = min(steps, t + chunk)
            t, n_out, last = run_steps(t, stop, self.net, *self.fams, self.extra, self.pending,
                                       self.parts, self.out_t, self.out_i, self.per_step_max)
            self.chunks.append((self.out_t[:n_out].copy(), self.out_i[:n_out].copy()))
            self.pending = self.out_i[last:n_out].copy()
            if unset:
                multiprocessing.set_start_method(None, force=True)
                unset = False
            if on_progress is not None:
                on_progress(t)

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """All spikes so far: (steps, global ids), in step order."""
        if not self.chunks:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return (np.concatenate([c[0] for c in self.chunks]),
                np.concatenate([c[1] for c in self.chunks]))
