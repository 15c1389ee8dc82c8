"""What every backend returns: spikes (and optionally voltages) per population, and their file.

File format (docs/numerics.md, ``snnc run -o``): for every population ``P`` with neurons,
``P.times`` and ``P.ids`` (int32; step and index within ``P``; sorted by time, then id), plus
``steps`` (int) and ``dt`` (float); recorded voltages as ``P.v`` (float64 or int64, shape steps x
size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from snnc.ir.errors import NetworkError
from snnc.ir.io import atomic_write


@dataclass(frozen=True)
class WeightRecord:
    """A plastic projection's synapses and weights (``--record-weights``): ``pre[k]``, ``post[k]``
    and ``weights[k]`` of synapse ``k`` (final); with an interval, ``history[j]`` are the weights
    at the end of step ``steps[j]``. Float64 in float numerics, the target's integers otherwise."""

    pre: np.ndarray
    post: np.ndarray
    weights: np.ndarray
    steps: np.ndarray | None = None
    history: np.ndarray | None = None

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """The NPZ members of projection ``name`` (docs/learning.md)."""
        out = {f"{name}.pre": self.pre.astype(np.int32), f"{name}.post": self.post.astype(np.int32),
               f"{name}.weights": self.weights}
        if self.steps is not None and self.history is not None:
            out[f"{name}.weight_steps"] = self.steps.astype(np.int32)
            out[f"{name}.weight_history"] = self.history
        return out


@dataclass(frozen=True)
class SpikeRecord:
    """Spikes of one run: ``spikes[P] = (times, ids)`` sorted by time then id; ``voltages[P]``."""

    steps: int
    dt: float
    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    voltages: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, WeightRecord] = field(default_factory=dict)
    """Recorded plastic projections by name (``--record-weights``)."""

    @staticmethod
    def from_events(steps: int, dt: float, events: dict[str, tuple[np.ndarray, np.ndarray]],
                    voltages: dict[str, np.ndarray] | None = None,
                    weights: dict[str, WeightRecord] | None = None) -> "SpikeRecord":
        """Build a record from unsorted (times, ids) per population; sorts and casts to int32."""
        spikes = {}
        for name, (times, ids) in events.items():
            times = np.asarray(times, dtype=np.int32)
            ids = np.asarray(ids, dtype=np.int32)
            order = np.lexsort((ids, times))
            spikes[name] = (times[order], ids[order])
        return SpikeRecord(steps, dt, spikes, dict(voltages or {}), dict(weights or {}))

    @property
    def total(self) -> int:
        """Number of spikes over all populations."""
        return sum(int(times.size) for times, _ in self.spikes.values())

    def save(self, path: str | Path, network: Any = None) -> None:
        """Write the NPZ atomically; a path ending in ``.nwb`` is an NWB file instead
        (``backends/nwb.py``: ``network`` gives its name and each population's size)."""
        if Path(path).suffix.lower() == ".nwb":
            self._save_nwb(path, network)
            return
        arrays: dict[str, np.ndarray] = {"steps": np.array(self.steps), "dt": np.array(self.dt)}
        for name, (times, ids) in self.spikes.items():
            arrays[f"{name}.times"] = times.astype(np.int32)
            arrays[f"{name}.ids"] = ids.astype(np.int32)
        for name, v in self.voltages.items():
            arrays[f"{name}.v"] = v
        for name, record in self.weights.items():
            arrays.update(record.arrays(name))
        atomic_write(path, lambda handle: np.savez(handle, **arrays), mode="wb")

    def _save_nwb(self, path: str | Path, network: Any) -> None:
        from .nwb import write_nwb

        if network is not None:
            sizes = {p.name: int(p.size) for p in network.populations.values()}
            name = network.name
        else:  # neurons after the last one that spiked are unknown without the network
            sizes = {n: int(ids.max()) + 1 if ids.size else 0 for n, (_, ids) in self.spikes.items()}
            name = "run"
        sizes = {n: sizes.get(n, 0) for n in self.spikes}
        atomic_write(path, lambda handle: write_nwb(self, handle, name, sizes), mode="wb")

    @staticmethod
    def load(path: str | Path) -> "SpikeRecord":
        """Read a spikes NPZ written by ``save`` (or any tool that follows the format); anything
        that does not follow it (a missing key, a wrong dtype or shape, an id or time out of
        range, a truncated archive) is one NetworkError line naming the key."""
        from snnc.ir.io import open_npz, read_member

        file = str(path)
        if not Path(path).is_file():
            reason = "is a directory" if Path(path).is_dir() else "no such file"
            raise NetworkError(f"cannot read spikes file: {reason}", file=file)
        with open_npz(Path(path), "spikes file", "", file=file) as data:
            for key in ("steps", "dt"):
                if key not in data.files:
                    raise NetworkError(f"not a spikes file: no '{key}' key", where=key, file=file)
            steps_array = read_member(data, "steps", "'steps'", "steps", kinds="iu", ndim=0,
                                      file=file)
            dt_array = read_member(data, "dt", "'dt'", "dt", kinds="iuf", ndim=0, file=file)
            steps, dt = int(steps_array), float(dt_array)
            if not 0 <= steps <= 2**31 - 1:
                raise NetworkError(f"must be 0..{2**31 - 1}, got {steps}", where="steps",
                                   file=file)
            if not (np.isfinite(dt) and dt > 0):
                raise NetworkError(f"must be a positive number, got {dt}", where="dt", file=file)
            names = sorted({key.rsplit(".", 1)[0] for key in data.files
                            if key.endswith(".times")})
            spikes = {}
            for name in names:
                if f"{name}.ids" not in data.files:
                    raise NetworkError(f"'{name}.times' has no '{name}.ids'",
                                       where=f"{name}.ids", file=file)
                times, ids = (read_member(data, f"{name}.{k}", f"'{name}.{k}'", f"{name}.{k}",
                                          kinds="iu", ndim=1, file=file) for k in ("times", "ids"))
                if times.shape != ids.shape:
                    raise NetworkError(f"{times.size} times but {ids.size} ids",
                                       where=f"{name}.ids", file=file)
                for key, array, high in (("times", times, max(steps - 1, 0)),
                                         ("ids", ids, 2**31 - 2)):
                    if array.size and (int(array.min()) < 0 or int(array.max()) > high):
                        bad = int(array.min()) if int(array.min()) < 0 else int(array.max())
                        raise NetworkError(f"value {bad} outside 0..{high}",
                                           where=f"{name}.{key}", file=file)
                spikes[name] = (times.astype(np.int32), ids.astype(np.int32))
            voltages = {}
            for key in data.files:
                if key.endswith(".v"):
                    v = read_member(data, key, f"'{key}'", key, kinds="iuf", ndim=2, file=file)
                    voltages[key[:-2]] = v
            weights = _weights(data, file)
        return SpikeRecord(steps, dt, spikes, voltages, weights)


def _weights(data, file: str) -> dict[str, WeightRecord]:
    """The recorded projections of a spikes NPZ (``P.pre``, ``P.post``, ``P.weights``...)."""
    from snnc.ir.io import read_member

    out = {}
    for key in data.files:
        if not key.endswith(".weights"):
            continue
        name = key[: -len(".weights")]
        members = {}
        for part, kinds, ndim in (("pre", "iu", 1), ("post", "iu", 1), ("weights", "iuf", 1),
                                  ("weight_steps", "iu", 1), ("weight_history", "iuf", 2)):
            member = f"{name}.{part}"
            if member in data.files:
                members[part] = read_member(data, member, f"'{member}'", member, kinds=kinds,
                                            ndim=ndim, file=file)
            elif part in ("pre", "post"):
                raise NetworkError(f"'{key}' has no '{member}'", where=member, file=file)
        sizes = {members[p].size for p in ("pre", "post", "weights")}
        if len(sizes) != 1:
            raise NetworkError("pre, post and weights differ in length", where=key, file=file)
        out[name] = WeightRecord(members["pre"], members["post"], members["weights"],
                                 members.get("weight_steps"), members.get("weight_history"))
    return out


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
