"""`snnc export-pynn`: the script's data part holds the network's exact synapses, sources and
parameters; its mapping, run through plain-numpy transcriptions of NEST's iaf_psc_exp /
iaf_psc_delta updates and of sPyNNaker's IF_curr_exp, gives the reference's spikes; what PyNN
cannot express is one line. With .venv-nest present the script also runs under pyNN.nest (the
real check is `make pynn-check`)."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends.reference import simulate
from snnc.cli import cli
from snnc.ir import LI, LIF, LoihiLIF, Network, expand, explicit, poisson, save, spike_times
from snnc.ir.pynn_export import DATA_BEGIN, DATA_END
from snnc.ir.sources import source_spikes
from snnc.models.lif import decay_factor

ROOT = Path(__file__).resolve().parents[2]
NEST_PYTHON = ROOT / ".venv-nest" / "bin" / "python"
SPYNNAKER_PYTHON = ROOT / ".venv-spynnaker" / "bin" / "python"  # benchmarks/spynnaker_setup.sh
STEPS = 120


def _random_projection(rng, n_pre, n_post, count, weights, delays):
    pre = rng.integers(0, n_pre, count)
    post = rng.integers(0, n_post, count)
    order = np.lexsort((post, pre))
    return (explicit(pre[order], post[order]), rng.uniform(*weights, count)[order],
            rng.integers(delays[0], delays[1] + 1, count)[order])


def small_network() -> Network:
    """Both PyNN cell types, both sources, mixed-sign weights, two inhibitory time constants."""
    rng = np.random.default_rng(7)
    net = Network("pynn_small", dt=1.0)
    times = rng.integers(0, STEPS, 150)
    net.source("inp", 20, spike_times(times, rng.integers(0, 20, 150)))
    net.source("noise", 30, poisson(rate_hz=80.0, seed=3))
    net.population("exp_pop", 40, LIF(tau_mem=10.0, tau_syn=2.0, tau_syn_inh=4.0, v_th=1.0,
                                      v_reset=0.1, v_leak=0.05, bias=0.02, refractory=2,
                                      v_init=rng.uniform(0.0, 0.9, 40)))
    net.population("delta_pop", 25, LIF(tau_mem=20.0, integrator="euler", v_th=1.0, bias=0.03,
                                        refractory=1, v_init=rng.uniform(0.0, 0.9, 25)))
    for pre, post, count, weights, delays in (
            ("inp", "exp_pop", 300, (-0.2, 0.6), (3, 6)),  # sources: every delay >= 2 NEST
            ("noise", "delta_pop", 200, (0.0, 0.3), (2, 4)),  # steps, so step 0's spikes reach
            ("exp_pop", "delta_pop", 200, (0.0, 0.4), (1, 4)),
            ("delta_pop", "exp_pop", 150, (-0.5, 0.0), (2, 6))):
        connect, weight, delay = _random_projection(rng, net.populations[pre].size,
                                                    net.populations[post].size, count, weights,
                                                    delays)
        net.connect(pre, post, connect, weight=weight, delay=delay)
    return net


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Network, Path, dict]:
    folder = tmp_path_factory.mktemp("pynn")
    net = small_network()
    save(net, folder / "net.yaml")
    result = CliRunner().invoke(cli, ["export-pynn", str(folder / "net.yaml"), "--steps",
                                      str(STEPS), "-o", str(folder / "model.py")])
    assert result.exit_code == 0, result.output
    script = folder / "model.py"
    namespace: dict = {"__file__": str(script), "__name__": "exported"}
    exec(compile(script.read_text(), str(script), "exec"), namespace)  # noqa: S102 (our output)
    return net, script, namespace


def test_data_part_holds_the_exact_synapses_sources_and_parameters(exported):
    net, script, _ = exported
    text = script.read_text()
    data = text[text.index(DATA_BEGIN):text.index(DATA_END)]
    namespace = {"np": np, "Path": Path, "__file__": str(script)}
    exec(data, namespace)  # noqa: S102 (only the data part, as a user reading it would)
    assert namespace["DT"] == net.dt and namespace["STEPS"] == STEPS
    for projection, data_proj in zip(net.projections, namespace["PROJECTIONS"], strict=True):
        synapses = expand(net, projection)
        assert (data_proj["pre"], data_proj["post"]) == (projection.pre, projection.post)
        for ours, theirs in ((synapses.pre, "i"), (synapses.post, "j"),
                             (synapses.weight, "weight"), (synapses.delay, "delay")):
            assert np.array_equal(np.asarray(data_proj[theirs]), ours), theirs
    for name in ("inp", "noise"):
        population = net.populations[name]
        times, ids = source_spikes(population.source, population.size, STEPS, net.dt)
        # a repeated (step, id) is one spike in snnc: the script holds each pair once
        pairs = sorted(set(zip(times.tolist(), ids.tolist())))
        exported = list(zip(namespace["POPULATIONS"][name]["times"].tolist(),
                            namespace["POPULATIONS"][name]["ids"].tolist()))
        assert exported == pairs
        if name == "inp":  # its 150 random (step, id) pairs repeat some: the case is exercised
            assert len(pairs) < times.size
    exp_pop = namespace["POPULATIONS"]["exp_pop"]
    assert exp_pop["synapse"] == "exp" and namespace["POPULATIONS"]["delta_pop"]["synapse"] == "delta"
    assert exp_pop["alpha_m"] == math.exp(-1.0 / 10.0) and exp_pop["alpha_i"] == math.exp(-0.25)
    assert namespace["POPULATIONS"]["delta_pop"]["alpha_m"] == 1.0 - 1.0 / 20.0
    assert np.array_equal(exp_pop["v_init"], net.populations["exp_pop"].neuron.v_init)


# ---- independent transcriptions of the simulators' updates ----------------------------------
def _arrivals(namespace, simulator, steps):
    """Per population, per step, (excitatory, inhibitory) PyNN weight sums arriving then, from
    the script's own tables (its weights x factor, delays + TIMING) and the simulated spikes."""
    return {name: (np.zeros((steps + 64, pop["size"])), np.zeros((steps + 64, pop["size"])))
            for name, pop in namespace["POPULATIONS"].items() if "source" not in pop}


def _run_transcription(namespace, simulator, steps):
    """Simulate the exported tables with NEST's (or sPyNNaker's) equations; spikes in snnc steps."""
    populations, timing = namespace["POPULATIONS"], namespace["TIMING"][simulator]
    dt = namespace["DT"]
    inbox = _arrivals(namespace, simulator, steps)
    outgoing: dict[str, list] = {name: [] for name in populations}
    for proj in namespace["PROJECTIONS"]:
        post = populations[proj["post"]]
        _, _, factor_e, factor_i = namespace["cell"](post, simulator)
        weight = np.asarray(proj["weight"], float)
        factor = np.where(weight >= 0, factor_e, factor_i)
        pynn_delay = np.asarray(proj["delay"]) + timing[post["synapse"]]
        assert pynn_delay.min() >= 1  # what the script hands to PyNN is a valid delay
        outgoing[proj["pre"]].append((proj["post"], np.asarray(proj["i"]), np.asarray(proj["j"]),
                                      weight * factor, pynn_delay))
    state = {}
    for name, pop in populations.items():
        if "source" in pop:
            continue
        kind, p, _, _ = namespace["cell"](pop, simulator)
        state[name] = {"kind": kind, "p": p, "v": np.array(pop["v_init"], float)
                       * np.ones(pop["size"]), "ie": np.zeros(pop["size"]),
                       "ii": np.zeros(pop["size"]), "r": np.zeros(pop["size"], int)}
    spikes = {name: [] for name in state}

    def send(name, ids, step):  # a spike emitted at `step` reaches the target at step + delay
        for post, i, j, w, d in outgoing[name]:
            hit = np.isin(i, ids)
            for target, weight, delay in zip(j[hit], w[hit], d[hit]):
                slot = inbox[post][0 if weight >= 0 else 1]
                slot[step + delay, target] += weight

    for name, pop in populations.items():
        if "source" in pop:
            for s in range(steps):
                ids = np.asarray(pop["ids"])[np.asarray(pop["times"]) == s]
                send(name, ids, s + timing["source"] - (1 if simulator == "nest" else 0))
    for step in range(steps):
        for name, st in state.items():
            p, exc, inh = st["p"], inbox[name][0][step], inbox[name][1][step]
            free = st["r"] == 0
            tau_m = np.asarray(p["tau_m"], float)
            if simulator == "nest" and st["kind"] == "IF_curr_exp":
                cm = np.asarray(p["cm"], float)
                p22 = np.exp(-dt / tau_m)
                p20 = tau_m / cm * (1 - p22)
                p21e = namespace["nest_p21"](tau_m, p["tau_syn_E"], cm)
                p21i = namespace["nest_p21"](tau_m, p["tau_syn_I"], cm)
                v_new = (p22 * (st["v"] - p["v_rest"]) + p21e * st["ie"] + p21i * st["ii"]
                         + p20 * p["i_offset"] + p["v_rest"])
                st["v"] = np.where(free, v_new, st["v"])
                st["ie"] = np.exp(-dt / p["tau_syn_E"]) * st["ie"] + exc
                st["ii"] = np.exp(-dt / p["tau_syn_I"]) * st["ii"] + inh
            elif simulator == "nest":  # iaf_psc_delta: input jumps V; lost while refractory
                p33 = np.exp(-dt / tau_m)
                p30 = tau_m / np.asarray(p["cm"], float) * (1 - p33)
                v_new = (p33 * (st["v"] - p["v_rest"]) + p30 * p["i_offset"] + p["v_rest"]
                         + exc + inh)
                st["v"] = np.where(free, v_new, st["v"])
            else:  # sPyNNaker: current += w init; V = a - exp_tc (a - V); current decays after
                delta = st["kind"] == "IF_curr_delta"
                init_e = 1.0 if delta else p["tau_syn_E"] / dt * (1 - np.exp(-dt / p["tau_syn_E"]))
                init_i = 1.0 if delta else p["tau_syn_I"] / dt * (1 - np.exp(-dt / p["tau_syn_I"]))
                st["ie"] = st["ie"] + exc * init_e
                st["ii"] = st["ii"] + np.abs(inh) * init_i
                resistance = tau_m / np.asarray(p["cm"], float)
                # input_type_delta.h: a delta synapse's input times 1000 / timestep (us) = 1/dt
                scale = 1.0 / dt if delta else 1.0
                alpha = ((st["ie"] - st["ii"]) * scale + p["i_offset"]) * resistance + p["v_rest"]
                v_new = alpha - np.exp(-dt / tau_m) * (alpha - st["v"])
                st["v"] = np.where(free, v_new, st["v"])
                if delta:
                    st["ie"], st["ii"] = np.zeros_like(st["ie"]), np.zeros_like(st["ii"])
            st["r"] = np.where(free, 0, st["r"] - 1)
            fired = np.flatnonzero(st["v"] >= p["v_thresh"])
            st["v"][fired] = p["v_reset"] if np.ndim(p["v_reset"]) == 0 else p["v_reset"][fired]
            st["r"][fired] = int(round(p["tau_refrac"] / dt))
            if simulator == "spiNNaker" and st["kind"] == "IF_curr_exp":
                st["ie"] = st["ie"] * np.exp(-dt / p["tau_syn_E"])
                st["ii"] = st["ii"] * np.exp(-dt / p["tau_syn_I"])
            spikes[name] += [(step, int(i)) for i in fired]
        for name in state:
            ids = np.array([i for s, i in spikes[name] if s == step], int)
            if ids.size:
                send(name, ids, step)
    return spikes


@pytest.mark.parametrize("simulator", ["nest", "spiNNaker"])
def test_mapping_through_the_simulators_equations_gives_the_reference_spikes(exported, simulator):
    net, _, namespace = exported
    record = simulate(net, STEPS)
    simulated = _run_transcription(namespace, simulator, STEPS)
    total = 0
    for name, (times, ids) in record.spikes.items():
        if net.populations[name].is_source:
            continue
        expected = sorted(zip(times.tolist(), ids.tolist()))
        assert sorted(simulated[name]) == expected, name
        total += len(expected)
    assert total > 50  # the network is active: the comparison means something


def test_decay_factors_are_snnc_s(exported):
    _, _, namespace = exported
    pop = namespace["POPULATIONS"]["exp_pop"]
    assert pop["alpha_s"] == decay_factor(np.array([2.0]), 1.0, "exact")[0]
    assert np.isclose(np.exp(-1.0 / namespace["time_constant"](pop["alpha_m"])), pop["alpha_m"],
                      rtol=1e-15)


def _export(tmp_path, net) -> tuple[int, str]:
    save(net, tmp_path / "net.yaml")
    result = CliRunner().invoke(cli, ["export-pynn", str(tmp_path / "net.yaml"), "--steps", "10",
                                      "-o", str(tmp_path / "m.py")])
    return result.exit_code, result.output


def test_what_pynn_cannot_express_is_one_line(tmp_path):
    net = Network("bad", dt=1.0)
    net.source("s", 2, spike_times([0], [0]))
    net.population("p", 2, LIF(tau_mem=10.0, tau_syn=2.0))
    net.connect("s", "p", explicit([0], [1]), weight=1.0, delay=1)
    code, output = _export(tmp_path, net)
    assert code == 2 and output.count("\n") == 1
    assert "projections[0].delay" in output and "NEST" in output
    assert not (tmp_path / "m.py").exists()
    subtract = Network("sub", dt=1.0)
    subtract.population("p", 2, LIF(tau_mem=10.0, reset="subtract"))
    code, output = _export(tmp_path, subtract)
    assert code == 2 and "populations.p.neuron.reset" in output


@pytest.mark.parametrize("neuron, where, words", [
    (LI(tau_mem=10.0), "populations.p", "not li: it has no PyNN standard model"),
    (LoihiLIF(du=4095, dv=100, vth=10), "populations.p", "export the float network"),
    (LIF(tau_mem=float("inf")), "populations.p.neuron.tau_mem", "IF_curr_exp leaks"),
])
def test_models_without_a_pynn_equivalent_are_one_line(tmp_path, neuron, where, words):
    net = Network("no_pynn", dt=1.0)
    net.population("p", 2, neuron)
    code, output = _export(tmp_path, net)
    assert code == 2 and output.count("\n") == 1, output
    assert output.startswith(f"{tmp_path / 'net.yaml'}: {where}: ") and words in output, output
    assert "Traceback" not in output and not (tmp_path / "m.py").exists()


def test_a_missing_file_and_a_bad_output_are_one_line(tmp_path):
    for args, words in ((["missing.yaml", "-o", str(tmp_path / "m.py")], "no such file"),
                        ([str(tmp_path), "-o", str(tmp_path / "m.py")], "build"),
                        ([str(tmp_path / "net.yaml"), "-o", str(tmp_path / "m.npz")],
                         "does not end in .npz")):
        save(small_network(), tmp_path / "net.yaml")
        result = CliRunner().invoke(cli, ["export-pynn", *args])
        assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
        assert words in result.output, result.output


def test_the_script_beside_the_network_keeps_its_arrays(tmp_path):
    """`-o NET.py` next to NET.yaml: the script's arrays go to NET.pynn.npz, NET.npz (the
    network's own arrays) stays as it was and the network still loads."""
    from snnc.ir import load

    net = small_network()
    save(net, tmp_path / "net.yaml")
    before = (tmp_path / "net.npz").read_bytes()
    result = CliRunner().invoke(cli, ["export-pynn", str(tmp_path / "net.yaml"), "--steps", "50",
                                      "-o", str(tmp_path / "net.py")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "net.npz").read_bytes() == before
    assert "net.pynn.npz" in (tmp_path / "net.py").read_text()
    assert set(np.load(tmp_path / "net.pynn.npz").files) >= {"projection0.weight"}
    assert [p.name for p in load(tmp_path / "net.yaml").projections] == \
        [p.name for p in net.projections]


# Real NEST: only where `make pynn-check` has made .venv-nest (CI has no NEST; the tests above
# check the script's values and timing without it, and `make pynn-check` runs W1 and the
# microcircuit under pyNN.nest against the reference: docs/export-pynn.md).
@pytest.mark.skipif(not NEST_PYTHON.exists(),
                    reason="no .venv-nest: `make pynn-check` creates it (docs/export-pynn.md)")
def test_script_runs_under_pynn_nest_spike_for_spike(exported, tmp_path):
    net, script, _ = exported
    done = subprocess.run([str(NEST_PYTHON), str(script), "-o", str(tmp_path / "nest.npz")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "warning" not in done.stdout  # no source spike dropped
    nest = np.load(tmp_path / "nest.npz")
    record = simulate(net, STEPS)
    total = 0
    for name in ("exp_pop", "delta_pop"):
        times, ids = record.spikes[name]
        assert sorted(zip(nest[f"{name}.times"].tolist(), nest[f"{name}.ids"].tolist())) == \
            sorted(zip(times.tolist(), ids.tolist())), name
        total += times.size
    assert total > 50


# ---- the script's own code run against a fake `pyNN` that records what it is given ----------
class _Recorder:
    """A stand-in for ``pyNN.nest`` / ``pyNN.spiNNaker``: records every call of the PyNN API the
    script uses; ``get_data`` hands back the spikes given in ``fire`` (ms, by population)."""

    def __init__(self, fire: dict[str, list[tuple[float, int]]]):
        self.calls: list[tuple] = []
        self.populations: dict[str, dict] = {}
        self.projections: list[dict] = []
        self.fire = fire
        recorder = self

        class Cell:
            def __init__(self, **params):
                self.name, self.params = type(self).__name__, params

        class IF_curr_exp(Cell):  # noqa: N801 (PyNN's names)
            pass

        class IF_curr_delta(Cell):  # noqa: N801
            variable_map = {"v": "V_m"}

        class SpikeSourceArray(Cell):
            pass

        class Population:
            def __init__(self, size, celltype, label):
                self.size, self.label = size, label
                recorder.populations[label] = {"size": size, "cell": celltype.name,
                                               "params": celltype.params}

            def initialize(self, **values):
                recorder.populations[self.label]["initial"] = values

            def record(self, what):
                recorder.populations[self.label]["record"] = what

            def get_data(self, what):
                class Train:
                    def __init__(self, times, index):
                        self.magnitude = np.asarray(times, float)
                        self.annotations = {"source_index": index}

                spikes = recorder.fire.get(self.label, [])
                trains = [Train([t for t, i in spikes if i == k], k) for k in range(self.size)]
                segment = type("Segment", (), {"spiketrains": trains})
                return type("Block", (), {"segments": [segment]})

        def projection(pre, post, connector, synapse, receptor_type, label):
            recorder.projections.append({"pre": pre.label, "post": post.label,
                                         "table": np.asarray(connector[0], float),
                                         "columns": connector[1], "receptor": receptor_type,
                                         "synapse": synapse, "label": label})

        self.IF_curr_exp, self.IF_curr_delta = IF_curr_exp, IF_curr_delta
        self.SpikeSourceArray, self.Population, self.Projection = (SpikeSourceArray, Population,
                                                                   projection)
        self.Sequence = lambda values: ("Sequence", list(values))
        self.FromListConnector = lambda table, column_names: (table, column_names)
        self.StaticSynapse = lambda: "static"
        self.setup = lambda **kw: self.calls.append(("setup", kw))
        self.run = lambda ms: self.calls.append(("run", ms))
        self.end = lambda: self.calls.append(("end",))


DT_FAKE = 0.5


def fake_network() -> Network:
    """Small enough to compute every PyNN value by hand (dt 0.5 ms, so ms != steps)."""
    net = Network("fake", dt=DT_FAKE)
    net.source("s", 2, spike_times([0, 3], [0, 1]))     # every delay >= 2 on NEST: shifted
    net.source("s2", 1, spike_times([0, 2], [0, 0]))    # a delay of 1 into a delta population
    net.population("e", 2, LIF(tau_mem=10.0, tau_syn=2.0, tau_syn_inh=4.0, v_th=1.5, v_reset=0.1,
                               v_leak=0.2, bias=0.05, refractory=3, v_init=[0.3, 0.4]))
    net.population("d", 1, LIF(tau_mem=20.0, integrator="euler", v_th=1.0, bias=0.01))
    net.connect("s", "e", explicit([0, 1], [1, 0]), weight=[0.7, -0.3], delay=[3, 4])
    net.connect("s2", "d", explicit([0], [0]), weight=0.9, delay=1)
    net.connect("e", "d", explicit([0], [0]), weight=0.4, delay=2)
    net.connect("d", "e", explicit([0], [1]), weight=-0.6, delay=5)
    return net


@pytest.fixture(scope="module")
def fake_script(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("fake")
    save(fake_network(), folder / "net.yaml")
    result = CliRunner().invoke(cli, ["export-pynn", str(folder / "net.yaml"), "--steps", "10",
                                      "-o", str(folder / "fake_model.py")])
    assert result.exit_code == 0, result.output
    script = folder / "fake_model.py"
    assert not (folder / "fake_model.pynn.npz").exists()  # everything short enough to be inline
    namespace: dict = {"__file__": str(script), "__name__": "exported"}
    exec(compile(script.read_text(), str(script), "exec"), namespace)  # noqa: S102 (our output)
    return namespace


def _run_fake(namespace, monkeypatch, tmp_path, simulator, fire):
    import sys
    import types

    fake = _Recorder(fire)
    module = types.ModuleType(f"pyNN.{simulator}")
    # pyNN.spiNNaker (sPyNNaker 7.4.1) has no Sequence: the stand-in has none either
    skip = ("calls", "populations", "projections", "fire") + (
        ("Sequence",) if simulator == "spiNNaker" else ())
    module.__dict__.update({k: v for k, v in vars(fake).items() if k not in skip})
    package = types.ModuleType("pyNN")
    setattr(package, simulator, module)
    monkeypatch.setitem(sys.modules, "pyNN", package)
    monkeypatch.setitem(sys.modules, f"pyNN.{simulator}", module)
    namespace["main"](["--simulator", simulator, "-o", str(tmp_path / "out.npz")])
    return fake, np.load(tmp_path / "out.npz")


def _table(fake, pre, receptor):
    (found,) = [p for p in fake.projections if p["pre"] == pre and p["receptor"] == receptor]
    assert found["columns"] == ["weight", "delay"] and found["synapse"] == "static"
    return found["table"]


def test_nest_gets_hand_computed_parameters_weights_delays_and_times(fake_script, monkeypatch,
                                                                     tmp_path, capsys):
    h = DT_FAKE
    # NEST stamps a neuron's spike of step t at (t + 1) h: d fires at steps 3 and 7, e[1] at 4
    fake, out = _run_fake(fake_script, monkeypatch, tmp_path, "nest",
                          {"d": [(4 * h, 0), (8 * h, 0)], "e": [(5 * h, 1)]})
    # max_delay: the longest delay handed to NEST, d -> e's 5 steps less one (PyNN's default
    # of 10 ms would refuse longer ones)
    assert fake.calls[0] == ("setup", {"timestep": h, "min_delay": h, "max_delay": 4 * h,
                                       "spike_precision": "on_grid"})
    assert fake.calls[1:] == [("run", 10 * h), ("end",)]
    e = fake.populations["e"]
    assert e["cell"] == "IF_curr_exp" and e["record"] == "spikes"
    p = e["params"]
    em, es, ei = math.exp(-h / 10), math.exp(-h / 2), math.exp(-h / 4)
    cm = 10 * 2 / (10 - 2) * (em - es)  # iaf_psc_exp's P21 = 1 for the excitatory receptor
    p21_inh = 10 * 4 / (cm * (10 - 4)) * (em - ei)
    p20 = 10 / cm * (1 - em)
    for key, want in (("tau_m", 10.0), ("tau_syn_E", 2.0), ("tau_syn_I", 4.0), ("cm", cm),
                      ("v_rest", 0.2), ("v_reset", 0.1), ("v_thresh", 1.5),
                      ("tau_refrac", 3 * h), ("i_offset", 0.05 / p20)):
        assert p[key] == pytest.approx(want, rel=1e-12, abs=0), key
    assert e["initial"] == {"v": [0.3, 0.4]}
    d = fake.populations["d"]
    assert d["cell"] == "IF_curr_delta"
    tau_d = -h / math.log(1 - h / 20)  # euler's decay 1 - h/20 as an exact time constant
    assert d["params"]["tau_m"] == pytest.approx(tau_d, rel=1e-12)
    assert d["params"]["cm"] == pytest.approx(tau_d * h / 20, rel=1e-12)  # P20 = 1
    assert d["params"]["i_offset"] == pytest.approx(0.01, rel=1e-12)
    # s: every delay into e is >= 2 NEST steps, so its spikes go one step later and its delays
    # one step shorter; times a millionth of a step early (pyNN.nest subtracts min_delay)
    (s_times0, s_times1) = fake.populations["s"]["params"]["spike_times"]
    assert s_times0[1] == pytest.approx([(0 + 2) * h - h * 1e-6], rel=1e-15)
    assert s_times1[1] == pytest.approx([(3 + 2) * h - h * 1e-6], rel=1e-15)
    # s2 -> d has delay 1 (NEST 1 step): no room to shift, step 0's spike is dropped, said so
    assert fake.populations["s2"]["params"]["spike_times"][0][1] == pytest.approx(
        [(2 + 1) * h - h * 1e-6], rel=1e-15)
    assert "s2: pyNN.nest cannot send the 1 source spikes of step 0" in capsys.readouterr().out
    # weight = snnc weight / P21 (1 for E), delay = (d - 1) h into e, d h into d, minus the shift
    assert np.allclose(_table(fake, "s", "excitatory"), [[0, 1, 0.7, (3 - 1 - 1) * h]],
                       rtol=1e-12, atol=0)
    assert np.allclose(_table(fake, "s", "inhibitory"), [[1, 0, -0.3 / p21_inh, (4 - 1 - 1) * h]],
                       rtol=1e-12, atol=0)
    assert np.allclose(_table(fake, "s2", "excitatory"), [[0, 0, 0.9, 1 * h]], rtol=1e-12, atol=0)
    assert np.allclose(_table(fake, "e", "excitatory"), [[0, 0, 0.4, 2 * h]], rtol=1e-12, atol=0)
    assert np.allclose(_table(fake, "d", "inhibitory"), [[0, 1, -0.6 / p21_inh, 4 * h]],
                       rtol=1e-12, atol=0)
    assert len(fake.projections) == 5
    # recorded spikes back in snnc's steps (NEST time / h - 1) and format
    assert out["d.times"].tolist() == [3, 7] and out["d.ids"].tolist() == [0, 0]
    assert out["e.times"].tolist() == [4] and out["e.ids"].tolist() == [1]
    assert float(out["dt"]) == h and int(out["steps"]) == 10


def test_spinnaker_gets_hand_computed_parameters_weights_delays_and_times(fake_script,
                                                                          monkeypatch, tmp_path):
    h = DT_FAKE
    fake, out = _run_fake(fake_script, monkeypatch, tmp_path, "spiNNaker",
                          {"d": [(3 * h, 0)], "e": [(0.0, 0), (9 * h, 1)]})
    assert fake.calls[0] == ("setup", {"timestep": h})
    p = fake.populations["e"]["params"]
    em, es, ei = math.exp(-h / 10), math.exp(-h / 2), math.exp(-h / 4)
    init_e, init_i = 2 / h * (1 - es), 4 / h * (1 - ei)  # sPyNNaker's exponential synapse init
    for key, want in (("tau_m", 10.0), ("cm", 10 * (1 - em)), ("i_offset", 0.05),
                      ("tau_syn_E", 2.0), ("tau_syn_I", 4.0), ("tau_refrac", 3 * h)):
        assert p[key] == pytest.approx(want, rel=1e-12, abs=0), key
    # no parrots, no shift: step s at s h, step 0 included
    assert fake.populations["s"]["params"]["spike_times"] == [[0.0], [1.5]]
    assert fake.populations["s2"]["params"]["spike_times"] == [[0.0, 1.0]]
    assert np.allclose(_table(fake, "s", "excitatory"), [[0, 1, 0.7 / init_e, 3 * h]],
                       rtol=1e-12, atol=0)
    assert np.allclose(_table(fake, "s", "inhibitory"), [[1, 0, -0.3 / init_i, 4 * h]],
                       rtol=1e-12, atol=0)
    # into the delta population: sPyNNaker's delta input scales a weight by 1000 / timestep (us)
    assert np.allclose(_table(fake, "s2", "excitatory"), [[0, 0, 0.9 * h, 1 * h]], rtol=1e-12,
                       atol=0)
    assert np.allclose(_table(fake, "e", "excitatory"), [[0, 0, 0.4 * h, 2 * h]], rtol=1e-12,
                       atol=0)
    assert np.allclose(_table(fake, "d", "inhibitory"), [[0, 1, -0.6 / init_i, 5 * h]],
                       rtol=1e-12, atol=0)
    assert out["d.times"].tolist() == [3] and out["e.times"].tolist() == [0, 9]
    assert out["e.ids"].tolist() == [0, 1]


# sPyNNaker: only where benchmarks/spynnaker_setup.sh has made .venv-spynnaker (CI has none). No
# board is reachable: on a virtual board sPyNNaker maps the script's network (PyNN calls, cell
# parameters, FromListConnector tables, partition, place, route) and returns no spikes.
@pytest.mark.skipif(not SPYNNAKER_PYTHON.exists(),
                    reason="no .venv-spynnaker: `bash benchmarks/spynnaker_setup.sh` creates it")
def test_script_maps_under_pynn_spinnaker_on_a_virtual_board(exported, tmp_path):
    import os

    _, script, _ = exported
    cfg = (f"[Machine]\nvirtual_board = True\nversion = 5\n\n[Reports]\n"
           f"default_report_file_path = {tmp_path}\n\n[Mode]\nmode = Production\n")
    (tmp_path / ".spynnaker.cfg").write_text(cfg)
    done = subprocess.run([str(SPYNNAKER_PYTHON), str(script), "--simulator", "spiNNaker"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "Data from a virtual run will be empty" in done.stdout + done.stderr
    for name in ("exp_pop", "delta_pop"):  # the script got through run() and get_data()
        assert f"{name}: 0 spikes" in done.stdout
