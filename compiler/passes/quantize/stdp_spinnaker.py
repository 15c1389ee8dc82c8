r"""``stdp`` -> ``spinnaker_stdp``: the float rule in sPyNNaker's units (``models/spinnaker_stdp.py``).

The post population's quantizer (``spinnaker.py``) has fixed its excitatory ring-buffer shift
:math:`p` and the float value :math:`u` of one 16-bit weight unit :math:`W` (the report's
``scale``); inside an update sPyNNaker holds a weight as the s16.15 accum :math:`W \ll p`, so a
float weight :math:`w` is the raw accum :math:`(w / u)\, 2^p`. Its shift counts every plastic
synapse at ``w_max`` (sPyNNaker's ``get_weight_maximum``/``get_weight_mean`` for STDP), so a
weight can grow to ``w_max`` without the ring's sum leaving its range:

- ``min_weight = round(w_min / u) << p``, ``max_weight = round(w_max / u) << p`` (whole weight
  units: a clamped weight is a representable one);
- additive: ``a2_plus = round(a_plus / u * 2**p)`` (a trace of one spike is :math:`2^{11} \ll 4 =
  2^{15}`, one accum unit, so a pair at zero interval moves the weight by ``a_plus``), likewise
  ``a2_minus``; multiplicative: ``a2_± = round(a_± * 2**15)`` (plain factors of
  :math:`(w_{max} - w)` and :math:`(w - w_{min})`);
- ``tau_plus``/``tau_minus`` as they are (the look-up tables come from them and ``dt``, as
  sPyNNaker's host computes them); ``pairing`` as it is (sPyNNaker's nearest pair differs, below);
- ``backprop_delay: false``: sPyNNaker times a pair with the presynaptic spike at its send tick;
  without the back-propagated delay the interval is :math:`\Delta t + d` (with it,
  :math:`\Delta t + 2d`), so this is the closer of the two to the float rule's :math:`\Delta t`
  (measured at arrival).

What changes (each a warning in the report, with this projection's figures): that interval shift;
weights are stored as whole units between updates (the s16.15 result is truncated: an increase
below one unit is lost, a decrease of any size costs at least one unit); traces are s4.11 and the
decays a table of ``floor(2**11 e^{-k dt/tau})`` (pairs further apart than the table never
interact); a neuron's history keeps its last 15 post spikes; updates happen only when a
presynaptic spike arrives (a weight recorded between two spikes has not seen the post spikes since
the last one); nearest pairing potentiates only at the first post spike after each pre spike.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from snnc.ir.errors import QuantizationError, UnsupportedOnTarget
from snnc.models.spinnaker_stdp import (
    MAX_POST_SYNAPTIC_EVENTS,
    SpinnakerStdp,
    exp_lut,
)

ACCUM = 2.0**15
LIF_KINDS = ("lif",)


def plastic_ceiling(item: Any, exc_gain: np.ndarray) -> np.ndarray | None:
    """Ring-buffer currents to count for a plastic projection's synapses when choosing the shift:
    every synapse at ``w_max`` (None for a static projection or a rule without ``w_max``)."""
    rule = item.projection.plasticity
    w_max = getattr(rule, "w_max", None) if rule is not None else None
    if w_max is None:
        return None
    return np.full(item.synapses.post.size, float(w_max)) / exc_gain[item.synapses.post]


def _exc_gain(population: Any, dt: float, where: str) -> np.ndarray:
    """Float units per unit of excitatory ring-buffer current of a ``lif`` population, as its
    quantizer computes it (``spinnaker.py``: the quantized membrane gain times ``init_exc``)."""
    from .common import shifted_model
    from .spinnaker import _membrane, _synapse

    neuron, size = population.neuron, population.size
    f = shifted_model(population, dt)
    _, _, gain_m, _ = _membrane(neuron, size, f.alpha_m, where)
    _, _, _, init_q = _synapse(neuron, size, dt, f.alpha_s)
    return np.asarray(gain_m * init_q, dtype=np.float64)


def post_units(projection: Any, scale: float, network: Any) -> tuple[int, float]:
    """``(p, u)``: the post population's excitatory shift and the float value of one weight unit."""
    post = network.populations[projection.post]
    where = f"populations.{post.name}.neuron"
    shift = getattr(post.neuron, "weight_shift_exc", None)
    if shift is not None:  # already SpiNNaker's integers: weights are in ring units
        return int(shift), float(scale)
    if post.kind not in LIF_KINDS:
        raise UnsupportedOnTarget(
            f"plastic projection '{projection.name}' into '{post.name}' ({post.kind}): "
            "spinnaker_stdp is quantized for lif (or spinnaker_lif) populations only",
            where=f"projections.{projection.name}.plasticity")
    gain = _exc_gain(post, network.dt, where)
    if gain.size and not np.all(gain == gain[0]):
        raise UnsupportedOnTarget(
            f"plastic projection '{projection.name}': the neurons of '{post.name}' differ in "
            "their input gain (tau_mem/tau_syn per neuron), so one weight unit, one w_max cannot "
            "serve them all", where=f"projections.{projection.name}.plasticity")
    shift = int(round(15 + math.log2(scale / float(gain[0]))))
    if not math.isclose(2.0 ** (shift - 15) * float(gain[0]), scale, rel_tol=1e-9):
        raise QuantizationError(f"weight unit {scale:g} of '{projection.name}' is not a power of "
                                "two of its post population's gain", where=where)
    return shift, float(scale)


def _raw(value: float, field: str, where: str) -> int:
    raw = int(round(value))
    if raw > 2**31 - 1:
        raise QuantizationError(f"{field} ({value:g} raw) exceeds the s16.15 range", where=where)
    return raw


def quantize_stdp(rule: Any, projection: Any, scale: float, network: Any,
                  options: Any) -> tuple[SpinnakerStdp, list[str]]:
    """The float ``stdp`` of one projection as ``spinnaker_stdp`` (module docstring), and the
    notes on what changes."""
    where = f"projections.{projection.name}.plasticity"
    shift, unit = post_units(projection, scale, network)
    additive = rule.weight_dependence == "additive"
    factor = 2.0**shift / unit  # float weight units -> raw accum
    w_min_units, w_max_units = round(rule.w_min / unit), round(rule.w_max / unit)
    if w_max_units > 0xFFFF:
        raise QuantizationError(f"w_max {rule.w_max:g} is {w_max_units} weight units, beyond "
                                "sPyNNaker's 16 bits", where=f"{where}.w_max")
    a2_plus = rule.a_plus * factor if additive else rule.a_plus * ACCUM
    a2_minus = rule.a_minus * factor if additive else rule.a_minus * ACCUM
    native = SpinnakerStdp(
        tau_plus=rule.tau_plus, tau_minus=rule.tau_minus,
        min_weight=w_min_units << shift, max_weight=w_max_units << shift,
        a2_plus=_raw(a2_plus, "a_plus", f"{where}.a_plus"),
        a2_minus=_raw(a2_minus, "a_minus", f"{where}.a_minus"),
        weight_shift=shift, weight_dependence=rule.weight_dependence, pairing=rule.pairing,
        backprop_delay=False)
    return native, _notes(rule, native, unit, network.dt)


def _notes(rule: Any, native: SpinnakerStdp, unit: float, dt: float) -> list[str]:
    """What sPyNNaker's arithmetic changes for this projection, with its numbers."""
    reach_plus = exp_lut(dt, rule.tau_plus).size * dt
    reach_minus = exp_lut(dt, rule.tau_minus).size * dt
    notes = [
        "spinnaker STDP times a pair with the presynaptic spike at its send tick: the interval "
        "is the float rule's plus the synapse's delay",
        f"weights are whole 16-bit units of {unit:.4g} between updates: an increase below one "
        "unit is lost, a decrease of any size costs at least one",
        f"traces are s4.11 and their decay a table: pairs more than {reach_plus:g} ms "
        f"(potentiation) / {reach_minus:g} ms (depression) apart never interact",
        f"each neuron keeps its last {MAX_POST_SYNAPTIC_EVENTS - 1} post spikes: older ones "
        "between two presynaptic spikes of a synapse are never paired",
        "weights change only when a presynaptic spike arrives (sPyNNaker's deferred update)",
    ]
    if rule.weight_dependence == "additive":
        smallest = min(v for v in (rule.a_plus, rule.a_minus) if v > 0) if max(
            rule.a_plus, rule.a_minus) > 0 else 0.0
        if 0 < smallest < unit:
            notes.append(f"a step of {smallest:g} is below one weight unit ({unit:.4g}): "
                         "potentiation by a single pair never shows")
    else:
        notes.append("multiplicative weights are not clamped (as in sPyNNaker): they stay in "
                     "[w_min, w_max] only while a_plus x_pre and a_minus x_post stay below 1")
    if rule.pairing == "nearest":
        notes.append("nearest pairing: sPyNNaker potentiates only at the first post spike after "
                      "each presynaptic spike")
    return notes
