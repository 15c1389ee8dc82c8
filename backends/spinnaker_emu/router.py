"""The chips' multicast routers: the mesh, table lookup, and the walk of every key through them.

A router compares a packet's key with its table's entries in order; the FIRST entry with
``key & mask == entry_key`` gives the route word: bits 0..5 send a copy on links E, NE, N, W, SW, S
(chip vectors (+1,0), (+1,+1), (0,+1), (-1,0), (-1,-1), (0,-1)), bit ``6 + p`` delivers a copy to
processor ``p`` of the chip. A packet that matches nothing is default-routed straight on (it
arrived on link L, it leaves on (L + 3) mod 6), or dropped if it came from a core of this chip.
A copy sent on a link to a chip the machine does not have is dropped too, and so is a copy that
has made more hops than any route needs (a routing loop).

Routing is deterministic, so the walk is done once per key before the run, through the real tables,
and yields for every key: the cores it reaches (with multiplicity) and the routers, links,
default routes and drops on its way. The tick loop then only counts and delivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

N_LINKS = 6
LINK_NAMES = ("E", "NE", "N", "W", "SW", "S")
LINK_VECTORS = ((1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1))
PROCESSOR_BIT0 = 6
FROM_CORE = -1
DENSE_MATCH_CELLS = 1 << 20  # "arrival link" of a packet that a core of this chip sent

# The 48 chips of a SpiNN-5 board in its 8 x 8 footprint: x range of each row y (spinn_machine).
SPINN5_ROWS = ((0, 4), (0, 5), (0, 6), (0, 7), (1, 7), (2, 7), (3, 7), (4, 7))


@dataclass(frozen=True)
class Mesh:
    """The chips of the machine and their links (hexagonal, optionally wrapping)."""

    chips: tuple[tuple[int, int], ...]
    width: int
    height: int
    wrap: bool = False
    index: dict[tuple[int, int], int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.index.update({chip: i for i, chip in enumerate(self.chips)})

    def neighbour(self, chip: tuple[int, int], link: int) -> tuple[int, int] | None:
        """The chip at the other end of ``link``, or None if there is none."""
        dx, dy = LINK_VECTORS[link]
        x, y = chip[0] + dx, chip[1] + dy
        if self.wrap:
            x, y = x % self.width, y % self.height
        return (x, y) if (x, y) in self.index else None


def mesh_of(hardware: Any, used: set[tuple[int, int]]) -> Mesh:
    """The mesh a hardware spec describes (chips_x x chips_y, SpiNN-5 layout, wrap if it says so).

    Chips that hold cores or tables are always included, so a hand-made build still runs.
    """
    width = int(getattr(hardware, "chips_x", 0) or 0)
    height = int(getattr(hardware, "chips_y", 0) or 0)
    if callable(getattr(hardware, "chips", None)):
        chips = {(int(x), int(y)) for x, y in hardware.chips()}
    elif getattr(hardware, "chip_layout", None) == "spinn5":
        chips = {(x, y) for y, (lo, hi) in enumerate(SPINN5_ROWS) for x in range(lo, hi + 1)}
    else:
        chips = {(x, y) for x in range(width) for y in range(height)}
    chips |= used
    width = max(width, 1 + max(x for x, _ in chips))
    height = max(height, 1 + max(y for _, y in chips))
    wrap = bool(getattr(hardware, "wrap", False) or getattr(hardware, "torus", False))
    return Mesh(tuple(sorted(chips)), width, height, wrap)


@dataclass(frozen=True)
class Table:
    """One router's table as uint32 arrays (ordered, first match wins)."""

    keys: np.ndarray
    masks: np.ndarray
    routes: np.ndarray
    groups: tuple = field(default=(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", mask_groups(self.keys, self.masks))

    def first_match(self, packets: np.ndarray) -> np.ndarray:
        """Index of the first entry each packet matches, -1 where none does."""
        return first_match(self.keys, self.masks, packets, self.groups)


def mask_groups(keys: np.ndarray, masks: np.ndarray) -> tuple:
    """Entries grouped by mask: (mask, entry indices sorted by key, their sorted keys) each."""
    groups = []
    for mask in np.unique(masks):
        group = np.flatnonzero(masks == mask)
        order = group[np.argsort(keys[group], kind="stable")]  # equal keys: lowest index first
        groups.append((mask, order, keys[order]))
    return tuple(groups)


def first_match(keys: np.ndarray, masks: np.ndarray, packets: np.ndarray,
                groups: tuple | None = None) -> np.ndarray:
    """For each packet, the lowest ``i`` with ``packet & masks[i] == keys[i]`` (-1 if none).

    Entries are grouped by mask (a table has few distinct masks); within a group the matching
    key is found by binary search, so the cost is O(packets x masks x log entries), not
    O(packets x entries).
    """
    groups = groups if groups is not None else mask_groups(keys, masks)
    if len(groups) > 4 and packets.size * keys.size <= DENSE_MATCH_CELLS:
        # many masks (a compressed table) and few packets: one comparison matrix is cheaper
        hits = (packets[:, None] & masks[None, :]) == keys[None, :]
        first = hits.argmax(axis=1).astype(np.int64)
        first[~hits.any(axis=1)] = -1
        return first
    best = np.full(packets.size, -1, dtype=np.int64)
    for mask, order, sorted_keys in groups:
        wanted = packets & mask
        pos = np.minimum(np.searchsorted(sorted_keys, wanted), order.size - 1)
        hit = sorted_keys[pos] == wanted
        candidate = order[pos]
        better = hit & ((best < 0) | (candidate < best))
        best[better] = candidate[better]
    return best


@dataclass
class WalkLog:
    """What the walk saw, as (packet index, thing) pairs; ``csr`` turns each into per-packet lists."""

    delivered: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # core id
    routers: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # chip index
    links: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # chip*6 + link
    defaulted: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # chip index
    dropped: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # chip index


def _log(pairs: list, packets: np.ndarray, value: int | np.ndarray) -> None:
    pairs.append((packets, np.broadcast_to(np.asarray(value, dtype=np.int64), packets.shape)))


def walk(mesh: Mesh, tables: dict[tuple[int, int], Table], core_at: dict[tuple[int, int, int], int],
         start: tuple[int, int], keys: np.ndarray, ids: np.ndarray, log: WalkLog) -> None:
    """Route packets ``keys`` (global ids ``ids``) sent by a core of chip ``start``; fill ``log``.

    Packets that share a route travel together, so the work is per (chip, route), not per packet.
    """
    max_hops = 2 * (mesh.width + mesh.height) + 8
    empty = Table(*(np.zeros(0, np.uint32),) * 3)
    stack = [(start, FROM_CORE, np.arange(keys.size), 0)]
    while stack:
        chip, arrived_on, members, hops = stack.pop()
        chip_id = mesh.index[chip]
        _log(log.routers, ids[members], chip_id)
        table = tables.get(chip, empty)
        entry = table.first_match(keys[members])
        routes = np.where(entry >= 0, table.routes[np.maximum(entry, 0)] if table.keys.size
                          else 0, 0).astype(np.int64)
        unmatched = entry < 0
        if arrived_on == FROM_CORE:
            _log(log.dropped, ids[members[unmatched]], chip_id)
        else:
            _log(log.defaulted, ids[members[unmatched]], chip_id)
            routes[unmatched] = 1 << ((arrived_on + 3) % N_LINKS)
        keep = routes != 0
        for route in np.unique(routes[keep]):
            group = members[keep & (routes == route)]
            _follow(mesh, chip, int(route), group, ids, hops, max_hops, core_at, stack, log)


def _follow(mesh: Mesh, chip: tuple[int, int], route: int, group: np.ndarray, ids: np.ndarray,
            hops: int, max_hops: int, core_at: dict, stack: list, log: WalkLog) -> None:
    """Copy ``group`` onto every link and processor of ``route``."""
    chip_id = mesh.index[chip]
    for link in range(N_LINKS):
        if not route >> link & 1:
            continue
        nxt = mesh.neighbour(chip, link)
        if nxt is None or hops + 1 > max_hops:
            _log(log.dropped, ids[group], chip_id)
            continue
        _log(log.links, ids[group], chip_id * N_LINKS + link)
        stack.append((nxt, (link + 3) % N_LINKS, group, hops + 1))
    processors = route >> PROCESSOR_BIT0
    p = 0
    while processors:
        if processors & 1:
            core = core_at.get((chip[0], chip[1], p))
            if core is None:
                _log(log.dropped, ids[group], chip_id)
            else:
                _log(log.delivered, ids[group], core)
        processors >>= 1
        p += 1


def csr(pairs: list[tuple[np.ndarray, np.ndarray]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-packet lists from (packet, value) pairs: ``values[ptr[g]:ptr[g+1]]``, values sorted."""
    if pairs:
        packets = np.concatenate([p for p, _ in pairs]).astype(np.int64)
        values = np.concatenate([v for _, v in pairs]).astype(np.int64)
    else:
        packets = values = np.zeros(0, np.int64)
    order = np.argsort(packets << 32 | values, kind="stable")  # by packet, then value
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(packets, minlength=n), out=ptr[1:])
    return ptr, values[order]
