r"""The ``sigma_delta`` model: Lava's sigma-delta neuron (graded output), Loihi-native integers.

It is Lava 0.10's ``SigmaDelta`` process with its fixed-point model ``PySigmaDeltaModelFixed``
(lava-nc/lava ``src/lava/proc/sdn/process.py``, ``src/lava/proc/sdn/models.py``:
``AbstractSigmaDeltaModel``, ``AbstractDeltaModel``), the neuron of lava-dl's SDNN networks
(PilotNet): it integrates its input (sigma), applies its activation (ReLU or unit) and sends the
change of its activation (delta) as a graded message, only when that change reaches ``vth``. The
parameters are Lava's, by Lava's names; the reference's ``loihi`` step computes Lava's bits,
int32 wraps included (Lava's CPU model computes in numpy int32: the declared 24-bit precision of
its Vars is not enforced). loihi-sim runs it as Lava's own ``SigmaDelta`` process
(``backends/loihi_sim/lava_procs/sigma_delta.py``), whose messages travel through
``Sparse``/``DelaySparse`` blocks made with ``num_message_bits = 24``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from snnc.ir.values import Int, RangeChecked, _Frozen, bounds, resolve

from .base import LavaLowering, NeuronModel, Step, one_process_check
from .jit import njit
from .loihi_lif import wrap_int32

EXP_MAX = 7  # spike_exp, state_exp: Lava declares them 3-bit
VTH_MAX = 2**23 - 1  # the scaled vth is compared with 24-bit states (Lava: precision 24)
BIAS_MIN, BIAS_MAX = -(2**15), 2**15 - 1  # the scaled bias: Lava declares it 16-bit
INT32_MIN = -(2**31)
MESSAGE_BITS = 24  # Lava's SigmaDelta s_out: VEC_DENSE int32, precision 24
ACT_MODES = ("unit", "relu")  # lava.proc.sdn.process.ActivationMode: UNIT = 0, RELU = 1


class SigmaDelta(_Frozen):
    r"""Lava's sigma-delta neuron in its fixed-point model: integrate, activate, send the change.

    All quantities are integers; ``a[t]`` is the summed, ``weight_exp``-shifted synaptic input
    (what a Lava ``Sparse`` sends: no ``<< 6`` alignment, unlike the LIF). With
    ``e = spike_exp + state_exp``, Lava scales ``vth' = vth << e`` and ``b' = bias << e`` once;
    every ``+``/``-`` wraps to int32 (``wrap``), as Lava's int32 numpy arithmetic does:

    .. math::

        \sigma[t] &= \mathrm{wrap}(\sigma[t-1] + a[t]) \\
        act[t] &= f\big(\mathrm{wrap}(\sigma[t] + b')\big), \quad
                 f = \max(\cdot, 0) \text{ (relu) or the identity (unit)} \\
        \delta[t] &= \mathrm{wrap}(act[t] - act[t-1] + r[t-1]) \\
        s[t] &= \delta[t] \text{ if } |c[t]| \ge vth' \text{ else } 0, \quad
              c[t] = \delta[t] \text{, or with cum\_error: }
              c[t] = err[t] = \mathrm{wrap}(err[t-1] + \delta[t]) \\
        err[t] &\leftarrow 0 \text{ when } |s[t]| > 0 \quad \text{(cum\_error only)} \\
        r[t] &= \mathrm{wrap}(\delta[t] - s[t]) \qquad \text{(residue)} \\
        m[t] &= s[t] \gg state\_exp \quad \text{(arithmetic: floor)}

    ``|x|`` is numpy's int32 absolute value (``|-2^31| = -2^31``). The state starts at 0 (Lava
    has no initial values). The message ``m[t]`` is sent every step, 0 meaning "nothing sent" (a
    synapse of weight ``w`` and delay ``d`` adds ``w * m[t]`` to its target's input at ``t + d``);
    the recorded voltage is ``sigma``. Ranges are Lava's declared widths: ``spike_exp``,
    ``state_exp`` in 0..7, ``vth' `` in 0..2^23 - 1, ``b'`` signed 16 bit. ``vth``, the exponents,
    ``act_mode`` and ``cum_error`` are one value per population (Lava's ``SigmaDelta`` has one per
    process); ``bias`` may differ per neuron.
    """

    kind: Literal["sigma_delta"] = "sigma_delta"
    vth: Annotated[Int, Field(ge=0, le=VTH_MAX)]
    bias: RangeChecked(ge=BIAS_MIN, le=BIAS_MAX, integer=True) = 0  # type: ignore[valid-type]
    act_mode: Literal["relu", "unit"] = "relu"
    cum_error: bool = False
    spike_exp: Annotated[Int, Field(ge=0, le=EXP_MAX)] = 0
    state_exp: Annotated[Int, Field(ge=0, le=EXP_MAX)] = 0

    @property
    def scale_exp(self) -> int:
        """``spike_exp + state_exp``: Lava scales ``vth`` and ``bias`` by ``2**`` this."""
        return self.spike_exp + self.state_exp

    @model_validator(mode="after")
    def _scaled_ranges(self) -> "SigmaDelta":
        if self.vth << self.scale_exp > VTH_MAX:
            raise ValueError(f"vth << (spike_exp + state_exp) = {self.vth << self.scale_exp} "
                             f"exceeds {VTH_MAX} (24-bit)")
        limits = bounds(self.bias)  # distributions are checked when drawn (sigma_delta_tables)
        if limits is not None:
            _check_bias(np.asarray(limits, np.int64), self.scale_exp)
        return self


def _check_bias(bias: np.ndarray, exp: int) -> None:
    scaled = bias.astype(np.int64) << exp
    if scaled.size and (scaled.min() < BIAS_MIN or scaled.max() > BIAS_MAX):
        raise ValueError(f"bias << (spike_exp + state_exp) must be in {BIAS_MIN}..{BIAS_MAX} "
                         f"(16-bit), got {int(scaled.min())}..{int(scaled.max())}")


# Rows of the per-neuron parameter and state tables.
VTH, BIAS, STATE_EXP, RELU, CUM_ERROR = range(5)
SIGMA, ACT, RESIDUE, ERROR, MESSAGE = range(5)


def sigma_delta_tables(neuron: SigmaDelta, size: int,
                       dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(params int64[5, size], state int64[5, size]) of a ``sigma_delta`` population."""
    bias = np.asarray(resolve(neuron.bias, size, integer=True), np.int64)
    _check_bias(bias, neuron.scale_exp)
    params = np.zeros((5, size), dtype=np.int64)
    params[VTH] = neuron.vth << neuron.scale_exp
    params[BIAS] = bias << neuron.scale_exp
    params[STATE_EXP] = neuron.state_exp
    params[RELU] = int(neuron.act_mode == "relu")
    params[CUM_ERROR] = int(neuron.cum_error)
    return params, np.zeros((5, size), dtype=np.int64)


@njit(cache=True, nogil=True, inline="always")
def abs_int32(x: int) -> int:
    """numpy's int32 ``abs``: ``-2^31`` stays ``-2^31`` (it has no positive int32)."""
    return x if x == INT32_MIN else abs(x)


@njit(cache=True, nogil=True)
def sigma_delta_update(a, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``a`` (int); no spikes, a message."""
    for i in range(lo, hi):
        sigma = wrap_int32(state[SIGMA, i] + np.int64(a[i]))
        act = wrap_int32(sigma + params[BIAS, i])
        if params[RELU, i] and act < 0:
            act = 0
        delta = wrap_int32(act - state[ACT, i] + state[RESIDUE, i])
        if params[CUM_ERROR, i]:
            error = wrap_int32(state[ERROR, i] + delta)
            sent = delta if abs_int32(error) >= params[VTH, i] else 0
            if abs_int32(sent) > 0:
                error = 0
            state[ERROR, i] = error
        else:
            sent = delta if abs_int32(delta) >= params[VTH, i] else 0
        state[SIGMA, i] = sigma
        state[ACT, i] = act
        state[RESIDUE, i] = wrap_int32(delta - sent)
        state[MESSAGE, i] = sent >> params[STATE_EXP, i]
    return n_out


def lava_arrays(neuron: SigmaDelta, size: int) -> dict[str, np.ndarray]:
    """The per-neuron values loihi-sim gives Lava's ``SigmaDelta`` (unscaled: Lava scales)."""
    def full(value: int) -> np.ndarray:
        return np.full(size, value, np.int64)

    return {"vth": full(neuron.vth),
            "bias": np.asarray(resolve(neuron.bias, size, integer=True), np.int64),
            "act_mode": full(ACT_MODES.index(neuron.act_mode)),
            "cum_error": full(int(neuron.cum_error)),
            "spike_exp": full(neuron.spike_exp), "state_exp": full(neuron.state_exp)}


PER_PROCESS = ("vth", "spike_exp", "state_exp", "cum_error", "act_mode")
"""The parameters Lava's SigmaDelta holds once per process (Vars of shape (1,), a process
parameter), while loihi-sim holds every sigma_delta population in one process."""


def _example(features: frozenset[str]) -> SigmaDelta:
    return SigmaDelta(vth=40, bias=-30, spike_exp=1, state_exp=1)


MODEL = NeuronModel(
    kind="sigma_delta",
    params=SigmaDelta,
    summary="Lava's sigma-delta neuron (ReLU/unit, cum_error), graded delta messages, integer",
    steps={"loihi": Step("loihi", sigma_delta_tables, sigma_delta_update, np.int64, SIGMA,
                         input="loihi", payload_row=MESSAGE)},
    lowerings={"loihi-sim": LavaLowering(
        "Lava's own SigmaDelta (graded s_out, 24-bit) into Sparse/DelaySparse with "
        "num_message_bits=24", lava_arrays,
        "snnc.backends.loihi_sim.lava_procs.sigma_delta:sigma_delta_process",
        message_bits=MESSAGE_BITS, voltage="sigma",
        check=one_process_check("sigma_delta", PER_PROCESS, "SigmaDelta"))},
    features=("graded_output",),
    spiking=False,
    integer_weights=True,
    refusals={"spinnaker": "it is Lava's sigma-delta neuron (Loihi integers); spinnaker-emu runs "
                           "sigma_delta_float or spinnaker_sigma_delta"},
    example=_example,
)
