"""examples/encoders: each code carries the row's intensities as it claims; the figure exists."""

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
    # explicit burst: round(4 x) spikes per pixel
    assert codes["explicit (burst)"].counts().tolist() == np.rint(4 * row).astype(int).tolist()


def test_main_writes_the_figure(tmp_path, capsys):
    assert encoders.main(["-o", str(tmp_path / "e.png")]) == 0
    assert (tmp_path / "e.png").read_bytes()[:4] == b"\x89PNG"
    assert "latency (linear)" in capsys.readouterr().out
