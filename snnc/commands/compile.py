"""``snnc compile``, ``snnc report`` and ``snnc targets``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from snnc.compiler.hardware import BUILTIN
from snnc.ir.errors import SnncError
from snnc.ir.text import counted
from snnc.models.targets import COMPILE_TARGETS, TARGETS

from .common import NET_ARGUMENT, load_network, say

BUILD_FILES = ("network.yaml", "network.npz", "routing.npz")
# files of an earlier build that a failed compile must not leave beside its partial report
STALE_ON_FAILURE = (*BUILD_FILES, "mapping.json", "report.png")
# every build file: a new build (or partial report) replaces all of them, keeps other files
BUILD_FILES_ALL = (*STALE_ON_FAILURE, "report.json", "report.txt")


@click.command("compile")
@NET_ARGUMENT
@click.option("--target", "-t", required=True,
              type=click.Choice(COMPILE_TARGETS),
              help="What to compile for (reference: the float network, report only).")
@click.option("--hardware", default=None, metavar="NAME|SPEC.yaml",
              help=f"A built-in spec ({', '.join(BUILTIN)}; snnc targets lists their limits) "
                   "or a spec file (default: the target's).")
@click.option("--strategy", type=click.Choice(["greedy", "graph"]), default="greedy",
              show_default=True, help="greedy: network order; graph: traffic-aware (Louvain).")
@click.option("--max-neurons-per-core", type=click.IntRange(min=1), default=None,
              help="Cap on neurons per core, below the hardware's own limit.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="A quantization option (as for snnc quantize), e.g. weight_bits=6. Repeatable.")
@click.option("--rates", "rates", multiple=True, metavar="POP=HZ",
              help="Expected firing rate of a population, for the real-time load (SpiNNaker). "
                   "Repeatable; default: sources' own rates, 10 Hz for neurons.")
@click.option("--estimate-rates", type=click.IntRange(min=1, max=1_000_000), default=None,
              metavar="STEPS", help="Measure every neuron's rate in a float reference run of "
                                    "STEPS steps first (before --rates).")
@click.option("--time-scale-factor", type=click.FloatRange(min=0, min_open=True, max=1e6),
              default=None, help="Run each tick this many times slower than real time "
                                 "(sPyNNaker's time_scale_factor; default: the hardware's, 1).")
@click.option("--plot", is_flag=True, help="Also write BUILD_DIR/report.png (needs matplotlib).")
@click.option("--output", "-o", "build_dir", required=True, metavar="BUILD_DIR",
              help="Folder for report.json, report.txt, the compiled network and mapping.")
def compile_command(net: str, target: str, hardware: str | None, strategy: str,
                    max_neurons_per_core: int | None, options: tuple[str, ...],
                    rates: tuple[str, ...], estimate_rates: int | None,
                    time_scale_factor: float | None, plot: bool, build_dir: str) -> None:
    """Validate, quantize, partition, place and route NET for TARGET; write BUILD_DIR.

    Exit 1 when the network does not fit: one line per violated limit, partial report written.
    """
    from snnc.compiler import compile_network, save_build
    from snnc.compiler.build import write_report_files
    from snnc.compiler.passes.quantize import QuantizeOptions
    from snnc.ir.outputs import Outputs, check_dir_target

    check_dir_target(build_dir)  # refused before any work: a symlink, a file, a device...
    if plot:
        from snnc.plot import require_matplotlib

        require_matplotlib("--plot")  # one line, before any work, when the extra is missing
    quantize_options = QuantizeOptions.parse(options)
    if max_neurons_per_core is not None:
        _check_neuron_cap(target, hardware)  # refused before any work, like a bad spec
    network = load_network(net, run=True)
    if not any(True for _ in network.neuron_populations()):
        raise SnncError("the network has no neuron populations: nothing to compile",
                        where="populations", file=net)
    stage_lines: list[str] = []  # printed once the compile ends, so an error stays one line
    from snnc.progress import Bar

    # a pulse on stderr for compiles longer than ~2 s (snnc.progress: a terminal, not --quiet)
    with Bar(None, "compiling", "stages") as bar:

        def hook(stage: str, seconds: float, _artifact: object) -> None:
            stage_lines.append(f"  {stage:<10} {seconds:8.3f} s")
            bar.update(len(stage_lines), f"(last: {stage})")

        try:
            from snnc.compiler.mapping.load import parse_rates

            build = compile_network(network, target, hardware, strategy=strategy,
                                    max_neurons_per_core=max_neurons_per_core, hook=hook,
                                    quantize_options=quantize_options,
                                    rates=parse_rates(rates, network),
                                    estimate_rates=estimate_rates,
                                    time_scale_factor=time_scale_factor)
        except SnncError as error:
            error.located(file=net)
            raise
    say("\n".join(stage_lines), err=True)
    report = build.report
    # every file of the build (or of the partial report) appears at once, in place of the old
    # build's files (the new folder is assembled beside it and swapped in)
    with Outputs(directory=build_dir, drop=BUILD_FILES_ALL) as outputs:
        with outputs.collect():
            if not report.fits:
                write_report_files(report, build_dir)
            else:
                save_build(build, build_dir)
                if plot:
                    from snnc.plot import plot_heatmap

                    plot_heatmap(report, build.hardware, str(Path(build_dir) / "report.png"))
        outputs.commit()
    if not report.fits:
        for line in report.violations:
            click.echo(f"{net}: {line}", err=True)
        click.echo(f"{net}: does not fit {report.hardware} "
                   f"({counted(len(report.violations), 'violation')}); "
                   f"partial report in {build_dir}/report.txt", err=True)
        sys.exit(1)
    t = report.totals
    say(f"{net}: compiled for {target} on {report.hardware}: {counted(t['cores'], 'core')} "
        f"(lower bound {t['lower_bound']}), {counted(t['chips'], 'chip')}, "
        f"{counted(t['neurons'], 'neuron')}, {counted(t['synapses'], 'synapse')}, "
        f"{counted(report.routing.total_entries, 'router entry', 'router entries')} "
        f"-> {build_dir}")


def _check_neuron_cap(target: str, hardware: str | None) -> None:
    """Refuse ``--max-neurons-per-core`` where it cannot apply (exit 2, as ``snnc run`` refuses
    ``--numerics`` off the reference target): the partitioner does not split a ``conv`` chip's
    layers (one whole layer per core) nor a ``fixed`` chip's one core, so the cap would be
    ignored without a word."""
    from snnc.compiler.hardware import hardware_for
    from snnc.compiler.mapping.rules import chip_label

    spec = hardware_for(target, hardware)
    why = {"conv": "puts each layer (neuron population) whole on one core",
           "fixed": "is one core of fixed input, hidden and output counts"}.get(spec.core_model)
    if why is not None:
        raise SnncError(f"{chip_label(spec)} ({spec.name}, core model {spec.core_model}) {why}, so a "
                        "cap on neurons per core cannot apply — drop the option",
                        where="--max-neurons-per-core")


def _read_report(build_dir: str):
    from snnc.compiler.build import reason
    from snnc.compiler.report import ResourceReport

    path = Path(build_dir) / "report.json"
    if not path.is_file():
        raise SnncError("no report.json: compile first with 'snnc compile NET --target T -o DIR'",
                        file=build_dir)
    try:
        return ResourceReport.model_validate_json(path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - malformed JSON or fields
        raise SnncError(f"corrupted build folder: {reason(exc)}", where="report.json",
                        file=build_dir) from None


@click.command("report")
@click.argument("build_dir", metavar="BUILD_DIR", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="table: report.txt; json: report.json; csv: one row per core.")
@click.option("--plot", is_flag=True, help="Write BUILD_DIR/report.png (needs matplotlib).")
def report_command(build_dir: str, fmt: str, plot: bool) -> None:
    """Print the resource report of a build (also of one that did not fit)."""
    report = _read_report(build_dir)
    text = {"table": report.to_text, "json": report.to_json, "csv": report.to_csv}[fmt]()
    if not plot:
        click.echo(text, nl=False)
        return
    if plot:
        from snnc.compiler.build import reason
        from snnc.compiler.hardware import HardwareSpec, load_hardware
        from snnc.ir.outputs import check_file_target
        from snnc.plot import plot_heatmap, require_matplotlib

        require_matplotlib("--plot")  # one line when the extra is missing

        mapping = Path(build_dir) / "mapping.json"
        check_file_target(Path(build_dir) / "report.png", where="--plot")
        try:
            spec = (HardwareSpec(**json.loads(mapping.read_text())["hardware"])
                    if mapping.is_file() else load_hardware(report.hardware))
        except SnncError:
            raise
        except Exception as exc:  # noqa: BLE001 - malformed JSON or fields
            raise SnncError(f"corrupted build folder: {reason(exc)}", where="mapping.json",
                            file=build_dir) from None
        try:
            plot_heatmap(report, spec, str(Path(build_dir) / "report.png"))
        except SnncError:
            raise
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise SnncError(f"corrupted build folder: report.json and mapping.json do not "
                            f"agree ({reason(exc)})", where="report.json",
                            file=build_dir) from None
        click.echo(text, nl=False)
        say(f"wrote {Path(build_dir) / 'report.png'}", err=True)


@click.command("targets")
@click.option("--support", "show_support", is_flag=True,
              help="Print the support matrix: which models and features each target runs.")
@click.option("--json", "as_json", is_flag=True, help="With --support: as JSON.")
def targets_command(show_support: bool, as_json: bool) -> None:
    """List targets, hardware specs and every limit (⚠ = uncertain, see the note)."""
    from snnc.compiler.hardware import BUILTIN, load_hardware

    if show_support or as_json:
        from .support import echo_support

        echo_support(as_json)
        return
    click.echo("targets:")
    for target in TARGETS.values():
        note = "" if target.quantizes else " (float network, no quantization)"
        click.echo(f"  {target.name:<14} default hardware {target.hardware}: {target.summary}{note}")
    for name in BUILTIN:
        spec = load_hardware(name)
        click.echo(f"\n{name}: {spec.description}")
        click.echo(f"  {'topology':<26} {spec.topology}, {counted(len(spec.chips()), 'chip')} "
                   f"({spec.chips_x}x{spec.chips_y}{', torus' if spec.wrap else ''})")
        fields = spec.listed_fields()  # the rules of its core model only
        for field, value in fields.items():
            flag = " ⚠" if field in spec.uncertain else ""
            shown = "not limited" if value is None else (f"{value:,}" if isinstance(value, int)
                                                         and not isinstance(value, bool) else value)
            click.echo(f"  {field:<26} {shown}{flag}")
        for field, note in spec.uncertain.items():
            click.echo(f"  ⚠ {field}: {note}")


COMMANDS = [compile_command, report_command, targets_command]
