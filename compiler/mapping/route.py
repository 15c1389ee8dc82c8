"""Routing: keys per sending core, one multicast tree per sending core, per-chip tables.

Keys (``artifacts.py``): every sending core owns an aligned block of ``2**block_bits`` keys,
``base = core_id << block_bits``, ``mask = 0xFFFFFFFF << block_bits``; ``block_bits`` fits the
largest core's neurons and the delay cores' stage bits. Consecutive cores have consecutive blocks,
which is what makes their entries mergeable.

Trees: from the source core's chip, each target chip is reached along a shortest path (longest
dimension first, ``mesh.next_link``); when the path meets a chip already in the tree it continues
from there, so every chip has one parent and receives each packet once.

Tables (SpiNNaker only; Loihi cores address destination cores directly and ``tables`` is empty):

1. one entry per (sending core, tree chip): route word = links to children | processors of targets;
2. default-route elision: an entry is dropped where the packet arrives on link L, leaves only on the
   opposite link and is delivered to no processor there (the router's default route does that);
3. compression: per route, each entry is widened bit by bit (``key & ~b``, ``mask & ~b``) as long
   as it covers no key routed differently on that chip (nor a key that passes through by default
   route); keys that never reach the chip are don't-cares, so blocks of unrelated cores can be
   swallowed. This is PACMAN's ordered-covering idea without its order dependence: entries never
   overlap a differently routed key, so any order is correct; tables are sorted by (key, mask).
4. hard limit: ``router_entries_per_chip`` (1023 on SpiNNaker) is checked by the report.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..artifacts import PROCESSOR_BIT0, Placement, Routing, RoutingTable
from ..hardware import HardwareSpec
from ..mapping.mesh import next_link, shortest_vector, step
from .partition import PartitionResult

FULL_MASK = 0xFFFFFFFF


def _bits(n: int) -> int:
    """Bits needed to number ``n`` items (0 for n <= 1)."""
    return max(0, int(n - 1).bit_length())


def multicast_targets(result: PartitionResult) -> dict[int, tuple[int, ...]]:
    """Cores that must receive each sending core's packets (its multicast group)."""
    targets: dict[int, tuple[int, ...]] = {}
    for s in range(result.pairs.shape[0]):
        direct = np.flatnonzero(result.pairs[s] & 1).tolist()
        if s in result.delay_core:
            targets[result.delay_core[s]] = tuple(np.flatnonzero(result.pairs[s] & 2).tolist())
            direct.append(result.delay_core[s])
        targets[s] = tuple(sorted(direct))
    return dict(sorted(targets.items()))


def allocate_keys(result: PartitionResult) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """(base, mask) and neuron bits of every sending core (see module docstring)."""
    cores = result.partitioning.cores
    neuron_bits = {c.id: _bits(c.neurons) for c in cores}
    stage_bits = {d: _bits(int(result.stage_mask[s]).bit_length() - 1)
                  for s, d in result.delay_core.items()}
    block = max([neuron_bits[c] + stage_bits.get(c, 0) for c in neuron_bits] or [0])
    if len(cores) << block > FULL_MASK + 1:
        from snnc.ir import RoutingError

        raise RoutingError(f"{len(cores)} cores x 2^{block} keys do not fit 32-bit keys",
                           where="routing")
    mask = (FULL_MASK << block) & FULL_MASK
    keys = {c.id: ((c.id << block) & FULL_MASK, mask) for c in cores}
    return keys, neuron_bits


def delay_stages(result: PartitionResult) -> dict[int, tuple[int, ...]]:
    """Stages (>= 1) each delay core emits."""
    return {d: tuple(k for k in range(1, 64) if int(result.stage_mask[s]) >> k & 1)
            for s, d in sorted(result.delay_core.items())}


def build_tree(spec: HardwareSpec, root: tuple[int, int], chips: list[tuple[int, int]]):
    """Multicast tree: ``{chip: (arrival link or None, set of outgoing links)}``."""
    tree: dict[tuple[int, int], tuple[int | None, set[int]]] = {root: (None, set())}
    for target in chips:
        here = root
        while here != target:
            dx, dy = shortest_vector(spec, target[0] - here[0], target[1] - here[1])
            link = next_link(spec, dx, dy)
            there = step(spec, here, link)
            if there not in tree:
                tree[here][1].add(link)
                tree[there] = ((link + 3) % 6, set())
            here = there
    return tree


def _core_entries(spec, key, mask, root, targets, placement):
    """Raw entries (chip, key, mask, route, defaultable) of one sending core's tree."""
    by_chip: dict[tuple[int, int], int] = defaultdict(int)
    for core in targets:
        if core in placement.location:
            x, y, p = placement.location[core]
            by_chip[(x, y)] |= 1 << (PROCESSOR_BIT0 + p)
    tree = build_tree(spec, root, sorted(by_chip))
    for chip, (arrival, links) in tree.items():
        route = by_chip.get(chip, 0)
        for link in links:
            route |= 1 << link
        defaultable = arrival is not None and route == 1 << ((arrival + 3) % 6)
        yield chip, key, mask, route, defaultable


def _intersects(key: int, mask: int, keys: np.ndarray, masks: np.ndarray) -> bool:
    """Whether ternary entry (key, mask) overlaps any of (keys, masks)."""
    if keys.size == 0:
        return False
    return bool(np.any(((keys ^ np.uint32(key)) & masks & np.uint32(mask)) == 0))


def compress(entries: list[tuple[int, int, int]], passing: list[tuple[int, int]]):
    """Merge same-route entries whose blocks differ in one bit (see module docstring)."""
    by_route: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for key, mask, route in entries:
        by_route[route].add((key, mask))
    keys = np.array([e[0] for e in entries] + [k for k, _ in passing], dtype=np.uint32)
    masks = np.array([e[1] for e in entries] + [m for _, m in passing], dtype=np.uint32)
    routes = np.array([e[2] for e in entries] + [-1] * len(passing), dtype=np.int64)
    out = []
    for route, group in by_route.items():
        if len(group) > 1:
            foreign = routes != route
            group = _merge_group(group, keys[foreign], masks[foreign])
        out += [(k, m, route) for k, m in group]
    return sorted(out)


def _merge_group(group: set[tuple[int, int]], f_keys: np.ndarray, f_masks: np.ndarray):
    """Cover one route's entries with as few ternary entries as no foreign key allows.

    Each entry, lowest key first, is widened one cared-for mask bit at a time (low bits first)
    while the widened entry overlaps no key routed differently on this chip (nor one passing by
    default route); the entries it then covers are dropped. Keys that never reach this chip are
    don't-cares, so an entry may grow over them: that is what sPyNNaker's ordered covering
    exploits too, and why blocks of cores whose packets never meet here still merge.
    """
    remaining = sorted(group)
    merged: set[tuple[int, int]] = set()
    while remaining:
        key, mask = remaining.pop(0)
        for bit in range(32):
            b = 1 << bit
            if not mask & b:
                continue
            wider = (key & ~b & FULL_MASK, mask & ~b & FULL_MASK)
            if not _intersects(*wider, f_keys, f_masks):
                key, mask = wider
        merged.add((key, mask))
        remaining = [(k, m) for k, m in remaining if not _covers(key, mask, k, m)]
    return merged


def _covers(key: int, mask: int, inner_key: int, inner_mask: int) -> bool:
    """Whether ternary entry (key, mask) matches every key that (inner_key, inner_mask) does."""
    return (mask & ~inner_mask) == 0 and ((key ^ inner_key) & mask) == 0


def route(result: PartitionResult, placement: Placement, spec: HardwareSpec, *,
          compress_tables: bool = True) -> Routing:
    """Keys, multicast groups and (SpiNNaker) per-chip routing tables."""
    keys, neuron_bits = allocate_keys(result)
    targets = multicast_targets(result)
    tables: dict[tuple[int, int], RoutingTable] = {}
    raw_counts: dict[tuple[int, int], int] = {}
    if spec.family == "spinnaker":
        kept: dict[tuple[int, int], list] = defaultdict(list)
        passing: dict[tuple[int, int], list] = defaultdict(list)
        for core, wanted in targets.items():
            if core not in placement.location or not wanted:
                continue
            key, mask = keys[core]
            for chip, k, m, r, defaultable in _core_entries(
                    spec, key, mask, placement.chip(core), wanted, placement):
                raw_counts[chip] = raw_counts.get(chip, 0) + 1
                (passing[chip].append((k, m)) if defaultable else kept[chip].append((k, m, r)))
        for chip in sorted(set(kept) | set(passing)):
            entries = kept.get(chip, [])
            if compress_tables:
                entries = compress(entries, passing.get(chip, []))
            tables[chip] = RoutingTable(*(np.array(col, dtype=np.uint32) for col in (
                [e[0] for e in entries], [e[1] for e in entries], [e[2] for e in entries])))
    return Routing(keys=keys, tables=tables, neuron_bits=neuron_bits, targets=targets,
                   delay_stages=delay_stages(result), entries_raw=dict(sorted(raw_counts.items())))
