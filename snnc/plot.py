"""Plots of spike records: a raster, the population rate over time, the per-neuron rate histogram.

matplotlib is an optional extra (``pip install 'snnc[plot]'``); every entry point calls
``require_matplotlib()`` first, which raises a one-line ``SnncError`` when it is missing. Figures
are written atomically and reproducibly (no timestamp or version in the PNG metadata).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from snnc.backends.spikes import SpikeRecord
from snnc.ir.errors import NetworkError, SnncError
from snnc.ir.io import atomic_write

MISSING_MATPLOTLIB = ("plotting needs matplotlib: pip install 'snnc[plot]' "
                      "(or: pip install matplotlib)")

# Spikes drawn as dots up to this many; beyond it the raster is a 2-D histogram (readable and fast).
_MAX_DOTS = 200_000
# The raster's height in points (figure 6.5 in, 3 of 4.2 height units): a tick spans most of a row.
_RASTER_POINTS = 300.0


def tick_size(rows: int) -> float:
    """Marker area (points squared) of a raster tick: 80% of one neuron's row, 1.5 to 100."""
    return float(min(100.0, max(1.5, (0.8 * _RASTER_POINTS / max(rows, 1)) ** 2)))


def require_matplotlib() -> Any:
    """Import matplotlib with the non-interactive Agg backend, or raise a one-line SnncError."""
    try:
        import matplotlib
    except ImportError:
        raise SnncError(MISSING_MATPLOTLIB, where="plot") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, path: str | Path) -> None:
    """Write a figure as PNG atomically, without metadata that would change from run to run."""
    atomic_write(path, lambda handle: figure.savefig(handle, format="png", dpi=110,
                                                      metadata={"Software": None}), mode="wb")
    require_matplotlib().close(figure)


def _selected(record: SpikeRecord, populations: Sequence[str]) -> list[str]:
    names = list(populations) or list(record.spikes)
    for name in names:
        if name not in record.spikes:
            known = ", ".join(record.spikes) or "none"
            raise NetworkError(f"no population '{name}' in the spikes file (it has: {known})",
                               where="--population")
    return names


def population_sizes(record: SpikeRecord, sizes: dict[str, int] | None = None) -> dict[str, int]:
    """Neurons per population: given, or (a lower bound) the largest id that spiked plus one."""
    given = sizes or {}
    return {name: int(given.get(name, (ids.max() + 1) if ids.size else 1))
            for name, (_, ids) in record.spikes.items()}


def draw_raster(axis: Any, record: SpikeRecord, names: Sequence[str],
                sizes: dict[str, int]) -> None:
    """Populations stacked bottom-up, one colour each; time in ms on the x axis."""
    offset = 0
    size = tick_size(sum(sizes[name] for name in names))
    for index, name in enumerate(names):
        times, ids = record.spikes[name]
        colour = f"C{index % 10}"
        if times.size <= _MAX_DOTS:
            axis.scatter(times * record.dt, ids + offset, s=size, marker="|", color=colour,
                         linewidths=0.6 if size < 10 else 1.2, label=name, rasterized=True)
        else:
            axis.hist2d(times * record.dt, ids + offset, bins=(min(record.steps, 400), 200),
                        cmin=1, cmap="Greys")
        offset += sizes[name]
        if index < len(names) - 1:
            axis.axhline(offset - 0.5, color="0.7", linewidth=0.5)
    axis.set_xlim(-0.5 * record.dt, record.steps * record.dt)  # a spike at step 0 stays visible
    axis.set_ylim(-0.5, max(offset, 1) - 0.5)
    axis.set_ylabel("neuron")
    if len(names) > 1:  # legend ticks of area 24 points squared, whatever the raster tick size
        axis.legend(loc="upper right", fontsize="small", markerscale=(24.0 / size) ** 0.5,
                    frameon=True)


def population_rate(record: SpikeRecord, name: str, size: int,
                    bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean rate per neuron (Hz) over time bins: ``(bin_left_edges_ms, rates)``."""
    times, _ = record.spikes[name]
    counts, edges = np.histogram(times, bins=bins, range=(0, record.steps))
    width_s = (edges[1] - edges[0]) * record.dt / 1000.0
    return edges[:-1] * record.dt, counts / (size * width_s)


def neuron_rates(record: SpikeRecord, name: str, size: int) -> np.ndarray:
    """Firing rate of every neuron over the whole run (Hz)."""
    _, ids = record.spikes[name]
    return np.bincount(ids, minlength=size)[:size] / (record.steps * record.dt / 1000.0)


def raster_figure(record: SpikeRecord, populations: Sequence[str] = (),
                  sizes: dict[str, int] | None = None, title: str = "") -> Any:
    """Raster (top), population rate over time (bottom left), per-neuron rate histogram (right)."""
    plt = require_matplotlib()
    names = _selected(record, populations)
    all_sizes = population_sizes(record, sizes)
    figure = plt.figure(figsize=(10, 6.5))
    grid = figure.add_gridspec(2, 2, height_ratios=(3, 1.2), width_ratios=(4, 1.3))
    raster = figure.add_subplot(grid[0, :])
    draw_raster(raster, record, names, all_sizes)
    raster.set_title(title or f"{record.total:,} spikes, {record.steps} steps of {record.dt:g} ms")
    timeline = figure.add_subplot(grid[1, 0], sharex=raster)
    histogram = figure.add_subplot(grid[1, 1])
    bins = max(1, min(record.steps, 100))
    for index, name in enumerate(names):
        edges, rates = population_rate(record, name, all_sizes[name], bins)
        timeline.step(edges, rates, where="post", color=f"C{index % 10}", label=name)
        histogram.hist(neuron_rates(record, name, all_sizes[name]), bins=20,
                       color=f"C{index % 10}", alpha=0.6, label=name)
    timeline.set_xlabel("time (ms)")
    timeline.set_ylabel("rate (Hz)")
    histogram.set_xlabel("rate per neuron (Hz)")
    histogram.set_ylabel("neurons")
    figure.tight_layout()
    return figure


def plot_spikes(record: SpikeRecord, path: str | Path, populations: Sequence[str] = (),
                sizes: dict[str, int] | None = None, title: str = "") -> None:
    """Write ``raster_figure`` to ``path`` (PNG)."""
    save_figure(raster_figure(record, populations, sizes, title), path)
