r"""Spike encoders: turn values (pixel intensities, features) into input spikes, like snnTorch's
``spikegen``.

Every encoder takes an array of any shape; its elements become neurons in C order (for a batch of
images of shape ``(B, H, W)`` the neuron of pixel ``(b, y, x)`` is ``(b * H + y) * W + x``), so a
batch encodes into one population that a block-diagonal copy of the network reads. Each returns a
:class:`Spikes`, which is both

- a pair of int32 arrays, ``times, ids = encode.rate(...)`` (sorted by time, then id: the format
  of a spikes file and of ``snnc run --input POP=FILE.npz``), and
- a ready source: ``net.source("inp", spikes.size, spikes.source())``.

Encoders are vectorised (no Python loop per neuron or spike) and deterministic: the same arguments
(and seed) give the same spikes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from snnc.ir.errors import NetworkError
from snnc.ir.sources import SpikeTimes

__all__ = ["Spikes", "rate", "latency", "explicit"]


@dataclass(frozen=True)
class Spikes:
    """Encoded spikes of ``size`` neurons over ``steps`` steps; iterates as ``(times, ids)``."""

    times: np.ndarray  # int32, step of each spike
    ids: np.ndarray  # int32, neuron (flat element index) of each spike
    size: int
    steps: int

    def __iter__(self) -> Iterator[np.ndarray]:
        yield self.times
        yield self.ids

    def source(self) -> SpikeTimes:
        """A ``spike_times`` source with these spikes (for ``Network.source``)."""
        return SpikeTimes(times=self.times.astype(np.int64), ids=self.ids.astype(np.int64))

    def raster(self) -> np.ndarray:
        """Dense boolean raster of shape ``(steps, size)``."""
        raster = np.zeros((self.steps, self.size), dtype=bool)
        raster[self.times, self.ids] = True
        return raster

    def counts(self) -> np.ndarray:
        """Spike count per neuron, shape ``(size,)``."""
        return np.bincount(self.ids, minlength=self.size)


def _values(values: np.typing.ArrayLike, where: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise NetworkError("values must be finite", where=where)
    return array


def _check_steps(steps: int, where: str) -> None:
    if int(steps) != steps or steps < 1:
        raise NetworkError(f"steps must be an integer >= 1, got {steps!r}", where=where)


def _from_raster(raster: np.ndarray) -> Spikes:
    """Spikes of a (steps, size) boolean raster (``np.nonzero`` is time-major, id-minor)."""
    times, ids = np.nonzero(raster)
    return Spikes(times.astype(np.int32), ids.astype(np.int32), raster.shape[1], raster.shape[0])


def rate(
    values: np.typing.ArrayLike,
    steps: int,
    *,
    max_rate_hz: float | None = None,
    dt: float = 1.0,
    seed: int = 0,
) -> Spikes:
    r"""Rate (Bernoulli/Poisson) code: at every step each neuron spikes independently with

    .. math::

        p = \mathrm{clip}(x, 0, 1) \cdot \frac{r_{max}\, dt}{1000}

    With ``max_rate_hz=None`` the value itself is the probability per step (``p = clip(x, 0, 1)``),
    which is snnTorch's ``spikegen.rate(x, num_steps)``. The count of a neuron over ``steps`` steps
    is binomial: mean ``steps * p``. ``p`` above 1 (a rate above one spike per step) is an error.
    """
    _check_steps(steps, "encode.rate.steps")
    probability = np.clip(_values(values, "encode.rate.values"), 0.0, 1.0)
    if max_rate_hz is not None:
        if max_rate_hz < 0 or max_rate_hz * dt / 1000.0 > 1.0:
            raise NetworkError(
                f"max_rate_hz * dt / 1000 must be in [0, 1], got {max_rate_hz * dt / 1000.0:g}",
                where="encode.rate.max_rate_hz",
            )
        probability = probability * (max_rate_hz * dt / 1000.0)
    rng = np.random.default_rng(seed)
    return _from_raster(rng.random((int(steps), probability.size)) < probability)


def latency(
    values: np.typing.ArrayLike,
    steps: int,
    *,
    method: str = "linear",
    threshold: float = 0.01,
    tau: float = 5.0,
    normalize: bool = False,
) -> Spikes:
    r"""Latency (time-to-first-spike) code: one spike per neuron, earlier for a larger value.

    Values are clipped to ``[0, 1]``; a value at or below ``threshold`` never spikes.

    - ``linear``: :math:`t = \mathrm{round}((1 - x)(steps - 1))` (1.0 spikes at step 0,
      ``threshold`` near the last step).
    - ``log``: the charging time of an RC circuit driven by ``x`` to reach ``threshold``,
      :math:`t = \lfloor \tau \ln\frac{x}{x - threshold} \rfloor` (snnTorch's default); with
      ``normalize`` the times are scaled so that the latest spike of these inputs lands on step
      ``steps - 1``. Spikes at ``t >= steps`` are dropped.

    Both are monotone: a larger value never spikes later.
    """
    _check_steps(steps, "encode.latency.steps")
    x = np.clip(_values(values, "encode.latency.values"), 0.0, 1.0)
    fires = x > threshold
    if method == "linear":
        times = np.rint((1.0 - x) * (steps - 1))
    elif method == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            times = tau * np.log(np.where(fires, x / (x - threshold), 1.0))
        if normalize and fires.any() and times[fires].max() > 0:
            times = times * ((steps - 1) / times[fires].max())
        times = np.floor(times)
    else:
        raise NetworkError(f"method must be 'linear' or 'log', got {method!r}",
                           where="encode.latency.method")
    keep = fires & (times < steps)
    ids = np.flatnonzero(keep)
    spike_times = times[keep].astype(np.int32)
    order = np.lexsort((ids, spike_times))
    return Spikes(spike_times[order], ids[order].astype(np.int32), x.size, int(steps))


def explicit(raster: np.typing.ArrayLike) -> Spikes:
    """Explicit code: a given spike raster of shape ``(steps, *shape)`` (nonzero = spike).

    The first axis is time; the rest are flattened into neurons in C order. This is how a recorded
    or hand-made pattern becomes a source (``Spikes.raster`` is its inverse).
    """
    array = np.asarray(raster)
    if array.ndim < 1 or array.shape[0] < 1:
        raise NetworkError("raster must have a time axis of length >= 1", where="encode.explicit")
    return _from_raster(array.reshape(array.shape[0], -1) != 0)
