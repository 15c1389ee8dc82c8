"""The per-core heat map and the raster's rate axes (docs/plots.md): which limit binds, which
panels exist, what their titles say, where cores sit, and what the rate plots leave out."""

from __future__ import annotations

import numpy as np

from snnc.backends.spikes import SpikeRecord
from snnc.compiler.hardware import load_hardware
from snnc.compiler.report import CoreEntry, ResourceReport
from snnc.plot import always_on, binding_limit, heatmap_figure, heatmap_limits, raster_figure


def _core(i: int, chip: tuple[int, int], processor: int, **use: float) -> CoreEntry:
    utilization = {"neurons": 0.0, "memory": 0.0, "fan_in": 0.0, "fan_out": 0.0} | use
    return CoreEntry(id=i, chip=list(chip), neurons=1, synapses=1, memory_bytes=1, fan_in=1,
                     fan_out=1, slices=[], kind="neuron", processor=processor,
                     utilization=utilization)


def _report(cores: list[CoreEntry], hardware: str) -> ResourceReport:
    # only what the heat map reads (routing, limits and totals are the text report's)
    return ResourceReport.model_construct(target="t", hardware=hardware, fits=True,
                                          strategy="greedy", limits={}, totals={}, cores=cores,
                                          violations=[])


def test_binding_limit_is_the_fullest_and_ties_go_to_the_first():
    keys = ["neurons", "memory", "fan_in"]
    assert binding_limit(_core(0, (0, 0), 0, neurons=0.04, memory=1.0), keys) == "memory"
    assert binding_limit(_core(0, (0, 0), 0, neurons=0.5, fan_in=0.5), keys) == "neurons"
    assert binding_limit(_core(0, (0, 0), 0), keys) == "neurons"  # all empty: the first


def test_panels_are_the_limits_the_hardware_sets():
    loihi, spinnaker = load_hardware("loihi2"), load_hardware("spinnaker1")
    report = _report([_core(0, (0, 0), 0)], "loihi2")
    # Loihi 2 sets neurons and memory per core, not fan-in/fan-out (snnc targets)
    expected_loihi = [(k, t) for k, t in (("neurons", "neurons"), ("memory", "synapse memory"),
                                          ("fan_in", "fan-in"), ("fan_out", "fan-out"))
                      if getattr(loihi, {"neurons": "neurons_per_core",
                                         "memory": "memory_bytes_per_core",
                                         "fan_in": "fan_in_per_core",
                                         "fan_out": "fan_out_per_core"}[k]) is not None]
    assert heatmap_limits(report, loihi) == expected_loihi
    with_load = _report([_core(0, (0, 0), 0, load=0.3)], "spinnaker1")
    assert ("load", "real-time load") in heatmap_limits(with_load, spinnaker)


def _titles(figure) -> list[str]:
    return [axis.get_title(loc="left") for axis in figure.axes if axis.get_title(loc="left")]


def test_one_chip_titles_count_the_binding_cores_and_axes_are_core_columns():
    spec = load_hardware("loihi2")
    cores = [_core(0, (0, 0), 0, neurons=0.04, memory=1.0),
             _core(1, (0, 0), 1, neurons=0.04, memory=0.97),
             _core(2, (0, 0), 2, neurons=0.9, memory=0.5)]
    figure = heatmap_figure(_report(cores, "loihi2"), spec)
    titles = _titles(figure)
    assert "neurons: max 90%, binding on 1 of 3 cores" in titles
    assert "synapse memory: max 100%, binding on 2 of 3 cores" in titles
    head = figure._suptitle.get_text().replace("\n", " ")
    assert f"t on loihi2: 3 cores on 1 of {len(spec.chips())} chips" in head
    assert "binding limit: neurons on 1, synapse memory on 2" in head
    panel = figure.axes[0]
    side = int(np.ceil(np.sqrt(spec.cores_per_chip)))
    rows = -(-spec.cores_per_chip // side)
    assert panel.get_xlim() == (0.0, float(side)) and panel.get_ylim() == (0.0, float(rows))
    assert "core" in panel.get_xlabel()  # not 'chip x' running 0..1
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_several_chips_are_laid_out_by_chip_coordinates():
    spec = load_hardware("spinnaker1")
    cores = [_core(0, (2, 2), 0, neurons=0.5), _core(1, (3, 2), 5, neurons=0.2),
             _core(2, (3, 3), 15, memory=0.7)]
    figure = heatmap_figure(_report(cores, "spinnaker1"), spec)
    panel = figure.axes[0]
    side = 4  # 16 processors per chip (in snnc's spinnaker1 spec): a 4 x 4 block each
    assert spec.cores_per_chip == 16
    assert panel.get_xlim() == (0.0, 2.0 * side) and panel.get_ylim() == (0.0, 2.0 * side)
    assert [t.get_text() for t in panel.get_xticklabels()] == ["2", "3"]
    assert panel.get_xlabel() == "chip x"
    assert "3 cores on 3 of 48 chips" in figure._suptitle.get_text()
    # core 1 on chip (3, 2), processor 5: column 4 + 5 % 4 = 5, row 0 + 5 // 4 = 1
    labels = {t.get_text(): t.get_position() for t in panel.texts}
    assert labels["1"] == (5.5, 1.5) and labels["2"] == (4 + 3 + 0.5, 4 + 3 + 0.5)
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_an_always_on_source_stays_off_the_rate_axes():
    steps = 40
    events = {"bias": (np.arange(steps), np.zeros(steps, int)),
              "hid": (np.array([3, 9, 20]), np.array([0, 1, 0]))}
    record = SpikeRecord.from_events(steps, 1.0, events)
    assert always_on(record, {"bias": 1, "hid": 2}) == ["bias"]
    assert always_on(record, {"bias": 2, "hid": 2}) == []  # a second, silent neuron: not constant
    figure = raster_figure(record, sizes={"bias": 1, "hid": 2})
    timeline = figure.axes[1]
    assert len(timeline.lines) == 1  # hid only
    rates = timeline.lines[0].get_ydata()
    assert max(rates) < 1000.0  # the bias's 1000 Hz is not on the axis
    legend = figure.axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["bias (every step; not in the rates)",
                                                        "hid"]
    # outside the data: the legend's left edge is right of the raster's right edge
    figure.canvas.draw()
    box = legend.get_window_extent()
    assert box.x0 >= figure.axes[0].get_window_extent().x1
    import matplotlib.pyplot as plt

    plt.close(figure)
