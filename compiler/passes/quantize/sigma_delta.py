r"""``sigma_delta_float`` -> ``sigma_delta``: the float sigma-delta neuron as Lava's fixed-point
``SigmaDelta`` (``models/sigma_delta_float.py``, ``models/sigma_delta.py``).

Lava's ``SigmaDelta`` adds its input ``a`` (what a ``Sparse`` sends: ``w * 2**weight_exp`` per
spike, ``w * m * 2**weight_exp`` per graded message; no ``<< 6``) to ``sigma`` unchanged, scales
``vth`` and ``bias`` by ``2**(spike_exp + state_exp)`` and sends ``s >> state_exp``. With ``S``
integer state units per float unit, ``spike_exp = 0`` and ``state_exp = 7`` (``STATE_EXP``):

- ``vth = round(S vth_float / 2**7)`` and ``bias = round(S bias_float / 2**7)`` (Lava's
  ``vth << 7``, ``bias << 7`` are then within one message unit of ``S vth_float``,
  ``S bias_float``);
- one message unit is ``2**7 / S`` float units (``m = s >> 7``, floor);
- a float weight ``x`` becomes ``w = round(x u S / 2**weight_exp)``, ``u`` the float value of one
  unit of what the source sends (1 for spikes, the message unit for a graded source), with
  Lava's 8-bit formats and truncation steps (``loihi.py``'s projection rule, without its 64).

loihi-sim runs every ``sigma_delta`` population of a network as ONE Lava ``SigmaDelta``, which
holds one ``vth``, one pair of exponents, one ``act_mode`` and one ``cum_error``. So ``S`` is one
value for the whole network (every ``sigma_delta_float`` population), chosen from what is known
before any population is quantized: ``S vth`` is ``2**7 * UNITS_PER_VTH`` (messages resolve
``vth`` into 32 units), lowered (a power of two by default) until every bias (``bias << 7``,
16-bit) and every weight from a spiking source (8-bit, ``weight_exp <= 7``) fits; a network whose
``sigma_delta_float`` populations differ in ``vth`` is refused in one line (the other per-process
parameters are checked on the quantized network, ``models/sigma_delta.py::check_one_process``).
``sigma`` has no leak: nothing bounds it, and Lava (and the reference) wrap it at 32 bits.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import expand
from snnc.ir.errors import UnsupportedOnTarget
from snnc.models import REGISTRY
from snnc.models.lava_fixed_point import WEIGHT_EXP_MAX, sign_mode, weight_limits
from snnc.models.sigma_delta import BIAS_MAX, VTH_MAX, SigmaDelta

from .common import (
    Incoming,
    PopulationResult,
    QuantizeOptions,
    compact,
    fmt_range,
    input_extremes,
    per_neuron,
)
from .loihi import _quantize_projection
from .report import PopulationQuantization

STATE_EXP = 7  # the largest Lava declares (3 bits): the finest sigma for a given message unit
UNITS_PER_VTH = 32  # message units per vth: vth is resolved to 1/32 of itself
DEFAULT_SCALE = 2.0**12  # vth 0, no bias, no weights: nothing bounds the scale
FLOAT_KIND = "sigma_delta_float"


def _static_bounds(network, options: QuantizeOptions) -> tuple[list[float], set[float]]:
    """(upper bounds on S, the float vths) over every sigma_delta_float population."""
    bounds, vths = [], set()
    top = 2.0**STATE_EXP
    for population in network.neuron_populations():
        if population.kind != FLOAT_KIND:
            continue
        vth = float(population.neuron.vth)
        vths.add(vth)
        if vth > 0:
            bounds.append(top * UNITS_PER_VTH / vth)
        bias = np.abs(per_neuron(population.neuron, "bias", population.size)).max(initial=0.0)
        if bias > 0:
            bounds.append(top * (BIAS_MAX >> STATE_EXP) / bias)
    for projection in network.projections:
        post, pre = network.populations[projection.post], network.populations[projection.pre]
        if post.is_source or post.kind != FLOAT_KIND:
            continue
        if not pre.is_source and not REGISTRY.get(pre.kind).spiking:
            continue  # graded: its weights are per message unit, not bounded by S alone
        bounds += _weight_bounds(expand(network, projection).weight, options)
    return bounds, vths


def _weight_bounds(w: np.ndarray, options: QuantizeOptions) -> list[float]:
    """Upper bounds on S that keep ``x S / 2**7`` within Lava's weight range."""
    if w.size == 0:
        return []
    _, lo, hi = weight_limits(sign_mode(w), options.weight_bits)
    top, bounds = 2.0**WEIGHT_EXP_MAX, []
    if w.max() > 0 and hi > 0:
        bounds.append(top * hi / float(w.max()))
    if w.min() < 0 and lo < 0:
        bounds.append(top * -lo / -float(w.min()))
    return bounds


def network_scale(population, network, options: QuantizeOptions) -> float:
    """S, one for the network (module docstring); refuses differing vths in one line."""
    bounds, vths = _static_bounds(network, options)
    if len(vths) > 1:
        raise UnsupportedOnTarget(
            f"population '{population.name}' ({FLOAT_KIND}): the network's {FLOAT_KIND} "
            f"populations differ in vth ({', '.join(f'{v:g}' for v in sorted(vths))}), which "
            "loihi-sim cannot run: it holds every sigma_delta population in ONE Lava SigmaDelta, "
            "which has one vth", where=f"populations.{population.name}.neuron.vth")
    if options.loihi_v_scale is not None:
        return float(options.loihi_v_scale)
    best = min(bounds, default=DEFAULT_SCALE)
    if options.power_of_two_scale:
        return float(2.0 ** math.floor(math.log2(best)))
    return best * (1 - 1e-12)


def quantize_population(population, incoming: list[Incoming], network,
                        options: QuantizeOptions) -> PopulationResult:
    """Quantize one ``sigma_delta_float`` population and the projections into it for Loihi."""
    neuron, size, name = population.neuron, population.size, population.name
    scale = network_scale(population, network, options)
    top = 2**STATE_EXP
    vth_max = VTH_MAX >> STATE_EXP
    vth = int(min(np.rint(scale * neuron.vth / top), vth_max))
    bias_f = per_neuron(neuron, "bias", size)
    limit = BIAS_MAX >> STATE_EXP
    bias = np.clip(np.rint(scale * bias_f / top), -limit - 1, limit).astype(np.int64)
    quantized = SigmaDelta(vth=vth, bias=compact(bias), act_mode=neuron.act_mode,
                           cum_error=neuron.cum_error, spike_exp=0, state_exp=STATE_EXP)
    projections, reports = {}, {}
    theta = np.full(size, max(float(neuron.vth), 1.0 / scale))  # weight errors relative to vth
    for item in incoming:  # loihi.py's rule at 64 S: its unit 64 * 2**exp / (64 S) = 2**exp / S
        projections[item.index], reports[item.index], _ = _quantize_projection(
            item, 64.0 * scale, theta, options)
    unit = top / scale
    x_pos, x_neg = input_extremes(incoming, size)
    peak = float(np.ceil((np.maximum(x_pos, x_neg).max(initial=0.0) + 2 * neuron.vth) / unit))
    entry = PopulationQuantization(
        name=name, size=size, kind=neuron.kind, quantized_kind="sigma_delta", scale=1.0 / scale,
        threshold=float(neuron.vth), threshold_error=abs(vth * unit - neuron.vth),
        threshold_error_frac=abs(vth * unit - neuron.vth) / neuron.vth if neuron.vth else 0.0,
        bias_error=float(np.abs(bias * unit - bias_f).max(initial=0.0)),
        max_input=float(x_pos.max(initial=0.0)),
        parameters={"vth": str(vth), "bias": fmt_range(bias), "spike_exp": "0",
                    "state_exp": str(STATE_EXP), "message_unit": f"{unit:g}"})
    return PopulationResult(quantized, projections, entry, reports, message=(unit, max(peak, 1.0)))
