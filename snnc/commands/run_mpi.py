"""``snnc run ... --ranks N``: one run spread over MPI ranks (docs/mpi.md).

``--ranks N`` starts ``mpiexec -n N`` on this same command with the hidden ``--mpi-worker`` flag;
a command started by a user's own ``mpiexec``/``srun`` (an MPI world of more than one process)
runs as the workers directly. Every rank loads the network, lowers its share and runs it
(``backends/reference/distributed.py``, ``backends/spinnaker_emu/distributed.py``); rank 0 alone
writes the usual files, atomically, and prints the usual lines.

Errors: a failure before the run (loading, lowering: the same on every rank) is printed once, by
rank 0, as the usual one-line error; a failure during the run aborts the MPI job (the other ranks
would wait for it forever), and nothing is written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from snnc.ir.errors import SnncError, one_line

RANK_TARGETS = ("reference", "spinnaker-emu")
_WORLD_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "SLURM_NTASKS",
                         "MPI_LOCALNRANKS")


def _mpi4py() -> Any:
    """mpi4py's MPI module, or a one-line error saying how to install it."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise SnncError("--ranks needs mpi4py and an MPI library: pip install 'snnc[mpi]' "
                        "(mpi4py with the MPICH wheel)", where="--ranks") from None
    return MPI


def under_mpi() -> bool:
    """True when this process is one of several started by mpiexec/srun (read from the launcher's
    environment first: importing mpi4py initialises MPI, which a plain run should not pay)."""
    sizes = [os.environ.get(name, "") for name in _WORLD_SIZE_VARIABLES]
    if not any(size.isdigit() and int(size) > 1 for size in sizes):
        return False
    try:
        from mpi4py import MPI
    except ImportError:
        return False
    return bool(MPI.COMM_WORLD.Get_size() > 1)


def _mpiexec() -> str:
    """The MPICH wheel's launcher beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise SnncError("--ranks found no mpiexec (beside this Python or on PATH): pip install "
                        "'snnc[mpi]'", where="--ranks")
    return found


def _root_options() -> list[str]:
    """snnc's own options of this command line (--debug, --max-memory, --allow-outside-paths)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return []
    params = ctx.find_root().params
    options = []
    if params.get("debug"):
        options.append("--debug")
    if params.get("allow_outside_paths"):
        options.append("--allow-outside-paths")
    if params.get("max_memory") is not None:
        options += ["--max-memory", str(params["max_memory"])]
    return options


def launch(ranks: int, args: list[str]) -> None:
    """Run ``snnc run ARGS --mpi-worker`` on ``ranks`` MPI ranks; exit with their status."""
    _mpi4py()
    if ranks < 1:
        raise SnncError(f"--ranks must be at least 1, got {ranks}", where="--ranks")
    env = dict(os.environ)
    # the ranks share this machine's cores: numba's threads per rank (results never depend on it)
    env.setdefault("NUMBA_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // ranks)))
    command = [_mpiexec(), "-n", str(ranks), sys.executable, "-c",
               "import sys; from snnc.cli import main; sys.argv[0] = 'snnc'; main()",
               *_root_options(), "run", *args, "--mpi-worker"]
    code = subprocess.call(command, env=env)
    if code:
        raise SystemExit(code if code in (1, 2) or code > 128 else 2)


def worker_args(source: str, target: str, steps: int, output: str, numerics: str | None,
                inputs: tuple[str, ...], record_v: tuple[str, ...]) -> list[str]:
    """The ``snnc run`` arguments the workers get (``--ranks`` left out)."""
    args = [source, "--target", target, "--steps", str(steps), "-o", output]
    if numerics is not None:
        args += ["--numerics", numerics]
    for spec in inputs:
        args += ["--input", spec]
    for name in record_v:
        args += ["--record-v", name]
    from snnc.progress import quiet

    if quiet():  # the workers' own lines (rank 0's summary) follow the launcher's --quiet
        args.append("--quiet")
    return args


def _agree(comm: Any, error: BaseException | None) -> None:
    """Every rank learns whether any failed; rank 0 raises the first failure (one line), the
    others leave quietly with its exit code."""
    mine = None
    if error is not None:
        code = getattr(error, "exit_code", 2)
        text = str(error) if isinstance(error, SnncError) else one_line(f"{type(error).__name__}: "
                                                                        f"{error}")
        mine = (code, text)
    failures = comm.allgather(mine)
    first = next((f for f in failures if f is not None), None)
    if first is None:
        return
    if comm.rank == 0:
        if error is not None:
            raise error
        failure = SnncError(first[1])
        failure.exit_code = first[0]
        raise failure
    raise SystemExit(first[0])


def _abort_on_failure(comm: Any, action: Any) -> Any:
    """Run ``action``; if it fails on this rank alone, print it and abort the whole job."""
    try:
        return action()
    except BaseException as error:
        code = getattr(error, "exit_code", 2)
        text = str(error) if isinstance(error, SnncError) else f"{type(error).__name__}: {error}"
        click.echo(f"rank {comm.rank}: {one_line(text)}", err=True)
        sys.stderr.flush()
        comm.Abort(code if isinstance(code, int) else 2)
        raise


def run_worker(source: str, target: str, steps: int, output: str, numerics: str | None,
               inputs: tuple[str, ...], record_v: tuple[str, ...], ranks: int | None) -> None:
    """One rank of ``snnc run`` (module docstring)."""
    from . import run as single

    comm = _mpi4py().COMM_WORLD
    if ranks is not None and ranks != comm.size:
        _agree(comm, SnncError(f"--ranks {ranks} under an MPI world of {comm.size} ranks",
                               where="--ranks"))
    work: dict[str, Any] = {}
    error = None
    try:
        work = _prepare(source, target, steps, output, numerics, inputs, record_v, comm, single)
    except (SnncError, OSError, ValueError, MemoryError) as failure:
        error = failure
        if isinstance(failure, SnncError):
            failure.located(file=source)
    _agree(comm, error)
    started = time.perf_counter()
    record = _abort_on_failure(comm, work["run"])
    elapsed = time.perf_counter() - started
    stats = comm.gather(work["stats"](), root=0)
    if comm.rank == 0:
        _write(record, stats, elapsed, work, single)


def _prepare(source, target, steps, output, numerics, inputs, record_v, comm, single) -> dict:
    """Checks, load and plan (no communication); the run and its statistics as closures."""
    from snnc.ir.outputs import check_file_target

    if target not in RANK_TARGETS:
        raise SnncError(f"--ranks runs {' and '.join(RANK_TARGETS)}, not '{target}'",
                        where="--ranks")
    if target != "reference" and numerics is not None:
        raise SnncError("--numerics applies to --target reference only", where="--numerics")
    check_file_target(output)
    provenance = single.provenance_path(output) if target != "reference" else None
    if provenance is not None:
        check_file_target(provenance)
        check_file_target(single.latest_provenance_path(output))
    loaded = single.replace_inputs(single.load_source(source, steps, record_v), inputs)
    chosen = single._numerics_for(target, numerics, loaded)
    if target == "reference":
        from snnc.backends.reference import distributed

        build = None if isinstance(loaded, single.Network) else loaded
        plan = distributed.plan(single.network_of(loaded), steps, chosen or "float", comm,
                                record_v=record_v, build=build)

        def run_reference() -> Any:
            plan.run()
            return distributed.collect(plan)

        return {"run": run_reference, "stats": plan.stats.as_dict, "loaded": loaded,
                "chosen": chosen, "output": output, "provenance": None, "target": target,
                "steps": steps, "ranks": comm.size}
    from snnc.backends.spinnaker_emu import distributed as emu

    machine = emu.plan(loaded, steps, comm, record_v=record_v)
    return {"run": machine.run, "stats": machine.stats_dict, "loaded": loaded, "chosen": None,
            "output": output, "provenance": provenance, "target": target, "steps": steps,
            "ranks": comm.size, "machine": machine}


def _write(record: Any, stats: list[dict], elapsed: float, work: dict, single: Any) -> None:
    """Rank 0: the spikes (and OUT.provenance.json) written together, then the usual lines
    (none with --quiet)."""
    from snnc.api import without_internal
    from snnc.ir.outputs import Outputs
    from snnc.ir.text import counted

    record = without_internal(record, single.network_of(work["loaded"]))
    output, provenance = work["output"], work["provenance"]
    with Outputs() as outputs:
        with outputs.collect():
            record.save(output)
            if provenance is not None:
                work["machine"].save_provenance(provenance)
                work["machine"].save_provenance(single.latest_provenance_path(output))
        outputs.commit()
    from snnc.progress import quiet

    if quiet():
        return
    target, chosen, steps = work["target"], work["chosen"], work["steps"]
    how = f"{target}, {chosen} numerics" if chosen else target
    click.echo(f"{output}: {counted(record.total, 'spike')} from "
               f"{counted(single._populations_with_spikes(record), 'population')} in "
               f"{counted(steps, 'step')} ({how}, {counted(work['ranks'], 'rank')}, "
               f"{elapsed:.2f} s)")
    exchange = max(s["exchange_s"] for s in stats)
    received = sum(s["bytes_received"] for s in stats)
    click.echo(f"exchange: every {counted(stats[0]['window_steps'], 'step')}, "
               f"{received / max(steps, 1):,.0f} bytes received per step over all ranks, "
               f"at most {exchange:.2f} s per rank exchanging")
    if provenance is not None:
        for item in work["machine"].provenance_renderables():
            from .common import console

            console().print(item)
        click.echo(f"{provenance}: provenance written")


def dispatch(ranks: int | None, mpi_worker: bool, source: str, target: str, steps: int,
             output: str, numerics: str | None, inputs: tuple[str, ...],
             record_v: tuple[str, ...]) -> None:
    """``snnc run``'s MPI branch: one rank of a job (ours or a user's mpiexec), or the launcher."""
    if mpi_worker or under_mpi():
        run_worker(source, target, steps, output, numerics, inputs, record_v, ranks)
        return
    if target not in RANK_TARGETS:
        raise SnncError(f"--ranks runs {' and '.join(RANK_TARGETS)}, not '{target}'",
                        where="--ranks")
    launch(1 if ranks is None else ranks, worker_args(source, target, steps, output, numerics, inputs,
                                         record_v))
