"""Expansion of a projection to explicit synapse arrays, shared by the compiler and every backend.

Everything downstream sees a projection as ``Synapses``: four aligned numpy arrays, one entry per
synapse. Expansion is vectorised and deterministic (same network, same arrays, bit for bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .connect import connection_pairs
from .errors import NetworkError
from .neurons import integer_weights
from .values import Normal, Uniform, check_drawn, limits_of, resolve
from .verify import MAX_DELAY_STEPS

if TYPE_CHECKING:
    from .network import Network, Projection


@dataclass(frozen=True)
class Synapses:
    """Synapses of one projection: ``pre[k] -> post[k]`` with ``weight[k]`` and ``delay[k]`` steps.

    ``pre``/``post`` are int32 indices within their populations. ``weight`` is float64, or int32
    when the target population takes integer (fixed-point) weights. ``delay`` is the smallest
    integer type that holds the IR's largest delay (int32 for 65,535 steps; every value >= 1).
    """

    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray

    def __len__(self) -> int:
        return int(self.pre.size)

    @property
    def nbytes(self) -> int:
        return self.pre.nbytes + self.post.nbytes + self.weight.nbytes + self.delay.nbytes


def _weights(net: "Network", projection: "Projection", count: int, where: str) -> np.ndarray:
    target = net.populations[projection.post]
    integer = integer_weights(target.kind)
    values = resolve(projection.weight, count, integer=integer)
    if integer:
        return np.ascontiguousarray(values, dtype=np.int32)
    values = np.ascontiguousarray(values, dtype=np.float64)
    if isinstance(projection.weight, (Normal, Uniform)) and not np.all(np.isfinite(values)):
        raise NetworkError("drawn weights are not finite", where=f"{where}.weight")
    return values


def _delays(projection: "Projection", count: int, where: str) -> np.ndarray:
    values = resolve(projection.delay, count, integer=True)
    if isinstance(projection.delay, (Normal, Uniform)) and count:
        low, high = int(values.min()), int(values.max())
        if low < 1 or high > MAX_DELAY_STEPS:
            bad = low if low < 1 else high
            raise NetworkError(f"drawn delay {bad} outside 1..{MAX_DELAY_STEPS}",
                               where=f"{where}.delay")
    dtype = np.int16 if MAX_DELAY_STEPS < 2**15 else np.int32
    return np.ascontiguousarray(values, dtype=dtype)


def expand(net: "Network", projection: "Projection | str") -> Synapses:
    """Expand one projection of ``net`` (given by object or name) to its synapse arrays."""
    if isinstance(projection, str):
        projection = net.projection(projection)
    index = next(i for i, p in enumerate(net.projections) if p.name == projection.name)
    where = f"projections[{index}]"
    pre_pop = net.populations[projection.pre]
    post_pop = net.populations[projection.post]
    pre, post = connection_pairs(
        projection.connect, pre_pop.size, post_pop.size, recurrent=pre_pop is post_pop
    )
    count = int(pre.size)
    try:
        weight = _weights(net, projection, count, where)
    except ValueError as error:
        raise NetworkError(str(error), where=f"{where}.weight") from None
    try:
        delay = _delays(projection, count, where)
    except ValueError as error:
        raise NetworkError(str(error), where=f"{where}.delay") from None
    return Synapses(pre=pre.astype(np.int32, copy=False), post=post.astype(np.int32, copy=False),
                    weight=weight, delay=delay)


def check_draws(net: "Network") -> None:
    """Raise the first problem that only drawing shows: a neuron parameter drawn from a
    distribution outside its range (a ``normal`` tau_mem that draws a negative value), a
    ``normal`` delay whose draws fall outside 1..65535 steps. ``verify`` checks everything else
    without drawing; ``snnc validate`` runs both, so a network it accepts also expands."""
    for name, population in net.populations.items():
        model: Any = population.neuron or population.source
        for field in type(model).model_fields:
            value = getattr(model, field)
            limits = limits_of(type(model), field)
            if limits is None or not isinstance(value, (Normal, Uniform)):
                continue
            try:
                check_drawn(value, limits, population.size)
            except ValueError as error:
                part = "neuron" if population.neuron is not None else "source"
                raise NetworkError(str(error), where=f"populations.{name}.{part}.{field}") from None
    for projection in net.projections:
        if isinstance(projection.delay, Normal):
            expand(net, projection)


def expand_all(net: "Network") -> dict[str, Synapses]:
    """Expand every projection, by name, in network order."""
    return {projection.name: expand(net, projection) for projection in net.projections}


def materialize(net: "Network", expanded: dict[str, Synapses] | None = None) -> "Network":
    """The same network with every projection as ``explicit`` pre/post/weight/delay arrays.

    Useful to freeze random connectivity into files (``save`` then writes the arrays to NPZ), or to
    hand a network to a tool that does not know snnc's rules. Scalar weights and delays stay scalar.
    """
    from .connect import Explicit
    from .values import Normal, Uniform

    expanded = expanded or expand_all(net)
    projections = []
    for projection in net.projections:
        synapses = expanded[projection.name]
        update: dict = {"connect": Explicit(pre=synapses.pre, post=synapses.post)}
        if isinstance(projection.weight, (np.ndarray, Normal, Uniform)):
            update["weight"] = synapses.weight
        if isinstance(projection.delay, (np.ndarray, Normal, Uniform)):
            update["delay"] = synapses.delay
        projections.append(projection.model_copy(update=update))
    return net.model_copy(update={"projections": projections})
