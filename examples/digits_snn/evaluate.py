"""Compile the snnTorch-trained digits SNN and measure its test accuracy on every target.

    .venv/bin/python examples/digits_snn/evaluate.py                 # all 360 test images
    .venv/bin/python examples/digits_snn/evaluate.py --images 100    # the first 100

Steps: ``digits_snn.nir`` (written by train.py) is imported with the discretization snnTorch
used (``dt = 1 ms``, forward Euler, reset to zero; the same as ``snnc import-nir digits_snn.nir
--dt 0.001 --integrator euler --reset zero -o net.yaml``). Test images are rate-encoded with the
seed training used (``snnc.encode.rate``: the very spikes snnTorch saw), one block-diagonal copy of
the network per image (``snnc.batch.replicate``), so a whole test set is one run per target. The
prediction is the output neuron with the most spikes (ties: the lowest class, as ``np.argmax``
and train.py).

snnc charges one step per hop (NIR edges have no delay; a Loihi hop costs a step), so the output
spikes of input step ``t`` appear at ``t + lag`` (lag = 2 here): each target runs ``steps + lag``
steps and counts output spikes in ``[lag, steps + lag)``, exactly the window snnTorch counted.

Prints the accuracy table (snnTorch at training time, snnc float, loihi-sim, spinnaker-emu), how
many images' output counts equal snnTorch's, and the per-core report of one copy of the network
on each target (written to ``--out``/build-<target>/ with its heat map when matplotlib is
installed).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snnc import encode
from snnc.batch import copy_counts, feedforward_lag, replicate, run_target
from snnc.ir import Network, from_nir

HERE = Path(__file__).resolve().parent
MODEL = HERE / "digits_snn.nir"
TEST_SPLIT = HERE / "test_split.npz"
TARGETS = ("reference", "loihi-sim", "spinnaker-emu")


@dataclass(frozen=True)
class Model:
    """The imported network and where its input and output are."""

    network: Network
    source: str
    output: str
    lag: int


def load_model() -> Model:
    """Import the NIR file as snnTorch discretized it."""
    network = from_nir(MODEL, dt=1e-3, integrator="euler", reset="zero")
    source = next(network.source_populations()).name
    outputs = network.metadata.get("nir", {}).get("outputs") or [
        list(network.neuron_populations())[-1].name]
    return Model(network, source, outputs[0], feedforward_lag(network, source, outputs[0]))


def load_test_split(images: int | None = None) -> dict[str, np.ndarray]:
    data = dict(np.load(TEST_SPLIT))
    data["all_images"] = data["images"]
    if images is not None:
        for key in ("images", "labels", "snntorch_counts"):
            data[key] = data[key][:images]
    return data


def output_counts(model: Model, data: dict[str, np.ndarray], target: str,
                  numerics: str = "float") -> tuple[np.ndarray, object]:
    """(images, classes) output spike counts on one target, and the build (None for reference)."""
    steps = int(data["steps"])
    images = data["images"]
    batched = replicate(model.network, len(images), sources={model.source: test_spikes(data)})
    record, build = run_target(batched, target, steps + model.lag, numerics=numerics)
    size = model.network.populations[model.output].size
    return copy_counts(record, model.output, size, len(images), model.lag, steps + model.lag), build


def test_spikes(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The input spikes of the selected images: the whole split is encoded (as in training, one
    draw of shape (steps, all pixels)) and the first images' spikes kept, so a subset sees exactly
    the spikes it saw in the full evaluation."""
    spikes = encode.rate(data["all_images"], int(data["steps"]), seed=int(data["seed"]))
    keep = spikes.ids < data["images"][0].size * len(data["images"])
    return spikes.times[keep], spikes.ids[keep]


def accuracy(counts: np.ndarray, labels: np.ndarray) -> float:
    return float((counts.argmax(1) == labels).mean())


def per_core_reports(model: Model, out: Path) -> dict[str, str]:
    """Compile one copy of the network for each hardware target; its report text by target."""
    from snnc.compiler import compile_network, save_build

    reports = {}
    for target in TARGETS[1:]:
        build = compile_network(model.network, target)
        folder = out / f"build-{target}"
        save_build(build, folder)
        reports[target] = (folder / "report.txt").read_text()
        if importlib.util.find_spec("matplotlib") is not None:  # the heat map is optional
            from snnc.compiler.report import plot as plot_report

            plot_report(build.report, build.hardware, str(folder / "report.png"))
    return reports


def evaluate(images: int | None, targets=TARGETS) -> dict[str, dict]:
    """Accuracy, agreement with snnTorch's counts, and seconds per target."""
    model = load_model()
    data = load_test_split(images)
    rows = {"snnTorch (training time)": {"accuracy": accuracy(data["snntorch_counts"],
                                                              data["labels"])}}
    for target in targets:
        started = time.perf_counter()
        counts, _ = output_counts(model, data, target)
        rows[target] = {
            "accuracy": accuracy(counts, data["labels"]),
            "same_counts": float(np.all(counts == data["snntorch_counts"], axis=1).mean()),
            "same_prediction": float(
                (counts.argmax(1) == data["snntorch_counts"].argmax(1)).mean()),
            "seconds": time.perf_counter() - started, "counts": counts}
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=None,
                        help="first N test images (default all)")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args(argv)
    rows = evaluate(args.images)
    total = len(load_test_split(args.images)["labels"])
    print(f"test accuracy on {total} images (8x8 digits, rate-coded, 20 steps)")
    print(f"{'model':<26}{'accuracy':>9}{'= snnTorch counts':>19}{'= prediction':>14}"
          f"{'seconds':>9}")
    for name, row in rows.items():
        label = "snnc float (reference)" if name == "reference" else name
        extra = (f"{row['same_counts']:>19.3f}{row['same_prediction']:>14.3f}{row['seconds']:>9.1f}"
                 if "seconds" in row else "")
        print(f"{label:<26}{row['accuracy']:>9.3f}{extra}")
    args.out.mkdir(parents=True, exist_ok=True)
    for target, text in per_core_reports(load_model(), args.out).items():
        print(f"\nper-core report, one copy of the network on {target} "
              f"({args.out / f'build-{target}'}):\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
