"""``snnc import-netx`` and ``snnc export-lava``: lava-dl networks in, standalone Lava scripts out.

See docs/netx.md and docs/export-lava.md.
"""

from __future__ import annotations

import click

from snnc.ir import expand, save
from snnc.ir.outputs import check_file_target
from snnc.ir.text import counted

from .common import check_network, say


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
    say(f"{output}: {counted(len(meta['layers']), 'netx layer')}, {counted(neurons, 'neuron')}, "
        f"{counted(synapses, 'synapse')}; input '{meta['input']}' "
        f"({counted(net.populations[meta['input']].size, 'spike source')}), "
        f"output '{meta['output']}'")
    for note in meta["notes"]:
        say(f"note: {note}", err=True)


@click.command("export-lava")
@click.argument("build_dir", metavar="BUILD_DIR", type=click.Path(file_okay=False))
@click.option("--steps", type=click.IntRange(1, 2**31 - 1), default=1000, show_default=True,
              help="Steps the script runs at most (its spike sources are drawn for these).")
@click.option("--input", "inputs", multiple=True, metavar="POP=FILE.npz",
              help="Replace a source population's spikes (keys 'times', 'ids'), as snnc run "
                   "does. Repeatable.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Python script to write (its arrays go to an NPZ beside it).")
def export_lava(build_dir: str, steps: int, inputs: tuple[str, ...], output: str) -> None:
    """Write a standalone Lava script that builds and runs loihi-sim's process graph of a build."""
    from pathlib import Path

    from snnc.backends.loihi_sim.export import export_lava as write_script
    from snnc.ir.errors import NetworkError, SnncError

    from .run import load_source, replace_inputs

    check_file_target(output)
    if not output.endswith(".py"):
        raise NetworkError("the script must end in .py (its arrays go to a .npz beside it)",
                           where="--output")
    check_file_target(str(Path(output).with_suffix(".npz")))
    if not Path(build_dir).is_dir():
        raise NetworkError("not a build directory (snnc compile NET.yaml --target loihi-sim "
                           "-o BUILD_DIR writes one)", file=build_dir)
    build = replace_inputs(load_source(build_dir, steps=steps), inputs)
    try:
        meta = write_script(build, steps, build_dir, output)
    except SnncError as error:
        raise error.located(file=build_dir) from None
    kinds = ", ".join(f"{g['kind']}: {g['process'].replace('lava:', 'Lava ')}"
                      for g in meta["groups"])
    say(f"{output}: {counted(len(meta['groups']), 'neuron process', 'neuron processes')} "
        f"({kinds}), {counted(len(meta['blocks']), 'synapse block')}, "
        f"{counted(steps, 'step')}; arrays in "
        f"{Path(output).with_suffix('.npz').name}; run: python {output} -o spikes.npz")


COMMANDS = [import_netx, export_lava]
