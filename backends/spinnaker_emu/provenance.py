"""Provenance of a run: what the machine would report after it (sPyNNaker's provenance, snnc's way).

``provenance(machine, counters, steps)`` turns the tick loop's counters into a JSON-able dict:

* ``summary``: totals and the worst core/router (max CPU load, overruns, drops, failed lookups);
* ``cores``: per core: kind, chip, processor, neurons, packets sent/received, peak packets received
  in one tick, synaptic events, STDP synapse updates (``plastic.py``), ring-buffer saturations,
  failed master-population-table lookups, estimated cycles (mean and max per tick), CPU load,
  tick overruns, late packets;
* ``routers``: per chip: table entries, packets routed, peak per tick, default-routed, dropped;
* ``links``: per used link: packets and peak per tick.

``render(prov)`` is the table ``snnc run`` prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from snnc.ir.io import atomic_write

from .plastic import EVENTS
from .router import LINK_NAMES, N_LINKS


def _per_chip(ptr_values: tuple[np.ndarray, np.ndarray], emitted: np.ndarray, size: int):
    """Sum over packets of (times sent) x (occurrences of each id in its list)."""
    ptr, values = ptr_values
    g = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
    return np.bincount(values, weights=emitted[g], minlength=size).astype(np.int64)


def _core_rows(machine: Any, c: Any, steps: int, budget: int) -> list[dict]:
    rows = []
    for cid, core in sorted(machine.cores.items()):
        x, y, p = (int(v) for v in machine.build.placement.location[cid])
        mean = float(c.cycles_total[cid]) / max(steps, 1)
        rows.append({
            "id": cid, "kind": core.kind, "chip": [x, y], "processor": p,
            "neurons": core.neurons,
            "slices": [{"population": s.population, "start": s.start, "stop": s.stop}
                       for s in core.slices],
            "packets_sent": int(c.sent[cid]), "packets_received": int(c.received[cid]),
            "max_packets_received_per_tick": int(c.received_peak[cid]),
            "synaptic_events": int(c.events[cid]),
            "plastic_synapse_updates": int(machine.plastic_state[EVENTS][cid]),
            "ring_buffer_saturations": int(c.saturations[cid]),
            "failed_lookups": int(c.failed_lookups[cid]),
            "cycles_mean": round(mean, 1), "cycles_max": int(c.cycles_max[cid]),
            "cpu_load_mean": round(mean / budget, 4),
            "cpu_load_max": round(float(c.cycles_max[cid]) / budget, 4),
            "tick_overruns": int(c.overruns[cid]), "late_packets": int(c.late[cid]),
        })
    return rows


def _router_rows(machine: Any, c: Any) -> tuple[list[dict], list[dict]]:
    mesh, packets, n = machine.mesh, machine.packets, len(machine.mesh.chips)
    emitted = c.emitted
    routed = _per_chip(packets.routers, emitted, n)
    defaulted = _per_chip(packets.defaulted, emitted, n)
    dropped = _per_chip(packets.dropped, emitted, n)
    on_link = _per_chip(packets.links, emitted, n * N_LINKS)
    tables = machine.build.routing.tables
    routers = [{"chip": list(chip), "table_entries": len(tables[chip]) if chip in tables else 0,
                "packets": int(routed[i]), "peak_packets_per_tick": int(c.router_peak[i]),
                "default_routed": int(defaulted[i]), "dropped": int(dropped[i])}
               for i, chip in enumerate(mesh.chips)
               if routed[i] or dropped[i] or chip in tables]
    links = [{"chip": list(mesh.chips[k // N_LINKS]), "link": LINK_NAMES[k % N_LINKS],
              "packets": int(on_link[k]), "peak_packets_per_tick": int(c.link_peak[k])}
             for k in np.flatnonzero(on_link)]
    return routers, links


def provenance(machine: Any, c: Any, steps: int) -> dict:
    """The provenance report of a finished run (see the module docstring for the keys)."""
    dt = float(machine.build.network.dt)
    budget = machine.cost.budget(dt)
    cores = _core_rows(machine, c, steps, budget)
    routers, links = _router_rows(machine, c)
    worst = max(cores, key=lambda r: r["cpu_load_max"], default=None)
    summary = {
        "steps": steps, "dt_ms": dt, "cycles_per_tick": budget,
        "cores": len(cores), "chips_used": len(routers),
        "packets_sent": int(c.sent.sum()), "packets_received": int(c.received.sum()),
        "synaptic_events": int(c.events.sum()),
        "ring_buffer_saturations": int(c.saturations.sum()),
        "failed_lookups": int(c.failed_lookups.sum()),
        "dropped_packets": sum(r["dropped"] for r in routers),
        "default_routed": sum(r["default_routed"] for r in routers),
        "tick_overruns": int(c.overruns.sum()), "late_packets": int(c.late.sum()),
        "max_cpu_load": worst["cpu_load_max"] if worst else 0.0,
        "max_cpu_load_core": worst["id"] if worst else None,
        "max_router_packets_per_tick": max((r["peak_packets_per_tick"] for r in routers),
                                           default=0),
        "real_time": not c.overruns.any(),
    }
    return {"target": machine.build.target, "hardware": getattr(machine.build.hardware, "name", ""),
            "cost_model": machine.cost.to_dict(), "summary": summary, "cores": cores,
            "routers": routers, "links": links}


def save(prov: dict, path: str | Path) -> None:
    """Write ``provenance.json`` atomically (sorted keys: same run, same bytes)."""
    atomic_write(path, lambda handle: handle.write(json.dumps(prov, indent=1, sort_keys=True)))


TABLE_ROWS = 20  # the printed tables show the busiest cores and routers; the JSON has them all


def render(prov: dict) -> list:
    """Rich renderables: a summary, the busiest cores and the busiest routers."""
    from rich.table import Table

    s = prov["summary"]
    lines = (f"spinnaker-emu provenance: {s['cores']} cores on {s['chips_used']} chip(s), "
             f"{s['steps']} ticks of {s['cycles_per_tick']:,} cycles; max CPU load "
             f"{s['max_cpu_load']:.1%} (core {s['max_cpu_load_core']}), real time: "
             f"{'yes' if s['real_time'] else 'NO'}\n"
             f"tick overruns {s['tick_overruns']}, late packets {s['late_packets']}, ring-buffer "
             f"saturations {s['ring_buffer_saturations']}, dropped packets {s['dropped_packets']}, "
             f"failed lookups {s['failed_lookups']}, default-routed {s['default_routed']}")
    busiest = sorted(prov["cores"], key=lambda r: (-r["cpu_load_max"], r["id"]))[:TABLE_ROWS]
    cores = Table(title=f"cores ({len(busiest)} busiest of {len(prov['cores'])})")
    for col in ("core", "kind", "chip.p", "neurons", "sent", "recv", "peak", "events", "sat",
                "fail", "load", "max", "overrun"):
        cores.add_column(col, justify="right")
    for r in busiest:
        cores.add_row(str(r["id"]), r["kind"], f"{r['chip'][0]},{r['chip'][1]}.{r['processor']}",
                      str(r["neurons"]), str(r["packets_sent"]), str(r["packets_received"]),
                      str(r["max_packets_received_per_tick"]), str(r["synaptic_events"]),
                      str(r["ring_buffer_saturations"]), str(r["failed_lookups"]),
                      f"{r['cpu_load_mean']:.1%}", f"{r['cpu_load_max']:.1%}",
                      str(r["tick_overruns"]))
    top = sorted(prov["routers"], key=lambda r: (-r["packets"], r["chip"]))[:TABLE_ROWS]
    routers = Table(title=f"routers ({len(top)} busiest of {len(prov['routers'])})")
    for col in ("chip", "entries", "packets", "peak/tick", "default", "dropped"):
        routers.add_column(col, justify="right")
    for r in top:
        routers.add_row(f"{r['chip'][0]},{r['chip'][1]}", str(r["table_entries"]),
                        str(r["packets"]), str(r["peak_packets_per_tick"]),
                        str(r["default_routed"]), str(r["dropped"]))
    return [lines, cores, routers]
