"""The time loop: per step, update every neuron from its ring-buffer slot, then deliver the spikes.

Order within step ``t`` (DESIGN.md §2): neurons read slot ``t`` (the input arriving now), update and
spike; the slot is cleared; the sources' spikes of step ``t`` join the neurons'; every spike of step
``t`` is delivered through its synapses into slot ``t + d``. The whole loop runs in numba; Python
only calls it in chunks (for the progress bar, and to grow the spike buffer when it fills).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numba import njit

from .floating import float_update
from .loihi import loihi_update
from .program import Program
from .spinnaker import spinnaker_update

_MIN_SPIKE_CAPACITY = 1 << 20


@njit(cache=True, nogil=True)
def deliver(ids, t, mask, channels, ring, offsets, targets, weights, delays):
    """Add each spike's weights into the ring slot of its arrival step (event-driven, CSR rows)."""
    for s in ids:
        for k in range(offsets[s], offsets[s + 1]):
            ring[((t + delays[k]) & mask) * channels + targets[k]] += weights[k]


@njit(cache=True, nogil=True)
def _loihi_input(row, cbase, n, extra_channel, extra_neuron, extra_shift, scratch):
    """This step's input per loihi neuron: its channel plus floor-shifted weight_exp<0 groups."""
    for i in range(n):
        scratch[i] = np.int64(row[cbase + i])
    for j in range(extra_channel.size):
        scratch[extra_neuron[j]] += np.int64(row[extra_channel[j]]) >> extra_shift[j]
    return scratch


@njit(cache=True, nogil=True)
def _record(state, row, neurons, buffer, t):
    for j in range(neurons.size):
        buffer[t, j] = state[row, neurons[j]]


@njit(cache=True, nogil=True)
def run_steps(t0, t1, net, fam_f, fam_l, fam_s, extra, out_t, out_i, n_out, per_step_max):
    """Simulate steps ``t0..t1-1``; returns (next step, spikes stored). Stops early when full."""
    ring, mask, channels, offsets, targets, weights, delays, src_off, src_ids = net
    f_params, f_state, f_cbase, f_gbase, f_rec, f_buf = fam_f
    l_params, l_state, l_cbase, l_gbase, l_rec, l_buf = fam_l
    s_params, s_state, s_cbase, s_gbase, s_rec, s_buf = fam_s
    x_chan, x_neuron, x_shift, scratch = extra
    nf, nl, ns = f_state.shape[1], l_state.shape[1], s_state.shape[1]
    for t in range(t0, t1):
        if n_out + per_step_max > out_i.size:
            return t, n_out
        start = n_out
        row = ring[(t & mask) * channels:((t & mask) + 1) * channels]
        n_out = float_update(row[f_cbase:f_cbase + nf], f_params, f_state, 0, nf, out_i, n_out,
                             f_gbase)
        if nl:
            a = _loihi_input(row, l_cbase, nl, x_chan, x_neuron, x_shift, scratch)
            n_out = loihi_update(a, l_params, l_state, 0, nl, out_i, n_out, l_gbase)
        n_out = spinnaker_update(row[s_cbase:s_cbase + 2 * ns], s_params, s_state, 0, ns, out_i,
                                 n_out, s_gbase)
        _record(f_state, 0, f_rec, f_buf, t)
        _record(l_state, 1, l_rec, l_buf, t)
        _record(s_state, 0, s_rec, s_buf, t)
        row[:] = 0
        for k in range(src_off[t], src_off[t + 1]):
            out_i[n_out] = src_ids[k]
            n_out += 1
        out_t[start:n_out] = t
        deliver(out_i[start:n_out], t, mask, channels, ring, offsets, targets, weights, delays)
    return t1, n_out


class Engine:
    """Holds a program's mutable state (ring, neuron state, spike buffer) and runs it in chunks."""

    def __init__(self, program: Program, record: dict[str, np.ndarray]) -> None:
        """``record[family] = family-local neuron indices whose voltage to store each step``."""
        p = self.program = program
        self.ring = np.zeros(p.ring_slots * p.channels, dtype=p.ring_dtype)
        self.net = (self.ring, np.int64(p.ring_slots - 1), np.int64(p.channels), p.offsets,
                    p.targets, p.weights, p.delays, p.source_offsets, p.source_ids)
        self.voltages: dict[str, np.ndarray] = {}
        self.fams = []
        for name in ("float", "loihi", "spinnaker"):
            fam = p.families[name]
            neurons = record.get(name, np.zeros(0, np.int64)).astype(np.int64)
            dtype = np.float64 if name == "float" else np.int64
            buffer = np.zeros((p.steps, neurons.size), dtype=dtype)
            self.voltages[name] = buffer
            self.fams.append((fam.params, fam.state, np.int64(fam.cbase), np.int64(fam.gbase),
                              neurons, buffer))
        scratch = np.zeros(p.families["loihi"].size, dtype=np.int64)
        self.extra = (*p.extra, scratch)
        max_sources = int(np.diff(p.source_offsets).max()) if p.steps else 0
        self.per_step_max = sum(f.size for f in p.families.values()) + max_sources
        capacity = max(_MIN_SPIKE_CAPACITY, 4 * self.per_step_max)
        self.out_t = np.zeros(capacity, dtype=np.int32)
        self.out_i = np.zeros(capacity, dtype=np.int32)
        self.chunks: list[tuple[np.ndarray, np.ndarray]] = []

    def run(self, on_progress: Callable[[int], None] | None = None, chunk_steps: int = 0) -> None:
        """Run all steps; ``on_progress(step)`` after each chunk of ``chunk_steps`` steps."""
        steps = self.program.steps
        chunk = chunk_steps or steps
        t = 0
        while t < steps:
            stop = min(steps, t + chunk)
            t, n_out = run_steps(t, stop, self.net, *self.fams, self.extra, self.out_t,
                                 self.out_i, 0, self.per_step_max)
            self.chunks.append((self.out_t[:n_out].copy(), self.out_i[:n_out].copy()))
            if on_progress is not None:
                on_progress(t)

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """All spikes so far: (steps, global ids), in step order."""
        if not self.chunks:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return (np.concatenate([c[0] for c in self.chunks]),
                np.concatenate([c[1] for c in self.chunks]))
