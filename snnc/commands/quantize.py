"""``snnc quantize``: show what float-to-fixed conversion does to a network, and what it changes."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from snnc.compiler.passes.quantize import QuantizeOptions, canonical_target, quantize
from snnc.compiler.passes.quantize.report import render
from snnc.ir import Network, save
from snnc.ir.errors import SnncError
from snnc.ir.outputs import check_file_target
from snnc.ir.resources import MAX_STEPS
from snnc.models.targets import QUANTIZE_TARGETS

from .common import NET_ARGUMENT, console, load_network

TARGET_CHOICES = QUANTIZE_TARGETS


@click.command("quantize")
@NET_ARGUMENT
@click.option("--target", "-t", required=True, type=click.Choice(TARGET_CHOICES),
              help="Target whose fixed-point formats to use.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="A quantization option, e.g. weight_bits=6, rounding=stochastic, seed=3, "
                   "max_expected_summed_weight=20,40 (repeatable).")
@click.option("--steps", type=click.IntRange(min=1, max=MAX_STEPS), default=None,
              help="Also run the float and the quantized network this many steps on the reference "
                   "and compare their spike counts per population.")
@click.option("--input", "inputs", multiple=True, metavar="POP=FILE.npz",
              help="With --steps: replace a source population's spikes in both runs (keys "
                   "'times', 'ids', as for snnc run). Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Print the report as tables or as JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the quantized network (YAML, with an NPZ beside it).")
def quantize_command(net: str, target: str, options: tuple[str, ...], steps: int | None,
                     inputs: tuple[str, ...], fmt: str, output: str | None) -> None:
    """Quantize NET.yaml for a target and print the report (scales, errors, zeroed/clipped weights,
    warnings); with --steps, also the float vs quantized spike agreement (--input: with these
    source spikes; the written network keeps its own)."""
    if inputs and not steps:
        raise SnncError("--input sets the spikes of the --steps comparison: give --steps too",
                        where="--input")
    if output:
        check_file_target(output)  # refused before any work: a symlink, a directory, a device...
    network = load_network(net, steps=steps)
    chosen = QuantizeOptions.parse(options)
    try:
        quantized, report = quantize(network, target, chosen)
    except SnncError as error:
        raise error.located(file=net) from None
    if output:
        save(quantized.network, output)
    rows = None
    if steps:
        from .run import replace_inputs

        rows = agreement(replace_inputs(network, inputs),
                         replace_inputs(quantized.network, inputs), target, steps)
        if not any(row["rate_float_hz"] or row["rate_quantized_hz"] for row in rows):
            click.echo(f"{net}: warning: no population spiked in either run, so the comparison "
                       "shows nothing; give sources spikes with --input POP=FILE.npz", err=True)
    if fmt == "json":
        data: dict[str, Any] = {"quantization": report.to_json()}
        if rows is not None:
            data["agreement"] = rows
        click.echo(json.dumps(data, indent=2))
        return
    out = console()
    for item in render(report):
        out.print(item)
    if rows is not None:
        out.print(agreement_table(rows, steps or 0, target))


def agreement(network: Network, quantized: Network, target: str, steps: int) -> list[dict]:
    """Run float and quantized networks on the reference; per population spike-count agreement."""
    from snnc.backends.reference import simulate
    from snnc.compiler.passes.quantize.report import rate_agreement

    numerics = canonical_target(target)
    reference = simulate(network, steps, "float")
    fixed = simulate(quantized, steps, numerics)
    return rate_agreement(network, reference, fixed)


def agreement_table(rows: list[dict], steps: int, target: str) -> Table:
    """The ``--steps`` comparison as a table."""
    table = Table(title=f"float vs {canonical_target(target)} on the reference, {steps} steps")
    for column in ("population", "size", "float Hz", "quantized Hz", "rate error",
                   "neurons off by >10%"):
        table.add_column(column, justify="left" if column == "population" else "right")
    for row in rows:
        error = "-" if row["rate_error"] is None else f"{100 * row['rate_error']:.2f}%"
        table.add_row(row["population"], f"{row['size']:,}", f"{row['rate_float_hz']:.3f}",
                      f"{row['rate_quantized_hz']:.3f}", error,
                      f"{100 * row['fraction_differing']:.1f}%")
    return table


COMMANDS = [quantize_command]
