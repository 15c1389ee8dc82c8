"""Small builds made by hand (partition, placement, keys, tables written out) for the emulator tests.

They do not need the compiler: each is a handful of cores on two or three chips, so the expected
packets, routes and costs can be counted by hand.
"""

from __future__ import annotations

import numpy as np

from snnc.compiler.artifacts import (CompiledBuild, Core, CoreSlice, Partitioning, Placement,
                                     Routing, RoutingTable, link_bit, processor_bit)
from snnc.compiler.hardware import load_hardware
from snnc.ir import Network, explicit, spike_times
from snnc.ir.neurons import SpinnakerLIF

ONE = 1 << 15  # 1.0 in s16.15
MASK8 = 0xFFFFFF00


def lif(**overrides) -> SpinnakerLIF:
    """A delta-synapse LIF without leak: V += (W << shift) each tick, threshold 1.0."""
    params = dict(v_thresh=ONE, exp_tc=0, r_membrane=ONE, synapse="delta",
                  weight_shift_exc=5, weight_shift_inh=5)
    params.update(overrides)
    return SpinnakerLIF(**params)


def table(*entries: tuple[int, int, int]) -> RoutingTable:
    keys, masks, routes = (np.array(col, dtype=np.uint32) for col in zip(*entries))
    return RoutingTable(keys, masks, routes)


def two_chip_build(weights=(1024, 1024), delays=(1, 1), times=(0, 2), ids=(0, 1),
                   hid_size: int = 2) -> CompiledBuild:
    """inp (2 sources, core 0 on chip (0,0) processor 0) -> hid (core 1 on chip (1,0) processor 3).

    inp[k] -> hid[k] with ``weights[k]`` (raw 16-bit; negative = inhibitory) and ``delays[k]``.
    Tables: chip (0,0) sends inp's keys East; chip (1,0) delivers them to processor 3; hid's own
    keys match an entry with an empty route (they go nowhere, nothing is dropped).
    """
    net = Network("two_chip", dt=1.0)
    net.source("inp", 2, spike_times(times=list(times), ids=list(ids)))
    net.population("hid", hid_size, lif())
    net.connect("inp", "hid", explicit([0, 1], [0, 1]), weight=np.array(weights),
                delay=np.array(delays))
    cores = (Core(0, "source", (CoreSlice("inp", 0, 2),)),
             Core(1, "neuron", (CoreSlice("hid", 0, hid_size),)))
    placement = Placement({0: (0, 0, 0), 1: (1, 0, 3)})
    routing = Routing(
        keys={0: (0x000, MASK8), 1: (0x100, MASK8)},
        tables={(0, 0): table((0x000, MASK8, link_bit(0))),
                (1, 0): table((0x000, MASK8, processor_bit(3)), (0x100, MASK8, 0))},
        neuron_bits={0: 8, 1: 8}, targets={0: (1,), 1: ()})
    return CompiledBuild("spinnaker-emu", load_hardware("spinnaker1"), net, None,
                         Partitioning(cores), placement, routing, None)


def delayed_build(delay: int = 40, stage_list=(1,)) -> CompiledBuild:
    """inp (1 source) -> hid (1 neuron) with one synapse of ``delay`` > 32 slots: a delay core.

    Core 0 = inp on (0,0) p0, core 2 = its delay core on (0,0) p1 (keys 0x800, stage bits 8..10),
    core 1 = hid on (1,0) p3. Chip (0,0) sends inp's key to processor 1 only, the delay core's keys
    East; chip (1,0) delivers the delay core's keys to processor 3.
    """
    net = Network("delayed", dt=1.0)
    net.source("inp", 1, spike_times(times=[0, 5], ids=[0, 0]))
    net.population("hid", 1, lif())
    net.connect("inp", "hid", explicit([0], [0]), weight=1024, delay=delay)
    cores = (Core(0, "source", (CoreSlice("inp", 0, 1),)),
             Core(1, "neuron", (CoreSlice("hid", 0, 1),)),
             Core(2, "delay", (CoreSlice("inp", 0, 1),), extends=0))
    placement = Placement({0: (0, 0, 0), 1: (1, 0, 3), 2: (0, 0, 1)})
    mask11 = 0xFFFFF800
    routing = Routing(
        keys={0: (0x000, MASK8), 1: (0x100, MASK8), 2: (0x800, mask11)},
        tables={(0, 0): table((0x000, MASK8, processor_bit(1)), (0x800, mask11, link_bit(0))),
                (1, 0): table((0x800, mask11, processor_bit(3)), (0x100, MASK8, 0))},
        neuron_bits={0: 8, 1: 8, 2: 8}, targets={0: (2,), 1: (), 2: (1,)},
        delay_stages={2: tuple(stage_list)})
    return CompiledBuild("spinnaker-emu", load_hardware("spinnaker1"), net, None,
                         Partitioning(cores), placement, routing, None)
