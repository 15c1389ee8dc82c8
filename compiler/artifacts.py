"""The compiler's stage artifacts: what partitioning, placement and routing produce.

Every backend that maps onto cores (``spinnaker-emu``, ``loihi-sim``'s grouping) reads these; they
are frozen dataclasses passed explicitly from stage to stage (no global state, unlike PACMAN's
``PacmanDataView``).

Neuron numbering
----------------
A ``Core`` holds ``slices``; its *local* neuron index runs over the slices in order (slice 0's
neurons first). ``Partitioning.where(population, size)`` gives each neuron's core and local index.

Keys and packets (``Routing.keys``)
-----------------------------------
Each core that sends spikes (kind ``neuron``, ``source`` or ``delay``) owns a key range
``(base_key, mask)``: ``base_key`` has zeros in the low ``neuron_bits`` bits and
``mask = 0xFFFFFFFF << neuron_bits`` (uint32). The packet of local neuron ``i`` of a ``neuron`` or
``source`` core is ``base_key | i``.

Routing tables (``Routing.tables``)
-----------------------------------
``tables[(x, y)]`` is ordered and FIRST MATCH WINS (``packet & mask == key``). Route bits 0..5 are
the links E, NE, N, W, SW, S with chip vectors (+1,0), (+1,+1), (0,+1), (-1,0), (-1,-1), (0,-1);
bit ``6 + p`` delivers to processor ``p`` of that chip. Default routing: a packet that arrived on
link L and matches no entry leaves on link (L + 3) mod 6; a packet from a local core that matches
no entry is dropped (an error). Tables exist for ``spinnaker`` hardware only: on Loihi a core's
output axons name their destination cores directly (no chip tables), so ``tables`` is empty there
and ``Routing.targets`` is the whole routing.

Delay-extension cores (SpiNNaker; scheme of sPyNNaker's ``DelayExtensionVertex``)
--------------------------------------------------------------------------------
The hardware has ``slots = HardwareSpec.delay_slots`` in-core delay steps. A synapse of delay ``d``
(steps, ``d >= 1``) has stage ``s = (d - 1) // slots`` (sPyNNaker ``synapse_io.py``):

* ``s == 0``: the source core's packet ``base | i`` reaches the target core, which adds the weight
  into its ring buffer ``d`` steps after the spike (in-core delay ``d``).
* ``s >= 1`` (at most ``HardwareSpec.delay_stages``, i.e. ``d <= (1 + stages) * slots``): the
  source core's packet also goes to its delay core (``Core(kind="delay", extends=source core id)``,
  same slices as the source core). That core re-emits, ``s * slots`` steps after the spike, the
  packet ``delay_packet(base_D, s, i, neuron_bits_D) = base_D | ((s - 1) << neuron_bits_D) | i``
  where ``(base_D, mask_D) = Routing.keys[D]`` and ``neuron_bits_D = Routing.neuron_bits[D]``;
  ``mask_D`` covers the stage bits too. A target core receiving stage ``s`` of neuron ``i`` adds
  the synapse's weight with the remaining in-core delay ``d - s * slots`` (in ``1..slots``), so the
  input arrives at step ``t + d`` exactly (docs/describe-a-network.md, "Time").
* A delay core emits one packet per spike for every stage that has at least one synapse
  (``Routing.delay_stages[D]`` lists them), and its routes reach every core that has a synapse of
  any stage >= 1 from that source core (as sPyNNaker routes one key space per delay vertex).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from snnc.ir import Network

    from .hardware import HardwareSpec

CoreKind = Literal["neuron", "source", "delay"]

# Route word layout (SpiNNaker's router): 6 link bits, then one bit per processor.
LINK_NAMES = ("E", "NE", "N", "W", "SW", "S")
LINK_VECTORS = ((1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1))
N_LINKS = 6
PROCESSOR_BIT0 = 6


def link_bit(link: int) -> int:
    """Route bit of link ``link`` (0..5)."""
    return 1 << link


def processor_bit(p: int) -> int:
    """Route bit that delivers to processor ``p`` of the chip."""
    return 1 << (PROCESSOR_BIT0 + p)


def delay_packet(base: int, stage: int, local: int, neuron_bits: int) -> int:
    """Packet a delay core emits for stage ``stage`` (>= 1) of its local neuron ``local``."""
    return base | ((stage - 1) << neuron_bits) | local


@dataclass(frozen=True)
class CoreSlice:
    """Neurons ``start .. stop-1`` of ``population``."""

    population: str
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Core:
    """One core's contents. ``extends`` is the source core id of a ``delay`` core (else None)."""

    id: int
    kind: CoreKind
    slices: tuple[CoreSlice, ...]
    extends: int | None = None

    @property
    def neurons(self) -> int:
        return sum(s.size for s in self.slices)


@dataclass(frozen=True)
class Partitioning:
    """Cores (ids 0..n-1, in order) and what the partitioner knew about them."""

    cores: tuple[Core, ...]
    strategy: str = "greedy"
    lower_bound: int = 0  # fewest neuron cores any partition could use (resource totals / limits)
    traffic_cut: float = 0.0  # estimated spike packets per step that leave their core

    def where(self, population: str, size: int) -> tuple[np.ndarray, np.ndarray]:
        """For each neuron of ``population``: (core id, local index) as int32 arrays (-1 if none).

        Delay cores are skipped: they copy their source core's slices.
        """
        core = np.full(size, -1, dtype=np.int32)
        local = np.full(size, -1, dtype=np.int32)
        for c in self.cores:
            if c.kind == "delay":
                continue
            offset = 0
            for piece in c.slices:
                if piece.population == population:
                    core[piece.start:piece.stop] = c.id
                    local[piece.start:piece.stop] = np.arange(offset, offset + piece.size)
                offset += piece.size
        return core, local


@dataclass(frozen=True)
class Placement:
    """``location[core_id] = (x, y, p)``: chip coordinates and processor number on that chip."""

    location: dict[int, tuple[int, int, int]]

    def chip(self, core_id: int) -> tuple[int, int]:
        x, y, _ = self.location[core_id]
        return x, y


@dataclass(frozen=True, eq=False)
class RoutingTable:
    """One chip's multicast table (uint32 arrays, ordered, first match wins)."""

    keys: np.ndarray
    masks: np.ndarray
    routes: np.ndarray

    def __len__(self) -> int:
        return int(self.keys.size)


@dataclass(frozen=True, eq=False)
class Routing:
    """Keys per sending core, per-chip tables, and the wanted destinations the router achieves.

    ``targets[core_id]`` is the sorted tuple of core ids that must receive that core's packets (its
    multicast group); the independent route checker compares what the tables deliver with it.
    ``entries_raw[(x, y)]`` counts a chip's entries before default-route elision and compression.
    """

    keys: dict[int, tuple[int, int]]
    tables: dict[tuple[int, int], RoutingTable]
    neuron_bits: dict[int, int] = field(default_factory=dict)
    targets: dict[int, tuple[int, ...]] = field(default_factory=dict)
    delay_stages: dict[int, tuple[int, ...]] = field(default_factory=dict)
    entries_raw: dict[tuple[int, int], int] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class CompiledBuild:
    """Everything ``snnc compile`` produces; ``network`` is the QUANTIZED network every backend runs."""

    target: str
    hardware: "HardwareSpec"
    network: "Network"
    quantization: Any  # QuantizationReport | None (None for the reference target)
    partition: Partitioning
    placement: Placement
    routing: Routing
    report: Any  # ResourceReport
    timings: dict[str, float] = field(default_factory=dict)
