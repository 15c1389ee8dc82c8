"""Spikes (and recorded voltages) as an NWB 2 file: ``snnc run -o run.nwb`` (docs/outputs-nwb.md).

NWB (Neurodata Without Borders, pynwb) is the format electrophysiology and modelling tools share;
Neo (``neo.io.NWBIO``), NWB Widgets and DANDI read it. The layout:

- ``units``: one row per neuron that has neurons in its population (sources included), in
  population order then index, with ``spike_times`` in seconds (step ``t`` is ``t * dt / 1000``
  s), and the columns ``population`` (its name) and ``index`` (within the population);
- ``acquisition``: one ``TimeSeries`` per population recorded with ``--record-v`` (``POP.v``,
  steps x neurons, unit "dimensionless": float numerics' units or the target's raw integers), with
  ``starting_time`` 0 and ``rate`` ``1000 / dt`` Hz;
- every unit's observation interval is the whole run, ``[0, steps * dt / 1000]`` s;
- the session is described by the network's name, steps and dt; the file's identifier is a hash
  of its content, its object ids are derived from it and its dates are fixed (the Unix epoch), so
  that the same run gives the same bytes (an NWB file otherwise records random ids and the time it
  was written).

pynwb is an optional extra (``pip install 'snnc[nwb]'``, which ``make venv`` installs); without it
an ``.nwb`` output is a one-line error.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

from snnc.ir.errors import SnncError

if TYPE_CHECKING:
    from .spikes import SpikeRecord

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _pynwb() -> Any:
    try:
        import pynwb
    except ImportError:
        raise SnncError("writing NWB needs pynwb: pip install 'snnc[nwb]' (or make venv)",
                        where="--output") from None
    return pynwb


def _identifier(record: "SpikeRecord", name: str) -> str:
    digest = hashlib.sha256(f"{name}|{record.steps}|{record.dt}".encode())
    for population in sorted(record.spikes):
        times, ids = record.spikes[population]
        digest.update(population.encode())
        digest.update(np.ascontiguousarray(times, np.int32).tobytes())
        digest.update(np.ascontiguousarray(ids, np.int32).tobytes())
    for population in sorted(record.voltages):
        digest.update(np.ascontiguousarray(record.voltages[population]).tobytes())
    return f"snnc-{digest.hexdigest()[:32]}"


def nwb_file(record: "SpikeRecord", name: str, sizes: dict[str, int]) -> Any:
    """The in-memory ``pynwb.NWBFile`` of a run (module docstring); ``sizes[P]`` neurons of P."""
    pynwb = _pynwb()
    seconds = record.dt / 1000.0
    nwb = pynwb.NWBFile(
        session_description=f"snnc run of network '{name}': {record.steps} steps of {record.dt} ms",
        identifier=_identifier(record, name), session_start_time=_EPOCH,
        file_create_date=[_EPOCH], source_script="snnc run", source_script_file_name="snnc")
    nwb.add_unit_column(name="population", description="the snnc population of the neuron")
    nwb.add_unit_column(name="index", description="the neuron's index within its population")
    for population, (times, ids) in record.spikes.items():
        order = np.argsort(ids, kind="stable")  # times stay sorted within each neuron
        cuts = np.searchsorted(ids[order], np.arange(sizes.get(population, 0) + 1))
        for neuron in range(sizes.get(population, 0)):
            chosen = times[order[cuts[neuron]:cuts[neuron + 1]]]
            nwb.add_unit(spike_times=chosen.astype(np.float64) * record.dt / 1000.0,
                         obs_intervals=[[0.0, record.steps * seconds]],
                         population=population, index=neuron)
    for population, values in record.voltages.items():
        nwb.add_acquisition(pynwb.TimeSeries(
            name=f"{population}.v", data=np.asarray(values), unit="dimensionless", starting_time=0.0,
            rate=1000.0 / record.dt,
            description=f"voltage of population '{population}' after each step's update"))
    _stable_object_ids(nwb)
    return nwb


def _stable_object_ids(nwb: Any) -> None:
    """hdmf gives every container a random ``object_id`` (uuid4); derive them from the file's
    identifier and each container's position instead, so that a run's file is reproducible byte
    for byte. (hdmf keeps the id in a private attribute and offers no way to pass it to NWBFile's
    children: this is the one place snnc reaches into it.)"""
    for position, container in enumerate(nwb.all_children()):
        stable = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{nwb.identifier}/{position}"))
        container._AbstractContainer__object_id = stable


def write_nwb(record: "SpikeRecord", handle: Any, name: str, sizes: dict[str, int]) -> None:
    """Write the NWB file into an open binary file ``handle`` (staged by ``atomic_write``)."""
    pynwb = _pynwb()
    import h5py

    with h5py.File(handle, "w", track_order=True) as file:
        with pynwb.NWBHDF5IO(file=file, mode="w") as io:
            io.write(nwb_file(record, name, sizes))
