r"""``sigma_delta_float`` -> ``spinnaker_sigma_delta``: the float sigma-delta neuron in s16.15
(``models/sigma_delta_float.py``, ``models/spinnaker_sigma_delta.py``).

Values keep the network's float units, held as s16.15 raw integers (value x 2**15):

- ``vth = round(vth_float * 2**15)``, ``bias = round(bias_float * 2**15)`` per neuron;
- the input is a delta synapse straight into ``sigma`` (gain 1: a ring sum ``W`` adds
  ``W << shift`` raw units), so a float weight ``x`` is the current ``x`` and becomes the 16-bit
  magnitude ``round(|x| * 2**(15 - p))`` on the receptor of its sign (from a graded source:
  ``round(|x u| * 2**(30 - p))``, ``u`` the source's message unit, for ``(|w| |m|) >> 15``),
  with the shift ``p`` per receptor by sPyNNaker's rule, exactly as ``lif`` -> ``spinnaker_lif``
  (``spinnaker.py``: ``_shifts``, ``_projection``);
- the message is ``s >> payload_shift``, one unit ``2**(payload_shift - 15)`` float units:
  ``payload_shift`` is the smallest that keeps the largest message the population can send
  within 15 bits, so that the weights downstream (``(|w| |m|) >> 15``) keep 16 bits. A sent
  ``s`` is a change of the activation plus the unsent residue: at most the largest one-step
  input plus twice ``vth`` (the residue stays below ``vth``; with ``cum_error`` the error too).
"""

from __future__ import annotations

import math

import numpy as np

from snnc.models.spinnaker_sigma_delta import SpinnakerSigmaDelta

from .common import (
    Incoming,
    PopulationResult,
    QuantizeOptions,
    compact,
    fmt_range,
    input_extremes,
    per_neuron,
)
from .report import PopulationQuantization
from .spinnaker import ACCUM, _projection, _raw, _shifts, currents_of


def payload_shift(peak: float) -> tuple[int, float]:
    """(shift, largest |message| in units) for a largest |s| of ``peak`` float units."""
    peak_raw = min(peak * ACCUM + 2.0, float(2**31))
    shift = max(0, math.ceil(math.log2(max(peak_raw, 1.0))) - 15)
    return shift, float(math.ceil(peak_raw / 2.0**shift))


def quantize_population(population, incoming: list[Incoming], network,
                        options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``sigma_delta_float`` population and the projections into it for SpiNNaker."""
    name, size, neuron = population.name, population.size, population.neuron
    where = f"populations.{name}.neuron"
    gains = (np.ones(size),) * 2  # float units per ring-buffer current unit: 1 (delta synapse)
    currents = {item.index: currents_of(item.synapses.weight, item.synapses.post, gains)
                for item in incoming}
    shifts = _shifts(incoming, currents, gains, network.populations, size, network.dt, options,
                     f"populations.{name}")
    theta = np.full(size, max(float(neuron.vth), 1.0 / ACCUM))  # weight errors relative to vth
    projections, reports = {}, {}
    for item in incoming:
        projections[item.index], reports[item.index], _ = _projection(
            item, currents[item.index], gains, shifts, theta, options)
    vth = int(_raw(np.array([float(neuron.vth)]), "vth", where)[0])
    bias_f = per_neuron(neuron, "bias", size)
    bias = _raw(bias_f, "bias", where)
    x_pos, x_neg = input_extremes(incoming, size)
    shift, peak = payload_shift(float(np.maximum(x_pos, x_neg).max(initial=0.0))
                                + 2 * float(neuron.vth))
    quantized = SpinnakerSigmaDelta(
        vth=vth, bias=compact(bias), act_mode=neuron.act_mode, cum_error=neuron.cum_error,
        weight_shift_exc=shifts["exc"], weight_shift_inh=shifts["inh"], payload_shift=shift)
    entry = PopulationQuantization(
        name=name, size=size, kind=neuron.kind, quantized_kind="spinnaker_sigma_delta",
        scale=1.0 / ACCUM, threshold=float(neuron.vth),
        threshold_error=abs(vth / ACCUM - neuron.vth),
        bias_error=float(np.abs(bias / ACCUM - bias_f).max(initial=0.0)),
        max_input=float(x_pos.max(initial=0.0)),
        parameters={"vth": str(vth), "bias": fmt_range(bias),
                    "shift": f"exc {shifts['exc']}, inh {shifts['inh']}",
                    "payload_shift": str(shift)})
    return PopulationResult(quantized, projections, entry, reports,
                            message=(2.0 ** (shift - 15), peak))
