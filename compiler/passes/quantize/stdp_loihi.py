r"""``stdp`` -> ``loihi_stdp``: the float rule as Lava's ``STDPLoihi`` in the integer units the post
population's quantizer (``loihi.py``) gave the projection's weights (``models/loihi_stdp.py``).

The quantizer of the post population fixed :math:`u`, the float value of one integer weight (its
report's ``scale``, ``weight_exp`` included; ``loihi.py`` counts a plastic projection's weights at
``w_max`` when it chooses ``weight_exp``). ``loihi_stdp`` changes a weight, per pair, by
``A * trace`` integer units, the trace holding ``impulse`` per spike (7 bits), so a float step
:math:`a` (float weight units per unit trace) needs :math:`A \cdot I = a / u`. ``A`` is a power of
two :math:`2^e` (what Lava's ``float_to_literal`` keeps exactly) chosen so that the impulse
:math:`I = a / (u\, 2^e)` is in [16, 32) (the trace then saturates at 4 to 8 summed spikes and
keeps 4 to 5 bits below one spike), rounded to Lava's 1/256:

- ``learning_rate = 1``, ``A_plus = 2^{e_+}``, ``x1_impulse = a_+ e^{dt/\tau_+} / (u\, 2^{e_+})``,
  ``A_minus = -2^{e_-}``, ``y1_impulse = a_- e^{-dt/\tau_-} / (u\, 2^{e_-})``;
- ``tau_plus = tau_plus / dt``, ``tau_minus = tau_minus / dt`` (Lava's are in steps), ``t_epoch =
  1`` (the float rule updates every step), ``sign_mode: excitatory`` (``w_min >= 0``), ``rng_seed``
  from the quantizer's ``seed`` and the projection's name.

The factors :math:`e^{\pm dt/\tau_\pm}`: Lava's connection sees a presynaptic spike in the step it
is sent, the float rule one step later, at its arrival (delay 1, the only delay a learning
connection has); with them every pair of spikes in different steps moves the weight as the float
rule does, in expectation. What cannot be kept is a warning naming the figures: the bounds
(Lava clips to [0, 255] units, not [w_min, w_max]); whole-unit weights and 7-bit traces with
stochastic rounding; a presynaptic spike sent in the step of a postsynaptic spike also potentiates.
Refused in one line: multiplicative weight dependence and nearest pairing (``STDPLoihi`` is
additive, all pairs), delays other than 1.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np

from snnc.ir.errors import QuantizationError, UnsupportedOnTarget
from snnc.models.loihi_stdp import TRACE_MAX, LoihiStdp

IMPULSE_LOW = 16.0  # the impulse is put in [16, 32): 4-5 fraction bits, 4-8 spikes of headroom
WEIGHT_MAX_UNITS = 255  # excitatory Loihi weights (8 bits)
EXP_MIN, EXP_MAX = -7, 8  # Lava's scaling exponents


def amplitude(step_units: float, where: str) -> tuple[float, float]:
    """``(A, impulse)`` with ``A = 2**e`` and ``A * impulse = step_units`` (module docstring);
    ``(0, 16)`` for no change."""
    if step_units == 0:
        return 0.0, IMPULSE_LOW
    exponent = min(max(math.floor(math.log2(step_units / IMPULSE_LOW)), EXP_MIN), EXP_MAX)
    impulse = round(step_units / 2.0**exponent * 256) / 256
    if impulse > TRACE_MAX:
        raise QuantizationError(f"a step of {step_units:g} weight units per pair exceeds Loihi's "
                                f"{2**EXP_MAX * TRACE_MAX} (8-bit weights)", where=where)
    if impulse == 0:
        raise QuantizationError(f"a step of {step_units:g} weight units per pair is below "
                                "Loihi's smallest (2^-7 / 256)", where=where)
    return 2.0**exponent, impulse


def _check_delay(projection: Any, where: str) -> None:
    delay = np.asarray(projection.delay) if not hasattr(projection.delay, "model_dump") else None
    if delay is None or delay.size == 0 or np.any(delay != 1):
        raise UnsupportedOnTarget(f"plastic projection '{projection.name}' needs delay 1 on Loihi "
                                  "(Lava's learning connections have no delay)",
                                  where=f"projections.{projection.name}.delay")


def quantize_stdp(rule: Any, projection: Any, scale: float, network: Any,
                  options: Any) -> tuple[LoihiStdp, list[str]]:
    """The float ``stdp`` of one projection as ``loihi_stdp`` (module docstring), and the notes on
    what changes."""
    where = f"projections.{projection.name}.plasticity"
    if rule.weight_dependence != "additive":
        raise UnsupportedOnTarget(f"plastic projection '{projection.name}': Lava's STDPLoihi is "
                                  "additive (weight_dependence: multiplicative cannot run on "
                                  "Loihi)", where=f"{where}.weight_dependence")
    if rule.pairing != "all":
        raise UnsupportedOnTarget(f"plastic projection '{projection.name}': Lava's STDPLoihi adds "
                                  "every spike to its traces (pairing: nearest cannot run on "
                                  "Loihi)", where=f"{where}.pairing")
    _check_delay(projection, where)
    dt = float(network.dt)
    unit = float(scale)
    a_plus, x1_impulse = amplitude(rule.a_plus / unit * math.exp(dt / rule.tau_plus),
                                   f"{where}.a_plus")
    a_minus, y1_impulse = amplitude(rule.a_minus / unit * math.exp(-dt / rule.tau_minus),
                                    f"{where}.a_minus")
    seed = (int(getattr(options, "seed", 0)) + zlib.crc32(projection.name.encode())) % 2**30
    native = LoihiStdp(learning_rate=1.0, A_plus=a_plus, A_minus=-a_minus,
                       tau_plus=rule.tau_plus / dt, tau_minus=rule.tau_minus / dt, t_epoch=1,
                       rng_seed=seed, x1_impulse=x1_impulse, y1_impulse=y1_impulse,
                       sign_mode="excitatory")
    return native, _notes(rule, native, unit)


def _notes(rule: Any, native: LoihiStdp, unit: float) -> list[str]:
    """What Lava's fixed-point learning changes for this projection, with its numbers."""
    top = WEIGHT_MAX_UNITS * unit
    notes = [
        f"loihi STDP keeps weights in whole units of {unit:.4g} (changes rounded stochastically, "
        f"rng_seed {native.rng_seed}) and 7-bit traces (impulses {native.x1_impulse:g} / "
        f"{native.y1_impulse:g}: they saturate at {TRACE_MAX / native.x1_impulse:.3g} / "
        f"{TRACE_MAX / native.y1_impulse:.3g} summed spikes)",
        "loihi STDP pairs a presynaptic spike when it is sent: one sent in the step of a "
        "postsynaptic spike also potentiates (the float rule only depresses it, at its arrival)",
    ]
    if rule.w_min != 0 or not math.isclose(rule.w_max, top, rel_tol=1e-9):
        notes.append(f"weights are bounded by Loihi's 8 bits, [0, {top:.4g}], not [w_min, w_max] "
                     f"= [{rule.w_min:g}, {rule.w_max:g}]")
    return notes
