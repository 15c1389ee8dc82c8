"""``snnc plot``: the numbers it plots, its PNG, and its one-line errors."""

import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from snnc.backends.spikes import SpikeRecord
from snnc.cli import cli
from snnc.plot import neuron_rates, population_rate, tick_size

ROOT = Path(__file__).resolve().parents[1]


def _record() -> SpikeRecord:
    # population a (4 neurons): neuron 0 fires at steps 0, 10, 20, 30; neuron 3 at step 5
    # population b: one neuron firing every step of the second half
    events = {"a": ([0, 10, 20, 30, 5], [0, 0, 0, 0, 3]),
              "b": (np.arange(50, 100), np.zeros(50, int))}
    return SpikeRecord.from_events(100, 0.5, events)


def test_rates_hand_computed():
    record = _record()
    # 100 steps of 0.5 ms = 50 ms: neuron 0 of a has 4 spikes -> 80 Hz, neuron 3 -> 20 Hz
    assert neuron_rates(record, "a", 4).tolist() == [80.0, 0.0, 0.0, 20.0]
    edges, rates = population_rate(record, "b", 1, bins=2)
    # two bins of 25 ms; b fires 50 times in the second: 2000 Hz
    assert edges.tolist() == [0.0, 25.0] and rates.tolist() == [0.0, 2000.0]


def test_tick_size_spans_most_of_a_row_within_bounds():
    # the raster is about 300 points tall; a tick is 80% of a row: (0.8 * 300 / rows) ** 2
    assert tick_size(30) == 64.0
    assert tick_size(1000) == 1.5  # 0.0576 would be invisible: the floor
    assert tick_size(1) == 100.0  # 57,600 would cover the figure: the ceiling


def test_plot_writes_the_same_png_twice(tmp_path):
    _record().save(tmp_path / "s.npz")
    runner = CliRunner()
    for name in ("one.png", "two.png"):
        result = runner.invoke(cli, ["plot", str(tmp_path / "s.npz"), "-o", str(tmp_path / name),
                                     "--population", "a", "--population", "b"])
        assert result.exit_code == 0, result.output
    one = (tmp_path / "one.png").read_bytes()
    assert one[:8] == b"\x89PNG\r\n\x1a\n" and len(one) > 5000
    assert one == (tmp_path / "two.png").read_bytes()


def test_unknown_population_is_one_line_exit_2(tmp_path):
    _record().save(tmp_path / "s.npz")
    result = CliRunner().invoke(cli, ["plot", str(tmp_path / "s.npz"),
                                      "-o", str(tmp_path / "x.png"),
                                      "--population", "zz"])
    assert result.exit_code == 2
    assert "no population 'zz' in the spikes file (it has: a, b)" in result.output
    assert not (tmp_path / "x.png").exists()


def test_missing_matplotlib_is_one_line_exit_2(tmp_path, monkeypatch):
    _record().save(tmp_path / "s.npz")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    result = CliRunner().invoke(cli, ["plot", str(tmp_path / "s.npz"),
                                      "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "plot: plotting needs matplotlib: pip install 'snnc[plot]' "
        "(or: pip install matplotlib)"]


def test_report_plot_heat_map_is_byte_identical_to_compile_plot(tmp_path):
    net = str(ROOT / "examples" / "spinnaker_delays" / "net.yaml")
    runner = CliRunner()
    for out in ("a", "b"):
        result = runner.invoke(cli, ["compile", net, "--target", "spinnaker-emu", "--plot",
                                     "-o", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    first = (tmp_path / "a" / "report.png").read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and len(first) > 5000
    assert first == (tmp_path / "b" / "report.png").read_bytes()
    (tmp_path / "a" / "report.png").unlink()
    result = runner.invoke(cli, ["report", str(tmp_path / "a"), "--plot"])
    assert result.exit_code == 0, result.output
    assert "delay" in result.stdout  # the table: this network needs delay-extension cores
    assert (tmp_path / "a" / "report.png").read_bytes() == first
