"""``snnc validate`` and ``snnc info``: check a network file and summarise it."""

from __future__ import annotations

import click
from rich.table import Table

from snnc.ir import Network, expand
from snnc.ir.values import describe

from .common import NET_ARGUMENT, console, human_bytes, load_network


@click.command()
@NET_ARGUMENT
def validate(net: str) -> None:
    """Check a network file; print one line per problem found (exit 2) or 'ok'."""
    network = load_network(net)
    click.echo(f"{net}: ok ({len(network.populations)} populations, "
               f"{len(network.projections)} projections, {network.neuron_count} neurons)")


def _population_table(network: Network) -> Table:
    table = Table(title=f"{network.name}: populations (dt = {network.dt:g} ms)")
    for column in ("population", "size", "kind", "parameters"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for population in network.populations.values():
        model = population.neuron or population.source
        params = ", ".join(f"{k}={v if isinstance(v, str) else describe(v)}"
                           for k, v in model if k != "kind")  # type: ignore[union-attr]
        table.add_row(population.name, str(population.size), population.kind, params)
    return table


def _projection_rows(network: Network):
    for projection in network.projections:
        synapses = expand(network, projection)
        delays = (f"{int(synapses.delay.min())}..{int(synapses.delay.max())}"
                  if len(synapses) else "-")
        weights = (f"{float(synapses.weight.min()):g}..{float(synapses.weight.max()):g}"
                   if len(synapses) else "-")
        yield projection, synapses, delays, weights


@click.command()
@NET_ARGUMENT
def info(net: str) -> None:
    """Summarise a network: populations, neurons, synapses, delay range, memory estimate."""
    network = load_network(net)
    out = console()
    out.print(_population_table(network))
    table = Table(title="projections")
    for column in ("projection", "rule", "synapses", "weights", "delays", "memory"):
        table.add_column(column, justify="left" if column in ("projection", "rule") else "right")
    total_synapses, total_bytes, delay_lo, delay_hi = 0, 0, None, None
    for projection, synapses, delays, weights in _projection_rows(network):
        total_synapses += len(synapses)
        total_bytes += synapses.nbytes
        if len(synapses):
            lo, hi = int(synapses.delay.min()), int(synapses.delay.max())
            delay_lo = lo if delay_lo is None else min(delay_lo, lo)
            delay_hi = hi if delay_hi is None else max(delay_hi, hi)
        table.add_row(projection.name, projection.connect.kind, f"{len(synapses):,}", weights,
                      delays, human_bytes(synapses.nbytes))
    out.print(table)
    delay_range = f"{delay_lo}..{delay_hi}" if delay_lo is not None else "-"
    out.print(f"neurons {network.neuron_count:,}  synapses {total_synapses:,}  "
              f"delays {delay_range} steps  memory (expanded) {human_bytes(total_bytes)}")


COMMANDS = [validate, info]
