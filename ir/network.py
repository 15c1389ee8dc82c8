"""The network IR: populations (neurons or spike sources) and projections between them.

Build one in Python::

    from snnc.ir import Network, LIF, spike_times, all_to_all
    net = Network("demo", dt=1.0)
    inp = net.source("inp", 4, spike_times(times=[0, 3, 5], ids=[0, 1, 3]))
    hid = net.population("hid", 3, LIF(tau_mem=20.0, tau_syn=5.0, v_th=1.0))
    net.connect(inp, hid, all_to_all(), weight=0.5, delay=1)

or load one from YAML with ``snnc.ir.load(path)`` (format in docs/describe-a-network.md).
Populations and projections are frozen models; the ``Network`` container grows while it is built,
and passes return new networks (``model_copy`` shares the arrays, which are read-only).
"""

from __future__ import annotations

from typing import Any, Iterator, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .connect import MAX_POPULATION_SIZE, AllToAll, Connector, Explicit, FixedProbability, OneToOne
from .errors import NetworkError
from .neurons import Neuron
from .plasticity import Plasticity
from .sources import Source
from .values import Int, Value, _Frozen

FORMAT_VERSION: Literal[1] = 1


class Population(_Frozen):
    """A named group of ``size`` neurons of one kind, or of one spike source."""

    name: str = Field(min_length=1)
    size: Int = Field(ge=1, le=MAX_POPULATION_SIZE)  # int32 neuron indices
    neuron: Neuron | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "Population":
        if (self.neuron is None) == (self.source is None):
            raise ValueError("a population has exactly one of 'neuron' or 'source'")
        return self

    @property
    def is_source(self) -> bool:
        return self.source is not None

    @property
    def kind(self) -> str:
        """The neuron or source kind, e.g. ``lif`` or ``poisson``."""
        return (self.neuron or self.source).kind  # type: ignore[union-attr]


class Projection(_Frozen):
    """Synapses from population ``pre`` to population ``post`` (YAML keys ``from`` and ``to``).

    ``weight`` and ``delay`` are scalars, per-connection arrays or seeded distributions; delays are
    integer steps >= 1. ``weight_exp`` and ``num_weight_bits`` are Loihi's per-connection shift of the
    summed input (``a = sum(w) << weight_exp``) and weight precision; other targets ignore them.
    ``plasticity`` (default none: frozen weights) is a learning rule's parameters, e.g.
    ``Stdp(...)`` (docs/learning.md); its weights change while the network runs.
    """

    name: str = Field(min_length=1)
    pre: str
    post: str
    connect: Connector
    weight: Value
    delay: Value = 1
    weight_exp: Int = Field(default=0, ge=-8, le=7)
    num_weight_bits: Int = Field(default=8, ge=1, le=8)
    plasticity: Plasticity = None


class Network(BaseModel):
    """A spiking network: ``dt`` in milliseconds, populations by name, projections in order."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, validate_assignment=True)

    name: str = Field(min_length=1)
    dt: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    populations: dict[str, Population] = Field(default_factory=dict)
    projections: list[Projection] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    format: Literal[1] = FORMAT_VERSION

    def __init__(self, name: str | None = None, /, **data: Any) -> None:
        if name is not None:
            data["name"] = name
        super().__init__(**data)

    # ---- builder -------------------------------------------------------------------------------
    def population(self, name: str, size: int, neuron: Any) -> Population:
        """Add a population of ``size`` neurons of the given kind (``LIF(...)``, ``LoihiLIF(...)``...)."""
        return self._add(_build(Population, dict(name=name, size=size, neuron=neuron),
                                f"populations.{name}"))

    def source(self, name: str, size: int, source: Any) -> Population:
        """Add a spike source population (``spike_times(...)`` or ``poisson(...)``)."""
        return self._add(_build(Population, dict(name=name, size=size, source=source),
                                f"populations.{name}"))

    def connect(
        self,
        pre: Population | str,
        post: Population | str,
        connect: Any = None,
        *,
        weight: Any,
        delay: Any = 1,
        name: str | None = None,
        plasticity: Any = None,
        **loihi_options: Any,
    ) -> Projection:
        """Add a projection (default rule ``all_to_all``); returns it. Checked immediately.
        ``plasticity``: a learning rule (``Stdp(...)``) or None for frozen weights."""
        pre_name = pre if isinstance(pre, str) else pre.name
        post_name = post if isinstance(post, str) else post.name
        projection = _build(Projection, dict(
            name=name or self._free_projection_name(pre_name, post_name),
            pre=pre_name,
            post=post_name,
            connect=connect if connect is not None else AllToAll(),
            weight=weight,
            delay=delay,
            plasticity=plasticity,
            **loihi_options,
        ), f"projections[{len(self.projections)}]")
        from .verify import check_projection

        check_projection(self, projection, where=f"projections[{len(self.projections)}]")
        self.projections.append(projection)
        return projection

    def _add(self, population: Population) -> Population:
        if population.name in self.populations:
            raise NetworkError(f"population '{population.name}' already exists",
                               where=f"populations.{population.name}")
        from .verify import check_population

        check_population(population, where=f"populations.{population.name}")
        self.populations[population.name] = population
        return population

    def _free_projection_name(self, pre: str, post: str) -> str:
        taken = {p.name for p in self.projections}
        base = f"{pre}->{post}"
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}#{k}"
        return name

    # ---- queries -------------------------------------------------------------------------------
    def projection(self, name: str) -> Projection:
        """The projection of that name."""
        for projection in self.projections:
            if projection.name == name:
                return projection
        raise NetworkError(f"no projection named '{name}'")

    def neuron_populations(self) -> Iterator[Population]:
        """Populations that are simulated (not sources), in order."""
        return (p for p in self.populations.values() if not p.is_source)

    def source_populations(self) -> Iterator[Population]:
        """Spike-source populations, in order."""
        return (p for p in self.populations.values() if p.is_source)

    @property
    def neuron_count(self) -> int:
        """Number of neurons, sources included."""
        return sum(p.size for p in self.populations.values())

    def save(self, path: str) -> None:
        """Write YAML (format 1) with an NPZ beside it for the arrays; ``load`` gives it back exactly."""
        from .io import save

        save(self, path)


def _build(model: type, fields: dict[str, Any], where: str) -> Any:
    """Validate a builder call's fields; a failure is a NetworkError at the field's path."""
    from .io import build

    return build(model, fields, where)


# ---- small constructors so that building a network reads like PyNN/NIR code ---------------------
def spike_times(times: Any = (), ids: Any = ()) -> Any:
    """Explicit spikes: ``times[k]`` steps and ``ids[k]`` neuron indices."""
    from .sources import SpikeTimes

    return SpikeTimes(times=np.asarray(times, dtype=np.int64), ids=np.asarray(ids, dtype=np.int64))


def poisson(rate_hz: Value, seed: int = 0) -> Any:
    """Poisson spikes at ``rate_hz`` per neuron, drawn from ``seed``."""
    from .sources import Poisson

    return Poisson(rate_hz=rate_hz, seed=seed)


def all_to_all(allow_self: bool = True) -> AllToAll:
    """Connect every pre neuron to every post neuron."""
    return AllToAll(allow_self=allow_self)


def one_to_one() -> OneToOne:
    """Connect neuron i to neuron i."""
    return OneToOne()


def fixed_probability(p: float, seed: int = 0, allow_self: bool = True) -> FixedProbability:
    """Connect each pair independently with probability ``p``."""
    return FixedProbability(p=p, seed=seed, allow_self=allow_self)


def explicit(pre: Any, post: Any) -> Explicit:
    """Connect ``pre[k] -> post[k]``."""
    return Explicit(pre=np.asarray(pre), post=np.asarray(post))


def normal(mean: float, std: float, seed: int = 0) -> Any:
    """A seeded normal distribution for weights, delays (rounded) or parameters."""
    from .values import Normal

    return Normal(normal=(mean, std), seed=seed)


def uniform(lo: float, hi: float, seed: int = 0) -> Any:
    """A seeded uniform distribution (integers lo..hi inclusive for delays)."""
    from .values import Uniform

    return Uniform(uniform=(lo, hi), seed=seed)

