"""Resource estimates made from a network's description, before anything is allocated.

``check(net, ...)`` estimates, from sizes and rules alone (expected counts for ``fixed_probability``,
nothing drawn), the host memory that expanding, compiling and running the network takes, and raises
a one-line ``ResourceError`` naming the projection, population or option when one exceeds the
limit. The limit is ``--max-memory`` / ``SNNC_MAX_MEMORY`` when given, else the memory this process
can still get: the smallest of the system's available memory, the address-space limit
(``ulimit -v``) less what the process already maps, and the cgroup's limit less its use.

The figures are estimates, deliberately on the high side of what snnc's arrays take (bytes per
synapse and per neuron below); they guard against requests that cannot succeed, they are not a
profile.
"""

from __future__ import annotations

import os
import re
import resource
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from .connect import AllToAll, FixedProbability, OneToOne, expected_connections
from .errors import SnncError
from .values import Normal, Uniform

if TYPE_CHECKING:
    from .network import Network

# Host bytes per synapse while expanding (int32 pre and post, float64 weight, int16 delay, plus
# the int64 positions and the concatenated chunks that exist at the peak) and while compiling or
# running (the backends' own copies: CSR order, per-core slices, delivery arrays).
EXPAND_BYTES_PER_SYNAPSE = 32
RUN_BYTES_PER_SYNAPSE = 64
NEURON_BYTES = 96  # state and per-neuron parameters of the simulation, a few float64 each
SPIKE_BYTES = 8  # int32 time + int32 id, in memory and in the spikes file
MAX_STEPS = 2**31 - 1  # spike times are int32

ENV_VARIABLE = "SNNC_MAX_MEMORY"
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6,
          "mib": 2**20, "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12,
          "tib": 2**40}

_limit_override: int | None = None


class ResourceError(SnncError):
    """A request needs more memory (or a larger count) than snnc allows or the machine has."""


def parse_size(text: str) -> int:
    """'8GiB', '512M', '2e9', '1.5 TB' -> bytes (K/M/G/T are powers of 1000, KiB... of 1024)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        raise ValueError(f"expected a size such as 8GiB, 512M or 2e9 (bytes), got {text!r}")
    value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not value >= 1 or value > 2**62:
        raise ValueError(f"a memory limit must be between 1 byte and 4 EiB, got {text!r}")
    return int(value)


def set_limit(limit: int | None) -> None:
    """Use ``limit`` bytes (None: the memory available) for every later check in this process."""
    global _limit_override
    _limit_override = limit


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cgroup_headroom() -> int | None:
    try:
        with open("/sys/fs/cgroup/memory.max") as handle:
            text = handle.read().strip()
        if text == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as handle:
            return max(0, int(text) - int(handle.read().strip()))
    except (OSError, ValueError):
        return None


def available_memory() -> int:
    """Bytes this process can still allocate, as far as the system says (see module docstring)."""
    candidates = [c for c in (_meminfo_available(), _cgroup_headroom()) if c is not None]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        candidates.append(max(0, soft - _mapped_bytes()))
    return min(candidates) if candidates else 2**62


def memory_limit() -> tuple[int, str]:
    """(bytes, where the figure comes from) for the current process."""
    if _limit_override is not None:
        return _limit_override, "--max-memory"
    env = os.environ.get(ENV_VARIABLE)
    if env:
        try:
            return parse_size(env), ENV_VARIABLE
        except ValueError as error:
            raise ResourceError(str(error), where=ENV_VARIABLE) from None
    return available_memory(), "the memory available"


def human(count: float) -> str:
    """1536 -> '1.5 KiB' (to EiB)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(count) < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} EiB"


def _count(value: float) -> str:
    return f"{value:,.0f}" if value < 1e9 else f"{value:.3g}"


@dataclass(frozen=True)
class Estimate:
    """One item of an estimate: where it comes from, what it is, its bytes."""

    where: str
    what: str
    bytes: float


def _rule(projection, pre: int, post: int) -> str:
    rule = projection.connect
    if isinstance(rule, FixedProbability):
        return f"fixed_probability p={rule.p:g} over {pre:,} x {post:,} pairs"
    if isinstance(rule, AllToAll):
        return f"all_to_all {pre:,} x {post:,}"
    if isinstance(rule, OneToOne):
        return f"one_to_one {pre:,}"
    return "explicit"


def synapse_estimates(net: "Network", bytes_per_synapse: float) -> list[Estimate]:
    """Per projection: its (expected) synapse count and the bytes expanding it takes."""
    items = []
    for index, projection in enumerate(net.projections):
        pre = net.populations.get(projection.pre)
        post = net.populations.get(projection.post)
        if pre is None or post is None:
            continue
        rule = projection.connect
        count = expected_connections(rule, pre.size, post.size, recurrent=pre is post)
        drawn = (float(rule.p) * pre.size * post.size if isinstance(rule, FixedProbability)
                 else count)
        kind = "expected synapses" if isinstance(rule, FixedProbability) else "synapses"
        items.append(Estimate(f"projections[{index}] ({projection.name})",
                              f"{_rule(projection, pre.size, post.size)}: {_count(count)} {kind}",
                              max(count, drawn) * bytes_per_synapse))
    return items


def _largest_delay(projection) -> int:
    delay = projection.delay
    if isinstance(delay, Uniform):
        return max(1, delay.integer_bounds()[1])
    if isinstance(delay, Normal):
        mean, std = delay.normal
        return int(min(65535, max(1, mean + 6 * std)))
    try:
        import numpy as np

        return int(np.max(delay)) if np.size(delay) else 1
    except (TypeError, ValueError):
        return 1


def _pow2(n: float) -> float:
    value = 1.0
    while value < n:
        value *= 2
    return value


def run_estimates(net: "Network", steps: int, record_v: Iterable[str] = ()) -> list[Estimate]:
    """What simulating ``steps`` steps adds: neuron state, delay rings, recorded voltages, the
    spikes of Poisson sources (expected counts)."""
    items = []
    neurons = sum(p.size for p in net.populations.values())
    items.append(Estimate("populations", f"{neurons:,} neurons", neurons * NEURON_BYTES))
    delays = [_largest_delay(p) for p in net.projections]
    if delays:
        simulated = sum(p.size for p in net.neuron_populations())
        ring = _pow2(max(delays) + 1) * _pow2(simulated) * 8
        items.append(Estimate("projections", f"a delay ring of {_pow2(max(delays) + 1):,.0f} "
                              f"slots x {simulated:,} neurons", ring))
    for name in record_v:
        population = net.populations.get(name)
        if population is not None:
            items.append(Estimate(f"--record-v {name}",
                                  f"{steps:,} steps x {population.size:,} voltages",
                                  float(steps) * population.size * 8))
    for population in net.source_populations():
        rate = getattr(population.source, "rate_hz", None)
        if rate is None:
            continue
        import numpy as np

        mean_rate = float(np.mean(rate)) if np.size(rate) else 0.0
        spikes = min(1.0, mean_rate * net.dt / 1000.0) * population.size * float(steps)
        items.append(Estimate(f"populations.{population.name}",
                              f"poisson: {_count(spikes)} expected spikes in {steps:,} steps",
                              spikes * SPIKE_BYTES * 3))
    return items


def check(net: "Network", *, file: str = "", steps: int | None = None,
          record_v: Iterable[str] = (), run: bool = False) -> None:
    """Raise a ResourceError when an estimate exceeds the memory limit.

    ``run`` (compile, run, verify): the backends' copies of the synapses count too; ``steps``:
    what simulating adds (see ``run_estimates``).
    """
    limit, origin = memory_limit()
    per_synapse = RUN_BYTES_PER_SYNAPSE if run else EXPAND_BYTES_PER_SYNAPSE
    items = synapse_estimates(net, per_synapse)
    if steps is not None:
        if steps > MAX_STEPS:
            raise ResourceError(f"must be <= {MAX_STEPS:,} (spike times are int32), got {steps:,}",
                                where="--steps", file=file)
        items += run_estimates(net, steps, record_v)
    for item in items:
        if item.bytes > limit:
            raise _too_big(item.where, f"{item.what}, about {human(item.bytes)}", limit, origin,
                           file)
    total = sum(item.bytes for item in items)
    if total > limit:
        raise _too_big("network", f"all projections and state together need about "
                       f"{human(total)}", limit, origin, file)


def _too_big(where: str, what: str, limit: int, origin: str, file: str) -> ResourceError:
    how = ("raise it with --max-memory or " + ENV_VARIABLE if origin != "--max-memory"
           else "raise it with --max-memory")
    return ResourceError(f"{what}, exceeds the limit of {human(limit)} ({origin}; {how})",
                         where=where, file=file)


def check_count(count: float, limit: float, what: str, where: str, file: str = "") -> None:
    """Refuse a count read from a file (an array length, a chip count) above ``limit``."""
    if count > limit:
        raise ResourceError(f"{what} {_count(count)} exceeds the limit of {_count(limit)}",
                            where=where, file=file)


def check_bytes(nbytes: float, what: str, where: str, file: str = "") -> None:
    """Refuse an allocation of ``nbytes`` (an array stored in a file) above the memory limit."""
    limit, origin = memory_limit()
    if nbytes > limit:
        raise _too_big(where, f"{what}, {human(nbytes)}", limit, origin, file)


__all__ = ["ResourceError", "Estimate", "check", "check_bytes", "check_count", "parse_size",
           "set_limit", "memory_limit", "available_memory", "human", "MAX_STEPS"]
