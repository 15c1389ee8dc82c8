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
from snnc.ir.text import counted

MISSING_MATPLOTLIB = ("plotting needs matplotlib: pip install 'snnc[plot]' "
                      "(or: pip install matplotlib)")

# Spikes drawn as dots up to this many; beyond it the raster is a 2-D histogram (readable and fast).
_MAX_DOTS = 200_000
# The raster's height in points (figure 6.5 in, 3 of 4.2 height units): a tick spans most of a row.
_RASTER_POINTS = 300.0


def tick_size(rows: int) -> float:
    """Marker area (points squared) of a raster tick: 80% of one neuron's row, 1.5 to 100."""
    return float(min(100.0, max(1.5, (0.8 * _RASTER_POINTS / max(rows, 1)) ** 2)))


def require_matplotlib(where: str = "plot") -> Any:
    """Import matplotlib with the non-interactive Agg backend, or raise a one-line SnncError."""
    try:
        import matplotlib
    except ImportError:
        raise SnncError(MISSING_MATPLOTLIB, where=where) from None
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


def always_on(record: SpikeRecord, sizes: dict[str, int]) -> list[str]:
    """Populations whose every neuron spikes at every step, such as the NIR importer's ``bias``
    pseudo-source (one spike per step carrying an Affine bias): a constant, not activity, so it
    is kept off the rate axes (its 1/dt rate would flatten every other curve)."""
    constant = []
    for name, (times, ids) in record.spikes.items():
        expected = record.steps * sizes.get(name, 0)
        if record.steps and expected and times.size == expected and \
                np.unique(times.astype(np.int64) * sizes[name] + ids).size == expected:
            constant.append(name)
    return constant


def draw_raster(axis: Any, record: SpikeRecord, names: Sequence[str],
                sizes: dict[str, int], constant: Sequence[str] = ()) -> None:
    """Populations stacked bottom-up, one colour each; time in ms on the x axis; the legend
    outside the data, on the right (``constant``: populations named as kept off the rates)."""
    offset = 0
    size = tick_size(sum(sizes[name] for name in names))
    for index, name in enumerate(names):
        times, ids = record.spikes[name]
        colour = f"C{index % 10}"
        if times.size <= _MAX_DOTS:
            label = f"{name} (every step; not in the rates)" if name in constant else name
            axis.scatter(times * record.dt, ids + offset, s=size, marker="|", color=colour,
                         linewidths=0.6 if size < 10 else 1.2, label=label, rasterized=True)
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
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                    fontsize="small", markerscale=(24.0 / size) ** 0.5, frameon=False,
                    title="population", title_fontsize="small")


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
                  sizes: dict[str, int] | None = None, title: str = "",
                  constant: Sequence[str] | None = None) -> Any:
    """Raster (top), population rate over time (bottom left), per-neuron rate histogram (right).
    ``constant``: populations left out of the two rate plots (default: ``always_on``)."""
    plt = require_matplotlib()
    names = _selected(record, populations)
    all_sizes = population_sizes(record, sizes)
    constant = always_on(record, all_sizes) if constant is None else list(constant)
    figure = plt.figure(figsize=(10, 6.5), layout="constrained")
    grid = figure.add_gridspec(2, 2, height_ratios=(3, 1.2), width_ratios=(4, 1.3))
    raster = figure.add_subplot(grid[0, :])
    draw_raster(raster, record, names, all_sizes, constant)
    raster.set_title(title or f"{record.total:,} spikes, {record.steps} steps of {record.dt:g} ms")
    timeline = figure.add_subplot(grid[1, 0], sharex=raster)
    histogram = figure.add_subplot(grid[1, 1])
    bins = max(1, min(record.steps, 100))
    for index, name in enumerate(names):
        if name in constant:
            continue
        edges, rates = population_rate(record, name, all_sizes[name], bins)
        timeline.step(edges, rates, where="post", color=f"C{index % 10}", label=name)
        histogram.hist(neuron_rates(record, name, all_sizes[name]), bins=20,
                       color=f"C{index % 10}", alpha=0.6, label=name)
    timeline.set_xlabel("time (ms)")
    timeline.set_ylabel("rate (Hz)")
    histogram.set_xlabel("rate per neuron (Hz)")
    histogram.set_ylabel("neurons")
    return figure


def plot_spikes(record: SpikeRecord, path: str | Path, populations: Sequence[str] = (),
                sizes: dict[str, int] | None = None, title: str = "",
                constant: Sequence[str] | None = None) -> None:
    """Write ``raster_figure`` to ``path`` (PNG)."""
    save_figure(raster_figure(record, populations, sizes, title, constant), path)


# ---- the per-core heat map of a build (snnc compile --plot, snnc report --plot) -------------

# The per-core limits a panel is drawn for: utilisation key, spec field (None: always there),
# panel title. A limit the hardware does not set (fan-out on Loihi) gets no panel.
HEATMAP_LIMITS = (
    ("neurons", "neurons_per_core", "neurons"),
    ("axons", "axons_per_core", "axons"),  # crossbar cores (TrueNorth)
    ("kernel_memory", "kernel_memory_per_core", "kernel memory"),  # conv cores (Speck)
    ("neuron_memory", "neuron_memory_per_core", "neuron memory"),
    ("memory", "memory_bytes_per_core", "synapse memory"),
    ("fan_in", "fan_in_per_core", "fan-in"),
    ("fan_out", "fan_out_per_core", "fan-out"),
    ("load", None, "real-time load"),
)
# limits a core model does not have, although its spec sets the field (compiler/hardware.py:
# conv and fixed cores count memory by their own rules; a conv core's neurons are its neuron memory)
_NOT_A_LIMIT = {"conv": ("neurons", "memory"), "fixed": ("memory",)}
# panel titles that say what the limit is on a core model
_TITLES = {("crossbar", "memory"): "crossbar synapses", ("fixed", "neurons"):
           "hidden + output neurons"}
# a single chip of more cores than this is drawn up to its last row in use
_CROP_CORES = 256
_BINDING_COLOUR = "#e8000b"  # the outline of a core whose binding limit a panel shows
_FREE_COLOUR, _NO_CORE_COLOUR = "0.82", "white"


def heatmap_limits(report: Any, spec: Any) -> list[tuple[str, str]]:
    """``(utilisation key, title)`` of each limit the hardware sets and the report measured."""
    measured = set().union(*(c.utilization for c in report.cores)) if report.cores else set()
    model = getattr(spec, "core_model", "synaptic")
    skipped = _NOT_A_LIMIT.get(model, ())
    return [(key, _TITLES.get((model, key), title)) for key, field, title in HEATMAP_LIMITS
            if key in measured and key not in skipped
            and (field is None or getattr(spec, field, None) is not None)]


def binding_limit(core: Any, keys: Sequence[str]) -> str:
    """The limit a core is fullest in (the first of equals, in ``HEATMAP_LIMITS`` order)."""
    return max(keys, key=lambda key: (core.utilization.get(key, 0.0), -keys.index(key)))


def layer_cores(report: Any, spec: Any) -> list[Any] | None:
    """On conv-layer chips (Speck), the cores with ``processor`` set to the chip core each layer
    was matched to (``totals.planning.layers``), so that a cell is that core and its memories;
    None where not every layer has one (then the cells are the layers in network order)."""
    if getattr(spec, "core_model", None) != "conv":
        return None
    layers = (report.totals.get("planning") or {}).get("layers") or {}
    moved = []
    for core in report.cores:
        name = max(core.slices, key=lambda s: s.stop - s.start).population if core.slices else None
        chip_core = (layers.get(name) or {}).get("core")
        if core.chip is None or chip_core is None:
            return None
        moved.append(core.model_copy(update={"processor": int(chip_core)}))
    return moved


def _core_cells(report: Any, spec: Any, cores: list[Any] | None = None) -> dict[str, Any]:
    """Cell coordinates of every placed core: each chip a ``side`` x ``side`` block of cells
    (processor ``p`` at column ``p % side``, row ``p // side``), chips in use only (their
    bounding box: a 1-chip build on a 48-chip board is not a sliver in one corner)."""
    side = int(np.ceil(np.sqrt(spec.cores_per_chip)))
    rows = -(-spec.cores_per_chip // side)  # a chip's rows of cells: 11 of 12 for 128 cores
    placed = [c for c in (report.cores if cores is None else cores) if c.chip is not None]
    xs = [c.chip[0] for c in placed] or [0]
    ys = [c.chip[1] for c in placed] or [0]
    x0, y0 = min(xs), min(ys)
    nx, ny = max(xs) - x0 + 1, max(ys) - y0 + 1
    cells = {c.id: ((c.chip[0] - x0) * side + (c.processor or 0) % side,
                    (c.chip[1] - y0) * rows + (c.processor or 0) // side) for c in placed}
    height = ny * rows
    if nx == ny == 1 and spec.cores_per_chip > _CROP_CORES:
        # one chip of many cores (TrueNorth's 4,096): the rows in use, not a sliver of 64 x 64
        height = min(rows, max(4, max((row for _col, row in cells.values()), default=0) + 1))
    return {"side": side, "rows": rows, "placed": placed, "x0": x0, "y0": y0, "nx": nx,
            "ny": ny, "cells": cells, "width": nx * side, "height": height}


def _text_colour(cmap: Any, value: float) -> str:
    """Black on light cells, white on dark ones (relative luminance of the cell's colour)."""
    red, green, blue, _ = cmap(value)
    return "black" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.45 else "white"


def _draw_limit_panel(axis: Any, layout: dict, key: str, title: str, keys: Sequence[str],
                      spec: Any, cmap: Any, label_size: float) -> Any:
    """One limit: every core coloured by its use of it; cores it binds outlined in red."""
    from matplotlib.patches import Rectangle

    side, rows = layout["side"], layout["rows"]
    width, height = layout["width"], layout["height"]
    grid = np.full((height, width), np.nan)
    real = np.zeros((height, width), bool)  # cells that are cores of a chip in view
    for cx in range(layout["nx"]):
        for cy in range(layout["ny"]):
            for p in range(min(spec.cores_per_chip, height * side)):
                real[cy * rows + p // side, cx * side + p % side] = True
    for core in layout["placed"]:
        col, row = layout["cells"][core.id]
        grid[row, col] = core.utilization.get(key, 0.0)
    axis.imshow(np.where(real, 0.0, 1.0), cmap=_two_colours(), vmin=0, vmax=1, origin="lower",
                extent=(0, width, 0, height), interpolation="nearest")
    image = axis.imshow(np.ma.masked_invalid(grid), origin="lower", cmap=cmap, vmin=0, vmax=1,
                        extent=(0, width, 0, height), interpolation="nearest")
    binding = [c for c in layout["placed"] if binding_limit(c, keys) == key]
    for core in binding:
        col, row = layout["cells"][core.id]
        axis.add_patch(Rectangle((col + 0.06, row + 0.06), 0.88, 0.88, fill=False,
                                 edgecolor=_BINDING_COLOUR, linewidth=1.6))
    if label_size:
        for core in layout["placed"]:
            col, row = layout["cells"][core.id]
            value = core.utilization.get(key, 0.0)
            axis.text(col + 0.5, row + 0.5, str(core.id), ha="center", va="center",
                      fontsize=label_size, color=_text_colour(cmap, value))
    peak = max((c.utilization.get(key, 0.0) for c in layout["placed"]), default=0.0)
    axis.set_title(f"{title}: max {100 * peak:.0f}%, binding on "
                   f"{len(binding)} of {counted(len(layout['placed']), 'core')}", fontsize=10,
                   loc="left")
    _chip_axes(axis, layout)
    return image


def _two_colours() -> Any:
    from matplotlib.colors import ListedColormap

    return ListedColormap([_FREE_COLOUR, _NO_CORE_COLOUR])


def _chip_axes(axis: Any, layout: dict) -> None:
    """Chip boundaries as black lines; ticks name chips (several) or core columns/rows (one)."""
    side, rows = layout["side"], layout["rows"]
    width, height = layout["width"], layout["height"]
    axis.set_xlim(0, width)
    axis.set_ylim(0, height)
    for x in range(0, width + 1, side):
        axis.axvline(x, color="black", linewidth=1.2)
    for y in range(0, height + 1, rows):
        axis.axhline(y, color="black", linewidth=1.2)
    axis.set_xticks(np.arange(width + 1), minor=True)
    axis.set_yticks(np.arange(height + 1), minor=True)
    axis.grid(which="minor", color="white", linewidth=0.4)
    axis.tick_params(which="minor", length=0)
    axis.tick_params(labelsize=9)
    if layout["nx"] == 1 and layout["ny"] == 1:
        step = max(1, side // 6)
        shown = min(rows, height)
        axis.set_xticks(np.arange(0, side, step) + 0.5, [str(i) for i in range(0, side, step)])
        axis.set_yticks(np.arange(0, shown, max(1, min(step, shown // 4))) + 0.5,
                        [str(i * side) for i in range(0, shown, max(1, min(step, shown // 4)))])
        cropped = f"; rows 0-{shown - 1} of {rows} shown" if shown < rows else ""
        axis.set_xlabel(f"core (processor) column, chip ({layout['x0']}, {layout['y0']})"
                        + cropped, fontsize=8)
        axis.set_ylabel("first core of row", fontsize=8)
    else:
        axis.set_xticks(np.arange(layout["nx"]) * side + side / 2,
                        [str(layout["x0"] + i) for i in range(layout["nx"])])
        axis.set_yticks(np.arange(layout["ny"]) * rows + rows / 2,
                        [str(layout["y0"] + i) for i in range(layout["ny"])])
        axis.set_xlabel("chip x", fontsize=8)
        axis.set_ylabel("chip y", fontsize=8)
    axis.set_aspect("equal")


def heatmap_figure(report: Any, spec: Any) -> Any:
    """One panel per per-core limit (neurons, synapse memory, fan-in, fan-out, real-time load:
    those the hardware sets), each core coloured by its use of that limit (0-100%), the cores
    for which that limit is the binding (fullest) one outlined in red; grey cells are free
    cores, white cells no core. Core ids are written where the cells are large enough."""
    import textwrap

    plt = require_matplotlib()
    matched = layer_cores(report, spec)
    layout = _core_cells(report, spec, matched)
    limits = heatmap_limits(report, spec) or [("neurons", "neurons")]
    keys = [key for key, _ in limits]
    wide = layout["width"] >= 1.6 * layout["height"]
    columns = 1 if wide else min(2, len(limits))
    rows = int(np.ceil(len(limits) / columns))
    panel_w = 9.6 / columns
    panel_h = min(panel_w * layout["height"] / layout["width"], 4.2) + 0.75
    figure = plt.figure(figsize=(10.4, rows * panel_h + 1.3), layout="constrained")
    grid = figure.add_gridspec(rows, columns)
    cell_in = panel_w * 0.85 / layout["width"]
    label_size = (0.0 if cell_in < 0.17 or len(layout["placed"]) > 400
                  else float(min(10.0, max(7.0, cell_in * 27))))
    cmap = plt.get_cmap("viridis")
    image = None
    axes = []
    for index, (key, title) in enumerate(limits):
        axis = figure.add_subplot(grid[index // columns, index % columns])
        image = _draw_limit_panel(axis, layout, key, title, keys, spec, cmap, label_size)
        axes.append(axis)
    unlimited = [title for key, field, title in HEATMAP_LIMITS  # of the limits every core has
                 if key in ("neurons", "memory", "fan_in", "fan_out")
                 and key not in _NOT_A_LIMIT.get(getattr(spec, "core_model", ""), ())
                 and getattr(spec, field or "", None) is None]
    counts = {key: sum(1 for c in layout["placed"] if binding_limit(c, keys) == key)
              for key in keys}
    binds = ", ".join(f"{title} on {counts[key]}" for key, title in limits if counts[key])
    used = len({tuple(c.chip) for c in layout["placed"]})
    chips = len(spec.chips())
    head = (f"{report.target} on {report.hardware}: {counted(len(layout['placed']), 'core')} on "
            + ("1 chip" if chips == 1 else f"{used} of {chips} chips")
            + f"; binding limit: {binds or 'none'}")
    cells = ("; a cell is the chip core each layer was matched to, labelled with the report's "
             "core id" if matched is not None else "")
    note = ("colour: use of each limit per core; red outline: that core's binding limit; "
            "grey: free core; white: no core" + cells
            + (f"; not limited on this hardware: {', '.join(unlimited)}" if unlimited else ""))
    figure.suptitle("\n".join(textwrap.wrap(head, 110) + textwrap.wrap(note, 120)),
                    fontsize=10.5)
    figure.colorbar(image, ax=axes, label="use of the limit (0 = empty, 1 = full)",
                    shrink=0.9 if rows > 1 else 1.0, location="right" if not wide else "bottom",
                    aspect=30)
    return figure


def plot_heatmap(report: Any, spec: Any, path: str | Path) -> None:
    """Write ``heatmap_figure`` to ``path`` (PNG, reproducible bytes)."""
    save_figure(heatmap_figure(report, spec), path)
