"""``snnc plot``: a raster and rate plots of a spikes file (matplotlib, the ``plot`` extra).

The per-core utilization heat map of a build is ``snnc report BUILD_DIR --plot`` (compile commands).
"""

from __future__ import annotations

import click

from snnc.backends.spikes import SpikeRecord
from snnc.ir.errors import NetworkError

from .common import load_network, say


@click.command()
@click.argument("spikes", metavar="SPIKES.npz", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="PNG file to write.")
@click.option("--population", "populations", multiple=True, metavar="P",
              help="Plot only this population (repeat for several; default: all).")
@click.option("--net", metavar="NET.yaml", type=click.Path(dir_okay=False),
              help="The network, for exact population sizes (else the largest id that spiked).")
@click.option("--title", default="", help="Figure title.")
def plot(spikes: str, output: str, populations: tuple[str, ...], net: str | None,
         title: str) -> None:
    """Raster, population rate over time and rate histogram of SPIKES.npz, as a PNG."""
    from snnc.ir.outputs import check_file_target
    from snnc.plot import plot_spikes, require_matplotlib

    require_matplotlib()  # fail first, with one line, if the extra is missing
    check_file_target(output)
    record = SpikeRecord.load(spikes)
    if record.steps == 0:
        raise NetworkError("the file holds 0 steps: nothing to plot", where="steps", file=spikes)
    sizes, constant = None, None
    if net:
        network = load_network(net)
        sizes = {p.name: p.size for p in network.populations.values()}
        bias = (network.metadata.get("nir") or {}).get("bias_source")
        if bias:  # the NIR importer's always-on bias pseudo-source: off the rate axes
            from snnc.plot import always_on, population_sizes

            constant = sorted({bias} | set(always_on(record, population_sizes(record, sizes))))
        from snnc.ir.resources import check_bytes

        check_bytes(sum(sizes.values()) * 16.0, f"per-neuron rates of {sum(sizes.values()):,} "
                    "neurons", "--net", net)
        for name, (_, ids) in record.spikes.items():
            if name in sizes and ids.size and int(ids.max()) >= sizes[name]:
                raise NetworkError(f"neuron id {int(ids.max())} out of range for '{name}' of "
                                   f"size {sizes[name]} in {net}", where=f"{name}.ids",
                                   file=spikes)
    plot_spikes(record, output, populations, sizes, title, constant)
    say(f"wrote {output}")


COMMANDS = [plot]
