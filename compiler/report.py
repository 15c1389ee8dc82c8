"""``ResourceReport``: what each core holds, against the hardware's limits, and why it does not fit.

Data first (a pydantic model dumped to ``report.json``: per core ``id``, ``chip``, ``neurons``,
``synapses``, ``memory_bytes``, ``fan_in``, ``fan_out``, ``slices``, plus ``routing``,
``quantization`` and ``violations``; docs/compile.md, "Reading the report"), then renderers:
``to_text`` (the table of ``report.txt``), ``to_csv`` (one row per core) and ``plot`` (a PNG heat
map of per-core utilisation on the chips). A violation is one line: where (core and chip, or chip),
the resource, needed vs available, the fix.
"""

from __future__ import annotations

import io
import json
from typing import Any, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict

from snnc.ir.text import counted
from snnc.models.targets import TARGETS

from .hardware import BUILTIN, HardwareSpec, load_hardware


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SliceEntry(_Model):
    population: str
    start: int
    stop: int


class CoreEntry(_Model):
    """One core: its resources first (``id`` .. ``slices``), then kind, processor and utilisation
    (0..1 per limit)."""

    id: int
    chip: Optional[list[int]]
    neurons: int
    synapses: int
    memory_bytes: int
    fan_in: int
    fan_out: int
    slices: list[SliceEntry]
    kind: str
    processor: Optional[int]
    extends: Optional[int] = None
    utilization: dict[str, float]
    load_cycles: Optional[int] = None  # estimated cycles per tick (SpiNNaker; mapping/load.py)


class ChipRouting(_Model):
    chip: list[int]
    entries: int
    entries_raw: int


class RoutingSection(_Model):
    """Router use: entries per chip after default-route elision and compression."""

    entries_limit: Optional[int]
    total_entries: int
    total_entries_raw: int
    max_entries: int
    multicast_groups: int
    chips: list[ChipRouting]


class ResourceReport(_Model):
    """The whole report (``report.json``)."""

    target: str
    hardware: str
    fits: bool
    strategy: str
    limits: dict[str, Optional[int]]
    totals: dict[str, Any]
    cores: list[CoreEntry]
    routing: RoutingSection
    quantization: Optional[dict[str, Any]]
    violations: list[str]
    delay_extension: Optional[dict[str, Any]] = None  # relays of long delays (passes/delays.py)

    def to_json(self) -> str:
        """``report.json`` text (stable key order, same input -> same bytes)."""
        data = self.model_dump(mode="json")
        if data["delay_extension"] is None:  # only builds with relay neurons have the entry
            del data["delay_extension"]
        for core in data["cores"]:  # only targets with a per-tick cycle budget have loads
            if core["load_cycles"] is None:
                del core["load_cycles"]
        return json.dumps(data, indent=1) + "\n"

    def to_text(self) -> str:
        """``report.txt``: summary, per-core table, per-chip routing, violations."""
        return render_text(self)

    def to_csv(self) -> str:
        """One row per core."""
        out = io.StringIO()
        out.write("id,kind,chip_x,chip_y,processor,neurons,synapses,memory_bytes,fan_in,fan_out,"
                  "slices\n")
        for c in self.cores:
            x, y = c.chip if c.chip else ("", "")
            slices = ";".join(f"{s.population}[{s.start}:{s.stop}]" for s in c.slices)
            proc = "" if c.processor is None else c.processor
            out.write(f"{c.id},{c.kind},{x},{y},{proc},{c.neurons},{c.synapses},"
                      f"{c.memory_bytes},{c.fan_in},{c.fan_out},{slices}\n")
        return out.getvalue()


def _ratio(used: int, limit: int | None) -> float:
    return round(used / limit, 4) if limit else 0.0


def _core_entries(parts, placement, spec: HardwareSpec, loads: np.ndarray | None = None,
                  budget: int | None = None) -> list[CoreEntry]:
    entries = []
    for core in parts.partitioning.cores:
        i = core.id
        loc = placement.location.get(i)
        load = int(round(float(loads[i]))) if loads is not None and budget else None
        extra = {"load": _ratio(load, budget)} if load is not None else {}
        entries.append(CoreEntry(
            id=i, chip=list(loc[:2]) if loc else None, processor=loc[2] if loc else None,
            neurons=int(parts.neurons[i]), synapses=int(parts.synapses[i]),
            memory_bytes=int(parts.memory_bytes[i]), fan_in=int(parts.fan_in[i]),
            fan_out=int(parts.fan_out[i]), kind=core.kind, extends=core.extends,
            slices=[SliceEntry(population=s.population, start=s.start, stop=s.stop)
                    for s in core.slices],
            utilization={
                "neurons": _ratio(int(parts.neurons[i]), spec.source_capacity
                                  if core.kind != "neuron" else spec.neurons_per_core),
                "memory": _ratio(int(parts.memory_bytes[i]), spec.memory_bytes_per_core),
                "fan_in": _ratio(int(parts.fan_in[i]), spec.fan_in_per_core),
                "fan_out": _ratio(int(parts.fan_out[i]), spec.fan_out_per_core),
                **extra,
            }, load_cycles=load))
    return entries


def _routing_section(routing, spec: HardwareSpec) -> RoutingSection:
    chips = sorted(set(routing.tables) | set(routing.entries_raw))
    rows = [ChipRouting(chip=list(c), entries=len(routing.tables[c]) if c in routing.tables else 0,
                        entries_raw=routing.entries_raw.get(c, 0)) for c in chips]
    return RoutingSection(
        entries_limit=spec.router_entries_per_chip,
        total_entries=sum(r.entries for r in rows), total_entries_raw=sum(r.entries_raw for r in rows),
        max_entries=max([r.entries for r in rows] or [0]),
        multicast_groups=sum(1 for t in routing.targets.values() if t), chips=rows)


def build_report(*, target: str, spec: HardwareSpec, network, graph, parts, placement, routing,
                 quantization, hop_traffic: float, max_neurons_per_core: int | None,
                 delay_extension: Any = None, load: Any = None, hop_traffic_bound: float = 0.0,
                 rates_from: str = "defaults") -> ResourceReport:
    """Assemble the report of a compilation and check every limit."""
    budget = spec.cycles_per_tick(network.dt)
    loads = None
    if budget is not None and load is not None and load.limited:
        from .mapping.load import core_loads

        loads = core_loads(parts, graph, load, routing.delay_stages)
    cores = _core_entries(parts, placement, spec, loads, budget)
    kinds = [c.kind for c in cores]
    routing_section = _routing_section(routing, spec)
    violations = core_violations(cores, spec, max_neurons_per_core)
    violations += load_violations(cores, spec, budget)
    violations += machine_violations(cores, spec) + router_violations(routing_section, spec)
    # the rules of planning-only chips: crossbars, conv-layer cores, fixed counts (rules.py)
    from .mapping.rules import planning_rules

    planning_lines, planning = planning_rules(spec, network, graph, parts.core_of)
    violations += planning_lines
    chips_used = {tuple(c.chip) for c in cores if c.chip}
    totals = {
        "cores": len(cores), "chips": len(chips_used),
        "neurons": int(graph.neuron_ids().size), "synapses": graph.synapse_count,
        "neuron_cores": kinds.count("neuron"), "source_cores": kinds.count("source"),
        "delay_cores": kinds.count("delay"), "source_neurons": int(graph.source_ids().size),
        "lower_bound": parts.partitioning.lower_bound,
        "lower_bound_totals": parts.totals_bound,
        "cores_over_bound": _over_bound(kinds, parts.partitioning.lower_bound),
        "traffic_cut": round(float(parts.partitioning.traffic_cut), 6),
        "hop_traffic": round(hop_traffic, 6),
        "hop_traffic_bound": round(hop_traffic_bound, 6),
    }
    if planning:
        planning["checks"] = planning_checks(spec, planning, cores)
        totals["planning"] = planning
        cores = planning_use(cores, spec, planning)
    if loads is not None and budget:
        peak = float(loads.max()) if loads.size else 0.0
        totals["realtime"] = {
            "cycles_per_tick": budget, "time_scale_factor": spec.time_scale_factor,
            "max_load": round(peak / budget, 4),
            "max_load_core": int(np.argmax(loads)) if loads.size else None,
            "load_headroom": spec.load_headroom,
            "time_scale_factor_needed": _factor_needed(peak, budget * spec.load_headroom,
                                                       spec.time_scale_factor),
            "rates_from": rates_from,
        }
    q = quantization.to_json() if quantization is not None else None
    return ResourceReport(
        target=target, hardware=spec.name, fits=not violations, strategy=parts.partitioning.strategy,
        limits=spec.limits(), totals=totals, cores=cores, routing=routing_section, quantization=q,
        violations=violations,
        delay_extension=(delay_extension.to_json()
                         if delay_extension is not None and delay_extension.relay_populations
                         else None))


def _check(rule: str, need: int, have: int | None, fits: bool | None = None,
           **extra: Any) -> dict[str, Any]:
    return {"rule": rule, "need": int(need), "have": have,
            "fits": bool(need <= have) if fits is None and have is not None else bool(fits),
            **extra}


def planning_checks(spec: HardwareSpec, plan: dict[str, Any],
                    cores: list[CoreEntry]) -> list[dict[str, Any]]:
    """``totals.planning.checks`` of a planning chip: per counted rule, what the network needs
    (the largest core's, for a per-core rule) against what the chip has, and whether it fits.
    Rules without a count (delays, parallel synapses, destinations, which population projects
    where) appear only as violations."""
    neuron_cores = [c for c in cores if c.kind != "delay"]
    most = max((c.neurons for c in neuron_cores), default=0)
    checks = []
    if spec.core_model == "fixed":
        words = {"inputs": "input channels", "hidden_neurons": "hidden neurons",
                 "outputs": "output neurons"}
        checks += [_check(words[f], plan.get(f, 0), getattr(spec, f)) for f in words
                   if getattr(spec, f) is not None]
        checks.append(_check("hidden + output neurons", most, spec.neurons_per_core))
        return checks
    if spec.core_model == "conv":
        kernels, neurons = spec.kernel_memory_per_core or (), spec.neuron_memory_per_core or ()
        layers = plan.get("layers", {})
        checks.append(_check("layers (one per core)", len(layers), len(kernels)))
        for name, layer in layers.items():
            core = layer.get("core")
            where = {"core": core}
            for key, caps in (("kernel_memory", kernels), ("neuron_memory", neurons)):
                have = caps[core] if core is not None and core < len(caps) else max(caps)
                checks.append(_check(f"layer '{name}' {key.replace('_', ' ')}", layer[key],
                                     int(have), fits=core is not None, **where))
        return checks
    checks.append(_check("cores", len(neuron_cores), spec.max_cores))
    checks.append(_check("neurons per core (max)", most, spec.neurons_per_core))
    if spec.core_model == "crossbar":
        types = spec.axon_types or 0
        needed = int(plan.get("axon_types_needed", 0))
        checks.append(_check("axons per core (max)", plan.get("axons_max", 0),
                             spec.axons_per_core))
        # the greedy typing stops counting one past the limit: then the need is "more than"
        checks.append(_check("axon types per core (max)", needed, types,
                             **({"at_least": True} if needed == types + 1 else {})))
        return checks
    checks.append(_check("synaptic memory per core (max, B)",
                         max((c.memory_bytes for c in neuron_cores), default=0),
                         spec.memory_bytes_per_core))
    if spec.fan_in_per_core is not None:
        checks.append(_check("fan-in per core (max)",
                             max((c.fan_in for c in neuron_cores), default=0),
                             spec.fan_in_per_core))
    return checks


def planning_use(cores: list[CoreEntry], spec: HardwareSpec,
                 plan: dict[str, Any]) -> list[CoreEntry]:
    """The chip's own per-core limits added to each core's ``utilization`` (the heat map's
    panels): a crossbar core's axons (``axons``), a conv core's kernel and neuron memory
    (``kernel_memory``, ``neuron_memory``: of the Speck core the layer was matched to, or of the
    largest one when it has none)."""
    def using(core: CoreEntry, **use: float) -> CoreEntry:
        return core.model_copy(update={"utilization": {**core.utilization, **use}})

    if spec.core_model == "crossbar":
        axons = plan.get("axons_by_core", [])
        return [using(c, axons=_ratio(axons[c.id] if c.id < len(axons) else 0,
                                      spec.axons_per_core)) for c in cores]
    if spec.core_model == "conv":
        kernels, neurons = spec.kernel_memory_per_core or (), spec.neuron_memory_per_core or ()
        layers, out = plan.get("layers", {}), []
        for core in cores:
            layer = layers.get(_main_population(core))
            if layer is None or not kernels:
                out.append(core)
                continue
            k = layer.get("core")
            kernel_cap, neuron_cap = (kernels[k], neurons[k]) if k is not None \
                else (max(kernels), max(neurons))
            out.append(using(core, kernel_memory=_ratio(layer["kernel_memory"], kernel_cap),
                             neuron_memory=_ratio(layer["neuron_memory"], neuron_cap)))
        return out
    return cores


def _planning_lines(report: "ResourceReport") -> list[str]:
    """report.txt's planning block: the counted rules of a planning chip, need against have."""
    plan = report.totals.get("planning") or {}
    checks = plan.get("checks")
    if not checks:
        return []
    rows = []
    for check in checks:
        need = f"{check['need']:,}"
        if check.get("at_least"):
            need = f"> {check['have']:,}"
        have = "-" if check["have"] is None else f"{check['have']:,}"
        if "core" in check:
            have += " (no core holds it)" if check["core"] is None else f" (core {check['core']})"
        rows.append([check["rule"], need, have, "yes" if check["fits"] else "NO"])
    broken = sum(1 for check in checks if not check["fits"])
    head = (f"planning ({report.hardware}, core model {plan.get('core_model')}): "
            f"{counted(len(checks), 'counted rule')}, {broken} broken"
            + ("; every broken rule, counted or not, is under 'does not fit' below"
               if report.violations else ""))
    return ["", head] + ["  " + line for line in _table(["rule", "need", "have", "fits"], rows)]


def _over_bound(kinds: list[str], bound: int) -> float | None:
    """Neuron + source cores over the row-aware lower bound (delay cores are not bounded)."""
    used = kinds.count("neuron") + kinds.count("source")
    return round(used / bound, 4) if bound else None


def _bigger_builtin(spec: HardwareSpec, field: str, used: int) -> str:
    """' or use NAME' for a built-in spec of the same family with room for ``used``."""
    for name in BUILTIN:
        other = load_hardware(name)
        limit = getattr(other, field)
        if (name != spec.name and other.family == spec.family
                and other.core_model == spec.core_model and (limit is None or limit >= used)):
            return f" or use --hardware {name}"
    return ""


def _main_population(core: CoreEntry) -> str:
    return max(core.slices, key=lambda s: s.stop - s.start).population if core.slices else "-"


def _where(core: CoreEntry) -> str:
    chip = f"chip {core.chip[0]},{core.chip[1]}" if core.chip else "not placed"
    return f"core {core.id} ({chip})"


def _splits(spec: HardwareSpec) -> bool:
    """Whether more cores help: not on a chip of one core, nor where the core model assigns the
    cores (``conv``: one layer per core; ``fixed``: the whole network is one core), for which
    ``--max-neurons-per-core`` changes nothing."""
    return spec.core_model not in ("conv", "fixed") and spec.max_cores > 1


def _other_chip(spec: HardwareSpec, field: str, used: int) -> str:
    """', or another chip' naming a built-in one of the same core model with room, if any (not
    for ``fixed`` chips, whose other counts the per-core check does not see)."""
    bigger = _bigger_builtin(spec, field, used) if spec.core_model != "fixed" else ""
    return (f", or another chip ({bigger.removeprefix(' or use ')})" if bigger
            else ", or another chip (snnc targets lists every chip's limits)")


def _neurons_fix(core: CoreEntry, cap: int, spec: HardwareSpec) -> str:
    """'> CAP ... — FIX' of a core with too many neurons: the limit named, and a fix that can
    help on this chip."""
    if _splits(spec):
        return f"{cap:,} — use --max-neurons-per-core {cap} or less"
    from .mapping.rules import chip_label

    chip, more = chip_label(spec), _other_chip(spec, "neurons_per_core", core.neurons)
    if spec.core_model == "fixed":
        return (f"{cap:,}, the hidden and output neurons {chip} holds in all (one core of fixed "
                f"size: --max-neurons-per-core cannot split it) — use fewer hidden neurons{more}")
    if spec.core_model == "conv":
        return (f"{cap:,}, the most neurons one {chip} core holds (one layer per core: "
                f"--max-neurons-per-core cannot split layer '{_main_population(core)}') — use "
                f"fewer channels or a smaller map{more}")
    return (f"{cap:,}, the neurons of {chip}'s only core (--max-neurons-per-core cannot help) — "
            f"use fewer neurons{more}")


def _fix_per_core(core: CoreEntry, used: int, limit: int, field: str, spec: HardwareSpec) -> str:
    if not _splits(spec):  # no more cores to spread over: the network itself must shrink
        return ("the chip cannot spread it over more cores: give its neurons fewer incoming "
                "synapses" + _other_chip(spec, field, used))
    if core.neurons > 1:
        fewer = max(1, core.neurons * limit // max(used, 1))
        return (f"reduce neurons per core with --max-neurons-per-core {fewer}"
                + _bigger_builtin(spec, field, used))
    return ("a single neuron needs more than a core has: give it fewer incoming synapses"
            + _bigger_builtin(spec, field, used))


def core_violations(cores: list[CoreEntry], spec: HardwareSpec,
                    max_neurons_per_core: int | None) -> list[str]:
    """One line per core and exceeded per-core limit."""
    lines = []
    for core in cores:
        what = (f"{counted(core.neurons, 'neuron')} of population '{_main_population(core)}' "
                f"with fan-in {core.fan_in:,}")
        cap = spec.source_capacity if core.kind == "source" else spec.neurons_per_core
        if core.neurons > cap and core.kind != "delay":  # a delay core mirrors a checked core
            lines.append(f"{_where(core)}: neurons {core.neurons:,} > "
                         + _neurons_fix(core, cap, spec))
        if core.memory_bytes > spec.memory_bytes_per_core:
            lines.append(f"{_where(core)}: synaptic memory {core.memory_bytes:,} B > "
                         f"{spec.memory_bytes_per_core:,} B; {what} — "
                         + _fix_per_core(core, core.memory_bytes, spec.memory_bytes_per_core,
                                         "memory_bytes_per_core", spec))
        if spec.fan_in_per_core is not None and core.fan_in > spec.fan_in_per_core:
            lines.append(f"{_where(core)}: fan-in {core.fan_in:,} axons > "
                         f"{spec.fan_in_per_core:,}; {what} — "
                         + _fix_per_core(core, core.fan_in, spec.fan_in_per_core,
                                         "fan_in_per_core", spec))
        if spec.fan_out_per_core is not None and core.fan_out > spec.fan_out_per_core:
            lines.append(f"{_where(core)}: fan-out {core.fan_out:,} axons > "
                         f"{spec.fan_out_per_core:,}; {counted(core.neurons, 'neuron')} of "
                         f"population '{_main_population(core)}' — "
                         + _fix_per_core(core, core.fan_out, spec.fan_out_per_core,
                                         "fan_out_per_core", spec))
    return lines


def _factor_needed(peak: float, budget: float, factor: float) -> float:
    """The smallest time scale factor (to 0.01) at which the busiest core keeps up."""
    return max(0.01, float(np.ceil(peak / budget * factor * 100.0) / 100.0))


def load_violations(cores: list[CoreEntry], spec: HardwareSpec, budget: int | None) -> list[str]:
    """Cores whose estimated mean cycles per tick exceed what a core may average (the tick's
    cycles x ``load_headroom``). The partitioner slices so that only a core it cannot shrink (one
    neuron, a source or delay core, packets from whole sending cores) can."""
    if not budget:
        return []
    allowed = budget * spec.load_headroom
    lines = []
    for core in cores:
        if core.load_cycles is None or core.load_cycles <= allowed:
            continue
        needed = _factor_needed(core.load_cycles, allowed, spec.time_scale_factor)
        what = f"{counted(core.neurons, 'neuron')} of '{_main_population(core)}'"
        lines.append(f"{_where(core)}: real-time load {core.load_cycles:,} cycles per tick on "
                     f"average > {allowed:,.0f} ({spec.load_headroom:.0%} of {budget:,}, room for "
                     f"bursts); {what} ({core.kind} core) — run slower with --time-scale-factor "
                     f"{needed:g}, or lower the rates that reach it")
    return lines


def machine_violations(cores: list[CoreEntry], spec: HardwareSpec) -> list[str]:
    """Cores that found no place on the machine."""
    unplaced = [c.id for c in cores if c.chip is None]
    if not unplaced or spec.core_model == "conv":  # conv: one core per layer, rules.py says so
        return []
    chips = len(spec.chips())
    shown = ", ".join(str(c) for c in unplaced[:5]) + (", ..." if len(unplaced) > 5 else "")
    return [f"machine '{spec.name}': cores {len(cores):,} > {spec.max_cores:,} "
            f"({counted(chips, 'chip')} x {spec.cores_per_chip}); "
            f"{counted(len(unplaced), 'core')} not placed ({shown})"
            f" — use a larger machine: --hardware SPEC.yaml with 'base: {_builtin_base(spec)}' "
            "and more chips (chips_x, chips_y)"]


def _builtin_base(spec: HardwareSpec) -> str:
    """The built-in spec a user's larger machine can start from (``base:`` takes only these)."""
    if spec.name in BUILTIN:
        return spec.name
    return next((t.hardware for t in TARGETS.values() if t.family == spec.family),
                next(n for n in BUILTIN if load_hardware(n).core_model == spec.core_model))


def router_violations(routing: RoutingSection, spec: HardwareSpec) -> list[str]:
    """Chips whose routing table exceeds the router's capacity."""
    limit = spec.router_entries_per_chip
    if limit is None:
        return []
    return [f"chip {r.chip[0]},{r.chip[1]}: router entries {r.entries:,} > {limit:,} — try "
            "--strategy graph, or a larger machine so that fewer routes share this chip"
            for r in routing.chips if r.entries > limit]


# ---- text ----------------------------------------------------------------------------------------
def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.rjust(w) if k else c.ljust(w)  # noqa: E731
                                   for k, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _bound_note(t: dict) -> str:
    """' (1.009x; totals 283)' after the lower bound; nothing for reports without the fields."""
    if t.get("cores_over_bound") is None:
        return ""
    return f" ({t['cores_over_bound']:.3f}x; totals {t['lower_bound_totals']:,})"


def render_text(report: ResourceReport) -> str:
    """The report as tables a person reads."""
    t = report.totals
    lines = [
        f"snnc compile report: target {report.target}, hardware {report.hardware}, "
        f"strategy {report.strategy}",
        f"fits: {'yes' if report.fits else 'NO'}",
        f"neurons {t['neurons']:,} (+{t['source_neurons']:,} source)  synapses {t['synapses']:,}  "
        f"cores {t['cores']:,} (neuron {t['neuron_cores']}, source {t['source_cores']}, "
        f"delay {t['delay_cores']})  lower bound {t['lower_bound']:,}{_bound_note(t)}  "
        f"chips {t['chips']}",
        f"inter-core spikes/step (est.) {t['traffic_cut']:.4g}  hops x spikes/step "
        f"{t['hop_traffic']:.4g} (lower bound {t.get('hop_traffic_bound', 0.0):.4g})",
        "limits: " + ", ".join(f"{k} {v:,}" for k, v in report.limits.items() if v is not None),
    ]
    realtime = t.get("realtime")
    if realtime:
        lines.append(
            f"real-time load (est., rates from {realtime['rates_from']}): max "
            f"{realtime['max_load']:.0%} of {realtime['cycles_per_tick']:,} cycles per tick "
            f"(core {realtime['max_load_core']}) at time scale factor "
            f"{realtime['time_scale_factor']:g}; a core may average "
            f"{realtime['load_headroom']:.0%} (fits at time scale factor >= "
            f"{realtime['time_scale_factor_needed']:g})")
    lines.append("")
    with_load = realtime is not None
    rows = [[str(c.id), c.kind, f"{c.chip[0]},{c.chip[1]},{c.processor}" if c.chip else "-",
             f"{c.neurons:,}", _pct(c.utilization["neurons"]), f"{c.synapses:,}",
             f"{c.memory_bytes:,}", _pct(c.utilization["memory"]), f"{c.fan_in:,}",
             f"{c.fan_out:,}", *([_pct(c.utilization.get("load", 0.0))] if with_load else []),
             ", ".join(f"{s.population}[{s.start}:{s.stop}]" for s in c.slices)]
            for c in report.cores]
    lines += _table(["core", "kind", "x,y,p", "neurons", "use", "synapses", "memory B", "use",
                     "fan-in", "fan-out", *(["load"] if with_load else []), "slices"], rows)
    r = report.routing
    if r.chips:
        lines += ["", f"routing: {counted(r.multicast_groups, 'multicast group')}, entries "
                  f"{r.total_entries:,} "
                  f"(raw {r.total_entries_raw:,}), max per chip {r.max_entries:,}"
                  + (f" of {r.entries_limit:,}" if r.entries_limit else "")]
        lines += _table(["chip", "entries", "raw"],
                        [[f"{c.chip[0]},{c.chip[1]}", f"{c.entries:,}", f"{c.entries_raw:,}"]
                         for c in r.chips])
    else:
        lines += ["", f"routing: {counted(r.multicast_groups, 'multicast group')} (cores address their "
                  "destination cores directly; no chip tables)"]
    lines += _planning_lines(report)
    if report.quantization is not None:
        q = report.quantization
        lines += ["", f"quantization ({q.get('target')}): "
                  f"{counted(len(q.get('populations', [])), 'population')}, "
                  f"{counted(len(q.get('projections', [])), 'projection')}, "
                  f"{counted(len(q.get('warnings', [])), 'warning')}"]
        lines += [f"  warning: {w}" for w in q.get("warnings", [])]
    if report.delay_extension is not None:
        lines += ["", _delay_extension_line(report.delay_extension)]
    if report.violations:
        lines += ["", "does not fit:"] + [f"  {v}" for v in report.violations]
    return "\n".join(lines) + "\n"


def _delay_extension_line(entry: dict[str, Any]) -> str:
    """report.txt's line on the relay neurons of delays above a core's maximum."""
    relays, limit = entry.get("relay_populations", []), entry.get("max_delay")
    return (f"delay extension: {counted(entry.get('relay_neurons', 0), 'relay neuron')} in "
            f"{counted(len(relays), 'population')} ({', '.join(relays)}) carry "
            f"{counted(entry.get('moved_synapses', 0), 'synapse')} "
            f"beyond {limit} steps (included in the neurons and cores above)")


# ---- plot ----------------------------------------------------------------------------------------
def plot(report: ResourceReport, spec: HardwareSpec, path: str) -> None:
    """PNG heat map of per-core use: one panel per limit, each core's binding limit outlined
    (``snnc.plot.heatmap_figure``; kept here for callers of ``compiler.report.plot``)."""
    from snnc.plot import plot_heatmap

    plot_heatmap(report, spec, path)
