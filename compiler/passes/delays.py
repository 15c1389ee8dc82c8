"""The delay-extension pass: delays above a core's maximum, exactly, through chains of relays.

``extend_delays(network, max_delay) -> (Network, DelayExtension)`` is pure (it never changes its
input). It is Loihi's counterpart of SpiNNaker's delay-extension cores (``compiler/artifacts.py``):
a Loihi core delays a synapse by at most ``D = max_delay`` steps (Lava ``DelaySparse``: 0..63 plus
the one-step hop, so ``D = 64``), so a longer delay is relayed by neurons that re-emit each spike.

For every population ``P`` with an outgoing synapse of delay ``d > D`` the pass adds relay
populations ``"P~delay1"``, ``"P~delay2"``, ... (``P``'s size, kind ``loihi_lif`` with
``du = dv = 4095``, ``vth = 0``, no bias) chained one-to-one with weight 1 and delay ``D``:
``P -> P~delay1 -> P~delay2 -> ...``. A relay gets input ``a = 1`` exactly when the neuron before
it spiked ``D`` steps earlier; then ``u = a << 6 = 64`` (``du + 1 = 4096`` clears the old ``u``),
``v = dec(v, 4095) + u = 0 + 64 > vth << 6 = 0`` (its ``v`` is always 0 before: reset after each
spike, and ``u = 0`` without input), so it spikes in that very step and holds no state. Relay ``s``
therefore spikes exactly ``s * D`` steps after ``P``. A synapse of delay ``d`` moves to come from
relay ``s = ceil(d / D) - 1`` (the same neuron index) with delay ``d - s * D`` (in ``1..D``): its
input still arrives at step ``t + d``. Synapses with ``d <= D`` stay. Only the stages some synapse
needs are created (a chain up to the largest ``s`` of each ``P``).

A projection with moved synapses is written as ``explicit`` projections, one per stage (the kept
part under its own name, stage ``s`` as ``"NAME~delay{s}"`` from the relay), each with the
projection's ``weight_exp`` and ``num_weight_bits`` and its synapses in their original order.
Weights are kept as they are. Lava (and the reference's ``loihi`` numerics) clip and truncate a
projection's weights by ONE sign mode of the whole projection, so a part whose own sign mode
would truncate its weights differently gets the weights the whole projection had after Lava's
truncation (``lava_fixed_point.quantize_weights``: what both backends used anyway); the quantizer's
weights are already on Lava's grid and are never changed. One value has no such form: a mixed-sign
projection's ``-256`` (Lava's mixed-mode floor of -255 and -256) in an all-negative part, which Lava
would clip to -255; that part gets one extra synapse of weight 1 on an unused pair, which keeps it
mixed and truncates to 0 (``_companion``; refused, naming the projection, only when every pair is
used and ``weight_exp < 0``). With ``weight_exp < 0`` each (projection, delay, neuron) sum is
floored: every original delay maps to one (stage, delay), so those sums are the same.

Relay populations are marked internal in ``network.metadata["internal_populations"]`` (a list of
names, ``INTERNAL_POPULATIONS``): a SpikeRecord of the extended network holds them (the reference
and loihi-sim alike), and ``without_internal`` drops them from what a user sees (``snnc run``'s file,
a loihi-sim run of a plain network). The pass needs integer ``loihi`` post-synaptic models (it runs
after quantization); a relay passes one spike per step, so a spike source that spikes twice in one
step for one neuron (which loihi-sim refuses) is relayed once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from snnc.ir import Network, Population, Projection, expand
from snnc.ir.connect import Explicit, OneToOne
from snnc.ir.errors import NetworkError, UnsupportedOnTarget
from snnc.ir.neurons import LoihiLIF
from snnc.ir.values import Normal, Uniform, freeze

INTERNAL_POPULATIONS = "internal_populations"
"""``network.metadata`` key: names of populations the compiler added (not the user's)."""

RELAY = LoihiLIF(du=4095, dv=4095, vth=0, bias_mant=0, bias_exp=0)
"""A relay neuron: spikes in the step its input (1) arrives, keeps no state (module docstring)."""


@dataclass(frozen=True)
class DelayExtension:
    """What the pass did: the relay populations it added and how many synapses it moved."""

    max_delay: int  # D: the longest delay left on any synapse
    relay_populations: tuple[str, ...] = ()
    relay_neurons: int = 0
    moved_synapses: int = 0  # synapses now fed by a relay (each keeps its weight)
    projections: tuple[str, ...] = ()  # the original projections that had moved synapses

    def to_json(self) -> dict[str, Any]:
        """The ``report.json`` entry ``delay_extension``."""
        return {"relay_populations": list(self.relay_populations),
                "relay_neurons": self.relay_neurons, "max_delay": self.max_delay,
                "moved_synapses": self.moved_synapses, "projections": list(self.projections)}


def internal_populations(network: Network) -> tuple[str, ...]:
    """Names of the populations the compiler added to ``network`` (relays), in order."""
    names = network.metadata.get(INTERNAL_POPULATIONS, ())
    return tuple(str(n) for n in names) if isinstance(names, (list, tuple)) else ()


def without_populations(record: Any, names: Any) -> Any:
    """A SpikeRecord (a dataclass with ``spikes`` and ``voltages``) without populations ``names``."""
    drop = set(names)
    if not drop & (set(record.spikes) | set(record.voltages)):
        return record
    return dataclasses.replace(
        record, spikes={k: v for k, v in record.spikes.items() if k not in drop},
        voltages={k: v for k, v in record.voltages.items() if k not in drop})


def without_internal(record: Any, network: Network) -> Any:
    """``record`` without ``network``'s internal (relay) populations: what a user sees."""
    return without_populations(record, internal_populations(network))


def _delay_bound(projection: Projection) -> int | None:
    """The largest delay a projection can have without expanding it (None: a normal draw)."""
    delay = projection.delay
    if isinstance(delay, Uniform):
        return delay.integer_bounds()[1]
    if isinstance(delay, Normal):
        return None
    array = np.asarray(delay)
    return int(array.max()) if array.size else 0


def _free(name: str, taken: set[str]) -> str:
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{name}#{k}"
    taken.add(candidate)
    return candidate


def _compact(values: np.ndarray) -> Any:
    """A scalar when every value is the same, else a read-only array (as the quantizer writes)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size and np.all(values == values.flat[0]):
        return int(values.flat[0])
    return freeze(np.ascontiguousarray(values))


def _part_weights(projection: Projection, weight: np.ndarray, effective: np.ndarray,
                  chosen: np.ndarray) -> np.ndarray | None:
    """The weights of one part, so that Lava's per-projection truncation gives the same values
    (None: only a zero-weight mixed-sign companion synapse can, see ``_companion``)."""
    from snnc.models.lava_fixed_point import quantize_weights

    bits = projection.num_weight_bits
    target = effective[chosen]
    for candidate in (weight[chosen], target):
        if np.array_equal(quantize_weights(candidate, bits), target):
            return candidate
    return None


def _companion(projection: Projection, index: int, pre: np.ndarray, post: np.ndarray,
               n_pre: int, n_post: int) -> tuple[int, int]:
    """A (pre, post) pair for the weight-1 synapse that keeps a part in mixed sign mode.

    Only a mixed-sign projection's ``-256`` (mixed mode keeps -256 and floors -255 to it) cannot
    be written in an all-negative part (Lava clips that to -255). With one synapse of weight 1 the
    part is mixed again: its weights keep their values (multiples of the whole projection's
    truncation step) and the 1 truncates to 0 (mixed mode drops at least one bit): it adds nothing.
    An unused pair is taken (a repeated one costs Lava an extra block, and ``weight_exp < 0``
    refuses repeats).
    """
    keys = np.unique(pre.astype(np.int64) * n_post + post)
    free = np.setdiff1d(np.arange(min(n_pre * n_post, keys.size + 1)), keys)
    if free.size:
        return int(free[0] // n_post), int(free[0] % n_post)
    if projection.weight_exp >= 0:
        return int(pre[0]), int(post[0])
    raise UnsupportedOnTarget(
        f"projection '{projection.name}': its synapses beyond the longest delay cannot be split "
        "off exactly (a mixed-sign projection's weight -256 in an all-negative part that connects "
        "every pair, with weight_exp < 0); use weights above -255", where=f"projections[{index}]")


def _split(network: Network, index: int, projection: Projection, syn: Any, max_delay: int,
           relay_of: Any, taken: set[str]) -> tuple[list[Projection], int, int]:
    """The projections replacing one with delays above ``max_delay``; (parts, moved, max stage)."""
    from snnc.models import REGISTRY

    post = network.populations[projection.post]
    if REGISTRY.get(post.kind).native_numerics != "loihi":
        raise UnsupportedOnTarget(
            f"projection '{projection.name}': delay extension needs Loihi's integer models; "
            f"'{post.name}' is '{post.kind}' (quantize first)", where=f"projections[{index}].delay")
    from snnc.models.lava_fixed_point import quantize_weights

    n_pre = network.populations[projection.pre].size
    delay = syn.delay.astype(np.int64)
    stage = (delay - 1) // max_delay  # ceil(d / D) - 1 for d >= 1
    weight = syn.weight.astype(np.int64)
    effective = quantize_weights(weight, projection.num_weight_bits).astype(np.int64)
    base = dict(projection)
    parts = []
    for s in range(int(stage.max()) + 1):
        chosen = stage == s
        if not chosen.any():
            continue
        pre, post_ids, d = syn.pre[chosen], syn.post[chosen], delay[chosen] - s * max_delay
        w = _part_weights(projection, weight, effective, chosen)
        if w is None:  # an all-negative part holding -256: keep it mixed with a weight-1 synapse
            i, j = _companion(projection, index, pre, post_ids, n_pre, post.size)
            pre, post_ids = np.append(pre, np.int32(i)), np.append(post_ids, np.int32(j))
            w, d = np.append(effective[chosen], 1), np.append(d, 1)
            kept = quantize_weights(w, projection.num_weight_bits)
            if not (np.array_equal(kept[:-1], effective[chosen]) and kept[-1] == 0):
                raise AssertionError(f"projection '{projection.name}': inexact companion synapse")
        fields = dict(base)
        fields.update(
            name=projection.name if s == 0 else _free(f"{projection.name}~delay{s}", taken),
            pre=projection.pre if s == 0 else relay_of(s),
            connect=Explicit(pre=freeze(pre), post=freeze(post_ids)),
            weight=_compact(w), delay=_compact(d))
        parts.append(Projection(**fields))
    return parts, int(np.count_nonzero(stage)), int(stage.max())


def extend_delays(network: Network, max_delay: int) -> tuple[Network, DelayExtension]:
    """``network`` with every delay above ``max_delay`` relayed (module docstring); its report."""
    if int(max_delay) != max_delay or max_delay < 1:
        raise NetworkError(f"max_delay must be a whole number >= 1, got {max_delay}")
    max_delay = int(max_delay)
    populations = dict(network.populations)
    projections: list[Projection] = []
    taken = {p.name for p in network.projections}
    stages: dict[str, int] = {}  # pre population -> relay stages its synapses need
    relays: dict[tuple[str, int], str] = {}  # (pre, stage) -> relay population
    moved, split = 0, []

    def relay_of(pre: str) -> Any:
        def name(s: int) -> str:
            if (pre, s) not in relays:
                relays[(pre, s)] = _free(f"{pre}~delay{s}", set(populations) | set(relays.values()))
            return relays[(pre, s)]
        return name

    for index, projection in enumerate(network.projections):
        bound = _delay_bound(projection)
        if bound is not None and bound <= max_delay:
            projections.append(projection)  # untouched: the same object
            continue
        syn = expand(network, projection)
        if not len(syn) or int(syn.delay.max()) <= max_delay:
            projections.append(projection)
            continue
        parts, count, top = _split(network, index, projection, syn, max_delay,
                                   relay_of(projection.pre), taken)
        projections += parts
        moved += count
        split.append(projection.name)
        stages[projection.pre] = max(stages.get(projection.pre, 0), top)
    if not split:
        return network, DelayExtension(max_delay=max_delay)
    added = []
    for pre, top in stages.items():  # one chain per pre population, in order of first need
        previous = pre
        for s in range(1, top + 1):
            relay = relay_of(pre)(s)
            populations[relay] = Population(name=relay, size=network.populations[pre].size,
                                            neuron=RELAY)
            projections.append(Projection(name=_free(f"{previous}->{relay}", taken), pre=previous,
                                          post=relay, connect=OneToOne(), weight=1,
                                          delay=max_delay, weight_exp=0, num_weight_bits=8))
            added.append(relay)
            previous = relay
    metadata = dict(network.metadata)
    metadata[INTERNAL_POPULATIONS] = [*internal_populations(network), *added]
    extended = Network(network.name, dt=network.dt, populations=populations,
                       projections=projections, metadata=metadata)
    report = DelayExtension(max_delay=max_delay, relay_populations=tuple(added),
                            relay_neurons=sum(populations[r].size for r in added),
                            moved_synapses=moved, projections=tuple(split))
    return extended, report


__all__ = ["DelayExtension", "INTERNAL_POPULATIONS", "RELAY", "extend_delays",
           "internal_populations", "without_internal", "without_populations"]
