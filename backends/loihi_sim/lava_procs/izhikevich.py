"""``SnncIzhikevich``: snnc's fixed-point Izhikevich neuron as a Lava process (``fixed_pt``).

The equations are ``loihi_izhikevich``'s (``models/loihi_izhikevich.py``, whose docstring states
them), here element-wise in numpy int64 (the reference's loihi numerics run the same integers in
numba; tests/backends/loihi_sim/test_lava_izhikevich.py compares the two bit for bit). Lava 0.10
has no Izhikevich process; Loihi 2 would run such a neuron as a microcode program, and this model
makes no claim about silicon. Per neuron and step (``a``: the summed input as received)::

    i = sat(dec(i, du) + (a << 6))
    delta = (v*v*k_sq >> (16 + frac)) + (v*k_lin >> 16) + drive + ((i - u)*k_dt >> 16)
    v' = sat(v + delta);  u' = sat(u + ((((v*b) >> 16) - u)*a_dt >> 16))
    s = v' >= v_peak;  where s: v' = c, u' = sat(u' + d)

with ``dec(x, d) = sign(x) * ((|x| * (4096 - d)) >> 12)``, ``sat`` the clip to +-(2^23 - 1)
and every ``>>`` arithmetic (floor). ``loihi_izhikevich`` (bottom) is the factory the model's
``LavaLowering`` names. Lava's model discovery executes every ``.py`` in this folder: this file
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

from snnc.backends.loihi_sim.lava_procs.lif import _per_neuron

STATE_BITS = 24
STATE_MAX = 2 ** (STATE_BITS - 1) - 1  # v, u and i saturate at +-(2^23 - 1)
COEF_SHIFT = 16  # k_sq, k_lin, k_dt, a_dt, b: fractions of 2^16
CURRENT_SHIFT = 12  # du: a fraction of 4096
CURRENT_UNITY = 2**CURRENT_SHIFT
ACTIVATION_SHIFT = 6  # the input enters the current MSB-aligned by 6 bits, as Lava's LIF's u

_PARAMETERS = ("frac", "du", "k_sq", "k_lin", "k_dt", "drive", "a_dt", "b", "c", "d", "v_peak")


class SnncIzhikevich(AbstractProcess):
    """Fixed-point Izhikevich neurons (module docstring); integers per neuron or scalars.

    ``v`` and ``u`` are the initial states (24-bit), the current ``i_syn`` (the equations'
    ``i``) starts at 0; the parameters are ``loihi_izhikevich``'s (its docstring gives their
    meaning and ranges).
    """

    def __init__(self, *, shape: tuple[int, ...], v: ty.Any, u: ty.Any, frac: ty.Any,
                 du: ty.Any, k_sq: ty.Any, k_lin: ty.Any, k_dt: ty.Any, drive: ty.Any,
                 a_dt: ty.Any, b: ty.Any, c: ty.Any, d: ty.Any, v_peak: ty.Any,
                 name: str | None = None, log_config: LogConfig | None = None) -> None:
        shape = tuple(int(n) for n in shape)
        # First: Lava's __del__ expects an initialized process, even when a check below raises.
        super().__init__(shape=shape, name=name, log_config=log_config)
        given = dict(v=v, u=u, frac=frac, du=du, k_sq=k_sq, k_lin=k_lin, k_dt=k_dt,
                     drive=drive, a_dt=a_dt, b=b, c=c, d=d, v_peak=v_peak)
        values = {key: _per_neuron(key, value, shape) for key, value in given.items()}
        if np.any(values["du"] < 0) or np.any(values["du"] > CURRENT_UNITY):
            raise ValueError(f"SnncIzhikevich: du must be 0..{CURRENT_UNITY}")
        if np.any(values["k_sq"] < 0) or np.any(values["k_sq"] > 2**16):
            raise ValueError("SnncIzhikevich: k_sq must be 0..65536 (v*v*k_sq must fit int64)")
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.i_syn = Var(shape=shape, init=0)
        for key, value in values.items():
            setattr(self, key, Var(shape=shape, init=value))


def _saturate(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -STATE_MAX, STATE_MAX)


def _decay(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``x * (4096 - d) / 4096`` truncated toward zero (int64 product)."""
    product = x * (CURRENT_UNITY - d)
    return np.sign(product) * np.right_shift(np.abs(product), CURRENT_SHIFT)


@implements(proc=SnncIzhikevich, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PySnncIzhikevichModelFixed(PyLoihiProcessModel):
    """The per-step equations of the module docstring, element-wise in numpy int64."""

    # what arrives from Dense/Sparse/DelaySparse is int32 (as SnncLIF's a_in)
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    v: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=STATE_BITS)
    u: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=STATE_BITS)
    i_syn: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=STATE_BITS)
    frac: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=5)
    du: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=13)
    k_sq: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=17)
    k_lin: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=24)
    k_dt: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=24)
    drive: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)
    a_dt: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=25)
    b: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=25)
    c: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=STATE_BITS)
    d: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=STATE_BITS)
    v_peak: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=STATE_BITS)

    def run_spk(self) -> None:
        a = self.a_in.recv().astype(np.int64)
        i = _saturate(_decay(self.i_syn, self.du) + np.left_shift(a, ACTIVATION_SHIFT))
        v, u = self.v.astype(np.int64), self.u.astype(np.int64)
        delta = (np.right_shift(v * v * self.k_sq, COEF_SHIFT + self.frac)
                 + np.right_shift(v * self.k_lin, COEF_SHIFT) + self.drive
                 + np.right_shift((i - u) * self.k_dt, COEF_SHIFT))
        v_new = _saturate(v + delta)
        recovery = np.right_shift((np.right_shift(v * self.b, COEF_SHIFT) - u) * self.a_dt,
                                  COEF_SHIFT)
        u_new = _saturate(u + recovery)
        spikes = v_new >= self.v_peak
        v_new[spikes] = self.c[spikes]
        u_new[spikes] = _saturate(u_new[spikes] + self.d[spikes])
        self.i_syn[:] = i
        self.v[:] = v_new
        self.u[:] = u_new
        self.s_out.send(spikes)


def loihi_izhikevich(arrays: dict[str, np.ndarray], size: int) -> SnncIzhikevich:
    """The ``LavaLowering`` factory: one ``SnncIzhikevich`` holding every ``loihi_izhikevich``
    population (``models/loihi_izhikevich.py:lava_arrays``, concatenated)."""
    parameters: dict[str, ty.Any] = {name: arrays[name] for name in _PARAMETERS}
    return SnncIzhikevich(shape=(size,), v=arrays["v_init"], u=arrays["u_init"], **parameters)
