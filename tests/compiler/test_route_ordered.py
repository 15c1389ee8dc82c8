"""Ordered covering of router tables (compiler/mapping/route.py, step 3).

Expectations are independent of the compressor: a brute-force first-match scan of every key of a
small key space, the hand-computed two-route case, and the independent route checker
(compiler/mapping/check.py) pushing every packet of the compressed build and of the uncompressed
build through the tables.
"""

from __future__ import annotations

import numpy as np
import pytest
from mapping_factories import map_network, random_network

from snnc.backends.spinnaker_emu.router import first_match
from snnc.compiler.artifacts import Placement
from snnc.compiler.mapping.check import _packets, check_routes, deliver
from snnc.compiler.mapping.route import compress, compress_order_free, compress_ordered, route

BLOCK_BITS = 4
BLOCK = (0xFFFFFFFF << BLOCK_BITS) & 0xFFFFFFFF  # 16 keys per sending core
EAST, NORTH = 1 << 0, 1 << 2


def _first_route(table, key: int) -> int | None:
    """The route of the first entry matching ``key`` (a plain linear scan), None if none."""
    for k, m, r in table:
        if key & m == k:
            return r
    return None


def _random_chip(rng, slots: int = 64):
    """Blocks reaching one chip with a few routes, some passing by default, the rest never come."""
    chosen = rng.permutation(slots)[:int(rng.integers(2, slots))]
    routes = [int(r) for r in rng.choice([EAST, NORTH, EAST | NORTH, 1 << 6, 1 << 7, 1 << 8],
                                         size=int(rng.integers(2, 6)), replace=False)]
    kept, passing = [], []
    for slot in chosen.tolist():
        if rng.random() < 0.15:
            passing.append((slot << BLOCK_BITS, BLOCK))
        else:
            kept.append((slot << BLOCK_BITS, BLOCK, routes[int(rng.integers(len(routes)))]))
    return kept, passing


def _assert_table_routes_every_key(table, kept, passing):
    """Every key of every block: the first match gives its route; passing keys match nothing."""
    for key, _, wanted in kept:
        for i in range(1 << BLOCK_BITS):
            assert _first_route(table, key | i) == wanted, hex(key | i)
    for key, _ in passing:
        for i in range(1 << BLOCK_BITS):
            assert _first_route(table, key | i) is None, hex(key | i)


@pytest.mark.parametrize("seed", range(40))
def test_ordered_tables_route_every_key_and_never_grow(seed):
    kept, passing = _random_chip(np.random.default_rng(seed))
    ordered = compress_ordered(kept, passing)
    _assert_table_routes_every_key(ordered, kept, passing)
    chosen = compress(kept, passing)
    _assert_table_routes_every_key(chosen, kept, passing)
    assert len(chosen) <= len(compress_order_free(kept, passing))
    assert len(chosen) <= len({(k, m) for k, m, _ in kept})


def test_ordered_covering_beats_the_order_free_one_on_random_chips():
    sizes = [(len(compress(*_random_chip(np.random.default_rng(s)))),
              len(compress_order_free(*_random_chip(np.random.default_rng(s))))) for s in range(40)]
    assert sum(new for new, _ in sizes) < sum(old for _, old in sizes)
    assert any(new < old for new, old in sizes)


def test_an_exception_above_a_catch_all_entry():
    # blocks 0, 1, 2 go east, block 3 north, nothing else reaches the chip. Order-free: block 3
    # stays alone and 0-2 need two entries (0-1 and 2: a cube over 2 would take 3 in); ordered:
    # block 3 first, then one entry for everything (mask 0), which block 3's keys never reach.
    kept = [(0 << 4, BLOCK, EAST), (1 << 4, BLOCK, EAST), (2 << 4, BLOCK, EAST), (3 << 4, BLOCK, NORTH)]
    assert len(compress_order_free(kept, [])) == 3
    assert compress(kept, []) == [(3 << 4, BLOCK, NORTH), (0, 0, EAST)]
    # a key passing by default route is never covered: the catch-all shrinks around block 4
    table = compress(kept, [(4 << 4, BLOCK)])
    _assert_table_routes_every_key(table, kept, [(4 << 4, BLOCK)])


def test_the_emulator_and_the_checker_both_take_the_first_match():
    table = [(3 << 4, BLOCK, NORTH), (0, 0, EAST)]  # overlapping: order decides
    keys, masks, routes = (np.array(col, dtype=np.uint32) for col in zip(*table))
    packets = np.arange(0, 64, dtype=np.uint32)
    hits = first_match(keys, masks, packets)
    assert [int(routes[h]) for h in hits] == [_first_route(table, int(p)) for p in packets]
    assert int(routes[hits[0x35]]) == NORTH and int(routes[hits[0x05]]) == EAST


def _random_placement(parts, spec, seed):
    """Every core on a random free slot of the machine: random routes over the whole mesh."""
    rng = np.random.default_rng(seed)
    slots = [(x, y, p) for x, y in spec.chips() for p in range(spec.cores_per_chip)]
    picks = rng.choice(len(slots), size=len(parts.partitioning.cores), replace=False)
    return Placement({c.id: slots[int(i)] for c, i in zip(parts.partitioning.cores, picks)})


def _deliveries(parts, placement, routing, spec):
    """Cores each packet of each sending core reaches (with repeats), through the tables.

    A core with no targets sends nothing (the emulator's ``loader.sends``, as in sPyNNaker), so its
    keys are don't-cares; delay cores send one packet per (stage, neuron) (``check._packets``).
    """
    out = {}
    for core, wanted in routing.targets.items():
        if wanted and core in placement.location:
            for j, packet in enumerate(_packets(core, parts.partitioning, routing)):
                reached, problems = deliver(packet, placement.chip(core), routing, placement, spec)
                out[(core, j)] = (sorted(reached), problems)  # keys may differ: the j-th packet
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("placed", ["placer", "random"])
def test_compressed_tables_deliver_exactly_the_uncompressed_routes(seed, placed):
    net = random_network(seed, "spinnaker", max_delay=200, max_size=60)
    spec, graph, parts, placement, _ = map_network(net, "spinnaker1", "greedy", [3, 8][seed % 2])
    if placed == "random":
        placement = _random_placement(parts, spec, seed)
    compressed = route(parts, placement, spec)
    raw = route(parts, placement, spec, compress_tables=False)
    assert check_routes(net, parts.partitioning, placement, compressed, spec) == []
    assert check_routes(net, parts.partitioning, placement, raw, spec) == []
    delivered = _deliveries(parts, placement, compressed, spec)
    assert delivered == _deliveries(parts, placement, raw, spec)
    assert all(reached and not problems for reached, problems in delivered.values())
    for chip, table in compressed.tables.items():
        assert len(table) <= len(raw.tables[chip])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("placed", ["placer", "random"])
def test_route_tables_never_grow_against_the_previous_compressor(seed, placed, monkeypatch):
    import snnc.compiler.mapping.route as route_module

    net = random_network(seed, "spinnaker", max_delay=200, max_size=60)
    spec, graph, parts, placement, _ = map_network(net, "spinnaker1", "greedy", 3)
    if placed == "random":
        placement = _random_placement(parts, spec, 100 + seed)
    now = route(parts, placement, spec)
    # the previous compressor: order-free covering, keys laid out by group only
    monkeypatch.setattr(route_module, "compress", compress_order_free)
    monkeypatch.setattr(route_module, "_chip_major", lambda groups, placement: groups)
    before = route(parts, placement, spec)
    assert set(now.tables) == set(before.tables)
    sizes_now = [len(t) for t in now.tables.values()]
    sizes_before = [len(t) for t in before.tables.values()]
    assert max(sizes_now) <= max(sizes_before) and sum(sizes_now) <= sum(sizes_before)
    if now.keys == before.keys:  # same layout: no chip's table grows
        assert all(len(now.tables[c]) <= len(before.tables[c]) for c in now.tables)


def _overlapping_pairs(table) -> int:
    """Pairs of entries with different routes that some key matches both: order decides there."""
    keys, masks = table.keys.astype(np.int64), table.masks.astype(np.int64)
    same_route = table.routes[:, None] == table.routes[None, :]
    meet = ((keys[:, None] ^ keys[None, :]) & masks[:, None] & masks[None, :]) == 0
    return int(np.triu(meet & ~same_route, 1).sum())


def test_the_random_builds_do_rely_on_entry_order():
    # the delivery test above proves something about order only if some tables overlap
    pairs = 0
    for seed in range(6):
        net = random_network(seed, "spinnaker", max_delay=200, max_size=60)
        routing = map_network(net, "spinnaker1", "greedy", [3, 8][seed % 2])[4]
        pairs += sum(_overlapping_pairs(t) for t in routing.tables.values())
    assert pairs > 0
