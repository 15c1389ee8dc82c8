"""``save_build`` / ``load_build``: a compiled build as a directory, so running needs no recompiling.

``BUILD_DIR`` holds::

    report.json    the ResourceReport (per core, + routing, quantization, violations:
    docs/compile.md)
    report.txt     the same as tables
    network.yaml   the QUANTIZED network every backend runs (+ network.npz for its arrays)
    mapping.json   hardware spec, cores and slices, placement, keys, multicast groups, delay stages
    routing.npz    per-chip routing tables: arrays "X,Y/keys", "X,Y/masks", "X,Y/routes" (uint32)

The files appear together (``snnc.ir.outputs``), and the same input gives byte-identical files
(sorted keys, no timestamps, numbers formatted the same way).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from snnc.ir import load
from snnc.ir.errors import SnncError
from snnc.ir.io import atomic_write, open_npz, read_member
from snnc.ir.outputs import Outputs, current_outputs

from .artifacts import (
    CompiledBuild,
    Core,
    CoreSlice,
    Partitioning,
    Placement,
    Routing,
    RoutingTable,
)
from .hardware import HardwareSpec
from .report import ResourceReport

MAPPING_FORMAT = 1


def _mapping_document(build: CompiledBuild) -> dict[str, Any]:
    part, routing = build.partition, build.routing
    return {
        "format": MAPPING_FORMAT,
        "target": build.target,
        "hardware": build.hardware.model_dump(mode="json"),
        "strategy": part.strategy,
        "lower_bound": part.lower_bound,
        "traffic_cut": part.traffic_cut,
        "cores": [{"id": c.id, "kind": c.kind, "extends": c.extends,
                   "slices": [[s.population, s.start, s.stop] for s in c.slices]}
                  for c in part.cores],
        "placement": [[core, *loc] for core, loc in sorted(build.placement.location.items())],
        "keys": [[core, base, mask] for core, (base, mask) in sorted(routing.keys.items())],
        "neuron_bits": [[core, bits] for core, bits in sorted(routing.neuron_bits.items())],
        "targets": [[core, list(t)] for core, t in sorted(routing.targets.items())],
        "delay_stages": [[core, list(s)] for core, s in sorted(routing.delay_stages.items())],
        "entries_raw": [[x, y, n] for (x, y), n in sorted(routing.entries_raw.items())],
    }


def _routing_arrays(routing: Routing) -> dict[str, np.ndarray]:
    arrays = {}
    for (x, y), table in sorted(routing.tables.items()):
        for name in ("keys", "masks", "routes"):
            arrays[f"{x},{y}/{name}"] = np.asarray(getattr(table, name), dtype=np.uint32)
    return arrays


BUILD_FILES = ("report.json", "report.txt", "network.yaml", "network.npz", "mapping.json",
               "routing.npz", "report.png")
"""Every file a build folder may hold: a new build replaces all of them (others are kept)."""


def _in_build(directory: Path, stage: Any) -> None:
    """Run ``stage()`` so that its writes land in ``directory`` together: staged in the current
    ``Outputs`` when there is one (the caller commits), else in a new one committed here."""
    if current_outputs() is not None:
        stage()
        return
    with Outputs(directory=directory, drop=BUILD_FILES) as outputs:
        with outputs.collect():
            stage()
        outputs.commit()


def write_report_files(report: ResourceReport, directory: str | Path) -> None:
    """report.json and report.txt (also for a build that does not fit)."""
    directory = Path(directory)

    def stage() -> None:
        atomic_write(directory / "report.json", lambda h: h.write(report.to_json()))
        atomic_write(directory / "report.txt", lambda h: h.write(report.to_text()))

    _in_build(directory, stage)


def save_build(build: CompiledBuild, directory: str | Path) -> None:
    """Write the build directory (see module docstring): every file appears at once, replacing
    an earlier build's files there (a folder's other files are kept)."""
    directory = Path(directory)

    def stage() -> None:
        build.network.save(str(directory / "network.yaml"))
        text = json.dumps(_mapping_document(build), indent=1) + "\n"
        atomic_write(directory / "mapping.json", lambda h: h.write(text))
        arrays = _routing_arrays(build.routing)
        atomic_write(directory / "routing.npz", lambda h: np.savez(h, **arrays), mode="wb")
        write_report_files(build.report, directory)

    _in_build(directory, stage)


def _quantization(document: dict | None) -> Any:
    if document is None:
        return None
    try:
        from .passes.quantize.report import QuantizationReport
    except ImportError:  # pragma: no cover - the pass ships with the compiler
        return document
    return QuantizationReport.model_validate(document)



def _routing(mapping: dict, npz: Any) -> Routing:
    tables = {}
    for name in sorted({k.split("/")[0] for k in npz.files}):
        x, y = (int(v) for v in name.split(","))
        columns = []
        for col in ("keys", "masks", "routes"):
            array = read_member(npz, f"{name}/{col}", f"routing.npz:{name}/{col}", "routing.npz",
                                kinds="iu", ndim=1)
            columns.append(np.asarray(array, dtype=np.uint32))
        if not columns[0].shape == columns[1].shape == columns[2].shape:
            raise ValueError(f"routing table {name} has columns of different lengths")
        tables[(x, y)] = RoutingTable(*columns)
    return Routing(
        keys={int(c): (int(b), int(m)) for c, b, m in mapping["keys"]},
        tables=tables,
        neuron_bits={int(c): int(b) for c, b in mapping["neuron_bits"]},
        targets={int(c): tuple(int(v) for v in t) for c, t in mapping["targets"]},
        delay_stages={int(c): tuple(int(v) for v in s) for c, s in mapping["delay_stages"]},
        entries_raw={(int(x), int(y)): int(n) for x, y, n in mapping["entries_raw"]})


def _check_mapping(cores: tuple[Core, ...], placement: Placement, network: Any,
                   hardware: HardwareSpec) -> None:
    """What the backends index with: every slice inside its population, every core placed on a
    chip of the spec, core ids 0..n-1 (a corrupted mapping.json is refused, not run)."""
    if [c.id for c in cores] != list(range(len(cores))):
        raise ValueError("core ids are not 0..n-1 in order")
    chips = set(hardware.chips())
    for core in cores:
        if core.kind not in ("neuron", "source", "delay"):
            raise ValueError(f"core {core.id} has kind {core.kind!r}")
        for piece in core.slices:
            population = network.populations.get(piece.population)
            if population is None:
                raise ValueError(f"core {core.id} holds unknown population {piece.population!r}")
            if not (isinstance(piece.start, int) and isinstance(piece.stop, int)
                    and 0 <= piece.start < piece.stop <= population.size):
                raise ValueError(f"core {core.id}: slice {piece.start}..{piece.stop} outside "
                                 f"'{piece.population}' of size {population.size}")
        location = placement.location.get(core.id)
        if location is None:
            raise ValueError(f"core {core.id} is not placed")
        if location[:2] not in chips or not 0 <= location[2] < hardware.cores_per_chip:
            raise ValueError(f"core {core.id} is placed at {location}, not on the hardware")


def load_build(directory: str | Path) -> CompiledBuild:
    """Read a build directory written by ``save_build``; a folder that is not one, or whose
    files are corrupted or do not agree, is one SnncError line."""
    directory = Path(directory)
    missing = [n for n in ("mapping.json", "network.yaml", "report.json", "routing.npz")
               if not (directory / n).is_file()]
    if missing:
        raise SnncError(f"not a build directory (missing {', '.join(missing)}); "
                        "create one with 'snnc compile NET.yaml --target T -o DIR'",
                        file=str(directory))
    network = load(directory / "network.yaml")
    part = "mapping.json"
    try:
        mapping = json.loads((directory / "mapping.json").read_text())
        part = "report.json"
        report = ResourceReport.model_validate_json((directory / "report.json").read_text())
        part = "mapping.json"
        cores = tuple(Core(int(c["id"]), c["kind"], tuple(CoreSlice(str(p), int(a), int(b))
                                                          for p, a, b in c["slices"]),
                           None if c["extends"] is None else int(c["extends"]))
                      for c in mapping["cores"])
        hardware = HardwareSpec(**mapping["hardware"])
        placement = Placement({int(c): (int(x), int(y), int(p))
                               for c, x, y, p in mapping["placement"]})
        _check_mapping(cores, placement, network, hardware)
        part = "routing.npz"
        npz = open_npz(directory / "routing.npz", "routing.npz", "routing.npz")
        with npz:
            part = "mapping.json"
            routing = _routing(mapping, npz)
        part = "report.json"
        quantization = _quantization(report.quantization)
        build = CompiledBuild(
            target=str(mapping["target"]), hardware=hardware, network=network,
            quantization=quantization,
            partition=Partitioning(cores, str(mapping["strategy"]), int(mapping["lower_bound"]),
                                   float(mapping["traffic_cut"])),
            placement=placement, routing=routing, report=report)
    except SnncError as error:
        raise error.located(file=str(directory)) from None
    except Exception as exc:  # noqa: BLE001 - any malformed content is a corrupted build
        raise SnncError(f"corrupted build folder: {reason(exc)}", where=part,
                        file=str(directory)) from None
    return build


def reason(exc: BaseException) -> str:
    """One line saying why a file's content was refused (a pydantic error: its first problem)."""
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        return f"{loc + ': ' if loc else ''}{error['msg']}"
    return " ".join(str(exc).split()) or type(exc).__name__
