"""Placement: cores -> (chip x, chip y, processor), keeping cores that talk to each other close.

Objective: total ``hops x traffic`` over all core-to-core links (traffic = estimated packets per step,
hops = shortest mesh distance between the two chips). Method, in two cheap steps:

1. Order the cores so that linked cores are near each other in the order: reverse Cuthill-McKee
   (``scipy.sparse.csgraph``) on the symmetric core link graph, a standard bandwidth-reducing
   ordering; each delay-extension core follows its source core.
2. Fill chips along a serpentine (boustrophedon) walk of the machine, in which consecutive chips are
   neighbours, ``cores_per_chip`` cores per chip. Processors are numbered from 0 on each chip.

Cores beyond the machine's capacity get no location; the report lists them (does not fit).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import reverse_cuthill_mckee

from ..artifacts import Placement
from ..hardware import HardwareSpec
from .mesh import hops
from .partition import PartitionResult


def serpentine(spec: HardwareSpec) -> list[tuple[int, int]]:
    """Usable chips, column by column, alternating up and down (consecutive chips are adjacent)."""
    chips = spec.chips()
    columns: dict[int, list[tuple[int, int]]] = {}
    for x, y in chips:
        columns.setdefault(x, []).append((x, y))
    walk: list[tuple[int, int]] = []
    for k, x in enumerate(sorted(columns)):
        column = sorted(columns[x], key=lambda c: c[1])
        walk += column if k % 2 == 0 else column[::-1]
    return walk


def core_links(result: PartitionResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed core-to-core links (src, dst, traffic weight), delay cores included."""
    src, dst = np.nonzero(result.pairs)
    bits = result.pairs[src, dst]
    weight = result.pair_traffic[src, dst].astype(np.float64)
    direct = (bits & 1) > 0
    s_list, d_list, w_list = [src[direct]], [dst[direct]], [weight[direct]]
    delayed = (bits & 2) > 0
    if delayed.any():
        via = np.array([result.delay_core[int(s)] for s in src[delayed]])
        s_list += [src[delayed], via]
        d_list += [via, dst[delayed]]
        w_list += [weight[delayed], weight[delayed]]
    return (np.concatenate(s_list).astype(np.int64), np.concatenate(d_list).astype(np.int64),
            np.concatenate(w_list))


def _order(result: PartitionResult) -> list[int]:
    """Cores in placement order: RCM over non-delay cores, each delay core after its source."""
    n = len(result.partitioning.cores)
    src, dst, _ = core_links(result)
    graph = coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n)).tocsr()
    graph = (graph + graph.T).tocsr()
    order = reverse_cuthill_mckee(graph, symmetric_mode=True)[::-1]
    kinds = [c.kind for c in result.partitioning.cores]
    out: list[int] = []
    for core in order.tolist():
        if kinds[core] == "delay":
            continue
        out.append(core)
        if core in result.delay_core:
            out.append(result.delay_core[core])
    return out


def place(result: PartitionResult, spec: HardwareSpec) -> Placement:
    """Place every core that fits on the machine (see module docstring)."""
    location: dict[int, tuple[int, int, int]] = {}
    slots = [(x, y, p) for x, y in serpentine(spec) for p in range(spec.cores_per_chip)]
    for core, slot in zip(_order(result), slots):
        location[core] = slot
    return Placement(dict(sorted(location.items())))


def hop_traffic(result: PartitionResult, placement: Placement, spec: HardwareSpec) -> float:
    """Sum over core links of traffic x hops (links to unplaced cores are skipped)."""
    src, dst, weight = core_links(result)
    if src.size == 0:
        return 0.0
    placed = np.array([s in placement.location and d in placement.location
                       for s, d in zip(src.tolist(), dst.tolist())], dtype=bool)
    if not placed.any():
        return 0.0
    xy = {c: loc[:2] for c, loc in placement.location.items()}
    a = np.array([xy[s] for s in src[placed].tolist()])
    b = np.array([xy[d] for d in dst[placed].tolist()])
    return float(np.sum(weight[placed] * hops(spec, b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])))
