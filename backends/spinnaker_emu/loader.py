"""Loading a compiled build onto the emulated machine (what sPyNNaker's data-spec writer does).

From a ``CompiledBuild`` (``snnc.compiler.artifacts``) this builds, as flat arrays:

* the neuron cores' state and constants (``NeuronLayout``: the built-in kinds' neurons first,
  core by core, then each foreign kind's family, ``foreign.py``);
* every packet any core can send, numbered ``g`` (``neuron``/``source`` core: key ``base | i``;
  ``delay`` core: ``delay_packet(base, s, i, neuron_bits)`` for s = 1..its last stage), and where
  the routing tables take it (``router.walk``);
* each neuron core's synaptic rows, keyed like sPyNNaker's master population table: one entry
  ``(key, mask)`` per sending core (the source core for in-core delays, its delay core for longer
  ones), row ``key & ~mask``, row words (target neuron, receptor, in-core delay, 16-bit weight);
* for each packet and each core it reaches, the core's lookup of that key done once: a row, a
  delay-core input, or a failed lookup (a packet the core has no entry for).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from snnc.ir.errors import SnncError, UnsupportedOnTarget
from snnc.ir.expand import expand
from snnc.models import REGISTRY
from snnc.models.jit import njit

from .engine import DELIVER_DELAY, DELIVER_MISS, DELIVER_ROW
from .foreign import BUILTIN_KINDS, ForeignFamily, families
from .neuron import FLAG_DELTA, FLAG_GRADED, FLAG_NO_LEAK, FLAG_SUBTRACT, NeuronParams
from .router import Mesh, Table, WalkLog, csr, walk

DELIVER_EMPTY = 3  # the key matches an entry but its row holds no synapse
RING_WEIGHT_MAX = 0xFFFF


@dataclass
class Packets:
    """Every packet the machine can send: its key and sending core, and per-packet route lists."""

    key: np.ndarray  # uint32 per g
    core: np.ndarray  # sending core id per g
    offset: dict[int, int]  # first g of each sending core
    delivered: tuple[np.ndarray, np.ndarray]  # (ptr, core id)
    routers: tuple[np.ndarray, np.ndarray]  # (ptr, chip index)
    links: tuple[np.ndarray, np.ndarray]  # (ptr, chip index * 6 + link)
    defaulted: tuple[np.ndarray, np.ndarray]
    dropped: tuple[np.ndarray, np.ndarray]


@dataclass
class Rows:
    """All neuron cores' synaptic rows: row ``r`` is ``words[ptr[r] : ptr[r] + length[r]]``.

    A word is sPyNNaker's ``weight << 16 | delay << (neuron_bits + 1) | receptor << neuron_bits |
    neuron`` (``neuron`` local to the target core; ``delay`` is the in-core delay modulo the ring's
    slot count, which addresses the same slot).
    """

    core: np.ndarray  # target core of the row
    block: np.ndarray  # sending core whose key block the row belongs to
    index: np.ndarray  # row number within the block (key & ~mask)
    ptr: np.ndarray
    length: np.ndarray
    words: np.ndarray  # uint32
    neuron_bits: int
    slot_bits: int

    def decode(self) -> dict[str, np.ndarray]:
        """The words' fields: weight, delay (mod slots), receptor, local neuron."""
        w = self.words.astype(np.int64)
        nb = self.neuron_bits
        return {"weight": w >> 16, "delay": (w >> (nb + 1)) & ((1 << self.slot_bits) - 1),
                "receptor": (w >> nb) & 1, "neuron": w & ((1 << nb) - 1)}


def _per_neuron(value: Any, size: int, dtype=np.int64) -> np.ndarray:
    return np.broadcast_to(np.asarray(value).astype(dtype), (size,))


def neuron_cores(build: Any) -> list[Any]:
    """The neuron cores, in core order."""
    return [core for core in build.partition.cores if core.kind == "neuron"]


def _placed(build: Any, population: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    core, local = build.partition.where(population, size)
    if (core < 0).any():
        missing = int(np.flatnonzero(core < 0)[0])
        raise SnncError(f"neuron {missing} is on no core", where=f"populations.{population}")
    return core.astype(np.int64), local.astype(np.int64)


@dataclass
class NeuronLayout:
    """Where every neuron of the machine is: its core, its index there, its global index.

    Global neurons ``0 .. builtin - 1`` are the built-in kinds' (``spinnaker_lif``,
    ``spinnaker_li``), in core order then local index (so a build of built-in kinds alone
    numbers them core base + local index); then each foreign family's (``foreign.py``),
    population by population. The order fixes only which kernel updates a neuron and the order
    of a tick's packets; every neuron reads its own core's ring and is sent from its own core.
    """

    core: dict[str, np.ndarray]
    local: dict[str, np.ndarray]
    index: dict[str, np.ndarray]
    builtin: int
    total: int
    families: list[ForeignFamily]


def neuron_layout(build: Any) -> NeuronLayout:
    """Global index of every neuron: the built-in kinds first, then the foreign families."""
    net = build.network
    core, local = {}, {}
    for pop in net.neuron_populations():
        core[pop.name], local[pop.name] = _placed(build, pop.name, pop.size)
    builtin = [p for p in net.neuron_populations() if p.kind in BUILTIN_KINDS]
    index: dict[str, np.ndarray] = {}
    if builtin:
        key = np.concatenate([(core[p.name] << 32) | local[p.name] for p in builtin])
        rank = np.empty(key.size, np.int64)
        rank[np.argsort(key, kind="stable")] = np.arange(key.size)
        for pop, start in zip(builtin, np.cumsum([0] + [p.size for p in builtin])):
            index[pop.name] = rank[start:start + pop.size]
    n_builtin = sum(p.size for p in builtin)
    fams = families(net, {p.pre for p in net.projections})
    first = n_builtin
    for fam in fams:
        fam.first = first
        for name, start in fam.populations.items():
            index[name] = first + start + np.arange(net.populations[name].size, dtype=np.int64)
        first += fam.size
    return NeuronLayout(core, local, index, n_builtin, first, fams)


def neuron_params(build: Any, layout: NeuronLayout) -> tuple[NeuronParams, np.ndarray]:
    """Constants of every built-in neuron and the initial voltage of every neuron."""
    n = layout.builtin
    fields = {f: np.zeros(n, np.int64) for f in
              ("v_thresh", "v_reset", "v_rest", "i_offset", "exp_tc", "r_membrane", "t_refract")}
    pair = {f: np.zeros((2, n), np.int64) for f in ("decay", "init", "shift")}
    flags = np.zeros(n, np.uint8)
    v_init = np.zeros(layout.total, np.int64)
    payload_shift = np.zeros(n, np.int64)
    for pop in build.network.neuron_populations():
        model = pop.neuron
        if model.kind not in BUILTIN_KINDS:
            continue  # a foreign family's tables (foreign.py)
        idx = layout.index[pop.name]
        graded = model.kind == "spinnaker_li"
        for f in fields:
            if graded and f in ("v_thresh", "v_reset", "t_refract"):
                continue  # no threshold, reset or refractory period (FLAG_GRADED)
            fields[f][idx] = _per_neuron(getattr(model, f), pop.size)
        if graded:
            payload_shift[idx] = model.payload_shift
            flags[idx] = FLAG_GRADED
        for r, suffix in enumerate(("exc", "inh")):
            pair["decay"][r, idx] = _per_neuron(getattr(model, f"decay_{suffix}"), pop.size)
            pair["init"][r, idx] = _per_neuron(getattr(model, f"init_{suffix}"), pop.size)
            pair["shift"][r, idx] = getattr(model, f"weight_shift_{suffix}")
        flags[idx] |= ((FLAG_DELTA if model.synapse == "delta" else 0)
                       | (FLAG_SUBTRACT if getattr(model, "reset", "zero") == "subtract" else 0)
                       | (FLAG_NO_LEAK if model.leak == "none" else 0))
        v_init[idx] = _per_neuron(model.v_init, pop.size)
    for fam in layout.families:  # what --record-v reads before a foreign neuron's first update
        v_init[fam.first:fam.first + fam.size] = fam.state[fam.step.voltage_row]
    return NeuronParams(flags=flags, payload_shift=payload_shift, **fields, **pair), v_init


def sends(build: Any, core_id: int) -> bool:
    """Whether a core sends packets: it has a key and (if the build says) somewhere to send them.

    As in sPyNNaker, a vertex with no outgoing edge has no routing partition and sends nothing.
    """
    targets = build.routing.targets
    return core_id in build.routing.keys and (not targets or bool(targets.get(core_id)))


def _packet_keys(build: Any) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """Key and sending core of every packet, and each sending core's first packet number."""
    keys, cores, offset, total = [], [], {}, 0
    for core in build.partition.cores:
        if not sends(build, core.id):
            continue
        base = int(build.routing.keys[core.id][0])
        local: np.ndarray = np.arange(core.neurons, dtype=np.uint64)
        if core.kind == "delay":
            bits = int(build.routing.neuron_bits[core.id])
            last = max(build.routing.delay_stages.get(core.id, ()), default=0)
            stage = np.repeat(np.arange(1, last + 1, dtype=np.uint64), core.neurons)
            local = ((stage - 1) << np.uint64(bits)) | np.tile(local, last)
        offset[core.id] = total
        keys.append((np.uint64(base) | local).astype(np.uint32))
        cores.append(np.full(local.size, core.id, dtype=np.int64))
        total += local.size
    if not keys:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64), offset
    return np.concatenate(keys), np.concatenate(cores), offset


def route_packets(build: Any, mesh: Mesh) -> Packets:
    """Walk every packet through the build's routing tables (once, before the run)."""
    key, core, offset = _packet_keys(build)
    tables = {tuple(chip): Table(np.asarray(t.keys, np.uint32), np.asarray(t.masks, np.uint32),
                                 np.asarray(t.routes, np.uint32))
              for chip, t in build.routing.tables.items()}
    core_at = {(int(x), int(y), int(p)): cid
               for cid, (x, y, p) in build.placement.location.items()}
    log = WalkLog()
    ids = np.arange(key.size, dtype=np.int64)
    for cid, first in offset.items():
        count = int(np.count_nonzero(core == cid))
        x, y, _ = build.placement.location[cid]
        part = slice(first, first + count)
        walk(mesh, tables, core_at, (int(x), int(y)), key[part], ids[part], log)
    n = key.size
    return Packets(key, core, offset, csr(log.delivered, n), csr(log.routers, n),
                   csr(log.links, n), csr(log.defaulted, n), csr(log.dropped, n))


def _delay_core_of(build: Any) -> dict[int, int]:
    return {c.extends: c.id for c in build.partition.cores if c.kind == "delay"}


ROW_CORE_BITS = 20  # row address = block << 40 | row number << 20 | target core
ROW_INDEX_BITS = 20


def _synapse_words(build: Any, slots: int, neuron_bits: int,
                   slot_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Every synapse into a neuron core: (row address, packed row word), in network order.

    The row address sorts rows source-major: sending core (``block``: the source core for
    in-core delays, its delay core beyond), row number ``key & ~mask``, then target core.
    """
    net, delay_core = build.network, _delay_core_of(build)
    addresses, words = [], []
    for projection in net.projections:
        syn = expand(net, projection)
        pre = net.populations[projection.pre]
        post = net.populations[projection.post]
        pre_core, pre_local = _placed(build, pre.name, pre.size)
        post_core, post_local = _placed(build, post.name, post.size)
        weight = syn.weight.astype(np.int64)
        if projection.plasticity is not None:  # its weight lives in its STDP row (plastic.py)
            weight = np.zeros_like(weight)
        if weight.size and np.abs(weight).max() > RING_WEIGHT_MAX:
            raise UnsupportedOnTarget("weight magnitude above 16 bits",
                                      where=f"projections.{projection.name}")
        delay = syn.delay.astype(np.int64)
        stage = (delay - 1) // slots
        block = pre_core[syn.pre]
        index = pre_local[syn.pre]
        late = stage > 0
        if late.any() and pre.neuron is not None and not REGISTRY.of(pre.neuron).spiking:
            raise UnsupportedOnTarget(
                f"a graded projection's delay above the in-core slots ({slots}): delay cores "
                "re-send spikes, not payloads", where=f"projections.{projection.name}.delay")
        if late.any():
            block, index = _delayed_block(build, delay_core, block, index, stage, late, projection)
        addresses.append((block << (ROW_INDEX_BITS + ROW_CORE_BITS)) | (index << ROW_CORE_BITS)
                         | post_core[syn.post])
        in_core = (delay - stage * slots) & ((1 << slot_bits) - 1)  # same slot modulo the ring
        words.append(((np.abs(weight) << 16) | (in_core << (neuron_bits + 1))
                      | ((weight < 0).astype(np.int64) << neuron_bits)
                      | post_local[syn.post]).astype(np.uint32))
    if not addresses:
        return np.zeros(0, np.int64), np.zeros(0, np.uint32)
    return np.concatenate(addresses), np.concatenate(words)


def _delayed_block(build, delay_core, block, index, stage, late, projection):
    """Re-address the synapses of stage >= 1 to their source core's delay core."""
    block, index = block.copy(), index.copy()
    for source in np.unique(block[late]):
        if int(source) not in delay_core:
            raise SnncError(f"delays above the in-core slots but core {source} has no delay core",
                            where=f"projections.{projection.name}")
        d = delay_core[int(source)]
        bits = int(build.routing.neuron_bits[d])
        pick = late & (block == source)
        index[pick] = ((stage[pick] - 1) << bits) | index[pick]
        block[pick] = d
    return block, index


def build_rows(build: Any, slots: int, neuron_bits: int, slot_bits: int) -> Rows:
    """Group the words into rows (one per sending block, row number and target core).

    Rows are stored source-major: the rows one packet reaches on its target cores lie next to
    each other, so a delivery reads memory in order. The sort is stable: words keep network order.
    """
    if neuron_bits + 1 + slot_bits > 16:
        raise UnsupportedOnTarget(f"a row word cannot hold {neuron_bits} neuron bits, 1 receptor "
                                  f"bit and {slot_bits} delay bits under its 16-bit weight",
                                  where="hardware.neurons_per_core")
    address, words = _synapse_words(build, slots, neuron_bits, slot_bits)
    order = np.argsort(address, kind="stable")
    address, words = address[order], words[order]
    starts = np.flatnonzero(np.diff(address, prepend=-1) != 0) if address.size else address
    length = np.diff(np.append(starts, address.size))
    first = address[starts]
    return Rows(first & ((1 << ROW_CORE_BITS) - 1), first >> (ROW_INDEX_BITS + ROW_CORE_BITS),
                (first >> ROW_CORE_BITS) & ((1 << ROW_INDEX_BITS) - 1), starts.astype(np.int64),
                length.astype(np.int64), words, neuron_bits, slot_bits)


KIND_CODE = {"neuron": 0, "source": 1, "delay": 2}


def _pop_tables(build: Any, rows: Rows, n_cores: int):
    """Every neuron core's master population table as CSR arrays, entries sorted by key.

    One entry ``(key, mask)`` per block that has rows on the core. ``disjoint[c]`` says the
    entries are prefix masks over non-overlapping key ranges, so a binary search finds the match.
    """
    pair = np.unique(rows.core * (1 << 32) + rows.block)
    core, block = pair >> 32, pair & 0xFFFFFFFF
    base_key = np.zeros(n_cores, np.int64)
    base_mask = np.zeros(n_cores, np.int64)
    for cid, (key, mask) in build.routing.keys.items():
        base_key[cid], base_mask[cid] = int(key), int(mask)
    key, mask = base_key[block], base_mask[block]
    order = np.lexsort((key, core))
    core, block, key, mask = core[order], block[order], key[order], mask[order]
    ptr = np.zeros(n_cores + 1, np.int64)
    np.cumsum(np.bincount(core, minlength=n_cores), out=ptr[1:])
    span = (~mask) & 0xFFFFFFFF  # entry covers key .. key | span
    prefix = ((span + 1) & span) == 0
    same_core = np.zeros(core.size, bool)
    same_core[1:] = core[1:] == core[:-1]
    overlap = same_core[1:] & (key[1:] <= (key[:-1] | span[:-1]))
    disjoint = np.ones(n_cores, bool)
    np.logical_and.at(disjoint, core, prefix)
    np.logical_and.at(disjoint, core[1:], ~overlap)
    return ptr, key, mask, block, disjoint


@njit(cache=True)
def _lookup_kernel(target, keys, core_kind, eptr, ekey, emask, eblock, disjoint, row_address,
                   d_key, d_mask, d_base, d_size, kind, row):
    """What each core does with each packet it receives (sPyNNaker's pop-table search)."""
    for k in range(target.size):
        c = target[k]
        key = np.int64(keys[k])
        if core_kind[c] == 2:  # delay core: accepts its source core's keys
            index = key & ~d_mask[c] & 0xFFFFFFFF
            if (key & d_mask[c]) == d_key[c] and index < d_size[c]:
                kind[k] = DELIVER_DELAY
                row[k] = d_base[c] + index
            continue
        if core_kind[c] != 0 or eptr[c] == eptr[c + 1]:
            continue  # a source core, or a neuron core without rows: failed lookup
        e = -1
        if disjoint[c]:
            j = eptr[c] + np.searchsorted(ekey[eptr[c]:eptr[c + 1]], key, side="right") - 1
            if j >= eptr[c] and (key & emask[j]) == ekey[j]:
                e = j
        else:
            for j in range(eptr[c], eptr[c + 1]):
                if (key & emask[j]) == ekey[j]:
                    e = j
                    break
        if e < 0:
            continue
        index = key & ~emask[e] & 0xFFFFFFFF
        address = (eblock[e] << 40) | (index << 20) | c
        pos = np.searchsorted(row_address, address)
        if pos < row_address.size and row_address[pos] == address:
            kind[k] = DELIVER_ROW
            row[k] = pos
        else:
            kind[k] = DELIVER_EMPTY


def lookups(build: Any, packets: Packets, rows: Rows, delay_base: dict[int, int]):
    """For every delivery (packet g reaches core c): what the core does with it."""
    ptr, target = packets.delivered
    n_cores = len(build.partition.cores)
    keys = np.repeat(packets.key.astype(np.int64), np.diff(ptr))
    core_kind = np.zeros(n_cores, np.int64)
    d_key, d_mask, d_base, d_size = (np.zeros(n_cores, np.int64) for _ in range(4))
    for c in build.partition.cores:
        core_kind[c.id] = KIND_CODE[c.kind]
        if c.kind == "delay":
            key, mask = build.routing.keys[c.extends]
            d_key[c.id], d_mask[c.id] = int(key), int(mask)
            d_base[c.id], d_size[c.id] = delay_base[c.id], c.neurons
    eptr, ekey, emask, eblock, disjoint = _pop_tables(build, rows, n_cores)
    row_address = (rows.block << 40) | (rows.index << 20) | rows.core
    kind = np.full(target.size, DELIVER_MISS, dtype=np.int64)
    row = np.full(target.size, -1, dtype=np.int64)
    _lookup_kernel(target.astype(np.int64), keys, core_kind, eptr, ekey, emask, eblock, disjoint,
                   row_address, d_key, d_mask, d_base, d_size, kind, row)
    return kind, row


@dataclass
class Patterns:
    """Packets that reach the same cores through the same routers and links share a pattern.

    In a compiled build every key of a core follows the same route (tables route key blocks),
    so a tick's counting is per pattern: ``count`` packets of pattern ``p`` add ``count`` to
    each of its cores' received packets, routers and links, instead of one by one.
    """

    of: np.ndarray  # pattern of each packet g
    cores: tuple[np.ndarray, np.ndarray]  # (ptr, core id) per pattern
    routers: tuple[np.ndarray, np.ndarray]
    links: tuple[np.ndarray, np.ndarray]


def _same_lists(ptr: np.ndarray, values: np.ndarray, first: int, stop: int) -> bool:
    """Whether packets first..stop-1 all have the same list as packet ``first``."""
    lengths = np.diff(ptr[first:stop + 1])
    if (lengths != lengths[0]).any():
        return False
    block = values[ptr[first]:ptr[stop]].reshape(stop - first, lengths[0])
    return bool((block == block[0]).all())


def route_patterns(packets: Packets) -> Patterns:
    """Group each sending core's packets into one pattern when their routes are identical."""
    lists = (packets.delivered, packets.routers, packets.links)
    n = packets.key.size
    of = np.zeros(n, np.int64)
    members: list[tuple[int, int]] = []  # (first packet, packet count) of each pattern
    for core, first in sorted(packets.offset.items(), key=lambda item: item[1]):
        stop = first + int(np.count_nonzero(packets.core == core))
        if stop > first and all(_same_lists(ptr, v, first, stop) for ptr, v in lists):
            of[first:stop] = len(members)
            members.append((first, stop))
        else:
            of[first:stop] = len(members) + np.arange(stop - first)
            members.extend((g, g + 1) for g in range(first, stop))
    leaders = np.array([first for first, _ in members], dtype=np.int64)
    return Patterns(of, *(_select(ptr, values, leaders) for ptr, values in lists))


def _select(ptr: np.ndarray, values: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CSR lists of ``rows`` only."""
    lengths = ptr[rows + 1] - ptr[rows]
    new_ptr = np.zeros(rows.size + 1, np.int64)
    np.cumsum(lengths, out=new_ptr[1:])
    index = np.repeat(ptr[rows] - new_ptr[:-1], lengths) + np.arange(new_ptr[-1])
    return new_ptr, values[index]


def active_deliveries(packets: Packets, kind: np.ndarray, row: np.ndarray):
    """Per packet, only the deliveries that do work (a row, a delay input, a failed lookup)."""
    ptr, core = packets.delivered
    g = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
    keep = kind != DELIVER_EMPTY
    new_ptr = np.zeros(ptr.size, np.int64)
    np.cumsum(np.bincount(g[keep], minlength=ptr.size - 1), out=new_ptr[1:])
    return new_ptr, core[keep], kind[keep], row[keep]
