"""Lowering of a Loihi-quantized network to a plan of Lava Processes (numpy only, no lava import).

The plan is what ``runner.py`` instantiates:

- ONE neuron process holding every neuron population, concatenated in network order: Lava's own
  ``LIF``, or snnc's fixed-point ``SnncLIF`` (``lava_procs/lif.py``) when some population uses a
  refractory period or reset by subtraction (``LavaPlan.extended``). Lava's cost is
  per process (about 0.1 s to compile and 0.4 ms per step, measured on 2 cores) whatever its size,
  and the fixed-point LIF is element-wise, so merging changes no bit. ``bias_mant``, ``bias_exp``,
  ``u`` and ``v`` are per-neuron Vars; ``du``, ``dv`` and ``vth`` are declared scalars but the
  fixed-point model only broadcasts them, so per-neuron arrays are passed when they differ.
- ONE ``SnncLI`` (``lava_procs/li.py``) holding every ``loihi_li`` population (graded, non-spiking:
  it sends ``v >> payload_shift`` every step); blocks from it are made with ``num_message_bits=24``
  (``Block.sender == "li"``), blocks into it feed its ``a_in`` (``Block.receiver``).
- ONE ``RingBuffer`` holding every spike-source population: column ``t`` is snnc step ``t`` (the ring
  buffer sends column ``time_step - 1`` and snnc step ``t`` is Lava's ``time_step = t + 1``).
- A few ``Sparse`` (delay 1) and ``DelaySparse`` (``delays = d - 1``) blocks. Lava clips and
  truncates each block's weights by one sign mode and ``num_weight_bits`` and shifts each block's sum
  by one ``weight_exp``, while snnc's semantics are per projection (docs/quantization.md). So the
  runner
  clips and truncates every synapse by its own projection's format with Lava's ``weightutils`` and
  hands the block to Lava in a format whose clip and truncation are the identity (``runner.py``);
  projections then share a block when they share ``weight_exp`` (a left shift distributes over the
  sum). A block never holds two synapses between the same pair of neurons (scipy would add them,
  delays included): repeated pairs go to extra blocks. With ``weight_exp < 0`` Lava floors each
  block's per-delay sums, as the reference floors each projection's per-delay sums: such a
  projection gets blocks of its own, and repeated pairs in it are refused.
- Delay-1 synapses ride in their group's ``DelaySparse`` when they are few (``_fold_short_delays``).
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Any

import numpy as np

from snnc.ir import Network, UnsupportedOnTarget, expand, source_spikes
from snnc.ir.values import resolve
from snnc.models.lava_fixed_point import SignMode, sign_mode
from snnc.models.support import check_network
from snnc.models.targets import TARGETS

TARGET = TARGETS["loihi-sim"].name
MAX_DELAY = TARGETS["loihi-sim"].max_delay  # DelaySparse: delays 0..63 ("Loihi 2: 6 bits") + 1 hop
LIF_FIELDS = ("du", "dv", "vth", "bias_mant", "bias_exp", "u_init", "v_init", "refractory",
              "reset_subtract")
LI_FIELDS = ("du", "dv", "bias_mant", "bias_exp", "u_init", "v_init", "payload_shift")
GRADED_KIND = "loihi_li"
SIGN_MODES = (SignMode.EXCITATORY, SignMode.INHIBITORY, SignMode.MIXED)
FOLD_INTO_DELAYED_MAX = 4096  # delay-1 synapses that ride in a group's DelaySparse (see below)


@dataclass(frozen=True)
class Block:
    """One Lava ``Sparse``/``DelaySparse``: synapses ``pre[k] -> post[k]`` in process-wide indices.

    ``sign_mode[k]`` and ``num_weight_bits[k]`` are the format of synapse k's projection: the runner
    clips and truncates each synapse by its own projection's format with Lava's ``weightutils``.
    """

    from_sources: bool  # pre indexes the RingBuffer (True) or the LIF process (False)
    weight_exp: int
    pre: np.ndarray  # int64
    post: np.ndarray  # int64
    weight: np.ndarray  # int64, as given
    delay: np.ndarray  # int64, snnc delays (>= 1)
    sign_mode: np.ndarray  # int8 index into SIGN_MODES
    num_weight_bits: np.ndarray  # int8
    projections: tuple[str, ...]
    sender: str = "lif"  # "ring" (sources), "lif" (spikes) or "li" (graded messages, 24 bit)
    receiver: str = "lif"  # the neuron process whose a_in it feeds: "lif" or "li"

    @property
    def graded(self) -> bool:
        """True when the block carries graded messages (Lava ``num_message_bits = 24``)."""
        return self.sender == "li"

    @property
    def delayed(self) -> bool:
        """True when the block needs a ``DelaySparse`` (some delay above one step)."""
        return bool(self.delay.size and self.delay.max() > 1)


@dataclass(frozen=True)
class LavaPlan:
    """Everything needed to build the Lava processes of one run."""

    steps: int
    dt: float
    neurons: dict[str, tuple[int, int]]  # population -> (start, stop) in the LIF process
    sources: dict[str, tuple[int, int]]  # population -> (start, stop) in the RingBuffer
    lif: dict[str, np.ndarray]  # LIF_FIELDS -> int64 per-neuron arrays
    source_events: dict[str, tuple[np.ndarray, np.ndarray]]  # population -> (times, ids)
    blocks: tuple[Block, ...]
    graded: dict[str, tuple[int, int]] = dataclass_field(default_factory=dict)
    """population -> (start, stop) in the SnncLI process (the ``loihi_li`` populations)."""
    li: dict[str, np.ndarray] = dataclass_field(default_factory=dict)  # LI_FIELDS -> int64 arrays

    @property
    def graded_count(self) -> int:
        return sum(stop - start for start, stop in self.graded.values())

    @property
    def extended(self) -> bool:
        """True when a refractory period or reset by subtraction needs snnc's ``SnncLIF``."""
        return bool(np.any(self.lif["refractory"]) or np.any(self.lif["reset_subtract"]))

    @property
    def neuron_count(self) -> int:
        return sum(stop - start for start, stop in self.neurons.values())

    @property
    def source_count(self) -> int:
        return sum(stop - start for start, stop in self.sources.values())

    def source_raster(self) -> np.ndarray:
        """The RingBuffer's data: int32 (source neurons x steps), 1 where a source spikes."""
        raster = np.zeros((self.source_count, self.steps), dtype=np.int32)
        for name, (times, ids) in self.source_events.items():
            raster[self.sources[name][0] + ids, times] = 1
        return raster

    @property
    def process_count(self) -> int:
        """Lava processes of the run: LIF, sink, RingBuffer (if any source) and the blocks."""
        return (2 * int(self.neuron_count > 0) + 2 * int(self.graded_count > 0)
                + int(self.source_count > 0) + len(self.blocks))


def check_supported(net: Network) -> None:
    """Refuse, before any work, what loihi-sim cannot run (the model registry's support rules)."""
    check_network(net, TARGETS["loihi-sim"])


def _layout(populations: list[Any]) -> dict[str, tuple[int, int]]:
    offsets = np.cumsum([0] + [p.size for p in populations])
    return {p.name: (int(offsets[i]), int(offsets[i + 1])) for i, p in enumerate(populations)}


def _lif_arrays(net: Network) -> dict[str, np.ndarray]:
    columns: dict[str, list[np.ndarray]] = {field: [] for field in LIF_FIELDS}
    for population in net.neuron_populations():
        if population.kind == GRADED_KIND:
            continue
        neuron: Any = population.neuron
        for field in LIF_FIELDS:
            value = int(neuron.reset == "subtract") if field == "reset_subtract" else getattr(
                neuron, field)
            columns[field].append(np.asarray(resolve(value, population.size, integer=True),
                                              dtype=np.int64))
    return {field: (np.concatenate(parts) if parts else np.zeros(0, np.int64))
            for field, parts in columns.items()}


def _li_arrays(net: Network) -> dict[str, np.ndarray]:
    columns: dict[str, list[np.ndarray]] = {name: [] for name in LI_FIELDS}
    for population in net.neuron_populations():
        if population.kind != GRADED_KIND:
            continue
        for name in LI_FIELDS:
            columns[name].append(np.asarray(resolve(getattr(population.neuron, name),
                                                    population.size, integer=True), np.int64))
    return {name: (np.concatenate(parts) if parts else np.zeros(0, np.int64))
            for name, parts in columns.items()}


def _repeat_rank(post: np.ndarray, pre: np.ndarray) -> np.ndarray:
    """For each synapse, how many earlier synapses join the same (post, pre) pair (0 if unique)."""
    if post.size == 0:
        return np.zeros(0, np.int64)
    key = post.astype(np.int64) << 32 | pre.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, key.size]))
    rank = np.empty(key.size, np.int64)
    rank[order] = np.arange(key.size) - run_start
    return rank


def _check_negative_exp(name: str, index: int, rank: np.ndarray) -> None:
    """Lava floors each block's per-delay sums; a repeated pair would need two blocks."""
    if rank.size and rank.max() > 0:
        raise UnsupportedOnTarget(
            f"projection '{name}': weight_exp < 0 with repeated (pre, post) pairs (Lava would "
            "floor each copy's sum separately)", where=f"projections[{index}].weight_exp")


def _check_single_spikes(name: str, times: np.ndarray, ids: np.ndarray) -> None:
    """A Lava RingBuffer sends 0 or 1 per neuron and step; the IR would count a repeat twice."""
    key = times.astype(np.int64) << 32 | ids.astype(np.int64)
    repeated = key[1:] == key[:-1]  # source_spikes sorts by time, then id
    if repeated.any():
        k = int(np.argmax(repeated))
        raise UnsupportedOnTarget(
            f"neuron {int(ids[k])} spikes twice at step {int(times[k])}: a Loihi input sends at "
            "most one spike per neuron and step", where=f"populations.{name}.source")


def _check_delays(name: str, index: int, delay: np.ndarray) -> None:
    """A guard: a plain network's longer delays were relayed (``compiler/passes/delays.py``) and a
    loihi-sim build has none; only a build made without the pass can still hold one."""
    if delay.size and delay.max() > MAX_DELAY:
        raise UnsupportedOnTarget(
            f"projection '{name}': delay {int(delay.max())} steps exceeds loihi-sim's maximum of "
            f"{MAX_DELAY} (Lava DelaySparse: 0..63 plus the one-step hop); recompile the build "
            "(snnc compile relays longer delays through relay neurons)",
            where=f"projections[{index}].delay")


@dataclass(frozen=True)
class _Part:
    """Synapses of one projection headed for one group."""

    name: str
    arrays: tuple[np.ndarray, ...]  # pre, post, weight, delay, sign_mode, num_weight_bits


def _group_key(projection: Any, ends: tuple[str, str], delayed: bool) -> tuple:
    # weight_exp < 0 floors each block's sum: such a projection gets blocks of its own.
    private = projection.name if projection.weight_exp < 0 else ""
    return (ends, projection.weight_exp, delayed, private)


def _parts(net: Network, neurons: dict, sources: dict,
           graded: dict | None = None) -> dict[tuple, list[_Part]]:
    """Every projection's synapses in process-wide indices, by group key: (sender, receiver)
    process, weight_exp, delayed, private name."""
    graded = graded or {}
    groups: dict[tuple, list[_Part]] = {}
    for index, projection in enumerate(net.projections):
        syn = expand(net, projection)
        delay = syn.delay.astype(np.int64)
        _check_delays(projection.name, index, delay)
        if len(syn) == 0:
            continue
        sender = ("ring" if projection.pre in sources
                  else "li" if projection.pre in graded else "lif")
        receiver = "li" if projection.post in graded else "lif"
        layouts = {"ring": sources, "li": graded, "lif": neurons}
        pre = syn.pre.astype(np.int64) + layouts[sender][projection.pre][0]
        post = syn.post.astype(np.int64) + layouts[receiver][projection.post][0]
        if projection.weight_exp < 0:
            _check_negative_exp(projection.name, index, _repeat_rank(post, pre))
        weight = syn.weight.astype(np.int64)
        mode = np.full(weight.size, SIGN_MODES.index(sign_mode(weight)), np.int8)
        bits = np.full(weight.size, projection.num_weight_bits, np.int8)
        for delayed in (False, True):
            chosen = (delay > 1) == delayed
            if chosen.any():
                arrays = tuple(a[chosen] for a in (pre, post, weight, delay, mode, bits))
                key = _group_key(projection, (sender, receiver), delayed)
                groups.setdefault(key, []).append(_Part(projection.name, arrays))
    return groups


def _fold_short_delays(groups: dict[tuple, list[_Part]]) -> dict[tuple, list[_Part]]:
    """Move a group's delay-1 synapses into its DelaySparse when they are few.

    A DelaySparse step costs about 0.1 ms per delay slot whatever its size (Lava rebuilds its
    per-delay matrices every step), a separate Sparse process about 0.4 ms plus 0.1 s to compile.
    """
    merged: dict[tuple, list[_Part]] = {}
    for key, parts in groups.items():
        from_sources, exp, delayed, private = key
        delayed_key = (from_sources, exp, True, private)
        count = sum(part.arrays[0].size for part in parts)
        if not delayed and delayed_key in groups and count <= FOLD_INTO_DELAYED_MAX:
            key = delayed_key
        merged.setdefault(key, []).extend(parts)
    return merged


def _blocks(net: Network, neurons: dict, sources: dict,
            graded: dict | None = None) -> tuple[Block, ...]:
    """Group every projection's synapses into as few blocks as exactness allows."""
    groups = _fold_short_delays(_parts(net, neurons, sources, graded))
    return tuple(block for key, parts in groups.items() for block in _split_repeats(key, parts))


def _split_repeats(key: tuple, parts: list[_Part]) -> list[Block]:
    """One block per repeat layer: layer k holds the k-th synapse of every (post, pre) pair."""
    (sender, receiver), exp = key[0], key[1]
    arrays = [np.concatenate([part.arrays[i] for part in parts]) for i in range(6)]
    rank = _repeat_rank(arrays[1], arrays[0])
    names = tuple(dict.fromkeys(part.name for part in parts))
    blocks = []
    for layer in range(int(rank.max()) + 1):
        keep = rank == layer
        pre, post, weight, delay, mode, bits = (a[keep] for a in arrays)
        blocks.append(Block(sender == "ring", exp, pre, post, weight, delay, mode, bits, names,
                            sender, receiver))
    return blocks


def plan(net: Network, steps: int) -> LavaPlan:
    """The Lava plan of a network whose neuron populations are all ``loihi_lif`` or ``loihi_li``
    (these in their own ``SnncLI`` process; blocks from it carry graded messages)."""
    check_supported(net)
    graded_pops = [p for p in net.neuron_populations() if p.kind == GRADED_KIND]
    neuron_pops = [p for p in net.neuron_populations() if p.kind != GRADED_KIND]
    kinds = {p.kind for p in neuron_pops} - {"loihi_lif"}
    if kinds:
        raise UnsupportedOnTarget(f"neuron kinds {sorted(kinds)} must be quantized first",
                                  where="populations")
    source_pops = list(net.source_populations())
    neurons, sources, graded = _layout(neuron_pops), _layout(source_pops), _layout(graded_pops)
    events = {p.name: source_spikes(p.source, p.size, steps, net.dt)
              for p in source_pops if p.source is not None}  # every one has a source
    for name, (times, ids) in events.items():
        _check_single_spikes(name, times, ids)
    return LavaPlan(steps=steps, dt=net.dt, neurons=neurons, sources=sources,
                    lif=_lif_arrays(net), source_events=events,
                    blocks=_blocks(net, neurons, sources, graded), graded=graded,
                    li=_li_arrays(net))
