"""snnc's network IR: populations, sources, projections, their files and their expansion.

See docs/describe-a-network.md. The IR never imports a backend (and never lava).
"""

from .connect import AllToAll, Explicit, FixedProbability, OneToOne, connection_pairs
from .errors import (
    NetworkError,
    PartitionError,
    PlacementError,
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
from .nir import from_nir
from .nir_export import to_nir
from .sources import Poisson, SpikeTimes, source_spikes
from .values import Normal, Uniform, resolve
from .verify import diagnostics, verify

__all__ = [
    "AllToAll", "Explicit", "FixedProbability", "OneToOne", "connection_pairs",
    "NetworkError", "PartitionError", "PlacementError", "QuantizationError", "RoutingError",
    "SnncError", "UnsupportedOnTarget", "VerificationError",
    "Synapses", "expand", "expand_all", "materialize", "equal", "load", "save",
    "Network", "Population", "Projection", "all_to_all", "explicit", "fixed_probability",
    "normal", "one_to_one", "poisson", "spike_times", "uniform",
    "LI", "LIF", "LoihiLIF", "SpinnakerLIF", "Poisson", "SpikeTimes", "source_spikes",
    "Normal", "Uniform", "resolve", "diagnostics", "verify", "from_nir", "to_nir",
]
