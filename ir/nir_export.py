r"""NIR export: ``to_nir(network)`` writes a network of ``lif``/``li`` populations as a NIR graph.

The graph is chosen so that ``from_nir`` gives the network back exactly (with the same ``dt``,
``integrator``, ``reset`` and ``current``, recorded in the graph's metadata): each population
becomes a ``LIF``/``CubaLIF`` (``LI``/``CubaLI``; ``IF``/``I`` without leak) whose ``r`` is
picked so that the importer's input gain is exactly 1.0 in float64, and its time constants so that
``1000 tau`` gives back the IR's milliseconds bit for bit. Every projection becomes a ``Linear``
(``Affine`` where a bias must be carried) per distinct delay; a delay of ``d`` steps becomes the hop
(one step) plus a ``Delay`` node of ``(d - 1) dt`` seconds. The projections of the importer's
``bias`` source (delay: the population's first step + k) become the bias of an Affine whose path
has a Delay of k steps. A neuron ``bias`` has no NIR form: it acts from step 0, while a NIR Affine
bias acts from the population's first step (``first_steps``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .errors import UnsupportedOnTarget
from .expand import expand
from .network import Network
from .nir import first_steps
from .nir_neurons import Discretization, neuron_model, tau_ms
from .sources import Poisson, SpikeTimes
from .values import resolve


def _preimage(forward: Callable[[np.ndarray], np.ndarray], target: np.ndarray,
              guess: np.ndarray) -> np.ndarray:
    """x near ``guess`` with ``forward(x) == target`` exactly (forward increasing), found by
    stepping one float at a time; the closest guess when no float maps exactly."""
    x = np.array(guess, dtype=np.float64)
    for _ in range(64):
        y = forward(x)
        wrong = y != target
        if not wrong.any():
            break
        x = np.where(wrong, np.where(y < target, np.nextafter(x, np.inf),
                                     np.nextafter(x, -np.inf)), x)
    return x


def _per_neuron(value: Any, size: int, where: str) -> np.ndarray:
    if not isinstance(value, (int, float, np.ndarray)):
        raise UnsupportedOnTarget("a random distribution cannot be exported to NIR", where=where)
    return np.array(resolve(value, size), dtype=np.float64)


class _Exporter:
    """Collects NIR nodes and edges for one network."""

    def __init__(self, net: Network) -> None:
        import nir

        self.nir = nir
        self.net = net
        meta = net.metadata.get("nir", {}) if isinstance(net.metadata, dict) else {}
        self.meta = meta
        self.steps = self._discretization()
        self.nodes: dict[str, Any] = {}
        self.edges: list[tuple[str, str]] = []
        # (population, k) -> the NIR bias an Affine carries through a Delay of k steps
        self.biases: dict[tuple[str, int], np.ndarray] = {}
        self.senders: dict[str, str] = {}  # population -> node its projections start from
        self.gains: dict[str, np.ndarray] = {}  # population -> the importer's gain (about 1)
        self.native_nodes: set[str] = set()  # linear nodes written back as imported

    def _discretization(self) -> Discretization:
        neurons: list[Any] = [p.neuron for p in self.net.neuron_populations()
                              if p.kind in ("lif", "li") and not self.is_threshold(p.name)]
        kinds = {(n.integrator, getattr(n, "reset", None)) for n in neurons}
        integrators = {k[0] for k in kinds}
        resets = {k[1] for k in kinds} - {None}
        for population in self.net.populations.values():
            where = f"populations.{population.name}"
            if population.kind not in ("lif", "li", "spike_times", "poisson"):
                raise UnsupportedOnTarget(f"NIR export supports lif and li populations, not "
                                          f"{population.kind}", where=where)
        if len(integrators) > 1 or len(resets) > 1:
            raise UnsupportedOnTarget("NIR export needs one integrator and one reset for the "
                                      "whole network (NIR has no per-node choice)",
                                      where="populations")
        return Discretization(self.net.dt / 1000.0, next(iter(integrators), "exact"),
                              next(iter(resets), "zero"), self.meta.get("current", "new"))

    def tau_s(self, value: Any, size: int, where: str) -> np.ndarray:
        target = _per_neuron(value, size, where)
        return _preimage(tau_ms, target, target / 1000.0)

    def unit_r(self, gain: Callable[[np.ndarray], np.ndarray], size: int) -> np.ndarray:
        """r such that the importer's gain ``gain(r)`` is exactly 1.0."""
        ones = np.ones(size)
        return _preimage(gain, ones, ones / gain(ones))

    def unit_r_w_in(self, g_mem: np.ndarray, g_syn: np.ndarray, size: int):
        """(r, w_in) with ``r g_m g_s w_in`` exactly 1.0: r makes ``b = r g_m g_s >= 1``, then
        ``w_in = 1/b <= 1`` has float steps finer than the rounding interval of 1.0, so one hits."""
        ones = np.ones(size)
        r = self.unit_r(lambda r: r * g_mem * g_syn, size)
        low = r * g_mem * g_syn < 1.0
        r = np.where(low, np.nextafter(r, np.inf), r)
        product = r * g_mem * g_syn
        return r, _preimage(lambda w: product * w, ones, ones / product)

    def exact_input(self, values: np.ndarray, post: str) -> np.ndarray:
        """NIR values that the importer's gain maps back to ``values`` bit for bit (rows = post)."""
        gain = self.gains[post].reshape((-1,) + (1,) * (values.ndim - 1))
        if np.all(gain == 1.0):
            return values
        return _preimage(lambda w: w * gain, values, values / gain)

    # ---- populations --------------------------------------------------------------------------
    def is_threshold(self, name: str) -> bool:
        """A lif whose v is this step's input (euler, tau_mem = dt: decay exactly 0) and that
        resets to 0: NIR's Threshold, as ``from_nir`` imports it."""
        population = self.net.populations[name]
        n: Any = population.neuron
        if population.kind != "lif" or n.integrator != "euler" or n.reset != "zero":
            return False
        plain = [n.tau_mem, n.tau_syn, n.v_reset, n.v_leak, n.bias, n.v_init]
        if not all(isinstance(v, (int, float, np.ndarray)) for v in plain + [n.v_th]):
            return False
        tau_mem, tau_syn, *zeros = (np.asarray(v, dtype=np.float64) for v in plain)
        return (bool(np.all(tau_mem == self.net.dt)) and not np.any(tau_syn)
                and not any(np.any(z) for z in zeros) and not n.refractory
                and n.tau_syn_inh is None)

    def neuron(self, name: str) -> None:
        """The NIR node of one lif/li population, with r chosen for an input gain of 1."""
        population = self.net.populations[name]
        n: Any = population.neuron
        size, where = population.size, f"populations.{name}.neuron"
        if self.is_threshold(name):
            node = self.nir.Threshold(threshold=_per_neuron(n.v_th, size, where))
            self.gains[name] = np.ones(size)
            self.nodes[name] = node
            return
        if getattr(n, "refractory", 0) or np.any(_per_neuron(n.v_init, size, where)):
            raise UnsupportedOnTarget("NIR has no refractory period and no initial voltage",
                                      where=where)
        nir, steps, spiking = self.nir, self.steps, population.kind == "lif"
        inh = getattr(n, "tau_syn_inh", None)
        if inh is not None and np.any(np.asarray(inh) != np.asarray(n.tau_syn)):
            raise UnsupportedOnTarget("NIR's CubaLIF has one synaptic current; tau_syn_inh "
                                      "(a second one for negative weights) cannot be exported",
                                      where=f"{where}.tau_syn_inh")
        tau_syn = _per_neuron(n.tau_syn, size, where)
        current = bool(np.any(tau_syn > 0))
        if current and not np.all(tau_syn > 0):
            raise UnsupportedOnTarget("tau_syn is 0 for some neurons only", where=where)
        v_leak = _per_neuron(n.v_leak, size, where)
        spike = ({"v_threshold": _per_neuron(n.v_th, size, where),
                  "v_reset": _per_neuron(n.v_reset, size, where)} if spiking else {})
        tau_mem = _per_neuron(n.tau_mem, size, where)
        no_leak = np.isinf(tau_mem)
        if np.any(no_leak) and current:
            raise UnsupportedOnTarget("a neuron without leak (tau_mem infinite) and with a "
                                      "synaptic current has no NIR node", where=f"{where}.tau_mem")
        if np.any(no_leak) and not np.all(no_leak):
            raise UnsupportedOnTarget("tau_mem is infinite for some neurons only (NIR's IF and I "
                                      "have no leak at all)", where=f"{where}.tau_mem")
        if np.all(no_leak):
            if np.any(v_leak):
                raise UnsupportedOnTarget("a neuron without leak has no v_leak in NIR", where=where)
            node = nir.IF(r=np.ones(size), **spike) if spiking else nir.I(r=np.ones(size))
        elif not current:
            tau = self.tau_s(n.tau_mem, size, where)
            r = self.unit_r(lambda r: r * steps.gain(tau), size)
            node = (nir.LIF(tau=tau, r=r, v_leak=v_leak, **spike) if spiking
                    else nir.LI(tau=tau, r=r, v_leak=v_leak))
        else:
            t_m, t_s = self.tau_s(n.tau_mem, size, where), self.tau_s(tau_syn, size, where)
            r, w_in = self.unit_r_w_in(steps.gain(t_m), steps.gain(t_s), size)
            common = {"tau_syn": t_s, "tau_mem": t_m, "r": r, "v_leak": v_leak, "w_in": w_in}
            node = nir.CubaLIF(**common, **spike) if spiking else nir.CubaLI(**common)
        self.gains[name] = neuron_model(node, steps, where).gain
        if np.any(_per_neuron(n.bias, size, where)):
            raise UnsupportedOnTarget("a neuron bias acts from step 0, a NIR Affine bias from the "
                                      "step the population's first input arrives (one step per "
                                      "hop): it has no NIR equivalent", where=f"{where}.bias")
        self.nodes[name] = node

    def source(self, name: str) -> None:
        population = self.net.populations[name]
        if isinstance(population.source, Poisson) and name == self.meta.get("bias_source"):
            return  # its projections become Affine biases
        if not isinstance(population.source, SpikeTimes):
            raise UnsupportedOnTarget("NIR export supports spike_times sources (NIR Input nodes) "
                                      f"only, not {population.kind}", where=f"populations.{name}")
        shape = self.meta.get("inputs", {}).get(name)
        if shape is None or int(np.prod(shape)) != population.size:
            shape = [population.size]
        self.nodes[name] = self.nir.Input(input_type=np.array(shape))
        if len(shape) > 1:  # NIR's weight nodes take flat vectors
            self.nodes[f"{name}.flatten"] = self.nir.Flatten(input_type=np.array(shape),
                                                             start_dim=0, end_dim=-1)
            self.edges.append((name, f"{name}.flatten"))
            self.senders[name] = f"{name}.flatten"

    # ---- projections --------------------------------------------------------------------------
    def lag(self, post: str) -> int:
        """1 where the import adds a step for 'previous step's current' (see from_nir)."""
        neuron: Any = self.net.populations[post].neuron
        through_current = bool(np.any(np.asarray(neuron.tau_syn) > 0))
        return 1 if self.steps.current == "previous" and through_current else 0

    def is_bias_source(self, name: str) -> bool:
        population = self.net.populations[name]
        return name == self.meta.get("bias_source") and isinstance(population.source, Poisson)

    def first_steps(self, synapses: list[Any]) -> dict[str, int]:
        """Each population's first step as ``from_nir`` computes it from the exported graph (the
        projections with a nonzero weight, which the importer keeps; the bias source's aside)."""
        hops = [(p.pre, p.post) for p, syn in zip(self.net.projections, synapses)
                if not self.is_bias_source(p.pre) and np.any(syn.weight)]
        roots = [p.name for p in self.net.populations.values()
                 if isinstance(p.source, SpikeTimes)]
        return first_steps(hops, roots, self.net.populations)

    def projection(self, index: int, synapses: Any, first: dict[str, int],
                   first_into: dict[tuple[str, int], str]) -> None:
        projection = self.net.projections[index]
        where = f"projections[{index}]"
        pre, post = self.net.populations[projection.pre], self.net.populations[projection.post]
        if post.is_source:
            raise UnsupportedOnTarget("a projection into a source cannot be exported", where=where)
        delays = synapses.delay.astype(np.int64) - self.lag(post.name)
        if self.is_bias_source(pre.name):  # an Affine bias: delay = first step + k
            extra = delays - first[post.name]
            if extra.size and extra.min() < 0:
                raise UnsupportedOnTarget(f"a bias source projection must have a delay of at "
                                          f"least {first[post.name] + self.lag(post.name)} (the "
                                          "population's first step)", where=f"{where}.delay")
            for k in np.unique(extra):
                bias = self.biases.setdefault((post.name, int(k)), np.zeros(post.size))
                chosen = extra == k
                np.add.at(bias, synapses.post[chosen], synapses.weight[chosen])
            return
        if delays.size and delays.min() < 1:
            raise UnsupportedOnTarget("delay too short for the 'previous' current order",
                                      where=f"{where}.delay")
        if self.native(index, synapses, delays, first_into):
            return
        base = projection.name.replace("/", "_")
        for delay in np.unique(delays):
            chosen = delays == delay
            weight = np.zeros((post.size, pre.size))
            np.add.at(weight, (synapses.post[chosen], synapses.pre[chosen]),
                      synapses.weight[chosen])
            name = base if np.unique(delays).size == 1 else f"{base}@{int(delay)}"
            self.nodes[name] = self.nir.Linear(weight=self.exact_input(weight, post.name))
            self.edges.append((self.senders.get(pre.name, pre.name), name))
            first_into.setdefault((post.name, int(delay) - 1), name)
            if delay > 1:
                self.nodes[f"{name}.delay"] = self.nir.Delay(
                    delay=np.full(post.size, (int(delay) - 1) * self.steps.dt_s))
                self.edges += [(name, f"{name}.delay"), (f"{name}.delay", post.name)]
            else:
                self.edges.append((name, post.name))

    def native(self, index: int, synapses: Any, delays: np.ndarray,
               first_into: dict[tuple[str, int], str]) -> bool:
        """Write an imported projection back as the linear nodes it came from (conv, pool,
        Flatten...; ``native_chain``), when it has one delay and its target's gain is 1."""
        projection = self.net.projections[index]
        structure = self.meta.get("linear")
        pre, post = self.net.populations[projection.pre], self.net.populations[projection.post]
        if not structure or np.unique(delays).size != 1 or not np.all(self.gains[post.name] == 1):
            return False
        import scipy.sparse as sp

        pre_shape = tuple(structure.get("shapes", {}).get(pre.name) or (pre.size,))
        if int(np.prod(pre_shape)) != pre.size:
            return False
        target = sp.csr_matrix((synapses.weight.astype(np.float64), (synapses.post, synapses.pre)),
                               shape=(post.size, pre.size))
        chain = native_chain(self.nir, structure, pre.name, post.name, pre_shape, target,
                             f"projections[{index}]")
        if chain is None or any(name in self.nodes for name, _ in chain):
            return False
        sender = pre.name
        for name, node in chain:
            self.native_nodes.add(name)
            self.nodes[name] = node
            self.edges.append((sender, name))
            sender = name
        delay = int(delays[0])
        first_into.setdefault((post.name, delay - 1), sender)
        if delay > 1:
            self.nodes[f"{sender}.delay"] = self.nir.Delay(
                delay=np.full(post.size, (delay - 1) * self.steps.dt_s))
            self.edges += [(sender, f"{sender}.delay"), (f"{sender}.delay", post.name)]
        else:
            self.edges.append((sender, post.name))
        return True

    def with_bias(self, name: str, bias: np.ndarray, population: str) -> Any:
        """The weight node ``name`` carrying ``bias`` (per neuron of ``population``)."""
        node = self.nodes[name]
        kind = type(node).__name__
        if kind in ("Conv1d", "Conv2d"):
            per_channel = bias.reshape(node.weight.shape[0], -1)
            if np.any(per_channel != per_channel[:, :1]):
                raise UnsupportedOnTarget(f"the bias differs within a channel: a {kind} node's "
                                          "bias is one value per channel",
                                          where=f"populations.{population}")
            return type(node)(input_shape=node.input_shape, weight=node.weight,
                              stride=node.stride, padding=node.padding, dilation=node.dilation,
                              groups=node.groups, bias=per_channel[:, 0].copy())
        if kind not in ("Linear", "Affine"):
            raise UnsupportedOnTarget(f"a bias cannot ride on a {kind} node",
                                      where=f"populations.{population}")
        return self.nir.Affine(weight=node.weight, bias=self.exact_input(bias, population))

    def attach_biases(self, first_into: dict[tuple[str, int], str]) -> None:
        """Carry each bias on the first weight node into its population whose Delay (k steps)
        is the bias's (an Affine: ``from_nir`` gives it the population's first step + k)."""
        for (population, k), bias in self.biases.items():
            if not np.any(bias):
                continue
            if (population, k) not in first_into:
                raise UnsupportedOnTarget(f"a bias delayed by {k} step(s) needs an incoming "
                                          f"projection of delay {k + 1} to ride on in NIR",
                                          where=f"populations.{population}")
            name = first_into[(population, k)]
            self.nodes[name] = self.with_bias(name, bias, population)

    def drop_unused_flattens(self) -> None:
        """An input's Flatten feeds dense Linear nodes only: gone when native nodes took them."""
        for population, flatten in list(self.senders.items()):
            if not any(src == flatten for src, _ in self.edges if _ != flatten):
                del self.nodes[flatten], self.senders[population]
                self.edges = [edge for edge in self.edges if flatten not in edge]

    def shape_neurons(self) -> None:
        """Give a neuron node its imported shape ([C, H, W]...) where only native nodes (and
        Outputs) touch it: NIR checks that a Conv2d's output type is its next node's input."""
        import dataclasses

        shapes = (self.meta.get("linear") or {}).get("shapes", {})
        for population in self.net.neuron_populations():
            shape = tuple(shapes.get(population.name) or ())
            if len(shape) < 2 or int(np.prod(shape)) != population.size:
                continue
            ends = [dst for src, dst in self.edges if src == population.name]
            ends += [src for src, dst in self.edges if dst == population.name]
            if not all(n in self.native_nodes or type(self.nodes[n]).__name__ == "Output"
                       for n in ends):
                continue
            node = self.nodes[population.name]
            changes = {f.name: np.reshape(getattr(node, f.name), shape)
                       for f in dataclasses.fields(node)
                       if np.size(getattr(node, f.name)) == population.size
                       and isinstance(getattr(node, f.name), np.ndarray)}
            self.nodes[population.name] = type(node)(**changes)
            for name in ends:
                if type(self.nodes[name]).__name__ == "Output":
                    self.nodes[name] = self.nir.Output(output_type=np.array(shape))

    def outputs(self) -> None:
        names = self.meta.get("outputs")
        if names is None:  # not imported from NIR: the populations that feed nothing
            fed = {p.pre for p in self.net.projections}
            names = [p.name for p in self.net.neuron_populations() if p.name not in fed]
        structure = self.meta.get("linear") or {}
        imported: dict[str, list[str]] = {}  # population -> its Output node's imported name
        for src, dst in structure.get("edges", []):
            if src in names and dst not in structure.get("nodes", {}) and dst not in \
                    self.net.populations:
                imported.setdefault(src, []).append(dst)
        for population in names:
            node = "output" if len(names) == 1 else f"output_{population}"
            if len(imported.get(population, [])) == 1 and imported[population][0] not in \
                    self.nodes:
                node = imported[population][0]
            size = self.net.populations[population].size
            self.nodes[node] = self.nir.Output(output_type=np.array([size]))
            self.edges.append((population, node))

    def graph(self) -> Any:
        for population in self.net.populations.values():
            (self.source if population.is_source else self.neuron)(population.name)
        synapses = [expand(self.net, projection) for projection in self.net.projections]
        first = self.first_steps(synapses)
        first_into: dict[tuple[str, int], str] = {}
        for index, found in enumerate(synapses):
            self.projection(index, found, first, first_into)
        self.attach_biases(first_into)
        self.drop_unused_flattens()
        self.outputs()
        self.shape_neurons()
        metadata = {"snnc_dt_s": self.steps.dt_s, "snnc_integrator": self.steps.integrator,
                    "snnc_reset": self.steps.reset, "snnc_current": self.steps.current}
        return self.nir.NIRGraph(nodes=self.nodes, edges=self.edges, metadata=metadata)


def to_nir(network: Network) -> Any:
    """Export a network of ``lif``/``li`` populations and projections as a ``nir.NIRGraph``.

    Import it back with ``from_nir(graph, dt=network.dt / 1000, integrator=..., reset=...)``
    (the values are in ``graph.metadata``) to get the same network. Anything NIR cannot carry
    (refractory periods, initial voltages, Loihi/SpiNNaker integer kinds, Poisson sources) raises
    ``UnsupportedOnTarget`` naming the population or projection.
    """
    return _Exporter(network).graph()


# ---- native linear nodes: an imported projection written back as its conv/pool/... nodes ------
WEIGHTED = ("Conv1d", "Conv2d", "Affine", "Linear", "Scale")
FIXED = ("SumPool2d", "AvgPool2d", "Flatten", "Identity")


def _chain(structure: dict[str, Any], pre: str, post: str) -> list[str] | None:
    """The linear nodes on the single path from ``pre`` to ``post`` recorded by ``from_nir``
    (``metadata["nir"]["linear"]``), in order; None when there is no such single simple path."""
    nodes = structure.get("nodes", {})
    outgoing: dict[str, list[str]] = {}
    incoming: dict[str, list[str]] = {}
    for src, dst in structure.get("edges", []):
        outgoing.setdefault(src, []).append(dst)
        incoming.setdefault(dst, []).append(src)
    found = []
    for first in outgoing.get(pre, []):
        chain, at = [], first
        while at in nodes and len(incoming.get(at, [])) == 1 and len(outgoing.get(at, [])) == 1:
            chain.append(at)
            at = outgoing[at][0]
        if at == post and chain and all(n in nodes for n in chain):
            found.append(chain)
    return found[0] if len(found) == 1 else None


def _tap_matrix(entry: dict[str, Any], shape: tuple[int, ...], where: str) -> tuple[Any, tuple]:
    """The weighted node's matrix with tap ``k`` (C order of its weight) stored as ``k + 1``."""
    import scipy.sparse as sp

    from .nir_linear import conv1d_matrix, conv2d_matrix

    kind = entry["type"]
    if kind == "Scale":
        size = int(entry["size"])
        return sp.diags(np.arange(1.0, size + 1.0), format="csr"), (size,)
    weight_shape = tuple(int(v) for v in entry["weight_shape"])
    taps = np.arange(1.0, np.prod(weight_shape) + 1.0).reshape(weight_shape)
    if kind in ("Affine", "Linear"):
        return sp.csr_matrix(taps), (weight_shape[0],)
    build = conv2d_matrix if kind == "Conv2d" else conv1d_matrix
    return build(taps, shape, entry["stride"], entry["padding"], entry["dilation"],
                 int(entry["groups"]), where)


def _fixed_matrix(entry: dict[str, Any], shape: tuple[int, ...], where: str) -> tuple[Any, tuple]:
    from .nir_linear import identity, pool2d_matrix

    kind = entry["type"]
    if kind in ("SumPool2d", "AvgPool2d"):
        return pool2d_matrix(shape, entry["kernel_size"], entry["stride"], entry["padding"],
                             kind == "AvgPool2d", where)
    out = tuple(entry.get("output_shape") or (int(np.prod(shape)),))
    return identity(int(np.prod(shape))), out


def _solve_taps(taps: Any, fixed: Any, target: Any, count: int) -> np.ndarray:
    """The weights ``w`` (one per tap) with ``W(w) @ fixed == target`` in least squares, where
    ``W(w)`` puts ``w[k]`` wherever ``taps`` holds ``k + 1``: one sparse normal-equation solve."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    t = taps.tocoo()
    fixed = fixed.tocsr()
    counts = np.diff(fixed.indptr)[t.col]
    rows = np.repeat(t.row, counts)
    tap = np.repeat(t.data.astype(np.int64) - 1, counts)
    starts = np.repeat(fixed.indptr[t.col], counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    columns = fixed.indices[starts + offsets]
    coefficient = fixed.data[starts + offsets]
    n_in = fixed.shape[1]
    equation = rows.astype(np.int64) * n_in + columns
    design = sp.csr_matrix((coefficient, (equation, tap)), shape=(taps.shape[0] * n_in, count))
    values = np.asarray(target.tocsr()[rows, columns]).ravel()
    rhs = np.zeros(design.shape[0])
    rhs[equation] = values  # one value per equation (repeated equations carry the same one)
    normal = (design.T @ design).tocsc()
    used = normal.diagonal() != 0
    weight = np.zeros(count)
    if used.any():
        sub = normal[used][:, used]
        weight[used] = np.atleast_1d(spsolve(sub.tocsc(), (design.T @ rhs)[used]))
    # where an equation holds one tap alone (no overlapping pool windows), its value / its
    # coefficient is that tap's weight exactly: prefer it to the rounded least-squares value
    single = np.diff(design.indptr) == 1
    rows_alone = np.flatnonzero(single)
    taps_alone = design.indices[design.indptr[rows_alone]]
    taps_first, index = np.unique(taps_alone[::-1], return_index=True)
    chosen = rows_alone[::-1][index]
    weight[taps_first] = rhs[chosen] / design.data[design.indptr[chosen]]
    return weight


def _native_nodes(nir: Any, entry: dict[str, Any], weight: np.ndarray, shape: tuple[int, ...]):
    """The NIR node of one recorded linear node, with the recovered weight."""
    kind = entry["type"]
    if kind == "Flatten":
        return nir.Flatten(input_type={"input": np.array(shape)}, start_dim=int(entry["start_dim"]),
                           end_dim=int(entry["end_dim"]))
    if kind in ("SumPool2d", "AvgPool2d"):
        return getattr(nir, kind)(kernel_size=np.array(entry["kernel_size"]),
                                  stride=np.array(entry["stride"]),
                                  padding=np.array(entry["padding"]))
    if kind == "Identity":
        return nir.Identity(input_type={"input": np.array(shape)})
    if kind == "Scale":  # shaped like its input, so NIR's type check passes
        return nir.Scale(scale=weight.reshape(shape) if np.prod(shape) == weight.size else weight)
    if kind == "Affine":  # its bias (zero here) is set where the network has one
        return nir.Affine(weight=weight.reshape(entry["weight_shape"]),
                          bias=np.zeros(int(entry["weight_shape"][0])))
    if kind == "Linear":
        return nir.Linear(weight=weight.reshape(entry["weight_shape"]))
    weights = weight.reshape(entry["weight_shape"])
    geometry = {key: entry[key] for key in ("stride", "padding", "dilation")}
    if kind == "Conv1d":
        geometry = {key: (v if isinstance(v, str) else int(np.ravel(v)[0]))
                    for key, v in geometry.items()}
    else:
        geometry = {key: (v if isinstance(v, str) else tuple(int(x) for x in np.ravel(v)))
                    for key, v in geometry.items()}
    in_shape = entry.get("input_shape")
    if in_shape is not None:
        in_shape = int(np.ravel(in_shape)[0]) if kind == "Conv1d" else np.array(in_shape)
    return getattr(nir, kind)(input_shape=in_shape,
                              weight=weights, groups=int(entry["groups"]),
                              bias=np.zeros(weights.shape[0]), **geometry)


def native_chain(nir: Any, structure: dict[str, Any], pre: str, post: str, pre_shape: tuple,
                 target: Any, where: str) -> list[tuple[str, Any]] | None:
    """``[(name, node), ...]`` that give the projection's matrix ``target`` [post, pre] from
    ``pre``'s signal, when it was imported from such nodes: fixed nodes (pools, Flatten) then one
    weighted node (Conv1d/2d, Affine/Linear, Scale), its weights solved from the synapses and
    checked; None where the recorded nodes do not give back ``target`` (dense Linear then)."""
    import scipy.sparse as sp

    from .errors import SnncError

    chain = _chain(structure, pre, post)
    nodes = structure.get("nodes", {})
    if chain is None or any(nodes[n]["type"] not in WEIGHTED + FIXED for n in chain):
        return None
    kinds = [nodes[n]["type"] for n in chain]
    weighted = [k for k, kind in enumerate(kinds) if kind in WEIGHTED]
    if len(weighted) != 1 or weighted[0] != len(chain) - 1:
        return None
    try:
        shape, fixed, shapes = tuple(pre_shape), sp.identity(int(np.prod(pre_shape)),
                                                             format="csr"), []
        for name in chain[:-1]:
            shapes.append(shape)
            matrix, shape = _fixed_matrix(nodes[name], shape, where)
            fixed = (matrix @ fixed).tocsr()
        shapes.append(shape)
        entry = nodes[chain[-1]]
        if entry["type"] in ("Conv1d", "Conv2d") and entry.get("input_shape") is not None:
            channels = int(entry["weight_shape"][1]) * int(entry["groups"])
            shape = (channels, *(int(v) for v in np.atleast_1d(entry["input_shape"])))
        taps, _ = _tap_matrix(entry, shape, where)
        if taps.shape != (target.shape[0], fixed.shape[0]):
            return None
        count = int(np.prod(entry.get("weight_shape") or [entry.get("size", 0)]))
        weight = _solve_taps(taps, fixed, target, count)
        rebuilt = sp.csr_matrix(taps, copy=True)
        rebuilt.data = weight[taps.data.astype(np.int64) - 1]
        difference = abs((rebuilt @ fixed).tocsr() - target.tocsr())
        scale = max(1.0, float(abs(target).max()) if target.nnz else 1.0)
        if difference.nnz and difference.max() > 1e-12 * scale:
            return None
    except (SnncError, ValueError, KeyError, TypeError, IndexError):
        return None
    return [(name, _native_nodes(nir, nodes[name], weight, node_shape))
            for name, node_shape in zip(chain, shapes)]
