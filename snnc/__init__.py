"""snnc: describe a spiking network once, compile it for Loihi and SpiNNaker, verify it spike for spike.

The public API: the IR (``snnc.ir``: ``Network``, ``LIF``, ``load``, ``from_nir``, ...), and
``compile``, ``run``, ``verify``, ``validate`` with their ``Build``, ``Run`` and ``Verification``
(``snnc.api``, docs/python-api.md). The CLI lives in ``snnc.cli``.
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

# isort: split
# after the IR's names: snnc.verify is the spike-for-spike check (the IR's graph check is
# snnc.validate, or snnc.ir.verify)
from snnc.api import Build, Run, Verification, compile, run, validate, verify  # type: ignore[assignment]  # noqa: E402,A004,E501

__version__ = "0.1.0"
__all__ = [*(name for name in _ir_all if name != "verify"), "encode", "__version__",
           "Build", "Run", "Verification", "compile", "run", "validate", "verify"]
