"""``snnc run`` (simulate on a target, write spikes) and ``snnc verify`` (a target vs the reference).

    snnc run NET.yaml|BUILD_DIR --target reference --numerics loihi --steps 1000 -o spikes.npz
    snnc verify NET.yaml|BUILD_DIR --target loihi-sim --steps 200
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from snnc.api import without_internal
from snnc.backends import SpikeRecord, get_backend
from snnc.ir import Network, spike_times
from snnc.ir.errors import NetworkError, SnncError, VerificationError
from snnc.ir.resources import MAX_STEPS
from snnc.ir.text import counted
from snnc.models.targets import REFERENCE, TARGETS, VERIFY_TARGETS
from snnc.progress import quiet

from . import run_mpi
from .common import check_network, load_network, say

NUMERICS = ("float", "loihi", "spinnaker")
TARGET_NUMERICS = {t.name: t.numerics for t in TARGETS.values()}


def load_source(path: str, steps: int | None = None, record_v: tuple[str, ...] = ()) -> Any:
    """A network YAML, or a build directory written by ``snnc compile`` (its CompiledBuild);
    either is estimated (``snnc.ir.resources``) for ``steps`` steps before anything runs."""
    if Path(path).is_dir():
        from snnc.compiler import load_build  # lazy: only builds need the compiler

        build = load_build(path)
        check_network(build.network, path, steps=steps, record_v=record_v, run=True)
        return build
    if not Path(path).exists():
        raise NetworkError("no such file or build directory", file=path)
    return load_network(path, steps=steps, record_v=record_v, run=True)


def build_target(source: str) -> str:
    """The target a build directory was compiled for (``--target`` left out); a network file
    needs ``--target``."""
    mapping = Path(source) / "mapping.json"
    if not Path(source).is_dir():
        raise SnncError("a network file needs --target (a build directory carries its own)",
                        where="--target", file=source)
    try:
        target = json.loads(mapping.read_text(encoding="utf-8"))["target"]
    except (OSError, ValueError, KeyError, TypeError):
        load_source(source)  # the build folder's own one-line error
        raise SnncError("not a build directory (no target in mapping.json)", file=source) from None
    if target not in TARGETS:
        raise SnncError(f"mapping.json names unknown target '{target}'", file=source)
    return str(target)


def provenance_path(output: str) -> Path:
    """The provenance file of a spikes file: ``OUT.provenance.json`` beside ``OUT.npz`` (its
    ``.npz`` suffix replaced), so that two runs in one folder keep their own."""
    path = Path(output)
    stem = path.name[:-len(".npz")] if path.name.lower().endswith(".npz") else path.name
    return path.with_name(f"{stem}.provenance.json")


def latest_provenance_path(output: str) -> Path:
    """``provenance.json`` beside the spikes file: the same report, of the latest run written to
    that folder, under the name the file-format contract gives it (docs/cli.md#snnc-run)."""
    return Path(output).with_name("provenance.json")


def _check_not_the_networks_arrays(source: str, output: str) -> None:
    """``snnc run net.yaml -o net.npz`` would replace the network's own arrays (``save`` puts
    them in ``<stem>.npz`` beside the YAML; a build in ``network.npz``) with spikes: refused."""
    given = Path(source)
    arrays = given / "network.npz" if given.is_dir() else given.with_suffix(".npz")
    try:
        same = Path(output).resolve() == arrays.resolve()
    except (OSError, RuntimeError):
        same = False
    if same:
        raise SnncError(f"refusing to write spikes over the network's own arrays ({arrays}); "
                        "choose another -o", where="--output", file=output)


def network_of(source: Any) -> Network:
    """The network a source runs: the network itself, or a build's quantized network."""
    return source if isinstance(source, Network) else source.network


def _input_spikes(spec: str, network: Network) -> tuple[str, np.ndarray, np.ndarray]:
    """Parse and check one ``--input POP=FILE.npz``; returns (population, times, ids)."""
    name, sep, file = spec.partition("=")
    if not sep or not name or not file:
        raise SnncError(f"expected POP=FILE.npz, got '{spec}'", where="--input")
    pop = network.populations.get(name)
    if pop is None or not pop.is_source:
        sources = ", ".join(p.name for p in network.source_populations()) or "none"
        raise NetworkError(f"'{name}' is not a spike-source population (sources: {sources})",
                           where=f"--input {name}")
    times, ids = read_spike_arrays(file, ("times", "ids"), f"--input {name}")
    _check_input(times, ids, pop.size, file, name)
    return name, times.astype(np.int64), ids.astype(np.int64)


def read_spike_arrays(file: str, keys: tuple[str, str], where: str) -> tuple[np.ndarray, ...]:
    """Two 1-D integer arrays of an NPZ file (an ``--input``), headers checked before reading."""
    from snnc.ir.io import open_npz, read_member

    path = Path(file)
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "no such file"
        raise NetworkError(f"cannot read spikes file: {reason}", file=file, where=where)
    with open_npz(path, "spikes file", where, file=file) as data:
        missing = [k for k in keys if k not in data.files]
        if missing:
            raise NetworkError(f"missing key(s) {', '.join(missing)} (needs 'times' and 'ids')",
                               file=file, where=where)
        return tuple(read_member(data, key, f"'{key}'", where, kinds="iu", ndim=1, file=file)
                     for key in keys)


def _check_input(times: np.ndarray, ids: np.ndarray, size: int, file: str, name: str) -> None:
    where = f"--input {name}"
    if times.ndim != 1 or times.shape != ids.shape:
        raise NetworkError(f"'times' and 'ids' must be 1-D of equal length, got shapes "
                           f"{times.shape} and {ids.shape}", file=file, where=where)
    for key, array in (("times", times), ("ids", ids)):
        if array.size and (array.dtype.kind not in "iu" or array.min() < 0):
            raise NetworkError(f"'{key}' must be non-negative integers", file=file, where=where)
        if array.size and int(array.max()) > MAX_STEPS:
            raise NetworkError(f"'{key}' holds {int(array.max())}, above {MAX_STEPS} (int32)",
                               file=file, where=where)
    if ids.size and ids.max() >= size:
        raise NetworkError(f"neuron id {int(ids.max())} out of range for '{name}' of size {size}",
                           file=file, where=where)


def replace_inputs(source: Any, specs: tuple[str, ...]) -> Any:
    """The source with each ``--input`` population's spikes replaced (a copy; input untouched)."""
    if not specs:
        return source
    network = network_of(source)
    populations = dict(network.populations)
    for spec in specs:
        name, times, ids = _input_spikes(spec, network)
        populations[name] = populations[name].model_copy(update={"source": spike_times(times, ids)})
    replaced = network.model_copy(update={"populations": populations})
    if isinstance(source, Network):
        return replaced
    return dataclasses.replace(source, network=replaced)


def _numerics_for(target: str, numerics: str | None, source: Any) -> str | None:
    if target != REFERENCE:
        return None
    if numerics is not None:
        return numerics
    build_target = getattr(source, "target", REFERENCE)
    return TARGET_NUMERICS.get(build_target, "float")


def _populations_with_spikes(record: SpikeRecord) -> int:
    return sum(1 for times, _ in record.spikes.values() if times.size)


@click.command()
@click.argument("source", metavar="NET.yaml|BUILD_DIR", type=click.Path())
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=None,
              help="The backend to run (default: a build directory's own target).")
@click.option("--steps", required=True, type=click.IntRange(min=0, max=MAX_STEPS),
              help="Steps to simulate.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Spikes file to write (NPZ: P.times, P.ids per population, steps, dt).")
@click.option("--numerics", type=click.Choice(NUMERICS), default=None,
              help="Reference numerics (default: float, or the build's target numerics).")
@click.option("--input", "inputs", multiple=True, metavar="POP=FILE.npz",
              help="Replace a source population's spikes (keys 'times', 'ids'). Repeatable.")
@click.option("--record-v", "record_v", multiple=True, metavar="POP",
              help="Also store POP's voltage per step as 'POP.v'. Repeatable.")
@click.option("--record-weights", "record_weights", multiple=True, metavar="PROJ[:EVERY]",
              help="Also store plastic projection PROJ's synapses and final weights (PROJ.pre, "
                   "PROJ.post, PROJ.weights) and, with EVERY, its weights every EVERY steps "
                   "(PROJ.weight_steps, PROJ.weight_history). Repeatable.")
@click.option("--ranks", type=int, default=None, metavar="N",
              help="Run on N MPI ranks (mpiexec; needs snnc[mpi]): the same spikes for every N "
                   "(docs/mpi.md).")
@click.option("--mpi-worker", "mpi_worker", is_flag=True, hidden=True)
def run(source: str, target: str | None, steps: int, output: str, numerics: str | None,
        inputs: tuple[str, ...], record_v: tuple[str, ...],
        record_weights: tuple[str, ...], ranks: int | None = None,
        mpi_worker: bool = False) -> None:
    """Simulate a network or a build on a target and write its spikes."""
    from snnc.ir.outputs import Outputs, check_file_target

    target = target or build_target(source)
    if ranks is not None or mpi_worker or run_mpi.under_mpi():  # docs/mpi.md
        if record_weights:
            raise SnncError("--record-weights does not run under MPI ranks yet",
                            where="--record-weights")
        return run_mpi.dispatch(ranks, mpi_worker, source, target, steps, output, numerics,
                                inputs, record_v)

    if target != REFERENCE and numerics is not None:
        raise SnncError(f"--numerics applies to --target {REFERENCE} only", where="--numerics")
    check_file_target(output)  # refused before any work: a symlink, a directory, a device...
    _check_not_the_networks_arrays(source, output)
    backend = get_backend(target)
    save_provenance = getattr(backend, "save_provenance", None)  # spinnaker-emu's counters
    provenance = provenance_path(output) if save_provenance is not None else None
    if provenance is not None:
        check_file_target(provenance)
        check_file_target(latest_provenance_path(output))
    loaded = replace_inputs(load_source(source, steps, record_v), inputs)
    chosen = _numerics_for(target, numerics, loaded)
    options: dict[str, Any] = {"numerics": chosen} if chosen else {}
    options["progress"] = True  # shown only where snnc.progress allows (a terminal, --progress)
    if record_weights:
        wanted = parse_record_weights(record_weights)
        from snnc.backends.reference import check_record_weights

        check_record_weights(network_of(loaded), wanted)
        options["record_weights"] = wanted
    started = time.perf_counter()
    try:
        record = backend.run(loaded, steps, record_v=record_v, **options)
    except SnncError as error:
        error.located(file=source)
        raise
    elapsed = time.perf_counter() - started
    record = without_internal(record, network_of(loaded))
    with Outputs() as outputs:  # the spikes and OUT.provenance.json appear together
        with outputs.collect():
            record.save(output, network_of(loaded))
            if save_provenance is not None and provenance is not None:
                save_provenance(provenance)
                save_provenance(latest_provenance_path(output))
        outputs.commit()
    how = f"{target}, {chosen} numerics" if chosen else target
    say(f"{output}: {counted(record.total, 'spike')} from "
        f"{counted(_populations_with_spikes(record), 'population')} in "
        f"{counted(steps, 'step')} ({how}, {elapsed:.2f} s)")
    if provenance is not None and not quiet():
        _print_provenance(backend, provenance)


def parse_record_weights(values: tuple[str, ...]) -> dict[str, int]:
    """``PROJ`` or ``PROJ:EVERY`` (EVERY a whole number >= 1) -> ``{PROJ: EVERY or 0}``."""
    wanted: dict[str, int] = {}
    for value in values:
        name, sep, every = value.rpartition(":")
        if not sep or not every.strip().isdigit():
            name, every = value, "0"
        if not name or (sep and int(every) < 1):
            raise SnncError(f"expected PROJ or PROJ:EVERY with EVERY >= 1, got '{value}'",
                            where="--record-weights")
        wanted[name] = int(every)
    return wanted


def _print_provenance(backend: Any, path: Path) -> None:
    """Targets that report what the hardware would do (spinnaker-emu) write OUT.provenance.json
    beside the spikes file OUT.npz and print it as tables."""
    from .common import console

    for item in backend.provenance_renderables():
        console().print(item)
    click.echo(f"{path}: provenance written")


def _compiled(source: Any, target: str) -> Any:
    """A build for ``target``: the loaded build itself, or the network compiled now."""
    if not isinstance(source, Network):
        if source.target != target:
            raise SnncError(f"build was compiled for '{source.target}', not '{target}'",
                            where="--target")
        return source
    from snnc.compiler import compile_network  # lazy: the compiler is only needed here

    return compile_network(source, target)


@click.command()
@click.argument("source", metavar="NET.yaml|BUILD_DIR", type=click.Path())
@click.option("--target", "-t", type=click.Choice(VERIFY_TARGETS), default=None,
              help="The backend to check against the reference, in that target's numerics "
                   "(default: a build directory's own target).")
@click.option("--steps", required=True, type=click.IntRange(min=0, max=MAX_STEPS),
              help="Steps to simulate.")
@click.option("--input", "inputs", multiple=True, metavar="POP=FILE.npz",
              help="Replace a source population's spikes (keys 'times', 'ids'). Repeatable.")
def verify(source: str, target: str | None, steps: int, inputs: tuple[str, ...]) -> None:
    """Run a target and the reference (with the target's numerics); compare spike for spike.

    Exit 0 and one summary line when identical; exit 1 and the first divergence (population,
    neuron, step, expected vs got) otherwise.
    """
    target = target or build_target(source)
    if target not in VERIFY_TARGETS:
        raise SnncError(f"the build's target '{target}' is the reference itself; verify checks "
                        f"one of: {', '.join(VERIFY_TARGETS)}", where="--target", file=source)
    from snnc.api import compare

    try:
        build = replace_inputs(_compiled(load_source(source, steps), target), inputs)
        check = compare(build, target, steps, progress=True)
    except SnncError as error:
        error.located(file=source)
        raise
    if not check:
        raise VerificationError(str(check), file=source)
    say(f"{source}: {check}")


COMMANDS = [run, verify]
