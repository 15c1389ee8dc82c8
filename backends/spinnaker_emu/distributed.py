"""spinnaker-emu over MPI ranks (placeholder until the chip decomposition lands)."""

from __future__ import annotations

from typing import Any, Sequence

from snnc.ir.errors import UnsupportedOnTarget


def plan(build: Any, steps: int, comm: Any, *, record_v: Sequence[str] = ()) -> Any:
    """Refused for now in one line."""
    raise UnsupportedOnTarget("--ranks does not run spinnaker-emu yet", where="--ranks")
