"""``snnc run --ranks N`` (MPI, docs/mpi.md): 1, 2 and 3 ranks give the single process's spikes.

Each run is a real ``mpiexec`` job started by the CLI (a subprocess); the expectation is the
single-process reference run in this process (``simulate``) or the emulator run directly, so a
rank decomposition that dropped, reordered or double-delivered one spike would show.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.backends.reference.distributed import balanced_ranges
from snnc.ir import LIF, Network, explicit, poisson

SNNC = str(Path(sys.executable).parent / "snnc")
# W1's generator lives in the shared folder beside the repository (CI lays a copy there too)
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "shared" / "bench"))
W1_STEPS = 150
LONG_STEPS = 120


def _snnc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SNNC, *args], capture_output=True, text=True, timeout=600)


def _spikes(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def _assert_same_record(got: dict[str, np.ndarray], expected) -> None:
    """Every population's times and ids (and recorded voltages) equal, element for element."""
    for name, (times, ids) in expected.spikes.items():
        assert np.array_equal(got[f"{name}.times"], times), name
        assert np.array_equal(got[f"{name}.ids"], ids), name
    for name, v in expected.voltages.items():
        assert np.array_equal(got[f"{name}.v"], v), name  # bit for bit, floats included
    assert int(got["steps"]) == expected.steps


@pytest.fixture(scope="module")
def w1_net(tmp_path_factory) -> tuple[Path, Network]:
    """W1 (../shared/bench/w1_workload.py) at N = 1000, float LIF, as a YAML network."""
    import w1_workload

    data = w1_workload.generate(1000)
    meta = json.loads(str(data["meta"]))
    neuron = LIF(tau_mem=4096 / meta["dv12"], integrator="euler", v_th=float(meta["vth"]),
                 bias=meta["bias_fx"] / 64, v_init=data["v0_fx"] / 64.0)
    net = Network("w1")
    net.population("n", 1000, neuron)
    net.connect("n", "n", explicit(data["pre"], data["post"]), weight=data["w"].astype(float),
                delay=data["delay"].astype(np.int64))
    path = tmp_path_factory.mktemp("w1") / "w1.yaml"
    net.save(str(path))
    return path, net


@pytest.mark.parametrize("numerics", ["float", "loihi", "spinnaker"])
@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_w1_same_spikes_and_voltages_for_any_rank_count(w1_net, tmp_path, numerics, ranks):
    path, net = w1_net
    out = tmp_path / "spikes.npz"
    done = _snnc("run", str(path), "-t", "reference", "--numerics", numerics, "--steps",
                 str(W1_STEPS), "-o", str(out), "--record-v", "n", "--ranks", str(ranks))
    assert done.returncode == 0, done.stderr
    assert f"{ranks} rank" in done.stdout
    expected = simulate(net, W1_STEPS, numerics, record_v=["n"])
    assert expected.total > 500  # the network is active: the comparison means something
    _assert_same_record(_spikes(out), expected)


def _long_delay_net(separate_inhibition: bool = True) -> Network:
    """Two LIF populations (one with separate inhibitory synapses, which Loihi lacks), a Poisson
    drive and recurrent delays of 3..12 steps: the exchange window is 3 steps and delays span up
    to four windows."""
    rng = np.random.default_rng(7)
    net = Network("long_delays")
    net.population("exc", 90, LIF(tau_mem=15.0, v_th=1.0, bias=0.02,
                                  v_init=rng.uniform(0, 1, 90)))
    inhibition = {"tau_syn_inh": 6.0} if separate_inhibition else {}
    net.population("inh", 30, LIF(tau_mem=10.0, tau_syn=3.0, v_th=1.0, **inhibition))
    net.source("drive", 40, poisson(60.0, seed=11))
    sizes = {"exc": 90, "inh": 30, "drive": 40}
    for pre, post, count, scale in (("drive", "exc", 500, 0.4), ("drive", "inh", 200, 0.5),
                                    ("exc", "exc", 900, 0.12), ("exc", "inh", 400, 0.3),
                                    ("inh", "exc", 400, -0.5), ("inh", "inh", 100, -0.2)):
        net.connect(pre, post, explicit(rng.integers(0, sizes[pre], count),
                                        rng.integers(0, sizes[post], count)),
                    weight=scale * rng.uniform(0.5, 1.5, count),
                    delay=rng.integers(3, 13, count))
    return net


@pytest.mark.parametrize("numerics", ["float", "loihi", "spinnaker"])
def test_delays_longer_than_the_window(tmp_path, numerics):
    net = _long_delay_net(separate_inhibition=numerics != "loihi")
    path = tmp_path / "net.yaml"
    net.save(str(path))
    expected = simulate(net, LONG_STEPS, numerics, record_v=["exc", "inh"])
    assert expected.spikes["exc"][0].size > 50 and expected.spikes["inh"][0].size > 10
    for ranks in (1, 2, 3):
        out = tmp_path / f"r{ranks}.npz"
        done = _snnc("run", str(path), "-t", "reference", "--numerics", numerics, "--steps",
                     str(LONG_STEPS), "-o", str(out), "--record-v", "exc", "--record-v", "inh",
                     "--ranks", str(ranks))
        assert done.returncode == 0, done.stderr
        assert "every 3 steps" in done.stdout  # the window is the smallest delay
        _assert_same_record(_spikes(out), expected)


def test_build_cut_at_core_boundaries(tmp_path):
    """A compiled build's ranks begin where its cores begin, and the spikes do not change."""
    net = _long_delay_net()
    path = tmp_path / "net.yaml"
    net.save(str(path))
    build = tmp_path / "build"
    done = _snnc("compile", str(path), "-t", "reference", "-o", str(build))
    assert done.returncode == 0, done.stderr
    out = tmp_path / "spikes.npz"
    done = _snnc("run", str(build), "--steps", str(LONG_STEPS), "-o", str(out), "--ranks", "3")
    assert done.returncode == 0, done.stderr
    _assert_same_record(_spikes(out), simulate(net, LONG_STEPS, "float"))


def test_balanced_ranges_by_load():
    load = np.array([1, 1, 1, 1, 4, 4, 1, 1], float)  # prefix sums 0 1 2 3 4 8 12 13 14
    assert balanced_ranges(load, 2, np.arange(9)) == [(0, 5), (5, 8)]  # 8 is nearest to 14 / 2
    # cuts allowed only at 0, 4, 6, 8 (prefix 0, 4, 12, 14): 4 is nearer to 7 than 12
    assert balanced_ranges(load, 2, np.array([0, 4, 6, 8])) == [(0, 4), (4, 8)]
    # more ranks than cut points: each cut goes to the nearest allowed one (4.67 -> 0, 9.33 -> 14),
    # so ranks 0 and 2 own nothing (and still take part in every exchange)
    assert balanced_ranges(load, 3, np.array([0, 8])) == [(0, 0), (0, 8), (8, 8)]


def test_ranks_errors_are_one_line(w1_net, tmp_path):
    path, _ = w1_net
    out = tmp_path / "x.npz"
    for args, words in ((["-t", "loihi-sim", "--ranks", "2"], "--ranks runs reference"),
                        (["-t", "reference", "--ranks", "0"], "at least 1")):
        done = _snnc("run", str(path), "--steps", "5", "-o", str(out), *args)
        assert done.returncode == 2, done.stderr
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert not out.exists()


def _emu_net() -> Network:
    """Three LIF populations' worth of cores over several chips: 4 neurons per core, delays of
    1..39 ticks (past the 16 ring slots: delay-extension cores re-send the long ones)."""
    rng = np.random.default_rng(7)
    net = Network("emu_ranks")
    net.population("exc", 90, LIF(tau_mem=15.0, v_th=1.0, bias=0.02,
                                  v_init=rng.uniform(0, 1, 90)))
    net.population("inh", 30, LIF(tau_mem=10.0, tau_syn=3.0, v_th=1.0))
    net.source("drive", 40, poisson(60.0, seed=11))
    sizes = {"exc": 90, "inh": 30, "drive": 40}
    for pre, post, count, scale in (("drive", "exc", 500, 0.4), ("drive", "inh", 200, 0.5),
                                    ("exc", "exc", 900, 0.12), ("exc", "inh", 400, 0.3),
                                    ("inh", "exc", 400, -0.5), ("inh", "inh", 100, -0.2)):
        net.connect(pre, post, explicit(rng.integers(0, sizes[pre], count),
                                        rng.integers(0, sizes[post], count)),
                    weight=scale * rng.uniform(0.5, 1.5, count), delay=rng.integers(1, 40, count))
    return net


def test_emulator_chips_over_ranks_same_spikes_voltages_and_provenance(tmp_path):
    from snnc.backends.spinnaker_emu import SpinnakerEmuBackend
    from snnc.compiler import load_build

    path = tmp_path / "net.yaml"
    _emu_net().save(str(path))
    build = tmp_path / "build"
    done = _snnc("compile", str(path), "-t", "spinnaker-emu", "--max-neurons-per-core", "4",
                 "-o", str(build))
    assert done.returncode == 0, done.stderr
    backend = SpinnakerEmuBackend()
    expected = backend.run(load_build(str(build)), 150, record_v=("exc",))
    summary = backend.provenance["summary"]
    assert summary["chips_used"] >= 3 and expected.total > 500
    assert any(core["kind"] == "delay" for core in backend.provenance["cores"])
    want = json.loads(json.dumps(backend.provenance))
    for ranks in (1, 2, 3):
        out = tmp_path / f"r{ranks}" / "spikes.npz"
        out.parent.mkdir()
        done = _snnc("run", str(build), "--steps", "150", "-o", str(out), "--record-v", "exc",
                     "--ranks", str(ranks))
        assert done.returncode == 0, done.stderr
        _assert_same_record(_spikes(out), expected)
        got = json.loads((out.parent / "spikes.provenance.json").read_text())
        assert got == want  # every core's, router's and link's counters


def test_under_the_users_own_mpiexec(tmp_path):
    """``mpiexec -n 2 snnc run ...`` without --ranks (a cluster's launcher): the ranks find each
    other, rank 0 writes the one spikes file."""
    net = _long_delay_net()
    path = tmp_path / "net.yaml"
    net.save(str(path))
    out = tmp_path / "spikes.npz"
    mpiexec = str(Path(sys.executable).parent / "mpiexec")
    done = subprocess.run([mpiexec, "-n", "2", SNNC, "run", str(path), "-t", "reference",
                           "--steps", str(LONG_STEPS), "-o", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("2 ranks") == 1  # one summary line, from rank 0
    _assert_same_record(_spikes(out), simulate(net, LONG_STEPS, "float"))
