"""The NEST side of the comparison: needs NEST 3 (``pip install nest-simulator``), not snnc.

    python nest_reference.py example [--scale 0.1] [--seed 55] [--drive poisson|dc] -o nest.json
    python nest_reference.py snnc net.yaml [--steps 15000] -o nest_on_snnc.json

``example`` builds the microcircuit in NEST the way NEST's ``pynest/examples/Potjans_2014``
(``network.py``, ``helpers.py``, ``network_params.py``, ``sim_params.py``) does, from the same
parameters as build.py (its ``derive``): ``iaf_psc_exp``, ``fixed_total_number``, normal weights and
delays redrawn outside their range, Poisson generators at 8 Hz x K_ext (or NEST's DC), 500 ms
presimulation + 1000 ms. It prints rates and CVs over [500, 1500) ms and writes them as JSON: the
"NEST" column of the README's table at the same scale.

``snnc`` loads an snnc network written by build.py (YAML + NPZ, read with numpy and pyyaml) and runs
exactly that network in NEST: the same neurons, synapses, initial voltages and DC, every weight
``x`` back in pA (``x / P21``) and every delay ``D`` steps back to ``(D - 1) dt``. Poisson sources
become NEST Poisson generators of the same total rate per neuron, or, with ``--same-sources``,
spike generators that replay snnc's own Poisson spikes (redrawn from their seeds as ir/sources.py
draws them), so that NEST's spikes can be compared with snnc's one by one (``--spikes out.npz``
writes them in snnc's record format, steps = NEST time / dt - 1); with ``--drive dc`` networks
nothing is random at all.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from analysis import population_stats
from build import (BG_RATE, C_M, DELAY_MEAN, DELAY_POISSON, DELAY_REL_SD, DT, E_L, POPULATIONS,
                   T_REF, TAU_M, TAU_SYN, V0_MEAN, V0_SD, V_RESET, V_TH, WEIGHT_REL_SD, derive,
                   propagators)

NEURON = dict(C_m=C_M, tau_m=TAU_M, tau_syn_ex=TAU_SYN, tau_syn_in=TAU_SYN, E_L=E_L, V_th=V_TH,
              V_reset=V_RESET, t_ref=T_REF)


def _kernel(nest, seed: int, threads: int) -> None:
    nest.ResetKernel()
    nest.set_verbosity("M_WARNING")
    nest.local_num_threads = threads
    nest.resolution = DT
    nest.rng_seed = seed
    nest.print_time = False


def _record(nest, pops):
    recorders = nest.Create("spike_recorder", n=len(pops))
    for pop, rec in zip(pops, recorders):
        nest.Connect(pop, rec)
    return recorders


def _events(pops, recorders):
    """Per population (times ms, ids from 0)."""
    out = []
    for pop, rec in zip(pops, recorders):
        ev = rec.get("events")
        senders = np.asarray(ev["senders"], int) - pop[0].global_id
        out.append((np.asarray(ev["times"], float), senders))
    return out


def run_example(scale: float, seed: int, drive: str, t_presim: float, t_sim: float,
                threads: int) -> dict:
    import nest

    d = derive(scale, drive)
    _kernel(nest, seed, threads)
    pops = []
    for i in range(8):
        pop = nest.Create("iaf_psc_exp", int(d["sizes"][i]))
        pop.set(I_e=float(d["dc_pA"][i]), **NEURON)
        pop.set(V_m=nest.random.normal(V0_MEAN[i], V0_SD[i]))
        pops.append(pop)
    recorders = _record(nest, pops)
    for i, target in enumerate(pops):
        for j, source in enumerate(pops):
            n = int(d["synapses"][i, j])
            if n <= 0:
                continue
            w = float(d["weights_pA"][i, j])
            mean_delay = DELAY_MEAN[j % 2]
            nest.Connect(source, target, {"rule": "fixed_total_number", "N": n}, {
                "synapse_model": "static_synapse",
                "weight": nest.math.redraw(nest.random.normal(w, abs(w) * WEIGHT_REL_SD),
                                           min=0.0 if w > 0 else -np.inf,
                                           max=np.inf if w > 0 else 0.0),
                "delay": nest.math.redraw(nest.random.normal(mean_delay, mean_delay * DELAY_REL_SD),
                                          min=DT, max=np.inf)})
    if drive == "poisson":
        generators = nest.Create("poisson_generator", n=8)
        generators.rate = list(BG_RATE * d["k_ext"].astype(float))
        for i, target in enumerate(pops):
            nest.Connect(generators[i], target, "all_to_all",
                         {"weight": float(d["w_ext_pA"]), "delay": DELAY_POISSON})
    start = time.perf_counter()
    nest.Simulate(t_presim + t_sim)
    wall = time.perf_counter() - start
    events = _events(pops, recorders)
    stats = {name: population_stats(t, i, int(d["sizes"][k]), t_presim, t_presim + t_sim)
             for k, (name, (t, i)) in enumerate(zip(POPULATIONS, events))}
    return {"what": f"NEST {nest.__version__} Potjans_2014 as its example, scale {scale:g}, "
                    f"seed {seed}, {drive} drive, "
                    f"rates over [{t_presim:g}, {t_presim + t_sim:g}) ms",
            "simulate_s": wall, "stats": stats}


def _load_snnc(path: Path):
    import yaml

    doc = yaml.safe_load(path.read_text())
    arrays = {}
    for entry in (doc.get("projections") or []):
        for value in (entry["connect"], entry["weight"], entry["delay"]):
            if isinstance(value, dict) and "file" in value and not arrays.get(value["file"]):
                arrays[value["file"]] = np.load(path.parent / value["file"])
    return doc, arrays


def _array(value, arrays, key=None):
    if isinstance(value, dict) and "file" in value:
        return np.asarray(arrays[value["file"]][value[key] if key else value["key"]])
    return np.asarray(value)


def poisson_spikes(rate_hz: float, size: int, steps: int, seed: int, dt: float):
    """snnc's Poisson source spikes (ir/sources.py: one ``default_rng(seed)``, a row of uniforms
    per step, spike where < rate dt / 1000), re-drawn here: per neuron, its spike steps."""
    rng = np.random.default_rng(seed)
    rows = max(1, (1 << 22) // size)
    times, ids = [], []
    for start in range(0, steps, rows):
        t, i = np.nonzero(rng.random((min(rows, steps - start), size)) < rate_hz * dt / 1000.0)
        times.append(t + start)
        ids.append(i)
    times, ids = np.concatenate(times), np.concatenate(ids)
    order = np.argsort(ids, kind="stable")
    return np.split(times[order], np.searchsorted(ids[order], np.arange(1, size)))


def run_snnc(path: Path, steps: int, t0: float, threads: int, seed: int,
             same_sources: bool = False) -> tuple[dict, dict]:
    import nest

    doc, arrays = _load_snnc(path)
    prop = propagators(doc["dt"])
    _kernel(nest, seed, threads)
    pops, names, rates = {}, [], {}
    for name, p in doc["populations"].items():
        if "neuron" in p:
            n = p["neuron"]
            pop = nest.Create("iaf_psc_exp", p["size"])
            pop.set(I_e=float(n["bias"]) / prop["p20"], **NEURON)
            v0 = n["v_init"]
            v0 = (np.random.default_rng(v0["seed"]).normal(*v0["normal"], size=p["size"])
                  if isinstance(v0, dict) else np.broadcast_to(v0, p["size"]))
            pop.set(V_m=list(v0 + E_L))
            pops[name] = pop
            names.append(name)
        elif same_sources:  # snnc's own Poisson spikes, step s -> NEST time (s + 1) dt
            trains = poisson_spikes(p["source"]["rate_hz"], p["size"], steps, p["source"]["seed"],
                                    doc["dt"])
            pop = nest.Create("spike_generator", p["size"])
            pop.set([{"spike_times": list((train + 1) * doc["dt"])} for train in trains])
            pops[name] = pop
        else:
            rates[name] = float(p["source"]["rate_hz"])
    recorders = _record(nest, [pops[n] for n in names])  # neuron populations only
    generators = {}
    for entry in doc["projections"]:
        source, target = entry["from"], entry["to"]
        pre = _array(entry["connect"], arrays, "pre").astype(np.int64)
        post = _array(entry["connect"], arrays, "post").astype(np.int64)
        if source in rates:  # M copies at rate r / M -> one generator at r per target neuron
            copies = pre.size // doc["populations"][target]["size"]
            generators[target] = (rates[source] * copies, float(entry["weight"]),
                                  (int(entry["delay"]) - 1) * doc["dt"])
            continue
        weight = np.broadcast_to(_array(entry["weight"], arrays), pre.shape) / prop["p21"]
        delay = (np.broadcast_to(_array(entry["delay"], arrays), pre.shape) - 1) * doc["dt"]
        nest.Connect(pre + pops[source][0].global_id, post + pops[target][0].global_id,
                     "one_to_one", {"weight": weight.astype(float), "delay": delay.astype(float)})
    for target, (rate, weight, delay) in generators.items():
        generator = nest.Create("poisson_generator", params={"rate": rate})
        nest.Connect(generator, pops[target], "all_to_all",
                     {"weight": weight / prop["p21"], "delay": delay})
    start = time.perf_counter()
    nest.Simulate(steps * doc["dt"])
    wall = time.perf_counter() - start
    events = _events([pops[n] for n in names], recorders)
    t1 = steps * doc["dt"]
    stats = {name: population_stats(t, i, doc["populations"][name]["size"], t0, t1)
             for name, (t, i) in zip(names, events)}
    spikes = {name: (np.rint(t / doc["dt"]).astype(np.int64) - 1, i)
              for name, (t, i) in zip(names, events)}
    return ({"what": f"NEST {nest.__version__} running snnc's {path.name} ({steps} steps), rates "
                     f"over [{t0:g}, {t1:g}) ms", "simulate_s": wall, "stats": stats}, spikes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    ex = sub.add_parser("example")
    ex.add_argument("--scale", type=float, default=0.1)
    ex.add_argument("--seed", type=int, default=55)
    ex.add_argument("--drive", choices=("poisson", "dc"), default="poisson")
    ex.add_argument("--presim", type=float, default=500.0)
    ex.add_argument("--sim", type=float, default=1000.0)
    sn = sub.add_parser("snnc")
    sn.add_argument("net", type=Path)
    sn.add_argument("--steps", type=int, default=15000)
    sn.add_argument("--t0", type=float, default=500.0, help="start of the rate window (ms)")
    sn.add_argument("--seed", type=int, default=55)
    sn.add_argument("--spikes", type=Path, help="write NEST's spikes as an snnc record NPZ")
    sn.add_argument("--same-sources", action="store_true",
                    help="feed snnc's own Poisson source spikes (spike generators)")
    for p in (ex, sn):
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("-o", "--output", type=Path)
    args = parser.parse_args(argv)
    if args.mode == "example":
        result = run_example(args.scale, args.seed, args.drive, args.presim, args.sim, args.threads)
    else:
        result, spikes = run_snnc(args.net, args.steps, args.t0, args.threads, args.seed,
                                  args.same_sources)
        if args.spikes:
            arrays = {"steps": np.array(args.steps), "dt": np.array(DT)}
            for name, (t, i) in spikes.items():
                order = np.lexsort((i, t))
                arrays[f"{name}.times"] = t[order].astype(np.int32)
                arrays[f"{name}.ids"] = i[order].astype(np.int32)
            np.savez(args.spikes, **arrays)
    print(result["what"], f"(simulate {result['simulate_s']:.1f} s)")
    for name, s in result["stats"].items():
        print(f"  {name:<5} {s['rate']:7.3f} Hz   CV {s['cv']:.3f}")
    if args.output:
        args.output.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
