"""Write the W1 balanced network (README.md) as ``net.yaml`` + ``arrays.npz`` (``lif``).

    .venv/bin/python examples/balanced_network/make_network.py
        [--neurons 1000] [--w1 PATH/w1_workload.py]

The connectivity, delays and initial voltages are W1's own generator (``w1_workload.generate``, the
file every peer benchmark uses: G(N, M) graph with M = round(p N (N-1)) pairs, J = 8, g = 5, delays
uniform in 1..8, v0 uniform in [0, 640)). The neuron is W1's CUBA LIF as a float ``lif``: delta
synapses (``tau_syn = 0``), forward Euler with ``tau_mem = 4096 / 200`` ms so that the decay factor
is exactly ``1 - 200/4096``, threshold 640, bias 2048 / 64 = 32 per step. The committed files are
for N = 1000 (p = 0.1); the compiler quantizes them for each target.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
W1 = Path("/work/shared/bench/w1_workload.py")


YAML = """\
snnc: 1
name: w1_balanced_{neurons}
dt: 1.0
metadata:
  about: "W1 balanced network: 80% excitatory (ids 0..{n_exc_1}), J = 8, g = 5"
populations:
  neurons:
    size: {neurons}
    # W1's CUBA LIF: v = v (1 - 200/4096) + input + 32, spike when v > 640, then v = 0
    neuron: {{kind: lif, tau_mem: {tau}, integrator: euler, tau_syn: 0.0, v_th: {vth}, bias: {bias},
             v_init: {{file: arrays.npz, key: v_init}}}}
projections:
  - name: recurrent
    from: neurons
    to: neurons
    connect: {{kind: explicit, file: arrays.npz, pre: pre, post: post}}
    weight: {{file: arrays.npz, key: weight}}     # +8 from excitatory, -40 from inhibitory neurons
    delay: {{file: arrays.npz, key: delay}}       # 1..8 steps
"""


def write_w1(data: dict, neurons: int, folder: Path) -> None:
    """net.yaml (hand-readable) + arrays.npz (compressed, smallest integer types)."""
    meta = json.loads(str(data["meta"]))
    index = np.int16 if neurons < 2**15 else np.int32
    np.savez_compressed(folder / "arrays.npz", pre=data["pre"].astype(index),
                        post=data["post"].astype(index), weight=data["w"].astype(np.int8),
                        delay=data["delay"].astype(np.int8), v_init=data["v0_fx"] / 64.0)
    (folder / "net.yaml").write_text(YAML.format(
        neurons=neurons, n_exc_1=int(round(0.8 * neurons)) - 1, tau=4096 / meta["dv12"],
        vth=float(meta["vth"]), bias=meta["bias_fx"] / 64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--w1", type=Path, default=W1, help="path of w1_workload.py")
    args = parser.parse_args()
    if not args.w1.is_file():
        raise SystemExit(f"W1's generator not found at {args.w1}: pass --w1 PATH/w1_workload.py")
    spec = importlib.util.spec_from_file_location("w1_workload", args.w1)
    w1 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(w1)
    write_w1(w1.generate(args.neurons), args.neurons, HERE)
    print(f"wrote {HERE / 'net.yaml'} ({args.neurons} neurons)")


if __name__ == "__main__":
    main()
