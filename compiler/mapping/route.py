"""Routing: keys per sending core, one shared multicast tree per group of cores, per-chip tables.

Groups (SpiNNaker): placed sending cores with the same multicast targets (``multicast_targets``;
typically the cores of one population) form one group, whatever chips they sit on.

Keys (``artifacts.py``): every core owns an aligned block of ``2**block_bits`` keys, ``base = slot
<< block_bits``, ``mask = 0xFFFFFFFF << block_bits``; ``block_bits`` fits the largest core's neurons
and the delay cores' stage bits. On SpiNNaker slots are laid out by group: the cores of one group on
one source chip take an aligned power-of-two run of slots, a group an aligned run over its runs
(buddy layout, largest first; unused slots are keys no core sends, don't-cares for compression), so
one (key, mask) can cover a source chip's cores or a whole group. Elsewhere ``slot = core_id``.
Two layouts are tried on SpiNNaker: by group, and by source chip (``_chip_major``: the groups of
one source chip as the sub-blocks of one aligned run); the second is kept only if its tables are
no larger in both the largest table and the total.

Trees: one tree per group over its source chips and target chips, built from a root source chip
(the one giving the fewest tree chips) along shortest paths (longest dimension first,
``mesh.next_link``); a path meeting a chip already in the tree continues from there, so it is a
tree. A group on one chip is rooted there: that is a plain shortest-path tree. The tree is used
undirected: a packet from source chip S leaves every chip on each tree link except the one it
arrived on, into branches that hold a target chip only. In a tree that reaches every target chip
exactly once and cannot loop, from any S; routers match the key only, so on one chip packets from
different source chips may need different routes (the chip's own packets, and those from each
child branch holding a source), but all packets from outside the chip's subtree share one route.

Tables (SpiNNaker only; Loihi cores address destination cores directly and ``tables`` is empty):

1. one entry per (sending core, chip its packets visit): route word = links out | processors of
   targets, as the flood from the core's chip gives (``entries_raw`` counts these);
2. default-route elision: an entry is dropped where the packet arrives on link L, leaves only on the
   opposite link and is delivered to no processor there (the router's default route does that;
   each core's packets reach a chip on one link only, so this holds per core);
3. compression, two ways, the smaller table kept (ties: the order-free one), so a table never
   grows against the order-free covering alone:

   * order-free covering: per route, each entry is widened bit by bit (``key & ~b``, ``mask & ~b``)
     as long as it covers no key routed differently on that chip (nor a key that passes through by
     default route); keys that never reach the chip are don't-cares, so blocks of unrelated cores
     can be swallowed. Entries never overlap a differently routed key, so any order is correct;
     such tables are sorted by (key, mask).
   * ordered covering (the idea of Mundy, Heathcote & Garside 2016, "On-chip order-exploiting
     routing table minimization for a multicast supercomputer network", PACMAN's
     ``router_compressors/ordered_covering_router_compressor``; snnc's own formulation): the
     router takes the FIRST matching entry, so an entry may also cover keys of routes placed
     ABOVE it, which never reach it. Routes are stacked one block of entries each; the entries of
     route ``r`` must avoid only the keys of the routes below ``r`` and the default-routed keys.
     A route whose covering shrinks most when freed (``|cover(r | all others)| - |cover(r |
     default-routed only)|``) goes lowest. Each route's covering expands every entry to a maximal
     cube in two bit orders (low bits first, high bits first) and keeps a greedy set cover of
     those cubes. Such tables are emitted in priority order (first match wins).
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


def _pow2(n: int) -> int:
    """The smallest power of two >= n (n >= 1)."""
    return 1 << _bits(n)


def allocate_keys(result: PartitionResult, groups: list[list[list[int]]] | None = None,
                  ) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """(base, mask) and neuron bits of every core (see module docstring).

    Without ``groups`` core ``c`` takes key slot ``c``. With ``groups`` (lists of sub-blocks, lists
    of core ids; every core in exactly one) each sub-block takes an aligned run of ``2**k`` slots
    and each group an aligned run covering its sub-blocks, so one (key, mask) can cover a sub-block
    or a group; if that padding would overflow 32-bit keys the same order is packed without it.
    """
    cores = result.partitioning.cores
    neuron_bits = {c.id: _bits(c.neurons) for c in cores}
    stage_bits = {d: _bits(int(result.stage_mask[s]).bit_length() - 1)
                  for s, d in result.delay_core.items()}
    block = max([neuron_bits[c] + stage_bits.get(c, 0) for c in neuron_bits] or [0])
    if len(cores) << block > FULL_MASK + 1:
        from snnc.ir import RoutingError

        raise RoutingError(f"{len(cores)} cores x 2^{block} keys do not fit 32-bit keys",
                           where="routing")
    slot = {c.id: c.id for c in cores} if groups is None else _aligned_slots(groups, block)
    mask = (FULL_MASK << block) & FULL_MASK
    keys = {c.id: ((slot[c.id] << block) & FULL_MASK, mask) for c in cores}
    return keys, neuron_bits


def _aligned_slots(groups: list[list[list[int]]], block: int) -> dict[int, int]:
    """Key slot of every core: sub-blocks and groups on power-of-two boundaries.

    Sizes are rounded up to powers of two and laid out largest first (sub-blocks inside a group,
    then groups), so every run starts on a multiple of its own size (buddy layout, no gaps).
    """
    laid = []
    for subs in groups:
        subs = sorted(subs, key=lambda sub: -_pow2(len(sub)))  # stable: keeps the caller's order
        laid.append((_pow2(sum(_pow2(len(sub)) for sub in subs)), subs))
    laid.sort(key=lambda item: -item[0])
    slot: dict[int, int] = {}
    if sum(size for size, _ in laid) << block > FULL_MASK + 1:  # padding does not fit: pack
        order = [c for _, subs in laid for sub in subs for c in sub]
        return {c: i for i, c in enumerate(order)}
    start = 0
    for size, subs in laid:
        at = start
        for sub in subs:
            for i, core in enumerate(sub):
                slot[core] = at + i
            at += _pow2(len(sub))
        start += size
    return slot


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


def _processors(targets, placement) -> dict[tuple[int, int], int]:
    """Route bits of the processors holding ``targets``, per chip."""
    by_chip: dict[tuple[int, int], int] = defaultdict(int)
    for core in targets:
        if core in placement.location:
            x, y, p = placement.location[core]
            by_chip[(x, y)] |= 1 << (PROCESSOR_BIT0 + p)
    return by_chip


def send_groups(targets: dict[int, tuple[int, ...]], placement: Placement):
    """Placed sending cores with the same multicast targets, split by source chip.

    ``[(targets, {chip: [core, ...]})]`` ordered by lowest core id; chips and cores sorted.
    """
    groups: dict[tuple[int, ...], dict[tuple[int, int], list[int]]] = {}
    for core, wanted in targets.items():
        if core in placement.location and wanted:
            groups.setdefault(wanted, defaultdict(list))[placement.chip(core)].append(core)
    return [(wanted, dict(sorted(chips.items()))) for wanted, chips in groups.items()]


def shared_tree(spec: HardwareSpec, sources: dict[tuple[int, int], list[int]],
                by_chip: dict[tuple[int, int], int]):
    """One tree over a group's source chips and target chips: ``(root, build_tree(...))``.

    Rooted at the source chip giving the fewest tree chips (ties: most of the group's cores, then
    the lowest chip); a group on one chip is rooted there, which is the per-core tree of before.
    """
    chips = sorted(set(sources) | set(by_chip))
    best = None
    for root, cores in sources.items():
        tree = build_tree(spec, root, chips)
        rank = (len(tree), -len(cores), root)
        if best is None or rank < best[0]:
            best = (rank, root, tree)
    assert best is not None  # sources is not empty
    return best[1], best[2]


def _flood_routes(links, useful, by_chip, source):
    """Route word and arrival link on every chip a packet from ``source`` visits on the tree.

    The tree is used undirected: the packet leaves each chip on every tree link except the one it
    came in on, and only into branches that hold a target chip (``useful``, from ``_useful``). In a
    tree that reaches every target chip exactly once and cannot loop. ``{chip: (arrival, route)}``.
    """
    out: dict[tuple[int, int], tuple[int | None, int]] = {}
    stack: list[tuple[tuple[int, int], int | None]] = [(source, None)]
    while stack:
        chip, arrival = stack.pop()
        route = by_chip.get(chip, 0)
        for link, there in links[chip].items():
            if link != arrival and useful[(chip, link)]:
                route |= 1 << link
                stack.append((there, (link + 3) % 6))
        out[chip] = (arrival, route)
    return out


def _tree_links(spec, tree):
    """``{chip: {link: neighbour}}`` of the tree's edges, both directions."""
    links: dict[tuple[int, int], dict[int, tuple[int, int]]] = {chip: {} for chip in tree}
    for chip, (_, children) in tree.items():
        for link in children:
            there = step(spec, chip, link)
            links[chip][link] = there
            links[there][(link + 3) % 6] = chip
    return links


def _useful(spec, root, tree, by_chip, links):
    """Whether the branch beyond each (chip, link) of the tree holds a target chip."""
    order, parent = [root], {root: None}
    for chip in order:  # breadth first from the root
        for link in tree[chip][1]:
            there = step(spec, chip, link)
            parent[there] = chip
            order.append(there)
    below = {chip: int(chip in by_chip) for chip in tree}  # target chips in each subtree
    for chip in reversed(order[1:]):
        below[parent[chip]] += below[chip]
    total = below[root]
    useful = {}
    for chip in tree:
        for link, there in links[chip].items():
            useful[(chip, link)] = (below[there] > 0 if parent.get(there) == chip
                                    else total - below[chip] > 0)
    return useful


def _intersects(key: int, mask: int, keys: np.ndarray, masks: np.ndarray) -> bool:
    """Whether ternary entry (key, mask) overlaps any of (keys, masks)."""
    if keys.size == 0:
        return False
    return bool(np.any(((keys ^ np.uint32(key)) & masks & np.uint32(mask)) == 0))


def compress(entries: list[tuple[int, int, int]], passing: list[tuple[int, int]]):
    """One chip's table in priority order (first match wins; module docstring, step 3): the
    smaller of the order-free and the ordered covering. ``entries`` are (key, mask, route) blocks
    that reach the chip and need that route; ``passing`` keys go by default route and must stay
    uncovered; every other key is a don't-care."""
    free = compress_order_free(entries, passing)
    if len({route for *_, route in entries}) < 2:
        return free  # one route: nothing for an order to exploit
    ordered = compress_ordered(entries, passing)
    return ordered if len(ordered) < len(free) else free


def compress_order_free(entries: list[tuple[int, int, int]], passing: list[tuple[int, int]]):
    """Each route's entries covered by as few as no foreign key allows; any order is correct
    (returned sorted by key, mask)."""
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


def compress_ordered(entries: list[tuple[int, int, int]], passing: list[tuple[int, int]]):
    """Ordered covering (module docstring, step 3): routes stacked, each route's entries covering
    keys of the routes above it; returned in priority order (first match wins)."""
    by_route: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for key, mask, route in entries:
        by_route[route].append((key, mask))
    blocks = {route: sorted(set(group)) for route, group in by_route.items()}
    order = _route_order(blocks, passing)
    table: list[tuple[int, int, int]] = []
    below = [block for route in order for block in blocks[route]]  # blocks of routes not placed
    forbidden_passing = list(passing)
    for route in order:
        below = below[len(blocks[route]):]  # order's blocks in sequence: drop this route's
        table += [(k, m, route) for k, m in _cover(blocks[route], forbidden_passing + below)]
    return table


def _route_order(blocks: dict[int, list[tuple[int, int]]], passing: list[tuple[int, int]]):
    """Routes top to bottom: those whose covering gains most from covering foreign keys go last.

    The gain of route ``r`` is ``|cover(r | every other route and passing)| - |cover(r | passing
    only)|``: at the bottom a route need avoid only the default-routed keys (ties: fewer blocks
    higher, then route word, so the order is deterministic).
    """
    gain = {}
    for route, group in blocks.items():
        others = [b for r, g in blocks.items() if r != route for b in g]
        gain[route] = (len(_cover(group, list(passing) + others)) - len(_cover(group, passing)),
                       len(group), route)
    return sorted(blocks, key=lambda route: gain[route])


def _expand(key: int, mask: int, f_keys: np.ndarray, f_masks: np.ndarray, bits) -> tuple[int, int]:
    """Widen (key, mask) one cared-for bit at a time, in ``bits`` order, while it overlaps no
    forbidden entry: a maximal cube (prime implicant) containing the starting block. ``bits`` need
    only name the bits some key sets (``_cover``): a bit no key sets never separates two keys."""
    for bit in bits:
        b = 1 << bit
        if mask & b:
            wider = (key & ~b & FULL_MASK, mask & ~b & FULL_MASK)
            if not _intersects(*wider, f_keys, f_masks):
                key, mask = wider
    return key, mask


_BIT_ORDERS = (tuple(range(32)), tuple(range(31, -1, -1)))


def _cover(group: list[tuple[int, int]], forbidden: list[tuple[int, int]]):
    """Few ternary entries matching every block of ``group`` and no ``forbidden`` key.

    Every block not already inside a cube of the same bit order is expanded to a maximal cube, in
    each bit order of ``_BIT_ORDERS``; a greedy set cover (most uncovered blocks first, ties:
    lowest cube) picks among those cubes. Sorted. Mask bits above every key's highest set bit are
    dropped at once: no key sets them, so dropping them overlaps nothing new.
    """
    group = sorted(set(group))
    if len(group) <= 1:
        return group
    f_keys = np.array([k for k, _ in forbidden], dtype=np.uint32)
    f_masks = np.array([m for _, m in forbidden], dtype=np.uint32)
    top = int(np.bitwise_or.reduce(f_keys)) if f_keys.size else 0
    for k, _ in group:
        top |= k
    high = (FULL_MASK << top.bit_length()) & FULL_MASK  # bits no key sets
    cubes_found: set[tuple[int, int]] = set()
    for bits in _BIT_ORDERS:
        bits = tuple(b for b in bits if b < top.bit_length())
        mine: list[tuple[int, int]] = []
        for k, m in group:
            if not any(_covers(ck, cm, k, m) for ck, cm in mine):
                mine.append(_expand(k, m & ~high, f_keys, f_masks, bits))
        cubes_found.update(mine)
    cubes = sorted(cubes_found)
    g_keys = np.array([k for k, _ in group], dtype=np.uint32)
    g_masks = np.array([m for _, m in group], dtype=np.uint32)
    covered = [np.flatnonzero((((g_keys ^ np.uint32(k)) & np.uint32(m)) == 0)
                              & ((np.uint32(m) & ~g_masks) == 0)) for k, m in cubes]
    left = np.ones(len(group), dtype=bool)
    chosen = []
    while left.any():
        counts = [int(left[c].sum()) for c in covered]
        best = int(np.argmax(counts))  # first maximum: the lowest cube
        chosen.append(cubes[best])
        left[covered[best]] = False
    return sorted(chosen)


def _covers(key: int, mask: int, inner_key: int, inner_mask: int) -> bool:
    """Whether ternary entry (key, mask) matches every key that (inner_key, inner_mask) does."""
    return (mask & ~inner_mask) == 0 and ((key ^ inner_key) & mask) == 0


def _chip_major(groups: list[list[list[int]]], placement: Placement) -> list[list[list[int]]]:
    """The key layout by source chip: groups of one source chip become the sub-blocks of one
    aligned run per chip, chips in order (groups over several chips stay groups, first).

    Packets from one chip often share a route on distant chips; with their keys in one aligned
    run one entry can take them all there.
    """
    per_chip: dict[tuple[int, int], list[list[int]]] = defaultdict(list)
    spread = []
    for group in groups:
        if len(group) == 1:
            per_chip[placement.chip(group[0][0])].append(group[0])
        else:
            spread.append(group)
    return spread + [subs for _, subs in sorted(per_chip.items())]


def _chip_entries(spec: HardwareSpec, plans, keys):
    """Per chip: entries (key, mask, route) to keep, keys passing by default route, raw count."""
    kept: dict[tuple[int, int], list] = defaultdict(list)
    passing: dict[tuple[int, int], list] = defaultdict(list)
    raw_counts: dict[tuple[int, int], int] = {}
    for sources, by_chip, root, tree, _ in plans:
        links = _tree_links(spec, tree)
        useful = _useful(spec, root, tree, by_chip, links)
        for source, cores in sources.items():
            for chip, (arrival, r) in _flood_routes(links, useful, by_chip, source).items():
                defaultable = arrival is not None and r == 1 << ((arrival + 3) % 6)
                for core in cores:
                    k, m = keys[core]
                    raw_counts[chip] = raw_counts.get(chip, 0) + 1
                    (passing[chip].append((k, m)) if defaultable else kept[chip].append((k, m, r)))
    return kept, passing, raw_counts


def route(result: PartitionResult, placement: Placement, spec: HardwareSpec, *,
          compress_tables: bool = True) -> Routing:
    """Keys, multicast groups and (SpiNNaker) per-chip routing tables."""
    targets = multicast_targets(result)
    tables: dict[tuple[int, int], RoutingTable] = {}
    raw_counts: dict[tuple[int, int], int] = {}
    if spec.family != "spinnaker":
        keys, neuron_bits = allocate_keys(result)
        return Routing(keys=keys, tables=tables, neuron_bits=neuron_bits, targets=targets,
                       delay_stages=delay_stages(result), entries_raw={})
    plans = []
    for wanted, sources in send_groups(targets, placement):
        by_chip = _processors(wanted, placement)
        root, tree = shared_tree(spec, sources, by_chip)
        rank = {chip: i for i, chip in enumerate(tree)}  # tree order: subtrees stay near
        plans.append((sources, by_chip, root, tree, sorted(sources, key=rank.__getitem__)))
    grouped = {c for sources, *_ in plans for cores in sources.values() for c in cores}
    alone = [[[c.id]] for c in result.partitioning.cores if c.id not in grouped]
    by_group = [[sources[chip] for chip in chips] for sources, _, _, _, chips in plans]
    layouts = [by_group] + ([_chip_major(by_group, placement)] if compress_tables else [])
    best = None
    for groups in layouts:
        keys, neuron_bits = allocate_keys(result, groups + alone)
        kept, passing, raw_counts = _chip_entries(spec, plans, keys)
        tables = {}
        for chip in sorted(set(kept) | set(passing)):
            entries = kept.get(chip, [])
            if compress_tables:
                entries = compress(entries, passing.get(chip, []))
            tables[chip] = RoutingTable(*(np.array(col, dtype=np.uint32) for col in (
                [e[0] for e in entries], [e[1] for e in entries], [e[2] for e in entries])))
        sizes = [len(t) for t in tables.values()] or [0]
        score = (max(sizes), sum(sizes))
        # a later layout only if no worse in both the largest table and the total, so neither
        # ever grows against the group layout (ties: the group layout)
        if best is None or (score != best[0] and all(a <= b for a, b in zip(score, best[0]))):
            best = (score, keys, neuron_bits, tables, raw_counts)
    assert best is not None
    _, keys, neuron_bits, tables, raw_counts = best
    return Routing(keys=keys, tables=tables, neuron_bits=neuron_bits, targets=targets,
                   delay_stages=delay_stages(result), entries_raw=dict(sorted(raw_counts.items())))
