"""The mesh and the router walk alone: neighbours, board edges, wrap-around, loops."""

from __future__ import annotations

import numpy as np

from snnc.backends.spinnaker_emu.router import (LINK_NAMES, Mesh, Table, WalkLog, csr, mesh_of,
                                                walk)
from snnc.compiler.hardware import load_hardware

EAST, NORTH_EAST, WEST = 0, 1, 3


def test_spinn5_board_has_48_chips_and_no_wrap():
    mesh = mesh_of(load_hardware("spinnaker1"), set())
    assert len(mesh.chips) == 48
    assert mesh.neighbour((0, 0), WEST) is None  # board edge
    assert mesh.neighbour((4, 0), EAST) is None  # (5, 0) is not on a SpiNN-5 board
    assert mesh.neighbour((4, 0), NORTH_EAST) == (5, 1)


def test_wrap_around_torus():
    mesh = Mesh(tuple((x, y) for x in range(3) for y in range(2)), 3, 2, wrap=True)
    assert mesh.neighbour((2, 1), NORTH_EAST) == (0, 0)


def _table(*entries):
    return Table(*(np.array(c, dtype=np.uint32) for c in zip(*entries)))


def test_walk_follows_first_match_and_logs_every_hop():
    mesh = Mesh(((0, 0), (1, 0), (2, 0)), 3, 1)
    keys = np.array([0x10, 0x11, 0x20], dtype=np.uint32)
    tables = {
        # key 0x10/0x11 East; 0x20 matches the broader second entry: processor 1 here.
        (0, 0): _table((0x10, 0xFFFFFFF0, 1 << EAST), (0x00, 0xFFFFFF00, 1 << (6 + 1))),
        (2, 0): _table((0x10, 0xFFFFFFFF, 1 << (6 + 2))),  # only 0x10; 0x11 default -> off mesh
    }
    core_at = {(0, 0, 1): 7, (2, 0, 2): 9}
    log = WalkLog()
    walk(mesh, tables, core_at, (0, 0), keys, np.arange(3), log)
    delivered = csr(log.delivered, 3)
    assert [delivered[1][delivered[0][g]:delivered[0][g + 1]].tolist() for g in range(3)] == \
        [[9], [], [7]]
    routers = csr(log.routers, 3)
    assert np.diff(routers[0]).tolist() == [3, 3, 1]  # 0x10/0x11 visit (0,0), (1,0), (2,0)
    defaulted = csr(log.defaulted, 3)
    assert np.diff(defaulted[0]).tolist() == [1, 2, 0]  # (1,0) for both; (2,0) for 0x11
    dropped = csr(log.dropped, 3)
    assert np.diff(dropped[0]).tolist() == [0, 1, 0]  # 0x11 leaves (2,0) East: no chip there
    links = csr(log.links, 3)
    assert [LINK_NAMES[k % 6] for k in links[1][links[0][0]:links[0][1]]] == ["E", "E"]


def test_routing_loop_is_dropped_not_endless():
    mesh = Mesh(((0, 0), (1, 0)), 2, 1)
    tables = {(0, 0): _table((0, 0, 1 << EAST)), (1, 0): _table((0, 0, 1 << WEST))}
    log = WalkLog()
    walk(mesh, tables, {}, (0, 0), np.array([5], np.uint32), np.arange(1), log)
    dropped = csr(log.dropped, 1)
    assert dropped[1].size == 1 and log.delivered == []  # one drop, after the hop limit
    assert csr(log.routers, 1)[1].size > 4


def test_first_match_equals_a_linear_scan():
    from snnc.backends.spinnaker_emu.router import first_match

    rng = np.random.default_rng(5)
    masks = (np.uint32(0xFFFFFFFF) << rng.integers(0, 6, 60).astype(np.uint32)).astype(np.uint32)
    keys = (rng.integers(0, 64, 60).astype(np.uint32) & masks).astype(np.uint32)
    # 500 packets take the dense path, 40,000 the mask-group binary searches
    for count in (500, 40_000):
        packets = rng.integers(0, 256, count).astype(np.uint32)
        hits = (packets[:, None] & masks[None, :]) == keys[None, :]
        linear = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
        assert np.array_equal(first_match(keys, masks, packets), linear)
        assert (linear >= 0).any() and (linear < 0).any()
