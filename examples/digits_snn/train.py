"""Train a small spiking conv net on scikit-learn's 8x8 digits with snnTorch and write it as NIR.

Runs in its own environment (PyTorch does not install into the project's Python 3.10); README.md:

    python3.11 -m venv examples/digits_snn/.venv-train
    examples/digits_snn/.venv-train/bin/pip install torch==2.13.0 snntorch nir scikit-learn
    examples/digits_snn/.venv-train/bin/python examples/digits_snn/train.py

Writes, next to this file:
- ``digits_snn.nir``: Input(1,8,8) -> Conv2d(1->8, 3x3) -> LIF -> Flatten -> Affine(288->10) -> LIF
  -> Output, built directly with the ``nir`` package from the trained tensors (snnTorch's own
  exporter fails with nir 1.0.8), with snnTorch's discretization written out: ``Leaky(beta)`` is
  forward Euler with ``dt = 1 ms``, ``tau = dt / (1 - beta)`` and ``r = tau / dt`` (so that
  ``r * dt / tau = 1``).
- ``test_split.npz``: the held-out test images (pixel values in [0, 1]) and labels, and the
  accuracy snnTorch measured on them (``snntorch_accuracy``), with the encoding used.

Input encoding: rate code, ``spike = U[0,1) < pixel`` per step, from
``numpy.random.default_rng(seed)`` drawing a ``(steps, images * 64)`` array at once: exactly
what ``snnc.encode.rate(images, steps, seed=seed)`` draws, so snnc's evaluation feeds the network
the very same spikes.
"""

from __future__ import annotations

import json
from pathlib import Path

import nir
import numpy as np
import snntorch as snn
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

HERE = Path(__file__).resolve().parent
STEPS = 20  # time steps per image
BETA = 0.75  # membrane decay per step: Loihi dv = 4096 * (1 - beta) = 1024 exactly
THRESHOLD = 1.0
CHANNELS = 8
DT_S = 1e-3  # the discretization step the trained model assumes (seconds, NIR's unit)
TEST_SEED = 1234  # encoding seed of the test split (stored in test_split.npz)


def rate_encode(images: np.ndarray, steps: int, seed: int) -> np.ndarray:
    """(steps, n, 64) spikes, the same draw as ``snnc.encode.rate(images, steps, seed=seed)``."""
    flat = images.reshape(-1)
    spikes = np.random.default_rng(seed).random((steps, flat.size)) < flat
    return spikes.reshape(steps, images.shape[0], 1, 8, 8).astype(np.float32)


class Net(nn.Module):
    """Conv2d(1->8, 3x3, no padding) -> Leaky -> Linear(288->10) -> Leaky; no biases."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, CHANNELS, 3, bias=False)
        self.lif1 = snn.Leaky(beta=BETA, threshold=THRESHOLD, reset_mechanism="zero")
        self.fc = nn.Linear(CHANNELS * 6 * 6, 10, bias=False)
        self.lif2 = snn.Leaky(beta=BETA, threshold=THRESHOLD, reset_mechanism="zero")

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        """spikes (steps, batch, 1, 8, 8) -> output spikes (steps, batch, 10)."""
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        out = []
        for x in spikes:
            s1, mem1 = self.lif1(self.conv(x), mem1)
            s2, mem2 = self.lif2(self.fc(s1.flatten(1)), mem2)
            out.append(s2)
        return torch.stack(out)


def accuracy(model: Net, images: np.ndarray, labels: np.ndarray, seed: int) -> float:
    """Argmax of output spike counts (ties: the lowest class, as np.argmax), as snnc evaluates."""
    with torch.no_grad():
        counts = model(torch.from_numpy(rate_encode(images, STEPS, seed))).sum(0).numpy()
    return float((counts.argmax(1) == labels).mean())


def train(model: Net, images: np.ndarray, labels: np.ndarray, epochs: int = 40) -> None:
    """Cross-entropy on spike counts, Adam; fresh encoding every epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=4e-3)
    target = torch.from_numpy(labels).long()
    order_rng = np.random.default_rng(0)
    for epoch in range(epochs):
        spikes = torch.from_numpy(rate_encode(images, STEPS, seed=10_000 + epoch))
        for batch in np.array_split(order_rng.permutation(len(images)), len(images) // 64):
            counts = model(spikes[:, batch]).sum(0)
            loss = nn.functional.cross_entropy(counts, target[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch % 10 == 9:
            print(f"epoch {epoch + 1}: loss {loss.item():.3f}, "
                  f"train accuracy {accuracy(model, images, labels, 99):.3f}")


def to_nir(model: Net) -> nir.NIRGraph:
    """The trained network as NIR, with snnTorch's forward-Euler discretization made explicit."""
    tau = DT_S / (1.0 - BETA)
    conv_w = model.conv.weight.detach().numpy().astype(np.float64)
    fc_w = model.fc.weight.detach().numpy().astype(np.float64)

    def lif(shape: tuple[int, ...]) -> nir.LIF:
        return nir.LIF(tau=np.full(shape, tau), r=np.full(shape, tau / DT_S),
                       v_leak=np.zeros(shape), v_threshold=np.full(shape, THRESHOLD),
                       v_reset=np.zeros(shape))

    nodes = {
        "input": nir.Input(input_type={"input": np.array([1, 8, 8])}),
        "conv": nir.Conv2d(input_shape=(8, 8), weight=conv_w, stride=1, padding=0, dilation=1,
                           groups=1, bias=np.zeros(CHANNELS)),
        "lif1": lif((CHANNELS, 6, 6)),
        "flatten": nir.Flatten(input_type={"input": np.array([CHANNELS, 6, 6])}, start_dim=0),
        "fc": nir.Affine(weight=fc_w, bias=np.zeros(10)),
        "lif2": lif((10,)),
        "output": nir.Output(output_type={"output": np.array([10])}),
    }
    edges = [("input", "conv"), ("conv", "lif1"), ("lif1", "flatten"), ("flatten", "fc"),
             ("fc", "lif2"), ("lif2", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={
        "source": "snntorch Leaky(reset_mechanism='zero'), forward Euler",
        "dt": DT_S, "steps": STEPS, "beta": BETA})


def main() -> None:
    torch.manual_seed(0)
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float64)  # pixel values 0..16 -> [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
    model = Net()
    train(model, x_train, y_train)
    test_accuracy = accuracy(model, x_test, y_test, TEST_SEED)
    print(f"snnTorch test accuracy: {test_accuracy:.4f} ({len(y_test)} images)")
    nir.write(str(HERE / "digits_snn.nir"), to_nir(model))
    np.savez_compressed(HERE / "test_split.npz", images=x_test.astype(np.float32),
                        labels=y_test.astype(np.int64), steps=STEPS, seed=TEST_SEED,
                        snntorch_accuracy=test_accuracy,
                        snntorch_counts=_counts(model, x_test).astype(np.int16))
    print(json.dumps({"snntorch_accuracy": test_accuracy, "steps": STEPS, "seed": TEST_SEED}))


def _counts(model: Net, images: np.ndarray) -> np.ndarray:
    """Per-image output spike counts snnTorch computes on the test encoding (for cross-checks)."""
    with torch.no_grad():
        return model(torch.from_numpy(rate_encode(images, STEPS, TEST_SEED))).sum(0).numpy()


if __name__ == "__main__":
    main()
