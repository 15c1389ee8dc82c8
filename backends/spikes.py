"""What every backend returns: spikes (and optionally voltages) per population, and their file.

File format (DESIGN.md §6): for every population ``P`` with neurons, ``P.times`` and ``P.ids``
(int32; step and index within ``P``; sorted by time, then id), plus ``steps`` (int) and ``dt``
(float); recorded voltages as ``P.v`` (float64 or int64, shape steps x size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from snnc.ir.errors import NetworkError
from snnc.ir.io import atomic_write


@dataclass(frozen=True)
class SpikeRecord:
    """Spikes of one run: ``spikes[P] = (times, ids)`` sorted by time then id; ``voltages[P]``."""

    steps: int
    dt: float
    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    voltages: dict[str, np.ndarray] = field(default_factory=dict)

    @staticmethod
    def from_events(steps: int, dt: float, events: dict[str, tuple[np.ndarray, np.ndarray]],
                    voltages: dict[str, np.ndarray] | None = None) -> "SpikeRecord":
        """Build a record from unsorted (times, ids) per population; sorts and casts to int32."""
        spikes = {}
        for name, (times, ids) in events.items():
            times = np.asarray(times, dtype=np.int32)
            ids = np.asarray(ids, dtype=np.int32)
            order = np.lexsort((ids, times))
            spikes[name] = (times[order], ids[order])
        return SpikeRecord(steps, dt, spikes, dict(voltages or {}))

    @property
    def total(self) -> int:
        """Number of spikes over all populations."""
        return sum(int(times.size) for times, _ in self.spikes.values())

    def save(self, path: str | Path) -> None:
        """Write the NPZ atomically."""
        arrays: dict[str, np.ndarray] = {"steps": np.array(self.steps), "dt": np.array(self.dt)}
        for name, (times, ids) in self.spikes.items():
            arrays[f"{name}.times"] = times.astype(np.int32)
            arrays[f"{name}.ids"] = ids.astype(np.int32)
        for name, v in self.voltages.items():
            arrays[f"{name}.v"] = v
        atomic_write(path, lambda handle: np.savez(handle, **arrays), mode="wb")

    @staticmethod
    def load(path: str | Path) -> "SpikeRecord":
        """Read a spikes NPZ written by ``save`` (or any tool that follows the format)."""
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise NetworkError(f"cannot read spikes file: {exc}", file=str(path)) from None
        names = sorted({key.rsplit(".", 1)[0] for key in data.files if key.endswith(".times")})
        spikes = {n: (data[f"{n}.times"], data[f"{n}.ids"]) for n in names}
        voltages = {k[:-2]: data[k] for k in data.files if k.endswith(".v")}
        return SpikeRecord(int(data["steps"]), float(data["dt"]), spikes, voltages)


@dataclass(frozen=True)
class Divergence:
    """The first place two records differ."""

    population: str
    neuron: int
    step: int
    expected: bool  # did the reference spike there?
    got: bool

    def __str__(self) -> str:
        def word(spiked: bool) -> str:
            return "spike" if spiked else "no spike"

        return (f"first divergence: population '{self.population}', neuron {self.neuron}, "
                f"step {self.step}: expected {word(self.expected)}, got {word(self.got)}")


def first_divergence(expected: SpikeRecord, got: SpikeRecord,
                     populations: list[str] | None = None) -> Divergence | None:
    """The earliest (step, population order, neuron) where the two records differ, or None."""
    best: Divergence | None = None
    for name in populations or list(expected.spikes):
        a_t, a_i = expected.spikes.get(name, (np.zeros(0, np.int32),) * 2)
        b_t, b_i = got.spikes.get(name, (np.zeros(0, np.int32),) * 2)
        a = a_t.astype(np.int64) << 32 | a_i.astype(np.int64)
        b = b_t.astype(np.int64) << 32 | b_i.astype(np.int64)
        only = np.setxor1d(a, b, assume_unique=True)
        if only.size == 0:
            continue
        key = int(only.min())
        step, neuron = key >> 32, key & 0xFFFFFFFF
        if best is None or step < best.step:
            in_a = bool(np.isin(key, a))
            best = Divergence(name, neuron, step, expected=in_a, got=not in_a)
    return best
