"""``snnc import-nir`` and ``snnc export-nir``: bring networks from training frameworks and back.

See docs/nir.md. ``dt`` is in seconds here (NIR's unit); the network file stores milliseconds.
"""

from __future__ import annotations

import click

from snnc.ir import Network, expand, from_nir, save, to_nir
from snnc.ir.errors import SnncError
from snnc.ir.io import atomic_write
from snnc.ir.nir_neurons import CURRENTS, INTEGRATORS, RESETS
from snnc.ir.outputs import check_file_target
from snnc.ir.text import counted

from .common import NET_ARGUMENT, check_network, load_network, say


def hop_lags(net: Network, sources: list[str]) -> dict[str, int]:
    """Fewest steps from the given sources to each population (min delay per projection)."""
    lag = {name: 0 for name in sources}
    hops = [(p.pre, p.post, int(expand(net, p).delay.min())) for p in net.projections]
    for _ in range(len(net.populations)):  # Bellman-Ford: at most one pass per population
        changed = False
        for pre, post, delay in hops:
            if pre in lag and lag[pre] + delay < lag.get(post, 1 << 62):
                lag[post], changed = lag[pre] + delay, True
        if not changed:
            break
    return lag


@click.command("import-nir")
@click.argument("model", metavar="MODEL.nir", type=click.Path(dir_okay=False))
@click.option("--dt", type=float, required=True, help="Seconds per step (NIR's time unit).")
@click.option("--integrator", type=click.Choice(INTEGRATORS), default="exact", show_default=True,
              help="exact: decay exp(-dt/tau); euler: 1 - dt/tau (snnTorch).")
@click.option("--reset", type=click.Choice(RESETS), default="zero", show_default=True,
              help="After a spike: v = v_reset (zero) or v - v_threshold (subtract).")
@click.option("--current", type=click.Choice(CURRENTS), default="new", show_default=True,
              help="Whether v integrates this step's synaptic current or the previous one (Norse).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Network YAML to write (arrays go to an NPZ beside it).")
def import_nir(model: str, dt: float, integrator: str, reset: str, current: str,
               output: str) -> None:
    """Import a NIR graph (snnTorch, Norse, Sinabs, Rockpool...) as an snnc network."""
    check_file_target(output)  # refused before any work: a symlink, a directory, a device...
    net = from_nir(model, dt=dt, integrator=integrator, reset=reset, current=current)
    check_network(net, model)
    save(net, output)
    synapses = sum(len(expand(net, p)) for p in net.projections)
    neurons = sum(p.size for p in net.neuron_populations())
    say(f"{output}: {counted(len(net.populations), 'population')}, "
        f"{counted(neurons, 'neuron')}, {counted(synapses, 'synapse')}; dt {net.dt:g} ms, "
        f"{integrator} integrator, reset {reset}, current {current}")
    lags = hop_lags(net, list(net.metadata["nir"]["inputs"]))
    outputs = net.metadata["nir"]["outputs"]
    detail = ", ".join(f"'{o}' lags {counted(lags[o], 'step')}" for o in outputs if o in lags)
    say("note: NIR edges have no delay but every snnc hop costs one step (delay >= 1): "
        f"spikes lag one step per hop{'; ' + detail if detail else ''}")


def _check_dense(network: Network, file: str) -> None:
    """NIR stores every projection as a dense matrix: refuse one that does not fit in memory."""
    from snnc.ir.resources import check_bytes

    total = 0.0
    for index, projection in enumerate(network.projections):
        pre = network.populations[projection.pre].size
        post = network.populations[projection.post].size
        size = float(pre) * post * 8
        total += size
        check_bytes(size, f"a dense {post:,} x {pre:,} NIR weight matrix",
                    f"projections[{index}] ({projection.name})", file)
    check_bytes(total, "the dense NIR weight matrices", "projections", file)


@click.command("export-nir")
@NET_ARGUMENT
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="NIR file (HDF5) to write.")
def export_nir(net: str, output: str) -> None:
    """Export a network of lif/li populations as a NIR graph."""
    import nir

    check_file_target(output)
    network = load_network(net)
    _check_dense(network, net)
    try:
        graph = to_nir(network)
    except SnncError as error:
        raise error.located(file=net) from None
    atomic_write(output, lambda handle: nir.write(handle, graph), mode="w+b")
    meta = graph.metadata
    say(f"{output}: {counted(len(graph.nodes), 'NIR node')}, {counted(len(graph.edges), 'edge')}; "
        f"import back with --dt {meta['snnc_dt_s']:g} --integrator {meta['snnc_integrator']} "
        f"--reset {meta['snnc_reset']} --current {meta['snnc_current']}")


COMMANDS = [import_nir, export_nir]
