r"""The ``ltc`` model: liquid time-constant cells (Hasani et al., "Liquid Time-constant Networks",
AAAI 2021), non-spiking, in float64. The reference runs it; the chip targets refuse it.

A population is one LTC *layer*: its cells are coupled inside the step, through the sigmoid that
sets every cell's conductance. That coupling must see the state after every ODE unfold (as a torch
LTC cell computes it), which a projection cannot give: a projection's message of step ``t`` arrives
at ``t + 1`` at the earliest, once per step, not once per unfold. So the population carries its
own recurrent weights (an ``N x N`` matrix, a parameter like ``tau``), and the update solves all
``N`` cells together; the inputs from other populations arrive through ordinary projections, as a
weighted sum of the senders' messages (spikes, or the values of non-spiking senders).

Its value is the state ``x``: record it with ``snnc run --record-v``; a projection from it carries
``x`` as a graded message (``w * x[t]`` reaches the target at ``t + d``, like ``li``).

Because the update reads every cell of its population, a population must be updated by one of the
reference engine's two parallel parts (``backends/reference/kernels.py:part_range``), never split
between them. A population the engine splits cannot be solved there: the kernel sets its cells to
NaN rather than return numbers computed from a half-delivered input (see docs/neuron-models/ltc.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field

from snnc.ir.values import Int, RangeChecked, Value, _Frozen, resolve

from .base import NeuronModel, Step
from .jit import njit


def _matrix(value: Any) -> Any:
    """An ``N x N`` array or nested list becomes a tuple of ``N`` rows of floats (small, frozen,
    comparable; YAML writes it inline). Empty means no recurrent weights."""
    if isinstance(value, tuple) and all(isinstance(row, tuple) for row in value):
        value = [list(row) for row in value]
    array = np.asarray(value)
    if array.size == 0:
        return ()
    if array.dtype.kind not in "iuf":
        raise ValueError("w_rec must be an N x N matrix of numbers")
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"w_rec must be a square N x N matrix, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("w_rec must be finite")
    return tuple(tuple(float(v) for v in row) for row in array.astype(np.float64))


Matrix = Annotated[tuple[tuple[float, ...], ...], BeforeValidator(_matrix)]
"""An ``N x N`` matrix as ``N`` rows (``()``: all zeros); an array, or nested lists in YAML."""


class LTC(_Frozen):
    r"""Liquid time-constant cells: the paper's ODE solved by its fused semi-implicit step.

    With the external input :math:`I_k[t]` (this step's weighted sum of the messages that
    projections bring to cell :math:`k`) and :math:`\Delta = dt / U` (``U = ode_unfolds``), each
    step repeats :math:`U` times, for every cell :math:`k` of the population at once:

    .. math::

        f_k &= \sigma\Big(\sum_j W_{jk}\, x_j + I_k[t] + \mu_k\Big),
              \qquad \sigma(s) = \frac{1}{1 + e^{-s}} \\
        x_k &\leftarrow \frac{x_k + \Delta\, f_k\, A_k}{1 + \Delta\,(1/\tau_k + f_k)}

    (every :math:`f_k` of an unfold from the :math:`x` of the previous unfold), which is the fused
    solver of :math:`\dot x = -(1/\tau + f)\,x + f A` (Hasani et al. 2021, eq. 1 and 3) with
    :math:`f` one sigmoid layer of the input and the recurrent state. ``w_rec[j][k]`` is
    :math:`W_{jk}`, from cell ``j`` to cell ``k`` (``()``: no recurrence). Initial state
    :math:`x = x_{init}`. Times in ms, like the network's ``dt``; ``x``, ``a`` and the weights
    share one arbitrary unit, ``bias`` and the input are in the sigmoid's (dimensionless) units.
    """

    kind: Literal["ltc"] = "ltc"
    tau: RangeChecked(gt=0) = 1.0  # type: ignore[valid-type]
    a: Value = 1.0
    bias: Value = 0.0
    w_rec: Matrix = ()
    ode_unfolds: Annotated[Int, Field(ge=1, le=1000)] = 6
    x_init: Value = 0.0


# Rows of the parameter table: the per-cell constants, then row W0 + j holds W[j, :] (so a
# population of N cells has 7 + N rows: populations of one size share a kernel call).
DT_U, TAU, A, BIAS, UNFOLDS, POS, COUNT, W0 = range(8)
X, NEXT = range(2)  # state rows: the value, and the next unfold's value (x is read by all cells)


def float_tables(neuron: LTC, size: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(params float64[7 + size, size], state float64[2, size]) of one ``ltc`` population."""
    params = np.zeros((W0 + size, size), dtype=np.float64)
    params[DT_U] = dt / neuron.ode_unfolds
    params[TAU] = resolve(neuron.tau, size)
    params[A] = resolve(neuron.a, size)
    params[BIAS] = resolve(neuron.bias, size)
    params[UNFOLDS] = neuron.ode_unfolds
    # each cell knows its population's first cell and size: populations of one size are
    # concatenated into one table (backends/reference/program.py:_families)
    params[POS] = np.arange(size)
    params[COUNT] = size
    if neuron.w_rec:
        matrix = np.array(neuron.w_rec, dtype=np.float64)
        if matrix.shape != (size, size):
            raise ValueError(f"ltc w_rec is {matrix.shape[0]} x {matrix.shape[1]}, but the "
                             f"population has {size} cells: it needs {size} x {size}")
        params[W0:] = matrix
    state = np.zeros((2, size), dtype=np.float64)
    state[X] = resolve(neuron.x_init, size)
    return params, state


@njit(cache=True, nogil=True)
def _solve(x, params, state, first, count):
    """One step of the cells ``first .. first + count - 1`` (one population), all unfolds."""
    for _ in range(int(params[UNFOLDS, first])):
        for k in range(first, first + count):
            drive = 0.0
            for j in range(count):  # cell j of the population is column first + j, row W0 + j
                drive += params[W0 + j, k] * state[X, first + j]
            f = 1.0 / (1.0 + np.exp(-(drive + x[k] + params[BIAS, k])))
            dt_u = params[DT_U, k]
            state[NEXT, k] = ((state[X, k] + dt_u * f * params[A, k])
                              / (1.0 + dt_u * (1.0 / params[TAU, k] + f)))
        for k in range(first, first + count):  # every f of this unfold read the previous x
            state[X, k] = state[NEXT, k]


@njit(cache=True, nogil=True)
def float_update(x, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance the populations of cells ``lo..hi-1`` one step with input ``x``; never spikes.

    A population that ``lo``/``hi`` cut (the engine gave its other cells to the other parallel
    part) cannot be solved from here: its cells in ``lo..hi-1`` become NaN (module docstring)."""
    k = lo
    while k < hi:
        first = k - int(params[POS, k])
        count = int(params[COUNT, k])
        end = first + count
        if first < lo or end > hi:
            for c in range(k, min(end, hi)):
                state[X, c] = np.nan
        else:
            _solve(x, params, state, first, count)
        k = min(end, hi)
    return n_out


EXAMPLE_SIZE = 5
"""The population size ``example`` is made for (tests/models/test_support_sweep.py uses 5)."""


def _example(features: frozenset[str]) -> LTC:
    """A small coupled instance of ``EXAMPLE_SIZE`` cells."""
    w_rec = np.random.default_rng(1).normal(0.0, 0.5, size=(EXAMPLE_SIZE, EXAMPLE_SIZE))
    return LTC(tau=2.0, a=1.0, bias=-0.5, w_rec=_matrix(w_rec), ode_unfolds=4)


_REFUSED = ("its liquid time-constant update (sigmoid conductances of the whole layer, solved "
            "every ODE unfold) has no {} integer model and no quantization to one; float "
            "reference only")

MODEL = NeuronModel(
    kind="ltc",
    params=LTC,
    summary="liquid time-constant cells (Hasani et al. 2021), non-spiking, float64",
    # every cell reads all cells' state: the reference keeps the population in one part
    steps={"float": Step("float", float_tables, float_update, np.float64, X,
                         whole_populations=True)},
    features=("graded_output",),
    spiking=False,
    refusals={"loihi": _REFUSED.format("Loihi"), "spinnaker": _REFUSED.format("SpiNNaker")},
    example=_example,
)
