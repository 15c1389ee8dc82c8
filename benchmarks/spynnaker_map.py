"""Map compile_scale.py's network with sPyNNaker on a virtual board; print one JSON line.

    .venv-spynnaker/bin/python benchmarks/spynnaker_map.py NEURONS [--workdir DIR] [--no-compress]
                                                           [--data-generation]

Run by .venv-spynnaker's Python (see spynnaker_setup.sh), normally as a subprocess of
compile_scale.py --spynnaker; it does not import snnc. The network is compile_scale.build()'s:
populations of 10,000 IF_curr_exp neurons in a ring, population k projecting to k and k+1 with
FixedProbabilityConnector(0.005) and delays uniform over 1..16 ms (timestep 1 ms), plus a
1,000-neuron SpikeSourcePoisson at 10 Hz into population 0 with p 0.01. sim.run(1) triggers
sPyNNaker's whole mapping (partition, place, route, key allocation, routing-table generation and
compression); on a virtual board nothing is loaded or executed. The run is stopped where data
generation would begin: on a virtual board sPyNNaker writes every synaptic row on the host (real
boards expand them on chip), which is not mapping and took 8 minutes for 10M synapses;
--data-generation goes through it.

sPyNNaker insists on a user cfg in the home directory, so HOME is pointed at the work directory
(default: a fresh /tmp/spynnaker_map_*), which also receives its reports and databases. The virtual
machine is left to sPyNNaker to size (it builds one with the number of chips the placement needs).
Router tables are compressed as far as possible with its host PairCompressor (the figure comparable
with snnc's compressed tables); --no-compress keeps its default of compressing only tables that do
not fit (over 1,023 entries).

Output keys: cores (placements), neuron/source/delay/system cores, chips used, machine size, router
entries per chip max/mean/total (over the chips with a table) before and after compression, and
seconds for the PyNN build, _do_mapping, compression, mapping in all (sim.run up to data
generation), data generation (with --data-generation) and sim.run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

POP = 10_000

CFG = """\
[Machine]
virtual_board = True
version = 5

[Mapping]
router_table_compress_as_far_as_possible = {compress}

[Reports]
default_report_file_path = {workdir}
display_algorithm_timings = False

[Mode]
mode = Production
"""


def table_stats(tables) -> dict:
    counts = [t.number_of_entries for t in tables.routing_tables]
    return {"max": max(counts, default=0),
            "mean": round(sum(counts) / len(counts), 1) if counts else 0.0,
            "total": sum(counts), "chips": len(counts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("neurons", type=int)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--no-compress", action="store_true")
    parser.add_argument("--data-generation", action="store_true",
                        help="go on into data generation (on a virtual board every synapse is "
                             "generated on the host: slow)")
    args = parser.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix="spynnaker_map_")
    os.makedirs(workdir, exist_ok=True)
    os.environ["HOME"] = workdir
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(workdir, "mpl"))
    cfg = CFG.format(workdir=workdir, compress=not args.no_compress)
    for name in (".spynnaker.cfg", "spynnaker.cfg"):
        with open(os.path.join(workdir, name), "w", encoding="utf-8") as f:
            f.write(cfg)
    os.chdir(workdir)

    import pyNN.spiNNaker as sim
    from importlib.metadata import version
    from spinn_front_end_common.data import FecDataView
    from spinn_front_end_common.interface.abstract_spinnaker_base import AbstractSpinnakerBase

    # The compressed tables are a local of _do_load (loaded, never stored in the data view): catch
    # them on their way out of the compressor; time mapping and compression; stop (or time) the
    # data generation that follows.
    caught: dict = {}
    timings: dict = {}
    early = AbstractSpinnakerBase._do_early_compression

    def _catch(self, name):
        start = time.perf_counter()
        caught["tables"] = tables = early(self, name)
        caught["compressor"] = name
        timings["compress_s"] = round(time.perf_counter() - start, 2)
        return tables

    def _timed(method, key):
        def wrapper(self, *a, **k):
            start = time.perf_counter()
            try:
                return method(self, *a, **k)
            finally:
                timings[key] = round(time.perf_counter() - start, 2)
        return wrapper

    class MappedOnly(Exception):
        """Raised where data generation would start, once the figures are collected."""

    generate = AbstractSpinnakerBase._do_data_generation

    def _data_generation(self):
        timings["mapping_total_s"] = round(time.perf_counter() - run_start, 2)
        if not args.data_generation:
            caught["row"] = collect()
            raise MappedOnly()
        start = time.perf_counter()
        generate(self)
        timings["data_generation_s"] = round(time.perf_counter() - start, 2)

    AbstractSpinnakerBase._do_early_compression = _catch
    AbstractSpinnakerBase._do_mapping = _timed(AbstractSpinnakerBase._do_mapping, "mapping_s")
    AbstractSpinnakerBase._do_data_generation = _data_generation

    def collect() -> dict:
        kinds = {"neuron": 0, "source": 0, "delay": 0, "system": 0}
        by_class: dict = {}
        chips = set()
        for placement in FecDataView.iterate_placemements():
            cls = type(placement.vertex).__name__
            by_class[cls] = by_class.get(cls, 0) + 1
            chips.add((placement.x, placement.y))
            if cls.startswith("PopulationMachine") or "Neuron" in cls or "Synapse" in cls:
                kinds["neuron"] += 1
            elif "Poisson" in cls or "SpikeSource" in cls:
                kinds["source"] += 1
            elif "Delay" in cls:
                kinds["delay"] += 1
            else:
                kinds["system"] += 1
        machine = FecDataView.get_machine()
        compressed = caught.get("tables")
        return {
            "neurons": args.neurons, "spynnaker": version("sPyNNaker"),
            "cores": FecDataView.get_n_placements(), **{f"{k}_cores": v for k, v in kinds.items()},
            "placements_by_class": by_class, "chips_used": len(chips),
            "machine": f"{machine.width}x{machine.height} ({machine.n_chips} chips, "
                       f"{machine.total_available_user_cores} user cores)",
            "router_entries_uncompressed": table_stats(FecDataView.get_uncompressed()),
            "router_entries": table_stats(compressed) if compressed is not None else None,
            "compressor": caught.get("compressor"),
            "data_generation": bool(args.data_generation),
        }

    start = time.perf_counter()
    sim.setup(timestep=1.0)
    pops = args.neurons // POP
    source = sim.Population(1000, sim.SpikeSourcePoisson(rate=10.0), label="input")
    populations = [sim.Population(POP, sim.IF_curr_exp(), label=f"p{k}") for k in range(pops)]
    sim.Projection(source, populations[0], sim.FixedProbabilityConnector(0.01),
                   sim.StaticSynapse(weight=0.5, delay=1.0), receptor_type="excitatory")
    for k in range(pops):
        for post in (k, (k + 1) % pops):
            delays = sim.RandomDistribution("uniform", low=1.0, high=16.0)
            sim.Projection(populations[k], populations[post], sim.FixedProbabilityConnector(0.005),
                           sim.StaticSynapse(weight=0.1, delay=delays), receptor_type="excitatory")
    timings["build_s"] = round(time.perf_counter() - start, 2)

    run_start = time.perf_counter()
    try:
        sim.run(1)
    except MappedOnly:
        pass
    timings["run_s"] = round(time.perf_counter() - run_start, 2)
    row = caught.get("row") or collect()
    if args.data_generation:
        sim.end()
    row.update(timings)
    row["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    row["workdir"] = workdir
    sys.stdout.flush()
    print(json.dumps(row), flush=True)
    os._exit(0)  # skip sPyNNaker's atexit shutdown after an interrupted run


if __name__ == "__main__":
    main()
