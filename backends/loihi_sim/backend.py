"""``LoihiSimBackend``: run a network or a compiled build in Lava's fixed-point CPU simulator.

Steps: take the build's (already quantized) network or quantize a float one for Loihi; refuse what
Lava cannot express; lower to a plan (``lowering.py``); run it (``runner.py``); split the LIF
process's spikes back into populations. The result is bit-accurate to Lava and, by construction of the
reference's ``loihi`` numerics, equal to ``snnc.backends.reference.simulate(net, steps, "loihi")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from snnc.ir import Network, NetworkError, UnsupportedOnTarget
from snnc.models.registry import REGISTRY
from snnc.models.targets import TARGETS

from ..spikes import SpikeRecord, WeightRecord
from .lowering import MAX_DELAY, TARGET, LavaPlan, check_supported, plan

if TYPE_CHECKING:
    from .runner import LavaResult

_LOIHI_TARGETS = (TARGET, *TARGETS[TARGET].aliases)


def network_of(source: Any) -> Network:
    """The network to run: ``source`` itself or a compiled build's (quantized) ``.network``."""
    if isinstance(source, Network):
        return source
    target = getattr(source, "target", TARGET)
    if target not in _LOIHI_TARGETS:
        raise UnsupportedOnTarget(f"this build was compiled for '{target}', not {TARGET}",
                                  where="--target")
    network = getattr(source, "network", None)
    if not isinstance(network, Network):
        raise NetworkError(f"expected a Network or a compiled build, got {type(source).__name__}")
    return network


def loihi_network(net: Network, *, relay: bool = True) -> Network:
    """``net`` with every float population quantized to its Loihi kind (Loihi kinds pass unchanged)
    and, with ``relay``, delays above ``MAX_DELAY`` relayed (``compiler/passes/delays.py``), as
    ``snnc compile`` does (a build's network already is: the reference runs it as it is)."""
    check_supported(net)
    if any(REGISTRY.get(p.kind).native_numerics != "loihi" for p in net.neuron_populations()):
        from snnc.compiler.passes.quantize import quantize

        quantized, _report = quantize(net, "loihi")
        net = quantized.network
    if relay and TARGETS[TARGET].delay_extension:
        from snnc.compiler.passes.delays import extend_delays

        assert MAX_DELAY is not None  # loihi-sim's entry in the target table has one
        net, _extension = extend_delays(net, MAX_DELAY)
    return net


def _check_record_v(net: Network, record_v: Sequence[str]) -> None:
    for name in record_v:
        population = net.populations.get(name)
        if population is None or population.is_source:
            known = ", ".join(p.name for p in net.neuron_populations()) or "none"
            raise NetworkError(f"cannot record the voltage of '{name}' (neuron populations: {known})",
                               where="--record-v")


def _split(lava_plan: LavaPlan, result: LavaResult | None, record_v: Sequence[str]) -> SpikeRecord:
    """Each group's process-wide ids back to (population, index); sources' spikes are the given
    ones; a graded group has no spikes. ``result`` None: nothing ran (no steps, or nothing read)."""
    empty = np.zeros(0, np.int64)
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    v = {}
    for kind, group in lava_plan.groups.items():
        times, ids = result.spikes.get(kind, (empty, empty)) if result else (empty, empty)
        starts = np.array([start for start, _ in group.populations.values()], dtype=np.int64)
        owner = np.searchsorted(starts, ids, side="right") - 1  # population of each spike
        order = np.argsort(owner, kind="stable")  # keeps time order within a population
        bounds = np.searchsorted(owner[order], np.arange(starts.size + 1))
        voltages = (result.voltages.get(kind) if result else
                    np.zeros((max(lava_plan.steps, 0), group.size), np.int64))
        for k, (name, span) in enumerate(group.populations.items()):
            chosen = order[bounds[k]:bounds[k + 1]]
            events[name] = (times[chosen], ids[chosen] - starts[k])
            if name in record_v and voltages is not None:
                v[name] = voltages[:, slice(*span)].astype(np.int64)
    events.update(lava_plan.source_events)
    return SpikeRecord.from_events(lava_plan.steps, lava_plan.dt, events, v)


def _with_weights(record: SpikeRecord, lava_plan: LavaPlan, result: "LavaResult | None",
                  every: Mapping[str, int]) -> SpikeRecord:
    """The record with the plastic projections' weights (``WeightRecord``: the ``loihi_stdp``
    units, int64); with no run (0 steps), the initial weights."""
    import dataclasses

    weights = dict(record.weights)
    for block in lava_plan.plastic:
        if block.name not in every:
            continue
        final = result.weights[block.name] if result else block.weight.copy()
        steps = history = None
        if every[block.name]:
            got = result.weight_history.get(block.name, ([], [])) if result else ([], [])
            steps = np.array(got[0], np.int32)
            history = (np.stack(got[1]) if got[1] else np.zeros((0, final.size), np.int64))
        weights[block.name] = WeightRecord(block.local_pre, block.local_post, final, steps,
                                           history)
    return dataclasses.replace(record, weights=weights)


def plastic_weights(source: Any, steps: int) -> dict[str, np.ndarray]:
    """{plastic projection: final weights in synapse order} after ``steps`` steps on loihi-sim
    (int64, ``loihi_stdp``'s units: Lava's 8-bit weights before ``weight_exp``)."""
    net = network_of(source)
    names = {p.name: 0 for p in net.projections if p.plasticity is not None}
    record = LoihiSimBackend().run(source, steps, record_weights=names)
    return {name: record.weights[name].weights for name in names}


class LoihiSimBackend:
    """The ``loihi-sim`` target: Lava 0.10 ``LIF``/``Sparse``/``DelaySparse`` in ``fixed_pt``."""

    name = TARGET

    def __init__(self, *, stock_models: bool = False) -> None:
        self.stock_models = stock_models  # True: Lava's own DelaySparse model (slow, same bits)
        self.timings: dict[str, float] = {}  # wall times of the last run (s), for benchmarks
        self.process_count = 0  # Lava processes of the last run

    def run(self, source: Any, steps: int, *, record_v: Sequence[str] = (),
            **options: Any) -> SpikeRecord:
        """Spikes of ``steps`` steps (and int voltages of ``record_v``, after each step's reset)."""
        numerics = options.pop("numerics", "loihi")
        record_weights = dict(options.pop("record_weights", None) or {})
        progress = bool(options.pop("progress", False))  # a bar: Lava run in chunks of steps
        if numerics != "loihi" or options:
            bad = f"numerics '{numerics}'" if numerics != "loihi" else ", ".join(options)
            raise NetworkError(f"{TARGET} does not take {bad}", where="--target")
        given = network_of(source)
        net = loihi_network(given, relay=isinstance(source, Network))
        _check_record_v(net, record_v)
        from snnc.backends.reference import check_record_weights

        check_record_weights(net, record_weights)
        lava_plan = plan(net, steps)
        self.process_count = lava_plan.process_count
        result: LavaResult | None = None
        if steps <= 0 or lava_plan.spiking_count + lava_plan.neuron_count * bool(record_v) == 0:
            self.timings = {}
            record = _split(lava_plan, None, record_v)
        else:
            from .runner import run_plan  # imports lava

            result = run_plan(lava_plan, weights_every=record_weights,
                              record_v=bool(record_v), stock_models=self.stock_models,
                              progress=progress)
            self.timings = result.timings
            record = _split(lava_plan, result, record_v)
        if record_weights:
            record = _with_weights(record, lava_plan, result, record_weights)
        # relays this run added to a plain network are not the user's; a build's stay, as in the
        # reference's record of that build (snnc run drops them from the file it writes)
        from snnc.compiler.passes.delays import without_populations

        return without_populations(record, set(net.populations) - set(given.populations))
