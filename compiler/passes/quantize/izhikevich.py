r"""``izhikevich`` -> ``spinnaker_izhikevich`` and ``izhikevich`` -> ``loihi_izhikevich``.

The float model (``models/izhikevich.py``) takes per step
:math:`v' = v + dt(0.04 v^2 + 5 v + 140 - u + i + bias)`, :math:`u' = u + dt\,a(bv - u)` with
``lif``'s synaptic current :math:`i[t] = \alpha_s i[t-1] + x[t]`.

SpiNNaker (``quantize_spinnaker``): sPyNNaker's own model keeps the float units (mV, ms, the
current unit) as s16.15 raw integers: ``a``, ``b``, ``c``, ``d``, ``v_init``, ``u_init`` (default
``b v_init``) and ``i_offset = bias`` are ``round(x 2^15)``; ``v_thresh = ceil(v_peak 2^15)``
(sPyNNaker spikes on ``V >= v_thresh``, so does the float model on ``v >= v_peak``); ``h =
round(dt 2^15)``. The current enters the derivative as it is, so a float weight ``x`` is the
current ``x / init`` (``init`` the exponential synapse's u0.32 ``(tau_syn/dt)(1 - alpha_s)``, 1
for delta synapses) and becomes a 16-bit ring-buffer weight with sPyNNaker's per-receptor shift,
exactly as for ``lif`` (``spinnaker.py``). The integration differs from the float model's by
design (sPyNNaker's RK2 midpoint step, docs/neuron-models/izhikevich.md).

Loihi (``quantize_loihi``): snnc's fixed-point Euler step (``models/loihi_izhikevich.py``) with
``frac`` fraction bits: ``v``, ``u``, ``c``, ``d`` and the current are ``x 2^frac``
(``v_peak`` rounded up, as above); ``k_sq = round(0.04 dt 2^16)``, ``k_lin = round(5 dt 2^16)``,
``k_dt = round(dt 2^16)``, ``a_dt = round(a dt 2^16)``, ``b = round(b 2^16)``, ``drive =
round(dt (140 + bias) 2^frac)``, ``du = round(4096 (1 - alpha_s))`` (at least 1 when
``tau_syn > 0``; 4096 for a delta synapse). A float weight ``x`` adds ``w 2^weight_exp 64`` current
units, so ``w = round(x 2^frac / (64 2^weight_exp))`` with ``loihi.py``'s weight rules.
``frac`` is the largest (at most 16) that keeps +-100 mV, ``v_peak``, ``c``, the initial state
and the current's peak under every input at once within the 24-bit state and every weight within
its 8 bits (``loihi_v_scale``, a power of two, forces ``2^frac``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from snnc.ir.errors import QuantizationError
from snnc.models.izhikevich import initial_u
from snnc.models.lava_fixed_point import WEIGHT_EXP_MAX, sign_mode, weight_limits
from snnc.models.lif import decay_factor
from snnc.models.loihi_izhikevich import (
    COEF_SHIFT,
    CURRENT_UNITY,
    FRAC_MAX,
    STATE_MAX,
    LoihiIzhikevich,
)
from snnc.models.spinnaker_izhikevich import SpinnakerIzhikevich

from .common import (
    Incoming,
    PopulationResult,
    QuantizeOptions,
    compact,
    fmt_range,
    input_extremes,
    per_neuron as _per_neuron,
)
from .loihi import _quantize_projection as _loihi_projection
from .report import PopulationQuantization
from .spinnaker import ACCUM, U032, _projection, _raw, _shifts, _synapse

V_REACH = 100.0  # mV: the voltage range (either sign) the Loihi state keeps at least
FRAC_LIMIT = 16  # 100 mV at 2^16 units per mV is within 24 bits; 2^17 is not


def _floats(population, network) -> dict[str, np.ndarray]:
    """The float parameters per neuron (distributions drawn), ``alpha_s`` and ``u_init``."""
    neuron, size = population.neuron, population.size
    values = {name: _per_neuron(neuron, name, size)
              for name in ("a", "b", "c", "d", "v_peak", "v_init", "bias", "tau_syn")}
    values["u_init"] = initial_u(neuron, size)
    values["alpha_s"] = decay_factor(values["tau_syn"], network.dt, "exact")
    return values


# ---- SpiNNaker -----------------------------------------------------------------------------------
def quantize_spinnaker(population, incoming: list[Incoming], network,
                       options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``izhikevich`` population and the projections into it for SpiNNaker."""
    name, size, neuron, dt = population.name, population.size, population.neuron, network.dt
    where = f"populations.{name}.neuron"
    f = _floats(population, network)
    synapse, decay, init, init_q = _synapse(neuron, size, dt, f["alpha_s"])
    # one ring-buffer current unit adds init to I, which enters dv/dt as it is; both receptors
    # share the one time constant (spinnaker.py's Gains: the same array twice)
    gains = (init_q, init_q)
    currents = {item.index: item.synapses.weight / init_q[item.synapses.post]
                for item in incoming}
    shifts = _shifts(incoming, currents, gains, network.populations, size, dt, options,
                     f"populations.{name}")
    theta = f["v_peak"] - f["c"]  # the report's scale for weight errors
    projections, reports = {}, {}
    for item in incoming:
        projections[item.index], reports[item.index], _ = _projection(
            item, currents[item.index], gains, shifts, theta, options)
    raw: dict[str, Any] = {field: compact(_raw(f[source], source, where)) for field, source in (
        ("a", "a"), ("b", "b"), ("c", "c"), ("d", "d"), ("v_init", "v_init"),
        ("u_init", "u_init"), ("i_offset", "bias"))}
    _raw(f["v_peak"], "v_peak", where)
    v_thresh = np.ceil(f["v_peak"] * ACCUM).astype(np.int64)
    h = int(round(dt * ACCUM))
    quantized = SpinnakerIzhikevich(
        **raw, v_thresh=compact(v_thresh), h=h, synapse=synapse, decay_exc=compact(decay),
        init_exc=compact(init), decay_inh=compact(decay), init_inh=compact(init),
        weight_shift_exc=shifts["exc"], weight_shift_inh=shifts["inh"])
    entry = PopulationQuantization(
        name=name, size=size, kind="izhikevich", quantized_kind="spinnaker_izhikevich",
        scale=1.0 / ACCUM, syn_decay_error=_syn_error(synapse, decay / U032, f["alpha_s"]),
        max_input=float(input_extremes(incoming, size)[0].max(initial=0.0)),
        parameters={"h": str(h), "synapse": synapse, "integration": "sPyNNaker's RK2 midpoint",
                    "shift": f"exc {shifts['exc']}, inh {shifts['inh']}",
                    "v_thresh": fmt_range(v_thresh)})
    return PopulationResult(quantized, projections, entry, reports)


def _syn_error(synapse: str, alpha_q: np.ndarray, alpha_s: np.ndarray) -> float:
    quantized = np.zeros_like(alpha_s) if synapse == "delta" else alpha_q
    return float(np.abs(quantized - alpha_s).max(initial=0.0))


# ---- Loihi ---------------------------------------------------------------------------------------
def _current_decay(alpha_s: np.ndarray, tau_syn: np.ndarray) -> np.ndarray:
    """``du`` per neuron: 4096 (1 - alpha_s), at least 1 while there is a decay to keep."""
    du = np.clip(np.rint(CURRENT_UNITY * (1.0 - alpha_s)), 0, CURRENT_UNITY).astype(np.int64)
    return np.where(tau_syn > 0, np.maximum(du, 1), CURRENT_UNITY)


def choose_frac(f: dict[str, np.ndarray], peak_current: np.ndarray, incoming: list[Incoming],
                options: QuantizeOptions, where: str) -> int:
    """The fraction bits of the state (module docstring)."""
    if options.loihi_v_scale is not None:
        frac = math.log2(options.loihi_v_scale)
        if frac != int(frac) or not 0 <= frac <= FRAC_MAX:
            raise QuantizationError(f"loihi_v_scale must be 2^0 .. 2^{FRAC_MAX} for "
                                    "loihi_izhikevich (its scale is 2^frac)",
                                    where="--option loihi_v_scale")
        return int(frac)
    reach = max(V_REACH, *(float(np.abs(f[k]).max(initial=0.0))
                           for k in ("v_peak", "c", "v_init", "u_init", "d")),
                float(peak_current.max(initial=0.0)))
    bound = STATE_MAX / reach
    for item in incoming:
        w = item.synapses.weight
        if w.size == 0:
            continue
        _, lo, hi = weight_limits(sign_mode(w), options.weight_bits)
        largest = 64.0 * 2**WEIGHT_EXP_MAX
        if w.max() > 0 and hi > 0:
            bound = min(bound, largest * hi / w.max())
        if w.min() < 0 and lo < 0:
            bound = min(bound, largest * -lo / -w.min())
    if bound < 1:
        raise QuantizationError("the voltage, current or weight range exceeds the 24-bit state "
                                "even at 1 unit per mV", where=where)
    return int(min(FRAC_LIMIT, math.floor(math.log2(bound))))


def _fit(values: np.ndarray, lo: int, hi: int, field: str, where: str) -> int | np.ndarray:
    """Rounded integers within [lo, hi], or a QuantizationError naming the field."""
    rounded = np.rint(values)
    if rounded.min() < lo or rounded.max() > hi:
        raise QuantizationError(f"{field} does not fit loihi_izhikevich's range ({lo}..{hi})",
                                where=where)
    return compact(rounded.astype(np.int64))


def quantize_loihi(population, incoming: list[Incoming], network,
                   options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``izhikevich`` population and the projections into it for Loihi."""
    name, size, dt = population.name, population.size, network.dt
    where = f"populations.{name}.neuron"
    f = _floats(population, network)
    du = _current_decay(f["alpha_s"], f["tau_syn"])
    alpha_q = (CURRENT_UNITY - du) / CURRENT_UNITY
    x_pos, x_neg = input_extremes(incoming, size)
    peak_current = np.maximum(x_pos, x_neg) / (1.0 - alpha_q)  # the current's fixed point
    frac = choose_frac(f, peak_current, incoming, options, where)
    scale = 2.0**frac
    unit = 2.0**COEF_SHIFT
    theta = f["v_peak"] - f["c"]
    projections, reports = {}, {}
    for item in incoming:
        projections[item.index], reports[item.index], _ = _loihi_projection(
            item, scale, theta, options)
    state: dict[str, Any] = {key: _fit(f[key] * scale, -STATE_MAX, STATE_MAX, key, f"{where}.{key}")
             for key in ("c", "d", "v_init", "u_init")}
    v_peak = _fit(np.ceil(f["v_peak"] * scale), -STATE_MAX, STATE_MAX, "v_peak",
                  f"{where}.v_peak")
    coefficients: dict[str, Any] = dict(
        k_sq=_fit(np.full(size, 0.04 * dt * unit), 0, 2**16, "0.04 dt (dt <= 25 ms)",
                  f"{where}.kind"),
        k_lin=_fit(np.full(size, 5.0 * dt * unit), 0, 2**24 - 1, "5 dt", f"{where}.kind"),
        k_dt=_fit(np.full(size, dt * unit), 0, 2**24 - 1, "dt", f"{where}.kind"),
        a_dt=_fit(f["a"] * dt * unit, -(2**24) + 1, 2**24 - 1, "a dt", f"{where}.a"),
        b=_fit(f["b"] * unit, -(2**24) + 1, 2**24 - 1, "b", f"{where}.b"),
        drive=_fit(dt * (140.0 + f["bias"]) * scale, -(2**31), 2**31 - 1, "dt (140 + bias)",
                   f"{where}.bias"))
    neuron = LoihiIzhikevich(frac=frac, du=compact(du), v_peak=v_peak, **state, **coefficients)
    entry = PopulationQuantization(
        name=name, size=size, kind="izhikevich", quantized_kind="loihi_izhikevich",
        scale=1.0 / scale, syn_decay_error=float(np.abs(alpha_q - f["alpha_s"]).max(initial=0.0)),
        max_input=float(x_pos.max(initial=0.0)),
        parameters={"frac": str(frac), "du": fmt_range(du), "k_sq": fmt_range(coefficients["k_sq"]),
                    "a_dt": fmt_range(coefficients["a_dt"]), "b": fmt_range(coefficients["b"])})
    return PopulationResult(neuron, projections, entry, reports)
