"""snnc's network IR: populations, sources, projections, their files and their expansion.

See docs/describe-a-network.md. The IR never imports a backend (and never lava).
"""

if __name__ != "snnc.ir":  # pyproject's package-dir: the folder ir/ is snnc.ir
    raise ImportError(f"ir/ is the package snnc.ir: import snnc.ir, not {__name__}")

from .connect import AllToAll, Explicit, FixedProbability, OneToOne, connection_pairs
from .errors import (
    NetworkError,
    QuantizationError,
    RoutingError,
    SnncError,
    UnsupportedOnTarget,
    VerificationError,
)
from .expand import Synapses, expand, expand_all, materialize
from .io import equal, load, save
from .network import (
    Network,
    Population,
    Projection,
    all_to_all,
    explicit,
    fixed_probability,
    normal,
    one_to_one,
    poisson,
    spike_times,
    uniform,
)
from .neurons import LI, LIF, LoihiLIF, SpinnakerLIF
from .plasticity import RStdp, Stdp
from .sources import Poisson, SpikeTimes, source_spikes
from .values import Normal, Uniform, resolve
from .verify import diagnostics, verify


def from_nir(graph_or_path, dt, integrator="exact", reset="zero", current="new", name=None):
    """Import a NIR graph or ``.nir`` file as a Network (``ir/nir.py``; docs/nir.md).

    Imported on first use: NIR support needs the ``nir`` package and scipy.sparse, which the rest
    of snnc does not load.
    """
    from .nir import from_nir as _from_nir

    return _from_nir(graph_or_path, dt, integrator=integrator, reset=reset, current=current,
                     name=name)


def to_nir(network):
    """Export a network of lif/li populations as a ``nir.NIRGraph`` (``ir/nir_export.py``)."""
    from .nir_export import to_nir as _to_nir

    return _to_nir(network)


__all__ = [
    "AllToAll", "Explicit", "FixedProbability", "OneToOne", "connection_pairs",
    "NetworkError", "QuantizationError", "RoutingError",
    "SnncError", "UnsupportedOnTarget", "VerificationError",
    "Synapses", "expand", "expand_all", "materialize", "equal", "load", "save",
    "Network", "Population", "Projection", "all_to_all", "explicit", "fixed_probability",
    "normal", "one_to_one", "poisson", "spike_times", "uniform",
    "LI", "LIF", "LoihiLIF", "SpinnakerLIF", "RStdp", "Stdp", "Poisson", "SpikeTimes", "source_spikes",
    "Normal", "Uniform", "resolve", "diagnostics", "verify", "from_nir", "to_nir",
]
