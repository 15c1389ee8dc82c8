r"""``lif_cond`` -> ``spinnaker_lif_cond``: PyNN's ``IF_cond_exp`` as sPyNNaker runs it in s16.15
(``models/spinnaker_lif_cond.py``).

Voltages (mV), ``i_offset`` (nA) and ``r_membrane = tau_m / cm`` (MΩ) become s16.15 raw integers
(value × 2^15, nearest); ``exp_tc = round(exp(-dt/tau_m) 2^15)``; per receptor
``decay = round(alpha 2^32)`` and ``init = round((tau/dt)(1 - alpha) 2^32)`` (u0.32, as sPyNNaker's
host computes them); ``t_refract = ceil(tau_refrac / dt)``; ``v_thresh = ceil(v_thresh 2^15)`` (so
``V >= v_thresh`` in raw units is ``v >= v_thresh`` of the float model on the same grid).

The synaptic state holds conductance × 2^10 (``g_shift = 10``, sPyNNaker's global weight scale of
1024 for conductance input), so a weight of ``w`` µS must raise it by ``1024 |w|`` after the
receptor's ``init``: its ring-buffer current is ``1024 |w| / init``, and the 16-bit weight is
``round(current 2^(15 - p))`` with sPyNNaker's per-receptor shift ``p`` (the ring-buffer helpers
of ``spinnaker.py``: the same rule, the same rounding options, the same report). sPyNNaker adds
``w init`` per spike; dividing by ``init`` gives the float model's jump of ``w`` (as ``lif``'s
quantizer does for currents).
"""

from __future__ import annotations

import numpy as np

from snnc.ir.errors import QuantizationError, UnsupportedOnTarget
from snnc.models.lif_cond import initial_voltage, refractory_steps
from snnc.models.spinnaker_lif import INT32_MAX, INT32_MIN, UINT32_MAX
from snnc.models.spinnaker_lif_cond import SpinnakerLIFCond

from .common import (
    Incoming,
    PopulationResult,
    QuantizeOptions,
    compact,
    fmt_range,
    input_extremes,
    largest_fraction,
    per_neuron,
)
from .report import PopulationQuantization
from .spinnaker import ACCUM, U032, _projection, _raw, _shifts, currents_of

G_SHIFT = 10  # sPyNNaker's InputTypeConductance.get_global_weight_scale() == 1024 == 2**10


def _receptor(neuron, size: int, dt: float, field: str) -> tuple[np.ndarray, np.ndarray]:
    """``decay``, ``init`` (u0.32) of one receptor's time constant."""
    tau = per_neuron(neuron, field, size)
    alpha = np.exp(-dt / tau)
    decay = np.clip(np.rint(alpha * U032), 0, UINT32_MAX).astype(np.int64)
    init = np.clip(np.rint((tau / dt) * (1 - alpha) * U032), 1, UINT32_MAX).astype(np.int64)
    return decay, init


def _membrane(neuron, size: int, dt: float, where: str) -> tuple[np.ndarray, np.ndarray]:
    tau_m = per_neuron(neuron, "tau_m", size)
    exp_tc = np.clip(np.rint(np.exp(-dt / tau_m) * ACCUM), 0, ACCUM).astype(np.int64)
    if np.any(exp_tc >= ACCUM):
        raise QuantizationError("tau_m too long for s16.15: exp(-dt/tau_m) rounds to 1, so no "
                                "input could move the voltage", where=f"{where}.tau_m")
    r_membrane = _raw(tau_m / per_neuron(neuron, "cm", size), "tau_m / cm", where)
    return exp_tc, r_membrane


def _reach(neuron, size: int, dt: float) -> np.ndarray:
    """The conductance (µS) whose one-step effect moves v from v_reset to v_thresh at the
    excitatory driving force: the report's scale for weight errors."""
    drive = np.abs(per_neuron(neuron, "e_rev_E", size) - per_neuron(neuron, "v_reset", size))
    tau_m = per_neuron(neuron, "tau_m", size)
    gain = (tau_m / per_neuron(neuron, "cm", size)) * (1 - np.exp(-dt / tau_m)) * drive
    theta = per_neuron(neuron, "v_thresh", size) - per_neuron(neuron, "v_reset", size)
    return np.divide(theta, gain, out=np.zeros(size), where=gain > 0)


def quantize_population(population, incoming: list[Incoming], network,
                        options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``lif_cond`` population and the projections into it for SpiNNaker."""
    name, size, neuron, dt = population.name, population.size, population.neuron, network.dt
    where = f"populations.{name}.neuron"
    graded = next((item for item in incoming if item.graded), None)
    if graded is not None:
        raise UnsupportedOnTarget(
            f"population '{name}' (lif_cond) gets graded input from '{graded.projection.pre}', "
            "which spinnaker-emu cannot run: a conductance receptor takes spikes only",
            where=f"populations.{name}.kind")
    exp_tc, r_membrane = _membrane(neuron, size, dt, where)
    decay_e, init_e = _receptor(neuron, size, dt, "tau_syn_E")
    decay_i, init_i = _receptor(neuron, size, dt, "tau_syn_I")
    # µS of conductance per unit of ring-buffer current, per receptor
    gains = (init_e / U032 / 2.0**G_SHIFT, init_i / U032 / 2.0**G_SHIFT)
    if np.array_equal(init_e, init_i):
        gains = (gains[0], gains[0])
    currents = {item.index: currents_of(item.synapses.weight, item.synapses.post, gains)
                for item in incoming}
    shifts = _shifts(incoming, currents, gains, network.populations, size, dt, options,
                     f"populations.{name}")
    theta = _reach(neuron, size, dt)
    projections, reports = {}, {}
    for item in incoming:
        projections[item.index], reports[item.index], _ = _projection(
            item, currents[item.index], gains, shifts, theta, options)
    v_thresh = np.ceil(per_neuron(neuron, "v_thresh", size) * ACCUM)
    if v_thresh.min() < INT32_MIN or v_thresh.max() > INT32_MAX:
        raise QuantizationError("v_thresh outside the s16.15 range (|value| < 65536)",
                                where=f"{where}.v_thresh")
    raw = {field: _raw(per_neuron(neuron, field, size), field, where)
           for field in ("v_reset", "v_rest", "i_offset", "e_rev_E", "e_rev_I")}
    raw["v_init"] = _raw(initial_voltage(neuron, size), "v_init", where)
    t_refract = refractory_steps(neuron.tau_refrac, size, dt)
    if np.any(t_refract != t_refract[0]):
        raise UnsupportedOnTarget(f"population '{name}' (lif_cond) has tau_refrac varying per "
                                  "neuron, which spinnaker-emu cannot run: t_refract is one per "
                                  "population here", where=f"{where}.tau_refrac")
    quantized = SpinnakerLIFCond(
        v_thresh=compact(v_thresh.astype(np.int64)), v_reset=compact(raw["v_reset"]),
        v_rest=compact(raw["v_rest"]), v_init=compact(raw["v_init"]),
        i_offset=compact(raw["i_offset"]), exp_tc=compact(exp_tc),
        r_membrane=compact(r_membrane), v_rev_e=compact(raw["e_rev_E"]),
        v_rev_i=compact(raw["e_rev_I"]), decay_exc=compact(decay_e), init_exc=compact(init_e),
        decay_inh=compact(decay_i), init_inh=compact(init_i), t_refract=int(t_refract[0]),
        weight_shift_exc=shifts["exc"], weight_shift_inh=shifts["inh"], g_shift=G_SHIFT)
    alpha_m = np.exp(-dt / per_neuron(neuron, "tau_m", size))
    alpha_e = np.exp(-dt / per_neuron(neuron, "tau_syn_E", size))
    alpha_i = np.exp(-dt / per_neuron(neuron, "tau_syn_I", size))
    theta_f = per_neuron(neuron, "v_thresh", size) - per_neuron(neuron, "v_reset", size)
    theta_q = (v_thresh - raw["v_reset"]) / ACCUM
    entry = PopulationQuantization(
        name=name, size=size, kind=population.kind, quantized_kind="spinnaker_lif_cond",
        scale=1.0 / ACCUM, threshold=float(theta_f.max()),
        threshold_error=float(np.abs(theta_q - theta_f).max()),
        threshold_error_frac=largest_fraction(np.abs(theta_q - theta_f), theta_f),
        mem_decay_error=float(np.abs(exp_tc / ACCUM - alpha_m).max()),
        syn_decay_error=float(max(np.abs(decay_e / U032 - alpha_e).max(),
                                  np.abs(decay_i / U032 - alpha_i).max())),
        max_input=float(input_extremes(incoming, size)[0].max(initial=0.0)),
        parameters={"exp_tc": fmt_range(exp_tc), "g_shift": str(G_SHIFT),
                    "shift": f"exc {shifts['exc']}, inh {shifts['inh']}",
                    "v_thresh": fmt_range(v_thresh.astype(np.int64)),
                    "t_refract": str(int(t_refract[0]))})
    return PopulationResult(quantized, projections, entry, reports)
