"""``compile_network``: the one driver, validate -> quantize -> partition -> place -> route -> report.

Each stage is a named step with a short reason; ``hook(stage, seconds, artifact)`` is called after
each (print, time, verify), as tinygrad's lowering and xDSL's ``PassPipeline`` callback do. A network
that does not fit still compiles: ``build.report.fits`` is False and ``report.violations`` says why,
so the caller can write the partial report (``snnc compile`` then exits 1, docs/cli.md).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Mapping

from snnc.ir import Network, verify
from snnc.models.support import check_network
from snnc.models.targets import TARGET_NAMES, get_target

from .artifacts import CompiledBuild
from .hardware import HardwareSpec, hardware_for
from .mapping.graph import build_graph
from .mapping.load import estimated_rates, load_model, neuron_rates
from .mapping.partition import STRATEGIES, partition
from .mapping.place import hop_traffic, hop_traffic_bound, place
from .mapping.route import route
from .report import build_report

if TYPE_CHECKING:
    from .passes.quantize import QuantizeOptions

Hook = Callable[[str, float, Any], None]
COMPILE_TARGETS = TARGET_NAMES


def _quantize(network: Network, target: str, options: Any = None) -> tuple[Network, Any]:
    """Fixed point of the target (the reference runs the float network as it is)."""
    if not get_target(target).quantizes:
        check_network(network, get_target(target))
        return network, None
    from .passes.quantize import quantize

    quantized, report = quantize(network, target, options)
    return quantized.network, report


def _extend_delays(network: Network, target: str, spec: HardwareSpec) -> tuple[Network, Any]:
    """Relays for delays above the target's and the hardware's maximum, on targets that relay."""
    chip = get_target(target)
    if not chip.delay_extension or chip.max_delay is None:
        return network, None  # the expand stage refuses the long delays, naming the projection
    from .passes.delays import extend_delays

    return extend_delays(network, min(chip.max_delay, spec.max_delay))


def compile_network(network: Network, target: str, hardware: "str | HardwareSpec | None" = None,
                    *, strategy: str = "greedy", max_neurons_per_core: int | None = None,
                    hook: Hook | None = None,
                    quantize_options: "QuantizeOptions | None" = None,
                    rates: Mapping[str, float] | None = None,
                    estimate_rates: int | None = None,
                    time_scale_factor: float | None = None) -> CompiledBuild:
    """Compile ``network`` for ``target`` on ``hardware`` (the target's default when None).

    ``quantize_options`` are the quantization pass's (``snnc compile --option KEY=VALUE``).
    ``rates`` (Hz per population), ``estimate_rates`` (steps of a float reference run) and
    ``time_scale_factor`` set the real-time load the mapping must respect
    (``mapping/load.py``).
    """
    from snnc.ir import SnncError

    target = get_target(target).name
    if strategy not in STRATEGIES:
        raise SnncError(f"unknown strategy '{strategy}' (known: {', '.join(STRATEGIES)})",
                        where="--strategy")
    spec = hardware_for(target, hardware)
    if time_scale_factor is not None:
        if not time_scale_factor > 0:
            raise SnncError(f"must be > 0, got {time_scale_factor}", where="--time-scale-factor")
        spec = spec.model_copy(update={"time_scale_factor": float(time_scale_factor)})
    timings: dict[str, float] = {}

    def stage(name: str, run: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        artifact = run()
        timings[name] = time.perf_counter() - start
        if hook is not None:
            hook(name, timings[name], artifact)
        return artifact

    # The IR must be valid before anything maps it (a pass leaves the IR valid).
    stage("validate", lambda: verify(network))
    # Integer weights and parameters of the target; every backend then runs this network.
    quantized, quantization = stage("quantize", lambda: _quantize(network, target, quantize_options))
    if get_target(target).max_delay is not None:
        # Delays above a core's maximum go through chains of relay neurons (passes/delays.py).
        quantized, delay_extension = stage("delays",
                                           lambda: _extend_delays(quantized, target, spec))
    else:
        delay_extension = None
    measured = (stage("rates", lambda: estimated_rates(quantized, estimate_rates,
                                                       get_target(target).numerics))
                if estimate_rates is not None and spec.clock_hz is not None else None)
    per_neuron = neuron_rates(quantized, rates, measured)
    # One flat synapse graph; delays above the target's maximum are errors naming the projection.
    graph = stage("expand", lambda: build_graph(quantized, spec,
                                                check_delays=get_target(target).quantizes,
                                                rates=per_neuron))
    # Slices onto cores under every per-core limit, real-time load included.
    load = load_model(spec, quantized.dt)
    parts = stage("partition", lambda: partition(graph, spec, strategy=strategy,
                                                 max_neurons_per_core=max_neurons_per_core,
                                                 load=load))
    # Cores onto chips, linked cores close together.
    placement = stage("place", lambda: place(parts, spec))
    # Keys, multicast trees and compressed per-chip tables.
    routing = stage("route", lambda: route(parts, placement, spec))
    report = stage("report", lambda: build_report(
        target=target, spec=spec, network=quantized, graph=graph, parts=parts,
        placement=placement, routing=routing, quantization=quantization,
        hop_traffic=hop_traffic(parts, placement, spec),
        hop_traffic_bound=hop_traffic_bound(parts, spec),
        max_neurons_per_core=max_neurons_per_core, delay_extension=delay_extension, load=load,
        rates_from=("--estimate-rates" if measured is not None else
                    "--rates" if rates else "defaults")))
    return CompiledBuild(target=target, hardware=spec, network=quantized,
                         quantization=quantization, partition=parts.partitioning,
                         placement=placement, routing=routing, report=report, timings=timings)
