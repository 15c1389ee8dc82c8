"""Words for counts in messages and reports: ``counted(1, "core")`` is "1 core", not "1 cores"."""

from __future__ import annotations

_IRREGULAR = {"synapsis": "synapses"}


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` with ``noun`` in the number it takes (thousands separated)."""
    word = noun if count == 1 else (plural or _IRREGULAR.get(noun) or noun + "s")
    return f"{count:,} {word}"
