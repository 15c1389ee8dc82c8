"""Train a small liquid time-constant (LTC) network in PyTorch and write ``ltc_trained.npz``.

Task: recover a sine wave from two spike trains whose firing probabilities it modulates
(channel 0 fires with ``0.5 + 0.4 sin``, channel 1 with ``0.5 - 0.4 sin``), one Bernoulli draw
per 1 ms step: the cells must integrate the noisy spikes over time to follow the phase.

The cell is the paper's equation (Hasani et al., "Liquid Time-constant Networks", AAAI 2021),
written here with exactly snnc's ``ltc`` parameterisation (``models/ltc.py``), so that the trained
numbers load into snnc unchanged:

    I = u[t] @ w_in                               (the projection spikes -> cells)
    repeat ode_unfolds times, dt_u = dt / ode_unfolds:
        f = sigmoid(x @ w_rec + I + bias)
        x = (x + dt_u * f * a) / (1 + dt_u * (1 / tau + f))
    y[t] = x @ w_out + b_out                       (the readout)

It runs in its own virtual environment (torch is not a dependency of snnc):

    python3.11 -m venv .venv-ltc && .venv-ltc/bin/pip install torch==2.13.0 numpy
    .venv-ltc/bin/python examples/ltc/train_ltc.py

The fixture holds the trained parameters, one held-out input sequence, and torch's outputs on it
evaluated in float64 with exactly the stored parameters (``x``: every cell's state per step,
``y``: the readout per step).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
CELLS, INPUTS, UNFOLDS, DT = 8, 2, 6, 1.0
STEPS, BATCH = 120, 32
TAU_MIN = 0.5  # ms: tau = TAU_MIN + softplus(raw) keeps every time constant positive


def sequences(batch: int, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(inputs float[batch, steps, 2] of 0/1 spikes, targets float[batch, steps]).

    ``inputs[:, t]`` is what the cells receive at step ``t``: in snnc a spike sent at step
    ``t - 1`` over a delay-1 projection, so step 0 receives nothing."""
    period = rng.uniform(30.0, 60.0, size=(batch, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(batch, 1))
    target = np.sin(2 * np.pi * np.arange(steps) / period + phase)
    p = np.stack([0.5 + 0.4 * target, 0.5 - 0.4 * target], axis=-1)
    spikes = (rng.random(p.shape) < p).astype(np.float64)
    spikes[:, 0] = 0.0
    return spikes, target


class LTC(torch.nn.Module):
    """The LTC layer and its linear readout (module docstring)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w_in = torch.nn.Parameter(torch.randn(INPUTS, CELLS, generator=g) * 1.0)
        self.w_rec = torch.nn.Parameter(torch.randn(CELLS, CELLS, generator=g) * 0.5)
        self.bias = torch.nn.Parameter(torch.zeros(CELLS))
        self.a = torch.nn.Parameter(torch.randn(CELLS, generator=g))
        self.tau_raw = torch.nn.Parameter(torch.full((CELLS,), 2.0))
        self.w_out = torch.nn.Parameter(torch.randn(CELLS, generator=g) * 0.3)
        self.b_out = torch.nn.Parameter(torch.zeros(()))

    def tau(self) -> torch.Tensor:
        return TAU_MIN + torch.nn.functional.softplus(self.tau_raw)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """u[batch, steps, inputs] -> (x[batch, steps, cells], y[batch, steps])."""
        return run(u, self.w_in, self.w_rec, self.bias, self.a, self.tau(), self.w_out, self.b_out)


def run(u, w_in, w_rec, bias, a, tau, w_out, b_out):
    """The cell, step by step, unfold by unfold (the module docstring's equations)."""
    dt_u = DT / UNFOLDS
    x = torch.zeros(u.shape[0], w_rec.shape[0], dtype=u.dtype)
    states = []
    for t in range(u.shape[1]):
        current = u[:, t] @ w_in
        for _ in range(UNFOLDS):
            f = torch.sigmoid(x @ w_rec + current + bias)
            x = (x + dt_u * f * a) / (1.0 + dt_u * (1.0 / tau + f))
        states.append(x)
    xs = torch.stack(states, dim=1)
    return xs, xs @ w_out + b_out


def train(iterations: int, seed: int) -> LTC:
    torch.manual_seed(seed)
    model = LTC(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.03)
    rng = np.random.default_rng(seed)
    for it in range(iterations):
        u, target = sequences(BATCH, STEPS, rng)
        _, y = model(torch.tensor(u, dtype=torch.float32))
        # the first 20 steps are a warm-up: the phase cannot be known before a few spikes
        loss = torch.mean((y[:, 20:] - torch.tensor(target[:, 20:], dtype=torch.float32)) ** 2)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if it % 50 == 0 or it == iterations - 1:
            print(f"iteration {it:4d}  mse {loss.item():.4f}")
    return model


def fixture(model: LTC, seed: int) -> dict[str, np.ndarray]:
    """The trained parameters in float64, a held-out sequence, torch's float64 outputs on it."""
    params = {name: value.detach().to(torch.float64) for name, value in (
        ("w_in", model.w_in), ("w_rec", model.w_rec), ("bias", model.bias), ("a", model.a),
        ("tau", model.tau()), ("w_out", model.w_out), ("b_out", model.b_out))}
    u, target = sequences(1, STEPS, np.random.default_rng(seed + 1))
    with torch.no_grad():
        x, y = run(torch.tensor(u[0:1], dtype=torch.float64), **params)
    mse = float(np.mean((y[0, 20:].numpy() - target[0, 20:]) ** 2))
    print(f"held-out sequence: mse {mse:.4f} (target variance {np.var(target[0, 20:]):.4f})")
    return {**{k: v.numpy() for k, v in params.items()},
            "ode_unfolds": np.int64(UNFOLDS), "dt": np.float64(DT),
            "inputs": u[0], "target": target[0], "x": x[0].numpy(), "y": y[0].numpy()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "ltc_trained.npz")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead (and share the machine)
    model = train(args.iterations, args.seed)
    np.savez(args.output, **fixture(model, args.seed))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
