"""Placement: cores -> (chip x, chip y, processor), keeping cores that talk to each other close.

Objective: total ``hops x traffic`` over all core-to-core links (traffic = estimated packets per step,
hops = shortest mesh distance between the two chips). Method:

1. Order the cores so that linked cores are near each other in the order: reverse Cuthill-McKee
   (``scipy.sparse.csgraph``) on the symmetric core link graph, a standard bandwidth-reducing
   ordering; each delay-extension core follows its source core.
2. Fill chips along a serpentine (boustrophedon) walk of the machine, in which consecutive chips are
   neighbours, ``cores_per_chip`` cores per chip.
3. Refine by simulated annealing on the traffic-weighted objective itself (RCM sees only which
   cores are linked, not how much they send): moves swap two cores of different chips or move a
   core to a free slot, accepted by the Metropolis rule under a geometric cooling schedule; the best
   assignment seen is kept, so the result is never worse than step 2's. The number of moves is a
   fixed function of the size (``ANNEAL_MOVES_PER_CORE``, at most ``ANNEAL_MAX_MOVES``) and the
   random stream is seeded, so the same input gives the same placement. Processors are numbered
   from 0 on each chip in core order.

``hop_traffic_bound`` is a lower bound of the objective for the report: each core, alone, could at
best have its heaviest partners on its own chip, the next ones on the adjacent chips, and so on.

Cores beyond the machine's capacity get no location; the report lists them (does not fit).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import reverse_cuthill_mckee

from snnc.models.jit import njit

from ..artifacts import Placement
from ..hardware import HardwareSpec
from .mesh import hops
from .partition import PartitionResult

ANNEAL_MOVES_PER_CORE = 4000
ANNEAL_MAX_MOVES = 4_000_000
ANNEAL_MAX_CHIPS = 4096  # a chip-distance matrix above this is too big: RCM + serpentine only
ANNEAL_SEED = 12345


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
    chips = serpentine(spec)
    order = _order(result)
    chip_of = np.full(len(result.partitioning.cores), -1, np.int64)
    for k, core in enumerate(order[:len(chips) * spec.cores_per_chip]):
        chip_of[core] = k // spec.cores_per_chip
    if 1 < len(chips) <= ANNEAL_MAX_CHIPS:
        chip_of = _refined(result, spec, chips, chip_of)
    location: dict[int, tuple[int, int, int]] = {}
    used = np.zeros(len(chips), np.int64)
    for core in range(chip_of.size):  # processors in core order on each chip
        if chip_of[core] >= 0:
            x, y = chips[chip_of[core]]
            location[core] = (x, y, int(used[chip_of[core]]))
            used[chip_of[core]] += 1
    return Placement(dict(sorted(location.items())))


def _undirected(result: PartitionResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Core adjacency (CSR ptr, neighbour, weight) with both directions' traffic summed."""
    n = len(result.partitioning.cores)
    src, dst, weight = core_links(result)
    keep = src != dst
    matrix = coo_matrix((weight[keep], (src[keep], dst[keep])), shape=(n, n)).tocsr()
    matrix = (matrix + matrix.T).tocsr()
    matrix.sum_duplicates()
    return (matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64),
            matrix.data.astype(np.float64))


def _chip_distances(spec: HardwareSpec, chips: list[tuple[int, int]]) -> np.ndarray:
    xy = np.array(chips, dtype=np.int64)
    return hops(spec, xy[None, :, 0] - xy[:, None, 0],
                xy[None, :, 1] - xy[:, None, 1]).astype(np.float64)


def _refined(result: PartitionResult, spec: HardwareSpec, chips: list[tuple[int, int]],
             chip_of: np.ndarray) -> np.ndarray:
    ptr, nbr, weight = _undirected(result)
    placed = np.flatnonzero(chip_of >= 0)
    if placed.size < 2 or weight.size == 0:
        return chip_of
    moves = int(min(ANNEAL_MAX_MOVES, ANNEAL_MOVES_PER_CORE * placed.size))
    return _anneal(chip_of.copy(), placed, ptr, nbr, weight, _chip_distances(spec, chips),
                   spec.cores_per_chip, moves, ANNEAL_SEED)


@njit(cache=True)
def _cost(core, here, chip_of, ptr, nbr, weight, dist, other, there):  # pragma: no cover
    """Traffic x hops of ``core``'s links with ``core`` on chip ``here`` and ``other`` on
    ``there`` (the link between the two is left out: a swap keeps its length)."""
    total = 0.0
    for j in range(ptr[core], ptr[core + 1]):
        m = nbr[j]
        if m == other:
            continue
        c = chip_of[m]
        if c >= 0:
            total += weight[j] * dist[here, c]
    return total


@njit(cache=True)
def _anneal(chip_of, placed, ptr, nbr, weight, dist, per_chip, moves,
            seed):  # pragma: no cover - numba
    """Simulated annealing over (core -> chip) with ``per_chip`` slots per chip; best kept."""
    np.random.seed(seed)
    n_chips = dist.shape[0]
    slots = np.full(n_chips * per_chip, -1, np.int64)
    fill = np.zeros(n_chips, np.int64)
    for core in placed:
        c = chip_of[core]
        slots[c * per_chip + fill[c]] = core
        fill[c] += 1
    slot_of = np.full(chip_of.size, -1, np.int64)
    for s in range(slots.size):
        if slots[s] >= 0:
            slot_of[slots[s]] = s
    current = 0.0
    for core in placed:
        current += 0.5 * _cost(core, chip_of[core], chip_of, ptr, nbr, weight, dist, -1, -1)
    best = current
    best_chip = chip_of.copy()
    mean = current / max(1, placed.size)
    temperature = max(mean, 1e-12)
    cooling = (1e-4) ** (1.0 / max(moves, 1))  # T falls to 1e-4 of the start
    for _ in range(moves):
        a = placed[np.random.randint(placed.size)]
        sb = np.random.randint(slots.size)
        ca, cb = chip_of[a], sb // per_chip
        if ca == cb:
            temperature *= cooling
            continue
        b = slots[sb]
        delta = (_cost(a, cb, chip_of, ptr, nbr, weight, dist, b, ca)
                 - _cost(a, ca, chip_of, ptr, nbr, weight, dist, b, cb))
        if b >= 0:
            delta += (_cost(b, ca, chip_of, ptr, nbr, weight, dist, a, cb)
                      - _cost(b, cb, chip_of, ptr, nbr, weight, dist, a, ca))
        if delta <= 0 or np.random.random() < np.exp(-delta / temperature):
            sa = slot_of[a]
            slots[sa], slots[sb] = b, a
            slot_of[a] = sb
            chip_of[a] = cb
            if b >= 0:
                slot_of[b] = sa
                chip_of[b] = ca
            current += delta
            if current < best - 1e-9:
                best = current
                for k in range(chip_of.size):  # a loop: an array slice assignment compiles a
                    best_chip[k] = chip_of[k]  # formatted shape-check error (a first run's time)
        temperature *= cooling
    return best_chip


def hop_traffic_bound(result: PartitionResult, spec: HardwareSpec) -> float:
    """A lower bound of ``hop_traffic`` (module docstring): per core, its link weights sorted
    heaviest first at the smallest distances the machine allows, halved (a link has two ends)."""
    ptr, _nbr, weight = _undirected(result)
    if weight.size == 0:
        return 0.0
    chips = serpentine(spec)
    if len(chips) > ANNEAL_MAX_CHIPS:
        return 0.0
    dist = _chip_distances(spec, chips)
    # the k-th nearest slot of any chip is at least near[k] away (the element-wise minimum of
    # every chip's sorted slot distances; a core's own chip has cores_per_chip - 1 other slots)
    near = np.repeat(np.sort(dist, axis=1).min(axis=0), spec.cores_per_chip)[1:]
    total = 0.0
    for core in range(ptr.size - 1):
        w = np.sort(weight[ptr[core]:ptr[core + 1]])[::-1]
        far = np.full(max(0, w.size - near.size), near[-1] if near.size else 0.0)
        total += float(np.sum(w * np.concatenate([near, far])[:w.size]))
    return 0.5 * total


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
