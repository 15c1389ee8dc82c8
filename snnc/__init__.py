"""snnc: describe a spiking network once, compile it for Loihi and SpiNNaker, verify it spike for spike.

The public API re-exports the IR (``snnc.ir``); the CLI lives in ``snnc.cli``.
"""

from snnc.ir import *  # noqa: F401,F403
from snnc.ir import __all__ as _ir_all

from snnc import encode  # noqa: E402,F401  (snnc.encode.rate / .latency, like snnTorch's spikegen)

__version__ = "0.1.0"
__all__ = [*_ir_all, "encode", "__version__"]
