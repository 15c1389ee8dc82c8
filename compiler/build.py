"""``save_build`` / ``load_build``: a compiled build as a directory, so running needs no recompiling.

``BUILD_DIR`` holds::

    report.json    the ResourceReport (DESIGN.md §6 keys + routing, quantization, violations)
    report.txt     the same as tables
    network.yaml   the QUANTIZED network every backend runs (+ network.npz for its arrays)
    mapping.json   hardware spec, cores and slices, placement, keys, multicast groups, delay stages
    routing.npz    per-chip routing tables: arrays "X,Y/keys", "X,Y/masks", "X,Y/routes" (uint32)

Every file is written atomically, and the same input gives byte-identical files (sorted keys, no
timestamps, numbers formatted the same way).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from snnc.ir import load
from snnc.ir.errors import SnncError
from snnc.ir.io import atomic_write

from .artifacts import (CompiledBuild, Core, CoreSlice, Partitioning, Placement, Routing,
                        RoutingTable)
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


def write_report_files(report: ResourceReport, directory: str | Path) -> None:
    """report.json and report.txt (also for a build that does not fit)."""
    directory = Path(directory)
    atomic_write(directory / "report.json", lambda h: h.write(report.to_json()))
    atomic_write(directory / "report.txt", lambda h: h.write(report.to_text()))


def save_build(build: CompiledBuild, directory: str | Path) -> None:
    """Write the build directory (see module docstring)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    build.network.save(str(directory / "network.yaml"))
    text = json.dumps(_mapping_document(build), indent=1) + "\n"
    atomic_write(directory / "mapping.json", lambda h: h.write(text))
    arrays = _routing_arrays(build.routing)
    atomic_write(directory / "routing.npz", lambda h: np.savez(h, **arrays), mode="wb")
    write_report_files(build.report, directory)


def _quantization(document: dict | None) -> Any:
    if document is None:
        return None
    try:
        from .passes.quantize_report import QuantizationReport
    except ImportError:  # pragma: no cover - the pass ships with the compiler
        return document
    return QuantizationReport.model_validate(document)



def _routing(mapping: dict, npz: Any) -> Routing:
    tables = {}
    for name in sorted({k.split("/")[0] for k in npz.files}):
        x, y = (int(v) for v in name.split(","))
        tables[(x, y)] = RoutingTable(*(npz[f"{name}/{col}"] for col in ("keys", "masks", "routes")))
    return Routing(
        keys={int(c): (int(b), int(m)) for c, b, m in mapping["keys"]},
        tables=tables,
        neuron_bits={int(c): int(b) for c, b in mapping["neuron_bits"]},
        targets={int(c): tuple(t) for c, t in mapping["targets"]},
        delay_stages={int(c): tuple(s) for c, s in mapping["delay_stages"]},
        entries_raw={(int(x), int(y)): int(n) for x, y, n in mapping["entries_raw"]})


def load_build(directory: str | Path) -> CompiledBuild:
    """Read a build directory written by ``save_build``."""
    directory = Path(directory)
    missing = [n for n in ("mapping.json", "network.yaml", "report.json", "routing.npz")
               if not (directory / n).exists()]
    if missing:
        raise SnncError(f"not a build directory (missing {', '.join(missing)}); "
                        "create one with 'snnc compile NET.yaml --target T -o DIR'",
                        file=str(directory))
    mapping = json.loads((directory / "mapping.json").read_text())
    report = ResourceReport.model_validate_json((directory / "report.json").read_text())
    cores = tuple(Core(c["id"], c["kind"], tuple(CoreSlice(*s) for s in c["slices"]), c["extends"])
                  for c in mapping["cores"])
    with np.load(directory / "routing.npz") as npz:
        routing = _routing(mapping, npz)
    return CompiledBuild(
        target=mapping["target"], hardware=HardwareSpec(**mapping["hardware"]),
        network=load(directory / "network.yaml"), quantization=_quantization(report.quantization),
        partition=Partitioning(cores, mapping["strategy"], mapping["lower_bound"],
                               mapping["traffic_cut"]),
        placement=Placement({int(c): (int(x), int(y), int(p))
                             for c, x, y, p in mapping["placement"]}),
        routing=routing, report=report)
