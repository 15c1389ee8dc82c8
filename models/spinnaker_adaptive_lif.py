r"""The ``spinnaker_adaptive_lif`` model: ``adaptive_lif``'s equations (ATRLIF) in s16.15 fixed point.

sPyNNaker has no ATRLIF model; this is snnc's own SpiNNaker neuron with the equations of the
float ``adaptive_lif`` (``models/adaptive_lif.py``), in the arithmetic of ``spinnaker_lif``
(``models/spinnaker_lif.py``): s16.15 ``accum`` raw int32 values, u0.32 decays ``(int64 x * d)
>> 32`` (arithmetic shift: toward minus infinity), every result wrapping to 32 bits, and
sPyNNaker's ring-buffer input (saturated uint16 sums per receptor, ``<< weight_shift``).

Style followed (SpiNNakerManchester/sPyNNaker, ``neural_modelling/src/neuron/``):

- ``threshold_types/threshold_type_adaptive.h`` keeps the threshold's excursion from its
  baseline as the state and decays it with ``decay_s1615`` (u0.32); ``theta - theta_0`` decays
  here the same way;
- ``synapse_types/synapse_types_exponential_impl.h``: two receptor currents (exc, inh), this
  step's ring entry added, then used, then decayed with ``decay_s1615``.

Where it differs: the ring entry is added to the current whole (``W << shift``), not times the
receptor's ``init`` (the float model adds ``x[t]`` itself); one ``decay_syn`` serves both
receptors (the float model has one ``tau_syn``); the threshold adapts by adding ``theta_step``
(sPyNNaker's adaptive type adds a scaled spike train through ``beta``); a decay of exactly
``2^32`` is 1 (no decay: ``tau`` infinite), which sPyNNaker's uint32 cannot hold. No accum
product arises: the four decays are the only multiplications (``2 theta`` is ``theta + theta``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from snnc.ir.values import Int, RangeChecked, _Frozen, resolve

from .base import NeuronModel, Step
from .jit import njit
from .spinnaker_lif import INT32_MAX, INT32_MIN, _receive, decay_s1615, wrap_int32

DECAY_ONE = 2**32  # u0.32 "1": x * 2^32 >> 32 is x (|x| < 2^31, so the product fits int64)
_S1615 = RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)
_DECAY = RangeChecked(ge=0, le=DECAY_ONE, integer=True)


class SpinnakerAdaptiveLIF(_Frozen):
    r"""``adaptive_lif`` in raw fixed point (module docstring for sources and differences).

    ``theta_0``, ``theta_step``, ``bias`` and ``v_init`` are s16.15 raw integers (value ×
    2^15); ``decay_*`` are u0.32 raw integers in ``[0, 2^32]`` (``2^32``: exactly 1).
    :math:`\mathrm{decay}(x, d) = (x d) \gg 32`; every sum wraps to 32 bits. Per step, with
    this step's saturated uint16 ring sums :math:`W_{exc}, W_{inh}`:

    .. math::

        I_e &\mathrel{+}= W_{exc} \ll shift_{exc}, \qquad I_i \mathrel{+}= W_{inh} \ll shift_{inh} \\
        v &= \mathrm{decay}(v, decay_{mem}) + (I_e - I_i) + bias \\
        \theta &= \mathrm{decay}(\theta - \theta_0, decay_{theta}) + \theta_0 \\
        r &= \mathrm{decay}(r, decay_{ref}) \\
        &\text{if } v - r \ge \theta:\ r = r + \theta + \theta,\ \theta = \theta + theta_{step},
              \ \text{spike} \\
        I_e &= \mathrm{decay}(I_e, decay_{syn}), \qquad I_i = \mathrm{decay}(I_i, decay_{syn})

    Initial state: :math:`I_e = I_i = 0`, ``v = v_init``, :math:`\theta = \theta_0`, ``r = 0``.
    There is no voltage reset. Weights into a population are signed integers whose magnitude is
    the 16-bit ring-buffer weight: positive ones go to the excitatory receptor, negative ones to
    the inhibitory one.
    """

    kind: Literal["spinnaker_adaptive_lif"] = "spinnaker_adaptive_lif"
    theta_0: _S1615  # type: ignore[valid-type]
    theta_step: RangeChecked(ge=0, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    bias: _S1615 = 0  # type: ignore[valid-type]
    v_init: _S1615 = 0  # type: ignore[valid-type]
    decay_mem: _DECAY  # type: ignore[valid-type]
    decay_syn: _DECAY = 0  # type: ignore[valid-type]
    decay_theta: _DECAY = 0  # type: ignore[valid-type]
    decay_ref: _DECAY = 0  # type: ignore[valid-type]
    weight_shift_exc: Annotated[Int, Field(ge=0, le=31)] = 0
    weight_shift_inh: Annotated[Int, Field(ge=0, le=31)] = 0


# Rows of the per-neuron parameter and state tables.
(THETA_0, THETA_STEP, BIAS, DECAY_MEM, DECAY_SYN, DECAY_THETA, DECAY_REF, SHIFT_EXC,
 SHIFT_INH) = range(9)
V, I_EXC, I_INH, THETA, R = range(5)

_FIELDS = ("theta_0", "theta_step", "bias", "decay_mem", "decay_syn", "decay_theta", "decay_ref",
           "weight_shift_exc", "weight_shift_inh")


def spinnaker_tables(neuron: SpinnakerAdaptiveLIF, size: int,
                     dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[9, size], state int64[5, size]) of a ``spinnaker_adaptive_lif`` population."""
    params = np.empty((len(_FIELDS), size), dtype=np.int64)
    for row, name in enumerate(_FIELDS):
        params[row] = resolve(getattr(neuron, name), size, integer=True)
    state = np.zeros((5, size), dtype=np.int64)
    state[V] = resolve(neuron.v_init, size, integer=True)
    state[THETA] = params[THETA_0]
    return params, state


@njit(cache=True, nogil=True)
def spinnaker_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1``; ``x[i]``/``x[n + i]`` are neuron i's exc/inh ring sums."""
    n = state.shape[1]
    for k in range(lo, hi):
        # delta=True: the entry is added whole (no init factor), as the float model adds x[t]
        i_exc = _receive(state[I_EXC, k], x[k], params[SHIFT_EXC, k], 0, True)
        i_inh = _receive(state[I_INH, k], x[n + k], params[SHIFT_INH, k], 0, True)
        current = wrap_int32(i_exc - i_inh)
        v = wrap_int32(wrap_int32(decay_s1615(state[V, k], params[DECAY_MEM, k]) + current)
                       + params[BIAS, k])
        theta_0 = params[THETA_0, k]
        excursion = decay_s1615(wrap_int32(state[THETA, k] - theta_0), params[DECAY_THETA, k])
        theta = wrap_int32(excursion + theta_0)
        r = decay_s1615(state[R, k], params[DECAY_REF, k])
        if wrap_int32(v - r) >= theta:
            r = wrap_int32(wrap_int32(r + theta) + theta)
            theta = wrap_int32(theta + params[THETA_STEP, k])
            out_ids[n_out] = gbase + k
            n_out += 1
        state[V, k] = v
        state[THETA, k] = theta
        state[R, k] = r
        state[I_EXC, k] = decay_s1615(i_exc, params[DECAY_SYN, k])
        state[I_INH, k] = decay_s1615(i_inh, params[DECAY_SYN, k])
    return n_out


def _features(neuron: SpinnakerAdaptiveLIF) -> dict[str, str]:
    used = {}
    if np.any(np.asarray(neuron.decay_syn) > 0):
        used["synaptic_current"] = "decay_syn"
    if np.any(np.asarray(neuron.decay_mem) == DECAY_ONE):
        used["no_leak"] = "decay_mem"
    return used


# at dt = 1 ms: round(exp(-1/tau) 2^32) for tau 10, 4, 20 and 3 ms
_DECAY_10, _DECAY_4, _DECAY_20, _DECAY_3 = 3886247119, 3344923893, 4085499269, 3077478545


def _example(features: frozenset[str]) -> SpinnakerAdaptiveLIF:
    """adaptive_lif's example (v_th 1.0, theta_step 0.3) in raw units."""
    one = 2**15
    return SpinnakerAdaptiveLIF(
        theta_0=one, theta_step=round(0.3 * one),
        decay_mem=DECAY_ONE if "no_leak" in features else _DECAY_10,
        decay_syn=_DECAY_4 if "synaptic_current" in features else 0,
        decay_theta=_DECAY_20, decay_ref=_DECAY_3, weight_shift_exc=8, weight_shift_inh=8)


MODEL = NeuronModel(
    kind="spinnaker_adaptive_lif",
    params=SpinnakerAdaptiveLIF,
    summary="adaptive_lif's ATRLIF equations in s16.15 (snnc's SpiNNaker neuron)",
    steps={"spinnaker": Step("spinnaker", spinnaker_tables, spinnaker_update, np.int64, V,
                             input="exc_inh")},
    lowerings={"spinnaker-emu": "the application core runs the model's spinnaker Step"},
    features=("synaptic_current", "no_leak"),
    features_of=_features,
    integer_weights=True,
    refusals={"loihi": "it is SpiNNaker's integer model; loihi-sim runs adaptive_lif or atrlif"},
    example=_example,
)
