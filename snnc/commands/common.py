"""Helpers shared by CLI commands: loading inputs, printing tables."""

from __future__ import annotations

import click
from rich.console import Console

from snnc.ir import Network, load

NET_ARGUMENT = click.argument("net", metavar="NET.yaml", type=click.Path(dir_okay=False))


def console() -> Console:
    """A console on stdout (tables stay readable when piped: no colour, wide lines)."""
    return Console(highlight=False, soft_wrap=False, width=120)


def load_network(path: str) -> Network:
    """Load a network YAML; errors are SnncErrors that the CLI prints as one line."""
    return load(path)


def human_bytes(count: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"
