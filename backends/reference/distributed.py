"""The reference over MPI ranks: one network, any number of ranks, the single process's spikes.

Rank ``r`` owns a contiguous range ``[lo, hi)`` of neuron global ids (``program.py``'s numbering:
family by family, then the sources). The ranges are cut where a compiled build's cores begin
(when a build is given) or anywhere (a network), balanced by estimated load

.. math::

    \\text{load}(i) = 1 + \\text{fan-in}(i)

(the neuron's update plus its synapses' deliveries; a core's load is the sum over its neurons),
and never inside a family whose update reads its whole population (``Step.whole_populations``).
A rank lowers every projection, keeps only the synapses INTO its own neurons (its synapse memory
is its share) and updates only its own neurons: its program's families are the slices of the
single process's families that it owns, with the same global ids and input channels.

Every source (Poisson, spike times, ``--input``) is drawn on every rank from the network's own
per-source seeds (``snnc.ir.source_spikes``), so inputs do not depend on the rank count; sources
are never exchanged.

Exchange window :math:`W = \\min(d_\\min, \\text{steps})` with :math:`d_\\min \\ge 1` the smallest
delay of any synapse: a spike sent at step :math:`t` arrives at :math:`t + d \\ge t + W`, so no
spike of a window is read within it. Per window every rank updates its neurons for :math:`W`
steps *without delivering anything*, then all ranks allgather the neuron spike ids of those
steps, and every rank delivers, step by step in increasing step, the concatenation over ranks (in
rank order, i.e. increasing global id) followed by that step's source spikes. That is the order in
which the single process delivers (``engine.py``: step ``t + 1`` delivers step ``t``'s spikes,
neurons in increasing id, then sources; each spike's synapses in CSR order), so every ring entry
receives the same addends in the same order: float sums are bit-identical, not merely close. The
ring holds every arrival of the window: at its end, pending arrivals span
:math:`[t_1, t_1 + d_\\max - 1]`, :math:`d_\\max` slots.

Not supported yet (refused in one line): graded (non-spiking) senders, whose value would have to
be exchanged every step, and plastic projections.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from snnc.backends.spikes import SpikeRecord
from snnc.ir import Network, UnsupportedOnTarget, expand

from . import prepare
from .engine import Engine
from .kernels import deliver
from .program import (
    PARTS,
    Family,
    Program,
    _add_projection,
    _arrivals,
    _bounds,
    _csr,
    _families,
    _graded,
    _ring_dtype,
    _sources,
    _Synapses,
)

_NO_SPIKES = np.zeros(0, np.int32)


@dataclass
class ExchangeStats:
    """What one rank measured: seconds updating, exchanging (waiting for the slowest rank
    included) and delivering, after the first window (``extra["first_window_s"]``, where the
    engine is compiled or loaded), and the bytes it received."""

    windows: int = 0
    window_steps: int = 1
    compute_s: float = 0.0
    exchange_s: float = 0.0
    deliver_s: float = 0.0
    bytes_received: int = 0
    neurons: int = 0
    synapses: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"windows": self.windows, "window_steps": self.window_steps,
                "compute_s": self.compute_s, "exchange_s": self.exchange_s,
                "deliver_s": self.deliver_s, "bytes_received": self.bytes_received,
                "neurons": self.neurons, "synapses": self.synapses, **self.extra}


# ---- the partition ------------------------------------------------------------------------------

def _fan_in(net: Network, bounds: dict[str, tuple[int, int]], neurons: int) -> np.ndarray:
    """Synapses into each neuron (global id), over every projection."""
    counts = np.zeros(neurons, np.int64)
    for projection in net.projections:
        post = expand(net, projection).post
        first = bounds[projection.post][0]
        counts[first:first + net.populations[projection.post].size] += np.bincount(
            post, minlength=net.populations[projection.post].size)
    return counts


def _build_cuts(build: Any, bounds: dict[str, tuple[int, int]], neurons: int) -> np.ndarray:
    """Global ids where one of the build's neuron cores begins (the allowed rank boundaries)."""
    starts = [0, neurons]
    for core in build.partition.cores:
        if core.kind != "neuron":
            continue
        for piece in core.slices:
            if piece.population in bounds and bounds[piece.population][0] < neurons:
                starts.append(bounds[piece.population][0] + int(piece.start))
    return np.unique(np.array(starts, np.int64))


def _whole_family_cuts(families: dict[str, Family], allowed: np.ndarray) -> np.ndarray:
    """``allowed`` without the ids inside a family whose update reads its whole population."""
    keep = np.ones(allowed.size, bool)
    for fam in families.values():
        if fam.step.whole_populations:
            keep &= ~((allowed > fam.gbase) & (allowed < fam.gbase + fam.size))
    return allowed[keep]


def balanced_ranges(load: np.ndarray, ranks: int, allowed: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous ``[lo, hi)`` per rank with about equal summed ``load``, cut only at ``allowed``
    ids (sorted, holding 0 and ``load.size``). A rank may be empty when there are fewer allowed
    cuts than ranks."""
    total = np.concatenate([[0.0], np.cumsum(load, dtype=np.float64)])
    cuts = [0]
    for r in range(1, ranks):
        goal = total[-1] * r / ranks
        k = int(np.searchsorted(total[allowed], goal))
        candidates = [allowed[j] for j in (k - 1, k) if 0 <= j < allowed.size]
        best = min(candidates, key=lambda c: (abs(total[c] - goal), c))
        cuts.append(max(int(best), cuts[-1]))
    cuts.append(int(load.size))
    return [(cuts[r], cuts[r + 1]) for r in range(ranks)]


def partition(net: Network, families: dict[str, Family], bounds: dict[str, tuple[int, int]],
              ranks: int, build: Any = None) -> list[tuple[int, int]]:
    """Each rank's neuron range (module docstring); the same on every rank (deterministic)."""
    neurons = sum(f.size for f in families.values())
    load = 1 + _fan_in(net, bounds, neurons)
    if build is not None and getattr(build, "partition", None) is not None:
        allowed = _build_cuts(build, bounds, neurons)
    else:
        allowed = np.arange(neurons + 1, dtype=np.int64)
    return balanced_ranges(load, ranks, _whole_family_cuts(families, allowed))


# ---- one rank's program -------------------------------------------------------------------------

def _refuse_unsupported(net: Network, families: dict[str, Family]) -> None:
    if _graded(net, families).size:
        sender = next(p.pre for p in net.projections
                      if not net.populations[p.pre].is_source
                      and net.populations[p.pre].kind in _graded_kinds(net))
        raise UnsupportedOnTarget(
            f"population '{sender}' sends graded (non-spiking) values, which --ranks does not "
            "exchange yet; run it without --ranks", where=f"populations.{sender}")
    for k, projection in enumerate(net.projections):
        if getattr(projection, "plasticity", None) is not None:
            raise UnsupportedOnTarget("plastic projections do not run under --ranks yet; run "
                                      "without --ranks", where=f"projections[{k}]")


def _graded_kinds(net: Network) -> set[str]:
    from snnc.models import REGISTRY

    return {p.kind for p in net.neuron_populations() if not REGISTRY.get(p.kind).spiking}


def _slice_family(fam: Family, lo: int, hi: int) -> Family:
    """The neurons of ``fam`` with global ids in ``[lo, hi)``: same global ids, same channels
    (``current``/``loihi``: one per neuron, at ``cbase + local``; ``exc_inh``: the slice's
    excitatory then inhibitory channels, laid inside the family's own channel range)."""
    a = min(max(lo - fam.gbase, 0), fam.size)
    b = min(max(hi - fam.gbase, 0), fam.size)
    extra = []
    for channel, neuron, shift in fam.extra:
        keep = (neuron >= a) & (neuron < b)
        extra.append((channel[keep], neuron[keep] - a, shift[keep]))
    populations = {name: start - a for name, start in fam.populations.items()}
    return replace(fam, params=np.ascontiguousarray(fam.params[:, a:b]),
                   state=np.ascontiguousarray(fam.state[:, a:b]), populations=populations,
                   gbase=fam.gbase + a, cbase=fam.cbase + a, extra=extra)


def _remap_exc_inh(channel: np.ndarray, owner: np.ndarray, families: dict[str, Family],
                   sliced: dict[str, Family]) -> np.ndarray:
    """Move ``exc_inh`` inhibitory channels to their slice's layout (``cbase' + m + i``)."""
    channel = channel.astype(np.int64)
    for name, fam in families.items():
        if fam.step.input != "exc_inh":
            continue
        part = sliced[name]
        mine = (owner >= part.gbase) & (owner < part.gbase + part.size)
        inhibitory = mine & (channel >= fam.cbase + fam.size) & (channel < fam.cbase + 2 * fam.size)
        excitatory = mine & ~inhibitory
        channel[excitatory] = part.cbase + (owner[excitatory] - part.gbase)
        channel[inhibitory] = part.cbase + part.size + (owner[inhibitory] - part.gbase)
    return channel


def _rank_split(sliced: dict[str, Family], lo: int, hi: int) -> int:
    """The two parallel parts' boundary inside ``[lo, hi)`` (half the neurons, not inside a
    whole-population family's population)."""
    split = lo + (hi - lo) // PARTS
    for fam in sliced.values():
        if fam.step.whole_populations and fam.gbase < split < fam.gbase + fam.size:
            split = fam.gbase + fam.size
    return split


@dataclass
class RankProgram:
    """One rank's program and what the exchange needs to know about it."""

    program: Program
    lo: int
    hi: int
    window: int
    synapses: int


def lower_rank(net: Network, steps: int, numerics: str, lo: int, hi: int) -> RankProgram:
    """``program.lower`` for the neurons ``[lo, hi)`` and the synapses into them only."""
    families = _families(net, numerics)
    _refuse_unsupported(net, families)
    bounds = _bounds(net, families)
    neurons = max((b[1] for b in bounds.values()), default=0)
    kept = _Synapses()
    next_extra = sum(f.size * f.channels_per_neuron for f in families.values())
    min_delay = 0
    for projection in net.projections:
        one = _Synapses()
        next_extra = _add_projection(net, projection, families, bounds, one, next_extra)
        if not one:
            continue
        owner = one.take("owner")
        delay = one.take("delay")
        min_delay = int(delay.min()) if not min_delay else min(min_delay, int(delay.min()))
        mine = (owner >= lo) & (owner < hi)
        kept.add(one.take("source")[mine], one.take("channel")[mine], one.take("weight")[mine],
                 delay[mine], owner[mine])
    channels = next_extra
    float_ring = any(f.step.dtype == np.float64 and f.size for f in families.values())
    sliced = {name: _slice_family(fam, lo, hi) for name, fam in families.items()}
    if kept:
        owner = kept.take("owner")
        channel = _remap_exc_inh(kept.take("channel"), owner, families, sliced)
        kept.add(kept.take("source"), channel, kept.take("weight"), kept.take("delay"), owner)
    split = _rank_split(sliced, lo, hi)
    offsets, targets, weights, delays = _csr(kept, neurons, split, float_ring)
    max_delay = int(delays.max()) if delays.size else 1
    ring_slots = 1 << (max_delay - 1).bit_length()
    ring_type = np.float64 if float_ring else _ring_dtype(sliced, targets, weights, channels)
    stride = 1 << max(channels - 1, 0).bit_length()
    arrivals = _arrivals(delays, targets, stride, ring_slots)
    source_offsets, source_ids = _sources(net, bounds, steps)
    program = Program(steps=steps, dt=net.dt, families=sliced, bounds=bounds, channels=channels,
                      ring_slots=ring_slots, stride=stride, split=split, offsets=offsets,
                      arrivals=arrivals, weights=weights, ring_dtype=ring_type,
                      source_offsets=source_offsets, source_ids=source_ids)
    window = max(1, min(min_delay or steps or 1, steps or 1))
    return RankProgram(program, lo, hi, window, int(weights.size))


# ---- the run ------------------------------------------------------------------------------------

def _record_plan(program: Program, network: Network, record_v: Sequence[str]):
    """Per sliced family, its local indices to record; per population, (family, first column,
    global neuron index of each column) on this rank."""
    per_family: dict[str, list[np.ndarray]] = {}
    columns: dict[str, tuple[str, int, np.ndarray]] = {}
    for name in dict.fromkeys(record_v):
        fam = next(f for f in program.families.values() if name in f.populations)
        size = network.populations[name].size
        local = fam.populations[name] + np.arange(size, dtype=np.int64)
        mine = (local >= 0) & (local < fam.size)
        chosen = per_family.setdefault(fam.name, [])
        first = sum(c.size for c in chosen)
        chosen.append(local[mine])
        columns[name] = (fam.name, first, np.flatnonzero(mine))
    return {f: np.concatenate(parts) for f, parts in per_family.items()}, columns


class RankRun:
    """Runs one rank's program window by window, exchanging spikes with the others."""

    def __init__(self, rank_program: RankProgram, comm: Any, record: dict[str, np.ndarray]):
        self.rp = rank_program
        self.comm = comm
        self.engine = Engine(rank_program.program, record)
        p = rank_program.program
        self.wrap = p.ring_slots * p.stride - 1
        self.rows = p.neurons
        self.has_local = np.diff(p.offsets).reshape(PARTS, -1).sum(axis=0) > 0  # per sender
        self.stats = ExchangeStats(window_steps=rank_program.window,
                                   neurons=rank_program.hi - rank_program.lo,
                                   synapses=rank_program.synapses)
        self.times: list[np.ndarray] = []  # every rank's spikes, as delivered (kept on rank 0)
        self.ids: list[np.ndarray] = []
        self.network: Network | None = None  # set by ``plan``
        self.columns: dict[str, tuple[str, int, np.ndarray]] = {}

    def _update(self, t: int) -> np.ndarray:
        """Step ``t`` of this rank's neurons (nothing delivered); their spike ids."""
        e = self.engine
        # (the plastic projections' states follow the families where the engine has them)
        learning = (e.plastic,) if hasattr(e, "plastic") else ()
        _, n_out, _ = e.kernels.run_steps(t, t + 1, e.net, e.fams, *learning, _NO_SPIKES, e.parts,
                                          e.out_t, e.out_i, e.per_step_max)
        src = e.program.source_offsets
        return e.out_i[:n_out - (src[t + 1] - src[t])].copy()

    def _exchange(self, own: list[np.ndarray]) -> list[np.ndarray]:
        """Every rank's spikes of the window, per step, in rank order (= increasing id)."""
        counts = np.array([s.size for s in own], np.int64)
        sent = np.concatenate(own) if own else _NO_SPIKES
        if self.comm.size == 1:
            return own
        from mpi4py import MPI

        all_counts = np.zeros((self.comm.size, counts.size), np.int64)
        self.comm.Allgather(counts, all_counts)
        totals = all_counts.sum(axis=1)
        received = np.zeros(int(totals.sum()), np.int32)
        self.comm.Allgatherv(sent.astype(np.int32),
                             [received, totals, np.concatenate([[0], np.cumsum(totals)[:-1]]),
                              MPI.INT32_T])
        self.stats.bytes_received += int(all_counts.nbytes + received.nbytes
                                         - counts.nbytes - sent.nbytes)
        starts = np.concatenate([[0], np.cumsum(totals)])
        per_step = []
        for k in range(counts.size):
            pieces = []
            for r in range(self.comm.size):
                first = starts[r] + all_counts[r, :k].sum()
                pieces.append(received[first:first + all_counts[r, k]])
            per_step.append(np.concatenate(pieces))
        return per_step

    def _deliver(self, t: int, neuron_spikes: np.ndarray) -> None:
        p = self.engine.program
        src = p.source_ids[p.source_offsets[t]:p.source_offsets[t + 1]]
        sent = np.concatenate([neuron_spikes, src]).astype(np.int32)
        if self.comm.rank == 0:
            self.times.append(np.full(sent.size, t, np.int32))
            self.ids.append(sent)
        # only senders with a synapse here: a spike with empty rows adds nothing, and skipping
        # it keeps the order of the others (most of a big network's spikes, Poisson drive above
        # all, have no target on a given rank)
        local = sent[self.has_local[sent]]
        for part in range(PARTS):
            deliver(local, t, part * self.rows, self.wrap, p.stride, self.engine.ring, p.offsets,
                    p.arrivals, p.weights)

    def run(self) -> None:
        """Every window: update, exchange, deliver (module docstring)."""
        started = time.perf_counter()
        self._windows()
        self.stats.extra["run_s"] = time.perf_counter() - started

    def _windows(self) -> None:
        steps = self.rp.program.steps
        window = self.rp.window
        for t0 in range(0, steps, window):
            t1 = min(steps, t0 + window)
            started = time.perf_counter()
            own = [self._update(t) for t in range(t0, t1)]
            exchanged = time.perf_counter()
            everyone = self._exchange(own)
            delivered = time.perf_counter()
            for t, spikes in zip(range(t0, t1), everyone):
                self._deliver(t, spikes)
            done = time.perf_counter()
            self.stats.windows += 1
            if self.stats.windows == 1:  # numba compiles (or loads) the engine here: kept apart
                self.stats.extra["first_window_s"] = done - started
                continue
            self.stats.compute_s += exchanged - started
            self.stats.exchange_s += delivered - exchanged
            self.stats.deliver_s += done - delivered


def _gather_voltages(run: RankRun, columns, network: Network, steps: int, comm: Any):
    """Rank 0's ``{population: steps x size}`` from every rank's recorded columns."""
    mine = {}
    for name, (family, first, which) in columns.items():
        mine[name] = (which, run.engine.voltages[family][:, first:first + which.size])
    gathered = comm.gather(mine, root=0)
    if comm.rank != 0:
        return {}
    voltages = {}
    for name in columns:
        pieces = [g[name] for g in gathered]
        dtype = pieces[0][1].dtype
        full = np.zeros((steps, network.populations[name].size), dtype)
        for which, values in pieces:
            full[:, which] = values
        voltages[name] = full
    return voltages


def _spike_record(program: Program, times: np.ndarray, ids: np.ndarray, steps: int, dt: float,
                  voltages: dict[str, np.ndarray]) -> SpikeRecord:
    names = sorted(program.bounds, key=lambda n: program.bounds[n][0])
    firsts = np.array([program.bounds[n][0] for n in names], dtype=np.int64)
    which = np.searchsorted(firsts, ids, side="right") - 1
    events = {}
    for k, name in enumerate(names):
        chosen = which == k
        events[name] = (times[chosen], ids[chosen] - firsts[k])
    return SpikeRecord.from_events(steps, dt, events, voltages)


def plan(network: Network, steps: int, numerics: str, comm: Any, *,
         record_v: Sequence[str] = (), build: Any = None) -> RankRun:
    """Partition, lower this rank's share and load it (no communication: every rank does the
    same work on the same inputs, so an error here is every rank's error)."""
    steps = int(steps)
    runnable = prepare(network, numerics)
    families = _families(runnable, numerics)
    _refuse_unsupported(runnable, families)
    bounds = _bounds(runnable, families)
    ranges = partition(runnable, families, bounds, comm.size, build)
    lo, hi = ranges[comm.rank]
    rank_program = lower_rank(runnable, steps, numerics, lo, hi)
    record, columns = _record_plan(rank_program.program, runnable, record_v)
    run = RankRun(rank_program, comm, record)
    run.network, run.columns = runnable, columns
    run.stats.extra["ranges"] = ranges
    return run


def collect(run: RankRun) -> SpikeRecord | None:
    """After ``run.run()``: rank 0's SpikeRecord (voltages gathered from their owners), else None."""
    program, network = run.rp.program, run.network
    assert network is not None, "collect() after plan()"
    voltages = _gather_voltages(run, run.columns, network, program.steps, run.comm)
    if run.comm.rank != 0:
        return None
    times = np.concatenate(run.times) if run.times else np.zeros(0, np.int32)
    ids = np.concatenate(run.ids) if run.ids else np.zeros(0, np.int32)
    return _spike_record(program, times, ids, program.steps, network.dt, voltages)


def simulate(network: Network, steps: int, numerics: str, comm: Any, *,
             record_v: Sequence[str] = (), build: Any = None
             ) -> tuple[SpikeRecord | None, ExchangeStats]:
    """``reference.simulate`` over the ranks of ``comm``: rank 0 gets the SpikeRecord (the others
    None); every rank gets its own ExchangeStats."""
    run = plan(network, steps, numerics, comm, record_v=record_v, build=build)
    run.run()
    return collect(run), run.stats


__all__ = ["ExchangeStats", "RankProgram", "RankRun", "balanced_ranges", "collect", "lower_rank",
           "partition", "plan", "simulate"]
