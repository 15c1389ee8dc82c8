"""Evaluate many samples in one run: block-diagonal copies of a network, and per-copy readouts.

Simulators pay per step and per population far more than per neuron (Lava: about 0.4 ms per process
per step), so a test set runs fastest as ``copies`` independent copies of the network side by side:
population ``P`` of ``n`` neurons becomes ``n * copies`` neurons, neuron ``i`` of copy ``c`` being
``c * n + i``, and every projection connects copy ``c`` only to copy ``c``. Each copy keeps its own
state, so no reset between samples is needed, and quantization is unchanged (the same weights).

    batched = replicate(net, 100, sources={"input": encode.rate(images, 20, seed=1)})
    record = simulate(batched, 22)
    counts = copy_counts(record, "out", net.populations["out"].size, 100)  # (100, n_out)
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from snnc.backends.spikes import SpikeRecord
from snnc.ir.errors import NetworkError
from snnc.ir.expand import expand
from snnc.ir.network import Network, Population, explicit
from snnc.ir.sources import SpikeTimes
from snnc.models.targets import REFERENCE

__all__ = ["replicate", "copy_counts", "feedforward_lag", "run_target"]


def _tiled(value: Any, copies: int) -> Any:
    """A per-neuron parameter array repeated for every copy; scalars stay scalars."""
    return np.tile(value, copies) if isinstance(value, np.ndarray) and value.ndim else value


def _neuron_copy(population: Population, copies: int) -> Any:
    neuron: Any = population.neuron
    fields = {name: _tiled(getattr(neuron, name), copies) for name in type(neuron).model_fields}
    return type(neuron)(**fields)


def _source_copy(population: Population, copies: int, given: Any) -> Any:
    size = population.size
    if given is not None:
        times, ids = (given.times, given.ids) if isinstance(given, SpikeTimes) else tuple(given)
        ids = np.asarray(ids)
        if ids.size and ids.max() >= size * copies:
            raise NetworkError(f"input id {int(ids.max())} outside {size} x {copies} neurons",
                               where=f"populations.{population.name}")
        return SpikeTimes(times=np.asarray(times, np.int64), ids=ids.astype(np.int64))
    source = population.source
    if not isinstance(source, SpikeTimes):
        return source  # a Poisson source simply draws for all copies (independent noise per copy)
    offsets = np.repeat(np.arange(copies, dtype=np.int64) * size, source.times.size)
    return SpikeTimes(times=np.tile(source.times, copies),
                      ids=np.tile(source.ids, copies).astype(np.int64) + offsets)


def replicate(network: Network, copies: int,
              sources: Mapping[str, Any] | None = None) -> Network:
    """``copies`` block-diagonal copies of ``network`` in one network (same names, sizes x copies).

    ``sources[P]`` replaces source population ``P``'s spikes with ``(times, ids)`` (or a
    ``SpikeTimes``, or a ``snnc.encode.Spikes``) over all ``size * copies`` neurons, e.g. one
    encoded sample per copy; other ``spike_times`` sources repeat their spikes in every copy.
    """
    if copies < 1:
        raise NetworkError(f"copies must be >= 1, got {copies}", where="replicate")
    sources = dict(sources or {})
    unknown = set(sources) - {p.name for p in network.source_populations()}
    if unknown:
        raise NetworkError(f"not a source population: {sorted(unknown)}", where="replicate")
    batched = Network(f"{network.name}x{copies}", dt=network.dt,
                      metadata={**network.metadata, "replicated": copies})
    for population in network.populations.values():
        size = population.size * copies
        if population.is_source:
            batched.source(population.name, size,
                           _source_copy(population, copies, sources.get(population.name)))
        else:
            batched.population(population.name, size, _neuron_copy(population, copies))
    for projection in network.projections:
        synapses = expand(network, projection)
        pre_size = network.populations[projection.pre].size
        post_size = network.populations[projection.post].size
        offsets = np.repeat(np.arange(copies, dtype=np.int64), len(synapses))
        pre = np.tile(synapses.pre.astype(np.int64), copies) + offsets * pre_size
        post = np.tile(synapses.post.astype(np.int64), copies) + offsets * post_size
        batched.connect(projection.pre, projection.post, explicit(pre, post),
                        weight=np.tile(synapses.weight, copies),
                        delay=np.tile(synapses.delay.astype(np.int64), copies),
                        name=projection.name, weight_exp=projection.weight_exp,
                        num_weight_bits=projection.num_weight_bits)
    return batched


def copy_counts(record: SpikeRecord, population: str, size: int, copies: int,
                start: int = 0, stop: int | None = None) -> np.ndarray:
    """Spike counts per copy and neuron, shape ``(copies, size)``, over steps ``start..stop-1``."""
    times, ids = record.spikes[population]
    keep = (times >= start) & (times < (record.steps if stop is None else stop))
    counts = np.bincount(ids[keep], minlength=size * copies)[: size * copies]
    return counts.reshape(copies, size)


def feedforward_lag(network: Network, source: str, target: str) -> int:
    """Steps from a source spike to its earliest effect on ``target``'s spikes: the smallest sum of
    delays over paths ``source -> ... -> target`` (each hop costs its delay, at least one step)."""
    best = {source: 0}
    frontier = [source]
    while frontier:  # Bellman-Ford over the (small) population graph
        changed = []
        for projection in network.projections:
            delays = (expand(network, projection).delay if projection.pre in frontier
                      else np.zeros(0, np.int64))
            if len(delays):
                delay = int(delays.min())
                if best[projection.pre] + delay < best.get(projection.post, np.iinfo(np.int64).max):
                    best[projection.post] = best[projection.pre] + delay
                    changed.append(projection.post)
        frontier = changed
    if target not in best:
        raise NetworkError(f"'{target}' is not reachable from '{source}'", where="feedforward_lag")
    return best[target]


def run_target(network: Network, target: str, steps: int, *, numerics: str = "float",
               record_v: Sequence[str] = ()) -> tuple[SpikeRecord, Any]:
    """Run ``network`` on a target: ``reference`` simulates it directly with ``numerics``; a
    hardware target compiles it (``compile_network``) and runs the build on its backend.
    Returns ``(record, build)`` (``build`` is None for the reference)."""
    from snnc.backends import get_backend

    if target == REFERENCE:
        from snnc.backends.reference import simulate

        return simulate(network, steps, numerics, record_v=record_v), None
    from snnc.compiler import compile_network

    build = compile_network(network, target)
    return get_backend(target).run(build, steps, record_v=record_v), build
