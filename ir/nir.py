r"""NIR import: ``from_nir(graph_or_path, dt, integrator, reset)`` turns a NIR graph into a Network.

NIR (``pip install nir``) describes continuous-time neurons with no ``dt``; snnc's IR is discrete.
The choices that make a graph discrete are explicit arguments and are recorded in
``network.metadata["nir"]`` (docs/nir.md explains which choice matches which framework):

- ``dt`` in seconds (the IR stores milliseconds, ``Network.dt = 1000 dt``);
- ``integrator``: ``exact`` decays by :math:`\alpha = e^{-dt/\tau}` and feeds an input held over the
  step with gain :math:`1 - \alpha`; ``euler`` (snnTorch) uses :math:`\alpha = 1 - dt/\tau` and gain
  :math:`dt/\tau`;
- ``reset``: ``zero`` sets ``v = v_reset`` after a spike, ``subtract`` removes ``v_threshold``;
- ``current``: ``new`` (snnTorch, Sinabs) lets ``v`` integrate this step's synaptic current;
  ``previous`` (Norse) the previous step's, which is one more step of delay on the projections into
  ``CubaLIF``/``CubaLI`` populations.

Every NIR parameter is mapped onto the IR's equations (``ir/neurons.py``) with its scale folded into
the incoming weights: for ``CubaLIF`` the IR current is :math:`i = r\,g_m I` and the weights are
multiplied by :math:`r\,g_m\,g_s\,w_{in}` (:math:`g` the input gains above), so ``v_threshold``,
``v_leak`` and ``v_reset`` keep their NIR values. Linear nodes between two neuron layers (Affine,
Linear, Scale, Conv1d/2d, Sum/AvgPool2d, Flatten, Delay) fold into one sparse projection.

A NIR edge has no delay; an snnc projection has at least one step, so **every hop adds one step**
(a NIR ``Delay`` of ``k dt`` adds ``k`` more): a population ``h`` hops from the Input runs the
framework's step ``t`` at step ``h + t`` (``first_steps``). Affine biases are the input of an
always-on source population ``bias`` (one spike every step from step 0), projected with delay
``h + k`` (``k`` the steps of the Delays on the bias's path, plus 1 where ``current="previous"``
delays what reaches a synaptic current), so a bias acts from the population's step ``h + k``, the
framework's step ``k``, and rises through the synaptic current where there is one.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import scipy.sparse as sp

from .errors import NetworkError, SnncError, UnsupportedOnTarget
from .network import Network, all_to_all, explicit, one_to_one, poisson, spike_times
from .nir_linear import Signal, apply_node, identity, node_input_size, shape_of
from .nir_neurons import (
    CURRENTS,
    INTEGRATORS,
    NEURON_NODES,
    RESETS,
    Discretization,
    Neuron,
    compact,
    neuron_model,
)

LINEAR_NODES = ("Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d",
                "Flatten", "Delay", "Identity")
SUPPORTED_NODES = ("Input", "Output", "NIRGraph", *NEURON_NODES, *LINEAR_NODES)


# ---- reading ------------------------------------------------------------------------------------
def _one_line(text: Any) -> str:
    """A message on one line; an exception without one is named by its type (no empty reason)."""
    line = " ".join(str(text).split())
    if not line and isinstance(text, BaseException):
        return type(text).__name__
    return line


def _node_named_in(message: str) -> str:
    """The node an error message of the nir package names (type mismatch, missing node)."""
    for pattern in (r"type mismatch: (\S+)\.output:", r"node '([^']+)'", r"Edge \('([^']+)'"):
        match = re.search(pattern, message)
        if match:
            return match.group(1)
    return "graph"


def read_graph(path: str | Path) -> Any:
    """``nir.read`` with its failures as one-line NetworkErrors naming the node."""
    import nir

    from .hdf5_safety import check_hdf5

    if not Path(path).is_file():
        raise NetworkError("file not found", file=str(path))
    check_hdf5(path)  # external storage or links, virtual datasets, absurd shapes: refused
    try:
        return nir.read(str(path))
    except KeyError as exc:
        raise NetworkError(f"not a readable NIR file: missing entry {exc.args[0]!r}" if exc.args
                           else "not a readable NIR file: missing entry", file=str(path)) from None
    except OSError as exc:
        raise NetworkError(f"not a readable NIR file: {_one_line(exc)}", file=str(path)) from None
    except Exception as exc:  # the nir package raises ValueError, AssertionError, TypeError...
        message = _one_line(exc)
        raise NetworkError(f"nir.read rejects the file: {message}", where=_node_named_in(message),
                           file=str(path)) from None


@contextmanager
def _malformed(name: str) -> Iterator[None]:
    """Parameters of the wrong shape or type in node ``name``: one line naming it, no traceback."""
    try:
        yield
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise NetworkError(f"cannot use its parameters: {_one_line(exc)}", where=name) from None


# ---- flattening nested graphs -------------------------------------------------------------------
@dataclass
class _Flat:
    """A nested NIR graph as one level: nodes by dotted name, edges, and pass-through names."""

    nodes: dict[str, Any] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    passthrough: set[str] = field(default_factory=set)


def _ports(graph: Any, kind: Any, name: str, prefix: str) -> str:
    ports = [k for k, node in graph.nodes.items() if isinstance(node, kind)]
    if len(ports) != 1:
        raise UnsupportedOnTarget(f"a nested graph needs exactly one {kind.__name__} node, "
                                  f"found {len(ports)}", where=prefix + name)
    return f"{prefix}{name}.{ports[0]}"


def _flatten(graph: Any, flat: _Flat, prefix: str = "") -> None:
    import nir

    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            _flatten(node, flat, f"{prefix}{name}.")
            continue
        full = prefix + name
        if full in flat.nodes:
            raise NetworkError("two nodes have this name once nested graphs are flattened",
                               where=full)
        flat.nodes[full] = node
        if prefix and isinstance(node, (nir.Input, nir.Output)):
            flat.passthrough.add(full)
    for src, dst in graph.edges:
        src_node, dst_node = graph.nodes.get(src), graph.nodes.get(dst)
        if src_node is None or dst_node is None:
            missing = src if src_node is None else dst
            raise NetworkError("an edge names a node that does not exist", where=prefix + missing)
        if isinstance(src_node, nir.NIRGraph):
            src = _ports(src_node, nir.Output, src, prefix)
        else:
            src = prefix + src
        if isinstance(dst_node, nir.NIRGraph):
            dst = _ports(dst_node, nir.Input, dst, prefix)
        else:
            dst = prefix + dst
        flat.edges.append((src, dst))


# ---- the importer -------------------------------------------------------------------------------
@dataclass
class _Projection:
    source: str
    target: str
    matrix: sp.csr_matrix  # [target, source], weights with the target's gain folded in
    delay: int


class _Importer:
    """Builds a Network from a flattened NIR graph (one instance per import)."""

    def __init__(self, flat: _Flat, steps: Discretization) -> None:
        import nir

        self.nir = nir
        self.flat = flat
        self.steps = steps
        self.incoming: dict[str, list[str]] = {name: [] for name in flat.nodes}
        for src, dst in flat.edges:
            self.incoming[dst].append(src)
        self.inputs = sorted(n for n, node in flat.nodes.items()
                             if isinstance(node, nir.Input) and n not in flat.passthrough)
        self.outputs = sorted(n for n, node in flat.nodes.items()
                              if isinstance(node, nir.Output) and n not in flat.passthrough)
        self.neurons: dict[str, Neuron] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.memo: dict[str, Signal] = {}
        self.visiting: set[str] = set()

    def check_kinds(self) -> None:
        for name, node in self.flat.nodes.items():
            kind = type(node).__name__
            if kind not in SUPPORTED_NODES:
                raise UnsupportedOnTarget(f"NIR node type {kind} is not supported by snnc "
                                          f"(supported: {', '.join(SUPPORTED_NODES)})", where=name)

    def canonical_order(self) -> list[str]:
        """Nodes breadth-first from the inputs, each layer by name, then the unreachable ones.

        Depends on the edge set and the names only, so a graph written and read back (which
        reorders nodes and edges) imports to the same network.
        """
        outgoing: dict[str, set[str]] = {name: set() for name in self.flat.nodes}
        for src, dst in self.flat.edges:
            outgoing[src].add(dst)
        order, seen, layer = [], set(self.inputs), sorted(self.inputs)
        while layer:
            order.extend(layer)
            following = {d for n in layer for d in outgoing[n]} - seen
            seen |= following
            layer = sorted(following)
        return order + sorted(set(self.flat.nodes) - seen)

    def state_nodes(self) -> None:
        for name in self.inputs:
            with _malformed(name):
                self.shapes[name] = shape_of(self.flat.nodes[name].input_type["input"])
        for name in self.canonical_order():
            node = self.flat.nodes[name]
            if type(node).__name__ in NEURON_NODES:
                with _malformed(name):
                    neuron = neuron_model(node, self.steps, name)
                self.neurons[name] = neuron
                declared = (node.output_type or {}).get("output")
                shape = shape_of(declared) if declared is not None else (neuron.size,)
                self.shapes[name] = shape if np.prod(shape) == neuron.size else (neuron.size,)

    def output_of(self, name: str) -> Signal:
        """The signal a node emits (memoised: each node's bias counts once per path)."""
        if name in self.shapes:  # an input or neuron population: its own spikes
            size = int(np.prod(self.shapes[name]))
            return Signal({(name, 0): identity(size)}, {}, self.shapes[name])
        if name not in self.memo:
            if name in self.visiting:
                raise UnsupportedOnTarget("a cycle of linear nodes with no neuron in it",
                                          where=name)
            self.visiting.add(name)
            node = self.flat.nodes[name]
            signal = self.input_of(name, node_input_size(node))
            if signal is None:
                raise NetworkError("has no incoming edge", where=name)
            with _malformed(name):
                self.memo[name] = apply_node(node, signal, self.steps.dt_s, name)
            self.visiting.discard(name)
        return self.memo[name]

    def input_of(self, name: str, size: int | None) -> Signal | None:
        """The sum of the signals on a node's incoming edges (None when it has none)."""
        total: Signal | None = None
        for src in self.incoming[name]:
            signal = self.output_of(src)
            expected = size if size is not None else (total.size if total else signal.size)
            if signal.size != expected:
                raise NetworkError(f"shape mismatch: '{src}' sends {signal.size} values "
                                   f"{list(signal.shape)}, '{name}' takes {expected}", where=name)
            if total is None:
                total = Signal({}, {}, signal.shape)
            total.add(signal)
        return total

    def projections(self, name: str) -> tuple[list[_Projection], dict[int, np.ndarray]]:
        """Projections into one neuron population and its biases (gain folded in), the biases by
        the steps they start after the population's first step (``first_steps``): a Delay's
        ``k``, plus 1 where ``current="previous"`` delays what reaches a synaptic current."""
        neuron = self.neurons[name]
        signal = self.input_of(name, neuron.size)
        if signal is None:
            return [], {}
        lag = 1 if self.steps.current == "previous" and neuron.through_current else 0
        gain = sp.diags(neuron.gain, format="csr")
        found = []
        for (source, extra), matrix in signal.terms.items():
            weighted = (gain @ matrix).tocsr()
            weighted.eliminate_zeros()
            if weighted.nnz:
                found.append(_Projection(source, name, weighted, 1 + extra + lag))
        rank = {n: i for i, n in enumerate([*self.inputs, *self.neurons])}
        found.sort(key=lambda p: (rank[p.source], p.delay))
        biases = {extra + lag: neuron.gain * bias for extra, bias in signal.bias.items()
                  if np.any(bias)}
        return found, biases

    def output_populations(self) -> list[str]:
        names = []
        for output in self.outputs:
            signal = self.input_of(output, None)
            if signal is None:
                continue
            sources = {source for source, _ in signal.terms}
            plain = (len(signal.terms) == 1 and not signal.bias
                     and next(iter(signal.terms))[1] == 0
                     and (next(iter(signal.terms.values())) != identity(signal.size)).nnz == 0)
            if not plain or not sources <= set(self.neurons):
                raise UnsupportedOnTarget("an Output must be fed by one neuron node directly: "
                                          "snnc records the spikes of neuron populations",
                                          where=output)
            names.extend(sorted(sources))
        return names


def _connector(matrix: sp.csr_matrix) -> tuple[Any, Any]:
    """The compact IR connector and weight for a [post, pre] matrix (pairs sorted by pre, post)."""
    coo = matrix.tocoo()
    order = np.lexsort((coo.row, coo.col))
    pre, post, weight = coo.col[order], coo.row[order], coo.data[order]
    n_post, n_pre = matrix.shape
    if pre.size == n_pre * n_post:
        return all_to_all(), compact(weight)
    if n_pre == n_post and pre.size == n_pre and np.array_equal(pre, post):
        return one_to_one(), compact(weight)
    return explicit(pre.astype(np.int64), post.astype(np.int64)), compact(weight)


def _free_name(taken: Any, base: str) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    return name


def first_steps(hops: Iterable[tuple[str, str]], roots: Iterable[str],
                populations: Iterable[str]) -> dict[str, int]:
    """Each population's first step: the snnc step at which it runs the framework's step 0.

    By the one-step-per-hop rule that is its fewest hops from a NIR Input (``roots``, step 0),
    one per projection whatever its delay (a NIR Delay delays a signal, not the population's
    clock), or 1 where no Input reaches it. The framework's step ``t`` of the population is
    snnc's step ``first + t``, so an Affine bias (present from the framework's step 0) acts from
    ``first``. ``hops`` are the (pre, post) pairs of the projections, the bias source's excluded;
    ``to_nir`` computes the same from a network.
    """
    outgoing: dict[str, set[str]] = {}
    for pre, post in hops:
        outgoing.setdefault(pre, set()).add(post)
    count = {root: 0 for root in roots}
    layer = sorted(count)
    while layer:
        following = sorted({post for pre in layer for post in outgoing.get(pre, ())} - set(count))
        count.update({post: count[layer[0]] + 1 for post in following})
        layer = following
    return {population: count.get(population, 1) for population in populations}


def _build(importer: _Importer, name: str) -> Network:
    steps = importer.steps
    net = Network(name, dt=steps.dt_s * 1000.0)
    for source in importer.inputs:
        net.source(source, int(np.prod(importer.shapes[source])), spike_times())
    found, bias_inputs = [], []
    for target, neuron in importer.neurons.items():
        projections, biases = importer.projections(target)
        found.extend(projections)
        bias_inputs += [(target, after, bias) for after, bias in sorted(biases.items())]
        net.population(target, neuron.size, neuron.make())
    first = first_steps([(p.source, p.target) for p in found], importer.inputs, importer.neurons)
    bias_source = None
    if bias_inputs:  # fires at every step (probability rate * dt >= 1) from step 0
        bias_source = _free_name(net.populations, "bias")
        net.source(bias_source, 1, poisson(rate_hz=2000.0 / net.dt, seed=0))
        for target, after, bias in bias_inputs:  # the delay makes it act from first + after
            found.append(_Projection(bias_source, target, sp.csr_matrix(bias.reshape(-1, 1)),
                                     first[target] + after))
    for projection in found:
        connect, weight = _connector(projection.matrix)
        net.connect(projection.source, projection.target, connect, weight=weight,
                    delay=projection.delay)
    net.metadata["nir"] = {
        "dt_s": steps.dt_s, "integrator": steps.integrator, "reset": steps.reset,
        "current": steps.current,
        "inputs": {n: list(importer.shapes[n]) for n in importer.inputs},
        "outputs": importer.output_populations(), "bias_source": bias_source,
        "note": "every NIR edge costs one step (delay >= 1): spikes lag one step per hop",
        # lets to_nir write conv/pool/... nodes back natively (absent for dense-only graphs)
        **({"linear": _linear_structure(importer)} if _has_structure(importer) else {}),
    }
    return net


_STRUCTURE_FIELDS = {"Conv1d": ("stride", "padding", "dilation", "groups", "input_shape"),
                     "Conv2d": ("stride", "padding", "dilation", "groups", "input_shape"),
                     "SumPool2d": ("kernel_size", "stride", "padding"),
                     "AvgPool2d": ("kernel_size", "stride", "padding"),
                     "Flatten": ("start_dim", "end_dim")}


def _plain(value: Any) -> Any:
    """A NIR parameter as YAML-safe data (lists of ints, strings)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str) or value is None:
        return value
    array = np.asarray(value)
    return array.tolist() if array.dtype.kind in "iub" else str(value)


def _has_structure(importer: _Importer) -> bool:
    """Whether the graph has linear nodes that a dense Linear export would lose."""
    return any(type(node).__name__ in ("Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten",
                                       "Scale") for node in importer.flat.nodes.values())


def _linear_structure(importer: _Importer) -> dict[str, Any]:
    """The graph's linear nodes without their arrays (type, geometry, the shapes around them)
    and the edges, so that ``to_nir`` can write an imported projection back as the same nodes
    (``nir_export``: the weights come from the projection's synapses)."""
    nodes: dict[str, Any] = {}
    for name, node in importer.flat.nodes.items():
        kind = type(node).__name__
        if kind not in LINEAR_NODES:
            continue
        entry: dict[str, Any] = {"type": kind}
        for key in _STRUCTURE_FIELDS.get(kind, ()):
            entry[key] = _plain(getattr(node, key, None))
        if kind in ("Conv1d", "Conv2d", "Affine", "Linear"):
            entry["weight_shape"] = list(np.asarray(node.weight).shape)
        if kind == "Scale":
            entry["size"] = int(np.asarray(node.scale).size)
        if name in importer.memo:
            entry["output_shape"] = list(importer.memo[name].shape)
        nodes[name] = entry
    shapes = {name: list(shape) for name, shape in importer.shapes.items()}
    return {"nodes": nodes, "edges": [list(edge) for edge in importer.flat.edges],
            "shapes": shapes}


def _check_choices(dt: float, integrator: str, reset: str, current: str) -> None:
    if not (isinstance(dt, (int, float)) and np.isfinite(dt) and dt > 0):
        raise NetworkError(f"must be a positive number of seconds, got {dt!r}", where="dt")
    for value, allowed, what in ((integrator, INTEGRATORS, "integrator"), (reset, RESETS, "reset"),
                                 (current, CURRENTS, "current")):
        if value not in allowed:
            raise NetworkError(f"must be one of {', '.join(allowed)}, got {value!r}", where=what)


def from_nir(graph_or_path: Any, dt: float, integrator: str = "exact", reset: str = "zero",
             current: str = "new", name: str | None = None) -> Network:
    """Import a NIR graph (a ``nir.NIRGraph`` or a ``.nir`` file) as a Network.

    ``dt`` is in seconds (NIR's unit); the network's ``dt`` is in milliseconds. Unsupported nodes,
    shape mismatches, and files
    ``nir.read`` rejects raise one-line ``NetworkError`` or ``UnsupportedOnTarget`` errors whose
    ``where`` names the node.
    """
    import nir

    path = str(graph_or_path) if isinstance(graph_or_path, (str, Path)) else None
    try:
        _check_choices(dt, integrator, reset, current)
    except SnncError as error:
        raise error.located(file=path) from None
    graph = read_graph(path) if path is not None else graph_or_path
    if not isinstance(graph, nir.NIRGraph):
        raise NetworkError(f"expected a NIR graph, got {type(graph).__name__}", file=path or "")
    default_name = Path(path).stem if path else "nir"
    try:
        flat = _Flat()
        _flatten(graph, flat)
        importer = _Importer(flat, Discretization(float(dt), integrator, reset, current))
        importer.check_kinds()
        importer.state_nodes()
        return _build(importer, name or default_name)
    except SnncError as error:
        raise error.located(file=path) from None
