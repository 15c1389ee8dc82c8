"""The network as one flat synapse graph over global neuron ids, the input of partitioning.

Every population (sources included) gets a contiguous range of global ids in network order. A
projection's synapses become ``pre``/``post`` global ids (int32) and, where the hardware has in-core
delay slots, a delay ``stage = (d - 1) // slots`` (int8; see ``artifacts.py``). Weights are dropped:
mapping needs only who talks to whom. ``in_pre``/``in_stage`` are the same synapses grouped by
target neuron (CSC order, ``in_ptr`` offsets), built with a counting sort in O(synapses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from snnc.ir import Network, UnsupportedOnTarget, expand
from snnc.ir.values import resolve
from snnc.models.jit import njit

from ..hardware import HardwareSpec
from .load import DEFAULT_NEURON_RATE_HZ


@dataclass(frozen=True, eq=False)
class SynapseGraph:
    """Synapses between global neuron ids, grouped by target (see module docstring)."""

    names: tuple[str, ...]
    offsets: np.ndarray  # int64[len(names) + 1]: population k holds ids offsets[k]..offsets[k+1]-1
    is_source: np.ndarray  # bool per population
    rate: np.ndarray  # float64 per global id: estimated spikes per step
    in_ptr: np.ndarray  # int64[n + 1]
    in_pre: np.ndarray  # int32[synapses]
    in_stage: np.ndarray  # int8[synapses] (zeros without delay slots)
    stages: int  # 1 + the largest stage used (1 without delay extension)
    # per global id, for the real-time load (load.py): expected plastic synapse events per step
    # arriving at the neuron, and whether it has plastic inputs (its spikes enter a post history)
    plastic_events: np.ndarray | None = None
    plastic_post: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.offsets[-1])

    @property
    def synapse_count(self) -> int:
        return int(self.in_pre.size)

    def population_of(self, gid: int) -> tuple[str, int]:
        """(population, index) of a global id."""
        k = int(np.searchsorted(self.offsets, gid, side="right")) - 1
        return self.names[k], gid - int(self.offsets[k])

    def source_ids(self) -> np.ndarray:
        """Global ids of source neurons, in order."""
        return np.concatenate([np.arange(self.offsets[k], self.offsets[k + 1])
                               for k in range(len(self.names)) if self.is_source[k]]
                              or [np.zeros(0, np.int64)])

    def neuron_ids(self) -> np.ndarray:
        """Global ids of simulated neurons, in order."""
        return np.concatenate([np.arange(self.offsets[k], self.offsets[k + 1])
                               for k in range(len(self.names)) if not self.is_source[k]]
                              or [np.zeros(0, np.int64)])


def _rates(net: Network, given: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Estimated spikes per step of every neuron: ``given`` per population (``load.py``), else
    sources from their definition and neurons at the default rate."""
    parts = []
    for population in net.populations.values():
        source = population.source
        if given and population.name in given:
            rate = np.broadcast_to(given[population.name], (population.size,))
        elif source is None:
            rate = np.full(population.size, DEFAULT_NEURON_RATE_HZ * net.dt / 1000.0)
        elif source.kind == "poisson":
            rate = np.broadcast_to(resolve(source.rate_hz, population.size) * net.dt / 1000.0,
                                   (population.size,)).astype(np.float64)
        else:
            horizon = int(source.times.max()) + 1 if source.times.size else 1
            rate = np.bincount(source.ids.astype(np.int64), minlength=population.size)
            rate = rate[: population.size] / horizon
        parts.append(np.asarray(rate, dtype=np.float64))
    return np.concatenate(parts) if parts else np.zeros(0)


_SMALL_SORT = 1 << 20
"""Synapse counts up to which the grouping by target is numpy's stable argsort (a first run of a
small network compiles no kernel for it); above it a counting scatter (linear, less memory)."""


@njit(cache=True)
def _scatter_by_post(post, pre, stage, ptr, out_pre, out_stage, fill):  # pragma: no cover - numba
    for k in range(post.size):
        j = fill[post[k]]
        out_pre[j] = pre[k]
        out_stage[j] = stage[k]
        fill[post[k]] = j + 1


def _check_delays(net: Network, name: str, delay: np.ndarray, limit: int | None) -> None:
    if limit is None or not delay.size:
        return
    high = int(delay.max())
    if high > limit:
        raise UnsupportedOnTarget(
            f"delay {high} steps exceeds the target's maximum of {limit}", where=f"projections.{name}")


def _check_plastic_delays(name: str, delay: np.ndarray, slots: int | None, chip: str) -> None:
    """A plastic synapse's delay must fit the core's ring buffer (SpiNNaker: a delay core would
    re-time its spikes, and STDP needs the arrival time): refused at compile, as the emulator
    refuses it at load (``backends/spinnaker_emu/plastic.py``)."""
    if slots is None or not delay.size or int(delay.max()) <= slots:
        return
    raise UnsupportedOnTarget(
        f"plastic projection '{name}' has delays up to {int(delay.max())}, above the {slots} "
        f"in-core slots of {chip}: a delay core would re-time its spikes for STDP (use delays "
        f"<= {slots} for plastic projections)", where=f"projections.{name}.delay")


def build_graph(net: Network, spec: HardwareSpec, *, check_delays: bool = True,
                rates: Mapping[str, np.ndarray] | None = None) -> SynapseGraph:
    """Expand every projection once into the flat graph; delays above the hardware's are errors.
    ``rates``: spikes per step per neuron of the populations with an estimate."""
    names = tuple(net.populations)
    sizes = [p.size for p in net.populations.values()]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(offsets[-1])
    slots = spec.delay_slots
    rate = _rates(net, rates)
    plastic_events, plastic_post = np.zeros(n), np.zeros(n, dtype=bool)
    any_plastic = False
    pres, posts, stages = [], [], []
    for projection in net.projections:
        synapses = expand(net, projection)
        _check_delays(net, projection.name, synapses.delay, spec.max_delay if check_delays else None)
        # int32 global ids, added in place of a temporary int64 copy
        pres.append(np.add(synapses.pre, np.int32(offsets[names.index(projection.pre)]),
                           dtype=np.int32))
        posts.append(np.add(synapses.post, np.int32(offsets[names.index(projection.post)]),
                            dtype=np.int32))
        if projection.plasticity is not None and len(synapses):
            _check_plastic_delays(projection.name, synapses.delay, spec.delay_slots, spec.name)
            any_plastic = True
            plastic_events += np.bincount(posts[-1], weights=rate[pres[-1]], minlength=n)
            plastic_post[posts[-1]] = True
        if slots and len(synapses) and int(synapses.delay.max()) > slots:
            stages.append(((synapses.delay.astype(np.int32) - 1) // slots).astype(np.int8))
        else:
            stages.append(np.zeros(len(synapses), dtype=np.int8))
        del synapses
    pre = np.concatenate(pres) if pres else np.zeros(0, np.int32)
    del pres
    post = np.concatenate(posts) if posts else np.zeros(0, np.int32)
    del posts
    stage = np.concatenate(stages) if stages else np.zeros(0, np.int8)
    del stages
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(post, minlength=n), out=ptr[1:])
    in_pre = np.empty(pre.size, dtype=np.int32)
    in_stage = np.empty(pre.size, dtype=np.int8)
    if post.size <= _SMALL_SORT:  # numpy's stable sort: the same order, no kernel to compile
        order = np.argsort(post, kind="stable")
        np.take(pre, order, out=in_pre)
        np.take(stage, order, out=in_stage)
        del order
    else:
        _scatter_by_post(post, pre, stage, ptr, in_pre, in_stage, ptr[:-1].copy())
    return SynapseGraph(
        names=names, offsets=offsets,
        is_source=np.array([p.is_source for p in net.populations.values()], dtype=bool),
        rate=rate, in_ptr=ptr, in_pre=in_pre, in_stage=in_stage,
        stages=int(stage.max()) + 1 if stage.size else 1,
        plastic_events=plastic_events if any_plastic else None,
        plastic_post=plastic_post if any_plastic else None,
    )
