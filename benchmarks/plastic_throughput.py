#!/usr/bin/env python
"""Plastic vs frozen throughput (synaptic events/s): snnc's reference against Brian2, same network.

    .venv/bin/python benchmarks/plastic_throughput.py                       # sizes 100k and 1M synapses
    .venv/bin/python benchmarks/plastic_throughput.py --synapses 1000000 --only snnc-frozen snnc-plastic
    .venv/bin/python benchmarks/plastic_throughput.py --brian2-python /tmp/b2venv/bin/python

The network (the Song et al. 2000 setup, widened): ``inputs`` Poisson sources at 10 Hz drive
``outputs`` delta-synapse LIF neurons through an all-to-all projection of ``inputs * outputs``
synapses, delay 1 step, weights uniform in [0, w_max], ``dt`` 1 ms, 1,000 steps. *Plastic*: the
projection carries snnc's float ``stdp`` rule (additive, all pairs, tau± 20 ms, a+ = 0.005 w_max,
a- = 1.05 a+); *frozen*: the same projection without it. Brian2 runs the same equations
(``Synapses`` with event-driven traces ``apre``/``apost`` and the same clipped updates, its
schedule set to snnc's: arrivals, then the neuron update, threshold, reset) in C++ standalone
mode, its fastest here, ``-O3`` without ``-ffast-math``. The input spikes are drawn once and given
to both as explicit spike times.

Every configuration runs in its own child process (Brian2's in ``--brian2-python``, by default
this interpreter if it imports brian2, else /tmp/b2venv/bin/python). Events = Σ over input spikes
of their out-degree (the deliveries; the post-spike updates, ``outputs spikes x inputs``, are
extra work for the plastic runs and counted separately). events/s = events / simulation wall
seconds, the fastest of 3 runs per child (snnc: each on a fresh engine; Brian2: its binary run
again); build time (network, lowering, C++ compilation) is separate. snnc's engine is warmed on a
small network first, so JIT loading is not timed; it runs with the threads it is given
(``NUMBA_NUM_THREADS``, default all cores).

Brian2 processes a post spike of step t in step t + 1 (its post pathway reads the last step's
spikes), one step later than snnc's rule, so the two runs' spikes and weights are compared as
statistics (spike totals, mean final weight), not bit for bit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CONFIGS = ("snnc-frozen", "snnc-plastic", "brian2-frozen", "brian2-plastic")
RATE_HZ = 10.0
STEPS = 1000
DT = 1.0
TAU = 20.0  # ms: membrane and both STDP traces
W_MAX = 1.0
A_PLUS = 0.005 * W_MAX
A_MINUS = 1.05 * A_PLUS
V_TH = 20.0
REPEATS = 3  # timed runs per child: on a shared machine the slower ones measure the neighbours


def workload(inputs: int, outputs: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Input spike times and ids, initial weights (pre-major: synapse k = pre k // outputs)."""
    rng = np.random.default_rng(seed)
    fired = rng.random((STEPS, inputs)) < RATE_HZ * DT / 1000.0
    times, ids = np.nonzero(fired)
    # uniform weights scaled so a neuron's mean drive is ~1.2 thresholds: it fires, STDP has work
    mean_input = inputs * RATE_HZ * DT / 1000.0 / (1 - np.exp(-DT / TAU))
    w_scale = min(W_MAX, 2 * 1.2 * V_TH / mean_input)
    weights = rng.uniform(0.0, w_scale, inputs * outputs)
    meta = dict(inputs=inputs, outputs=outputs, w_scale=w_scale)
    return dict(times=times.astype(np.int32), ids=ids.astype(np.int32), weights=weights,
                meta=np.array(json.dumps(meta)))


def synapse_pairs(inputs: int, outputs: int) -> tuple[np.ndarray, np.ndarray]:
    """All to all, pre-major: synapse k joins input k // outputs to output k % outputs (given
    explicitly to both simulators, so that weight k is on the same pair in both)."""
    return (np.repeat(np.arange(inputs), outputs).astype(np.int32),
            np.tile(np.arange(outputs), inputs).astype(np.int32))


def snnc_network(data: dict, plastic: bool):
    import snnc

    meta = json.loads(str(data["meta"]))
    net = snnc.Network("plastic_bench", dt=DT)
    net.source("inputs", meta["inputs"], snnc.spike_times(times=data["times"], ids=data["ids"]))
    net.population("outputs", meta["outputs"], snnc.LIF(tau_mem=TAU, v_th=V_TH))
    rule = snnc.Stdp(tau_plus=TAU, tau_minus=TAU, a_plus=A_PLUS, a_minus=A_MINUS, w_min=0.0,
                     w_max=W_MAX) if plastic else None
    pre, post = synapse_pairs(meta["inputs"], meta["outputs"])
    net.connect("inputs", "outputs", snnc.explicit(pre, post), name="syn", weight=data["weights"],
                delay=1, plasticity=rule)
    return net


def snnc_child(kind: str, data: dict) -> dict:
    from snnc.backends.reference import prepare
    from snnc.backends.reference.engine import Engine
    from snnc.backends.reference.program import lower

    plastic = kind.endswith("plastic")
    small = workload(50, 20, seed=1)
    Engine(lower(prepare(snnc_network(small, plastic), "float"), 5, "float"), {}).run()
    started = time.perf_counter()
    program = lower(prepare(snnc_network(data, plastic), "float"), STEPS, "float")
    engine = Engine(program, {})
    build_s = time.perf_counter() - started
    runs = []
    for k in range(REPEATS):  # each on a fresh engine (the same start state); the fastest counts
        if k:
            engine = Engine(program, {})
        started = time.perf_counter()
        engine.run()
        runs.append(time.perf_counter() - started)
    sim_s = min(runs)
    _, ids = engine.spikes()
    first, stop = program.bounds["outputs"][0], program.bounds["outputs"][1]
    is_output = (ids >= first) & (ids < stop)
    weights = engine.weights().get("syn") if plastic else None
    return dict(build_s=build_s, sim_s=sim_s, runs_s=runs, output_spikes=int(is_output.sum()),
                mean_weight=float(np.mean(weights)) if weights is not None else None)


def brian2_child(kind: str, data: dict) -> dict:
    import brian2 as b2

    meta = json.loads(str(data["meta"]))
    plastic = kind.endswith("plastic")
    workdir = tempfile.mkdtemp(prefix="brian2_plastic_")
    started = time.perf_counter()
    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 1
    b2.prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O3", "-march=native"]
    b2.defaultclock.dt = DT * b2.ms
    inputs = b2.SpikeGeneratorGroup(meta["inputs"], data["ids"], data["times"] * DT * b2.ms)
    outputs = b2.NeuronGroup(meta["outputs"], "v : 1\nI_in : 1", threshold=f"v > {V_TH!r}",
                             reset="v = 0")
    outputs.run_regularly(f"v = {np.exp(-DT / TAU)!r} * v + I_in\nI_in = 0", when="groups")
    decay = f"{np.exp(-DT / TAU)!r}"
    if plastic:
        # the traces decay per step as snnc's do: x <- x * decay^(steps since its last update)
        model = ("w : 1\napre : 1\napost : 1\nlastpre : second\nlastpost : second")
        on_pre = (f"apre = apre * {decay} ** ((t - lastpre) / dt) + 1\nlastpre = t\n"
                  f"I_in_post += w\n"
                  f"w = clip(w - {A_MINUS!r} * apost * {decay} ** ((t - lastpost) / dt), "
                  f"0, {W_MAX!r})")
        on_post = (f"apost = apost * {decay} ** ((t - lastpost) / dt) + 1\nlastpost = t\n"
                   f"w = clip(w + {A_PLUS!r} * apre * {decay} ** ((t - lastpre) / dt), "
                   f"0, {W_MAX!r})")
        synapses = b2.Synapses(inputs, outputs, model, on_pre=on_pre, on_post=on_post)
    else:
        synapses = b2.Synapses(inputs, outputs, "w : 1", on_pre="I_in_post += w")
    pre, post = synapse_pairs(meta["inputs"], meta["outputs"])
    synapses.connect(i=pre, j=post)
    synapses.w = data["weights"]
    # with 'synapses' before 'groups', a spike of step t is pushed into its pathway at t + 1:
    # snnc's delay 1 is Brian2's delay 0
    monitor = b2.SpikeMonitor(outputs)
    network = b2.Network(inputs, outputs, synapses, monitor)
    network.schedule = ["start", "synapses", "groups", "thresholds", "resets", "end"]
    network.run(STEPS * DT * b2.ms)
    b2.device.build(directory=workdir, compile=True, run=False)
    build_s = time.perf_counter() - started
    runs = []
    for _ in range(REPEATS):  # the same binary from the same initial state; the fastest counts
        b2.device.run(directory=workdir, with_output=False)
        runs.append(float(b2.device._last_run_time))
    sim_s = min(runs)
    result = dict(build_s=build_s, sim_s=sim_s, runs_s=runs, output_spikes=int(monitor.num_spikes),
                  mean_weight=float(np.mean(synapses.w[:])) if plastic else None)
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def child_main(kind: str, path: str) -> None:
    with np.load(path) as handle:
        data = {key: handle[key] for key in handle.files}
    result = snnc_child(kind, data) if kind.startswith("snnc") else brian2_child(kind, data)
    meta = json.loads(str(data["meta"]))
    result.update(kind=kind, input_spikes=int(data["times"].size),
                  events=int(data["times"].size) * meta["outputs"],
                  post_updates=result["output_spikes"] * meta["inputs"])
    print("RESULT " + json.dumps(result), flush=True)


def brian2_python(given: str | None) -> str | None:
    """The interpreter that runs Brian2: the one given, this one if it has brian2, the
    scratch venv /tmp/b2venv, or None."""
    candidates = [given] if given else [sys.executable, "/tmp/b2venv/bin/python"]
    for python in candidates:
        if python and Path(python).exists() and subprocess.run(
                [python, "-c", "import brian2"], capture_output=True).returncode == 0:
            return python
    return None


def run_child(kind: str, path: str, python: str) -> dict:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    # Brian2's interpreter lacks snnc's packages but needs only numpy, brian2 and this file
    proc = subprocess.run([python, __file__, "--child", kind, "--data", path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return dict(kind=kind, error=tail[0][:200])
    return json.loads(line[len("RESULT "):])


def report(inputs: int, outputs: int, results: list[dict]) -> None:
    print(f"\n{inputs:,} inputs x {outputs:,} outputs = {inputs * outputs:,} synapses, "
          f"{STEPS} steps (load average {os.getloadavg()[0]:.1f})")
    print(f"{'simulator':15} {'in spikes':>9} {'out spikes':>10} {'events':>11} {'build s':>7} "
          f"{'sim s':>7} {'events/s':>9} {'mean w':>7}")
    rates = {}
    for r in results:
        if "error" in r:
            print(f"{r['kind']:15} failed: {r['error']}")
            continue
        rate = r["events"] / r["sim_s"]
        rates[r["kind"]] = rate
        weight = f"{r['mean_weight']:.4f}" if r.get("mean_weight") is not None else "-"
        print(f"{r['kind']:15} {r['input_spikes']:>9,} {r['output_spikes']:>10,} "
              f"{r['events']:>11,} {r['build_s']:>7.1f} {r['sim_s']:>7.3f} {rate:>9.3g} "
              f"{weight:>7}")
    for tool in ("snnc", "brian2"):
        if f"{tool}-plastic" in rates and f"{tool}-frozen" in rates:
            print(f"{tool}: plastic / frozen events/s = "
                  f"{rates[f'{tool}-plastic'] / rates[f'{tool}-frozen']:.3f}")
    for mode in ("frozen", "plastic"):
        if f"snnc-{mode}" in rates and f"brian2-{mode}" in rates:
            print(f"{mode}: snnc / Brian2 events/s = "
                  f"{rates[f'snnc-{mode}'] / rates[f'brian2-{mode}']:.2f}x")


SIZES = {100_000: (1000, 100), 1_000_000: (2000, 500)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synapses", type=int, nargs="+", default=sorted(SIZES),
                        choices=sorted(SIZES))
    parser.add_argument("--only", nargs="+", choices=CONFIGS)
    parser.add_argument("--brian2-python", default=None)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.data)
        return
    python = brian2_python(args.brian2_python)
    configs = list(args.only or CONFIGS)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; snnc in {sys.executable}; "
          f"Brian2 in {python or 'not found (its runs skipped)'}")
    with tempfile.TemporaryDirectory(prefix="plastic_bench_") as tmp:
        for synapses in args.synapses:
            inputs, outputs = SIZES[synapses]
            path = str(Path(tmp) / f"w_{synapses}.npz")
            np.savez(path, **workload(inputs, outputs))
            results = []
            for kind in configs:
                if kind.startswith("brian2") and python is None:
                    results.append(dict(kind=kind, error="brian2 not importable (--brian2-python)"))
                    continue
                interpreter = sys.executable if kind.startswith("snnc") else str(python)
                results.append(run_child(kind, path, interpreter))
                print(f"  {kind}: {results[-1].get('error') or 'done'}", flush=True)
            report(inputs, outputs, results)


if __name__ == "__main__":
    main()
