"""Instantiate a ``LavaPlan`` as Lava Processes, run it in Lava's fixed-point CPU simulator, read back.

Always ``Loihi2SimCfg(select_tag="fixed_pt")``: without the tag Lava silently picks the float models.
Spikes (and voltages) come back through ``lava_procs.sink``'s file, never through ``Var.get()``.
The runtime is stopped in ``finally`` so that no Lava OS process outlives a run, even a failed one.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.io.source import RingBuffer
from lava.proc.lif.process import LIF
from lava.proc.sparse.process import DelaySparse, Sparse
from lava.utils.weightutils import SignMode, clip_weights, truncate_weights
from scipy.sparse import SparseEfficiencyWarning, csr_matrix

from .lava_procs.delay_sparse import PyDelaySparseModelCached
from .lava_procs.sink import FileSink, FileVoltageSink
from .lowering import SIGN_MODES, Block, LavaPlan

_SIGN_MODES = {mode: SignMode(int(mode)) for mode in SIGN_MODES}  # snnc's enum -> Lava's
# Given to every block after the host applied each projection's own format: with MIXED, Lava clips
# to [-256, 255] (which holds every format's range) and truncates 8 - 9 + 1 = 0 bits, i.e. Lava's
# own per-block clip and truncation leave the host-quantized weights unchanged.
_BLOCK_SIGN_MODE, _BLOCK_WEIGHT_BITS = SignMode.MIXED, 9


@dataclass
class LavaResult:
    """Spikes of the LIF process (process-wide ids), voltages if asked, and wall times (s)."""

    times: np.ndarray
    ids: np.ndarray
    voltages: np.ndarray | None
    graded_voltages: np.ndarray | None = None  # the SnncLI process's v (steps x neurons)
    timings: dict[str, float] = field(default_factory=dict)


def _scalar_or_array(values: np.ndarray) -> int | np.ndarray:
    """Lava declares du, dv and vth as scalars: pass a scalar whenever all neurons agree."""
    if values.size and np.all(values == values[0]):
        return int(values[0])
    return values


def _lif(plan: LavaPlan) -> Any:
    """Lava's LIF; snnc's SnncLIF when a population needs refractory or subtract (same arithmetic)."""
    p = plan.lif
    fields: dict[str, Any] = dict(shape=(plan.neuron_count,), u=p["u_init"], v=p["v_init"],
                  du=_scalar_or_array(p["du"]), dv=_scalar_or_array(p["dv"]),
                  vth=_scalar_or_array(p["vth"]), bias_mant=p["bias_mant"], bias_exp=p["bias_exp"])
    if not plan.extended:
        return LIF(**fields)
    from .lava_procs.lif import SnncLIF

    return SnncLIF(**fields, refractory=p["refractory"], reset_subtract=p["reset_subtract"])


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


def _li(plan: LavaPlan) -> Any:
    """snnc's SnncLI holding every ``loihi_li`` population (graded messages on ``s_out``)."""
    from .lava_procs.li import SnncLI

    p = plan.li
    return SnncLI(shape=(plan.graded_count,), u=p["u_init"], v=p["v_init"], du=p["du"],
                  dv=p["dv"], bias_mant=p["bias_mant"], bias_exp=p["bias_exp"],
                  payload_shift=p["payload_shift"])


def _connection(block: Block, shape: tuple[int, int]) -> Sparse:
    """A Sparse (all delays 1) or DelaySparse (Lava delay = snnc delay - 1) for one block; a
    block from the SnncLI process reads graded messages (``num_message_bits = 24``: Lava's
    bit-accurate models then compute ``weights.dot(s_in)`` instead of summing spiking columns)."""
    weights = csr_matrix((quantized_weights(block), (block.post, block.pre)), shape=shape)
    params = dict(sign_mode=_BLOCK_SIGN_MODE, num_weight_bits=_BLOCK_WEIGHT_BITS,
                  weight_exp=block.weight_exp)
    if block.graded:
        from .lava_procs.li import MESSAGE_BITS

        params["num_message_bits"] = MESSAGE_BITS
    if not block.delayed:
        return Sparse(weights=weights, **params)
    # DelaySparse requires an int64 matrix with the weights' sparsity (delay 0 = one step).
    delays = csr_matrix((block.delay.astype(np.int64) - 1, (block.post, block.pre)), shape=shape)
    return DelaySparse(weights=weights, delays=delays, **params)


def _build(plan: LavaPlan, workdir: Path, record_v: bool) -> tuple[Any, Path, Path | None]:
    """The processes; returns the one to compile from (every process is connected to it) and the
    sinks' files (the LI's only with ``record_v``)."""
    lif = _lif(plan) if plan.neuron_count else None
    li = _li(plan) if plan.graded_count else None
    path = workdir / "spikes.npz"
    if lif is not None:
        sink_cls = FileVoltageSink if record_v else FileSink
        sink = sink_cls(size=plan.neuron_count, num_steps=plan.steps, path=str(path))
        lif.s_out.connect(sink.s_in)
        if record_v:
            sink.v_ref.connect_var(lif.v)
    li_path = None
    if li is not None and record_v:
        li_path = workdir / "graded.npz"
        li_sink = FileVoltageSink(size=plan.graded_count, num_steps=plan.steps, path=str(li_path))
        li.s_out.connect(li_sink.s_in)  # its "spike" ids are ignored: only v is read back
        li_sink.v_ref.connect_var(li.v)
    ring = RingBuffer(data=plan.source_raster()) if plan.source_count else None
    senders = {"ring": ring, "lif": lif, "li": li}
    receivers = {"lif": lif, "li": li}
    for block in plan.blocks:
        pre, post = senders[block.sender], receivers[block.receiver]
        assert pre is not None and post is not None  # blocks exist only between processes
        connection = _connection(block, (post.a_in.shape[0], pre.s_out.shape[0]))
        pre.s_out.connect(connection.s_in)
        connection.a_out.connect(post.a_in)
    return (lif if lif is not None else li), path, li_path


def _stop(lif: LIF, *, failing: bool) -> None:
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


def _failure_details(lif: LIF) -> str:
    """The tracebacks that Lava's processes reported (Lava itself only logs them)."""
    runtime = lif.runtime
    if runtime is None:
        return ""
    reports = [actor.exception[1] for actor in runtime._messaging_infrastructure.actors
               if actor.exception]
    return "\n".join(str(report) for report in reports)


def run_config(stock_models: bool) -> Loihi2SimCfg:
    """Fixed-point models always; the cached DelaySparse model unless ``stock_models``."""
    exceptions = {} if stock_models else {DelaySparse: PyDelaySparseModelCached}
    return Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map=exceptions)


def run_plan(plan: LavaPlan, *, record_v: bool = False, stock_models: bool = False) -> LavaResult:
    """Run the plan for ``plan.steps`` steps; spikes as (snnc step, LIF index)."""
    timings: dict[str, float] = {}
    # DelaySparse edits its CSR structure every step; the forked Lava processes inherit this filter.
    with tempfile.TemporaryDirectory(prefix="snnc-lava-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseEfficiencyWarning)
        start = time.perf_counter()
        lif, path, li_path = _build(plan, Path(tmp), record_v)
        timings["build"] = time.perf_counter() - start
        start = time.perf_counter()
        executable = lif.compile(run_config(stock_models))
        timings["compile"] = time.perf_counter() - start
        try:
            start = time.perf_counter()
            lif.create_runtime(executable=executable)  # spawns one OS process per Lava process
            timings["start"] = time.perf_counter() - start
            start = time.perf_counter()
            lif.run(condition=RunSteps(num_steps=plan.steps))
            timings["run"] = time.perf_counter() - start
        except BaseException as error:
            details = _failure_details(lif) if isinstance(error, RuntimeError) else ""
            _stop(lif, failing=True)
            if details:
                raise RuntimeError(f"a Lava process failed:\n{details}") from error
            raise
        start = time.perf_counter()
        _stop(lif, failing=False)
        timings["stop"] = time.perf_counter() - start
        start = time.perf_counter()
        empty = np.zeros(0, np.int64)
        result = LavaResult(empty, empty, None)
        if plan.neuron_count:
            with np.load(path) as data:
                result = LavaResult(data["times"], data["ids"], data["v"] if record_v else None)
        if li_path is not None:
            with np.load(li_path) as data:
                result.graded_voltages = data["v"]
        timings["readout"] = time.perf_counter() - start
    result.timings = timings
    return result
