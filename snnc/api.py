"""The Python API: build a network, then ``compile``, ``run`` and ``verify`` it, as the CLI does.

    import snnc

    net = snnc.Network("demo", dt=1.0)            # or snnc.load("net.yaml"), snnc.from_nir(...)
    ...
    build = snnc.compile(net, "loihi-sim")        # a Build: mapping, per-core report, fits
    result = build.run(200)                       # a Run: spikes per population
    check = snnc.verify(build, steps=200)         # truthy when identical to the reference

Every function takes a ``Network`` or a ``Build``; errors are the CLI's (``SnncError`` with where
they came from). The CLI commands ``snnc compile``, ``snnc run`` and ``snnc verify`` call the same
compiler and backends.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence, Union

import numpy as np

from snnc.backends import SpikeRecord, first_divergence, get_backend
from snnc.backends.spikes import Divergence
from snnc.ir import Network, spike_times, verify as _check_graph
from snnc.ir.errors import NetworkError, SnncError
from snnc.models.support import check_network
from snnc.models.targets import REFERENCE, get_target

if TYPE_CHECKING:
    from snnc.compiler.artifacts import CompiledBuild

Inputs = Mapping[str, Union[tuple[Any, Any], Iterable[Any]]]
"""Replacement spikes per source population: ``{"inp": (times, ids)}`` or an encoder's
``Spikes`` (``snnc.encode.rate(...)``)."""


def validate(net: Network, target: str | None = None) -> None:
    """Check a network's graph (sizes, indices, delays, ranges) and, with ``target``, that the
    target can run every population exactly (``snnc validate --target``); raises the first
    problem as a one-line ``SnncError``."""
    _check_graph(net)
    if target is not None:
        check_network(net, get_target(target))


@dataclass(frozen=True)
class Run:
    """The result of running a network or build on one target."""

    target: str
    numerics: str | None
    record: SpikeRecord

    @property
    def steps(self) -> int:
        return self.record.steps

    @property
    def spikes(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{population: (times, ids)}`` (int32, sorted by step, then neuron)."""
        return self.record.spikes

    @property
    def voltages(self) -> dict[str, np.ndarray]:
        """``{population: steps x neurons}`` of the populations asked for with ``record_v``."""
        return self.record.voltages

    @property
    def total(self) -> int:
        return self.record.total

    @property
    def weights(self) -> dict[str, Any]:
        """``{projection: WeightRecord}`` of the projections asked for with ``record_weights``
        (``.pre``, ``.post``, ``.weights``, and with an interval ``.steps``, ``.history``)."""
        return self.record.weights

    def counts(self, population: str) -> np.ndarray:
        """Spikes per neuron of ``population`` over the run."""
        times, ids = self.spikes[population]
        size = int(ids.max()) + 1 if ids.size else 0
        return np.bincount(ids, minlength=size)

    def rate_hz(self, population: str, size: int) -> float:
        """Mean firing rate of a population of ``size`` neurons, in Hz (dt in ms)."""
        seconds = self.record.steps * self.record.dt / 1000.0
        return self.spikes[population][0].size / (size * seconds) if seconds and size else 0.0

    def save(self, path: str | Path) -> None:
        """The spikes file ``snnc run -o`` writes (NPZ: ``P.times``, ``P.ids``, steps, dt)."""
        self.record.save(path)

    def to_pandas(self) -> Any:
        """One row per spike: population, step, neuron (needs pandas)."""
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError as error:
            raise SnncError("to_pandas() needs pandas: pip install pandas") from error
        frames = [pd.DataFrame({"population": name, "step": times, "neuron": ids})
                  for name, (times, ids) in self.spikes.items()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["population", "step", "neuron"])

    def __repr__(self) -> str:
        how = f", {self.numerics} numerics" if self.numerics else ""
        return f"Run({self.target}{how}: {self.total:,} spikes over {self.steps:,} steps)"


@dataclass(frozen=True)
class Verification:
    """A target against the reference in that target's numerics; truthy when spike-identical."""

    target: str
    numerics: str
    steps: int
    spikes: int  # neuron spikes compared
    divergence: Divergence | None
    synapses: int = 0  # plastic synapses whose final weights were compared
    weight_divergence: str | None = None  # the first differing synapse, when spikes agree

    def __bool__(self) -> bool:
        return self.divergence is None and self.weight_divergence is None

    def __str__(self) -> str:
        head = f"{self.target} differs from the reference ({self.numerics} numerics)"
        if self.divergence is not None:
            return f"{head}: {self.divergence}"
        if self.weight_divergence is not None:
            return f"{head}: {self.weight_divergence}"
        weights = (f"; final weights of {self.synapses:,} plastic synapses identical"
                   if self.synapses else "")
        return (f"{self.target} matches the reference ({self.numerics} numerics): "
                f"{self.spikes:,} neuron spikes identical over {self.steps:,} steps{weights}")


class Build:
    """A compiled network (``snnc.compile``): its quantized network, mapping and per-core report.

    ``build.fits`` says whether every core is within its limits; ``build.report`` is the per-core
    report (``print(build.report_text())`` shows the table ``snnc compile`` prints).
    """

    def __init__(self, compiled: "CompiledBuild") -> None:
        self.compiled = compiled

    @property
    def target(self) -> str:
        return self.compiled.target

    @property
    def network(self) -> Network:
        """The network the backends run (quantized for a chip target)."""
        return self.compiled.network

    @property
    def report(self) -> Any:
        return self.compiled.report

    @property
    def fits(self) -> bool:
        return bool(self.compiled.report.fits)

    def report_text(self) -> str:
        """The per-core report as ``report.txt`` holds it."""
        return str(self.compiled.report.to_text())

    def run(self, steps: int, inputs: Inputs | None = None, record_v: Sequence[str] = (),
            numerics: str | None = None, progress: bool = False) -> Run:
        """Run on the build's target (``numerics`` only for the reference target;
        ``progress``: a bar on a terminal for runs longer than ~2 s, see ``snnc.progress``)."""
        return run(self, self.target, steps, inputs=inputs, record_v=record_v, numerics=numerics,
                   progress=progress)

    def save(self, directory: str | Path) -> None:
        """Write the build directory ``snnc compile -o`` writes (atomically)."""
        from snnc.compiler import save_build

        save_build(self.compiled, directory)

    def __repr__(self) -> str:
        return (f"Build({self.network.name!r} for {self.target}: "
                f"{'fits' if self.fits else 'does not fit'})")


def compile(net: Network, target: str, hardware: Any = None, **options: Any) -> Build:  # noqa: A001
    """Compile ``net`` for ``target`` (``loihi-sim``, ``spinnaker-emu``, ``reference``) on
    ``hardware`` (a name such as ``"loihi2"`` or a spec; the target's default when None).

    ``options``: ``strategy`` and ``max_neurons_per_core`` (the mapping), the rest are the
    quantization options of ``snnc compile --option KEY=VALUE``.
    """
    from snnc.compiler import compile_network
    from snnc.compiler.passes.quantize import QuantizeOptions

    mapping = {key: options.pop(key) for key in ("strategy", "max_neurons_per_core")
               if key in options}
    quantize = QuantizeOptions.parse([f"{k}={v}" for k, v in options.items()]) if options else None
    return Build(compile_network(net, target, hardware, quantize_options=quantize, **mapping))


def _with_inputs(source: Any, inputs: Inputs | None) -> Any:
    if not inputs:
        return source
    network = source if isinstance(source, Network) else source.network
    populations = dict(network.populations)
    for name, given in inputs.items():
        population = populations.get(name)
        if population is None or not population.is_source:
            known = ", ".join(p.name for p in network.source_populations()) or "none"
            raise NetworkError(f"'{name}' is not a spike-source population (sources: {known})",
                               where=f"inputs[{name!r}]")
        times, ids = (np.asarray(a) for a in given)
        populations[name] = population.model_copy(update={"source": spike_times(times, ids)})
    replaced = network.model_copy(update={"populations": populations})
    return replaced if isinstance(source, Network) else dataclasses.replace(source,
                                                                            network=replaced)


def _source(net_or_build: Network | Build) -> Any:
    return net_or_build.compiled if isinstance(net_or_build, Build) else net_or_build


def _numerics(target: str, numerics: str | None, source: Any) -> str | None:
    if target != REFERENCE:
        if numerics is not None:
            raise SnncError(f"numerics apply to the {REFERENCE} target only", where="numerics")
        return None
    if numerics is not None:
        return numerics
    return get_target(getattr(source, "target", REFERENCE)).numerics


def run(net_or_build: Network | Build, target: str = REFERENCE, steps: int = 100, *,
        inputs: Inputs | None = None, record_v: Sequence[str] = (),
        numerics: str | None = None,
        record_weights: Sequence[str] | Mapping[str, int] = (), progress: bool = False) -> Run:
    """Simulate a network or a build on ``target`` for ``steps`` steps.

    A network is compiled for a chip target first (as ``snnc run NET.yaml`` does); the reference
    runs ``numerics`` (``float``, ``loihi``, ``spinnaker``; a build's own target numerics by
    default). ``inputs`` replaces source populations' spikes. ``record_weights``: plastic
    projections whose final weights to keep (names), or ``{name: every}`` to also keep their
    weights at the end of every ``every``-th step (``Run.weights``). ``progress``: a progress
    bar on stderr where ``snnc.progress`` allows it (a terminal, a run longer than ~2 s; the
    spikes are the same either way).
    """
    source = _with_inputs(_source(net_or_build), inputs)
    chosen = _numerics(target, numerics, source)
    options: dict[str, Any] = {"numerics": chosen} if chosen else {}
    wanted = (dict(record_weights) if isinstance(record_weights, Mapping)
              else {name: 0 for name in record_weights})
    if wanted:
        options["record_weights"] = wanted
    record = get_backend(target).run(source, steps, record_v=tuple(record_v),
                                     progress=progress, **options)
    network = source if isinstance(source, Network) else source.network
    return Run(target, chosen, without_internal(record, network))


def without_internal(record: SpikeRecord, network: Network) -> SpikeRecord:
    """The record without the compiler's relay populations (a build's
    ``internal_populations``); the compiler is imported only for a build that has some."""
    if not network.metadata.get("internal_populations"):
        return record
    from snnc.compiler.passes.delays import without_internal as drop_relays

    return drop_relays(record, network)


def verify(net_or_build: Network | Build, target: str | None = None, steps: int = 100, *,
           inputs: Inputs | None = None) -> Verification:
    """Run ``target`` (a build's own by default) and the reference in that target's numerics on
    the same build; compare every neuron's spikes (``snnc verify``)."""
    source = _source(net_or_build)
    target = target or getattr(source, "target", None)
    if target is None:
        raise SnncError("verify needs a target for a network", where="target")
    target = get_target(target).name
    if isinstance(source, Network):
        source = compile(source, target).compiled
    elif source.target != target:
        raise SnncError(f"build was compiled for '{source.target}', not '{target}'",
                        where="target")
    return compare(_with_inputs(source, inputs), target, steps)


def compare(build: Any, target: str, steps: int, *, progress: bool = False) -> Verification:
    """Run a compiled build on ``target`` and on the reference in that target's numerics and
    compare every neuron's spikes, the compiler's relay neurons included (they must agree too;
    the count leaves them out). ``snnc verify`` and :func:`verify` both call this."""
    numerics = get_target(target).numerics
    plastic = {p.name: 0 for p in build.network.projections if p.plasticity is not None}
    weights: dict[str, Any] = {"record_weights": plastic} if plastic else {}
    got = get_backend(target).run(build, steps, progress=progress, **weights)
    expected = get_backend(REFERENCE).run(build, steps, numerics=numerics, progress=progress,
                                          **weights)
    from snnc.compiler.passes.delays import internal_populations

    neurons = [p.name for p in build.network.neuron_populations()]
    hidden = set(internal_populations(build.network))
    count = sum(expected.spikes[name][0].size for name in neurons if name not in hidden)
    return Verification(target, numerics, steps, count,
                        first_divergence(expected, got, neurons),
                        sum(r.pre.size for r in expected.weights.values()),
                        first_weight_divergence(expected.weights, got.weights))


def first_weight_divergence(expected: Mapping[str, Any], got: Mapping[str, Any]) -> str | None:
    """The first plastic synapse (projection order, then synapse order) whose final weight
    differs, as one line; None when all are identical."""
    for name, want in expected.items():
        have = got.get(name)
        if have is None:
            return f"projection '{name}': the target returned no weights"
        if have.weights.shape != want.weights.shape or not np.array_equal(have.pre, want.pre) \
                or not np.array_equal(have.post, want.post):
            return f"projection '{name}': the target's synapses differ from the reference's"
        differ = np.flatnonzero(have.weights != want.weights)
        if differ.size:
            k = int(differ[0])
            return (f"first weight divergence: projection '{name}', synapse {k} (pre "
                    f"{int(want.pre[k])} -> post {int(want.post[k])}): expected "
                    f"{want.weights[k]!r}, got {have.weights[k]!r} ({differ.size:,} of "
                    f"{want.weights.size:,} synapses differ)")
    return None


__all__ = ["Build", "Run", "Verification", "compile", "run", "validate", "verify"]
