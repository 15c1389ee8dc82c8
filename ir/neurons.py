r"""Neuron kinds. Each is a frozen model tagged by ``kind``; parameters are scalars or per-neuron arrays.

Time is discrete (``DESIGN.md`` §2): at every step a neuron (1) sums the input ``x[t]`` arriving at this
step (the weights of the spikes that reach it now), (2) updates its state, (3) spikes and resets.

``lif`` is the hardware-neutral float model (``li`` its non-spiking readout variant); ``loihi_lif`` and ``spinnaker_lif`` are the exact integer
models of the two targets, with the targets' own parameter names, so a user can bring hand-tuned
fixed-point parameters and the quantization pass has a precise destination.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from .values import Int, RangeChecked, Value, _Frozen

# Lava's declared fixed-point widths (lava/proc/lif/models.py; research/lava_nir.md §1).
LOIHI_DECAY_MAX = 4095  # du, dv: unsigned 12 bit
LOIHI_VTH_MAX = 2**17 - 1  # vth: unsigned 17 bit (used as vth << 6)
LOIHI_BIAS_MANT_MIN, LOIHI_BIAS_MANT_MAX = -(2**12), 2**12 - 1  # signed 13 bit
LOIHI_BIAS_EXP_MAX = 7  # 3 bit
LOIHI_STATE_MAX = 2**23 - 1  # u and v are 24-bit signed

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
UINT32_MAX = 2**32 - 1


class LIF(_Frozen):
    r"""Current-based leaky integrate-and-fire neuron in floating point (the hardware-neutral meaning).

    With :math:`\alpha_m = e^{-dt/\tau_{mem}}` and :math:`\alpha_s = e^{-dt/\tau_{syn}}`
    (:math:`\alpha_s = 0` when ``tau_syn`` is 0: the current is just this step's input):

    .. math::

        i[t] &= \alpha_s\, i[t-1] + x[t] \\
        v[t] &= v_{leak} + \alpha_m (v[t-1] - v_{leak}) + i[t] + bias \\
        s[t] &= v[t] > v_{th}, \quad v[t] \leftarrow v_{reset} \text{ (or } v[t] - v_{th}
                \text{ when reset is subtract)}

    With ``integrator: euler`` the decay factors are forward Euler's, :math:`\alpha = 1 - dt/\tau`
    (as snnTorch discretizes; needs :math:`\tau \ge dt`) instead of :math:`e^{-dt/\tau}`.

    After a spike, ``refractory`` steps follow in which ``v`` is held at ``v_reset`` (the current ``i``
    keeps integrating and decaying). Initial state: ``v = v_init``, ``i = 0``. Times are in ms, like
    the network's ``dt``; voltages, weights and bias share one arbitrary unit.
    """

    kind: Literal["lif"] = "lif"
    tau_mem: RangeChecked(gt=0)  # type: ignore[valid-type]
    tau_syn: RangeChecked(ge=0) = 0.0  # type: ignore[valid-type]
    v_th: Value = 1.0
    v_reset: Value = 0.0
    v_leak: Value = 0.0
    bias: Value = 0.0
    v_init: Value = 0.0
    refractory: Annotated[Int, Field(ge=0)] = 0
    reset: Literal["zero", "subtract"] = "zero"
    integrator: Literal["exact", "euler"] = "exact"


class LI(_Frozen):
    r"""Non-spiking leaky integrator (a readout): ``lif`` without threshold, reset or refractory.

    .. math::

        i[t] &= \alpha_s\, i[t-1] + x[t] \\
        v[t] &= v_{leak} + \alpha_m (v[t-1] - v_{leak}) + i[t] + bias

    It never spikes; record its voltage (``snnc run --record-v``). Only the ``float`` numerics of the
    reference simulate it; hardware targets refuse it.
    """

    kind: Literal["li"] = "li"
    tau_mem: RangeChecked(gt=0)  # type: ignore[valid-type]
    tau_syn: RangeChecked(ge=0) = 0.0  # type: ignore[valid-type]
    v_leak: Value = 0.0
    bias: Value = 0.0
    v_init: Value = 0.0
    integrator: Literal["exact", "euler"] = "exact"


class LoihiLIF(_Frozen):
    r"""Loihi's fixed-point CUBA LIF exactly as Lava's ``PyLifModelBitAcc`` computes it.

    All quantities are integers; ``a[t]`` is the summed, ``weight_exp``-shifted synaptic input.
    ``dec(x, d) = sign(x) * ((|x| * (4096 - d)) >> 12)`` (int64 product, truncated toward 0).

    .. math::

        u[t] &= \mathrm{wrap}_{24}\big(\mathrm{dec}(u[t-1], du + 1) + (a[t] \ll 6)\big) \\
        v[t] &= \mathrm{clip}_{\pm(2^{23}-1)}\big(\mathrm{dec}(v[t-1], dv) + u[t]
                + (bias\_mant \ll bias\_exp)\big) \\
        s[t] &= v[t] > (vth \ll 6), \quad v[t] \leftarrow 0

    ``du = 4095`` makes ``u`` the input of this step alone (a delta synapse); ``dv = 0`` means no
    leak. ``u`` is not reset by a spike and there is no refractory period. Ranges are Lava's: ``du``,
    ``dv`` in 0..4095, ``vth`` in 0..131071, ``bias_mant`` signed 13 bit, ``bias_exp`` 0..7.
    ``v_init``/``u_init`` are the initial states (24-bit).
    """

    kind: Literal["loihi_lif"] = "loihi_lif"
    du: RangeChecked(ge=0, le=LOIHI_DECAY_MAX, integer=True)  # type: ignore[valid-type]
    dv: RangeChecked(ge=0, le=LOIHI_DECAY_MAX, integer=True)  # type: ignore[valid-type]
    vth: RangeChecked(ge=0, le=LOIHI_VTH_MAX, integer=True)  # type: ignore[valid-type]
    bias_mant: RangeChecked(  # type: ignore[valid-type]
        ge=LOIHI_BIAS_MANT_MIN, le=LOIHI_BIAS_MANT_MAX, integer=True
    ) = 0
    bias_exp: RangeChecked(ge=0, le=LOIHI_BIAS_EXP_MAX, integer=True) = 0  # type: ignore[valid-type]
    v_init: RangeChecked(  # type: ignore[valid-type]
        ge=-LOIHI_STATE_MAX, le=LOIHI_STATE_MAX, integer=True
    ) = 0
    u_init: RangeChecked(  # type: ignore[valid-type]
        ge=-LOIHI_STATE_MAX - 1, le=LOIHI_STATE_MAX, integer=True
    ) = 0


class SpinnakerLIF(_Frozen):
    r"""sPyNNaker's ``IF_curr_exp`` / ``IF_curr_delta`` in raw fixed point (research/spinnaker.md §2).

    Voltages and currents are s16.15 ``accum`` raw integers (value × 2^15); ``exp_tc`` and
    ``r_membrane`` are s16.15 too; ``decay_*``/``init_*`` are u0.32 raw integers. Constants are computed
    on the host and carried here as integers, so every backend computes the same bits.
    ``a*b`` on accums is ``(a * b) >> 15`` truncating toward minus infinity;
    ``decay(x, d) = (x * d) >> 32``.

    Per step: the ring-buffer slot for this step holds saturated uint16 sums ``W_exc``, ``W_inh``;

    .. math::

        I_e &\mathrel{+}= \mathrm{decay}(W_{exc} \ll shift_{exc},\ init_{exc})
              \quad(\text{delta synapse: } I_e \mathrel{+}= W_{exc} \ll shift_{exc}) \\
        &\text{if } refract = 0:\ \alpha = (I_e - I_i + i_{offset}) \cdot r_{membrane} + v_{rest};
              \ V = \alpha - exp_{tc} \cdot (\alpha - V) \quad \text{else } refract \mathrel{-}= 1 \\
        &\text{if } V \ge v_{thresh}:\ V = v_{reset},\ refract = t_{refract},\ \text{spike} \\
        I_e &= \mathrm{decay}(I_e, decay_{exc}) \quad(\text{delta synapse: } I_e = 0)

    and likewise for the inhibitory current. Weights into a ``spinnaker_lif`` population are signed
    integers whose magnitude is the 16-bit ring-buffer weight: positive ones go to the excitatory
    receptor, negative ones to the inhibitory receptor.
    """

    kind: Literal["spinnaker_lif"] = "spinnaker_lif"
    v_thresh: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    v_reset: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    v_rest: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    v_init: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    i_offset: RangeChecked(ge=INT32_MIN, le=INT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    exp_tc: RangeChecked(ge=0, le=2**15, integer=True)  # type: ignore[valid-type]
    r_membrane: RangeChecked(ge=0, le=INT32_MAX, integer=True)  # type: ignore[valid-type]
    synapse: Literal["exp", "delta"] = "exp"
    decay_exc: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    init_exc: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    decay_inh: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    init_inh: RangeChecked(ge=0, le=UINT32_MAX, integer=True) = 0  # type: ignore[valid-type]
    t_refract: Annotated[Int, Field(ge=0)] = 0
    weight_shift_exc: Annotated[Int, Field(ge=0, le=31)] = 0
    weight_shift_inh: Annotated[Int, Field(ge=0, le=31)] = 0


Neuron = Annotated[Union[LIF, LI, LoihiLIF, SpinnakerLIF], Field(discriminator="kind")]
NEURON_KINDS: dict[str, type[_Frozen]] = {
    "lif": LIF, "li": LI, "loihi_lif": LoihiLIF, "spinnaker_lif": SpinnakerLIF,
}

INTEGER_WEIGHT_KINDS = ("loihi_lif", "spinnaker_lif")
"""Neuron kinds whose incoming weights are integers in the target's own units."""
