"""Regenerate the plots shown in the docs (docs/plots.md): ``make docs-images``.

- ``docs/images/heatmap-1chip.png``: W1 (examples/balanced_network) compiled for loihi-sim, one
  chip, synapse memory binding;
- ``docs/images/heatmap-3chips.png``: W1 for spinnaker-emu with at most 25 neurons per core,
  40 cores on 3 chips;
- ``docs/images/heatmap-speck.png``: the Sinabs CNN (tests/data/nir/cnn_sinabs.nir, imported)
  planned on Speck (``--target reference --hardware speck``): kernel and neuron memory of the
  core each layer was matched to;
- ``docs/images/raster-w1.png``: 300 steps of W1 on the reference (float);
- ``docs/images/raster-nir-bias.png``: a small NIR graph with Affine biases (the importer's
  ``bias`` pseudo-source fires every step and is kept off the rate axes).

Everything goes through the same functions as ``snnc compile --plot`` and ``snnc plot``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
W1 = ROOT / "examples" / "balanced_network" / "net.yaml"
CNN = ROOT / "tests" / "data" / "nir" / "cnn_sinabs.nir"


def heatmaps(out: Path) -> None:
    from snnc.compiler import compile_network
    from snnc.ir import load
    from snnc.plot import plot_heatmap

    network = load(str(W1))
    one = compile_network(network, "loihi-sim")
    plot_heatmap(one.report, one.hardware, out / "heatmap-1chip.png")
    three = compile_network(network, "spinnaker-emu", max_neurons_per_core=25)
    assert three.report.totals["chips"] == 3, three.report.totals
    plot_heatmap(three.report, three.hardware, out / "heatmap-3chips.png")


def heatmap_speck(out: Path) -> None:
    from snnc.compiler import compile_network
    from snnc.ir import from_nir
    from snnc.plot import plot_heatmap

    build = compile_network(from_nir(str(CNN), dt=1e-3), "reference", "speck")
    assert build.report.fits and build.report.totals["cores"] == 5, build.report.totals
    plot_heatmap(build.report, build.hardware, out / "heatmap-speck.png")


def raster_w1(out: Path) -> None:
    from snnc.backends.reference import simulate
    from snnc.ir import load
    from snnc.plot import plot_spikes

    network = load(str(W1))
    record = simulate(network, 300, "float")
    sizes = {p.name: p.size for p in network.populations.values()}
    plot_spikes(record, out / "raster-w1.png", sizes=sizes,
                title="W1 balanced network, reference (float), 300 steps of 1 ms")


def nir_bias_network():
    """Input(8) -> Affine(bias) -> LIF(40) -> Affine(bias) -> LIF(10), Poisson-like input."""
    import nir

    from snnc.ir import from_nir, spike_times

    rng = np.random.default_rng(7)
    dt = 1e-3

    def lif(n: int) -> nir.LIF:
        return nir.LIF(tau=np.full(n, 10 * dt), r=np.full(n, 1.0), v_leak=np.zeros(n),
                       v_threshold=np.full(n, 1.0), v_reset=np.zeros(n))

    nodes = {"input": nir.Input(np.array([8])),
             "w1": nir.Affine(rng.normal(2.5, 1.5, (40, 8)), rng.uniform(0.02, 0.4, 40)),
             "hidden": lif(40),
             "w2": nir.Affine(rng.normal(0.2, 0.5, (10, 40)), rng.uniform(0.02, 0.3, 10)),
             "out": lif(10), "output": nir.Output(np.array([10]))}
    edges = [("input", "w1"), ("w1", "hidden"), ("hidden", "w2"), ("w2", "out"),
             ("out", "output")]
    net = from_nir(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False), dt=dt,
                   integrator="euler")
    steps = 300
    fire = rng.random((steps, 8)) < 0.1
    times, ids = np.nonzero(fire)
    net.populations["input"] = net.populations["input"].model_copy(
        update={"source": spike_times(times.astype(np.int64), ids.astype(np.int64))})
    return net, steps


def raster_nir(out: Path) -> None:
    from snnc.backends.reference import simulate
    from snnc.plot import plot_spikes

    net, steps = nir_bias_network()
    record = simulate(net, steps, "float")
    sizes = {p.name: p.size for p in net.populations.values()}
    plot_spikes(record, out / "raster-nir-bias.png", sizes=sizes,
                title="imported NIR graph with Affine biases, 300 steps of 1 ms",
                constant=[net.metadata["nir"]["bias_source"]])


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    heatmaps(out)
    heatmap_speck(out)
    raster_w1(out)
    raster_nir(out)
    for path in sorted(out.glob("*.png")):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
