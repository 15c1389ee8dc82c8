"""``export_lava(build, steps)``: loihi-sim's Lava process graph as a standalone Python script.

The script rebuilds exactly the graph ``runner.py`` builds for the build (``lowering.plan``): one
neuron process per Loihi kind, one ``RingBuffer`` for the spike sources, the same
``Sparse``/``DelaySparse`` blocks with the same host-quantized weights, and the same empty
``Sparse`` joins between otherwise unconnected groups. Its data (the plan's arrays) goes to an
NPZ beside the script, its code does not depend on the network. Differences from loihi-sim, none
of which changes a bit:

- spikes are read from Lava's own ``lava.proc.io.sink.RingBuffer`` (``data.get()``) instead of
  snnc's file sink;
- ``DelaySparse`` runs Lava's own model (loihi-sim's cached one computes the same sums, faster).

Lava's own processes are used where they exist (``LIF``, ``SigmaDelta``, ``Sparse``,
``DelaySparse``, ``RingBuffer``); the kinds Lava has no fixed-point process for (refractory or
reset-by-subtraction LIF, ``loihi_li``, Izhikevich, ATRLIF, RF) import snnc's own ProcessModels,
named in the script's header.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from .lowering import RING, LavaPlan, plan

LAVA_LIF = "snnc.backends.loihi_sim.processes:loihi_lif"
LAVA_SIGMA_DELTA = "snnc.backends.loihi_sim.lava_procs.sigma_delta:sigma_delta_process"
SNNC_PROCESSES = {
    "snnc.backends.loihi_sim.processes:loihi_lif":
        "SnncLIF (backends/loihi_sim/lava_procs/lif.py): Lava's LIF arithmetic plus a "
        "refractory period and reset by subtraction (Lava's LIFRefractory has only a float model)",
    "snnc.backends.loihi_sim.processes:loihi_li":
        "SnncLI (backends/loihi_sim/lava_procs/li.py): a graded leaky integrator in Lava's LIF "
        "arithmetic (Lava has none)",
}


def _process_of(kind: str, lowering_process: str, arrays: dict[str, np.ndarray]) -> str:
    """``lava:LIF`` / ``lava:SigmaDelta`` where Lava's own process runs the group, else the
    snnc function loihi-sim calls (``module:function``)."""
    if lowering_process == LAVA_LIF and not (np.any(arrays["refractory"])
                                             or np.any(arrays["reset_subtract"])):
        return "lava:LIF"
    if lowering_process == LAVA_SIGMA_DELTA:
        return "lava:SigmaDelta"
    return lowering_process


def _joins(lava_plan: LavaPlan) -> list[tuple[str, str]]:
    """The empty Sparse links runner._connect_all adds: (sender kind, receiver kind)."""
    kinds = list(lava_plan.groups)
    component = {kind: kind for kind in kinds}

    def root(kind: str) -> str:
        while component[kind] != kind:
            kind = component[kind]
        return kind

    fed_by_ring = [b.receiver for b in lava_plan.blocks if b.sender == RING]
    links = [(b.sender, b.receiver) for b in lava_plan.blocks if b.sender != RING]
    links += [(fed_by_ring[0], kind) for kind in fed_by_ring[1:]]
    for a, b in links:
        component[root(a)] = root(b)
    joins = []
    for kind in kinds:
        if root(kind) != root(kinds[0]):
            joins.append((kinds[0], kind))
            component[root(kind)] = root(kinds[0])
    return joins


def plan_arrays(lava_plan: LavaPlan) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(the script's description as JSON-able data, its NPZ arrays)."""
    from .runner import quantized_weights  # Lava's weightutils, as loihi-sim quantizes

    arrays: dict[str, np.ndarray] = {}
    groups = []
    for index, (kind, group) in enumerate(lava_plan.groups.items()):
        for key, values in group.arrays.items():
            arrays[f"group{index}.{key}"] = np.asarray(values, np.int64)
        groups.append({"kind": kind, "size": group.size, "spiking": group.spiking,
                       "process": _process_of(kind, group.lowering.process, group.arrays),
                       "arrays": sorted(group.arrays), "populations": group.populations})
    blocks = []
    for index, block in enumerate(lava_plan.blocks):
        arrays[f"block{index}.pre"] = block.pre.astype(np.int64)
        arrays[f"block{index}.post"] = block.post.astype(np.int64)
        arrays[f"block{index}.weight"] = quantized_weights(block).astype(np.int32)
        arrays[f"block{index}.delay"] = block.delay.astype(np.int64)
        blocks.append({"sender": block.sender, "receiver": block.receiver,
                       "weight_exp": int(block.weight_exp), "message_bits": block.message_bits,
                       "delayed": block.delayed, "projections": list(block.projections)})
    if lava_plan.source_count:
        arrays["ring"] = lava_plan.source_raster().astype(np.int8)
    for name, (times, ids) in lava_plan.source_events.items():
        arrays[f"source.{name}.times"] = np.asarray(times, np.int32)
        arrays[f"source.{name}.ids"] = np.asarray(ids, np.int32)
    meta = {"steps": lava_plan.steps, "dt": lava_plan.dt, "groups": groups, "blocks": blocks,
            "joins": [list(pair) for pair in _joins(lava_plan)],
            "sources": {name: list(span) for name, span in lava_plan.sources.items()}}
    return meta, arrays


def _header(meta: dict[str, Any], build_dir: str, data_name: str, script_name: str) -> str:
    summary = (f"It is the graph snnc's loihi-sim target builds (docs/export-lava.md): "
               f"{len(meta['groups'])} neuron process(es), "
               f"{'one RingBuffer of spike sources, ' if meta['sources'] else ''}"
               f"{len(meta['blocks'])} Sparse/DelaySparse block(s), {len(meta['joins'])} empty "
               f"join(s); {meta['steps']} steps of {meta['dt']:g} ms. Its arrays are in "
               f"{data_name} beside this file.")
    lines = [f"Lava process graph of the snnc build {build_dir!r} ({meta['network']}), "
             "written by `snnc export-lava`.", "", *textwrap.wrap(summary, 96), "", "Processes:"]
    for group in meta["groups"]:
        process = group["process"]
        where = (f"Lava's own {process[5:]}" if process.startswith("lava:") else
                 "snnc's " + SNNC_PROCESSES.get(process, f"ProcessModel {process}"))
        lines.append(f"- {group['kind']} ({group['size']} neurons): {where}")
    snnc_needed = any(not g["process"].startswith("lava:") for g in meta["groups"])
    lines += ["", "snnc import: " + ("needed for the processes marked snnc's above (Lava has no "
                                     "fixed-point process for them): install snnc beside lava." if
                                     snnc_needed else "none; only lava-nc, numpy and scipy."),
              "", f"Run:  python {script_name} [--steps N] [-o spikes.npz] [--hw]",
              "  default: Loihi2SimCfg(select_tag='fixed_pt'), Lava's CPU simulator, bit-accurate;",
              "  --hw or SNNC_LAVA_HW=1: Loihi2HwCfg, which needs lava-loihi (Intel's INRC) and a",
              "  Loihi 2 system; untested by snnc (loihi-sim is a simulator).",
              "Output: snnc's spikes NPZ (steps, dt, POP.times, POP.ids), readable by snnc plot."]
    return "\n".join(lines)


SCRIPT = r'''#!/usr/bin/env python3
"""{header}
"""

import argparse
import importlib
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy.sparse import SparseEfficiencyWarning, csr_matrix

from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2HwCfg, Loihi2SimCfg
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.io.source import RingBuffer as Source
from lava.proc.lif.process import LIF
from lava.proc.sdn.process import ActivationMode, SigmaDelta
from lava.proc.sparse.process import DelaySparse, Sparse
from lava.utils.weightutils import SignMode

DATA = Path(__file__).with_name({data_name!r})
# The weights in DATA are already clipped and truncated per projection (each by its own sign mode
# and num_weight_bits, with Lava's weightutils): MIXED with 9 bits makes Lava's per-block clip
# ([-256, 255]) and truncation (8 - 9 + 1 = 0 bits) leave them unchanged, as in loihi-sim.
BLOCK_SIGN_MODE, BLOCK_WEIGHT_BITS = SignMode.MIXED, 9


def scalar_or_array(values):
    """Lava declares some LIF parameters as scalars: one value when every neuron agrees."""
    return int(values[0]) if values.size and np.all(values == values[0]) else values


def neuron_process(group, arrays):
    """One group's process: Lava's own LIF / SigmaDelta, or the snnc function loihi-sim calls."""
    size, process = group["size"], group["process"]
    if process == "lava:LIF":
        return LIF(shape=(size,), u=arrays["u_init"], v=arrays["v_init"],
                   du=scalar_or_array(arrays["du"]), dv=scalar_or_array(arrays["dv"]),
                   vth=scalar_or_array(arrays["vth"]), bias_mant=arrays["bias_mant"],
                   bias_exp=arrays["bias_exp"])
    if process == "lava:SigmaDelta":  # one vth, exponents, mode per process (snnc checked them)
        return SigmaDelta(shape=(size,), vth=int(arrays["vth"][0]), bias=arrays["bias"],
                          act_mode=ActivationMode(int(arrays["act_mode"][0])),
                          cum_error=bool(arrays["cum_error"][0]),
                          spike_exp=int(arrays["spike_exp"][0]),
                          state_exp=int(arrays["state_exp"][0]))
    module, _, name = process.partition(":")
    return getattr(importlib.import_module(module), name)(arrays, size)


def connection(block, arrays, shape):
    """A Sparse (every delay 1) or DelaySparse (Lava delay = snnc delay - 1)."""
    weights = csr_matrix((arrays["weight"], (arrays["post"], arrays["pre"])), shape=shape)
    params = dict(sign_mode=BLOCK_SIGN_MODE, num_weight_bits=BLOCK_WEIGHT_BITS,
                  weight_exp=block["weight_exp"])
    if block["message_bits"]:
        params["num_message_bits"] = block["message_bits"]
    if not block["delayed"]:
        return Sparse(weights=weights, **params)
    delays = csr_matrix((arrays["delay"] - 1, (arrays["post"], arrays["pre"])), shape=shape)
    return DelaySparse(weights=weights, delays=delays, **params)


def build(meta, data, steps):
    """The processes, connected as loihi-sim connects them; a sink on every spiking group."""
    processes, sinks = {{}}, {{}}
    for index, group in enumerate(meta["groups"]):
        arrays = {{key: data[f"group{{index}}.{{key}}"] for key in group["arrays"]}}
        processes[group["kind"]] = neuron_process(group, arrays)
        if group["spiking"]:
            sinks[group["kind"]] = Sink(shape=(group["size"],), buffer=steps)
            processes[group["kind"]].s_out.connect(sinks[group["kind"]].a_in)
    senders = dict(processes)
    if "ring" in data:
        senders["ring"] = Source(data=data["ring"][:, :steps].astype(np.int32))
    for index, block in enumerate(meta["blocks"]):
        arrays = {{key: data[f"block{{index}}.{{key}}"] for key in ("pre", "post", "weight", "delay")}}
        pre, post = senders[block["sender"]], processes[block["receiver"]]
        synapses = connection(block, arrays, (post.a_in.shape[0], pre.s_out.shape[0]))
        pre.s_out.connect(synapses.s_in)
        synapses.a_out.connect(post.a_in)
    for sender, receiver in meta["joins"]:  # Lava compiles only what is connected to the root
        pre, post = processes[sender], processes[receiver]
        empty = Sparse(weights=csr_matrix((post.a_in.shape[0], pre.s_out.shape[0]), dtype=np.int32))
        pre.s_out.connect(empty.s_in)
        empty.a_out.connect(post.a_in)
    return processes, sinks


def run_config(hardware):
    if hardware:
        return Loihi2HwCfg()  # lava-loihi's NcProcessModels; Lava alone has none for Loihi 2
    return Loihi2SimCfg(select_tag="fixed_pt")  # without the tag Lava picks the float models


def spikes_of(meta, data, sink_data, steps):
    """snnc's spikes NPZ: every population's (times, ids), sources included."""
    out = {{"steps": np.array(steps), "dt": np.array(meta["dt"])}}
    for group in meta["groups"]:
        raster = sink_data.get(group["kind"])
        for name, (start, stop) in group["populations"].items():
            if raster is None:  # a graded group sends messages, not spikes
                ids, times = np.zeros(0, np.int64), np.zeros(0, np.int64)
            else:
                ids, times = np.nonzero(raster[start:stop])
            order = np.lexsort((ids, times))
            out[f"{{name}}.times"] = times[order].astype(np.int32)
            out[f"{{name}}.ids"] = ids[order].astype(np.int32)
    for name in meta["sources"]:
        times, ids = data[f"source.{{name}}.times"], data[f"source.{{name}}.ids"]
        keep = times < steps
        out[f"{{name}}.times"], out[f"{{name}}.ids"] = times[keep], ids[keep]
    return out


def main():
    meta = json.loads(META)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=meta["steps"],
                        help=f"steps to run (at most the exported {{meta['steps']}})")
    parser.add_argument("-o", "--output", default="spikes.npz", help="spikes NPZ to write")
    parser.add_argument("--hw", action="store_true", default=os.environ.get("SNNC_LAVA_HW") == "1",
                        help="run on Loihi 2 (Loihi2HwCfg; needs lava-loihi); also SNNC_LAVA_HW=1")
    args = parser.parse_args()
    if not 0 < args.steps <= meta["steps"]:
        sys.exit(f"--steps: must be 1..{{meta['steps']}} (the sources were exported for that many)")
    with np.load(DATA) as npz:
        data = {{key: npz[key] for key in npz.files}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseEfficiencyWarning)  # DelaySparse edits its CSR
        processes, sinks = build(meta, data, args.steps)
        root = next(iter(processes.values()))
        try:
            root.run(condition=RunSteps(num_steps=args.steps), run_cfg=run_config(args.hw))
        except Exception as error:  # noqa: BLE001 - say which configuration failed, in one line
            hint = " (Loihi2HwCfg needs lava-loihi from Intel's INRC)" if args.hw else ""
            sys.exit(f"{{type(error).__name__}}: {{' '.join(str(error).split())}}{{hint}}")
        try:
            sink_data = {{kind: sink.data.get() for kind, sink in sinks.items()}}
        finally:
            root.stop()
    np.savez(args.output, **spikes_of(meta, data, sink_data, args.steps))
    print(f"{{args.output}}: {{args.steps}} steps, "
          f"{{sum(int((r != 0).sum()) for r in sink_data.values())}} spikes")


META = {meta_json!r}

if __name__ == "__main__":
    main()
'''


def export_lava(build: Any, steps: int, build_dir: str, script: str | Path) -> dict[str, Any]:
    """Write ``script`` and its NPZ (``script`` with ``.npz``) for ``steps`` steps of ``build``;
    returns the description the script embeds."""
    from snnc.ir.outputs import write_files

    from .backend import loihi_network, network_of

    given = network_of(build)
    net = loihi_network(given, relay=False)  # a build is quantized and relayed already
    lava_plan = plan(net, steps)
    if lava_plan.plastic:  # the script has no LearningSparse: it would run them frozen
        from snnc.ir import UnsupportedOnTarget

        raise UnsupportedOnTarget(f"export-lava does not write plastic projections yet "
                                  f"('{lava_plan.plastic[0].name}'); run it with snnc run "
                                  "--target loihi-sim", where="projections")
    meta, arrays = plan_arrays(lava_plan)
    meta["network"] = net.name
    script = Path(script)
    data_path = script.with_suffix(".npz")
    header = _header(meta, build_dir, data_path.name, script.name).replace('"' * 3, "'" * 3)
    text = SCRIPT.format(header=header, data_name=data_path.name,
                         meta_json=json.dumps(meta, sort_keys=True))
    write_files([(data_path, lambda handle: np.savez_compressed(handle, **arrays), "wb"),
                 (script, lambda handle: handle.write(text), "w")])  # both appear, or neither
    return meta
