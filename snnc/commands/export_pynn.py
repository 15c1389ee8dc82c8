"""``snnc export-pynn``: a network as a standalone PyNN 0.13 script for NEST and sPyNNaker.

See docs/export-pynn.md and ``snnc.ir.pynn_export`` for the mapping.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from snnc.ir.errors import SnncError
from snnc.ir.outputs import check_file_target, write_files
from snnc.ir.pynn_export import pynn_script
from snnc.ir.text import counted

from .common import say

MAX_EXPORT_STEPS = 2**31 - 1


@click.command("export-pynn")
@click.argument("source", metavar="NET.yaml|BUILD_DIR", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="PyNN script to write (long arrays go to MODEL.pynn.npz beside it).")
@click.option("--steps", type=click.IntRange(min=1, max=MAX_EXPORT_STEPS), default=1000,
              show_default=True,
              help="Steps the script runs at most; source spikes (Poisson: the spikes snnc "
                   "draws from their seeds) are exported for these.")
@click.option("--input", "inputs", multiple=True, metavar="POP=FILE.npz",
              help="Replace a source population's spikes (keys 'times', 'ids'), as snnc run "
                   "does. Repeatable.")
def export_pynn(source: str, output: str, steps: int, inputs: tuple[str, ...]) -> None:
    """Export a network of lif populations as a PyNN script (pyNN.nest or pyNN.spiNNaker)."""
    from .run import load_source, network_of, replace_inputs

    check_file_target(output)
    if Path(output).name.endswith(".npz"):
        raise SnncError("the script needs a name that does not end in .npz", where="--output")
    # MODEL.pynn.npz, not MODEL.npz: `snnc` writes NET.yaml's arrays to NET.npz, so `-o NET.py`
    # beside it would otherwise overwrite the network's own arrays
    npz = Path(output).with_suffix(".pynn.npz")
    path = str(Path(source) / "network.yaml") if Path(source).is_dir() else source
    if Path(output).resolve() == Path(path).resolve():
        raise SnncError("the script would replace the network file it is exported from",
                        where="--output")
    network = network_of(replace_inputs(load_source(source, steps=steps), inputs))
    try:
        text, arrays = pynn_script(network, steps, npz.name, source=Path(path).name)
    except SnncError as error:
        raise error.located(file=path) from None
    files: list[tuple[str | os.PathLike, Callable[[Any], Any], str]] = [
        (output, lambda handle: handle.write(text), "w")]
    if arrays:
        check_file_target(npz)
        files.insert(0, (npz, lambda handle: np.savez_compressed(handle, **arrays), "w+b"))
    write_files(files)
    synapses = sum(int(np.size(a)) for k, a in arrays.items() if k.endswith(".weight"))
    where = f" ({counted(synapses, 'synapse')} in {npz.name})" if arrays else ""
    say(f"{output}: {counted(len(network.populations), 'population')}, "
        f"{counted(len(network.projections), 'projection')}{where}, "
        f"{counted(steps, 'step')}; run: python {output} [--simulator nest|spiNNaker]")


COMMANDS = [export_pynn]
