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
def deliver_graded(graded_ids, payload, t, row0, wrap, stride, ring, offsets, arrivals, weights):
    """Add ``weight * value`` of every graded neuron's value sent at step ``t`` (its payload) into
    the ring slot of its arrival step: a non-spiking population's output, sent every step."""
    base = t * stride
    for j in range(graded_ids.size):
        s = graded_ids[j]
        value = payload[j]
        for k in range(offsets[row0 + s], offsets[row0 + s + 1]):
            ring[(base + arrivals[k]) & wrap] += weights[k] * value


@njit(cache=True, nogil=True)
def deliver_graded_exc_inh(graded_ids, payload, flip, t, row0, wrap, stride, ring, offsets,
                           arrivals, weights):
    """``deliver_graded`` where some targets have the ``exc_inh`` layout (spinnaker numerics).

    ``flip[channel]`` is, for an ``exc_inh`` family's channel, the offset to the same neuron's
    other receptor (``+size`` on the excitatory channel, ``-size`` on the inhibitory one), else 0.
    There a synapse holds ``|w|`` on the receptor of ``w``'s sign; a message ``m`` adds
    ``(|w| * |m|) >> 15`` to the receptor of the sign of ``w * m`` (the other one when ``m < 0``),
    saturating at 0xFFFF as the ring's sums are read (models/spinnaker_li.py). Channels of other
    layouts get ``weight * value`` as in ``deliver_graded``.
    """
    base = t * stride
    cmask = stride - 1
    for j in range(graded_ids.size):
        s = graded_ids[j]
        value = payload[j]
        magnitude = np.int64(abs(np.int64(value)))
        negative = value < 0
        for k in range(offsets[row0 + s], offsets[row0 + s + 1]):
            arrival = arrivals[k]
            other = flip[arrival & cmask]
            if other == 0:
                ring[(base + arrival) & wrap] += weights[k] * value
                continue
            add = (np.int64(weights[k]) * magnitude) >> 15
            if add == 0:
                continue
            at = (base + arrival + (other if negative else 0)) & wrap
            ring[at] = min(np.int64(ring[at]) + min(add, 0xFFFF), 0xFFFF)


@njit(cache=True, nogil=True)
def snapshot(state, row, local, payload, first):
    """Copy this step's values of a family's graded neurons into the payload (before the next
    step's parallel region, so that no part reads a value another part is updating)."""
    for j in range(local.size):
        payload[first + j] = state[row, local[j]]


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
