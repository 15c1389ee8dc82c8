"""Foreign kinds: any registered model's ``spinnaker`` Step, run in the emulator's neuron cores.

The two built-in kinds (``spinnaker_lif``, ``spinnaker_li``) run the emulator's own kernel
(``neuron.update_neurons``). A population of any other kind runs in its cores when its model has
a ``spinnaker`` :class:`~snnc.models.Step` (``input="exc_inh"``, int64 tables) and a
``spinnaker-emu`` lowering. Its neurons are global neurons ``builtin .. total - 1`` (after the
built-in ones), grouped into *families* as the reference groups them: populations whose Step has
the same kernel and table layout share one concatenated ``(params, state)`` and one kernel call.

Per tick, after the built-in neurons (step 1 of ``engine.py``), each family:

1. ``foreign_input``: every neuron reads the excitatory and inhibitory entries of its core's ring
   slot ``t`` (the uint16 entries ``update_neurons`` would read, zeroed after reading) into the
   family's ``x`` (``x[k]``, ``x[size + k]``, the reference's ``exc_inh`` layout);
2. calls the model's ``update(x, params, state, 0, size, ids, 0, first) -> count`` (the
   reference engine's kernel signature), whose spikes are global neuron ids;
3. ``foreign_after``: marks the spikes, copies ``state[voltage_row]`` into the machine's voltage
   array (what ``--record-v`` reads) and, for a non-spiking model's graded neurons,
   ``state[message_row]`` into the payload of its packet.

Then spikes and payloads become packets exactly as the built-in neurons' do (``send_and_route``).

numba must see the kernels when it compiles the tick loop, so the loop of a machine with foreign
families is *generated* (``loop_source``): the built-in ``run_ticks`` with one straight-line call
per family (and, on a machine without plastic rows, without the STDP calls: a first run then
compiles none of ``plastic.py``), written once per kernel set under the cache folder
(``$SNNC_CACHE_DIR``, as the reference engine's, ``backends/reference/engine.py``) so that numba
caches its machine code. The alternative, a per-kind kernel called from Python between ticks,
was measured: one ``run_ticks`` call per tick costs the dispatch and unboxing of the ~60 arrays
the loop takes every tick (docs/spinnaker-emu.md, "Models the cores run").
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from snnc.ir.errors import UnsupportedOnTarget
from snnc.models import REGISTRY, Step
from snnc.models.jit import njit, package_stamp
from snnc.models.targets import TARGETS

TARGET = TARGETS["spinnaker-emu"].name
BUILTIN_KINDS = ("spinnaker_lif", "spinnaker_li")
"""The kinds the emulator's own kernel runs (``neuron.py``); every other kind is foreign."""


@dataclass
class ForeignFamily:
    """Populations of one foreign kernel and table layout, concatenated (network order)."""

    name: str
    step: Step
    params: np.ndarray
    state: np.ndarray
    populations: dict[str, int]  # population -> its first family-local neuron
    first: int = 0  # global index of the family's first neuron
    graded_local: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def size(self) -> int:
        return int(self.state.shape[1])


def foreign_step(pop: Any) -> Step:
    """The ``spinnaker`` Step the cores run for a foreign population; one-line refusal if none."""
    model = REGISTRY.of(pop.neuron)
    where = f"populations.{pop.name}.neuron.kind"
    step = model.steps.get("spinnaker")
    if step is None or TARGET not in model.lowerings:
        raise UnsupportedOnTarget(
            f"population '{pop.name}' is '{model.kind}', which {TARGET} cannot run: no "
            f"'spinnaker' Step with a '{TARGET}' lowering (compile the network for {TARGET} "
            "first)", where=where)
    if step.input != "exc_inh" or step.dtype is not np.int64:
        raise UnsupportedOnTarget(
            f"population '{pop.name}' is '{model.kind}', which {TARGET} cannot run: its "
            f"spinnaker Step reads '{step.input}' input in {np.dtype(step.dtype).name}, the cores "
            "give exc_inh ring sums to int64 tables", where=where)
    return step


def families(network: Any, senders: set[str]) -> list[ForeignFamily]:
    """One family per foreign kernel and table layout, in registry order (then network order),
    as ``backends/reference/program.py`` groups them; ``senders``: populations with outgoing
    projections (a non-spiking one among them sends payloads)."""
    rank = {kind: k for k, kind in enumerate(REGISTRY.kinds)}
    pops = sorted((p for p in network.neuron_populations() if p.kind not in BUILTIN_KINDS),
                  key=lambda p: rank[p.kind])
    groups: dict[str, list] = {}
    steps: dict[str, Step] = {}
    for pop in pops:
        step = foreign_step(pop)
        params, state = step.tables(pop.neuron, pop.size, network.dt)
        update = step.update.py_func
        key = f"{update.__module__}.{update.__name__}:{params.shape[0]}x{state.shape[0]}"
        steps.setdefault(key, step)
        groups.setdefault(key, []).append((pop, params, state))
    found = []
    for key, entries in groups.items():
        starts = np.cumsum([0] + [e[0].size for e in entries])
        graded = [start + np.arange(pop.size) for (pop, _, _), start in zip(entries, starts)
                  if pop.name in senders and not REGISTRY.of(pop.neuron).spiking]
        found.append(ForeignFamily(
            key, steps[key],
            np.ascontiguousarray(np.concatenate([e[1] for e in entries], axis=1), np.int64),
            np.ascontiguousarray(np.concatenate([e[2] for e in entries], axis=1), np.int64),
            {e[0].name: int(s) for e, s in zip(entries, starts)},
            graded_local=(np.concatenate(graded) if graded else np.zeros(0)).astype(np.int64)))
    return found


@njit(cache=True)
def foreign_input(t, state, net, fam, spiked):
    """A family's ``x`` from ring slot ``t`` of its neurons' cores (entries zeroed after reading,
    where ``update_neurons`` reads them); clears its neurons' ``spiked``."""
    ring, ring_pos, layout = state[3], net[4], net[6]
    delay_shift, slot_mask, _ = layout
    offset = (t & slot_mask) << delay_shift
    stride = np.int64(1) << (delay_shift - 1)  # the inhibitory receptor's entries
    first, x = fam[2], fam[3]
    size = fam[1].shape[1]
    for k in range(size):
        at = ring_pos[first + k] + offset
        x[k] = ring[at]
        x[size + k] = ring[at + stride]
        ring[at] = 0
        ring[at + stride] = 0
        spiked[first + k] = False


@njit(cache=True)
def foreign_after(state, net, fam, count, voltage_row, message_row, spiked):
    """Mark the ``count`` spikes the kernel wrote, copy its voltages, and its graded neurons'
    messages into their packets' payload."""
    v, neuron_g, payload = state[0], net[0], net[9]
    fstate, first, ids, graded = fam[1], fam[2], fam[4], fam[5]
    for j in range(count):
        spiked[ids[j]] = True
    for k in range(fstate.shape[1]):
        v[first + k] = fstate[voltage_row, k]
    for j in range(graded.size):
        g = neuron_g[first + graded[j]]
        if g >= 0:  # a core with nowhere to send sends nothing
            payload[g] = fstate[message_row, graded[j]]


def as_tuple(fam: ForeignFamily) -> tuple:
    """The family as the generated loop takes it (a fresh copy of the state: runs repeat)."""
    return (fam.params, fam.state.copy(), np.int64(fam.first), np.zeros(2 * fam.size, np.int64),
            np.zeros(max(fam.size, 1), np.int64), fam.graded_local)


_LOOP = '''\
# Generated by snnc.backends.spinnaker_emu.foreign for one set of update kernels; do not edit.
{stamps}
from snnc.models.jit import njit
from snnc.backends.spinnaker_emu.engine import builtin_neurons, scratch_of, send_and_route
from snnc.backends.spinnaker_emu.foreign import foreign_after, foreign_input
{plastic_import}


@njit(cache={cache})
def run_ticks(t_start, t_stop, state, neuron, net, routes, delays, cost, counters, spike_t,
              spike_n, v_rec_index, v_rec, plastic{fam_args}):
    """``engine.run_ticks`` with the foreign families' updates after the built-in neurons' (and
    without the STDP calls on a machine with no plastic rows)."""
    scratch = scratch_of(state, net, routes, delays, counters)
    n_neurons = state[0].size
    n_spikes = 0
    for t in range(t_start, t_stop):
        if n_spikes + n_neurons > spike_t.size:
            return t, n_spikes
{arrive}        builtin_neurons(t, state, neuron, net, scratch[0])
{updates}
{learn}        n_spikes = send_and_route(t, state, neuron, net, routes, delays, cost, counters, spike_t,
                                  spike_n, n_spikes, v_rec_index, v_rec, scratch)
    return t_stop, n_spikes
'''
_UPDATE = '''\
        foreign_input(t, state, net, f{k}, scratch[0])
        count = step_{k}(f{k}[3], f{k}[0], f{k}[1], 0, f{k}[1].shape[1], f{k}[4], 0, f{k}[2])
        foreign_after(state, net, f{k}, count, {voltage}, {message}, scratch[0])
'''


def _importable(function: Any) -> bool:
    """Whether a later process finds the kernel again (a module file that is not ``__main__``):
    only then may the loop that calls it be cached (numba's cache names callees by module)."""
    name = getattr(function, "__module__", None)
    module = sys.modules.get(name) if name else None
    path = getattr(module, "__file__", None)
    return bool(name and name != "__main__" and path and Path(path).is_file())


def _file_digest(function: Any) -> str:
    try:
        return hashlib.sha256(Path(sys.modules[function.__module__].__file__ or "")
                              .read_bytes()).hexdigest()[:16]
    except (OSError, KeyError, TypeError):
        return "unknown"


_ARRIVE = "        plastic_arrive(t, state, net, plastic, counters[4], scratch[7])\n"
_LEARN = "        plastic_learn(t, net, plastic, scratch[0], scratch[7])\n"
_PLASTIC_IMPORT = "from snnc.backends.spinnaker_emu.plastic import plastic_arrive, plastic_learn"


def loop_source(fams: list[ForeignFamily], plastic: bool = True) -> str:
    """The generated module's source for these families' kernels (module docstring); without
    ``plastic`` the STDP calls are left out (a first run then compiles none of plastic.py)."""
    kernels = [f.step.update.py_func for f in fams]
    stamps = "".join(f"# step_{k}: {u.__module__}.{u.__qualname__} {_file_digest(u)}\n"
                     for k, u in enumerate(kernels))
    updates = "".join(_UPDATE.format(k=k, voltage=f.step.voltage_row, message=f.step.message_row)
                      for k, f in enumerate(fams))
    return _LOOP.format(stamps=stamps.rstrip("\n"), updates=updates.rstrip("\n"),
                        cache=all(_importable(u) for u in kernels),
                        arrive=_ARRIVE if plastic else "", learn=_LEARN if plastic else "",
                        plastic_import=_PLASTIC_IMPORT if plastic else "",
                        fam_args="".join(f", f{k}" for k in range(len(fams))))


_LOADED: dict[str, types.ModuleType] = {}  # per process: each loop is compiled (or loaded) once


def loop_module(fams: list[ForeignFamily], plastic: bool = True) -> types.ModuleType:
    """The generated tick loop for these families (written under the cache folder, imported once)."""
    from snnc.backends.reference.engine import _cache_root, _write_once

    source = loop_source(fams, plastic)
    # named by the source AND every kernel package's code, as the reference's engines
    digest = hashlib.sha256((source + package_stamp()).encode()).hexdigest()[:20]
    module = _LOADED.get(digest)
    if module is not None:
        return module
    try:
        path = _cache_root() / "emu-loops" / digest / "loop.py"
        _write_once(path, source)
    except OSError:  # no writable cache: a private folder (compiled again in every process)
        path = Path(tempfile.mkdtemp(prefix="snnc-emu-loop-")) / "loop.py"
        path.write_text(source)
    name = f"snnc_emu_loop_{digest}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    for k, fam in enumerate(fams):
        setattr(module, f"step_{k}", fam.step.update)
    sys.modules[name] = module
    exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 (our own template)
    _LOADED[digest] = module
    return module
