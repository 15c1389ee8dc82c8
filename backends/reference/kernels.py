"""The engine's fixed kernels: spike delivery into the delay ring, recording, the parts' ranges.

The per-family update calls are generated for each set of models (``engine.py``); these are the
pieces every generated engine shares.
"""

from __future__ import annotations

import numpy as np

from snnc.models.jit import njit


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
def loihi_input(row, cbase, lo, hi, extra_channel, extra_neuron, extra_shift, scratch):
    """This step's input of loihi neurons lo..hi-1: their channel plus floor-shifted groups."""
    for i in range(lo, hi):
        scratch[i] = np.int64(row[cbase + i])
    for j in range(extra_channel.size):
        if lo <= extra_neuron[j] < hi:
            scratch[extra_neuron[j]] += np.int64(row[extra_channel[j]]) >> extra_shift[j]
    return scratch


@njit(cache=True, nogil=True)
def record(state, row, neurons, buffer, t):
    """Store ``state[row, neurons]`` as step ``t`` of ``buffer``."""
    for j in range(neurons.size):
        buffer[t, j] = state[row, neurons[j]]


@njit(cache=True, nogil=True)
def part_range(size, gbase, split, part):
    """The family-local neuron range [lo, hi) that part ``part`` updates."""
    cut = min(max(split - gbase, 0), size)
    return (0, cut) if part == 0 else (cut, size)
