"""Write the Potjans-Diesmann (2014) cortical microcircuit as an snnc network (YAML + NPZ).

    .venv/bin/python examples/microcircuit/build.py --scale 0.1 -o net.yaml
        [--seed 55] [--drive poisson|dc] [--bg-max-p 0.025]

The structure is Potjans & Diesmann, Cereb. Cortex 24:785 (2014): eight populations (L23E, L23I,
L4E, L4I, L5E, L5I, L6E, L6I) of ``iaf_psc_exp`` neurons, the connection probabilities of their
Table 5, a 0.15 mV mean PSP (doubled for L4E -> L23E) and g = -4. The drive, the weight and delay
distributions and the down-scaling follow NEST's PyNEST example ``pynest/examples/Potjans_2014/``
(``network_params.py``, ``sim_params.py``, ``network.py``, ``helpers.py``), reimplemented here:

- ``--scale s`` sets both of NEST's ``N_scaling`` and ``K_scaling``: population sizes
  ``round(N_full s)``, synapse totals ``round(S_full s^2)`` (so in-degrees ``K_full s``), external
  in-degrees ``round(K_ext s)``; weights are divided by ``sqrt(s)`` and every neuron gets the DC
  current ``0.001 tau_syn (1 - sqrt(s)) sum(J K_full rate_full)`` that restores the mean input the
  missing synapses carried (NEST's ``adjust_weights_and_input_to_synapse_scaling``, with the
  full-scale rates of its ``network_params.py``).
- connectivity: NEST's ``fixed_total_number`` rule (autapses and multapses allowed), drawn here with
  numpy from ``--seed`` as independent uniform (pre, post) pairs and written as ``explicit``
  arrays, because snnc has only ``fixed_probability`` (which would make the total random).
- weights: normal, relative sd 0.1, redrawn when they change sign; delays: normal (1.5 ms
  excitatory, 0.75 ms inhibitory, relative sd 0.5) redrawn below dt, rounded to the nearest step as
  NEST does, plus the one step that maps NEST's timing onto snnc's (README, "Units").
- ``--drive poisson``: NEST's Poisson background, 8 Hz x K_ext per neuron, as ``M`` independent
  Poisson source neurons per target neuron (``M = ceil(p / bg-max-p)``, ``p`` the per-step
  probability), so that no source needs more than one spike per step. ``--drive dc``: NEST's DC
  alternative ``I = 0.001 bg_rate K_ext J_ext tau_syn`` instead.

Voltages are shifted so that E_L = 0 (threshold 15 mV, reset 0 mV); the README derives the units.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

# ---- Potjans & Diesmann 2014 / NEST network_params.py ------------------------------------------
POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
# connection probabilities, [target, source] (Table 5 of the paper)
CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]])
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])  # external in-degrees
# full-scale rates (spikes/s) NEST uses for the DC compensation of down-scaling (network_params.py)
FULL_MEAN_RATES = np.array([0.943, 3.026, 4.368, 5.882, 7.733, 8.664, 1.096, 7.851])
BG_RATE = 8.0  # Hz per external input
PSP_EXC = 0.15  # mV
G = -4.0
WEIGHT_REL_SD = 0.1
DELAY_MEAN = (1.5, 0.75)  # ms, excitatory / inhibitory source
DELAY_REL_SD = 0.5
DELAY_POISSON = 1.5  # ms
# iaf_psc_exp
C_M, TAU_M, TAU_SYN, T_REF = 250.0, 10.0, 0.5, 2.0  # pF, ms, ms, ms
E_L, V_TH, V_RESET = -65.0, -50.0, -65.0  # mV
# NEST's default 'optimized' initial voltages (mean, sd) per population, mV
V0_MEAN = (-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43)
V0_SD = (5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48)
DT = 0.1  # ms


# ---- unit mapping (README, "Units") ------------------------------------------------------------
def psc_over_psp(c_m: float = C_M, tau_m: float = TAU_M, tau_s: float = TAU_SYN) -> float:
    """pA of current amplitude per mV of PSP peak for an exponential current (NEST's helpers.py)."""
    t_peak = tau_m * tau_s / (tau_m - tau_s) * math.log(tau_m / tau_s)
    peak = tau_m * tau_s / (c_m * (tau_m - tau_s)) * (math.exp(-t_peak / tau_m)
                                                      - math.exp(-t_peak / tau_s))
    return 1.0 / peak


def propagators(dt: float = DT) -> dict[str, float]:
    """iaf_psc_exp's exact-integration factors: alpha_m (P22), alpha_s (P11), and the mV per pA of
    a current during one step (P21, synaptic current -> V) and of a constant current (P20, DC)."""
    alpha_m, alpha_s = math.exp(-dt / TAU_M), math.exp(-dt / TAU_SYN)
    return {"alpha_m": alpha_m, "alpha_s": alpha_s,
            "p21": TAU_M * TAU_SYN / (C_M * (TAU_M - TAU_SYN)) * (alpha_m - alpha_s),
            "p20": TAU_M / C_M * (1.0 - alpha_m)}


def derive(scale: float, drive: str = "poisson") -> dict[str, np.ndarray]:
    """Sizes, synapse totals, in-degrees, weights and DC (pA) at ``scale`` (NEST's network.py)."""
    prod = np.outer(N_FULL, N_FULL).astype(np.float64)
    full_synapses = np.log(1.0 - CONN_PROBS) / np.log((prod - 1.0) / prod)
    sizes = np.round(N_FULL * scale).astype(np.int64)
    synapses = np.round(full_synapses * scale * scale).astype(np.int64)
    k_ext = np.round(K_EXT * scale).astype(np.int64)
    psp = np.zeros((8, 8))
    psp[:, 0::2], psp[:, 1::2] = PSP_EXC, PSP_EXC * G
    psp[0, 2] = 2.0 * PSP_EXC  # L4E -> L23E doubled
    factor = psc_over_psp()
    weights, w_ext = psp * factor, PSP_EXC * factor
    dc = (np.zeros(8) if drive == "poisson"
          else 0.001 * BG_RATE * K_EXT * w_ext * TAU_SYN)  # DC replacing the full Poisson drive
    if scale != 1.0:
        full_indegrees = full_synapses / N_FULL[:, None]
        input_rec = np.sum(weights * full_indegrees * FULL_MEAN_RATES, axis=1)
        dc = dc + 0.001 * TAU_SYN * (1.0 - math.sqrt(scale)) * input_rec
        if drive == "poisson":
            dc = dc + 0.001 * TAU_SYN * (1.0 - math.sqrt(scale)) * w_ext * K_EXT * BG_RATE
        weights, w_ext = weights / math.sqrt(scale), w_ext / math.sqrt(scale)
    return {"sizes": sizes, "synapses": synapses, "full_synapses": full_synapses, "k_ext": k_ext,
            "weights_pA": weights, "w_ext_pA": w_ext, "dc_pA": dc}


def delay_steps(ms: np.ndarray, dt: float = DT) -> np.ndarray:
    """NEST's delay in steps (nearest step, half up) plus one: snnc applies input at the step it
    arrives, NEST one step later (README, "Units")."""
    return (np.floor(ms / dt + 0.5) + 1).astype(np.int64)


def _redrawn_normal(rng: np.random.Generator, mean: float, sd: float, n: int,
                    ok) -> np.ndarray:
    """``n`` normal draws, each redrawn until ``ok`` holds (NEST's ``nest.math.redraw``)."""
    out = rng.normal(mean, sd, n)
    bad = ~ok(out)
    while bad.any():
        out[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = ~ok(out)
    return out


def build(scale: float = 0.1, seed: int = 55, drive: str = "poisson",
          bg_max_p: float = 0.025) -> "Network":
    """The microcircuit as a Network (arrays in their smallest dtypes)."""
    from snnc.ir import LIF, Network, explicit, normal, poisson  # here: derive() needs numpy only

    if drive not in ("poisson", "dc"):
        raise ValueError(f"drive must be 'poisson' or 'dc', got {drive!r}")
    d = derive(scale, drive)
    prop = propagators()
    sizes = d["sizes"]
    index = np.int16 if sizes.max() < 2**15 else np.int32
    net = Network(f"potjans_diesmann_{scale:g}", dt=DT)
    net.metadata = {
        "about": "Potjans & Diesmann 2014 cortical microcircuit, after NEST's "
                 "pynest/examples/Potjans_2014 (iaf_psc_exp mapped exactly onto lif; E_L = 0 mV)",
        "scale": scale, "seed": seed, "drive": drive,
        "populations": list(POPULATIONS),
        "mV_per_pA_synaptic": prop["p21"], "mV_per_pA_dc": prop["p20"],
    }
    seeds = np.random.SeedSequence(seed)
    conn_seed, v0_seed, bg_seed = seeds.spawn(3)
    v0_seeds = v0_seed.generate_state(8)
    for i, name in enumerate(POPULATIONS):
        net.population(name, int(sizes[i]), LIF(
            tau_mem=TAU_M, tau_syn=TAU_SYN, v_th=V_TH - E_L, v_reset=V_RESET - E_L, v_leak=0.0,
            bias=float(prop["p20"] * d["dc_pA"][i]), refractory=int(round(T_REF / DT)),
            v_init=normal(round(V0_MEAN[i] - E_L, 6), V0_SD[i], seed=int(v0_seeds[i]))))
    rng = np.random.default_rng(conn_seed)
    for i, target in enumerate(POPULATIONS):
        for j, source in enumerate(POPULATIONS):
            n = int(d["synapses"][i, j])
            if n <= 0:
                continue
            pre = rng.integers(0, sizes[j], n)
            post = rng.integers(0, sizes[i], n)
            w = d["weights_pA"][i, j]
            w_pa = _redrawn_normal(rng, w, abs(w) * WEIGHT_REL_SD, n,
                                   (lambda x: x >= 0) if w > 0 else (lambda x: x <= 0))
            mean_delay = DELAY_MEAN[j % 2]
            d_ms = _redrawn_normal(rng, mean_delay, mean_delay * DELAY_REL_SD, n,
                                   lambda x: x >= DT)
            order = np.lexsort((post, pre))
            net.connect(source, target, explicit(pre[order].astype(index),
                                                 post[order].astype(index)),
                        weight=(w_pa[order] * prop["p21"]).astype(np.float32),
                        delay=delay_steps(d_ms[order]).astype(np.uint8),
                        name=f"{source}->{target}")
    if drive == "poisson":
        bg_seeds = bg_seed.generate_state(8)
        for i, target in enumerate(POPULATIONS):
            rate = BG_RATE * float(d["k_ext"][i])  # Hz into each target neuron
            copies = max(1, math.ceil(rate * DT / 1000.0 / bg_max_p))
            n = int(sizes[i])
            name = f"bg_{target}"
            net.source(name, copies * n, poisson(rate_hz=rate / copies, seed=int(bg_seeds[i])))
            # the source is copies x larger than its target: its indices may need int32
            src_index = index if copies * n < 2**15 else np.int32
            net.connect(name, target, explicit(np.arange(copies * n, dtype=src_index),
                                               np.tile(np.arange(n, dtype=index), copies)),
                        weight=float(d["w_ext_pA"] * prop["p21"]),
                        delay=int(delay_steps(np.array(DELAY_POISSON))), name=f"{name}->{target}")
            net.metadata[f"{name}_copies"] = copies
    return net


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1,
                        help="N_scaling = K_scaling of NEST's example (default 0.1)")
    parser.add_argument("-o", "--output", type=Path, default=Path("net.yaml"))
    parser.add_argument("--seed", type=int, default=55, help="connectivity, V0 and Poisson seed")
    parser.add_argument("--drive", choices=("poisson", "dc"), default="poisson")
    parser.add_argument("--bg-max-p", type=float, default=0.025,
                        help="largest spike probability per step of one Poisson source neuron")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    start = time.perf_counter()
    net = build(args.scale, args.seed, args.drive, args.bg_max_p)
    net.save(str(args.output))
    synapses = sum(int(p.connect.pre.size) for p in net.projections)
    neurons = sum(p.size for p in net.neuron_populations())
    print(f"wrote {args.output} ({neurons:,} neurons, {synapses:,} synapses incl. drive, "
          f"{args.drive} drive) in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
