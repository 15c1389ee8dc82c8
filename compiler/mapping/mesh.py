"""The chip mesh: links, shortest vectors and hop distances (hexagonal SpiNNaker, square Loihi).

SpiNNaker chips have six links E, NE, N, W, SW, S with vectors (+1,0), (+1,+1), (0,+1), (-1,0),
(-1,-1), (0,-1) (``artifacts.LINK_VECTORS``). The hop distance of a vector (dx, dy) is
``max(|dx|, |dy|)`` when both have the same sign (diagonal moves cover both) and ``|dx| + |dy|``
otherwise. A square mesh (Loihi) uses E, N, W, S only: distance ``|dx| + |dy|``. With ``wrap`` the
machine is a torus and the shortest of the wrapped vectors is taken.
"""

from __future__ import annotations

import numpy as np

from ..artifacts import LINK_VECTORS
from ..hardware import HardwareSpec

E, NE, N, W, SW, S = range(6)


def hex_hops(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Hops of vectors on the hexagonal mesh (vectorised)."""
    same = np.sign(dx) * np.sign(dy) >= 0
    return np.where(same, np.maximum(np.abs(dx), np.abs(dy)), np.abs(dx) + np.abs(dy))


def _candidates(spec: HardwareSpec, dx: np.ndarray, dy: np.ndarray):
    if not spec.wrap:
        return [(dx, dy)]
    w, h = spec.chips_x, spec.chips_y
    return [(dx + a * w, dy + b * h) for a in (-1, 0, 1) for b in (-1, 0, 1)]


def hops(spec: HardwareSpec, dx, dy) -> np.ndarray:
    """Shortest hop count of vectors (dx, dy) between chips on this machine."""
    dx, dy = np.asarray(dx), np.asarray(dy)
    measure = hex_hops if spec.topology == "hexagonal" else (lambda a, b: np.abs(a) + np.abs(b))
    return np.min([measure(a, b) for a, b in _candidates(spec, dx, dy)], axis=0)


def _scalar_hops(spec: HardwareSpec, dx: int, dy: int) -> int:
    if spec.topology == "hexagonal" and dx * dy >= 0:
        return max(abs(dx), abs(dy))
    return abs(dx) + abs(dy)


def shortest_vector(spec: HardwareSpec, dx: int, dy: int) -> tuple[int, int]:
    """The shortest (wrapped) vector from one chip to another (plain ints: called per hop)."""
    if not spec.wrap:
        return dx, dy
    w, h = spec.chips_x, spec.chips_y
    return min(((dx + a * w, dy + b * h) for a in (-1, 0, 1) for b in (-1, 0, 1)),
               key=lambda v: _scalar_hops(spec, v[0], v[1]))


def next_link(spec: HardwareSpec, dx: int, dy: int) -> int:
    """The first link of a shortest path along vector (dx, dy) != (0, 0), longest dimension first.

    Hexagonal: diagonal moves while both components share a sign, then along the remaining one.
    Square: along x first, then y (dimension order, as Loihi's mesh routes).
    """
    if spec.topology == "hexagonal" and dx * dy > 0:
        return NE if dx > 0 else SW
    if dx != 0 and (spec.topology != "hexagonal" or abs(dx) >= abs(dy) or dy == 0):
        return E if dx > 0 else W
    return N if dy > 0 else S


def step(spec: HardwareSpec, chip: tuple[int, int], link: int) -> tuple[int, int]:
    """The chip reached from ``chip`` through ``link`` (wrapped on a torus)."""
    x, y = chip[0] + LINK_VECTORS[link][0], chip[1] + LINK_VECTORS[link][1]
    if spec.wrap:
        x, y = x % spec.chips_x, y % spec.chips_y
    return x, y
