"""``snnc validate`` and ``snnc info``: check a network file and summarise it."""

from __future__ import annotations

import click
from rich.table import Table

from snnc.ir import Network, expand
from snnc.ir.errors import SnncError
from snnc.ir.expand import check_draws
from snnc.ir.text import counted
from snnc.ir.values import describe
from snnc.models.targets import TARGET_NAMES

from .common import NET_ARGUMENT, console, human_bytes, load_network, say


@click.command()
@NET_ARGUMENT
@click.option("--target", "-t", type=click.Choice(TARGET_NAMES), default=None,
              help="Also check that TARGET runs every population (snnc targets --support).")
def validate(net: str, target: str | None) -> None:
    """Check a network file: print 'ok' and a summary, or the first problem as one line (exit 2).

    Drawn values are checked too (a normal delay that draws a step below 1), so a network that
    validates also expands. With --target, what the target cannot run (a model, a feature such
    as a refractory period) is refused here, before anything is compiled.
    """
    network = load_network(net)
    try:
        check_draws(network)
        if target is not None:
            from snnc.models.support import check_network as check_support

            check_support(network, target)
    except SnncError as error:
        raise error.located(file=net) from None
    say(f"{net}: ok ({counted(len(network.populations), 'population')}, "
        f"{counted(len(network.projections), 'projection')}, "
        f"{counted(network.neuron_count, 'neuron')})")


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


def _projection_rows(network: Network, net: str) -> list[dict]:
    """Per projection: synapse count, bytes, delay and weight ranges. Every projection is
    expanded (one at a time, only its summary kept) before anything is printed, so that a bad
    draw is the only output."""
    rows = []
    for projection in network.projections:
        try:
            synapses = expand(network, projection)
        except SnncError as error:
            raise error.located(file=net) from None
        count = len(synapses)
        rows.append({
            "projection": projection, "synapses": count, "bytes": synapses.nbytes,
            "delay": (int(synapses.delay.min()), int(synapses.delay.max())) if count else None,
            "weight": ((float(synapses.weight.min()), float(synapses.weight.max()))
                       if count else None),
        })
    return rows


@click.command()
@NET_ARGUMENT
def info(net: str) -> None:
    """Summarise a network: populations, neurons, synapses, delay range, memory estimate."""
    network = load_network(net)
    rows = _projection_rows(network, net)
    out = console()
    out.print(_population_table(network))
    table = Table(title="projections")
    for column in ("projection", "rule", "synapses", "weights", "delays", "memory"):
        table.add_column(column, justify="left" if column in ("projection", "rule") else "right")
    for row in rows:
        delays = "{}..{}".format(*row["delay"]) if row["delay"] else "-"
        weights = "{:g}..{:g}".format(*row["weight"]) if row["weight"] else "-"
        table.add_row(row["projection"].name, row["projection"].connect.kind,
                      f"{row['synapses']:,}", weights, delays, human_bytes(row["bytes"]))
    out.print(table)
    ranges = [row["delay"] for row in rows if row["delay"]]
    delay_range = (f"{min(lo for lo, _ in ranges)}..{max(hi for _, hi in ranges)}"
                   if ranges else "-")
    out.print(f"neurons {network.neuron_count:,}  "
              f"synapses {sum(row['synapses'] for row in rows):,}  delays {delay_range} steps  "
              f"memory (expanded) {human_bytes(sum(row['bytes'] for row in rows))}")


COMMANDS = [validate, info]
