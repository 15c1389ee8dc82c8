"""An independent route checker: every packet reaches exactly the cores that need it.

It shares nothing with ``route.py`` but the artifact definitions: the wanted destinations are
recomputed from the network's synapses and the ``Partitioning`` alone, and packets are pushed
through the per-chip tables hop by hop as a SpiNNaker router would (first match wins; default route
straight on; a packet from a local core matching nothing is dropped). Granularity is the core, as on
the hardware: all neurons of a sending core share its multicast group, so every packet of core
``c`` must reach exactly the union of cores that hold a target of any neuron of ``c``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from snnc.ir import Network, expand

from ..artifacts import LINK_VECTORS, PROCESSOR_BIT0, Partitioning, Placement, Routing, delay_packet
from ..hardware import HardwareSpec


def expected_targets(net: Network, partition: Partitioning,
                     spec: HardwareSpec) -> dict[int, set[int]]:
    """Destination cores of each sending core, from the synapses (delay cores included)."""
    where = {name: partition.where(name, p.size)[0] for name, p in net.populations.items()}
    delay_of = {c.extends: c.id for c in partition.cores if c.kind == "delay"}
    wanted: dict[int, set[int]] = defaultdict(set)
    for projection in net.projections:
        synapses = expand(net, projection)
        src = where[projection.pre][synapses.pre]
        dst = where[projection.post][synapses.post]
        stage = ((synapses.delay.astype(np.int64) - 1) // spec.delay_slots if spec.delay_slots
                 else np.zeros(len(synapses), dtype=np.int64))
        for s, d, k in set(zip(src.tolist(), dst.tolist(), (stage > 0).tolist())):
            if s < 0:
                continue  # host-side source (Loihi)
            if k:
                wanted[s].add(delay_of[s])
                wanted[delay_of[s]].add(d)
            else:
                wanted[s].add(d)
    return wanted


def _packets(core_id: int, partition: Partitioning, routing: Routing) -> list[int]:
    core = partition.cores[core_id]
    base, _ = routing.keys[core_id]
    if core.kind != "delay":
        return [base | i for i in range(core.neurons)]
    bits = routing.neuron_bits[core_id]
    return [delay_packet(base, s, i, bits) for s in routing.delay_stages[core_id]
            for i in range(core.neurons)]


def _lookup(routing: Routing, chip: tuple[int, int], packet: int) -> int | None:
    table = routing.tables.get(chip)
    if table is None or len(table) == 0:
        return None
    hits = np.flatnonzero((np.uint32(packet) & table.masks) == table.keys)
    return int(table.routes[hits[0]]) if hits.size else None


def machine_of(placement: Placement, spec: HardwareSpec):
    """(the machine's chips, the core at each (x, y, p)): what ``deliver`` looks up per hop."""
    return set(spec.chips()), {loc: core for core, loc in placement.location.items()}


def deliver(packet: int, chip: tuple[int, int], routing: Routing, placement: Placement,
            spec: HardwareSpec, machine=None) -> tuple[list[int], list[str]]:
    """Cores a packet sent from ``chip`` reaches (with repeats), and problems met on the way.

    ``machine`` is ``machine_of(placement, spec)``, computed here when not given.
    """
    chips, core_at = machine if machine is not None else machine_of(placement, spec)
    reached: list[int] = []
    problems: list[str] = []
    queue: list[tuple[tuple[int, int], int | None]] = [(chip, None)]
    hops = 0
    while queue:
        here, arrival = queue.pop()
        hops += 1
        if hops > 64 * len(chips):
            return reached, problems + [f"packet {packet:#x} loops"]
        route = _lookup(routing, here, packet)
        if route is None:
            if arrival is None:
                problems.append(f"packet {packet:#x} dropped at chip {here}: no entry")
                continue
            route = 1 << ((arrival + 3) % 6)
        for p in range(32 - PROCESSOR_BIT0):
            if route >> (PROCESSOR_BIT0 + p) & 1:
                if (here[0], here[1], p) not in core_at:
                    problems.append(f"packet {packet:#x} sent to empty processor {here},{p}")
                else:
                    reached.append(core_at[(here[0], here[1], p)])
        for link in range(6):
            if route >> link & 1:
                x, y = here[0] + LINK_VECTORS[link][0], here[1] + LINK_VECTORS[link][1]
                if spec.wrap:
                    x, y = x % spec.chips_x, y % spec.chips_y
                if (x, y) not in chips:
                    problems.append(f"packet {packet:#x} leaves the machine at {here} link {link}")
                    continue
                queue.append(((x, y), (link + 3) % 6))
    return reached, problems


def check_routes(net: Network, partition: Partitioning, placement: Placement, routing: Routing,
                 spec: HardwareSpec) -> list[str]:
    """Every problem found (empty when routing is right)."""
    wanted = expected_targets(net, partition, spec)
    problems = _check_keys(partition, routing)
    machine = machine_of(placement, spec)
    for core_id in sorted(wanted):
        if spec.family != "spinnaker":
            if set(routing.targets.get(core_id, ())) != wanted[core_id]:
                problems.append(f"core {core_id}: targets {sorted(routing.targets.get(core_id, ()))}"
                                f" != wanted {sorted(wanted[core_id])}")
            continue
        chip = placement.chip(core_id)
        for packet in _packets(core_id, partition, routing):
            reached, trouble = deliver(packet, chip, routing, placement, spec, machine)
            problems += [f"core {core_id}: {t}" for t in trouble]
            if len(reached) != len(set(reached)):
                problems.append(f"core {core_id}: packet {packet:#x} delivered twice")
            if set(reached) != wanted[core_id]:
                problems.append(f"core {core_id}: packet {packet:#x} reaches {sorted(set(reached))}"
                                f", wanted {sorted(wanted[core_id])}")
    return problems


def _check_keys(partition: Partitioning, routing: Routing) -> list[str]:
    """Key ranges of sending cores must not overlap, and each core's packets fit its mask."""
    problems = []
    spans = sorted((base, base + ((~mask) & 0xFFFFFFFF), core)
                   for core, (base, mask) in routing.keys.items())
    for (_, a1, ca), (b0, _, cb) in zip(spans, spans[1:]):
        if b0 <= a1:
            problems.append(f"key ranges of cores {ca} and {cb} overlap")
    for core in partition.cores:
        base, mask = routing.keys[core.id]
        if any((p & mask) != base for p in _packets(core.id, partition, routing)):
            problems.append(f"core {core.id}: a packet falls outside its key range")
    return problems
