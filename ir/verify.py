"""Graph-level checks of a network: what one field alone cannot tell.

``verify(net)`` raises the first problem as a ``NetworkError`` whose ``where`` is the YAML path;
``diagnostics(net)`` lists them all. Loading and the builder run these checks, and the compiler runs
them again after each pass under ``--verify-each``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .connect import Explicit, OneToOne, connection_count
from .errors import NetworkError
from .neurons import LoihiLIF, SpinnakerLIF
from .sources import SpikeTimes
from .values import Normal, Uniform, check_range

if TYPE_CHECKING:
    from .network import Network, Population, Projection

LOIHI_WEIGHT_MIN, LOIHI_WEIGHT_MAX = -256, 255  # Lava clips Dense weights to 8 bit + sign
SPINNAKER_WEIGHT_MAX = 0xFFFF  # 16-bit ring-buffer weight magnitude
MAX_DELAY_STEPS = 2**16 - 1  # the IR's own bound; targets have smaller ones


def _per_neuron_arrays(population: "Population", where: str) -> None:
    model = population.neuron or population.source
    for field, value in model:  # type: ignore[union-attr]
        if field in ("times", "ids"):
            continue
        if isinstance(value, np.ndarray) and value.shape != (population.size,):
            raise NetworkError(
                f"has {value.size} values, expected one per neuron ({population.size})",
                where=f"{where}.{'neuron' if population.neuron else 'source'}.{field}",
            )


def check_population(population: "Population", where: str) -> None:
    """Checks that involve a population's size."""
    _per_neuron_arrays(population, where)
    source = population.source
    if isinstance(source, SpikeTimes) and source.ids.size and source.ids.max() >= population.size:
        raise NetworkError(
            f"neuron id {int(source.ids.max())} out of range for size {population.size}",
            where=f"{where}.source.ids",
        )


def _check_indices(rule: Explicit, pre: "Population", post: "Population", where: str) -> None:
    for name, array, population in (("pre", rule.pre, pre), ("post", rule.post, post)):
        if array.size and (array.min() < 0 or array.max() >= population.size):
            bad = int(array.min()) if array.min() < 0 else int(array.max())
            raise NetworkError(
                f"index {bad} out of range for population '{population.name}' of size {population.size}",
                where=f"{where}.connect.{name}",
            )


def _check_delay(projection: "Projection", where: str) -> None:
    delay = projection.delay
    if isinstance(delay, Normal):
        return  # drawn values are checked at expansion
    if isinstance(delay, Uniform):
        low, high = delay.integer_bounds()
        if delay.uniform[0] < 1:
            raise NetworkError(f"delays must be >= 1 step, got uniform{list(delay.uniform)}",
                               where=f"{where}.delay")
        if high < low:
            raise NetworkError(f"delays are whole steps: uniform{list(delay.uniform)} holds no "
                               "integer", where=f"{where}.delay")
        if high > MAX_DELAY_STEPS:
            raise NetworkError(f"delays must be <= {MAX_DELAY_STEPS} steps, got "
                               f"uniform{list(delay.uniform)}", where=f"{where}.delay")
        return
    try:
        check_range(delay, ge=1, le=MAX_DELAY_STEPS, integer=True)
    except ValueError as error:
        raise NetworkError(f"delay {error}", where=f"{where}.delay") from None


def _check_integer_weights(projection: "Projection", target: "Population", where: str) -> None:
    neuron = target.neuron
    if isinstance(neuron, LoihiLIF):
        lo, hi, what = LOIHI_WEIGHT_MIN, LOIHI_WEIGHT_MAX, "Loihi 8-bit weights"
    elif isinstance(neuron, SpinnakerLIF):
        lo, hi, what = -SPINNAKER_WEIGHT_MAX, SPINNAKER_WEIGHT_MAX, "SpiNNaker 16-bit weights"
    else:
        return
    if isinstance(projection.weight, (Normal, Uniform)):
        raise NetworkError(f"weights into '{target.name}' ({neuron.kind}) must be given as integers, "
                           "not a distribution", where=f"{where}.weight")
    try:
        check_range(projection.weight, ge=lo, le=hi, integer=True)
    except ValueError as error:
        raise NetworkError(f"{what} into '{target.name}': {error} (range {lo}..{hi})",
                           where=f"{where}.weight") from None


def _check_lengths(projection: "Projection", pre: "Population", post: "Population", where: str):
    count = connection_count(projection.connect, pre.size, post.size, recurrent=pre is post)
    for field in ("weight", "delay"):
        value = getattr(projection, field)
        if isinstance(value, np.ndarray):
            if count is None:
                raise NetworkError(
                    f"an array of {value.size} {field}s needs a rule with a known connection count "
                    "(all_to_all, one_to_one or explicit), not fixed_probability",
                    where=f"{where}.{field}")
            if value.size != count:
                raise NetworkError(f"has {value.size} values for {count} connections",
                                   where=f"{where}.{field}")


def check_projection(net: "Network", projection: "Projection", where: str) -> None:
    """Checks that need the network: endpoints, sizes, indices, array lengths, ranges per target."""
    for end, key in ((projection.pre, "from"), (projection.post, "to")):
        if end not in net.populations:
            known = ", ".join(net.populations) or "none"
            raise NetworkError(f"unknown population '{end}' (known: {known})", where=f"{where}.{key}")
    pre, post = net.populations[projection.pre], net.populations[projection.post]
    if post.is_source:
        raise NetworkError(f"'{post.name}' is a spike source and cannot receive synapses",
                           where=f"{where}.to")
    if any(p.name == projection.name for p in net.projections if p is not projection):
        raise NetworkError(f"duplicate projection name '{projection.name}'", where=f"{where}.name")
    if isinstance(projection.connect, OneToOne) and pre.size != post.size:
        raise NetworkError(f"one_to_one needs equal sizes, got {pre.size} and {post.size}",
                           where=f"{where}.connect")
    if isinstance(projection.connect, Explicit):
        _check_indices(projection.connect, pre, post, where)
    _check_lengths(projection, pre, post, where)
    _check_delay(projection, where)
    _check_integer_weights(projection, post, where)
    if not isinstance(projection.weight, (Normal, Uniform)):
        try:
            check_range(projection.weight)
        except ValueError as error:
            raise NetworkError(f"weight {error}", where=f"{where}.weight") from None


def diagnostics(net: "Network") -> list[NetworkError]:
    """Every problem found in the network (empty when it is valid)."""
    problems: list[NetworkError] = []
    for name, population in net.populations.items():
        try:
            check_population(population, where=f"populations.{name}")
        except NetworkError as error:
            problems.append(error)
    for index, projection in enumerate(net.projections):
        try:
            check_projection(net, projection, where=f"projections[{index}]")
        except NetworkError as error:
            problems.append(error)
    return problems


def verify(net: "Network") -> None:
    """Raise the first problem of the network, if any."""
    problems = diagnostics(net)
    if problems:
        raise problems[0]


