"""``SnncLIF``: snnc's fixed-point LIF with a refractory period and reset by subtraction.

What it follows:

- The arithmetic is Lava's fixed-point LIF (``lava/proc/lif/models.py``,
  ``AbstractPyLifModelFixed`` and ``PyLifModelBitAcc``, Lava 0.10): the int64 decay product
  truncated toward zero, ``du + 1`` on the current, the 6-bit MSB alignment of input and
  threshold, the 32-bit sums, Lava's single 24-bit wrap of ``u`` and the saturation of ``v``.
  With ``refractory = 0`` and ``reset_subtract = 0`` this model gives the same bits as Lava's
  ``LIF`` (``fixed_pt``): every spike, every ``u`` and ``v``
  (tests/backends/loihi_sim/test_lava_snnc_lif.py checks it).
- The refractory counting is Lava's float ``LIFRefractory`` (``PyLifRefractoryModelFloat`` in
  the same file: ``refractory_period_end = time_step + refractory_period`` at a spike, and a
  neuron integrates ``v`` again once ``refractory_period_end < time_step``): a spike at step ``t``
  makes steps ``t + 1 .. t + refractory`` refractory. Lava has no fixed-point model of it.

Loihi 1 compartments had a refractory delay register (Davies et al., "Loihi: a neuromorphic
manycore processor with on-chip learning", IEEE Micro 38(1), 2018); Loihi 2 runs such neuron
programs in microcode. So this model is snnc's own, bit-accurate to the definition below, and
makes no claim about what silicon computes.

Per neuron and step, with ``a`` the summed synaptic input as Lava's LIF receives it (all integers)::

    u = wrap24_once(wrap32(dec(u, du + 1) + (a << 6)))
    if refractory_left > 0:             # u keeps integrating; v is held at 0; no spike
        refractory_left -= 1; v = 0; s = 0
    else:
        v = clip(wrap32(dec(v, dv) + u + (bias_mant << bias_exp)), -(2**23 - 1), 2**23 - 1)
        s = v > (vth << 6)
        where s: v = v - (vth << 6) if reset_subtract else 0;  refractory_left = refractory

``dec(x, d) = sign(p) * (|p| >> 12)`` with ``p = x * (4096 - d)`` in int64 (truncation toward
0). During refractory steps v is held at 0 whatever the reset, so a subtraction's residual
carries over only when ``refractory = 0``. Within the declared ranges v's int32 sum cannot wrap
(|u| <= 2^31 - 2^24 after its wrap); the wrap is kept so that the bits stay Lava's outside them.
The threshold is read every step (Lava's LIF caches ``vth << 6`` at its first step, so a
``vth.set()`` during a run only reaches this model).

Lava's model discovery executes every ``.py`` in this folder (``lava_procs/__init__.py``): this file
only defines.
"""

from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess, LogConfig
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

# u and v are 24-bit signed state registers.
STATE_BITS = 24
STATE_HALF = 2 ** (STATE_BITS - 1)  # 2^23: u wraps above it, v saturates one below it
V_MAX = STATE_HALF - 1
# Decay constants are 12-bit fractions of 4096: x * (4096 - d) >> 12.
DECAY_SHIFT = 12
DECAY_UNITY = 2**DECAY_SHIFT
# Loihi 1's 1-bit ds_offset register (Lava's ds_offset = 1) is added to du so that the current can
# decay by exactly 4096/4096; the voltage's dm_offset is 0. So du = 0 still leaks u by 1/4096, and
# du = 4095 leaves u = this step's input alone.
CURRENT_DECAY_OFFSET = 1
VOLTAGE_DECAY_OFFSET = 0
# Synaptic input and threshold are MSB-aligned with the 24-bit state by 6 bits; the bias is not.
ACTIVATION_SHIFT = 6
THRESHOLD_SHIFT = 6
# Lava adds the terms of u and of v in int32 (its u and v arrays are int32), so the sums wrap at
# 32 bits before u's 24-bit wrap and v's clip look at them.
SUM_BITS = 32
# v after a spike (reset to zero) and during the refractory steps.
V_RESET = 0

_PARAMETERS = ("du", "dv", "vth", "bias_mant", "bias_exp", "u", "v", "refractory", "reset_subtract")


def _per_neuron(name: str, value: ty.Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` (a scalar or an array) broadcast to ``shape`` as int64; integers only."""
    array = np.asarray(value)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype(np.int64)
    if array.dtype.kind not in "biu":
        raise ValueError(f"SnncLIF: {name} must be integers, got {array.dtype} values")
    try:
        return np.broadcast_to(array.astype(np.int64), shape).copy()
    except ValueError:
        raise ValueError(
            f"SnncLIF: {name} of shape {array.shape} does not broadcast to {shape}") from None


class SnncLIF(AbstractProcess):
    """Fixed-point LIF with a per-neuron refractory period (steps) and reset to 0 or by subtraction.

    All parameters are integers, per neuron or scalars broadcast to ``shape``: ``du``, ``dv``
    (0..4095), ``vth`` (0..131071, compared as ``vth << 6``), ``bias_mant`` (signed 13 bit),
    ``bias_exp`` (0..7), the initial ``u`` and ``v`` (24-bit), ``refractory`` (>= 0 steps) and
    ``reset_subtract`` (0: v = 0 after a spike, 1: v -= vth << 6). Only the last two are checked.
    ``refractory_left`` counts the refractory steps still to come (0 at the start).
    """

    def __init__(
        self,
        *,
        shape: tuple[int, ...],
        du: ty.Any = 0,
        dv: ty.Any = 0,
        vth: ty.Any = 10,
        bias_mant: ty.Any = 0,
        bias_exp: ty.Any = 0,
        u: ty.Any = 0,
        v: ty.Any = 0,
        refractory: ty.Any = 0,
        reset_subtract: ty.Any = 0,
        name: str | None = None,
        log_config: LogConfig | None = None,
    ) -> None:
        shape = tuple(int(n) for n in shape)
        # First: Lava's __del__ expects an initialized process, even when a check below raises.
        super().__init__(shape=shape, name=name, log_config=log_config)
        given = dict(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp, u=u, v=v,
                     refractory=refractory, reset_subtract=reset_subtract)
        values = {key: _per_neuron(key, given[key], shape) for key in _PARAMETERS}
        if np.any(values["refractory"] < 0):
            raise ValueError("SnncLIF: refractory must be >= 0 steps")
        if not np.all(np.isin(values["reset_subtract"], (0, 1))):
            raise ValueError("SnncLIF: reset_subtract must be 0 (reset to 0) or 1 (subtract vth)")
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.u = Var(shape=shape, init=values["u"])
        self.v = Var(shape=shape, init=values["v"])
        self.du = Var(shape=shape, init=values["du"])
        self.dv = Var(shape=shape, init=values["dv"])
        self.vth = Var(shape=shape, init=values["vth"])
        self.bias_mant = Var(shape=shape, init=values["bias_mant"])
        self.bias_exp = Var(shape=shape, init=values["bias_exp"])
        self.refractory = Var(shape=shape, init=values["refractory"])
        self.reset_subtract = Var(shape=shape, init=values["reset_subtract"])
        self.refractory_left = Var(shape=shape, init=0)


def _decay(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``x * (4096 - d) / 4096`` truncated toward zero. The product is int64: a 24-bit state times a
    13-bit factor overflows int32; the shift brings it back within 24 bits."""
    product = x.astype(np.int64) * (DECAY_UNITY - d.astype(np.int64))
    return np.sign(product) * np.right_shift(np.abs(product), DECAY_SHIFT)


def _wrap_sum(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap to SUM_BITS: what Lava's int32 additions (and the ``<< 6`` of an int32
    input) do. Adding in int64 and wrapping once at the end gives the same bits (modular sums)."""
    half = 2 ** (SUM_BITS - 1)
    return (x + half) % (2 * half) - half


def _wrap_current(x: np.ndarray) -> np.ndarray:
    """Lava's 24-bit wrap of u: ONE period of 2^24, subtracted above +2^23 and added at or below
    -2^23. So +2^23 itself stays (the range is (-2^23, 2^23], not two's complement's [-2^23, 2^23)),
    and a sum more than one period outside stays outside (it still fits the int32 array)."""
    period = 2 * STATE_HALF
    return np.where(x > STATE_HALF, x - period, np.where(x <= -STATE_HALF, x + period, x))


def _bias(mant: np.ndarray, exp: np.ndarray) -> np.ndarray:
    """``bias_mant * 2^bias_exp``; a negative exponent shifts right (floor), as Lava does."""
    mant = mant.astype(np.int64)
    return np.where(exp >= 0, np.left_shift(mant, np.maximum(exp, 0)),
                    np.right_shift(mant, np.maximum(-exp, 0)))


@implements(proc=SnncLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PySnncLifModelFixed(PyLoihiProcessModel):
    """The per-step equations of the module docstring, element-wise in numpy."""

    # Lava's LIF declares a_in int16, but its recv adds into zeros(int16) and so promotes to the
    # sender's int32: there is no 16-bit input saturation. Declaring int32 says what arrives.
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=STATE_BITS)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=STATE_BITS)
    du: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    dv: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    vth: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=13)
    bias_exp: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=3)
    refractory: np.ndarray = LavaPyType(np.ndarray, np.int32)
    reset_subtract: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    refractory_left: np.ndarray = LavaPyType(np.ndarray, np.int32)

    def run_spk(self) -> None:
        a = self.a_in.recv().astype(np.int64)

        # Current: decays and integrates on every step, refractory or not.
        current = (_decay(self.u, self.du + CURRENT_DECAY_OFFSET)
                   + np.left_shift(a, ACTIVATION_SHIFT))
        self.u[:] = _wrap_current(_wrap_sum(current))

        # Refractory neurons spend one of their steps; their v is held at the reset value.
        refractory_now = self.refractory_left > 0
        self.refractory_left[refractory_now] -= 1

        # Voltage: decays, adds u and the bias, saturates (unlike u, which wraps).
        voltage = (_decay(self.v, self.dv + VOLTAGE_DECAY_OFFSET) + self.u
                   + _bias(self.bias_mant, self.bias_exp))
        v = np.clip(_wrap_sum(voltage), -V_MAX, V_MAX)
        v[refractory_now] = V_RESET

        threshold = np.left_shift(self.vth.astype(np.int64), THRESHOLD_SHIFT)
        spikes = (v > threshold) & ~refractory_now  # strict >, as Lava
        subtract = spikes & (self.reset_subtract != 0)
        v[subtract] -= threshold[subtract]
        v[spikes & ~subtract] = V_RESET
        self.v[:] = v
        self.refractory_left[spikes] = self.refractory[spikes]

        self.s_out.send(spikes)
