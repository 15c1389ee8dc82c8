"""Spike sources: populations whose spikes are given, not simulated.

A source spike emitted at step ``t`` obeys the same rule as a neuron's: through a projection of delay
``d`` it is part of the target's input at step ``t + d``.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, model_validator

from .values import Array, RangeChecked, Seed, _Frozen, freeze

MAX_INDEX = 2**31 - 1  # spike times (steps) and ids are int32 in every backend and file


class SpikeTimes(_Frozen):
    """Explicit spikes: ``times[k]`` (step) and ``ids[k]`` (neuron index) of each spike."""

    kind: Literal["spike_times"] = "spike_times"
    times: Array = Field(default_factory=lambda: freeze(np.zeros(0, dtype=np.int64)))
    ids: Array = Field(default_factory=lambda: freeze(np.zeros(0, dtype=np.int64)))

    @model_validator(mode="after")
    def _check(self) -> "SpikeTimes":
        if self.times.shape != self.ids.shape:
            raise ValueError(
                f"times and ids must have the same length, got {self.times.size} and {self.ids.size}"
            )
        for name, array in (("times", self.times), ("ids", self.ids)):
            if array.size and (array.dtype.kind not in "iu" and not np.all(array == np.round(array))):
                raise ValueError(f"{name} must be integers")
            if array.size and array.min() < 0:
                raise ValueError(f"{name} must be >= 0, got {array.min():g}")
            if array.size and array.max() > MAX_INDEX:
                raise ValueError(f"{name} must be <= {MAX_INDEX} (int32), got {array.max():g}")
        return self


class Poisson(_Frozen):
    """Independent Bernoulli spikes per neuron and step with probability ``rate_hz * dt / 1000``.

    The spikes depend only on ``seed``, the population size and the step count (and each step's
    spikes only on the steps before it: a longer run starts with the same spikes).
    """

    kind: Literal["poisson"] = "poisson"
    rate_hz: RangeChecked(ge=0)  # type: ignore[valid-type]
    seed: Seed = 0


Source = Annotated[Union[SpikeTimes, Poisson], Field(discriminator="kind")]
SOURCE_KINDS: dict[str, type[_Frozen]] = {"spike_times": SpikeTimes, "poisson": Poisson}

_POISSON_CHUNK_CELLS = 1 << 24  # draw at most this many uniforms at once (128 MiB of float64)


def poisson_spikes(source: Poisson, size: int, steps: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Draw a Poisson source's spikes: (times, ids) int32 arrays sorted by time then id.

    Draws row by row from one generator, so chunking does not change the result.
    """
    rng = np.random.default_rng(source.seed)
    probability = np.broadcast_to(np.asarray(source.rate_hz, dtype=np.float64) * dt / 1000.0, (size,))
    rows_per_chunk = max(1, _POISSON_CHUNK_CELLS // max(size, 1))
    times, ids = [], []
    for start in range(0, steps, rows_per_chunk):
        rows = min(rows_per_chunk, steps - start)
        fired = rng.random((rows, size)) < probability
        t, i = np.nonzero(fired)
        times.append((t + start).astype(np.int32))
        ids.append(i.astype(np.int32))
    if not times:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    return np.concatenate(times), np.concatenate(ids)


def source_spikes(
    source: SpikeTimes | Poisson, size: int, steps: int, dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """All spikes of a source in steps ``0..steps-1``: (times, ids) int32, sorted by time then id."""
    if isinstance(source, Poisson):
        return poisson_spikes(source, size, steps, dt)
    keep = source.times < steps
    times = source.times[keep].astype(np.int32)
    ids = source.ids[keep].astype(np.int32)
    order = np.lexsort((ids, times))
    return times[order], ids[order]
