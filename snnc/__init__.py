"""snnc: describe a spiking network once, compile it for Loihi and SpiNNaker, verify it spike for spike.

The public API re-exports the IR (``snnc.ir``); the CLI lives in ``snnc.cli``.
"""

from pkgutil import extend_path

# Installed (strict editable or a wheel), snnc's subpackages ir/, models/, compiler/ and backends/
# are links or copies under one snnc/ folder. Where this source folder is imported instead (the
# repository root first on sys.path, as `python -c` there puts it), that installed snnc/ joins the
# search path, so that snnc.ir is still found and loaded once, as snnc.ir.
__path__ = extend_path(__path__, __name__)

from snnc import encode  # noqa: F401  (snnc.encode.rate / .latency, like snnTorch's spikegen)
from snnc.ir import *  # noqa: F401,F403
from snnc.ir import __all__ as _ir_all

__version__ = "0.1.0"
__all__ = [*_ir_all, "encode", "__version__"]
