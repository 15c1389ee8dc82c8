r"""The rules of planning-only chips (``family: planning``): what their cores cannot hold.

No backend runs these chips: ``snnc compile --target reference --hardware NAME`` partitions the
network (``partition.py``), then this module checks the rules of the spec's ``core_model``
(docs/hardware-specs.md) and returns one report line per broken rule, each naming the core or
population, the need against what the chip has, and a fix. Every planning chip also checks its
``max_delay`` (the reference target itself runs any delay).

``crossbar`` (TrueNorth; Merolla et al. 2014, Cassidy et al. 2013). A core is a 0/1 matrix of
``axons_per_core`` x ``neurons_per_core``; an axon carries one pre neuron at one delay and has one
of ``axon_types`` types; neuron :math:`j` adds :math:`s_j[G_i]` when axon :math:`i` (of type
:math:`G_i`) spikes and the crossbar bit :math:`w_{ij}` is set:

.. math::

    V_j \mathrel{+}= \sum_i w_{ij} \, s_j[G_i], \qquad w_{ij} \in \{0, 1\}

so the weights one neuron sees take at most ``axon_types`` distinct values, every axon's weights
must agree with its type's value at every neuron it reaches, and a (pre, post, delay) pair has at
most one synapse. A neuron's spike addresses ``targets_per_neuron`` (core, delay) destinations.
Axon types are assigned greedily (first type whose values agree); a core the greedy assignment
cannot type is reported, which may be conservative when a cleverer assignment exists.

``conv`` (Speck / DYNAP-CNN; Sinabs ``sinabs/backend/dynapcnn/dynapcnn_layer.py``,
``memory_summary``). One neuron population is one layer on one core. With the layer's output shape
:math:`(c_{out}, h, w)` and, per incoming projection, the input channels :math:`c_{in}` and the
kernel area :math:`k = \lceil \max fan\text{-}in / c_{in} \rceil`:

.. math::

    kernel = \sum_{proj} c_{in} \cdot 2^{\lceil \log_2 k \rceil + \lceil \log_2 c_{out} \rceil},
    \qquad neurons = c_{out} \cdot 2^{\lceil \log_2 h \rceil + \lceil \log_2 w \rceil}

(the sum over several incoming projections is conservative). Layers are matched to cores whose
kernel and neuron memories hold them (a largest bipartite matching, as Sinabs' ``mapping.py`` finds;
``assign_layers`` picks the first in layer order, the same in every process), a layer
sends to at most ``destinations_per_core`` layers, and has at most ``bias_memory_per_core`` output
channels.

``fixed`` (Xylo; Rockpool ``docs/devices/xylo-overview.ipynb``, the mapper
``rockpool/devices/xylo/syns61201/xylo_mapper.py``). Source neurons are input channels; the output
(readout) populations are the NIR graph's outputs for an imported network, else the neuron
populations that project to no neuron population; all other neurons are hidden. Counts against
``inputs``, ``hidden_neurons``, ``outputs``; as in Rockpool's weight matrices (input -> hidden,
hidden -> hidden, hidden -> output), inputs reach hidden neurons only and output neurons project
nowhere; a neuron has synapses onto at most ``fan_out_per_neuron`` neurons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from snnc.ir import Network, expand
from snnc.ir.text import counted

from ..hardware import HardwareSpec
from .graph import SynapseGraph

SHOWN = 5  # lines per rule before "and N more"


@dataclass(frozen=True)
class FlatSynapses:
    """Every synapse of the network with global neuron ids (``SynapseGraph`` order of ids)."""

    pre: np.ndarray  # int64
    post: np.ndarray  # int64
    weight: np.ndarray  # float64
    delay: np.ndarray  # int64
    projection: np.ndarray  # int32: index into network.projections


def flat_synapses(network: Network, graph: SynapseGraph) -> FlatSynapses:
    parts: list[tuple[np.ndarray, ...]] = []
    for k, projection in enumerate(network.projections):
        synapses = expand(network, projection)
        pre0 = int(graph.offsets[graph.names.index(projection.pre)])
        post0 = int(graph.offsets[graph.names.index(projection.post)])
        parts.append((synapses.pre.astype(np.int64) + pre0, synapses.post.astype(np.int64) + post0,
                      synapses.weight.astype(np.float64), synapses.delay.astype(np.int64),
                      np.full(len(synapses), k, np.int32)))
    if not parts:
        empty = np.zeros(0, np.int64)
        return FlatSynapses(empty, empty, np.zeros(0), empty, np.zeros(0, np.int32))
    return FlatSynapses(*(np.concatenate(column) for column in zip(*parts)))


def chip_label(spec: HardwareSpec) -> str:
    """The chip's name as people write it (the description's head: 'IBM TrueNorth')."""
    head = spec.description.split(":")[0].strip()
    return head or spec.name


def _capped(lines: list[str], what: str) -> list[str]:
    if len(lines) <= SHOWN:
        return lines
    return lines[:SHOWN] + [f"... and {len(lines) - SHOWN:,} more {what}"]


def _neuron_name(graph: SynapseGraph, gid: int) -> str:
    name, index = graph.population_of(gid)
    return f"'{name}'[{index}]"


def planning_rules(spec: HardwareSpec, network: Network, graph: SynapseGraph,
                   core_of: np.ndarray) -> tuple[list[str], dict[str, Any]]:
    """Report lines of the broken rules, and what the planning found (``totals.planning``)."""
    if spec.family != "planning":
        return [], {}
    flat = flat_synapses(network, graph)
    lines = delay_rule(spec, network, flat)
    plan: dict[str, Any] = {"core_model": spec.core_model}
    if spec.core_model == "crossbar":
        lines += crossbar_rules(spec, graph, flat, core_of, plan)
    elif spec.core_model == "conv":
        lines += conv_rules(spec, network, graph, flat, plan)
    elif spec.core_model == "fixed":
        lines += fixed_rules(spec, network, graph, flat, plan)
    return lines, plan


def delay_rule(spec: HardwareSpec, network: Network, flat: FlatSynapses) -> list[str]:
    """Projections with a delay above the chip's (the reference target runs any delay)."""
    lines = []
    for k, projection in enumerate(network.projections):
        delays = flat.delay[flat.projection == k]
        if delays.size and int(delays.max()) > spec.max_delay:
            allowed = ("no synaptic delays (1 step)" if spec.max_delay == 1
                       else f"delays of 1..{spec.max_delay} steps")
            lines.append(f"projection '{projection.name}': delay {int(delays.max())} steps, "
                         f"{chip_label(spec)} has {allowed} — shorten the delay, or relay the "
                         "spikes through extra neurons")
    return lines


# ---- crossbar (TrueNorth) ------------------------------------------------------------------------
def crossbar_rules(spec: HardwareSpec, graph: SynapseGraph, flat: FlatSynapses,
                   core_of: np.ndarray, plan: dict[str, Any]) -> list[str]:
    chip = chip_label(spec)
    core = core_of[flat.post].astype(np.int64)
    depth = int(flat.delay.max()) + 1 if flat.delay.size else 1
    axon = flat.pre * depth + flat.delay  # one axon per (pre neuron, delay)
    cores = int(core_of.max()) + 1 if core_of.size else 0
    lines, axons = _axon_count(spec, chip, graph, core_of, flat.post, core, axon, cores)
    lines += _binary(spec, chip, graph, core, axon, flat)
    typed, needed = _axon_types(spec, chip, graph, core, axon, flat)
    lines += typed
    lines += _targets(spec, chip, graph, flat, core, depth)
    plan["axon_types_needed"] = needed
    plan["axons_max"] = int(axons.max()) if axons.size else 0  # of axons_per_core
    plan["axons_by_core"] = [int(v) for v in axons]
    return lines


def _axon_count(spec: HardwareSpec, chip: str, graph: SynapseGraph, core_of: np.ndarray,
                post: np.ndarray, core: np.ndarray, axon: np.ndarray,
                cores: int) -> tuple[list[str], np.ndarray]:
    """Distinct (pre, delay) axons per core (the walker counts pre neurons, delays add axons),
    and the counts by core id."""
    assert spec.axons_per_core is not None
    pairs = np.unique(np.stack([core, axon]), axis=1) if core.size else np.zeros((2, 0), np.int64)
    counts = (np.bincount(pairs[0], minlength=cores) if pairs.size
              else np.zeros(cores, np.int64))
    lines = []
    over = np.flatnonzero(counts > spec.axons_per_core)
    if over.size:  # a neuron over the limit on its own: no smaller core helps
        own = np.unique(np.stack([post, axon]), axis=1)
        per_neuron = np.bincount(own[0], minlength=graph.n)
    for c in over:
        on_core = np.flatnonzero(core_of == c)
        worst = int(on_core[np.argmax(per_neuron[on_core])]) if on_core.size else -1
        if worst >= 0 and per_neuron[worst] > spec.axons_per_core:
            lines.append(f"core {c}: {counts[c]:,} axons (one per pre neuron and delay) > "
                         f"{chip}'s {spec.axons_per_core:,}; neuron {_neuron_name(graph, worst)} "
                         f"alone needs {per_neuron[worst]:,} — give each neuron at most "
                         f"{spec.axons_per_core:,} (pre neuron, delay) inputs")
            continue
        lines.append(f"core {c}: {counts[c]:,} axons (one per pre neuron and delay) > {chip}'s "
                     f"{spec.axons_per_core:,} — use fewer distinct delays per pre neuron, or "
                     f"fewer neurons per core (--max-neurons-per-core)")
    return _capped(lines, "cores over their axons"), counts


def _binary(spec: HardwareSpec, chip: str, graph: SynapseGraph, core: np.ndarray,
            axon: np.ndarray, flat: FlatSynapses) -> list[str]:
    """Two synapses on one crossbar point (same pre, post and delay)."""
    if not spec.binary_synapses or not axon.size:
        return []
    keys = np.stack([flat.post, axon])
    _unique, first, counts = np.unique(keys, axis=1, return_index=True, return_counts=True)
    lines = []
    for c in np.unique(core[first[counts > 1]]):
        at = first[(counts > 1) & (core[first] == c)]
        lines.append(f"core {c}: {at.size:,} (axon, neuron) pairs have more than one synapse "
                     f"(e.g. {_neuron_name(graph, int(flat.pre[at[0]]))} -> "
                     f"{_neuron_name(graph, int(flat.post[at[0]]))}), {chip}'s crossbar holds one "
                     "0/1 synapse per axon and neuron — merge parallel synapses into one")
    return _capped(lines, "cores with parallel synapses")


def _axon_types(spec: HardwareSpec, chip: str, graph: SynapseGraph, core: np.ndarray,
                axon: np.ndarray, flat: FlatSynapses) -> tuple[list[str], int]:
    """Per core: distinct weights per neuron (a bound), then a greedy typing of the axons."""
    types = spec.axon_types
    assert types is not None
    lines: list[str] = []
    needed = 0
    if not core.size:
        return lines, 0
    order = np.lexsort((flat.post, axon, core))
    bounds = np.flatnonzero(np.diff(core[order])) + 1
    for chunk in np.split(order, bounds):
        c = int(core[chunk[0]])
        pairs = np.unique(np.stack([flat.post[chunk], flat.weight[chunk]]), axis=1)
        per_neuron = np.bincount(pairs[0].astype(np.int64))
        worst = int(np.argmax(per_neuron))
        if per_neuron[worst] > types:
            needed = max(needed, int(per_neuron[worst]))
            lines.append(f"core {c}: neuron {_neuron_name(graph, worst)} needs "
                         f"{per_neuron[worst]} distinct weights from its axons but {chip}'s "
                         f"crossbar allows one signed weight per axon type ({types} types) — use "
                         f"at most {types} distinct weights per neuron")
            continue
        count = _greedy_types(axon[chunk], flat.post[chunk], flat.weight[chunk], types)
        needed = max(needed, count)
        if count > types:
            lines.append(f"core {c}: its axons need more than {types} axon types (each neuron sees "
                         f"at most {types} weights, but the axons' weights do not agree across "
                         f"neurons: greedy typing) — give each pre population one weight per "
                         "post population, or fewer neurons per core (--max-neurons-per-core)")
    return _capped(lines, "cores over their axon types"), needed


def _greedy_types(axon: np.ndarray, post: np.ndarray, weight: np.ndarray, limit: int) -> int:
    """Types the first-fit assignment needs (stops counting at ``limit + 1``). A type is a row of
    weights over the core's neurons (NaN: not yet fixed); an axon joins the first type whose fixed
    values equal its weights at the neurons it reaches."""
    neurons, column = np.unique(post, return_inverse=True)
    rows: list[np.ndarray] = []
    bounds = np.flatnonzero(np.diff(axon)) + 1
    for chunk in np.split(np.arange(axon.size), bounds):
        at, w = column[chunk], weight[chunk]
        for row in rows:
            fixed = row[at]
            if np.all(np.isnan(fixed) | (fixed == w)):
                row[at] = w
                break
        else:
            if len(rows) == limit:
                return limit + 1
            row = np.full(neurons.size, np.nan)
            row[at] = w
            rows.append(row)
    return len(rows)


def _targets(spec: HardwareSpec, chip: str, graph: SynapseGraph, flat: FlatSynapses,
             core: np.ndarray, depth: int) -> list[str]:
    """Neurons whose spikes must reach more (core, delay) destinations than one neuron addresses."""
    limit = spec.targets_per_neuron
    if limit is None or not flat.pre.size:
        return []
    source = np.repeat(graph.is_source, np.diff(graph.offsets))
    keep = ~source[flat.pre]
    destinations = np.unique(np.stack([flat.pre[keep], core[keep] * depth + flat.delay[keep]]),
                             axis=1)
    per_neuron = np.bincount(destinations[0], minlength=graph.n) if destinations.size else \
        np.zeros(graph.n, np.int64)
    over = np.flatnonzero(per_neuron > limit)
    if not over.size:
        return []
    extra = int((per_neuron[over] - limit).sum())
    worst = int(over[np.argmax(per_neuron[over])])
    return [f"{counted(int(over.size), 'neuron')} send to more than "
            f"{counted(limit, '(core, delay) destination', '(core, delay) destinations')}, e.g. "
            f"{_neuron_name(graph, worst)} to {per_neuron[worst]}; each {chip} neuron's spike "
            f"addresses {counted(limit, 'axon')} — add {counted(extra, 'splitter neuron')} (one "
            "per extra destination) to the network, or keep each neuron's targets on one core"]


# ---- conv layers (Speck / DYNAP-CNN) ---------------------------------------------------------
def _structure(network: Network) -> dict[str, Any]:
    """An imported network's linear structure: NIR nodes, edges and shapes (``import-nir`` keeps
    them in ``metadata.nir.linear``; a hand-written network may give ``metadata.linear``)."""
    nir = network.metadata.get("nir")
    structure = (nir.get("linear") if isinstance(nir, dict) else None) or \
        network.metadata.get("linear")
    return structure if isinstance(structure, dict) else {}


def _shape(network: Network, name: str) -> tuple[int, int, int]:
    """A population's (channels, height, width): an imported network's shape, else size x 1 x 1."""
    shapes = _structure(network).get("shapes") or {}
    shape = [int(v) for v in (shapes.get(name) or ())]
    size = network.populations[name].size
    if int(np.prod(shape or [0])) != size:
        return size, 1, 1
    if len(shape) == 3:
        return shape[0], shape[1], shape[2]
    if len(shape) == 2:
        return shape[0], 1, shape[1]
    return size, 1, 1


def _log2_up(value: int) -> int:
    return max(0, math.ceil(math.log2(max(value, 1))))


def _nir_kernel(network: Network, pre: str, post: str) -> tuple[int, int] | None:
    """(input channels, kernel area) of the NIR Conv or Affine node that feeds ``post`` from
    ``pre``, as Sinabs' ``DynapcnnLayer`` sees it: a pooling before the convolution is the sending
    core's (its destination pooling), not kernel area; an Affine is a convolution whose kernel is
    its input map (``_convert_linear_to_conv``). None: no such node (count from the synapses)."""
    structure = _structure(network)
    nodes, edges = structure.get("nodes") or {}, structure.get("edges") or []
    if not nodes:
        return None
    preds: dict[str, list[str]] = {}
    for edge in edges:
        if isinstance(edge, (list, tuple)) and len(edge) == 2:
            preds.setdefault(str(edge[1]), []).append(str(edge[0]))

    def back(name: str) -> str:  # the population a chain of linear nodes starts from
        seen = 0
        while name in nodes and preds.get(name) and seen < len(nodes):
            name, seen = preds[name][0], seen + 1
        return name

    def shape_of(name: str) -> list[int]:
        node = nodes.get(name)
        shape = node.get("output_shape") if isinstance(node, dict) else None
        return [int(v) for v in (shape or (structure.get("shapes") or {}).get(name) or ())]

    for node_name in preds.get(post, []):
        node = nodes.get(node_name)
        if not isinstance(node, dict) or back(node_name) != pre:
            continue
        weight = [int(v) for v in node.get("weight_shape") or ()]
        if node.get("type") in ("Conv1d", "Conv2d") and len(weight) >= 3:
            return weight[1], int(np.prod(weight[2:]))
        if node.get("type") in ("Affine", "Linear") and len(weight) == 2:
            source = (preds.get(node_name) or [pre])[0]
            while nodes.get(source, {}).get("type") == "Flatten" and preds.get(source):
                source = preds[source][0]
            shape = shape_of(source)
            if not shape or int(np.prod(shape)) != weight[1]:
                return weight[1], 1
            return shape[0], int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return None


def layer_memory(network: Network, graph: SynapseGraph, flat: FlatSynapses,
                 name: str) -> tuple[int, int, int]:
    """(kernel entries, neuron entries, output channels) of population ``name`` as one layer."""
    c_out, h, w = _shape(network, name)
    neurons = c_out * 2 ** (_log2_up(h) + _log2_up(w))
    kernel = 0
    first = int(graph.offsets[graph.names.index(name)])
    nir = network.metadata.get("nir")
    bias_source = nir.get("bias_source") if isinstance(nir, dict) else None
    for k, projection in enumerate(network.projections):
        if projection.post != name or projection.pre == bias_source:
            continue  # a NIR bias is the layer's bias memory, not kernel
        known = _nir_kernel(network, projection.pre, name)
        if known is not None:
            c_in, area = known
            kernel += c_in * 2 ** (_log2_up(area) + _log2_up(c_out))
            continue
        mine = flat.projection == k
        if not mine.any():
            continue
        fan_in = int(np.bincount(flat.post[mine] - first).max())
        c_in = _shape(network, projection.pre)[0]
        area = -(-fan_in // c_in)
        kernel += c_in * 2 ** (_log2_up(area) + _log2_up(c_out))
    return kernel, neurons, c_out


def conv_rules(spec: HardwareSpec, network: Network, graph: SynapseGraph, flat: FlatSynapses,
               plan: dict[str, Any]) -> list[str]:
    chip = chip_label(spec)
    kernel_cap = spec.kernel_memory_per_core or ()
    neuron_cap = spec.neuron_memory_per_core or ()
    layers = [p.name for p in network.neuron_populations()]
    memory = {name: layer_memory(network, graph, flat, name) for name in layers}
    lines = []
    if len(layers) > len(kernel_cap):
        lines.append(f"{chip}: {len(layers)} layers (neuron populations), the chip has "
                     f"{len(kernel_cap)} cores of one layer each — merge or drop layers")
    for name in layers:
        kernel, neurons, channels = memory[name]
        fits_any = any(kernel <= kc and neurons <= nc for kc, nc in zip(kernel_cap, neuron_cap))
        if not fits_any:
            lines.append(f"layer '{name}': kernel memory {kernel:,} and neuron memory "
                         f"{neurons:,} entries, no {chip} core holds both (largest: kernel "
                         f"{max(kernel_cap):,}, neurons {max(neuron_cap):,}; a core with kernel "
                         f"{max(kernel_cap):,} has neurons "
                         f"{max(n for k, n in zip(kernel_cap, neuron_cap) if k == max(kernel_cap)):,})"
                         " — use fewer channels or a smaller map or kernel")
        if spec.bias_memory_per_core is not None and channels > spec.bias_memory_per_core:
            lines.append(f"layer '{name}': {channels:,} output channels > {chip}'s "
                         f"{spec.bias_memory_per_core:,} bias entries per core — fewer channels")
        targets = {p.post for p in network.projections
                   if p.pre == name and not network.populations[p.post].is_source}
        if spec.destinations_per_core is not None and len(targets) > spec.destinations_per_core:
            lines.append(f"layer '{name}': sends to {len(targets)} layers, a {chip} core has "
                         f"{spec.destinations_per_core} destinations — send to fewer layers")
    fits = [[c for c, (kc, nc) in enumerate(zip(kernel_cap, neuron_cap))
             if memory[name][0] <= kc and memory[name][1] <= nc] for name in layers]
    cores = assign_layers(fits, len(kernel_cap))
    assigned = {name: core for name, core in zip(layers, cores) if core is not None}
    if not lines and len(assigned) < len(layers):
        lines.append(f"{chip}: no assignment of the {len(layers)} layers to its "
                     f"{len(kernel_cap)} cores puts every layer on a core with room for its kernel "
                     "and neuron memory — use smaller layers")
    plan["layers"] = {name: {"core": assigned.get(name), "kernel_memory": memory[name][0],
                             "neuron_memory": memory[name][1]} for name in layers}
    return lines


def _matched(fits: list[list[int]], layers: range, taken: set[int], want: int) -> int:
    """How many of ``layers`` a largest matching puts on cores not in ``taken`` (Kuhn's
    augmenting paths, in list order; it stops once ``want`` layers are placed)."""
    on: dict[int, int] = {}  # core -> layer

    def augment(layer: int, seen: set[int]) -> bool:
        for core in fits[layer]:
            if core in taken or core in seen:
                continue
            seen.add(core)
            if core not in on or augment(on[core], seen):
                on[core] = layer
                return True
        return False

    placed = 0
    for layer in layers:
        if placed >= want:
            break
        placed += augment(layer, set())
    return placed


def assign_layers(fits: list[list[int]], n_cores: int) -> list[int | None]:
    """A core for each layer (None: left out), as many layers placed as any assignment places.

    ``fits[i]`` lists the cores (ascending) whose memories hold layer ``i``. Among the largest
    assignments it returns the first in layer order: each layer, in network order, takes the
    lowest-numbered core that still lets the layers after it fill a largest assignment, else no
    core. Only lists and integers are involved, so the result is the same in every process
    (a matching over hashed node names was not: it followed ``PYTHONHASHSEED``).
    """
    n = len(fits)
    best = _matched(fits, range(n), set(), min(n, n_cores))
    taken: set[int] = set()
    result: list[int | None] = [None] * n
    for layer in range(n):
        if len(taken) == best:
            break  # a largest assignment is complete; the other layers get no core
        for core in fits[layer]:
            if core in taken:
                continue
            need = best - len(taken) - 1
            if _matched(fits, range(layer + 1, n), taken | {core}, need) >= need:
                result[layer] = core
                taken.add(core)
                break
    return result


# ---- fixed input / hidden / output counts (Xylo) ---------------------------------------------
def _nir_outputs(network: Network) -> set[str]:
    """The neuron populations an imported NIR graph names as its outputs (empty: not known)."""
    nir = network.metadata.get("nir")
    names = nir.get("outputs") if isinstance(nir, dict) else None
    if not isinstance(names, list):
        return set()
    neurons = {p.name for p in network.neuron_populations()}
    return {str(n) for n in names} & neurons


def fixed_rules(spec: HardwareSpec, network: Network, graph: SynapseGraph, flat: FlatSynapses,
                plan: dict[str, Any]) -> list[str]:
    chip = chip_label(spec)
    pops = network.populations
    feeds = {p.pre for p in network.projections if not pops[p.post].is_source}
    named = _nir_outputs(network)
    if named:  # the imported graph says which populations are its outputs
        outputs = [p.name for p in network.neuron_populations() if p.name in named]
    else:
        outputs = [p.name for p in network.neuron_populations() if p.name not in feeds]
    hidden = [p.name for p in network.neuron_populations() if p.name not in outputs]
    counts = {"inputs": sum(p.size for p in network.source_populations()),
              "hidden_neurons": sum(pops[n].size for n in hidden),
              "outputs": sum(pops[n].size for n in outputs)}
    plan.update(counts, output_populations=outputs, hidden_populations=hidden)
    words = {"inputs": "input channels (source neurons)", "hidden_neurons": "hidden neurons",
             "outputs": ("output neurons (the NIR graph's outputs)" if named else
                         "output neurons (populations that feed no neurons)")}
    lines = []
    for field, used in counts.items():
        limit = getattr(spec, field)
        if limit is not None and used > limit:
            lines.append(f"{chip}: {used:,} {words[field]}, the chip has {limit:,} — use fewer")
    for projection in network.projections:
        if projection.pre in outputs and not pops[projection.post].is_source:
            lines.append(f"projection '{projection.name}': output population "
                         f"'{projection.pre}' projects to '{projection.post}'; {chip}'s output "
                         "neurons have no outgoing weights (only hidden neurons are recurrent) — "
                         "read out from a population that projects nowhere")
        if pops[projection.pre].is_source and projection.post in outputs:
            lines.append(f"projection '{projection.name}': input '{projection.pre}' projects "
                         f"straight to output population '{projection.post}'; {chip}'s input "
                         "weights reach hidden neurons only — pass it through hidden neurons")
    limit = spec.fan_out_per_neuron
    if limit is not None and flat.pre.size:
        pairs = np.unique(np.stack([flat.pre, flat.post]), axis=1)
        fan_out = np.bincount(pairs[0], minlength=graph.n)
        over = np.flatnonzero(fan_out > limit)
        if over.size:
            worst = int(over[np.argmax(fan_out[over])])
            lines.append(f"{chip}: {over.size:,} neurons have synapses onto more than {limit:,} "
                         f"neurons, e.g. {_neuron_name(graph, worst)} onto {fan_out[worst]:,}; the "
                         f"chip allows {limit:,} per neuron — connect more sparsely")
    return lines
