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
Linear, Scale, Conv1d/2d, Sum/AvgPool2d, Flatten, Delay) fold into one sparse projection; Affine
biases become neuron biases, or, for neurons with a synaptic current, the input of an always-on
source population (so that they rise through the current as in the framework).

A NIR edge has no delay; an snnc projection has at least one step, so **every hop adds one step**
(a NIR ``Delay`` of ``k dt`` adds ``k`` more).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import nir_linear as linear
from .errors import NetworkError, SnncError, UnsupportedOnTarget
from .network import Network, all_to_all, explicit, one_to_one, poisson, spike_times
from .neurons import LI, LIF

INTEGRATORS = ("exact", "euler")
RESETS = ("zero", "subtract")
CURRENTS = ("new", "previous")
NO_LEAK_TAU_MS = 1e30
"""``tau_mem`` of neurons without leak (IF, I): its decay factor is exactly 1.0 in float64."""
NEURON_NODES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I", "Threshold")
LINEAR_NODES = ("Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d",
                "Flatten", "Delay", "Identity")
SUPPORTED_NODES = ("Input", "Output", "NIRGraph", *NEURON_NODES, *LINEAR_NODES)


@dataclass(frozen=True)
class Discretization:
    """The choices that turn NIR's continuous time into steps (``dt_s`` in seconds)."""

    dt_s: float
    integrator: str = "exact"
    reset: str = "zero"
    current: str = "new"

    def decay(self, tau_s: np.ndarray) -> np.ndarray:
        """Per-step decay factor: ``exp(-dt/tau)`` (exact) or ``1 - dt/tau`` (euler)."""
        ratio = self.dt_s / tau_s
        return np.exp(-ratio) if self.integrator == "exact" else 1.0 - ratio

    def gain(self, tau_s: np.ndarray) -> np.ndarray:
        """Gain of an input held over one step: ``1 - exp(-dt/tau)`` (exact) or ``dt/tau``."""
        ratio = self.dt_s / tau_s
        return -np.expm1(-ratio) if self.integrator == "exact" else ratio


def tau_ms(tau_s: Any) -> np.ndarray:
    """NIR seconds to IR milliseconds (the one conversion both import and export use)."""
    return np.asarray(tau_s, dtype=np.float64) * 1000.0


# ---- reading ------------------------------------------------------------------------------------
def _one_line(text: str) -> str:
    return " ".join(str(text).split())


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

    if not Path(path).is_file():
        raise NetworkError("file not found", file=str(path))
    try:
        return nir.read(str(path))
    except (OSError, KeyError) as exc:
        raise NetworkError(f"not a readable NIR file: {_one_line(exc)}", file=str(path)) from None
    except Exception as exc:  # the nir package raises ValueError, AssertionError, TypeError...
        message = _one_line(exc)
        raise NetworkError(f"nir.read rejects the file: {message}", where=_node_named_in(message),
                           file=str(path)) from None


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


# ---- signals: what reaches a node, as sparse maps from neuron or input populations --------------
@dataclass
class _Signal:
    """A flat signal: ``sum terms[(source, extra_delay)] @ spikes(source) + sum bias[extra_delay]``.

    A bias is a constant, but it is delivered like the spikes: through the same hop and Delay
    nodes, so it is present from the step its path's delay first reaches (see ``_build``).
    """

    terms: dict[tuple[str, int], sp.csr_matrix]
    bias: dict[int, np.ndarray]
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def mapped(self, matrix: sp.csr_matrix, bias: Any, shape: tuple) -> "_Signal":
        terms = {key: (matrix @ m).tocsr() for key, m in self.terms.items()}
        biases = {delay: matrix @ b for delay, b in self.bias.items()}
        if np.any(bias):
            biases[0] = biases.get(0, 0.0) + np.broadcast_to(bias, matrix.shape[:1])
        return _Signal(terms, biases, tuple(shape))

    def add(self, other: "_Signal") -> None:
        """Sum another signal of the same size into this one (NIR sums a node's inputs)."""
        for key, matrix in other.terms.items():
            self.terms[key] = self.terms[key] + matrix if key in self.terms else matrix
        for delay, bias in other.bias.items():
            self.bias[delay] = self.bias.get(delay, 0.0) + bias


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in np.atleast_1d(np.asarray(value)).ravel())


def _delayed(signal: _Signal, delay_s: np.ndarray, dt_s: float, where: str) -> _Signal:
    steps = np.asarray(delay_s, dtype=np.float64).ravel() / dt_s
    whole = np.rint(steps)
    if np.any(np.abs(steps - whole) > 1e-6 * np.maximum(1.0, whole)) or np.any(whole < 0):
        raise NetworkError(f"delays {np.unique(delay_s).tolist()} s are not whole numbers of "
                           f"steps of dt = {dt_s:g} s", where=where)
    delayed = _Signal({}, {}, signal.shape)
    for extra in np.unique(whole).astype(int):
        chosen = (whole == extra).astype(np.float64)
        mask = sp.diags(chosen, format="csr")
        delayed.add(_Signal({(source, delay + int(extra)): (mask @ matrix).tocsr()
                             for (source, delay), matrix in signal.terms.items()},
                            {delay + int(extra): chosen * bias
                             for delay, bias in signal.bias.items()}, signal.shape))
    return delayed


def _conv_input_shape(node: Any, signal: _Signal, dims: int, where: str) -> tuple[int, ...]:
    channels = int(node.weight.shape[1]) * int(node.groups)
    if node.input_shape is not None:
        shape = (channels, *_shape(node.input_shape))
    elif len(signal.shape) == dims + 1:
        shape = signal.shape
    else:
        raise NetworkError("input shape unknown: set input_shape", where=where)
    return shape


def _pool_input_shape(node: Any, signal: _Signal, where: str) -> tuple[int, ...]:
    declared = (node.input_type or {}).get("input")
    if declared is not None and len(_shape(declared)) == 3:
        return _shape(declared)
    if len(signal.shape) == 3:
        return signal.shape
    raise NetworkError(f"needs a [C, H, W] input, got shape {list(signal.shape)}", where=where)


def _apply(node: Any, signal: _Signal, dt_s: float, where: str) -> _Signal:
    """The signal after one linear node (input size already checked against ``_in_size``)."""
    kind = type(node).__name__
    if kind in ("Affine", "Linear"):
        weight = np.asarray(node.weight, dtype=np.float64)
        bias = np.asarray(node.bias, dtype=np.float64).ravel() if kind == "Affine" else 0.0
        return signal.mapped(sp.csr_matrix(weight), np.broadcast_to(bias, weight.shape[:1]),
                             weight.shape[:1])
    if kind == "Scale":
        return signal.mapped(linear.scale_matrix(node.scale), 0.0, _shape(node.scale.shape))
    if kind in ("Conv1d", "Conv2d"):
        dims = 2 if kind == "Conv2d" else 1
        shape = _conv_input_shape(node, signal, dims, where)
        if int(np.prod(shape)) != signal.size:
            raise NetworkError(f"input has {signal.size} values, expected {list(shape)}",
                               where=where)
        build = linear.conv2d_matrix if dims == 2 else linear.conv1d_matrix
        matrix, out = build(np.asarray(node.weight, dtype=np.float64), shape, node.stride,
                            node.padding, node.dilation, node.groups, where)
        bias = np.repeat(np.asarray(node.bias, dtype=np.float64).ravel(), int(np.prod(out[1:])))
        return signal.mapped(matrix, bias, out)
    if kind in ("SumPool2d", "AvgPool2d"):
        shape = _pool_input_shape(node, signal, where)
        if int(np.prod(shape)) != signal.size:
            raise NetworkError(f"input has {signal.size} values, expected {list(shape)}",
                               where=where)
        matrix, out = linear.pool2d_matrix(shape, node.kernel_size, node.stride, node.padding,
                                           kind == "AvgPool2d", where)
        return signal.mapped(matrix, 0.0, out)
    if kind == "Flatten":  # C-order flattening is the identity on flat signals
        declared = (node.output_type or {}).get("output")
        out = _shape(declared) if declared is not None else (signal.size,)
        return _Signal(signal.terms, signal.bias, out if np.prod(out) == signal.size
                       else (signal.size,))
    if kind == "Delay":
        return _delayed(signal, node.delay, dt_s, where)
    return signal  # Identity and the Input/Output nodes of nested graphs


def _in_size(node: Any) -> int | None:
    """The input size a node requires, where its parameters fix it."""
    kind = type(node).__name__
    if kind in ("Affine", "Linear"):
        return int(np.asarray(node.weight).shape[-1])
    if kind == "Scale":
        return int(np.asarray(node.scale).size)
    if kind == "Delay":
        return int(np.asarray(node.delay).size)
    return None


# ---- neurons ------------------------------------------------------------------------------------
@dataclass
class _Neuron:
    """An IR neuron model for a NIR node and the gain folded into the weights that reach it."""

    size: int
    make: Any  # bias (scalar or array) -> LIF | LI
    gain: np.ndarray
    through_current: bool  # an Affine bias must pass through the synaptic current


def _compact(values: Any) -> Any:
    """A per-neuron array, or one float when every neuron has the same value."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size and np.all(array == array[0]):
        return float(array[0])
    return array


def _params(node: Any, names: tuple[str, ...], where: str) -> tuple[int, dict[str, np.ndarray]]:
    arrays = {n: np.asarray(getattr(node, n), dtype=np.float64) for n in names}
    size = max(int(a.size) for a in arrays.values())
    for name, array in arrays.items():
        if array.size not in (1, size):
            raise NetworkError(f"{name} has {array.size} values, expected {size}", where=where)
        if not np.all(np.isfinite(array)):
            raise NetworkError(f"{name} holds NaN or infinite values", where=where)
        arrays[name] = np.broadcast_to(array.ravel(), (size,)) if array.size == 1 else array.ravel()
    return size, arrays


def _taus(steps: Discretization, where: str, **taus: np.ndarray) -> None:
    for name, tau in taus.items():
        if np.any(tau <= 0):
            raise NetworkError(f"{name} must be > 0", where=where)
        if steps.integrator == "euler" and np.any(tau < steps.dt_s):
            raise NetworkError(f"{name} {tau.min():g} s < dt {steps.dt_s:g} s: forward Euler "
                               "would decay by a negative factor (use --integrator exact)",
                               where=where)


def _neuron(node: Any, steps: Discretization, where: str) -> _Neuron:
    """The IR model of a NIR neuron node (see the module docstring for the scaling)."""
    kind = type(node).__name__
    names = {"LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
             "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
             "IF": ("r", "v_threshold", "v_reset"), "LI": ("tau", "r", "v_leak"),
             "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"), "I": ("r",),
             "Threshold": ("threshold",)}[kind]
    size, p = _params(node, names, where)
    spiking = {"reset": steps.reset, "integrator": steps.integrator}
    if kind in ("LIF", "LI"):
        _taus(steps, where, tau=p["tau"])
        tau_mem, tau_syn, gain = tau_ms(p["tau"]), 0.0, p["r"] * steps.gain(p["tau"])
    elif kind in ("CubaLIF", "CubaLI"):
        _taus(steps, where, tau_mem=p["tau_mem"], tau_syn=p["tau_syn"])
        tau_mem, tau_syn = tau_ms(p["tau_mem"]), tau_ms(p["tau_syn"])
        gain = p["r"] * steps.gain(p["tau_mem"]) * steps.gain(p["tau_syn"]) * p["w_in"]
    elif kind == "Threshold":  # v = input: euler with tau = dt decays by exactly 0
        tau_mem, tau_syn, gain = steps.dt_s * 1000.0, 0.0, np.ones(size)
        spiking = {"reset": "zero", "integrator": "euler"}
    else:  # IF, I: no leak; frameworks integrate v += r x per step (no dt)
        tau_mem, tau_syn, gain = NO_LEAK_TAU_MS, 0.0, p["r"].astype(np.float64)
    common = {"tau_mem": _compact(tau_mem), "tau_syn": _compact(tau_syn),
              "v_leak": _compact(p.get("v_leak", 0.0))}
    if kind in ("LI", "CubaLI", "I"):
        def make(bias: Any) -> Any:
            return LI(**common, bias=bias, integrator=steps.integrator)
    else:
        threshold = p["threshold"] if kind == "Threshold" else p["v_threshold"]
        reset = p.get("v_reset", 0.0)

        def make(bias: Any) -> Any:
            return LIF(**common, v_th=_compact(threshold), v_reset=_compact(reset), bias=bias,
                       **spiking)
    return _Neuron(size, make, np.asarray(gain, dtype=np.float64),
                   through_current=kind in ("CubaLIF", "CubaLI"))


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
        self.neurons: dict[str, _Neuron] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.memo: dict[str, _Signal] = {}
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
            self.shapes[name] = _shape(self.flat.nodes[name].input_type["input"])
        for name in self.canonical_order():
            node = self.flat.nodes[name]
            if type(node).__name__ in NEURON_NODES:
                neuron = _neuron(node, self.steps, name)
                self.neurons[name] = neuron
                declared = (node.output_type or {}).get("output")
                shape = _shape(declared) if declared is not None else (neuron.size,)
                self.shapes[name] = shape if np.prod(shape) == neuron.size else (neuron.size,)

    def output_of(self, name: str) -> _Signal:
        """The signal a node emits (memoised: each node's bias counts once per path)."""
        if name in self.shapes:  # an input or neuron population: its own spikes
            size = int(np.prod(self.shapes[name]))
            return _Signal({(name, 0): linear.identity(size)}, {}, self.shapes[name])
        if name not in self.memo:
            if name in self.visiting:
                raise UnsupportedOnTarget("a cycle of linear nodes with no neuron in it", where=name)
            self.visiting.add(name)
            node = self.flat.nodes[name]
            signal = self.input_of(name, _in_size(node))
            if signal is None:
                raise NetworkError("has no incoming edge", where=name)
            self.memo[name] = _apply(node, signal, self.steps.dt_s, name)
            self.visiting.discard(name)
        return self.memo[name]

    def input_of(self, name: str, size: int | None) -> _Signal | None:
        """The sum of the signals on a node's incoming edges (None when it has none)."""
        total: _Signal | None = None
        for src in self.incoming[name]:
            signal = self.output_of(src)
            expected = size if size is not None else (total.size if total else signal.size)
            if signal.size != expected:
                raise NetworkError(f"shape mismatch: '{src}' sends {signal.size} values "
                                   f"{list(signal.shape)}, '{name}' takes {expected}", where=name)
            if total is None:
                total = _Signal({}, {}, signal.shape)
            total.add(signal)
        return total

    def projections(self, name: str) -> tuple[list[_Projection], dict[int, np.ndarray]]:
        """Projections into one neuron population and the biases (gain folded in, by delay)."""
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
        biases = {1 + extra + lag: neuron.gain * bias for extra, bias in signal.bias.items()
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
                     and (next(iter(signal.terms.values())) != linear.identity(signal.size)).nnz == 0)
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
        return all_to_all(), _compact(weight)
    if n_pre == n_post and pre.size == n_pre and np.array_equal(pre, post):
        return one_to_one(), _compact(weight)
    return explicit(pre.astype(np.int64), post.astype(np.int64)), _compact(weight)


def _free_name(taken: Any, base: str) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    return name


def _build(importer: _Importer, name: str) -> Network:
    steps = importer.steps
    net = Network(name, dt=steps.dt_s * 1000.0)
    for source in importer.inputs:
        net.source(source, int(np.prod(importer.shapes[source])), spike_times())
    found, bias_inputs = [], []
    for target, neuron in importer.neurons.items():
        projections, biases = importer.projections(target)
        found.extend(projections)
        if neuron.through_current:  # through the current, from the step the hop delivers it
            bias_inputs += [(target, delay, bias) for delay, bias in sorted(biases.items())]
            biases = {}
        net.population(target, neuron.size,
                       neuron.make(_compact(sum(biases.values(), np.zeros(neuron.size)))))
    bias_source = None
    if bias_inputs:  # fires at every step: probability rate * dt >= 1
        bias_source = _free_name(net.populations, "bias")
        net.source(bias_source, 1, poisson(rate_hz=2000.0 / net.dt, seed=0))
        for target, delay, bias in bias_inputs:
            found.append(_Projection(bias_source, target, sp.csr_matrix(bias.reshape(-1, 1)),
                                     delay))
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
    }
    return net


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
    shape mismatches and files ``nir.read`` rejects raise one-line ``NetworkError`` or
    ``UnsupportedOnTarget`` errors whose ``where`` names the node.
    """
    import nir

    _check_choices(dt, integrator, reset, current)
    path = None
    graph = graph_or_path
    if isinstance(graph_or_path, (str, Path)):
        path = str(graph_or_path)
        graph = read_graph(path)
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
