"""Rate, latency and explicit spike encodings of one image row, side by side (snnc.encode).

    .venv/bin/python examples/encoders/run.py [-o encoders.png]

The row is the row of the first test digit of examples/digits_snn with the most distinct values
(8 pixels, values in [0, 1]).
Each encoding is printed as ``(times, ids)`` and plotted as a raster next to the pixel values:
- rate: Bernoulli spikes with probability ``pixel`` per step (snnTorch's ``spikegen.rate``);
- latency (linear): one spike at ``round((1 - pixel) * (steps - 1))``, brighter pixels first;
- latency (log): the RC charging time ``tau * ln(x / (x - 0.1))``, normalized to the window;
- explicit: any raster you build, here a burst code (``round(4 * pixel)`` spikes, every 2 steps).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from snnc import encode
from snnc.ir import SnncError
from snnc.plot import require_matplotlib, save_figure

HERE = Path(__file__).resolve().parent
STEPS = 20


def image_row() -> np.ndarray:
    """The row of the first test digit with the most distinct values (8 values in [0, 1])."""
    image = np.load(HERE.parent / "digits_snn" / "test_split.npz")["images"][0].astype(np.float64)
    return image[int(np.argmax([np.unique(row).size for row in image]))]


def burst_raster(row: np.ndarray, steps: int) -> np.ndarray:
    """(steps, pixels) raster: pixel i fires round(4 * x_i) spikes at steps 0, 2, 4, ..."""
    spikes = np.rint(4 * row).astype(int)
    raster = np.zeros((steps, row.size), dtype=bool)
    for_steps = np.arange(0, 8, 2)[:, None] < 2 * spikes[None, :]  # (4, pixels)
    raster[0:8:2] = for_steps
    return raster


def encodings(row: np.ndarray, steps: int = STEPS, seed: int = 0) -> dict[str, encode.Spikes]:
    return {
        "rate": encode.rate(row, steps, seed=seed),
        "latency (linear)": encode.latency(row, steps),
        "latency (log)": encode.latency(row, steps, method="log", threshold=0.1, normalize=True),
        "explicit (burst)": encode.explicit(burst_raster(row, steps)),
    }


def plot(row: np.ndarray, codes: dict[str, encode.Spikes], path: Path) -> None:
    plt = require_matplotlib()
    figure, axes = plt.subplots(1, len(codes) + 1, figsize=(14, 3.2), sharey=True,
                                gridspec_kw={"width_ratios": [1] + [2] * len(codes)})
    axes[0].barh(np.arange(row.size), row, color="0.3")
    axes[0].set_xlim(0, 1)
    axes[0].set_xlabel("pixel value")
    axes[0].set_ylabel("pixel (neuron id)")
    for axis, (name, spikes) in zip(axes[1:], codes.items()):
        axis.scatter(spikes.times, spikes.ids, marker="|", s=120, color="C0")
        axis.set_xlim(-0.5, spikes.steps - 0.5)
        axis.set_title(f"{name}: {spikes.times.size} spikes")
        axis.set_xlabel("step")
    axes[0].set_ylim(-0.5, row.size - 0.5)
    figure.tight_layout()
    save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(HERE / "encoders.png"))
    args = parser.parse_args(argv)
    row = image_row()
    print("pixels:", np.array2string(row, precision=3))
    codes = encodings(row)
    for name, spikes in codes.items():
        times, ids = spikes
        print(f"{name:<18} times {times.tolist()}\n{'':<18} ids   {ids.tolist()}")
    try:
        plot(row, codes, Path(args.output))
    except SnncError as error:  # matplotlib missing: the spikes above, then one line
        print(error, file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
