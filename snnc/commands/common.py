"""Helpers shared by CLI commands: loading inputs, printing tables."""

from __future__ import annotations

import click
from rich.console import Console

from snnc.ir import Network, load

NET_ARGUMENT = click.argument("net", metavar="NET.yaml", type=click.Path(dir_okay=False))


def console() -> Console:
    """A console on stdout (tables stay readable when piped: no colour, wide lines)."""
    return Console(highlight=False, soft_wrap=False, width=120)


def say(text: str, *, err: bool = False) -> None:
    """An informational line (a summary, "wrote FILE", a note): left out with ``--quiet``
    (``snnc.progress``); results a command was asked for, warnings and errors are not."""
    from snnc.progress import quiet

    if not quiet():
        click.echo(text, err=err)


def allow_outside_paths() -> bool:
    """``snnc --allow-outside-paths``: network files may read arrays outside their folder."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().obj and ctx.find_root().obj.get("allow_outside_paths"))


def load_network(path: str, *, steps: int | None = None, record_v: tuple[str, ...] = (),
                 run: bool = False) -> Network:
    """Load a network YAML, estimate what it needs (``snnc.ir.resources``: refused, in one line,
    when over the memory limit) and check what only drawing shows; errors are SnncErrors that
    the CLI prints as one line."""
    network = load(path, allow_outside_paths=allow_outside_paths())
    check_network(network, path, steps=steps, record_v=record_v, run=run)
    return network


def check_network(network: Network, path: str, *, steps: int | None = None,
                  record_v: tuple[str, ...] = (), run: bool = False) -> None:
    """The resource estimate, then the draws (a distribution outside its field's range)."""
    from snnc.ir.errors import SnncError
    from snnc.ir.expand import check_draws
    from snnc.ir.resources import check

    check(network, file=path, steps=steps, record_v=record_v, run=run)
    try:
        check_draws(network)
    except SnncError as error:
        raise error.located(file=path) from None


def human_bytes(count: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"
