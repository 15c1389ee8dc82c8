"""``FileSink``: records the spikes (and optionally the voltages) of a LIF process to a file.

Reading recordings through ``Var.get()`` or ``Monitor`` moves one float64 element per message (Lava
0.10's ``lava/magma/runtime/runtime.py``; 65 s for 3 million values, measured). This sink keeps the
events in its own OS process and writes them with one ``np.savez`` at the last step; the host reads
that file after the run.

File keys: ``times`` and ``ids`` (int64; ``times`` is Lava's ``time_step - 1``, i.e. snnc's step) and,
for ``FileVoltageSink``, ``v`` (int32, steps x size: the voltage after this step's reset).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyRefPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, RefPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class _Sink(AbstractProcess):
    def __init__(self, *, size: int, num_steps: int, path: str) -> None:
        super().__init__(size=size, num_steps=num_steps, path=path)
        self.s_in = InPort(shape=(size,))


class FileSink(_Sink):
    """Receives spikes on ``s_in`` (shape ``(size,)``); writes ``path`` after ``num_steps`` steps."""


class FileVoltageSink(_Sink):
    """Also reads the voltage Var connected to ``v_ref`` (``v_ref.connect_var(lif.v)``) each step."""

    def __init__(self, *, size: int, num_steps: int, path: str) -> None:
        super().__init__(size=size, num_steps=num_steps, path=path)
        self.v_ref = RefPort(shape=(size,))


class _SinkModel(PyLoihiProcessModel):
    """Collects ``np.flatnonzero`` of each step's spike vector; one file write at the end."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.num_steps = int(proc_params["num_steps"])
        self.path = str(proc_params["path"])
        self.spike_steps: list[np.ndarray] = []
        self.spike_ids: list[np.ndarray] = []

    def collect_spikes(self) -> None:
        ids = np.flatnonzero(self.s_in.recv())
        if ids.size:
            self.spike_ids.append(ids)
            self.spike_steps.append(np.full(ids.size, self.time_step - 1, dtype=np.int64))

    def arrays(self) -> dict[str, np.ndarray]:
        empty = np.zeros(0, dtype=np.int64)
        return {"times": np.concatenate(self.spike_steps) if self.spike_steps else empty,
                "ids": np.concatenate(self.spike_ids) if self.spike_ids else empty}

    def write(self, **extra: np.ndarray) -> None:
        with open(self.path, "wb") as handle:
            np.savez(handle, **self.arrays(), **extra)


@implements(proc=FileSink, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyFileSinkModel(_SinkModel):
    """Spikes only: the file is written in the spike phase of the last step."""

    def run_spk(self) -> None:
        self.collect_spikes()
        if self.time_step == self.num_steps:
            self.write()


@implements(proc=FileVoltageSink, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyFileVoltageSinkModel(_SinkModel):
    """Spikes and voltages: ``v`` is read in the management phase, after the LIF step and reset."""

    v_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, np.int32, precision=24)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.voltages = np.zeros((self.num_steps, int(proc_params["size"])), dtype=np.int32)

    def run_spk(self) -> None:
        self.collect_spikes()

    def post_guard(self) -> bool:
        return True

    def run_post_mgmt(self) -> None:
        self.voltages[self.time_step - 1] = self.v_ref.read()
        if self.time_step == self.num_steps:
            self.write(v=self.voltages)
