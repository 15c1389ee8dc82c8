r"""PyNN export: ``pynn_script(network, steps)`` writes a network of ``lif`` populations as a
standalone PyNN 0.13 script that runs with ``pyNN.nest`` (default) or ``pyNN.spiNNaker``.

The script's data part holds snnc's own values, unconverted: the decay factors
:math:`\alpha_m`, :math:`\alpha_s` (:math:`\alpha_i` for ``tau_syn_inh``), thresholds, resets,
bias and initial voltages in snnc's unit (read as mV), every synapse's weight (same unit) and
delay (steps), and every source spike (steps; Poisson sources as the spikes snnc draws from their
seeds, so both simulators see the same input). Its code turns them into each simulator's
``IF_curr_exp`` / ``IF_curr_delta`` parameters so that a weight moves ``v`` as in snnc:

- time constants :math:`\tau = -dt / \ln\alpha` (an ``euler`` integrator's
  :math:`\alpha = 1 - dt/\tau` becomes the exact-integration time constant of the same decay);
- NEST (``iaf_psc_exp``, ``models/iaf_psc_exp.cpp``): a synaptic current adds
  :math:`P_{21} J` to ``V`` one step after it arrives, with
  :math:`P_{21} = \frac{\tau_m \tau_s}{c_m(\tau_m - \tau_s)}(\alpha_m - \alpha_s)`, so
  :math:`J = w / P_{21}`, delay :math:`(d - 1)\,dt`; ``i_offset`` :math:`= bias / P_{20}`,
  :math:`P_{20} = \frac{\tau_m}{c_m}(1 - \alpha_m)`; ``c_m`` is chosen so that
  :math:`P_{21} = 1` for the excitatory receptor;
- NEST ``iaf_psc_delta``: the weight (mV) is added to ``V`` at arrival: :math:`J = w`, delay
  :math:`d\,dt`, :math:`c_m = \tau_m (1 - \alpha_m)` so that :math:`P_{20} = 1`;
- sPyNNaker (``neuron_model_lif_impl.h``, ``synapse_types_exponential_impl.h``): a spike adds
  :math:`w \cdot init`, :math:`init = \frac{\tau_s}{dt}(1 - \alpha_s)`, to the current, which
  adds :math:`R (1 - \alpha_m) I` to ``V`` in the step it arrives; with
  :math:`c_m = \tau_m (1 - \alpha_m)` (so :math:`R(1 - \alpha_m) = 1`) the PyNN weight is
  :math:`w / init` (:math:`w\,dt` for delta synapses, whose input type ``input_type_delta.h``
  multiplies a weight by ``1000 / timestep``), the delay :math:`d\,dt`, ``i_offset = bias``.

Source spikes at step :math:`s` are at :math:`(s + 1)\,dt` on NEST (its spike of step ``t`` is
stamped :math:`(t + 1)\,dt`) and :math:`s\,dt` on sPyNNaker. docs/export-pynn.md has the table and
the limits (thresholds are ``v >= v_th`` in both simulators, ``v > v_th`` in snnc).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import UnsupportedOnTarget
from .expand import expand
from .network import Network
from .sources import source_spikes
from .values import resolve

INLINE_MAX = 64  # arrays longer than this go to the NPZ beside the script
DATA_BEGIN = "# ---- data: exported by snnc (snnc's own values, unconverted) ----"
DATA_END = "# ---- end of data ----"


@dataclass
class _Data:
    """Literals for the script's data part; long arrays are collected for the NPZ."""

    npz_name: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def value(self, values: np.ndarray, key: str) -> str:
        """A scalar when all values agree, an inline array when short, else ``_ARRAYS[key]``."""
        values = np.asarray(values)
        if values.size and np.all(values == values.flat[0]) and key.split(".")[-1] not in (
                "pre", "post", "weight", "delay", "times", "ids"):
            return repr(values.flat[0].item())
        if values.size <= INLINE_MAX:
            items = ", ".join(repr(v.item()) for v in values.ravel())
            return f"np.array([{items}], dtype={str(values.dtype)!r})"
        self.arrays[key] = values
        return f"_ARRAYS[{key!r}]"


def _decays(neuron: Any, size: int, dt: float, where: str) -> tuple[np.ndarray, ...]:
    """(alpha_m, alpha_s, alpha_i) per neuron, as snnc's float update computes them."""
    from snnc.models.lif import decay_factor

    alpha_m = decay_factor(resolve(neuron.tau_mem, size), dt, neuron.integrator)
    alpha_s = decay_factor(resolve(neuron.tau_syn, size), dt, neuron.integrator)
    inh = neuron.tau_syn_inh
    alpha_i = alpha_s if inh is None else decay_factor(np.full(size, inh), dt, neuron.integrator)
    if np.any(alpha_m >= 1.0) or np.any(alpha_m <= 0.0):
        raise UnsupportedOnTarget("PyNN's IF_curr_exp leaks: tau_mem must give a decay strictly "
                                  "between 0 and 1 (no IF neuron, no euler tau_mem <= dt)",
                                  where=f"{where}.tau_mem")
    for alpha, name in ((alpha_s, "tau_syn"), (alpha_i, "tau_syn_inh")):
        if np.any(alpha < 0.0) or np.any(alpha >= 1.0):
            raise UnsupportedOnTarget("the synaptic decay must be in [0, 1)", where=f"{where}.{name}")
    delta = alpha_s == 0.0
    if (np.any(delta) and not np.all(delta)) or np.any(delta != (alpha_i == 0.0)):
        raise UnsupportedOnTarget("PyNN has IF_curr_exp (two exponential currents) or "
                                  "IF_curr_delta (none) per population: tau_syn and tau_syn_inh "
                                  "must be both 0 or both > 0 for every neuron",
                                  where=f"{where}.tau_syn")
    return alpha_m, alpha_s, alpha_i


def _population(net: Network, name: str, key: str, data: _Data) -> tuple[str, bool]:
    """The data literal of one ``lif`` population and whether its synapses are exponential."""
    population = net.populations[name]
    where = f"populations.{name}.neuron"
    if population.kind != "lif":
        hint = (": export the float network it was quantized from (NET.yaml or a reference "
                "build)" if population.kind in ("loihi_lif", "spinnaker_lif") else
                ": it has no PyNN standard model")
        raise UnsupportedOnTarget(f"PyNN export maps lif populations (to IF_curr_exp or "
                                  f"IF_curr_delta), not {population.kind}{hint}",
                                  where=f"populations.{name}")
    neuron: Any = population.neuron
    if neuron.reset != "zero":
        raise UnsupportedOnTarget("PyNN's IF_curr_exp resets to v_reset; reset: subtract has no "
                                  "PyNN standard model", where=f"{where}.reset")
    size = population.size
    alpha_m, alpha_s, alpha_i = _decays(neuron, size, net.dt, where)
    exponential = bool(alpha_s[0] > 0.0)
    fields = {"size": repr(size), "synapse": repr("exp" if exponential else "delta"),
              "alpha_m": data.value(alpha_m, f"{key}.alpha_m")}
    if exponential:
        fields["alpha_s"] = data.value(alpha_s, f"{key}.alpha_s")
        fields["alpha_i"] = data.value(alpha_i, f"{key}.alpha_i")
    for field_name in ("v_th", "v_reset", "v_leak", "bias", "v_init"):
        values = np.asarray(resolve(getattr(neuron, field_name), size), dtype=np.float64)
        fields[field_name] = data.value(values, f"{key}.{field_name}")
    fields["refractory"] = repr(int(neuron.refractory))
    return _dict_literal(fields), exponential


def _source(net: Network, name: str, key: str, steps: int, data: _Data) -> str:
    population = net.populations[name]
    assert population.source is not None  # a source population
    times, ids = source_spikes(population.source, population.size, steps, net.dt)
    # a source neuron spikes at most once per step in snnc (a repeated (step, id) is one spike);
    # NEST's spike_generator and its parrot would send it twice
    if times.size:
        times, ids = np.unique(np.stack([times, ids]), axis=1)
    fields = {"size": repr(population.size), "source": repr(population.kind),
              "times": data.value(times.astype(np.int32), f"{key}.times"),
              "ids": data.value(ids.astype(np.int32), f"{key}.ids")}
    return _dict_literal(fields)


def _projection(net: Network, index: int, exponential: dict[str, bool], data: _Data) -> str:
    projection = net.projections[index]
    where = f"projections[{index}]"
    if projection.plasticity is not None:
        raise UnsupportedOnTarget("PyNN export writes static synapses; a plastic projection's "
                                  "rule has no exported form yet", where=f"{where}.plasticity")
    if net.populations[projection.post].is_source:
        raise UnsupportedOnTarget("a projection into a source has no PyNN form", where=where)
    synapses = expand(net, projection)
    if exponential[projection.post] and synapses.delay.size and synapses.delay.min() < 2:
        raise UnsupportedOnTarget(
            "NEST's IF_curr_exp (iaf_psc_exp) adds a spike's current to v one step after it "
            "arrives, so snnc's delay d is NEST's d - 1 steps, at least 1: a delay of 1 step "
            "into a population with tau_syn > 0 has no NEST equivalent", where=f"{where}.delay")
    key = f"projection{index}"  # NPZ keys by position: names may hold any character
    fields = {"name": repr(projection.name), "pre": repr(projection.pre),
              "post": repr(projection.post),
              "i": data.value(synapses.pre, f"{key}.pre"),
              "j": data.value(synapses.post, f"{key}.post"),
              "weight": data.value(synapses.weight.astype(np.float64), f"{key}.weight"),
              "delay": data.value(synapses.delay, f"{key}.delay")}
    return _dict_literal(fields)


def _dict_literal(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k!r}: {v}" for k, v in fields.items()) + "}"


def data_part(net: Network, steps: int, npz_name: str) -> tuple[str, dict[str, np.ndarray]]:
    """The script's data section (Python source) and the arrays for its NPZ (may be empty)."""
    data = _Data(npz_name)
    populations, exponential = [], {}
    for index, population in enumerate(net.populations.values()):
        key = f"population{index}"
        if population.is_source:
            populations.append((population.name, _source(net, population.name, key, steps, data)))
        else:
            literal, exponential[population.name] = _population(net, population.name, key, data)
            populations.append((population.name, literal))
    projections = [_projection(net, index, exponential, data)
                   for index in range(len(net.projections))]
    lines = [DATA_BEGIN, f"NAME = {net.name!r}", f"DT = {net.dt!r}  # ms per step",
             f"STEPS = {steps!r}  # source spikes are exported for steps 0..STEPS-1"]
    if data.arrays:
        lines.append(f"_ARRAYS = np.load(Path(__file__).with_name({npz_name!r}))")
    lines.append("POPULATIONS = {")
    lines += [f"    {name!r}: {literal}," for name, literal in populations]
    lines.append("}")
    lines.append("PROJECTIONS = [")
    lines += [f"    {literal}," for literal in projections]
    lines += ["]", DATA_END]
    return "\n".join(lines) + "\n", data.arrays


def pynn_script(net: Network, steps: int, npz_name: str, source: str = "") -> tuple[str, dict]:
    """The whole script (text) and its NPZ arrays; raises ``UnsupportedOnTarget`` (one line,
    ``where`` the YAML path) for what PyNN cannot express."""
    from snnc import __version__

    data, arrays = data_part(net, steps, npz_name)
    header = _HEADER.format(name=net.name, version=__version__, source=source or net.name,
                            npz=f" Its long arrays are in {npz_name}, beside this file." if arrays else "")
    return header + "\n" + data + _CODE, arrays


_HEADER = '''\
#!/usr/bin/env python
"""{name}: a PyNN 0.13 model exported by snnc {version} (`snnc export-pynn`) from {source}.

    python THIS.py [--simulator nest|spiNNaker] [--steps N] [-o spikes.npz]

Needs numpy and PyNN 0.13 with NEST (pyNN.nest, the default) or sPyNNaker (pyNN.spiNNaker, real
SpiNNaker boards).{npz}

The data part holds snnc's own values: voltages, bias and weights in snnc's unit (read as mV),
delays and spike times in steps of DT ms, decay factors per step.
`cell` turns them into each simulator's IF_curr_exp / IF_curr_delta parameters so that a weight w
moves v as it does in snnc (snnc's docs/export-pynn.md derives them). `-o` writes the spikes in
snnc's record format (P.times, P.ids in steps), which `snnc plot` reads.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
'''

_CODE = '''
# How each simulator's step relates to snnc's (docs/export-pynn.md): the offset, in steps, added to
# a delay into an exponential / a delta synapse, to a source's spike step, and to a recorded step.
TIMING = {
    "nest": {"exp": -1, "delta": 0, "source": 1, "record": -1},
    "spiNNaker": {"exp": 0, "delta": 0, "source": 0, "record": 0},
}


def time_constant(alpha):
    """The exact-integration time constant (ms) of a decay factor per step."""
    return -DT / np.log(alpha)


def nest_p21(tau_m, tau_s, cm):
    """NEST iaf_psc_exp's P21: mV added to V per nA of synaptic current, one step later."""
    tau_m, tau_s = np.broadcast_arrays(np.asarray(tau_m, float), np.asarray(tau_s, float))
    same = np.isclose(tau_m, tau_s)
    gap = np.where(same, 1.0, tau_m - tau_s)
    general = tau_m * tau_s / (cm * gap) * (np.exp(-DT / tau_m) - np.exp(-DT / tau_s))
    return np.where(same, DT / cm * np.exp(-DT / tau_m), general)


def cell(pop, simulator):
    """(PyNN cell type, its parameters, weight factor of the excitatory and the inhibitory
    receptor): PyNN weight = snnc weight * factor."""
    tau_m = time_constant(pop["alpha_m"])
    common = {"tau_m": tau_m, "v_rest": pop["v_leak"], "v_reset": pop["v_reset"],
              "v_thresh": pop["v_th"], "tau_refrac": pop["refractory"] * DT}
    if pop["synapse"] == "delta":
        cm = tau_m * (1.0 - pop["alpha_m"])  # 1 nA held one step moves v by 1 mV
        # NEST's iaf_psc_delta adds the weight (mV) to V; sPyNNaker's delta input type scales a
        # weight by 1000 / timestep (us), i.e. 1 / DT, before it is a current for one step
        factor = 1.0 if simulator == "nest" else DT
        return "IF_curr_delta", {**common, "cm": cm, "i_offset": pop["bias"]}, factor, factor
    tau_e, tau_i = time_constant(pop["alpha_s"]), time_constant(pop["alpha_i"])
    common.update(tau_syn_E=tau_e, tau_syn_I=tau_i)
    if simulator == "nest":
        cm = nest_p21(tau_m, tau_e, 1.0)  # makes P21 = 1 for the excitatory receptor
        p20 = tau_m / cm * (1.0 - pop["alpha_m"])
        return ("IF_curr_exp", {**common, "cm": cm, "i_offset": pop["bias"] / p20},
                1.0 / nest_p21(tau_m, tau_e, cm), 1.0 / nest_p21(tau_m, tau_i, cm))
    cm = tau_m * (1.0 - pop["alpha_m"])  # R (1 - alpha_m) = 1
    init_e = tau_e / DT * (1.0 - pop["alpha_s"])
    init_i = tau_i / DT * (1.0 - pop["alpha_i"])
    return "IF_curr_exp", {**common, "cm": cm, "i_offset": pop["bias"]}, 1.0 / init_e, 1.0 / init_i


def _plain(value):
    """A parameter as PyNN takes it: a float, or a list of floats per neuron."""
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array.tolist()


def source_shift(name, simulator):
    """Steps by which a source's spikes are sent later and its projections' delays shortened
    (the same arrival times). pyNN.nest sends a source's spikes through parrot neurons, moving
    its spike_generator's times one min_delay earlier, so step 0's (time DT) would be at 0, which
    NEST refuses: on NEST a source is shifted by one step where all its delays allow it."""
    if simulator != "nest":
        return 0
    delays = [np.min(np.asarray(proj["delay"]) + TIMING[simulator][POPULATIONS[proj["post"]]
                                                                  ["synapse"]])
              for proj in PROJECTIONS if proj["pre"] == name and np.size(proj["delay"])]
    return 1 if not delays or min(delays) >= 2 else 0


def _trains(name, pop, steps, offset, simulator):
    """Per neuron, its spike times in ms (snnc step s -> (s + offset) DT); on NEST, step 0's
    spikes are dropped (with a warning) where ``source_shift`` could not move them."""
    times, ids = np.asarray(pop["times"]), np.asarray(pop["ids"])
    keep = times < steps
    if simulator == "nest" and offset < 2 and np.any(keep & (times == 0)):
        print(f"warning: {name}: pyNN.nest cannot send the {np.sum(keep & (times == 0))} "
              "source spikes of step 0 (a delay of 1 step from this source leaves no room to "
              "send them one step later): dropped")
        keep &= times > 0
    times, ids = times[keep], ids[keep]
    order = np.lexsort((times, ids))
    bounds = np.searchsorted(ids[order], np.arange(pop["size"] + 1))
    ms = (times[order] + offset) * DT
    if simulator == "nest":
        # pyNN.nest makes spike_generator's times precise and subtracts min_delay from them; NEST
        # stamps a precise time with the grid time at or after it, so a float error above the
        # grid (0.1 * 62 - 0.1 = 6.200000000000001) would send the spike a step late: place each
        # time a millionth of a step before its grid time (far below NEST's 0.001 ms tic)
        ms = ms - DT * 1e-6
    else:
        ms = np.round(ms, 9)  # the decimal a user would write: 0.30000000000000004 -> 0.3
    return [ms[bounds[k]:bounds[k + 1]].tolist() for k in range(pop["size"])]


def build(sim, simulator, steps):
    """Create the populations and projections; returns the recorded populations by name."""
    timing = TIMING[simulator]
    made, recorded = {}, {}
    for name, pop in POPULATIONS.items():
        if "source" in pop:
            trains = _trains(name, pop, steps, timing["source"] + source_shift(name, simulator),
                             simulator)
            # pyNN.nest takes one Sequence per neuron; pyNN.spiNNaker has no Sequence: lists
            wrap = sim.Sequence if simulator == "nest" else list
            made[name] = sim.Population(pop["size"], sim.SpikeSourceArray(
                spike_times=[wrap(train) for train in trains]), label=name)
            continue
        kind, params, _, _ = cell(pop, simulator)
        made[name] = sim.Population(pop["size"], getattr(sim, kind)(
            **{key: _plain(value) for key, value in params.items()}), label=name)
        made[name].initialize(v=_plain(pop["v_init"]))
        made[name].record("spikes")
        recorded[name] = made[name]
    for proj in PROJECTIONS:
        post = POPULATIONS[proj["post"]]
        _, _, factor_e, factor_i = cell(post, simulator)
        weight = np.asarray(proj["weight"], dtype=float)
        shift = source_shift(proj["pre"], simulator) if "source" in POPULATIONS[proj["pre"]] else 0
        delay = (np.asarray(proj["delay"]) + timing[post["synapse"]] - shift) * DT
        i, j = np.asarray(proj["i"]), np.asarray(proj["j"])
        for receptor, chosen, factor in (("excitatory", weight >= 0, factor_e),
                                         ("inhibitory", weight < 0, factor_i)):
            if not chosen.any():
                continue
            scaled = weight[chosen] * np.asarray(factor)[j[chosen]] if np.ndim(factor) \\
                else weight[chosen] * factor
            table = np.column_stack([i[chosen], j[chosen], scaled, delay[chosen]])
            sim.Projection(made[proj["pre"]], made[proj["post"]],
                           sim.FromListConnector(table, column_names=["weight", "delay"]),
                           sim.StaticSynapse(), receptor_type=receptor,
                           label=f"{proj['name']} ({receptor})")
    return recorded


def longest_delay(simulator):
    """The longest delay (ms) the script hands to PyNN: NEST needs max_delay >= it (PyNN's
    default is 10 ms)."""
    longest = 1
    for proj in PROJECTIONS:
        if np.size(proj["delay"]):
            offset = TIMING[simulator][POPULATIONS[proj["post"]]["synapse"]]
            longest = max(longest, int(np.max(proj["delay"])) + offset)
    return longest * DT


def spikes(recorded, simulator, steps):
    """snnc's record format: per population times (steps) and ids, sorted by time then id."""
    arrays = {"steps": np.array(steps), "dt": np.array(DT)}
    for name, population in recorded.items():
        times, ids = [], []
        for train in population.get_data("spikes").segments[0].spiketrains:
            step = np.rint(np.asarray(train.magnitude) / DT).astype(np.int64)
            times.append(step + TIMING[simulator]["record"])
            ids.append(np.full(step.size, int(train.annotations["source_index"])))
        t = np.concatenate(times) if times else np.zeros(0, np.int64)
        n = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        keep = (t >= 0) & (t < steps)
        order = np.lexsort((n[keep], t[keep]))
        arrays[f"{name}.times"] = t[keep][order].astype(np.int32)
        arrays[f"{name}.ids"] = n[keep][order].astype(np.int32)
    return arrays


def main(argv=None):
    parser = argparse.ArgumentParser(description=f"{NAME}: exported by snnc export-pynn")
    parser.add_argument("--simulator", choices=sorted(TIMING), default="nest")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--time-scale-factor", type=float, default=None,
                        help="sPyNNaker only: run this many times slower than real time")
    parser.add_argument("-o", "--output", help="write the spikes here (NPZ, snnc's format)")
    args = parser.parse_args(argv)
    if not 0 <= args.steps <= STEPS:
        parser.error(f"--steps must be in 0..{STEPS} (the source spikes exported)")
    if args.simulator == "nest":
        import pyNN.nest as sim
        sim.setup(timestep=DT, min_delay=DT, max_delay=max(longest_delay("nest"), 2 * DT),
                  spike_precision="on_grid")
        if not hasattr(sim.IF_curr_delta, "variable_map"):  # PyNN 0.13 lacks it: v is V_m
            sim.IF_curr_delta.variable_map = {"v": "V_m"}
    else:
        import pyNN.spiNNaker as sim
        extra = {} if args.time_scale_factor is None else {
            "time_scale_factor": args.time_scale_factor}
        sim.setup(timestep=DT, **extra)
    recorded = build(sim, args.simulator, args.steps)
    sim.run(args.steps * DT)
    arrays = spikes(recorded, args.simulator, args.steps)
    sim.end()
    seconds = args.steps * DT / 1000.0
    for name, population in recorded.items():
        count = arrays[f"{name}.times"].size
        rate = count / (population.size * seconds) if seconds else 0.0
        print(f"{name}: {count} spikes, {rate:.3f} Hz")
    if args.output:
        np.savez(args.output, **arrays)


if __name__ == "__main__":
    main()
'''
