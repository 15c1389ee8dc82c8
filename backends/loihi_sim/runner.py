"""Instantiate a ``LavaPlan`` as Lava Processes, run it in Lava's fixed-point CPU simulator, read back.

Always ``Loihi2SimCfg(select_tag="fixed_pt")``: without the tag Lava silently picks the float models.
Spikes (and voltages) come back through ``lava_procs.sink``'s file, never through ``Var.get()``.
The runtime is stopped in ``finally`` so that no Lava OS process outlives a run, even a failed one.
"""

from __future__ import annotations

import importlib
import math
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.io.source import RingBuffer
from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
from lava.proc.sparse.process import DelaySparse, LearningSparse, Sparse
from lava.utils.weightutils import SignMode, clip_weights, truncate_weights
from scipy.sparse import SparseEfficiencyWarning, csr_matrix

from .lava_procs.delay_sparse import PyDelaySparseModelCached
from .lava_procs.learning_sparse import PyLearningSparseModelFixed
from .lava_procs.sink import FileSink, FileVoltageSink
from .lowering import RING, SIGN_MODES, Block, Group, LavaPlan, PlasticBlock

_SIGN_MODES = {mode: SignMode(int(mode)) for mode in SIGN_MODES}  # snnc's enum -> Lava's
# Given to every block after the host applied each projection's own format: with MIXED, Lava clips
# to [-256, 255] (which holds every format's range) and truncates 8 - 9 + 1 = 0 bits, i.e. Lava's
# own per-block clip and truncation leave the host-quantized weights unchanged.
_BLOCK_SIGN_MODE, _BLOCK_WEIGHT_BITS = SignMode.MIXED, 9


@dataclass
class LavaResult:
    """Per group (kind): spikes (snnc step, index in the group's process) of the spiking groups,
    voltages (steps x neurons) if asked; and wall times (s)."""

    spikes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    voltages: dict[str, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # plastic: final, synapse order
    weight_history: dict[str, tuple[list[int], list[np.ndarray]]] = field(default_factory=dict)


def quantized_weights(block: Block) -> np.ndarray:
    """Each synapse clipped and truncated as Lava does for its projection alone (own sign mode, own
    num_weight_bits), with Lava's ``clip_weights``/``truncate_weights``."""
    weight = block.weight.astype(np.int32)
    formats = np.unique(np.stack([block.sign_mode, block.num_weight_bits]), axis=1)
    for mode_index, bits in formats.T:
        chosen = (block.sign_mode == mode_index) & (block.num_weight_bits == bits)
        mode = _SIGN_MODES[SIGN_MODES[mode_index]]
        clipped = clip_weights(weight[chosen], mode, num_bits=8)
        weight[chosen] = truncate_weights(clipped, mode, int(bits))
    return weight


def _process(group: Group) -> Any:
    """The group's Lava process, built by the function its model's ``LavaLowering`` names."""
    module, _, name = group.lowering.process.partition(":")
    return getattr(importlib.import_module(module), name)(group.arrays, group.size)


def _connection(block: Block, shape: tuple[int, int]) -> Sparse:
    """A Sparse (all delays 1) or DelaySparse (Lava delay = snnc delay - 1) for one block; a
    block from the SnncLI process reads graded messages (``num_message_bits = 24``: Lava's
    bit-accurate models then compute ``weights.dot(s_in)`` instead of summing spiking columns)."""
    weights = csr_matrix((quantized_weights(block), (block.post, block.pre)), shape=shape)
    params = dict(sign_mode=_BLOCK_SIGN_MODE, num_weight_bits=_BLOCK_WEIGHT_BITS,
                  weight_exp=block.weight_exp)
    if block.graded:
        params["num_message_bits"] = block.message_bits
    if not block.delayed:
        return Sparse(weights=weights, **params)
    # DelaySparse requires an int64 matrix with the weights' sparsity (delay 0 = one step).
    delays = csr_matrix((block.delay.astype(np.int64) - 1, (block.post, block.pre)), shape=shape)
    return DelaySparse(weights=weights, delays=delays, **params)


@dataclass
class _Built:
    """The processes of a run: one per group, and the sink file of each group that is read."""

    processes: dict[str, Any]  # kind -> its Lava process
    files: dict[str, Path]  # kind -> its sink's file
    plastic: dict[str, Any] = field(default_factory=dict)  # projection -> its LearningSparse

    @property
    def root(self) -> Any:
        """A process every other one is connected to (the run is compiled from it)."""
        return next(iter(self.processes.values()))


def _build(plan: LavaPlan, workdir: Path, record_v: bool) -> _Built:
    """The processes, a sink per spiking group (and per graded group with ``record_v``)."""
    processes = {kind: _process(group) for kind, group in plan.groups.items()}
    files = {}
    for kind, group in plan.groups.items():
        process = processes[kind]
        if not group.spiking and not record_v:
            continue
        path = workdir / f"{kind}.npz"
        sink_cls = FileVoltageSink if record_v else FileSink
        sink = sink_cls(size=group.size, num_steps=plan.steps, path=str(path))
        process.s_out.connect(sink.s_in)  # a graded group's "spike" ids are ignored
        if record_v:
            sink.v_ref.connect_var(getattr(process, group.lowering.voltage))
        files[kind] = path
    ring = RingBuffer(data=plan.source_raster()) if plan.source_count else None
    senders = {RING: ring, **processes}
    for block in plan.blocks:
        pre, post = senders[block.sender], processes[block.receiver]
        assert pre is not None  # blocks exist only between processes
        connection = _connection(block, (post.a_in.shape[0], pre.s_out.shape[0]))
        pre.s_out.connect(connection.s_in)
        connection.a_out.connect(post.a_in)
    plastic = {block.name: _learning_connection(block, senders, processes)
               for block in plan.plastic}
    _connect_all(plan, processes)
    return _Built(processes, files, plastic)


def _learning_connection(block: PlasticBlock, senders: dict[str, Any],
                         processes: dict[str, Any]) -> Any:
    """Lava's LearningSparse with STDPLoihi for one plastic projection: pre's s_out -> s_in,
    a_out -> post's a_in, post's s_out -> s_in_bap (the back-propagated spikes the rule pairs).
    The CSR holds every synapse (explicit zeros too, in row-major order: ``PlasticBlock.order``);
    ``num_weight_bits = 8`` since the lowering applied the projection's own truncation."""
    rule = block.rule
    pre, post = senders[block.sender], processes[block.receiver]
    shape = (post.a_in.shape[0], pre.s_out.shape[0])
    order = np.lexsort((block.pre, block.post))
    rows, cols = block.post[order], block.pre[order]
    indptr = np.zeros(shape[0] + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    weights = csr_matrix((block.weight[order].astype(np.int32), cols, indptr), shape=shape)
    learning_rule = STDPLoihi(
        learning_rate=rule.learning_rate, A_plus=rule.A_plus, A_minus=rule.A_minus,
        tau_plus=rule.tau_plus, tau_minus=rule.tau_minus, t_epoch=rule.t_epoch,
        rng_seed=rule.rng_seed, x1_impulse=rule.x1_impulse, y1_impulse=rule.y1_impulse)
    connection = LearningSparse(weights=weights, learning_rule=learning_rule,
                                sign_mode=_LEARNING_SIGN_MODES[rule.sign_mode], num_weight_bits=8,
                                weight_exp=block.weight_exp)
    pre.s_out.connect(connection.s_in)
    connection.a_out.connect(post.a_in)
    post.s_out.connect(connection.s_in_bap)
    return connection


_LEARNING_SIGN_MODES = {"excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY,
                        "mixed": SignMode.MIXED}


def read_weights(built: Any, plan: LavaPlan) -> dict[str, np.ndarray]:
    """{plastic projection: its current weights in synapse order} (int64, the ``loihi_stdp``
    units), read from the running LearningSparse processes: the CSR's stored values, explicit
    zeros included (``Var.get`` would drop a zero weight's entry and fail)."""
    out = {}
    for block in plan.plastic:
        connection = built.plastic[block.name]
        values = connection.runtime.get_var(connection.weights.id)
        out[block.name] = np.rint(np.asarray(values)).astype(np.int64)[block.order]
    return out


def _run_recording_weights(root: Any, built: Any, plan: LavaPlan,
                           every: Mapping[str, int]) -> dict[str, tuple[list[int], list]]:
    """Run in chunks ending on every recording step; weights at the end of every ``every``-th
    step (``steps`` hold the step index, as the reference's ``_WeightLog``)."""
    intervals = [int(e) for e in every.values() if e]
    chunk = math.gcd(*intervals)
    history: dict[str, tuple[list[int], list]] = {name: ([], []) for name in every}
    done = 0
    while done < plan.steps:
        count = min(chunk, plan.steps - done)
        root.run(condition=RunSteps(num_steps=count))
        done += count
        wanted = [name for name, e in every.items() if e and done % int(e) == 0]
        if wanted:
            weights = read_weights(built, plan)
            for name in wanted:
                history[name][0].append(done - 1)
                history[name][1].append(weights[name])
    return history


def _connect_all(plan: LavaPlan, processes: dict[str, Any]) -> None:
    """Lava compiles only the processes connected to the one it is called on: join each group
    that no block links to the first one by an empty Sparse (no synapse: no bit changes)."""
    component = {kind: kind for kind in processes}

    def root(kind: str) -> str:
        while component[kind] != kind:
            kind = component[kind]
        return kind

    fed_by_ring = [b.receiver for b in plan.blocks if b.sender == RING]
    links = [(b.sender, b.receiver) for b in plan.blocks if b.sender != RING]
    fed_by_ring += [b.receiver for b in plan.plastic if b.sender == RING]
    links += [(b.sender, b.receiver) for b in plan.plastic if b.sender != RING]
    links += [(fed_by_ring[0], kind) for kind in fed_by_ring[1:]]  # the RingBuffer joins them
    for a, b in links:
        component[root(a)] = root(b)
    first = next(iter(processes))
    for kind, process in processes.items():
        if root(kind) != root(first):
            empty = Sparse(weights=csr_matrix((process.a_in.shape[0],
                                               processes[first].s_out.shape[0]), dtype=np.int32))
            processes[first].s_out.connect(empty.s_in)
            empty.a_out.connect(process.a_in)
            component[root(kind)] = root(first)


def _stop(lif: Any, *, failing: bool) -> None:
    """Stop the runtime and its OS processes, if one was created.

    After a failure, Lava's own ``stop()`` would wait forever for answers from runtime services that
    have already exited (a Lava 0.10 hang); so the processes are terminated directly instead."""
    runtime = lif.runtime
    if runtime is None:
        return
    if not failing:
        runtime.stop()
        return
    infrastructure = runtime._messaging_infrastructure
    for actor in infrastructure.actors:
        if not actor._is_done and actor.is_alive():  # Lava closes the processes it joined
            actor.terminate()
    infrastructure.stop()  # joins every process and shuts the shared-memory manager down
    runtime._watchdog_manager.stop()


def _failure_details(lif: Any) -> str:
    """The tracebacks that Lava's processes reported (Lava itself only logs them)."""
    runtime = lif.runtime
    if runtime is None:
        return ""
    reports = [actor.exception[1] for actor in runtime._messaging_infrastructure.actors
               if actor.exception]
    return "\n".join(str(report) for report in reports)


def run_config(stock_models: bool) -> Loihi2SimCfg:
    """Fixed-point models always; the cached DelaySparse model unless ``stock_models``."""
    exceptions: dict[Any, Any] = {} if stock_models else {DelaySparse: PyDelaySparseModelCached}
    # always: Lava's own LearningSparse model cannot learn with excitatory or inhibitory weights
    exceptions[LearningSparse] = PyLearningSparseModelFixed
    return Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map=exceptions)


def _run_steps(root: Any, steps: int, progress: bool) -> None:
    """``steps`` steps in one ``run`` call, or, with a progress bar that can be shown (see
    ``snnc.progress``), in about 50 calls of fewer steps: Lava's processes keep their state (and
    the sink its step count) between calls, so the spikes are the same (test_progress.py)."""
    from snnc.progress import Bar, bars_enabled, chunk_for

    if not progress or not bars_enabled() or steps < 2:
        root.run(condition=RunSteps(num_steps=steps))
        return
    chunk, done = chunk_for(steps, 50), 0
    with Bar(steps, "loihi-sim") as bar:
        while done < steps:
            count = min(chunk, steps - done)
            root.run(condition=RunSteps(num_steps=count))
            done += count
            bar.update(done)


def run_plan(plan: LavaPlan, *, weights_every: Mapping[str, int] | None = None,
             record_v: bool = False, stock_models: bool = False,
             progress: bool = False) -> LavaResult:
    """Run the plan for ``plan.steps`` steps; spikes as (snnc step, index in its group)."""
    timings: dict[str, float] = {}
    # DelaySparse edits its CSR structure every step; the forked Lava processes inherit this filter.
    with tempfile.TemporaryDirectory(prefix="snnc-lava-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseEfficiencyWarning)
        start = time.perf_counter()
        built = _build(plan, Path(tmp), record_v)
        root = built.root
        timings["build"] = time.perf_counter() - start
        start = time.perf_counter()
        executable = root.compile(run_config(stock_models))
        timings["compile"] = time.perf_counter() - start
        try:
            start = time.perf_counter()
            root.create_runtime(executable=executable)  # spawns one OS process per Lava process
            timings["start"] = time.perf_counter() - start
            start = time.perf_counter()
            history = {}
            if built.plastic and weights_every and any(weights_every.values()):
                history = _run_recording_weights(root, built, plan, weights_every)
            else:
                _run_steps(root, plan.steps, progress)
            timings["run"] = time.perf_counter() - start
        except BaseException as error:
            details = _failure_details(root) if isinstance(error, RuntimeError) else ""
            _stop(root, failing=True)
            if details:
                raise RuntimeError(f"a Lava process failed:\n{details}") from error
            raise
        final = read_weights(built, plan) if built.plastic else {}
        start = time.perf_counter()
        _stop(root, failing=False)
        timings["stop"] = time.perf_counter() - start
        start = time.perf_counter()
        result = LavaResult(weights=final, weight_history=history)
        for kind, path in built.files.items():
            with np.load(path) as data:
                if plan.groups[kind].spiking:
                    result.spikes[kind] = (data["times"], data["ids"])
                if record_v:
                    result.voltages[kind] = data["v"]
        timings["readout"] = time.perf_counter() - start
    result.timings = timings
    return result
