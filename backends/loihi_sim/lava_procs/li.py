"""``SnncLI``: Loihi's fixed-point CUBA neuron without threshold, sending a graded message.

The ``u`` and ``v`` arithmetic is ``SnncLIF``'s (``lif.py``: Lava 0.10's ``PyLifModelBitAcc``,
int64 decay products truncated toward 0, 32-bit sums, u's single 24-bit wrap, v's saturation)
without the spike. Every step, after the update, it sends ``m = v >> payload_shift`` (arithmetic,
floor) on ``s_out`` as an int32 vector (graded, 24 bit: |m| <= 2^23), the way Lava's own graded
processes do (``lava/proc/graded/models.py``: ``s_out`` is ``VEC_DENSE`` int32, precision 24). A
``Sparse``/``DelaySparse`` made with ``num_message_bits > 0`` receives it as ``W @ s_in``.

Per neuron and step (``a``: the summed input as the neuron receives it)::

    u = wrap24_once(wrap32(dec(u, du + 1) + (a << 6)))
    v = clip(wrap32(dec(v, dv) + u + (bias_mant << bias_exp)), -(2**23 - 1), 2**23 - 1)
    s_out = v >> payload_shift

Lava's model discovery executes every ``.py`` in this folder: this file only defines.
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

from snnc.backends.loihi_sim.lava_procs.lif import (
    ACTIVATION_SHIFT,
    CURRENT_DECAY_OFFSET,
    STATE_BITS,
    V_MAX,
    VOLTAGE_DECAY_OFFSET,
    _bias,
    _decay,
    _per_neuron,
    _wrap_current,
    _wrap_sum,
)
from snnc.models.loihi_li import MESSAGE_BITS  # the graded payload: v >> payload_shift, 24 bits

PAYLOAD_SHIFT_MAX = STATE_BITS - 1

_PARAMETERS = ("du", "dv", "bias_mant", "bias_exp", "u", "v", "payload_shift")


class SnncLI(AbstractProcess):
    """Fixed-point CUBA neuron with no threshold; sends ``v >> payload_shift`` every step.

    Integers, per neuron or scalars broadcast to ``shape``: ``du``, ``dv`` (0..4095),
    ``bias_mant`` (signed 13 bit), ``bias_exp`` (0..7), the initial ``u`` and ``v`` (24-bit) and
    ``payload_shift`` (0..23, checked).
    """

    def __init__(self, *, shape: tuple[int, ...], du: ty.Any = 0, dv: ty.Any = 0,
                 bias_mant: ty.Any = 0, bias_exp: ty.Any = 0, u: ty.Any = 0, v: ty.Any = 0,
                 payload_shift: ty.Any = 0, name: str | None = None,
                 log_config: LogConfig | None = None) -> None:
        shape = tuple(int(n) for n in shape)
        super().__init__(shape=shape, name=name, log_config=log_config)
        given = dict(du=du, dv=dv, bias_mant=bias_mant, bias_exp=bias_exp, u=u, v=v,
                     payload_shift=payload_shift)
        values = {key: _per_neuron(key, given[key], shape) for key in _PARAMETERS}
        shift = values["payload_shift"]
        if np.any(shift < 0) or np.any(shift > PAYLOAD_SHIFT_MAX):
            raise ValueError(f"SnncLI: payload_shift must be 0..{PAYLOAD_SHIFT_MAX}")
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        for key in _PARAMETERS:
            setattr(self, key, Var(shape=shape, init=values[key]))


@implements(proc=SnncLI, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PySnncLiModelFixed(PyLoihiProcessModel):
    """The per-step equations of the module docstring, element-wise in numpy."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=MESSAGE_BITS)
    u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=STATE_BITS)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=STATE_BITS)
    du: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    dv: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=13)
    bias_exp: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=3)
    payload_shift: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=5)

    def run_spk(self) -> None:
        a = self.a_in.recv().astype(np.int64)
        current = (_decay(self.u, self.du + CURRENT_DECAY_OFFSET)
                   + np.left_shift(a, ACTIVATION_SHIFT))
        self.u[:] = _wrap_current(_wrap_sum(current))
        voltage = (_decay(self.v, self.dv + VOLTAGE_DECAY_OFFSET) + self.u
                   + _bias(self.bias_mant, self.bias_exp))
        self.v[:] = np.clip(_wrap_sum(voltage), -V_MAX, V_MAX)
        message = np.right_shift(self.v.astype(np.int64), self.payload_shift.astype(np.int64))
        self.s_out.send(message.astype(np.int32))
