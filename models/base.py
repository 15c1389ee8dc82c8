"""What a neuron model is to snnc: one definition that every layer reads.

A :class:`NeuronModel` bundles, for one IR neuron kind, everything that differs between models:

- ``params``: the validated, frozen IR type (its ``kind`` literal is the YAML ``kind``);
- ``steps``: its update in each numerics the reference runs it in (a numba kernel with one
  signature for all models, plus the function that lays its parameters out as tables);
- ``quantizers``: how a float model becomes each target's integer model, and which of its features
  that quantization keeps exactly (the rest are the reasons for "target T cannot run M");
- ``lowerings``: the backends that run the model natively (the model is that target's integer kind)
  and how (:class:`LavaLowering` for loihi-sim);
- ``features_of``: which optional features a given instance uses (refractory period, reset by
  subtraction, no leak, ...), each with the IR field that turns it on;
- ``example``: a small instance with a given set of features on (for the support sweep test).

Absence is meaningful: a model without a quantizer or lowering for a target cannot run there, and
the support matrix (``snnc targets --support``) and every refusal are derived from these fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
from pydantic import BaseModel

FEATURES: dict[str, str] = {
    "synaptic_current": "a decaying synaptic current (tau_syn > 0)",
    "refractory": "a refractory period (v held at its reset value after a spike)",
    "reset_subtract": "reset by subtracting the threshold",
    "no_leak": "no membrane leak (an IF neuron: tau_mem infinite)",
    "graded_output": "a non-spiking population whose value feeds later layers",
    "separate_inh_tau": "an inhibitory synaptic current with its own time constant",
}
"""Every optional feature a model may have, with the words refusals and the support table use."""

INPUT_LAYOUTS = ("current", "loihi", "exc_inh")
"""How a numerics' synapses write into a neuron's input channels (``backends/reference``):
``current``: one channel per neuron, weights summed as they are; ``loihi``: one channel per
neuron with Lava's per-projection weight format and ``weight_exp`` shift; ``exc_inh``: two
channels per neuron (excitatory, inhibitory receptor), a negative weight's magnitude on the second."""


@dataclass(frozen=True)
class Step:
    """A model's update in one numerics, as the reference engine runs it.

    ``update(x, params, state, lo, hi, out_ids, n_out, gbase) -> n_out`` advances neurons
    ``lo..hi-1`` by one step with input ``x`` (this step's channels of the population block),
    appends the global ids ``gbase + k`` of the neurons that spiked to ``out_ids`` from ``n_out``
    on, and returns the new count. ``tables(neuron, size, dt)`` returns ``(params, state)``, two
    C-contiguous 2-d arrays (rows x neurons) of ``dtype``.
    """

    numerics: str
    tables: Callable[[Any, int, float], tuple[np.ndarray, np.ndarray]]
    update: Any
    dtype: type
    voltage_row: int
    input: str = "current"
    payload_row: int | None = None
    """State row a non-spiking model sends each step when it feeds a projection (graded output);
    ``None``: its voltage row."""
    choose: Callable[[Any], "Step | None"] | None = None
    """For a model whose populations need different table or input layouts (``lif`` with
    ``tau_syn_inh`` takes two currents): ``choose(neuron)`` is the Step such a population runs
    instead (None: this one). The reference asks ``for_neuron`` per population."""
    whole_populations: bool = False
    """True when the update of a neuron reads other neurons of its population in the same step
    (``ltc``'s recurrent matrix): the reference then never splits such a population between its
    two parallel parts."""

    def __post_init__(self) -> None:
        if self.input not in INPUT_LAYOUTS:
            raise ValueError(f"unknown input layout {self.input!r} (known: {INPUT_LAYOUTS})")

    def for_neuron(self, neuron: Any) -> "Step":
        """The Step a population of ``neuron`` runs (``choose``)."""
        chosen = self.choose(neuron) if self.choose is not None else None
        return chosen if chosen is not None else self

    @property
    def channels_per_neuron(self) -> int:
        return 2 if self.input == "exc_inh" else 1

    @property
    def message_row(self) -> int:
        """The state row whose value is the graded message."""
        return self.voltage_row if self.payload_row is None else self.payload_row


@dataclass(frozen=True)
class Quantizer:
    """How a float model becomes a target numerics' integer model.

    ``function`` is ``"module:attribute"`` (imported on first use, so the registry never imports
    the compiler): ``quantize_population(population, incoming, network, options) ->
    PopulationResult`` (``compiler/passes/quantize``). ``keeps`` are the features it reproduces
    exactly; ``refuses[feature]`` says why a feature cannot be kept.
    """

    to: str
    function: str
    keeps: frozenset[str] = frozenset()
    refuses: Mapping[str, str] = field(default_factory=dict)
    check: Callable[[Any], None] | None = None
    """Refuses (``UnsupportedOnTarget``, one line) a population whose parameter *values* the
    target cannot honour, before any work (``snnc validate --target``)."""


@dataclass(frozen=True)
class LavaLowering:
    """How ``loihi-sim`` runs a Loihi integer model: ONE Lava process holds every population of
    the kind (concatenated in network order; Lava's cost is per process, not per neuron).

    ``arrays(neuron, size)`` gives the per-neuron int64 arrays of one population (the same keys
    for every population of the kind); ``process`` is ``"module:function"``, imported only by the
    loihi-sim backend (so the core never imports lava): ``function(arrays, size)`` returns the
    Lava process, which must have an ``a_in`` InPort, an ``s_out`` OutPort and the Var named
    ``voltage`` (read by ``--record-v``). ``message_bits`` 0: ``s_out`` sends spikes (0/1);
    above 0: graded messages of that width (blocks from it are made with ``num_message_bits``).
    """

    summary: str
    arrays: Callable[[Any, int], dict[str, np.ndarray]]
    process: str
    message_bits: int = 0
    voltage: str = "v"
    check: Callable[[list[Any]], None] | None = None
    """Refuses (one line, naming the populations) what one process cannot hold for all the
    kind's populations of a network, e.g. a parameter Lava keeps once per process; called by
    ``check_network`` (``snnc validate --target loihi-sim``) before anything runs."""

    @property
    def graded(self) -> bool:
        return self.message_bits > 0


@dataclass(frozen=True)
class NeuronModel:
    """One neuron model: the single source of what it is and where it runs (module docstring)."""

    kind: str
    params: type[BaseModel]
    summary: str
    steps: Mapping[str, Step] = field(default_factory=dict)
    quantizers: Mapping[str, Quantizer] = field(default_factory=dict)
    lowerings: Mapping[str, Any] = field(default_factory=dict)
    """Target name -> how that backend runs this kind natively: for ``loihi-sim`` a
    :class:`LavaLowering`; for ``spinnaker-emu`` a description (its cores run the model's
    ``spinnaker`` step)."""
    features: tuple[str, ...] = ()
    features_of: Callable[[Any], dict[str, str]] = lambda neuron: {}
    spiking: bool = True
    integer_weights: bool = False
    refusals: Mapping[str, str] = field(default_factory=dict)
    example: Callable[[frozenset[str]], Any] | None = None
    """A small instance that turns on exactly the given features (tests sweep every model x
    target x feature with it)."""

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise ValueError(f"model {self.kind!r}: unknown features {unknown} (known: {list(FEATURES)})")
        for numerics, step in self.steps.items():
            if step.numerics != numerics:
                raise ValueError(f"model {self.kind!r}: step registered as {numerics!r} "
                                 f"is for {step.numerics!r}")

    @property
    def native_numerics(self) -> str | None:
        """The integer numerics this kind is defined in (``None`` for float, hardware-neutral kinds)."""
        integer = [n for n in self.steps if n != "float"]
        return integer[0] if self.integer_weights and integer else None

    def used_features(self, neuron: Any) -> dict[str, str]:
        """``{feature: field}`` of the optional features this instance turns on."""
        return dict(self.features_of(neuron))


def one_process_check(kind: str, fields: tuple[str, ...], process: str) -> Callable[[list[Any]], None]:
    """A ``LavaLowering.check``: every population of ``kind`` must agree on ``fields``, the
    parameters the Lava ``process`` holds once (loihi-sim holds the kind in one process)."""

    def check(populations: list[Any]) -> None:
        from snnc.ir.errors import UnsupportedOnTarget

        first = populations[0]
        for population in populations[1:]:
            for name in fields:
                theirs, mine = getattr(first.neuron, name), getattr(population.neuron, name)
                if np.any(np.asarray(theirs) != np.asarray(mine)):
                    raise UnsupportedOnTarget(
                        f"{kind} populations '{first.name}' and '{population.name}' differ in "
                        f"{name} ({theirs!r} vs {mine!r}): loihi-sim runs every {kind} population "
                        f"as ONE Lava {process}, which holds one {name}",
                        where=f"populations.{population.name}.neuron.{name}")

    return check



# ---- learning rules -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PlasticSynapses:
    """One plastic projection as the reference lowers it (the input of ``PlasticStep.tables``).

    Synapses are in the projection's expansion order (``snnc.ir.expand``), the order of every
    recorded weight array. ``weight`` is float64 in float numerics, else int64 in the ring's units
    (what one spike adds to ``channel``); ``channel`` is the ring column of the synapse's post
    neuron (its excitatory receptor where the post model has two)."""

    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    channel: np.ndarray
    pre_first: int
    post_first: int
    n_pre: int
    n_post: int
    steps: int
    projection: Any = None
    """The IR projection (its ``weight_exp``, ``num_weight_bits`` for Loihi's formats)."""
    bounds: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Every population's [first, last + 1) global ids (a rule that reads another population's
    spikes, e.g. R-STDP's reward, finds them here)."""


@dataclass(frozen=True)
class PlasticStep:
    """A learning rule's per-step arithmetic in one numerics, as the reference engine runs it.

    ``tables(rule, synapses, dt) -> P`` lays out one projection's state as a flat tuple of arrays
    (numba types it; the tuple's layout is the rule's own). In every step ``t`` the engine calls,
    for each plastic projection, ``arrive(t, ring, wrap, stride, P)`` BEFORE the neurons of step
    ``t`` update (it adds what its synapses deliver into the ring: the entry for arrival step
    ``a``, column ``c`` is ``ring[(a * stride + c) & wrap]``; it may write slots ``t`` ..
    ``t + max_delay - 1``), and ``learn(t, spikes, P)`` after they spiked, with the int32 global
    ids of every spike of step ``t`` (neurons, then sources; a kernel that needs past spikes keeps
    its own history in P). ``weights(P)`` is a copy of the current weights in synapse order.
    """

    numerics: str
    tables: Callable[[Any, PlasticSynapses, float], tuple]
    arrive: Any
    learn: Any
    weights: Callable[[tuple], np.ndarray]


@dataclass(frozen=True)
class LearningRule:
    """One learning rule (a projection's ``plasticity``): the single source of where it runs.

    Mirrors :class:`NeuronModel`: ``params`` is the validated IR type (its ``rule`` literal is the
    YAML ``rule``); ``steps`` its arithmetic per numerics; ``quantizers[numerics]`` names
    (``"module:function"``) how the float rule becomes that numerics' native rule; ``lowerings``
    the backends that run it natively. Absence is the one source of "target T cannot learn with
    rule R".
    """

    name: str
    params: type[BaseModel]
    summary: str
    steps: Mapping[str, PlasticStep] = field(default_factory=dict)
    quantizers: Mapping[str, str] = field(default_factory=dict)
    lowerings: Mapping[str, Any] = field(default_factory=dict)
    integer: bool = False
    """True for a target-native rule (its parameters are in the target's integer units)."""
    example: Callable[[], Any] | None = None
    """A small instance (tests sweep every rule x target with it)."""
    check_post: Callable[[Any, Any, str], None] | None = None
    """``check_post(rule, post_neuron, where)`` refuses (one line) a post population this rule
    cannot run with (``spinnaker_stdp``: its weight_shift must be the post's); every backend that
    runs the rule calls it, the reference included."""

    def __post_init__(self) -> None:
        for numerics, step in self.steps.items():
            if step.numerics != numerics:
                raise ValueError(f"rule {self.name!r}: step registered as {numerics!r} "
                                 f"is for {step.numerics!r}")

    @property
    def native_numerics(self) -> str | None:
        """The integer numerics this rule is defined in (``None`` for the float rule)."""
        return next(iter(self.steps)) if self.integer and self.steps else None
