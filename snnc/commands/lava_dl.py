"""``snnc import-netx`` and ``snnc export-lava``: lava-dl networks in, standalone Lava scripts out.

See docs/netx.md and docs/export-lava.md.
"""

from __future__ import annotations

import click

from snnc.ir import expand, save
from snnc.ir.outputs import check_file_target

from .common import check_network


@click.command("import-netx")
@click.argument("model", metavar="MODEL.net", type=click.Path(dir_okay=False))
@click.option("--reset-interval", type=int, default=None,
              help="netx's per-sample reset (Lava LIFReset): refused, loihi_lif has none.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Network YAML to write (arrays go to an NPZ beside it).")
def import_netx(model: str, reset_interval: int | None, output: str) -> None:
    """Import a lava-dl netx HDF5 network (SLAYER's .net export) as an snnc network."""
    from snnc.ir.netx import from_netx

    check_file_target(output)
    net = from_netx(model, reset_interval=reset_interval)
    check_network(net, model)
    save(net, output)
    synapses = sum(len(expand(net, p)) for p in net.projections)
    neurons = sum(p.size for p in net.neuron_populations())
    meta = net.metadata["netx"]
    click.echo(f"{output}: {len(meta['layers'])} netx layers, {neurons:,} neurons, "
               f"{synapses:,} synapses; input '{meta['input']}' "
               f"({net.populations[meta['input']].size} spike sources), output '{meta['output']}'")
    for note in meta["notes"]:
        click.echo(f"note: {note}", err=True)


COMMANDS = [import_netx]
