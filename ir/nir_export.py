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

    def _discretization(self) -> Discretization:
        neurons: list[Any] = [p.neuron for p in self.net.neuron_populations()
                              if p.kind in ("lif", "li")]
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
    def neuron(self, name: str) -> None:
        """The NIR node of one lif/li population, with r chosen for an input gain of 1."""
        population = self.net.populations[name]
        n: Any = population.neuron
        size, where = population.size, f"populations.{name}.neuron"
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
            self.nodes[name] = self.nir.Affine(weight=self.nodes[name].weight,
                                               bias=self.exact_input(bias, population))

    def outputs(self) -> None:
        names = self.meta.get("outputs")
        if names is None:  # not imported from NIR: the populations that feed nothing
            fed = {p.pre for p in self.net.projections}
            names = [p.name for p in self.net.neuron_populations() if p.name not in fed]
        for population in names:
            node = "output" if len(names) == 1 else f"output_{population}"
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
        self.outputs()
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
