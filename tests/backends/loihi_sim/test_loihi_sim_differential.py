"""loihi-sim (Lava 0.10, fixed_pt) against the reference's ``loihi`` numerics, spike for spike.

Every example packs 10 random sub-networks into one network, compiles it for loihi-sim with at most
4 neurons per core (so populations split over several cores) and runs the build in ONE Lava run
(see ``loihi_nets``): 10 examples check 100 random networks, with 0 divergences allowed.
"""

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from loihi_nets import packed_network

from snnc.backends import first_divergence, get_backend
from snnc.backends.loihi_sim import LoihiSimBackend
from snnc.backends.reference import simulate
from snnc.compiler import compile_network
from snnc.ir import LoihiLIF, Network, explicit, spike_times

STEPS = 90  # > 64: the longest delays deliver inside the run
PER_RUN = 10
DATA = Path(__file__).resolve().parents[2] / "data"


def _assert_same(source, steps: int, **backend_options) -> None:
    """The backend on ``source`` (a network or a build) vs the reference on the same network."""
    net = source if isinstance(source, Network) else source.network
    expected = simulate(net, steps, "loihi")
    got = LoihiSimBackend(**backend_options).run(source, steps)
    divergence = first_divergence(expected, got)
    assert divergence is None, f"{divergence} (expected {expected.total} spikes, got {got.total})"
    neurons = [p.name for p in net.neuron_populations()]
    assert set(neurons) <= set(got.spikes)
    assert sum(got.spikes[n][0].size for n in neurons) > 0  # the check is not vacuous


@settings(max_examples=10, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 2**31 - 1), min_size=PER_RUN, max_size=PER_RUN, unique=True))
def test_random_compiled_networks_match_reference(seeds):
    net = packed_network(seeds)
    build = compile_network(net, "loihi-sim", max_neurons_per_core=4)
    assert len(build.partition.cores) > len(list(net.neuron_populations()))  # slices on cores
    _assert_same(build, STEPS)


def test_lavas_own_delay_model_gives_the_same_spikes():
    # The backend caches DelaySparse's per-delay matrix; Lava's stock model must agree exactly.
    _assert_same(packed_network([11, 12, 13]), 70, stock_models=True)


def test_nir_single_lif_benchmark_matches_lavas_csv():
    """The NIR paper's Lava run (du=4095, dv=163, vth=25, weight 10): spikes and raw v per step."""
    rows = np.loadtxt(DATA / "lif_lava_cpu_fixed.csv", delimiter=",")
    times = np.flatnonzero(rows[:, 0])
    net = Network("nir_lif", dt=0.1)
    net.source("inp", 1, spike_times(times, np.zeros_like(times)))
    net.population("out", 1, LoihiLIF(du=4095, dv=163, vth=25))
    net.connect("inp", "out", explicit([0], [0]), weight=10, delay=1)
    record = get_backend("loihi-sim").run(net, 1000, record_v=["out"])
    assert record.spikes["out"][0].tolist() == [461, 511, 711, 761]
    assert np.array_equal(record.voltages["out"][:, 0], rows[:, 1].astype(np.int64))
