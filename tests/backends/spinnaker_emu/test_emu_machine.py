"""The emulated machine on hand-made builds: spikes, routes and provenance counted by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from emu_handmade import MASK8, delayed_build, link_bit, processor_bit, table, two_chip_build

from snnc.backends.spinnaker_emu import CostModel, EmuMachine, SpinnakerEmuBackend


def run(build, steps=8, **kw):
    backend = SpinnakerEmuBackend()
    record = backend.run(build, steps, **kw)
    return record, backend.provenance


def spikes(record, pop="hid"):
    times, ids = record.spikes[pop]
    return list(zip(times.tolist(), ids.tolist()))


def with_tables(build, **tables):
    """The build with some chips' tables replaced (keys 'x_y')."""
    new = dict(build.routing.tables)
    for name, t in tables.items():
        x, y = (int(v) for v in name.split("_"))
        new[(x, y)] = t
    return dataclasses.replace(build, routing=dataclasses.replace(build.routing, tables=new))


def test_spike_arrives_after_its_delay():
    # weight 1024 << shift 5 = 1.0 = threshold: each input spike makes hid[k] fire d steps later.
    record, _ = run(two_chip_build(delays=(1, 3)))
    assert spikes(record) == [(1, 0), (5, 1)]


def test_provenance_counts_by_hand():
    record, prov = run(two_chip_build(), steps=6)
    assert spikes(record) == [(1, 0), (3, 1)]
    src, hid = prov["cores"]
    assert (src["packets_sent"], src["packets_received"]) == (2, 0)
    # hid has no outgoing projection (no routing partition): like sPyNNaker it sends nothing.
    assert (hid["packets_sent"], hid["packets_received"], hid["synaptic_events"]) == (0, 2, 2)
    routers = {tuple(r["chip"]): r for r in prov["routers"]}
    assert routers[(0, 0)]["packets"] == 2 and routers[(1, 0)]["packets"] == 2
    assert routers[(0, 0)]["peak_packets_per_tick"] == 1
    assert [(tuple(r["chip"]), r["link"], r["packets"]) for r in prov["links"]] == [((0, 0), "E", 2)]
    # Cost model: hid core = 1000 + 100*2 static; +120+15 in ticks 0 and 2 (a packet with one
    # synapse) -> max 1335, mean (2*1335 + 4*1200)/6.
    assert hid["cycles_max"] == 1335
    assert hid["cycles_mean"] == pytest.approx(7470 / 6, abs=0.05)
    assert hid["cpu_load_max"] == pytest.approx(1335 / 200_000, abs=1e-4)
    assert src["cycles_max"] == 1000 + 20 * 2 + 20
    assert prov["summary"]["tick_overruns"] == 0 and prov["summary"]["dropped_packets"] == 0


def test_peaks_count_packets_of_one_tick():
    # Both sources fire at tick 0 and 2: router (0,0) sees 2 packets in each of those ticks.
    _, prov = run(two_chip_build(times=(0, 0, 2, 2), ids=(0, 1, 0, 1)), steps=6)
    routers = {tuple(r["chip"]): r for r in prov["routers"]}
    assert routers[(0, 0)]["packets"] == 4 and routers[(0, 0)]["peak_packets_per_tick"] == 2
    assert prov["links"][0]["peak_packets_per_tick"] == 2
    assert prov["cores"][1]["max_packets_received_per_tick"] == 2


def test_cost_model_formula_and_overruns():
    cost = CostModel(neuron_update=100_000)  # 2 neurons -> 201,000 cycles > 200,000 every tick
    assert cost.budget(1.0) == 200_000 and cost.budget(0.1) == 20_000
    assert cost.tick_cycles(cost.static_cycles("neuron", 2), 3, 7, 1) == 1000 + 200_000 + 360 + 105 + 20
    _, prov = run(two_chip_build(), steps=6, cost=cost)
    hid = prov["cores"][1]
    assert hid["tick_overruns"] == 6 and hid["late_packets"] == 2
    assert prov["summary"]["real_time"] is False


def test_ring_buffer_saturates_and_counts():
    # Both inputs hit hid[0] in the same slot with 0xFFFF each: one saturating add.
    build = two_chip_build(weights=(0xFFFF, 0xFFFF), times=(0, 0))
    build = dataclasses.replace(build, network=_both_to_zero(build.network))
    _, prov = run(build, steps=4)
    assert prov["cores"][1]["ring_buffer_saturations"] == 1


def _both_to_zero(net):
    from snnc.ir import Network, explicit

    new = Network("sat", dt=1.0)
    for pop in net.populations.values():
        new.populations[pop.name] = pop
    new.connect("inp", "hid", explicit([0, 1], [0, 0]), weight=0xFFFF, delay=1)
    return new


def test_default_route_goes_straight_on():
    # (0,0) sends East; (1,0) has no entry for inp: default route (arrived on W) leaves East;
    # (2,0) delivers. hid now sits on (2,0).
    build = two_chip_build()
    build = dataclasses.replace(build, placement=dataclasses.replace(
        build.placement, location={0: (0, 0, 0), 1: (2, 0, 3)}))
    build = with_tables(build, **{"1_0": table((0x100, MASK8, 0)),
                                  "2_0": table((0x000, MASK8, processor_bit(3)),
                                               (0x100, MASK8, 0))})
    record, prov = run(build, steps=6)
    assert spikes(record) == [(1, 0), (3, 1)]
    routers = {tuple(r["chip"]): r for r in prov["routers"]}
    assert routers[(1, 0)]["default_routed"] == 2
    links = {(tuple(r["chip"]), r["link"]): r["packets"] for r in prov["links"]}
    assert links == {((0, 0), "E"): 2, ((1, 0), "E"): 2}


def test_corrupted_routing_entry_loses_spikes():
    # The entry on (1,0) now delivers to processor 4, where no core runs: packets dropped there.
    build = with_tables(two_chip_build(), **{"1_0": table((0x000, MASK8, processor_bit(4)),
                                                          (0x100, MASK8, 0))})
    record, prov = run(build, steps=6)
    assert spikes(record) == []
    assert prov["summary"]["dropped_packets"] == 2


def test_unmatched_local_packet_is_dropped():
    build = with_tables(two_chip_build(), **{"0_0": table((0x100, MASK8, link_bit(0)))})
    record, prov = run(build, steps=6)
    assert spikes(record) == []
    routers = {tuple(r["chip"]): r for r in prov["routers"]}
    assert routers[(0, 0)]["dropped"] == 2


def test_packet_to_a_core_without_entry_is_a_failed_lookup():
    # (1,0) delivers inp's packets to hid (processor 3) and to the source core's twin? No: we add
    # a delivery back to processor 0 of (0,0) (the source core, which has no synaptic rows).
    build = with_tables(two_chip_build(), **{"0_0": table((0x000, MASK8,
                                                           link_bit(0) | processor_bit(0)))})
    record, prov = run(build, steps=6)
    assert spikes(record) == [(1, 0), (3, 1)]
    assert prov["cores"][0]["failed_lookups"] == 2


def test_corrupted_synaptic_row_changes_spikes():
    machine = EmuMachine(two_chip_build())
    words = machine.rows.words.astype(np.int64)
    machine.rows.words[:] = ((words >> 17) << 16) | (words & 0xFFFF)  # half the weight
    record, _ = run(machine, steps=6)
    assert spikes(record) == []


def test_delay_core_resends_after_its_stage():
    # delay 40 = stage 1 (32 steps on the delay core) + 8 in-core steps.
    record, prov = run(delayed_build(40), steps=50)
    assert spikes(record) == [(40, 0), (45, 0)]
    cores = {c["id"]: c for c in prov["cores"]}
    assert cores[2]["packets_received"] == 2 and cores[2]["packets_sent"] == 2
    assert cores[1]["packets_received"] == 2


def test_delay_core_without_the_stage_sends_nothing():
    record, _ = run(delayed_build(40, stage_list=()), steps=50)
    assert spikes(record) == []


def test_provenance_file_is_deterministic(tmp_path):
    from snnc.backends.spinnaker_emu import save

    _, prov_a = run(two_chip_build())
    _, prov_b = run(two_chip_build())
    save(prov_a, tmp_path / "a.json")
    save(prov_b, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


@pytest.mark.parametrize("build", [
    two_chip_build(weights=(700, -300), delays=(2, 7), times=(0, 1, 4, 4, 9), ids=(0, 1, 0, 1, 1)),
    delayed_build(40), delayed_build(64), delayed_build(65, stage_list=(2,)),
], ids=["two_chip", "delay40", "delay64", "delay65"])
def test_hand_made_builds_match_the_reference(build):
    from snnc.backends import first_divergence
    from snnc.backends.reference import simulate

    record, _ = run(build, steps=80, record_v=["hid"])
    expected = simulate(build.network, 80, "spinnaker", record_v=["hid"])
    assert first_divergence(expected, record) is None
    assert np.array_equal(expected.voltages["hid"], record.voltages["hid"])


def test_zero_steps_and_wrong_target():
    from snnc.ir.errors import UnsupportedOnTarget

    record, prov = run(two_chip_build(), steps=0)
    assert record.total == 0 and prov["summary"]["packets_sent"] == 0
    with pytest.raises(UnsupportedOnTarget, match="compiled for 'loihi-sim'"):
        run(dataclasses.replace(two_chip_build(), target="loihi-sim"))
