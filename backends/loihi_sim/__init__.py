"""The ``loihi-sim`` target: lowers a Loihi-quantized network to lava-nc and runs it bit-exactly.

This package is the only code in snnc that imports lava (``runner.py`` and ``lava_procs/``), and only
when a run starts. See docs/loihi-sim.md.
"""

from .backend import LoihiSimBackend

__all__ = ["LoihiSimBackend"]
