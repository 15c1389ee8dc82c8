"""spinnaker-emu runs a registered model's ``spinnaker`` Step in its cores (a foreign kind).

Two integer models are defined and registered only here (``snnc.models.registered``): a shift
leak integrate-and-fire (spiking) and a shift leak integrator (non-spiking, graded output). Each
has a ``spinnaker`` Step with the reference engine's kernel signature and a ``spinnaker-emu``
lowering, and no other edit anywhere. The tests check:

* each kernel against a plain numpy loop of its stated equations (saturated uint16 inputs);
* random compiled networks (several cores per population, populations of different kinds
  sharing cores, delays beyond the 32 in-core slots through delay cores, spinnaker_lif
  populations, graded messages from the foreign integrator): the emulator's spikes and the
  voltages of every population equal the reference's ``spinnaker`` numerics (what ``snnc
  verify`` compares), with no dropped packet or failed lookup;
* the cost model charges a foreign neuron as ``cost.py`` says; refusals are one line.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pytest
from emu_random import random_neuron
from pydantic import Field

from snnc.backends import first_divergence
from snnc.backends.reference import simulate
from snnc.backends.spinnaker_emu import CostModel, SpinnakerEmuBackend
from snnc.compiler import compile_network
from snnc.ir import Network, UnsupportedOnTarget, explicit, poisson, spike_times
from snnc.ir.values import Int, _Frozen
from snnc.models import NeuronModel, Step, registered
from snnc.models.jit import njit

RING_MAX = 0xFFFF
STEPS = 120
SEEDS = range(16)
CORE_SIZES = (2, 3, 5)

# ---- the test's models -------------------------------------------------------------------------

V, REFRACT = range(2)  # ShiftLIF state rows
THRESH, RESET, LEAK, SHIFT_E, SHIFT_I, T_REF, BIAS = range(7)  # ShiftLIF params rows
MSG = 1  # ShiftLI state rows: V, MSG
LI_LEAK, LI_SHIFT_E, LI_SHIFT_I, LI_BIAS, LI_PAYLOAD = range(5)


class ShiftLIF(_Frozen):
    r"""Integer LIF with a shift leak. With ``W_e``, ``W_i`` this step's ring sums (saturated
    at 0xFFFF):

    .. math::

        &\text{if } refract > 0:\ refract \mathrel{-}= 1,\ V = v_{reset}
        \quad\text{else } V = V - (V \gg leak) + (W_e \ll s_e) - (W_i \ll s_i) + bias \\
        &\text{if } V \ge v_{thresh}:\ V = v_{reset},\ refract = t_{refract},\ \text{spike}
    """

    kind: Literal["test_emu_shift_lif"] = "test_emu_shift_lif"
    v_thresh: Int
    v_reset: Int = 0
    v_init: Int = 0
    leak_shift: Annotated[Int, Field(ge=0, le=31)] = 4
    weight_shift_exc: Annotated[Int, Field(ge=0, le=16)] = 0
    weight_shift_inh: Annotated[Int, Field(ge=0, le=16)] = 0
    t_refract: Annotated[Int, Field(ge=0)] = 0
    bias: Int = 0


class ShiftLI(_Frozen):
    r"""Integer leaky integrator (never spikes) sending ``V >> payload_shift``:

    .. math::

        V = V - (V \gg leak) + (W_e \ll s_e) - (W_i \ll s_i) + bias;\quad
        m = V \gg payload\_shift
    """

    kind: Literal["test_emu_shift_li"] = "test_emu_shift_li"
    v_init: Int = 0
    leak_shift: Annotated[Int, Field(ge=0, le=31)] = 3
    weight_shift_exc: Annotated[Int, Field(ge=0, le=16)] = 0
    weight_shift_inh: Annotated[Int, Field(ge=0, le=16)] = 0
    bias: Int = 0
    payload_shift: Annotated[Int, Field(ge=0, le=31)] = 0


def _lif_tables(neuron: ShiftLIF, size: int, dt: float):
    params = np.empty((7, size), np.int64)
    for row, name in enumerate(("v_thresh", "v_reset", "leak_shift", "weight_shift_exc",
                                "weight_shift_inh", "t_refract", "bias")):
        params[row] = getattr(neuron, name)
    state = np.zeros((2, size), np.int64)
    state[V] = neuron.v_init
    return params, state


@njit(cache=True, nogil=True)
def _lif_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    n = state.shape[1]
    for k in range(lo, hi):
        exc = min(np.int64(x[k]), RING_MAX) << params[SHIFT_E, k]
        inh = min(np.int64(x[n + k]), RING_MAX) << params[SHIFT_I, k]
        v = state[V, k]
        if state[REFRACT, k] > 0:
            state[REFRACT, k] -= 1
            v = params[RESET, k]
        else:
            v = v - (v >> params[LEAK, k]) + exc - inh + params[BIAS, k]
        if v >= params[THRESH, k]:
            v = params[RESET, k]
            state[REFRACT, k] = params[T_REF, k]
            out_ids[n_out] = gbase + k
            n_out += 1
        state[V, k] = v
    return n_out


def _li_tables(neuron: ShiftLI, size: int, dt: float):
    params = np.empty((5, size), np.int64)
    for row, name in enumerate(("leak_shift", "weight_shift_exc", "weight_shift_inh", "bias",
                                "payload_shift")):
        params[row] = getattr(neuron, name)
    state = np.zeros((2, size), np.int64)
    state[V] = neuron.v_init
    state[MSG] = state[V] >> neuron.payload_shift
    return params, state


@njit(cache=True, nogil=True)
def _li_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    n = state.shape[1]
    for k in range(lo, hi):
        exc = min(np.int64(x[k]), RING_MAX) << params[LI_SHIFT_E, k]
        inh = min(np.int64(x[n + k]), RING_MAX) << params[LI_SHIFT_I, k]
        v = state[V, k]
        v = v - (v >> params[LI_LEAK, k]) + exc - inh + params[LI_BIAS, k]
        state[V, k] = v
        state[MSG, k] = v >> params[LI_PAYLOAD, k]
    return n_out


def _refractory(neuron: ShiftLIF) -> dict[str, str]:
    return {"refractory": "t_refract"} if neuron.t_refract > 0 else {}


LIF_MODEL = NeuronModel(
    kind="test_emu_shift_lif", params=ShiftLIF, summary="a test-only integer shift-leak LIF",
    steps={"spinnaker": Step("spinnaker", _lif_tables, _lif_update, np.int64, V,
                             input="exc_inh")},
    lowerings={"spinnaker-emu": "the model's spinnaker Step in the cores"},
    features=("refractory",), features_of=_refractory, integer_weights=True)

LI_MODEL = NeuronModel(
    kind="test_emu_shift_li", params=ShiftLI, summary="a test-only graded integer integrator",
    steps={"spinnaker": Step("spinnaker", _li_tables, _li_update, np.int64, V, input="exc_inh",
                             payload_row=MSG)},
    lowerings={"spinnaker-emu": "the model's spinnaker Step, one payload packet per tick"},
    features=("graded_output",), spiking=False, integer_weights=True)


@pytest.fixture(autouse=True)
def models():
    with registered(LIF_MODEL), registered(LI_MODEL):
        yield


# ---- the kernels against numpy -------------------------------------------------------------------

def _numpy_lif(p: dict, v, refract, exc_in, inh_in):
    """One step of ShiftLIF's equations on whole arrays (the class docstring)."""
    exc = np.minimum(exc_in, RING_MAX) << p["se"]
    inh = np.minimum(inh_in, RING_MAX) << p["si"]
    held = refract > 0
    v = np.where(held, p["reset"], v - (v >> p["leak"]) + exc - inh + p["bias"])
    refract = np.where(held, refract - 1, refract)
    fired = v >= p["thresh"]
    return np.where(fired, p["reset"], v), np.where(fired, p["t_ref"], refract), fired


def test_the_test_lif_kernel_is_its_equations():
    rng = np.random.default_rng(1)
    n, lo, hi, gbase = 9, 2, 8, 100
    p = {"thresh": rng.integers(300, 3000, n), "reset": rng.integers(-300, 0, n),
         "leak": rng.integers(1, 5, n), "se": rng.integers(0, 3, n), "si": rng.integers(0, 3, n),
         "t_ref": rng.integers(0, 4, n), "bias": rng.integers(0, 200, n)}
    params = np.stack([p[k] for k in ("thresh", "reset", "leak", "se", "si", "t_ref", "bias")])
    state = np.zeros((2, n), np.int64)
    state[V] = rng.integers(-500, 500, n)
    v, refract = state[V].copy(), np.zeros(n, np.int64)
    fired_any = saturated = 0
    for _ in range(40):
        x = rng.integers(0, 3000, 2 * n) * (rng.random(2 * n) < 0.4)
        x[rng.random(2 * n) < 0.05] = 70_000  # above uint16: the kernel saturates it
        out = np.zeros(n, np.int64)
        count = _lif_update(x, params, state, lo, hi, out, 0, gbase)
        nv, nr, fired = _numpy_lif(p, v, refract, x[:n], x[n:])
        part = slice(lo, hi)
        v[part], refract[part] = nv[part], nr[part]
        assert np.array_equal(state[V], v) and np.array_equal(state[REFRACT], refract)
        assert out[:count].tolist() == (gbase + lo + np.flatnonzero(fired[part])).tolist()
        fired_any += count
        saturated += int((x[lo:hi] > RING_MAX).any())
    assert fired_any > 10 and saturated > 0


def test_the_test_li_kernel_is_its_equations():
    rng = np.random.default_rng(2)
    n = 6
    leak, se, si = rng.integers(1, 4, n), rng.integers(0, 3, n), rng.integers(0, 3, n)
    bias, ps = rng.integers(-400, 400, n), rng.integers(0, 4, n)
    params = np.stack([leak, se, si, bias, ps])
    state = np.zeros((2, n), np.int64)
    v = np.zeros(n, np.int64)
    for _ in range(30):
        x = rng.integers(0, 80_000, 2 * n)
        out = np.zeros(n, np.int64)
        assert _li_update(x, params, state, 0, n, out, 0, 0) == 0  # never spikes
        v = (v - (v >> leak) + (np.minimum(x[:n], RING_MAX) << se)
             - (np.minimum(x[n:], RING_MAX) << si) + bias)
        assert np.array_equal(state[V], v) and np.array_equal(state[MSG], v >> ps)


# ---- random networks: emulator = reference -------------------------------------------------------

def _shift_lif(rng) -> ShiftLIF:
    return ShiftLIF(v_thresh=int(rng.integers(1500, 12000)), v_reset=int(rng.integers(-2000, 1)),
                    v_init=int(rng.integers(-1000, 1000)), leak_shift=int(rng.integers(2, 6)),
                    weight_shift_exc=int(rng.integers(0, 3)),
                    weight_shift_inh=int(rng.integers(0, 3)), t_refract=int(rng.integers(0, 4)),
                    bias=int(rng.choice([0, rng.integers(0, 300)])))


def _shift_li(rng) -> ShiftLI:
    return ShiftLI(v_init=int(rng.integers(-2000, 2000)), leak_shift=int(rng.integers(1, 4)),
                   weight_shift_exc=int(rng.integers(0, 2)),
                   weight_shift_inh=int(rng.integers(0, 2)), bias=int(rng.integers(-600, 600)),
                   payload_shift=int(rng.integers(0, 3)))


def _connect(net, rng, pre, post, max_delay, top=None):
    pick = rng.random((net.populations[pre].size, net.populations[post].size))
    pre_ids, post_ids = np.nonzero(pick < rng.uniform(0.1, 0.5))
    top = top or (RING_MAX if rng.random() < 0.15 else int(rng.integers(300, 4000)))
    weight = rng.integers(-top, top + 1, pre_ids.size)
    if rng.random() < 0.5:
        weight = np.maximum(np.abs(weight), 1)  # excitatory only
    net.connect(pre, post, explicit(pre_ids, post_ids), weight=weight,
                delay=rng.integers(1, max_delay + 1, pre_ids.size))


def random_foreign_network(seed: int) -> Network:
    """Sources, spinnaker_lif, the test's LIF and its graded integrator, randomly connected.

    Every network has each kind (so one generated loop and one reference engine serve them all);
    projections from the graded integrator keep to the in-core delays (delay cores re-send
    spikes, not payloads); the others reach beyond 32 slots."""
    rng = np.random.default_rng(7000 + seed)
    net = Network(f"foreign_{seed}", dt=1.0)
    size = int(rng.integers(4, 16))
    net.source("src", size, poisson(float(rng.uniform(40, 200)), seed=int(rng.integers(1 << 30)))
               if rng.random() < 0.5 else
               spike_times(times=rng.integers(0, STEPS, 4 * size),
                           ids=rng.integers(0, size, 4 * size)))
    spiking = []
    for k in range(int(rng.integers(1, 3))):
        # network order mixes kinds, so that cores hold slices of both
        for name, neuron in ((f"lif{k}", random_neuron(rng)), (f"fx{k}", _shift_lif(rng))):
            net.population(name, int(rng.integers(3, 20)), neuron)
            spiking.append(name)
    net.population("gli", int(rng.integers(3, 9)), _shift_li(rng))
    for post in [*spiking, "gli"]:
        _connect(net, rng, "src", post, int(rng.choice([4, 32, 110])))
    for pre in spiking:
        for post in [*spiking, "gli"]:
            if rng.random() < 0.5:
                _connect(net, rng, pre, post, int(rng.choice([4, 32, 110])))
    for post in spiking:
        if rng.random() < 0.6:
            _connect(net, rng, "gli", post, int(rng.choice([1, 8, 32])), top=3000)
    return net


def _recorded(net: Network) -> list[str]:
    return [p.name for p in net.neuron_populations()]


def _coverage(build) -> dict[str, int]:
    kinds = {p.name: p.kind for p in build.network.neuron_populations()}
    mixed = multi = 0
    per_pop: dict[str, set] = {}
    for core in build.partition.cores:
        if core.kind != "neuron":
            continue
        core_kinds = {kinds[s.population] for s in core.slices}
        mixed += len(core_kinds) > 1 and bool(core_kinds & {"test_emu_shift_lif",
                                                            "test_emu_shift_li"})
        for s in core.slices:
            per_pop.setdefault(s.population, set()).add(core.id)
    multi = sum(len(c) > 1 for p, c in per_pop.items() if kinds[p].startswith("test_emu"))
    return {"mixed_cores": mixed, "multi_core_foreign": multi,
            "delay_cores": sum(c.kind == "delay" for c in build.partition.cores)}


def test_random_networks_with_foreign_kinds_equal_the_reference():
    seen = {"mixed_cores": 0, "multi_core_foreign": 0, "delay_cores": 0, "foreign_spikes": 0,
            "lif_spikes": 0, "negative_messages": 0, "graded_adds": 0}
    for seed in SEEDS:
        net = random_foreign_network(seed)
        build = compile_network(net, "spinnaker-emu",
                                max_neurons_per_core=CORE_SIZES[seed % len(CORE_SIZES)])
        names = _recorded(build.network)
        expected = simulate(build.network, STEPS, "spinnaker", record_v=names)
        backend = SpinnakerEmuBackend()
        got = backend.run(build, STEPS, record_v=names)
        divergence = first_divergence(expected, got)
        assert divergence is None, f"seed {seed}: {divergence}"
        for name in names:
            assert np.array_equal(got.voltages[name], expected.voltages[name]), (seed, name)
        summary = backend.provenance["summary"]
        assert summary["dropped_packets"] == 0 and summary["failed_lookups"] == 0, seed
        for key, value in _coverage(build).items():
            seen[key] += int(value > 0)
        seen["foreign_spikes"] += int(sum(got.spikes[n][0].size for n in names
                                          if n.startswith("fx")) > 0)
        seen["lif_spikes"] += int(sum(got.spikes[n][0].size for n in names
                                      if n.startswith("lif")) > 0)
        ps = build.network.populations["gli"].neuron.payload_shift
        messages = expected.voltages["gli"] >> ps
        seen["negative_messages"] += int((messages < 0).any())
        graded = [p for p in build.network.projections if p.pre == "gli"]
        top = max((int(np.abs(np.asarray(p.weight)).max()) for p in graded), default=0)
        seen["graded_adds"] += int((int(np.abs(messages).max()) * top) >> 15 > 0)
    # the networks exercise what the test is for (not only silent one-core networks)
    assert seen["mixed_cores"] >= 8 and seen["multi_core_foreign"] >= 12, seen
    assert seen["delay_cores"] >= 8, seen
    assert seen["foreign_spikes"] >= 12 and seen["lif_spikes"] >= 8, seen
    assert seen["negative_messages"] >= 3 and seen["graded_adds"] >= 8, seen


def test_a_foreign_machine_runs_again_from_its_start():
    build = compile_network(random_foreign_network(3), "spinnaker-emu", max_neurons_per_core=3)
    backend = SpinnakerEmuBackend()
    machine = backend.load(build)
    first = backend.run(machine, STEPS, record_v=["fx0"])
    again = backend.run(machine, STEPS, record_v=["fx0"])
    assert first_divergence(first, again) is None
    assert np.array_equal(first.voltages["fx0"], again.voltages["fx0"])
    assert first.spikes["fx0"][0].size > 0


# ---- cost model and refusals ---------------------------------------------------------------------

def test_a_foreign_neuron_costs_what_the_cost_model_says():
    # one silent core of 4 foreign neurons and one that fires every tick: the cycles per tick are
    # tick_overhead + neuron_update * neurons (+ packet_sent per spike), cost.py's formula
    net = Network("cost", dt=1.0)
    net.population("quiet", 4, ShiftLIF(v_thresh=10**6))
    net.population("busy", 3, ShiftLIF(v_thresh=1, bias=5))  # V = 5 >= 1 every tick: a spike
    net.connect("busy", "quiet", explicit([0], [0]), weight=1, delay=1)
    cost = CostModel()
    backend = SpinnakerEmuBackend()
    got = backend.run(compile_network(net, "spinnaker-emu", max_neurons_per_core=4), 50,
                      cost=cost)
    assert got.spikes["busy"][0].size == 3 * 50 and got.spikes["quiet"][0].size == 0
    cores = {c["slices"][0]["population"]: c for c in backend.provenance["cores"]
             if c["kind"] == "neuron"}
    assert cores["busy"]["cycles_max"] == (cost.tick_overhead + 3 * cost.neuron_update
                                           + 3 * cost.packet_sent)
    # the tables route busy's whole key block to the quiet core: 3 packets a tick, of which only
    # busy[0]'s finds a row (one word); the others find an empty row
    per_tick = cost.tick_overhead + 4 * cost.neuron_update
    assert cores["quiet"]["cycles_max"] == (per_tick + 3 * cost.packet_received
                                            + cost.synaptic_event)
    assert cores["quiet"]["packets_received"] == 3 * 50
    assert cores["quiet"]["synaptic_events"] == 50


def test_a_graded_foreign_projection_beyond_the_ring_is_refused_in_one_line():
    net = Network("late", dt=1.0)
    net.source("src", 2, spike_times(times=[0], ids=[0]))
    net.population("gli", 2, ShiftLI())
    net.population("fx", 2, ShiftLIF(v_thresh=1000))
    net.connect("src", "gli", explicit([0], [0]), weight=100, delay=1)
    net.connect("gli", "fx", explicit([0], [1]), weight=100, delay=40)
    with pytest.raises(UnsupportedOnTarget, match="graded projection's delay") as error:
        SpinnakerEmuBackend().run(compile_network(net, "spinnaker-emu"), 10)
    assert "\n" not in str(error.value)


def test_a_step_without_exc_inh_input_is_refused_in_one_line():
    current = NeuronModel(
        kind="test_emu_current", params=_current_params(),
        summary="a test-only model whose spinnaker Step reads one current channel",
        steps={"spinnaker": Step("spinnaker", _lif_tables, _lif_update, np.int64, V)},
        lowerings={"spinnaker-emu": "claimed"}, integer_weights=True)
    with registered(current):
        net = Network("current", dt=1.0)
        net.source("src", 1, spike_times(times=[0], ids=[0]))
        net.population("c", 2, {"kind": "test_emu_current", "v_thresh": 10})
        net.connect("src", "c", explicit([0], [0]), weight=5, delay=1)
        with pytest.raises(UnsupportedOnTarget, match="population 'c' is 'test_emu_current', "
                                                      "which spinnaker-emu cannot run") as error:
            SpinnakerEmuBackend().run(compile_network(net, "spinnaker-emu"), 5)
        assert "\n" not in str(error.value) and "exc_inh" in str(error.value)


def _current_params():
    class CurrentLIF(ShiftLIF):
        kind: Literal["test_emu_current"] = "test_emu_current"  # type: ignore[assignment]

    return CurrentLIF
