"""The ``snnc`` command line (click). Each command family lives in ``snnc/commands/<family>.py``
and exposes ``COMMANDS``; this file only builds the group and turns errors into one-line messages.

Exit codes (docs/cli.md): 0 success; 1 a check failed (verify mismatch, does not fit);
2 bad input or usage. ``--debug`` shows the traceback of an error instead of the one line.
"""

from __future__ import annotations

import importlib
import signal
import sys
import traceback

import click

from snnc import __version__, progress
from snnc.ir.errors import SnncError, one_line
from snnc.ir.outputs import note_interrupt
from snnc.ir.resources import parse_size, set_limit

# click >= 8.2 raises this for a bare `snnc`; older clicks print the help and exit themselves
NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())

QUIET_HELP = ("Only results and errors: no progress bars, stage timings or notes on stderr "
              "(also after any command).")
PROGRESS_HELP = ("Progress bars even when stderr is not a terminal (--no-progress: never). "
                 "Default: on a terminal, for work longer than about 2 s.")

# Add a module here to add its COMMANDS to the CLI.
COMMAND_MODULES = (
    "snnc.commands.network",
    "snnc.commands.plot",
    "snnc.commands.compile",
    "snnc.commands.nir",
    "snnc.commands.quantize",
    "snnc.commands.run",
    "snnc.commands.lava_dl",
    "snnc.commands.export_pynn",
)


class SnncGroup(click.Group):
    """A click group that prints errors as one line, ``FILE: WHERE: WHAT`` (docs/cli.md), and
    exits with the error's code (2 for bad input or usage)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SnncError as error:
            if (ctx.obj or {}).get("debug"):
                traceback.print_exc()
            else:
                click.echo(str(error), err=True)
            ctx.exit(error.exit_code)
        except click.UsageError as error:
            if (ctx.obj or {}).get("debug"):
                raise
            click.echo(usage_line(error), err=True)
            ctx.exit(error.exit_code)
        except (MemoryError, RecursionError) as error:
            # what the estimates did not foresee: still one line, never a traceback
            if (ctx.obj or {}).get("debug"):
                raise
            what = ("out of memory; lower the request or see --max-memory"
                    if isinstance(error, MemoryError) else "input nested too deeply")
            sub = ctx.invoked_subcommand or ""
            click.echo(f"snnc {sub}: {what}".replace("snnc : ", "snnc: "), err=True)
            ctx.exit(2)


def usage_line(error: click.UsageError) -> str:
    """A usage error as one line naming the command (click prints usage, a hint and the error)."""
    where = error.ctx.command_path if error.ctx else "snnc"
    return one_line(f"{where}: {error.format_message()}")


def _max_memory(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_size(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


@click.group(cls=SnncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="snnc")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option("--max-memory", metavar="SIZE", default=None, callback=_max_memory,
              help="Memory limit for snnc's estimates (e.g. 8GiB, 512M; default: the memory "
                   "available, or $SNNC_MAX_MEMORY).")
@click.option("--allow-outside-paths", is_flag=True,
              help="Let network files read NPZ arrays outside their own folder.")
@click.option("--quiet", "-q", is_flag=True, help=QUIET_HELP)
@click.option("--progress/--no-progress", "show_progress", default=None, help=PROGRESS_HELP)
@click.pass_context
def cli(ctx: click.Context, debug: bool, max_memory: int | None,
        allow_outside_paths: bool, quiet: bool, show_progress: bool | None) -> None:
    """snnc: compile spiking networks for Loihi (Lava) and SpiNNaker, and verify them."""
    ctx.obj = {"debug": debug, "allow_outside_paths": allow_outside_paths}
    set_limit(max_memory)
    progress.reset()  # each invocation (also several in one process, as in tests) starts afresh
    progress.configure(quiet=quiet, progress=show_progress)


def _set_quiet(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        progress.configure(quiet=True)


def _set_progress(_ctx: click.Context, _param: click.Parameter, value: bool | None) -> None:
    if value is not None:
        progress.configure(progress=value)


def add_shared_options(command: click.Command) -> None:
    """``--quiet``/``-q`` and ``--progress/--no-progress`` after every command too (the same
    switches as before it: ``snnc -q run ...`` = ``snnc run ... -q``)."""
    taken = {name for param in command.params for name in getattr(param, "opts", ())}
    if "--quiet" not in taken:
        command.params.append(click.Option(["--quiet", "-q"] if "-q" not in taken else ["--quiet"],
                                           is_flag=True, expose_value=False, callback=_set_quiet,
                                           help=QUIET_HELP))
    if "--progress" not in taken:
        command.params.append(click.Option(["--progress/--no-progress"], default=None,
                                           expose_value=False, callback=_set_progress,
                                           help=PROGRESS_HELP))


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        add_shared_options(_command)
        cli.add_command(_command)


_interrupted: list[int] = []  # the signal that interrupted this process, if any


def _on_signal(signum: int, _frame: object) -> None:
    """SIGINT and SIGTERM unwind the stack (so staged outputs are dropped, nothing half-written
    appears); outputs being renamed into place hold both signals until they are all there. The
    signal is also noted, so that no output is committed later even where a library swallows the
    KeyboardInterrupt (numba's compiler callbacks ignore exceptions)."""
    _interrupted.append(signum)
    note_interrupt(signum)
    raise KeyboardInterrupt


def _unraisable(hook: object) -> object:
    """``sys.unraisablehook`` that stays silent about the KeyboardInterrupt of an interrupt
    raised where Python cannot propagate it (the process stops at its next commit or exit)."""

    def quiet(info: object) -> None:
        if _interrupted and isinstance(getattr(info, "exc_value", None), KeyboardInterrupt):
            return
        hook(info)  # type: ignore[operator]

    return quiet


def _interrupt_code() -> int:
    signum = _interrupted[0] if _interrupted else signal.SIGINT
    click.echo(f"snnc: interrupted by {signal.Signals(signum).name}; outputs are either complete "
               "or untouched", err=True)
    return 128 + int(signum)


def main() -> None:
    """Console entry point: errors in the top-level options are one line too (``snnc --bogus``);
    SIGINT/SIGTERM end with one line and exit 128 + the signal number."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)
    sys.unraisablehook = _unraisable(sys.unraisablehook)  # type: ignore[assignment]
    stop = {signal.SIGINT, signal.SIGTERM}
    try:
        code = _main()
        signal.pthread_sigmask(signal.SIG_BLOCK, stop)
        if _interrupted:  # a swallowed interrupt: the command ended, its outputs were refused
            code = _interrupt_code()
    except BaseException as error:  # noqa: BLE001 - anything after an interrupt is the interrupt
        signal.pthread_sigmask(signal.SIG_BLOCK, stop)
        if isinstance(error, SystemExit):
            _quiet_exit(stop)
            raise
        if _interrupted or isinstance(error, KeyboardInterrupt):
            code = _interrupt_code()
        else:
            _quiet_exit(stop)
            raise
    _quiet_exit(stop)
    sys.exit(code or 0)


def _quiet_exit(stop: set) -> None:
    """The command is over (its outputs committed or dropped): a signal now, or during the
    interpreter's teardown (which restores the default handlers), is ignored rather than turning
    a finished command into a kill or a traceback."""
    for signum in stop:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, stop)


def _main() -> int:
    try:
        code = cli.main(prog_name="snnc", standalone_mode=False)
    except NO_ARGS_IS_HELP as error:  # plain `snnc`: the help, as click prints it
        click.echo(error.format_message(), err=True)
        code = error.exit_code
    except click.UsageError as error:  # in snnc's own options; the commands' are caught above
        click.echo(usage_line(error), err=True)
        code = error.exit_code
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    except click.Abort:
        if _interrupted:
            return _interrupt_code()
        click.echo("Aborted!", err=True)
        code = 1
    return code or 0
