"""examples/encoders: each code carries the row's intensities as it claims; the figure exists."""

import sys

import numpy as np
from example_loader import load_example

encoders = load_example("encoders")


def test_codes_follow_the_pixel_values(tmp_path):
    row = encoders.image_row()
    assert row.shape == (8,) and np.unique(row).size >= 5
    codes = encoders.encodings(row, steps=200, seed=3)
    # rate: counts track intensity (Bernoulli(x) per step: within 5 sigma of 200 x)
    counts = codes["rate"].counts()
    assert np.all(np.abs(counts - 200 * row) <= 5 * np.sqrt(200 * row * (1 - row)) + 1e-9)
    # latency: one spike per lit pixel, brighter first; dark pixels silent
    for name, threshold in (("latency (linear)", 0.01), ("latency (log)", 0.1)):
        spikes = codes[name]
        lit = np.flatnonzero(row > threshold)
        assert sorted(spikes.ids.tolist()) == lit.tolist()
        first = dict(zip(spikes.ids.tolist(), spikes.times.tolist()))
        by_brightness = sorted(lit, key=lambda i: -row[i])
        assert all(first[a] <= first[b] for a, b in zip(by_brightness, by_brightness[1:]))
    # linear latency, closed form: pixel x spikes once at round((1 - x) * (steps - 1))
    linear = codes["latency (linear)"]
    lit = np.flatnonzero(row > 0.01)
    expected = {int(i): int(np.rint((1 - row[i]) * 199)) for i in lit}
    assert dict(zip(linear.ids.tolist(), linear.times.tolist())) == expected
    # explicit burst: round(4 x) spikes per pixel
    assert codes["explicit (burst)"].counts().tolist() == np.rint(4 * row).astype(int).tolist()


def test_main_writes_the_figure(tmp_path, capsys):
    assert encoders.main(["-o", str(tmp_path / "e.png")]) == 0
    assert (tmp_path / "e.png").read_bytes()[:4] == b"\x89PNG"
    assert "latency (linear)" in capsys.readouterr().out


def test_main_without_matplotlib_prints_codes_then_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert encoders.main(["-o", str(tmp_path / "e.png")]) == 2
    out, err = capsys.readouterr()
    assert "latency (linear)" in out
    assert err.strip().splitlines() == [
        "plot: plotting needs matplotlib: pip install 'snnc[plot]' "
        "(or: pip install matplotlib)"]
    assert not (tmp_path / "e.png").exists()
