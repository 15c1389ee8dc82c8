"""Lowering a network to flat arrays the simulation kernels run on.

Populations whose models share one update kernel (``snnc.models``: ``lif`` and ``li`` share the
float one) form a *family*: their parameter and state tables are concatenated and one kernel call
updates them all. Families come in registry order; every neuron gets a global id, family by family,
then the sources. Every synapse writes into one *input channel*, a column of the delay ring buffer
``ring[slot, channel]`` (slot = arrival step mod ring length), laid out by the family's input
layout (``models/base.py``):

- ``current``: one channel per neuron, weights as they are.
- ``loihi``: one channel per neuron. Loihi weights are clipped/truncated per projection
  (``models/lava_fixed_point.py``) and, for ``weight_exp >= 0``, pre-shifted
  (``sum(w) << e == sum(w << e)`` exactly). With ``weight_exp < 0``: one extra channel per
  (projection, delay, neuron), floored by the shift when read, as Lava's Dense/DelaySparse shift
  each delay group's sum.
- ``exc_inh``: two channels per neuron (excitatory, inhibitory receptor); a negative weight is its
  magnitude on the inhibitory one. SpiNNaker sums saturate to uint16 when read (all addends are
  >= 0, so saturating once equals saturating at every add).

Synapses are stored in CSR order by source global id (then by delay). Each synapse holds one
integer, ``delay * stride + channel`` (``stride``: the ring row length, a power of two), so a spike
sent at step ``t`` lands at ``(t * stride + arrival) & (ring_slots * stride - 1)``: one load and one
mask per synapse, no delay array and no branch (30-40% faster delivery than channel + delay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snnc.ir import Network, UnsupportedOnTarget, expand, source_spikes
from snnc.models import REGISTRY, RULES, PlasticStep, PlasticSynapses, Step
from snnc.models.jit import njit
from snnc.models.lava_fixed_point import quantize_weights

PARTS = 2  # fixed, so results never depend on the thread count: each part owns half the neurons
_INT32_MAX = 2**31 - 1


@dataclass
class Family:
    """Neurons of one update kernel, concatenated over populations (params/state: rows x neurons)."""

    name: str
    step: Step
    params: np.ndarray
    state: np.ndarray
    populations: dict[str, int] = field(default_factory=dict)  # name -> first family index
    gbase: int = 0  # global id of the family's first neuron
    cbase: int = 0  # first channel
    extra: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    graded_local: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    graded_first: int = 0  # position of this family's first graded neuron in the payload

    @property
    def size(self) -> int:
        return int(self.state.shape[1])

    @property
    def channels_per_neuron(self) -> int:
        return self.step.channels_per_neuron

    def extra_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(channel, family-local neuron, right shift) of the floor-shifted loihi channels."""
        if not self.extra:
            return tuple(np.zeros(0, np.int64) for _ in range(3))  # type: ignore[return-value]
        return tuple(np.concatenate([e[k] for e in self.extra]).astype(np.int64)
                     for k in range(3))


@dataclass
class Plastic:
    """A plastic projection as the engine runs it: its rule's arithmetic and state (the kernels
    alone deliver its synapses; they are not in the frozen CSR)."""

    name: str
    step: PlasticStep
    state: tuple
    max_delay: int
    pre: np.ndarray  # int32 per synapse (expansion order: the order of every weights array)
    post: np.ndarray


@dataclass
class Program:
    """A network as the kernels see it."""

    steps: int
    dt: float
    families: dict[str, Family]
    bounds: dict[str, tuple[int, int]]  # population -> [first, last+1) global ids
    channels: int
    ring_slots: int  # the power of two >= the largest delay
    stride: int  # ring row length: the power of two >= channels (so one mask wraps slot + channel)
    split: int  # neurons with global id < split are updated by part 0, the rest by part 1
    offsets: np.ndarray  # int64[PARTS * neurons + 1]: CSR row starts by (part, source global id)
    arrivals: np.ndarray  # per synapse, delay * stride + channel (int32, or int64 for huge rings)
    weights: np.ndarray  # per synapse: float64, or the smallest int type that holds them
    ring_dtype: type
    source_offsets: np.ndarray  # int64[steps + 1]: source spikes of step t
    source_ids: np.ndarray  # int32 global ids
    graded_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """Global ids of the neurons of non-spiking populations that feed projections (graded
    output): each step they send their value, ``payload[j]`` for ``graded_ids[j]``."""
    plastic: list[Plastic] = field(default_factory=list)
    """Plastic projections, in network order (``PlasticStep``)."""
    graded_flip: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """Per channel, for graded synapses into ``exc_inh`` families (``kernels.
    deliver_graded_exc_inh``): the offset to the neuron's other receptor, else 0; empty when no
    graded source feeds an ``exc_inh`` family."""

    @property
    def neurons_simulated(self) -> int:
        """Neurons that are updated (sources excluded)."""
        return sum(f.size for f in self.families.values())

    @property
    def neurons(self) -> int:
        """Neurons and source neurons (the CSR's rows per part)."""
        return int((self.offsets.size - 1) // PARTS)


def step_of(kind: str, numerics: str, neuron: Any = None) -> Step:
    """The update a population of ``kind`` (and ``neuron``'s parameters) runs under ``numerics``:
    the model's update in those numerics, else its only one (an integer kind runs its own
    numerics under any), as the step chooses for the neuron (``Step.for_neuron``)."""
    model = REGISTRY.get(kind)
    if numerics in model.steps:
        step = model.steps[numerics]
    elif len(model.steps) == 1:
        step = next(iter(model.steps.values()))
    else:
        raise ValueError(f"'{kind}' has no update in {numerics} numerics (has {list(model.steps)})")
    return step.for_neuron(neuron) if neuron is not None else step


def _families(net: Network, numerics: str) -> dict[str, Family]:
    """One family per distinct update kernel, in registry order (then first use)."""
    rank = {kind: k for k, kind in enumerate(REGISTRY.kinds)}
    pops = sorted(net.neuron_populations(), key=lambda p: rank[p.kind])  # stable: network order
    groups: dict[str, list] = {}
    steps: dict[str, Step] = {}
    for pop in pops:
        step = step_of(pop.kind, numerics, pop.neuron)
        params, state = step.tables(pop.neuron, pop.size, net.dt)
        # one family per kernel and table layout (a kernel may lay out a fast variant's tables)
        key = (f"{step.numerics}:{step.update.py_func.__module__}.{step.update.py_func.__name__}"
               f":{params.shape[0]}x{state.shape[0]}")
        steps.setdefault(key, step)
        groups.setdefault(key, []).append((pop.name, params, state))
    families, gbase, cbase = {}, 0, 0
    for key, entries in groups.items():
        step = steps[key]
        starts = np.cumsum([0] + [e[2].shape[1] for e in entries])
        fam = Family(key, step,
                     np.ascontiguousarray(np.concatenate([e[1] for e in entries], axis=1)),
                     np.ascontiguousarray(np.concatenate([e[2] for e in entries], axis=1)),
                     {e[0]: int(s) for e, s in zip(entries, starts)}, gbase, cbase)
        families[key] = fam
        gbase += fam.size
        cbase += fam.size * fam.channels_per_neuron
    return families


def _bounds(net: Network, families: dict[str, Family]) -> dict[str, tuple[int, int]]:
    bounds: dict[str, tuple[int, int]] = {}
    for fam in families.values():
        for name, start in fam.populations.items():
            first = fam.gbase + start
            bounds[name] = (first, first + net.populations[name].size)
    next_id = sum(f.size for f in families.values())
    for pop in net.source_populations():
        bounds[pop.name] = (next_id, next_id + pop.size)
        next_id += pop.size
    return bounds


class _Synapses:
    """Collects (source, channel, weight, delay, owner) arrays of every projection, per field."""

    FIELDS = ("source", "channel", "weight", "delay", "owner")

    def __init__(self) -> None:
        self.fields: dict[str, list[np.ndarray]] = {name: [] for name in self.FIELDS}

    def add(self, source, channel, weight, delay, owner) -> None:
        """``owner``: global id of the neuron that reads each synapse's channel."""
        for name, array in zip(self.FIELDS, (source, channel, weight, delay, owner)):
            if name in ("source", "channel", "owner"):
                array = array.astype(np.int32, copy=False)
            self.fields[name].append(np.asarray(array))

    def take(self, name: str) -> np.ndarray:
        """One field over all projections, concatenated; the parts are released."""
        parts = self.fields[name]
        joined = np.concatenate(parts) if len(parts) > 1 else parts[0]
        parts.clear()
        return joined

    def __bool__(self) -> bool:
        """True when some projection brought a synapse (projections may expand to none)."""
        return any(part.size for part in self.fields["source"])


def _graded(net: Network, families: dict[str, Family]) -> np.ndarray:
    """Mark the graded neurons (non-spiking populations with outgoing projections) per family;
    their global ids in payload order."""
    senders = {p.pre for p in net.projections}
    ids, first = [], 0
    for fam in families.values():
        local = [start + np.arange(net.populations[name].size, dtype=np.int64)
                 for name, start in fam.populations.items()
                 if name in senders and not REGISTRY.get(net.populations[name].kind).spiking]
        fam.graded_local = np.concatenate(local) if local else np.zeros(0, np.int64)
        fam.graded_first = first
        first += fam.graded_local.size
        ids.append(fam.graded_local + fam.gbase)
    return np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, np.int32)


def _graded_flip(net: Network, families: dict[str, Family], channels: int) -> np.ndarray:
    """``Program.graded_flip``: per channel of an ``exc_inh`` family fed by a graded source, the
    offset from one receptor's channel to the other's (+size, -size); empty when there is none."""
    graded = {p.name for p in net.neuron_populations() if not REGISTRY.get(p.kind).spiking}
    fed = {_family_of(families, p.post).name for p in net.projections if p.pre in graded}
    flip = np.zeros(channels, np.int32)
    for fam in families.values():
        if fam.name in fed and fam.step.input == "exc_inh" and fam.step.dtype == np.float64:
            # a float model with a receptor per sign (lif with tau_syn_inh, lif_cond): which
            # receptor a graded w * m belongs to is not defined (a conductance cannot go negative)
            name = next(p.post for p in net.projections
                        if p.pre in graded and p.post in fam.populations)
            raise UnsupportedOnTarget(
                f"population '{name}' ({net.populations[name].kind}) has separate excitatory and "
                "inhibitory receptors, which the reference cannot assign graded (non-spiking) "
                "input to; feed it spikes", where=f"populations.{name}")
        if fam.name in fed and fam.step.input == "exc_inh":
            flip[fam.cbase:fam.cbase + fam.size] = fam.size
            flip[fam.cbase + fam.size:fam.cbase + 2 * fam.size] = -fam.size
    return flip if flip.any() else np.zeros(0, np.int32)


def _family_of(families: dict[str, Family], population: str) -> Family:
    return next(f for f in families.values() if population in f.populations)


def _add_projection(net, projection, families, bounds, synapses, next_extra) -> int:
    """Lower one projection; returns the next free extra channel."""
    syn = expand(net, projection)
    post = net.populations[projection.post]
    fam = _family_of(families, post.name)
    # int32 index arithmetic (ids and channels < 2^31): int64 temporaries were the peak memory
    local = syn.post + np.int32(fam.populations[post.name])
    source = syn.pre + np.int32(bounds[projection.pre][0])
    owner = local + np.int32(fam.gbase)
    if fam.step.input == "current":
        synapses.add(source, local + np.int32(fam.cbase), syn.weight, syn.delay, owner)
    elif fam.step.input == "exc_inh":
        channel = local + np.int32(fam.cbase)
        channel[syn.weight < 0] += np.int32(fam.size)
        synapses.add(source, channel, np.abs(syn.weight), syn.delay, owner)
    elif projection.weight_exp >= 0:
        weight = quantize_weights(syn.weight, projection.num_weight_bits) << projection.weight_exp
        synapses.add(source, local + np.int32(fam.cbase), weight, syn.delay, owner)
    else:
        # a floor shift of each delay group's sum: keep each (delay, neuron) sum apart
        weight = quantize_weights(syn.weight, projection.num_weight_bits)
        groups, group_of = np.unique(syn.delay, return_inverse=True)
        channel = next_extra + group_of.astype(np.int64) * post.size + syn.post
        synapses.add(source, channel, weight, syn.delay, owner)
        count = groups.size * post.size
        neuron = np.tile(fam.populations[post.name] + np.arange(post.size), groups.size)
        fam.extra.append((np.arange(next_extra, next_extra + count), neuron,
                          np.full(count, -projection.weight_exp)))
        next_extra += count
    return next_extra


def plastic_step(rule_name: str, numerics: str, where: str) -> PlasticStep:
    """The arithmetic a learning rule runs in ``numerics`` (an integer rule runs its own)."""
    rule = RULES.get(rule_name)
    if numerics in rule.steps:
        return rule.steps[numerics]
    if rule.integer and len(rule.steps) == 1:
        return next(iter(rule.steps.values()))
    raise UnsupportedOnTarget(f"learning rule '{rule_name}' has no arithmetic in {numerics} "
                              f"numerics (has: {', '.join(rule.steps) or 'none'})", where=where)


def _plastic(net, index, projection, families, bounds, numerics, steps) -> Plastic:
    """Lower one plastic projection to its rule's state (``PlasticStep.tables``)."""
    where = f"projections[{index}].plasticity"
    step = plastic_step(projection.plasticity.rule, numerics, where)
    pre, post = net.populations[projection.pre], net.populations[projection.post]
    if not pre.is_source and not REGISTRY.get(pre.kind).spiking:
        raise UnsupportedOnTarget(f"'{pre.name}' is non-spiking (graded): it cannot drive the "
                                  f"plastic projection '{projection.name}'", where=where)
    checker = RULES.get(projection.plasticity.rule).check_post
    if checker is not None:  # the same refusal the chip's backend makes
        checker(projection.plasticity, post.neuron, where)
    syn = expand(net, projection)
    fam = _family_of(families, post.name)
    local = syn.post.astype(np.int64) + fam.populations[post.name]
    weight = np.asarray(syn.weight)
    if fam.step.input == "loihi":
        if projection.weight_exp < 0:
            raise UnsupportedOnTarget(f"plastic projection '{projection.name}' has weight_exp "
                                      f"{projection.weight_exp}: plastic Loihi weights need "
                                      "weight_exp >= 0", where=f"projections[{index}].weight_exp")
        weight = quantize_weights(weight, projection.num_weight_bits).astype(np.int64) \
            << projection.weight_exp
    elif fam.step.input == "exc_inh" and weight.size and weight.min() < 0:
        raise UnsupportedOnTarget(f"plastic projection '{projection.name}' has negative weights: "
                                  "plastic synapses are excitatory", where=f"projections[{index}]")
    rule = projection.plasticity
    low, high = getattr(rule, "w_min", None), getattr(rule, "w_max", None)
    if low is not None and weight.size and (weight.min() < low or weight.max() > high):
        raise UnsupportedOnTarget(
            f"initial weights of '{projection.name}' span {weight.min():g}..{weight.max():g}, "
            f"outside the rule's [w_min, w_max] = [{low:g}, {high:g}]",
            where=f"projections[{index}].weight")
    weight = weight.astype(np.float64 if step.numerics == "float" else np.int64)
    synapses = PlasticSynapses(
        pre=syn.pre.astype(np.int32), post=syn.post.astype(np.int32), weight=weight,
        delay=np.asarray(syn.delay, dtype=np.int64), channel=local + fam.cbase,
        pre_first=bounds[pre.name][0], post_first=bounds[post.name][0], n_pre=pre.size,
        n_post=post.size, steps=steps, projection=projection, bounds=bounds)
    max_delay = int(synapses.delay.max()) if synapses.delay.size else 1
    return Plastic(projection.name, step, step.tables(rule, synapses, net.dt), max_delay,
                   synapses.pre, synapses.post)


def _smallest_int(values: np.ndarray) -> type:
    """int16 or wider (no int8: every weight type is one more compiled variant of the loop)."""
    lo, hi = (int(values.min()), int(values.max())) if values.size else (0, 0)
    for dtype in (np.int16, np.int32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return dtype
    return np.int64


@njit(cache=True, nogil=True)
def _counting_order(keys: np.ndarray, buckets: int) -> np.ndarray:
    """Stable counting-sort permutation of small non-negative integer keys."""
    count = np.zeros(buckets + 1, dtype=np.int64)
    for key in keys:
        count[key + 1] += 1
    for b in range(buckets):
        count[b + 1] += count[b]
    order = np.empty(keys.size, dtype=np.int64)
    for k in range(keys.size):
        order[count[keys[k]]] = k
        count[keys[k]] += 1
    return order


_SMALL_SORT = 1 << 20


def _stable_order(keys: np.ndarray, buckets: int) -> np.ndarray:
    """The stable sort permutation of small non-negative integer keys: numpy's for small arrays (no
    kernel to compile on a first run), a counting sort (linear) for large ones. Both are stable, so
    they give the same permutation."""
    if keys.size <= _SMALL_SORT:
        return np.argsort(keys, kind="stable")
    return _counting_order(keys, buckets)


def _csr(synapses: _Synapses, neurons: int, split: int, float_ring: bool):
    """Concatenate and sort synapses by (part of the target's neuron, source, delay).

    Returns offsets (row ``part * neurons + source``), targets, weights, delays. The sorts are
    stable, so a source's synapses keep their projection order within a delay (float sums are
    accumulated in one fixed order).
    """
    if not synapses:
        return (np.zeros(PARTS * neurons + 1, np.int64), np.zeros(0, np.int32),
                np.zeros(0, np.float64 if float_ring else np.int16), np.zeros(0, np.uint8))
    delay = synapses.take("delay").astype(np.int32, copy=False)
    max_delay = int(delay.max())
    order = _stable_order(delay, max_delay + 1)  # delay first, then a stable sort by row
    row = synapses.take("source").astype(np.int32)  # row < PARTS * neurons
    row[synapses.take("owner") >= split] += np.int32(neurons)
    order = order[_stable_order(row[order], PARTS * neurons)]
    offsets = np.zeros(PARTS * neurons + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=PARTS * neurons), out=offsets[1:])
    del row
    delay = delay[order]
    targets = synapses.take("channel")[order]
    weights = synapses.take("weight")[order]
    weights = weights.astype(np.float64 if float_ring else _smallest_int(weights), copy=False)
    delay_type = np.uint8 if max_delay < 2**8 else (np.uint16 if max_delay < 2**16 else np.int32)
    return offsets, targets, weights, delay.astype(delay_type)


def _arrivals(delays: np.ndarray, channels: np.ndarray, stride: int, ring_slots: int) -> np.ndarray:
    """``(delay mod ring_slots) * stride + channel`` per synapse (the ring's index is taken mod
    ``ring_slots * stride`` anyway; a delay equal to ``ring_slots`` lands on slot 0): int32 when
    the whole ring is indexable by it."""
    dtype = np.int32 if ring_slots * stride <= _INT32_MAX + 1 else np.int64
    arrivals: np.ndarray = delays.astype(dtype)
    arrivals &= dtype(ring_slots - 1)
    arrivals *= dtype(stride)
    arrivals += channels.astype(dtype, copy=False)
    return arrivals


def _message_peaks(families, graded_ids, offsets) -> np.ndarray | None:
    """Per synapse (CSR order), the largest |value| its source sends: 1 for a spike; for a graded
    neuron of an integer family its state's bound (2^23: loihi's 24-bit v; else int32's 2^31).
    ``None`` when no synapse leaves a graded neuron."""
    if graded_ids.size == 0:
        return None
    rows = offsets.size - 1
    neurons = rows // PARTS
    peak = np.ones(neurons)
    for fam in families.values():
        local = fam.graded_local
        if local.size:
            peak[local + fam.gbase] = 2.0**23 if fam.step.input == "loihi" else 2.0**31
    return np.repeat(np.tile(peak, PARTS), np.diff(offsets))


def _ring_dtype(families, targets, weights, channels, peaks=None) -> type:
    """float64 with float neurons; else int32 when no channel can ever sum past int32 (a graded
    synapse counts its weight times its source's largest |message|, ``peaks``)."""
    if any(f.step.dtype == np.float64 and f.size for f in families.values()):
        return np.float64
    if weights.size == 0:
        return np.int32
    magnitude = np.abs(weights.astype(np.float64))
    if peaks is not None:
        magnitude *= peaks
    worst = np.bincount(targets, weights=magnitude, minlength=channels)
    return np.int32 if worst.max() <= _INT32_MAX else np.int64


def _sources(net: Network, bounds, steps: int) -> tuple[np.ndarray, np.ndarray]:
    times, ids = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for pop in net.source_populations():
        assert pop.source is not None
        t, i = source_spikes(pop.source, pop.size, steps, net.dt)
        times.append(t.astype(np.int64))
        ids.append(i.astype(np.int64) + bounds[pop.name][0])
    # a neuron spikes at most once per step: repeated (time, id) pairs in a source are one spike
    key = np.unique(np.concatenate(times) << 32 | np.concatenate(ids))
    t, i = key >> 32, key & 0xFFFFFFFF
    offsets = np.zeros(steps + 1, dtype=np.int64)
    np.cumsum(np.bincount(t, minlength=steps)[:steps], out=offsets[1:])
    return offsets, i.astype(np.int32)


def _split(net: Network, families: dict[str, Family]) -> int:
    """Part 0's neurons are those below this global id: half the neurons, moved up to the end of
    a population whose step reads all of its population in one update (``Step.whole_populations``:
    each part delivers its own neurons' input, so a population cut in two would read the other
    part's input while it is written)."""
    split = sum(f.size for f in families.values()) // PARTS  # by neuron count
    for family in families.values():
        if not family.step.whole_populations:
            continue
        for name, start in family.populations.items():
            first = family.gbase + start
            last = first + net.populations[name].size
            if first < split < last:
                split = last
    return split


def lower(net: Network, steps: int, numerics: str = "float") -> Program:
    """Lower a network whose populations all have an update in ``numerics`` (or are integer kinds,
    which run their own) to a ``Program``."""
    families = _families(net, numerics)
    bounds = _bounds(net, families)
    neurons = max((b[1] for b in bounds.values()), default=0)
    synapses = _Synapses()
    next_extra = sum(f.size * f.channels_per_neuron for f in families.values())
    plastic = []
    for index, projection in enumerate(net.projections):
        if projection.plasticity is not None:
            plastic.append(_plastic(net, index, projection, families, bounds, numerics, steps))
            continue
        next_extra = _add_projection(net, projection, families, bounds, synapses, next_extra)
    channels = next_extra
    float_ring = any(f.step.dtype == np.float64 and f.size for f in families.values())
    split = _split(net, families)
    offsets, targets, weights, delays = _csr(synapses, neurons, split, float_ring)
    max_delay = max([int(delays.max()) if delays.size else 1, *(p.max_delay for p in plastic)])
    # D slots hold every arrival: step t reads and clears slot t before step t + 1 delivers into
    # t + 1 .. t + D, so the ring needs the power of two >= D (not > D)
    ring_slots = 1 << (int(max_delay) - 1).bit_length()
    graded_ids = _graded(net, families)
    ring_dtype = _ring_dtype(families, targets, weights, channels,
                             _message_peaks(families, graded_ids, offsets))
    if plastic and ring_dtype != np.float64:
        ring_dtype = np.int64  # learnt weights may grow: no bound on a channel's sum is known here
    stride = 1 << max(channels - 1, 0).bit_length()
    arrivals = _arrivals(delays, targets, stride, ring_slots)
    del delays, targets
    source_offsets, source_ids = _sources(net, bounds, steps)
    return Program(
        graded_ids=graded_ids,
        graded_flip=_graded_flip(net, families, channels),
        steps=steps, dt=net.dt, families=families, bounds=bounds, channels=channels,
        ring_slots=ring_slots, stride=stride, split=split, offsets=offsets, arrivals=arrivals,
        weights=weights, ring_dtype=ring_dtype,
        source_offsets=source_offsets, source_ids=source_ids, plastic=plastic)
