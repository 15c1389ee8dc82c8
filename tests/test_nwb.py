"""``snnc run -o run.nwb``: spikes as NWB units that pynwb and Neo read back, reproducibly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import snnc
from snnc.backends.spikes import SpikeRecord

pynwb = pytest.importorskip("pynwb")  # the nwb extra: make venv installs it (CI has it)
neo = pytest.importorskip("neo")

NET = "examples/design_note/net.yaml"


def _snnc(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from snnc.cli import main; sys.argv[0] = 'snnc'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def test_nwb_units_equal_the_npz_spikes_and_neo_reads_them(tmp_path):
    nwb_path, npz_path = tmp_path / "run.nwb", tmp_path / "run.npz"
    for out in (nwb_path, npz_path):
        result = _snnc("run", NET, "-t", "reference", "--steps", "80", "--record-v", "hid",
                       "-o", str(out))
        assert result.returncode == 0, result.stderr
    expected = SpikeRecord.load(npz_path)
    net = snnc.load(NET)
    with pynwb.NWBHDF5IO(str(nwb_path), "r") as io:
        units = io.read().units.to_dataframe()
        voltage = np.asarray(io.read().acquisition["hid.v"].data[:])
    assert len(units) == sum(p.size for p in net.populations.values())
    for name, (times, ids) in expected.spikes.items():
        rows = units[units["population"] == name]
        assert list(rows["index"]) == list(range(net.populations[name].size))
        for neuron, spike_times in zip(rows["index"], rows["spike_times"]):
            want = times[ids == neuron].astype(np.float64) * expected.dt / 1000.0
            np.testing.assert_array_equal(np.asarray(spike_times), want)
    np.testing.assert_array_equal(voltage, expected.voltages["hid"])
    block = neo.io.NWBIO(str(nwb_path), mode="r").read()[0]
    trains = block.segments[0].spiketrains
    assert len(trains) == len(units)
    assert sum(len(t) for t in trains) == expected.total


def test_nwb_output_is_byte_identical_for_the_same_run(tmp_path):
    net = snnc.load(NET)
    record = snnc.run(net, "reference", 40).record
    record.save(tmp_path / "a.nwb", net)
    record.save(tmp_path / "b.nwb", net)
    assert (tmp_path / "a.nwb").read_bytes() == (tmp_path / "b.nwb").read_bytes()
    other = snnc.run(net, "reference", 41).record
    other.save(tmp_path / "c.nwb", net)
    assert (tmp_path / "c.nwb").read_bytes() != (tmp_path / "a.nwb").read_bytes()


def test_without_pynwb_an_nwb_output_is_one_line(tmp_path):
    code = ("import sys; sys.modules['pynwb'] = None; from snnc.cli import main; "
            "sys.argv[0] = 'snnc'; main()")
    out = tmp_path / "run.nwb"
    result = subprocess.run([sys.executable, "-c", code, "run", NET, "-t", "reference",
                             "--steps", "5", "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("writing NWB needs pynwb: pip install 'snnc[nwb]' "
                                          "(or make venv)")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
