"""Differential tests: compiled random networks on the emulator = the reference's spinnaker numerics.

100 seeded random networks (emu_random.py) are compiled for spinnaker-emu with small cores so that
they span many cores and several chips; delays go beyond the 32 in-core slots (delay cores), weights
are excitatory and inhibitory and up to 16 bits (ring buffers saturate). Every run must give the
reference's spikes exactly, with no dropped packet and no failed lookup. A corrupted routing entry
or synaptic row must make them differ.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from emu_random import random_lif_network, random_network

from snnc.backends import first_divergence
from snnc.backends.reference import simulate
from snnc.backends.spinnaker_emu import SpinnakerEmuBackend
from snnc.compiler import compile_network

STEPS = 120
SEEDS = range(100)
CHUNK = 10
CORE_SIZES = (2, 3, 5)


def compiled(seed: int):
    net = random_network(seed, steps=STEPS)
    return compile_network(net, "spinnaker-emu",
                           max_neurons_per_core=CORE_SIZES[seed % len(CORE_SIZES)])


def emulate(build, steps=STEPS):
    backend = SpinnakerEmuBackend()
    return backend.run(build, steps), backend.provenance


def features(build, prov) -> dict[str, int]:
    chips = {loc[:2] for loc in build.placement.location.values()}
    return {"multi_chip": int(len(chips) > 1),
            "delay_cores": sum(c.kind == "delay" for c in build.partition.cores),
            "saturations": prov["summary"]["ring_buffer_saturations"],
            "links": len(prov["links"]),
            "spikes": prov["summary"]["packets_sent"]}


COVERAGE: dict[str, int] = {}


@pytest.mark.parametrize("first", range(SEEDS.start, SEEDS.stop, CHUNK))
def test_random_compiled_networks_match_the_reference(first):
    seen = {"multi_chip": 0, "delay_cores": 0, "saturations": 0, "links": 0, "spikes": 0}
    for seed in range(first, first + CHUNK):
        build = compiled(seed)
        got, prov = emulate(build)
        expected = simulate(build.network, STEPS, "spinnaker")
        divergence = first_divergence(expected, got)
        assert divergence is None, f"seed {seed}: {divergence}"
        assert prov["summary"]["dropped_packets"] == 0, f"seed {seed}"
        assert prov["summary"]["failed_lookups"] == 0, f"seed {seed}"
        for key, value in features(build, prov).items():
            seen[key] += int(value > 0)
    # Each chunk of ten exercises what the tests are for (not only silent one-chip networks).
    assert seen["multi_chip"] >= 3 and seen["links"] >= 3, seen
    assert seen["delay_cores"] >= 3, seen
    assert seen["spikes"] >= 8, seen


@pytest.mark.parametrize("seed", range(0, 20, 5))
def test_quantized_lif_networks_match_the_reference(seed):
    # float lif populations, quantized to spinnaker_lif by the compiler (5 networks per case)
    for k in range(seed, seed + 5):
        build = compile_network(random_lif_network(k, steps=STEPS), "spinnaker-emu",
                                max_neurons_per_core=4)
        got, prov = emulate(build)
        assert first_divergence(simulate(build.network, STEPS, "spinnaker"), got) is None, k
        assert prov["summary"]["dropped_packets"] == 0


def test_saturating_ring_buffers_are_exercised_and_match():
    hits = 0
    for seed in SEEDS:
        net = random_network(seed, steps=STEPS)
        if not any(np.abs(np.asarray(p.weight)).max(initial=0) >= 0xF000
                   for p in net.projections):
            continue
        build = compile_network(net, "spinnaker-emu", max_neurons_per_core=8)
        got, prov = emulate(build)
        hits += prov["summary"]["ring_buffer_saturations"] > 0
        assert first_divergence(simulate(build.network, STEPS, "spinnaker"), got) is None
        if hits >= 3:
            break
    assert hits >= 3


def _busy_build():
    """A compiled random network whose spikes cross chips (to corrupt it)."""
    for seed in SEEDS:
        build = compiled(seed)
        got, prov = emulate(build)
        if len(prov["links"]) and prov["summary"]["packets_received"] > 50:
            return build
    raise AssertionError("no multi-chip random network with traffic")


def test_corrupted_routing_entry_gives_a_divergence():
    build = _busy_build()
    expected = simulate(build.network, STEPS, "spinnaker")
    # Clear the processor bits of every entry of the busiest router: its cores get nothing.
    _, prov = emulate(build)
    busiest = max(prov["routers"], key=lambda r: r["packets"])["chip"]
    chip = tuple(busiest)
    old = build.routing.tables[chip]
    routes = old.routes & np.uint32(0x3F)
    bad_table = dataclasses.replace(old, routes=routes)
    tables = {**build.routing.tables, chip: bad_table}
    bad = dataclasses.replace(build, routing=dataclasses.replace(build.routing, tables=tables))
    got, bad_prov = emulate(bad)
    assert first_divergence(expected, got) is not None
    assert bad_prov["summary"]["packets_received"] < prov["summary"]["packets_received"]


def test_corrupted_synaptic_row_gives_a_divergence():
    build = _busy_build()
    expected = simulate(build.network, STEPS, "spinnaker")
    backend = SpinnakerEmuBackend()
    machine = backend.load(build)
    words = machine.rows.words.astype(np.int64)
    machine.rows.words[:] = (words & 0xFFFF) | (0xFFFF << 16)  # every weight set to 0xFFFF
    got = backend.run(machine, STEPS)
    divergence = first_divergence(expected, got)
    assert divergence is not None
    assert "first divergence: population" in str(divergence)


def test_delays_at_every_stage_boundary_arrive_on_time():
    # One source spike at t = 0 to one neuron per delay; each weight alone crosses threshold, so
    # neuron k fires exactly at step DELAYS[k] (in-core, delay core stages 1, 2 and the last, 8).
    from emu_handmade import lif

    from snnc.ir import Network, explicit, spike_times

    delays = [1, 31, 32, 33, 64, 65, 200, 287, 288]
    net = Network("stages", dt=1.0)
    net.source("inp", 1, spike_times(times=[0], ids=[0]))
    net.population("out", len(delays), lif())
    net.connect("inp", "out", explicit([0] * len(delays), range(len(delays))), weight=1024,
                delay=np.array(delays))
    build = compile_network(net, "spinnaker-emu")
    stages = sorted({s for d in build.routing.delay_stages.values() for s in d})
    assert stages == [1, 2, 6, 8]
    got, prov = emulate(build, steps=300)
    times, ids = got.spikes["out"]
    assert dict(zip(ids.tolist(), times.tolist())) == dict(enumerate(delays))
    assert first_divergence(simulate(build.network, 300, "spinnaker"), got) is None
    delay_core = next(c for c in prov["cores"] if c["kind"] == "delay")
    assert delay_core["packets_received"] == 1 and delay_core["packets_sent"] == 4


def test_pop_table_binary_search_equals_a_linear_first_match():
    from snnc.backends.spinnaker_emu import EmuMachine
    from snnc.backends.spinnaker_emu import loader

    build = compiled(7)
    machine = EmuMachine(build)
    ptr, target = machine.packets.delivered
    n_cores = len(build.partition.cores)
    eptr, ekey, emask, eblock, disjoint = loader._pop_tables(build, machine.rows, n_cores)
    assert disjoint.all()  # compiled key blocks never overlap
    keys = np.repeat(machine.packets.key.astype(np.int64), np.diff(ptr))
    results = []
    for flags in (disjoint, np.zeros_like(disjoint)):
        kind = np.full(target.size, loader.DELIVER_MISS, np.int64)
        row = np.full(target.size, -1, np.int64)
        zeros = np.zeros(n_cores, np.int64)
        core_kind = np.array([loader.KIND_CODE[c.kind] for c in build.partition.cores])
        loader._lookup_kernel(target, keys, np.where(core_kind == 2, 1, core_kind), eptr, ekey,
                              emask, eblock, flags,
                              (machine.rows.block << 40) | (machine.rows.index << 20)
                              | machine.rows.core, zeros, zeros, zeros, zeros, kind, row)
        results.append((kind, row))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])
    assert (results[0][0] == loader.DELIVER_ROW).sum() > 100
