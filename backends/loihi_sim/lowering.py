"""Lowering of a Loihi-quantized network to a plan of Lava Processes (numpy only, no lava import).

The plan is what ``runner.py`` instantiates:

- ONE neuron process per Loihi model kind (a ``Group``), holding every population of that kind
  concatenated in network order, built as the model's ``LavaLowering`` says
  (``models/base.py``): for ``loihi_lif`` Lava's own ``LIF``, or snnc's fixed-point ``SnncLIF``
  (``lava_procs/lif.py``) when some population uses a refractory period or reset by
  subtraction; for ``loihi_li`` snnc's ``SnncLI`` (graded, non-spiking: ``v >> payload_shift``
  every step). Lava's cost is per process (about 0.1 s to compile and 0.4 ms per step, measured
  on 2 cores) whatever its size, and the fixed-point models are element-wise, so merging changes
  no bit. Blocks name their sender and receiver group (``Block.sender``/``receiver``: a kind, or
  ``"ring"``); blocks from a graded group are made with its ``num_message_bits``.
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

from dataclasses import dataclass
from typing import Any

import numpy as np

from snnc.ir import Network, UnsupportedOnTarget, expand, source_spikes
from snnc.models.base import LavaLowering
from snnc.models.lava_fixed_point import SignMode, quantize_weights, sign_mode
from snnc.models.registry import REGISTRY
from snnc.models.support import check_network
from snnc.models.targets import TARGETS

TARGET = TARGETS["loihi-sim"].name
MAX_DELAY = TARGETS["loihi-sim"].max_delay  # DelaySparse: delays 0..63 ("Loihi 2: 6 bits") + 1 hop
SIGN_MODES = (SignMode.EXCITATORY, SignMode.INHIBITORY, SignMode.MIXED)
FOLD_INTO_DELAYED_MAX = 4096  # delay-1 synapses that ride in a group's DelaySparse (see below)
RING = "ring"  # the sender name of the spike sources' RingBuffer


@dataclass(frozen=True)
class Block:
    """One Lava ``Sparse``/``DelaySparse``: synapses ``pre[k] -> post[k]`` in process-wide indices.

    ``sign_mode[k]`` and ``num_weight_bits[k]`` are the format of synapse k's projection: the runner
    clips and truncates each synapse by its own projection's format with Lava's ``weightutils``.
    """

    from_sources: bool  # pre indexes the RingBuffer (True) or a neuron group's process (False)
    weight_exp: int
    pre: np.ndarray  # int64
    post: np.ndarray  # int64
    weight: np.ndarray  # int64, as given
    delay: np.ndarray  # int64, snnc delays (>= 1)
    sign_mode: np.ndarray  # int8 index into SIGN_MODES
    num_weight_bits: np.ndarray  # int8
    projections: tuple[str, ...]
    sender: str = "loihi_lif"  # RING (sources) or the sending group's kind
    receiver: str = "loihi_lif"  # the group whose a_in it feeds
    message_bits: int = 0  # the sender's graded message width (0: spikes)

    @property
    def graded(self) -> bool:
        """True when the block carries graded messages (Lava ``num_message_bits > 0``)."""
        return self.message_bits > 0

    @property
    def delayed(self) -> bool:
        """True when the block needs a ``DelaySparse`` (some delay above one step)."""
        return bool(self.delay.size and self.delay.max() > 1)


@dataclass(frozen=True)
class Group:
    """One Lava neuron process: every population of one Loihi model kind, in network order."""

    kind: str
    lowering: LavaLowering
    populations: dict[str, tuple[int, int]]  # population -> (start, stop) in this process
    arrays: dict[str, np.ndarray]  # the lowering's per-neuron int64 arrays, concatenated

    @property
    def size(self) -> int:
        return sum(stop - start for start, stop in self.populations.values())

    @property
    def spiking(self) -> bool:
        return not self.lowering.graded


@dataclass(frozen=True)
class LavaPlan:
    """Everything needed to build the Lava processes of one run."""

    steps: int
    dt: float
    groups: dict[str, Group]  # kind -> its process, in the order kinds first appear
    sources: dict[str, tuple[int, int]]  # population -> (start, stop) in the RingBuffer
    source_events: dict[str, tuple[np.ndarray, np.ndarray]]  # population -> (times, ids)
    blocks: tuple[Block, ...]
    plastic: tuple["PlasticBlock", ...] = ()  # one Lava LearningSparse per plastic projection

    @property
    def neurons(self) -> dict[str, tuple[int, int]]:
        """Every neuron population -> (start, stop) in its group's process."""
        return {name: span for group in self.groups.values()
                for name, span in group.populations.items()}

    @property
    def neuron_count(self) -> int:
        return sum(group.size for group in self.groups.values())

    @property
    def spiking_count(self) -> int:
        return sum(group.size for group in self.groups.values() if group.spiking)

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
        """Lava processes of the run: each group and its sink (a graded group's only when its
        voltages are recorded: counted), the RingBuffer (if any source) and the blocks."""
        return (2 * len(self.groups) + int(self.source_count > 0) + len(self.blocks)
                + len(self.plastic))


def check_supported(net: Network) -> None:
    """Refuse, before any work, what loihi-sim cannot run (the model registry's support rules)."""
    check_network(net, TARGETS["loihi-sim"])


def _lava_lowering(population: Any) -> LavaLowering:
    lowering = REGISTRY.get(population.kind).lowerings.get(TARGET)
    if not isinstance(lowering, LavaLowering):
        raise UnsupportedOnTarget(f"population '{population.name}': neuron kind "
                                  f"'{population.kind}' must be quantized for {TARGET} first",
                                  where=f"populations.{population.name}.neuron.kind")
    return lowering


def _groups(net: Network) -> dict[str, Group]:
    """One group per Loihi kind; its populations laid out in network order."""
    members: dict[str, list[Any]] = {}
    for population in net.neuron_populations():
        _lava_lowering(population)
        members.setdefault(population.kind, []).append(population)
    groups = {}
    for kind, populations in members.items():
        lowering = _lava_lowering(populations[0])
        parts = [lowering.arrays(p.neuron, p.size) for p in populations]
        arrays = {key: np.concatenate([np.asarray(part[key], np.int64) for part in parts])
                  for key in parts[0]}
        groups[kind] = Group(kind, lowering, _layout(populations), arrays)
    return groups


def _layout(populations: list[Any]) -> dict[str, tuple[int, int]]:
    offsets = np.cumsum([0] + [p.size for p in populations])
    return {p.name: (int(offsets[i]), int(offsets[i + 1])) for i, p in enumerate(populations)}


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


def _parts(net: Network, groups: dict[str, Group],
           sources: dict[str, tuple[int, int]]) -> dict[tuple, list[_Part]]:
    """Every projection's synapses in process-wide indices, by group key: (sender, receiver)
    group, weight_exp, delayed, private name."""
    group_of = {name: group for group in groups.values() for name in group.populations}
    parts: dict[tuple, list[_Part]] = {}
    for index, projection in enumerate(net.projections):
        if projection.plasticity is not None:
            continue  # its own LearningSparse (_plastic_blocks)
        syn = expand(net, projection)
        delay = syn.delay.astype(np.int64)
        _check_delays(projection.name, index, delay)
        if len(syn) == 0:
            continue
        sender = RING if projection.pre in sources else group_of[projection.pre].kind
        receiver = group_of[projection.post]
        pre_start = (sources if sender == RING else group_of[projection.pre].populations)[
            projection.pre][0]
        pre = syn.pre.astype(np.int64) + pre_start
        post = syn.post.astype(np.int64) + receiver.populations[projection.post][0]
        if projection.weight_exp < 0:
            _check_negative_exp(projection.name, index, _repeat_rank(post, pre))
        weight = syn.weight.astype(np.int64)
        mode = np.full(weight.size, SIGN_MODES.index(sign_mode(weight)), np.int8)
        bits = np.full(weight.size, projection.num_weight_bits, np.int8)
        for delayed in (False, True):
            chosen = (delay > 1) == delayed
            if chosen.any():
                arrays = tuple(a[chosen] for a in (pre, post, weight, delay, mode, bits))
                key = _group_key(projection, (sender, receiver.kind), delayed)
                parts.setdefault(key, []).append(_Part(projection.name, arrays))
    return parts


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


def _blocks(net: Network, groups: dict[str, Group],
            sources: dict[str, tuple[int, int]]) -> tuple[Block, ...]:
    """Group every projection's synapses into as few blocks as exactness allows."""
    keyed = _fold_short_delays(_parts(net, groups, sources))
    bits = {kind: group.lowering.message_bits for kind, group in groups.items()}
    return tuple(block for key, parts in keyed.items()
                 for block in _split_repeats(key, parts, bits.get(key[0][0], 0)))


def _split_repeats(key: tuple, parts: list[_Part], message_bits: int) -> list[Block]:
    """One block per repeat layer: layer k holds the k-th synapse of every (post, pre) pair."""
    (sender, receiver), exp = key[0], key[1]
    arrays = [np.concatenate([part.arrays[i] for part in parts]) for i in range(6)]
    rank = _repeat_rank(arrays[1], arrays[0])
    names = tuple(dict.fromkeys(part.name for part in parts))
    blocks = []
    for layer in range(int(rank.max()) + 1):
        keep = rank == layer
        pre, post, weight, delay, mode, bits = (a[keep] for a in arrays)
        blocks.append(Block(sender == RING, exp, pre, post, weight, delay, mode, bits, names,
                            sender, receiver, message_bits))
    return blocks


def plan(net: Network, steps: int) -> LavaPlan:
    """The Lava plan of a network whose neuron populations are all of Loihi kinds that loihi-sim
    lowers (each kind's ``LavaLowering``: one process per kind)."""
    check_supported(net)
    groups = _groups(net)
    source_pops = list(net.source_populations())
    sources = _layout(source_pops)
    events = {p.name: source_spikes(p.source, p.size, steps, net.dt)
              for p in source_pops if p.source is not None}  # every one has a source
    for name, (times, ids) in events.items():
        _check_single_spikes(name, times, ids)
    return LavaPlan(steps=steps, dt=net.dt, groups=groups, sources=sources,
                    source_events=events, blocks=_blocks(net, groups, sources),
                    plastic=_plastic_blocks(net, groups, sources))


# ---- plastic projections: Lava's LearningSparse with STDPLoihi --------------------------------
@dataclass(frozen=True)
class PlasticBlock:
    """One plastic projection as one Lava ``LearningSparse`` between its groups' processes.

    ``pre``/``post`` are process-wide indices in synapse order (``expand``); ``weight`` the
    ``loihi_stdp`` rule's initial weights (``models/loihi_stdp.py``: ``initial_weights``); the
    post group's ``s_out`` also feeds the block's ``s_in_bap`` (its back-propagated spikes)."""

    name: str
    rule: Any  # LoihiStdp
    sender: str  # RING or the sending group's kind
    receiver: str
    pre: np.ndarray  # int64
    post: np.ndarray  # int64
    weight: np.ndarray  # int64, Lava's 8-bit (+ sign) weights
    weight_exp: int
    local_pre: np.ndarray  # int32, index within the pre population (records)
    local_post: np.ndarray  # int32

    @property
    def order(self) -> np.ndarray:
        """Synapse k is entry ``order[k]`` of the CSR matrix's row-major values."""
        rank = np.empty(self.pre.size, np.int64)
        rank[np.lexsort((self.pre, self.post))] = np.arange(self.pre.size)
        return rank


def _plastic_blocks(net: Network, groups: dict[str, Group],
                    sources: dict[str, tuple[int, int]]) -> tuple[PlasticBlock, ...]:
    """Each plastic projection's LearningSparse; a one-line refusal for what Lava's learning
    connection cannot run exactly."""
    from snnc.models.base import PlasticSynapses
    from snnc.models.loihi_stdp import LoihiStdp, initial_weights

    group_of = {name: group for group in groups.values() for name in group.populations}
    out = []
    for index, projection in enumerate(net.projections):
        rule = projection.plasticity
        if rule is None:
            continue
        where = f"projections[{index}]"
        if not isinstance(rule, LoihiStdp):
            raise UnsupportedOnTarget(f"plastic projection '{projection.name}' learns with "
                                      f"'{rule.rule}': {TARGET} runs loihi_stdp (quantize first)",
                                      where=f"{where}.plasticity")
        syn = expand(net, projection)
        if syn.delay.size and np.any(syn.delay != 1):
            raise UnsupportedOnTarget(f"plastic projection '{projection.name}' needs delay 1 on "
                                      f"{TARGET} (Lava's learning connections have no delay)",
                                      where=f"{where}.delay")
        if projection.weight_exp < 0:
            raise UnsupportedOnTarget(f"plastic projection '{projection.name}' has weight_exp "
                                      f"{projection.weight_exp}: plastic Loihi weights need "
                                      "weight_exp >= 0", where=f"{where}.weight_exp")
        sender = RING if projection.pre in sources else group_of[projection.pre].kind
        if sender != RING and not group_of[projection.pre].spiking:
            raise UnsupportedOnTarget(f"'{projection.pre}' is non-spiking (graded): it cannot "
                                      f"drive the plastic projection '{projection.name}'",
                                      where=where)
        receiver = group_of[projection.post]
        pre_start = (sources if sender == RING else group_of[projection.pre].populations)[
            projection.pre][0]
        pre = syn.pre.astype(np.int64) + pre_start
        post = syn.post.astype(np.int64) + receiver.populations[projection.post][0]
        if _repeat_rank(post, pre).max(initial=0) > 0:
            raise UnsupportedOnTarget(f"plastic projection '{projection.name}' connects a pair of "
                                      "neurons twice: a Lava learning connection holds one "
                                      "synapse per pair", where=where)
        _check_plastic_weights(projection.name, where, rule, np.asarray(syn.weight))
        # as the reference lowers it (backends/reference/program.py): Lava's clip and truncation
        weight = quantize_weights(np.asarray(syn.weight),
                                  projection.num_weight_bits).astype(np.int64)
        ring_units = PlasticSynapses(
            pre=syn.pre, post=syn.post, weight=weight << projection.weight_exp, delay=syn.delay,
            channel=post, pre_first=0, post_first=0, n_pre=0, n_post=0, steps=0,
            projection=projection)
        out.append(PlasticBlock(projection.name, rule, sender, receiver.kind, pre, post,
                                initial_weights(rule, ring_units), int(projection.weight_exp),
                                syn.pre.astype(np.int32), syn.post.astype(np.int32)))
    return tuple(out)


def _check_plastic_weights(name: str, where: str, rule: Any, weight: np.ndarray) -> None:
    """Initial weights inside the rule's sign mode's range (Lava would clip them silently)."""
    lo, hi = rule.weight_range
    if weight.size and (weight.min() < lo or weight.max() > hi):
        raise UnsupportedOnTarget(f"initial weights of plastic projection '{name}' span "
                                  f"{weight.min()}..{weight.max()}, outside loihi_stdp's "
                                  f"{rule.sign_mode} range {lo}..{hi}", where=f"{where}.weight")
