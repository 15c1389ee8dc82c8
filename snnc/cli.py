"""The ``snnc`` command line (click). Each command family lives in ``snnc/commands/<family>.py``
and exposes ``COMMANDS``; this file only builds the group and turns errors into one-line messages.

Exit codes (DESIGN.md §5): 0 success; 1 a check failed (verify mismatch, does not fit);
2 bad input or usage. ``--debug`` shows the traceback of an error instead of the one line.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from snnc import __version__
from snnc.ir.errors import SnncError

# click >= 8.2 raises this for a bare `snnc`; older clicks print the help and exit themselves
NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())

# Add a module here to add its COMMANDS to the CLI.
COMMAND_MODULES = (
    "snnc.commands.network",
    "snnc.commands.plot",
    "snnc.commands.compile",
    "snnc.commands.nir",
    "snnc.commands.quantize",
    "snnc.commands.run",
)


class SnncGroup(click.Group):
    """A click group that prints errors as one line, ``FILE: WHERE: WHAT`` (DESIGN.md §5), and
    exits with the error's code (2 for bad input or usage)."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
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


def usage_line(error: click.UsageError) -> str:
    """A usage error as one line naming the command (click prints usage, a hint and the error)."""
    where = error.ctx.command_path if error.ctx else "snnc"
    return f"{where}: {error.format_message()}"


@click.group(cls=SnncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="snnc")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """snnc: compile spiking networks for Loihi (Lava) and SpiNNaker, and verify them."""
    ctx.obj = {"debug": debug}


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Console entry point: errors in the top-level options are one line too (``snnc --bogus``)."""
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
        click.echo("Aborted!", err=True)
        code = 1
    sys.exit(code or 0)
