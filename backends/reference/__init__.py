"""The reference simulator: what every snnc network means, bit for bit, on the CPU.

``simulate(network, steps, numerics)`` runs a network with one of three numerics:

- ``float``: every model's float update (``snnc.models``: ``lif``, ``li``); integer kinds run their
  own integer model;
- ``loihi``: Lava's fixed-point LIF and Dense/Sparse/DelaySparse arithmetic (``models/loihi_lif.py``);
- ``spinnaker``: sPyNNaker's s16.15 ``IF_curr_exp`` with uint16 ring buffers
  (``models/spinnaker_lif.py``).

For ``loihi``/``spinnaker``, float populations are first quantized by the quantization pass to the
integer model their registry entry names; integer-kind populations run as they are. What a
numerics cannot run is refused by the registry's support rules (``snnc.models.support``).
Time follows docs/numerics.md: a spike at step ``t`` through a synapse of delay ``d`` is input at
``t + d``; spikes are recorded at their step.
Voltages recorded with ``record_v`` are each step's value after the update and reset, in the
numerics' own units (float; Lava's raw 24-bit ``v``; raw s16.15 ``V``).
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping, Sequence

import numpy as np

from snnc.backends.spikes import SpikeRecord, WeightRecord
from snnc.ir import Network
from snnc.ir.errors import NetworkError, SnncError
from snnc.models import REGISTRY
from snnc.models.support import check_network
from snnc.models.targets import NUMERICS, TARGETS, target_for_numerics

from .engine import Engine
from .program import Program, lower

_PROGRESS_AFTER_S = 2.0  # show a progress bar only on runs expected to take longer than this


def prepare(network: Network, numerics: str) -> Network:
    """The network the kernels run: float populations quantized for ``loihi``/``spinnaker``."""
    if numerics not in NUMERICS:
        raise SnncError(f"unknown numerics '{numerics}' (known: {', '.join(NUMERICS)})",
                        where="--numerics")
    if numerics == "float":
        check_network(network, TARGETS["reference"])
        return network
    needs = [p for p in network.neuron_populations()
             if numerics not in REGISTRY.get(p.kind).steps]
    if not needs:
        return network
    from snnc.compiler.passes.quantize import quantize  # lazy: the compiler imports backends

    quantized, _report = quantize(network, target_for_numerics(numerics).name)
    return quantized.network


def _record_plan(program: Program, network: Network, record_v: Sequence[str]):
    """Per family, the neurons whose voltage is stored; per population, its columns."""
    per_family: dict[str, list[np.ndarray]] = {}
    columns: dict[str, tuple[str, int, int]] = {}
    for name in dict.fromkeys(record_v):
        pop = network.populations.get(name)
        if pop is None or pop.is_source:
            known = ", ".join(p.name for p in network.neuron_populations()) or "none"
            raise NetworkError(f"cannot record the voltage of '{name}': not a neuron population "
                               f"(known: {known})", where="--record-v")
        family = next(f for f in program.families.values() if name in f.populations)
        chosen = per_family.setdefault(family.name, [])
        first = sum(c.size for c in chosen)
        chosen.append(family.populations[name] + np.arange(pop.size, dtype=np.int64))
        columns[name] = (family.name, first, first + pop.size)
    record = {f: np.concatenate(parts) for f, parts in per_family.items()}
    return record, columns


def check_record_weights(network: Network, record_weights: Mapping[str, int]) -> None:
    """Every projection named must exist and be plastic; intervals are >= 0 (0: final only)."""
    plastic = [p.name for p in network.projections if p.plasticity is not None]
    for name, every in record_weights.items():
        if name not in plastic:
            exists = any(p.name == name for p in network.projections)
            why = "has no learning rule (frozen weights)" if exists else "no such projection"
            raise NetworkError(f"cannot record the weights of '{name}': {why} (plastic: "
                               f"{', '.join(plastic) or 'none'})", where="--record-weights")
        if int(every) != every or every < 0:
            raise NetworkError(f"'{name}': the interval must be a whole number >= 1, got {every}",
                               where="--record-weights")


class _WeightLog:
    """Weights of the recorded projections at the end of every ``every``-th step."""

    def __init__(self, engine: Engine, record_weights: Mapping[str, int]) -> None:
        self.engine = engine
        self.every = {name: int(every) for name, every in record_weights.items()}
        self.steps: dict[str, list[int]] = {name: [] for name in self.every}
        self.history: dict[str, list[np.ndarray]] = {name: [] for name in self.every}

    @property
    def chunk(self) -> int:
        """Steps per engine call so that every interval ends on a call's end."""
        intervals = [e for e in self.every.values() if e > 0]
        return math.gcd(*intervals) if intervals else 0

    def after(self, step: int) -> None:
        """Called after steps ``..step-1`` ran."""
        weights = None
        for name, every in self.every.items():
            if every and step % every == 0:
                weights = weights if weights is not None else self.engine.weights()
                self.steps[name].append(step - 1)
                self.history[name].append(weights[name])

    def records(self, program: Program) -> dict[str, WeightRecord]:
        final = self.engine.weights()
        out = {}
        for plastic in program.plastic:
            if plastic.name not in self.every:
                continue
            history = self.history[plastic.name]
            every = self.every[plastic.name]
            out[plastic.name] = WeightRecord(
                plastic.pre, plastic.post, final[plastic.name],
                np.array(self.steps[plastic.name], np.int32) if every else None,
                (np.stack(history) if history else np.zeros((0, plastic.pre.size),
                                                            final[plastic.name].dtype))
                if every else None)
        return out


def _run(engine: Engine, steps: int, progress: bool, log: _WeightLog) -> None:
    chunk = log.chunk
    if progress:  # no chunks for a bar that cannot be shown (--quiet, stderr not a terminal)
        from snnc.progress import bars_enabled

        progress = bars_enabled()
    if (not progress or steps < 2) and not chunk:
        engine.run()
        return
    if not progress or steps < 2:
        engine.run(on_progress=log.after, chunk_steps=chunk)
        return
    _run_with_bar(engine, steps, chunk or max(1, steps // 100), time.perf_counter(), log.after)


def _run_with_bar(engine: Engine, steps: int, chunk: int, started: float,
                  after: Any = None) -> None:
    """The engine in chunks, a progress bar on stderr once the run is expected to take longer
    than ``_PROGRESS_AFTER_S`` (``snnc.progress``: none with --quiet, none off a terminal unless
    --progress). Chunking does not change the spikes: the engine's state carries over."""
    from snnc.progress import Bar

    with Bar(steps, "simulating", show_after=_PROGRESS_AFTER_S) as bar:
        bar.started = started

        def on_progress(step: int) -> None:
            bar.update(step)
            if after is not None:
                after(step)

        engine.run(on_progress=on_progress, chunk_steps=chunk)


def _spike_record(program: Program, engine: Engine, columns, steps: int, dt: float,
                  weights: dict[str, WeightRecord]) -> SpikeRecord:
    times, ids = engine.spikes()
    names = sorted(program.bounds, key=lambda n: program.bounds[n][0])
    firsts = np.array([program.bounds[n][0] for n in names], dtype=np.int64)
    which = np.searchsorted(firsts, ids, side="right") - 1
    order = np.argsort(which, kind="stable")
    cuts = np.searchsorted(which[order], np.arange(len(names) + 1))
    events = {}
    for k, name in enumerate(names):
        chosen = order[cuts[k]:cuts[k + 1]]
        events[name] = (times[chosen], ids[chosen] - firsts[k])
    voltages = {name: engine.voltages[family][:, lo:hi]
                for name, (family, lo, hi) in columns.items()}
    return SpikeRecord.from_events(steps, dt, events, voltages, weights)


def simulate(network: Network, steps: int, numerics: str = "float", *,
             record_v: Sequence[str] = (), progress: bool = False,
             record_weights: Mapping[str, int] | None = None) -> SpikeRecord:
    """Simulate ``network`` for ``steps`` steps with the given numerics; see the module docstring.
    ``record_weights[projection] = every`` stores its final weights and, with ``every`` > 0, its
    weights at the end of every ``every``-th step (``WeightRecord``)."""
    record_weights = dict(record_weights or {})
    check_record_weights(network, record_weights)
    if int(steps) != steps or steps < 0:
        raise SnncError(f"steps must be a whole number >= 0, got {steps}", where="--steps")
    steps = int(steps)
    runnable = prepare(network, numerics)
    program = lower(runnable, steps, numerics)
    record, columns = _record_plan(program, runnable, record_v)
    engine = Engine(program, record)
    log = _WeightLog(engine, record_weights)
    _run(engine, steps, progress, log)
    return _spike_record(program, engine, columns, steps, runnable.dt, log.records(program))


class ReferenceBackend:
    """The ``reference`` target: ``run(source, steps)`` on a Network or a compiled build."""

    name = "reference"

    def run(self, source: Any, steps: int, *, record_v: Sequence[str] = (),
            numerics: str = "float", progress: bool = False,
            record_weights: Mapping[str, int] | None = None, **_options: Any) -> SpikeRecord:
        """Simulate a network (or a build's quantized ``.network``) with the given numerics."""
        network = source if isinstance(source, Network) else source.network
        return simulate(network, steps, numerics, record_v=record_v, progress=progress,
                        record_weights=record_weights)


__all__ = ["NUMERICS", "ReferenceBackend", "check_record_weights", "prepare", "simulate"]
