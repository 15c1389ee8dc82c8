"""NIR's linear nodes as sparse matrices on flattened (C-order) signals, for ``from_nir``.

Every node maps a signal of shape ``in_shape`` to one of shape ``out_shape``; both are flattened
in C order, so a node is a ``scipy.sparse`` matrix of shape ``(prod(out_shape), prod(in_shape))``
plus a bias vector. Convolutions and poolings are built by vectorised index arithmetic (one numpy
axis per kernel tap dimension, never a Python loop per synapse), the same arithmetic as
``torch.nn.functional.conv2d``: output ``(o_y, o_x)`` reads ``(o_y s_y - p_y + k_y d_y, ...)``.
A ``Signal`` is what reaches a node: sparse maps from the neuron and input populations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import NetworkError


def _pair(value: Any, name: str, where: str) -> tuple[int, int]:
    array = np.atleast_1d(np.asarray(value)).astype(np.int64).ravel()
    if array.size == 1:
        return int(array[0]), int(array[0])
    if array.size != 2:
        raise NetworkError(f"{name} must have 1 or 2 values, got {array.tolist()}", where=where)
    return int(array[0]), int(array[1])


def _geometry(size: int, kernel: int, stride: int, dilation: int, padding: Any) -> tuple[int, int]:
    """(left padding, output length) of one axis; 'same' pads like PyTorch (smaller half first)."""
    span = dilation * (kernel - 1)
    if padding == "same":
        return span // 2, size
    pad = 0 if padding == "valid" else int(padding)
    return pad, (size + 2 * pad - span - 1) // stride + 1


def _paddings(padding: Any, where: str) -> tuple[Any, Any]:
    if isinstance(padding, bytes):
        padding = padding.decode()
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise NetworkError(f"padding must be 'same', 'valid' or integers, got {padding!r}",
                               where=where)
        return padding, padding
    return _pair(padding, "padding", where)


def conv2d_matrix(weight: np.ndarray, in_shape: tuple[int, ...], stride: Any, padding: Any,
                  dilation: Any, groups: int, where: str) -> tuple[sp.csr_matrix, tuple]:
    """Conv2d (weight ``[C_out, C_in/groups, k_y, k_x]``) on a ``[C_in, H, W]`` signal.

    Returns the matrix and the output shape ``(C_out, H_out, W_out)``;
    ``H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1``. Taps that fall into the padding are
    not synapses.
    """
    c_out, c_in_group, k_y, k_x = weight.shape
    c_in, height, width = in_shape
    groups = int(groups)
    if groups < 1 or c_in != c_in_group * groups or c_out % groups:
        raise NetworkError(f"weight {list(weight.shape)} with groups={groups} does not fit "
                           f"{c_in} input channels", where=where)
    s_y, s_x = _pair(stride, "stride", where)
    d_y, d_x = _pair(dilation, "dilation", where)
    pad_y, pad_x = _paddings(padding, where)
    p_y, h_out = _geometry(height, k_y, s_y, d_y, pad_y)
    p_x, w_out = _geometry(width, k_x, s_x, d_x, pad_x)
    if h_out < 1 or w_out < 1:
        raise NetworkError(f"input {list(in_shape)} is smaller than the kernel", where=where)
    # One axis per index: [c_out, c_in_group, k_y, k_x, h_out, w_out], broadcast, never looped.
    co = np.arange(c_out).reshape(-1, 1, 1, 1, 1, 1)
    ci = np.arange(c_in_group).reshape(1, -1, 1, 1, 1, 1)
    ky = np.arange(k_y).reshape(1, 1, -1, 1, 1, 1)
    kx = np.arange(k_x).reshape(1, 1, 1, -1, 1, 1)
    oy = np.arange(h_out).reshape(1, 1, 1, 1, -1, 1)
    ox = np.arange(w_out).reshape(1, 1, 1, 1, 1, -1)
    iy = oy * s_y - p_y + ky * d_y
    ix = ox * s_x - p_x + kx * d_x
    channel = (co // (c_out // groups)) * c_in_group + ci
    shape = (c_out, c_in_group, k_y, k_x, h_out, w_out)
    inside = np.broadcast_to((iy >= 0) & (iy < height) & (ix >= 0) & (ix < width), shape)
    rows = np.broadcast_to((co * h_out + oy) * w_out + ox, shape)[inside]
    cols = np.broadcast_to((channel * height + iy) * width + ix, shape)[inside]
    values = np.broadcast_to(weight.reshape(c_out, c_in_group, k_y, k_x, 1, 1), shape)[inside]
    matrix = sp.csr_matrix((values.astype(np.float64), (rows, cols)),
                           shape=(c_out * h_out * w_out, c_in * height * width))
    return matrix, (c_out, h_out, w_out)


def conv1d_matrix(weight: np.ndarray, in_shape: tuple[int, ...], stride: Any, padding: Any,
                  dilation: Any, groups: int, where: str) -> tuple[sp.csr_matrix, tuple]:
    """Conv1d (weight ``[C_out, C_in/groups, k]``) on ``[C_in, L]``: a Conv2d of height 1."""
    pad = padding if isinstance(padding, (str, bytes)) else (0, _pair(padding, "padding", where)[0])
    matrix, (c_out, _, length) = conv2d_matrix(
        weight[:, :, None, :], (in_shape[0], 1, in_shape[1]),
        (1, _pair(stride, "stride", where)[0]), pad, (1, _pair(dilation, "dilation", where)[0]),
        groups, where)
    return matrix, (c_out, length)


def pool2d_matrix(in_shape: tuple[int, ...], kernel: Any, stride: Any, padding: Any,
                  average: bool, where: str) -> tuple[sp.csr_matrix, tuple]:
    """Sum (or average: divided by ``k_y k_x``, padding included) pooling per channel."""
    channels = in_shape[0]
    k_y, k_x = _pair(kernel, "kernel_size", where)
    value = 1.0 / (k_y * k_x) if average else 1.0
    weight = np.zeros((channels, 1, k_y, k_x))
    weight[:] = value
    return conv2d_matrix(weight, in_shape, stride, padding, 1, channels, where)


def scale_matrix(scale: np.ndarray) -> sp.csr_matrix:
    """Element-wise scaling as a diagonal matrix."""
    return sp.diags(np.asarray(scale, dtype=np.float64).ravel(), format="csr")


def identity(size: int) -> sp.csr_matrix:
    """The identity on a flat signal of ``size`` elements."""
    return sp.identity(size, dtype=np.float64, format="csr")


# ---- signals: what reaches a node, as sparse maps from neuron or input populations --------------
@dataclass
class Signal:
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

    def mapped(self, matrix: sp.csr_matrix, bias: Any, shape: tuple) -> "Signal":
        terms = {key: (matrix @ m).tocsr() for key, m in self.terms.items()}
        biases = {delay: matrix @ b for delay, b in self.bias.items()}
        if np.any(bias):
            biases[0] = biases.get(0, 0.0) + np.broadcast_to(bias, matrix.shape[:1])
        return Signal(terms, biases, tuple(shape))

    def add(self, other: "Signal") -> None:
        """Sum another signal of the same size into this one (NIR sums a node's inputs)."""
        for key, matrix in other.terms.items():
            self.terms[key] = self.terms[key] + matrix if key in self.terms else matrix
        for delay, bias in other.bias.items():
            self.bias[delay] = self.bias.get(delay, 0.0) + bias


def shape_of(value: Any) -> tuple[int, ...]:
    """A NIR shape (array, list or int) as a tuple of ints."""
    return tuple(int(v) for v in np.atleast_1d(np.asarray(value)).ravel())


def _delayed(signal: Signal, delay_s: np.ndarray, dt_s: float, where: str) -> Signal:
    steps = np.asarray(delay_s, dtype=np.float64).ravel() / dt_s
    whole = np.rint(steps)
    if np.any(np.abs(steps - whole) > 1e-6 * np.maximum(1.0, whole)) or np.any(whole < 0):
        raise NetworkError(f"delays {np.unique(delay_s).tolist()} s are not whole numbers of "
                           f"steps of dt = {dt_s:g} s", where=where)
    delayed = Signal({}, {}, signal.shape)
    for extra in np.unique(whole).astype(int):
        chosen = (whole == extra).astype(np.float64)
        mask = sp.diags(chosen, format="csr")
        delayed.add(Signal({(source, delay + int(extra)): (mask @ matrix).tocsr()
                             for (source, delay), matrix in signal.terms.items()},
                            {delay + int(extra): chosen * bias
                             for delay, bias in signal.bias.items()}, signal.shape))
    return delayed


def _conv_input_shape(node: Any, signal: Signal, dims: int, where: str) -> tuple[int, ...]:
    channels = int(node.weight.shape[1]) * int(node.groups)
    if node.input_shape is not None:
        shape = (channels, *shape_of(node.input_shape))
    elif len(signal.shape) == dims + 1:
        shape = signal.shape
    else:
        raise NetworkError("input shape unknown: set input_shape", where=where)
    return shape


def _pool_input_shape(node: Any, signal: Signal, where: str) -> tuple[int, ...]:
    declared = (node.input_type or {}).get("input")
    if declared is not None and len(shape_of(declared)) == 3:
        return shape_of(declared)
    if len(signal.shape) == 3:
        return signal.shape
    raise NetworkError(f"needs a [C, H, W] input, got shape {list(signal.shape)}", where=where)


def apply_node(node: Any, signal: Signal, dt_s: float, where: str) -> Signal:
    """The signal after one linear node (input size already checked against ``node_input_size``)."""
    kind = type(node).__name__
    if kind in ("Affine", "Linear"):
        weight = np.asarray(node.weight, dtype=np.float64)
        if weight.ndim != 2:
            raise NetworkError(f"weight must be 2-D [out, in], got shape {list(weight.shape)}",
                               where=where)
        bias = np.asarray(node.bias, dtype=np.float64).ravel() if kind == "Affine" else 0.0
        return signal.mapped(sp.csr_matrix(weight), np.broadcast_to(bias, weight.shape[:1]),
                             weight.shape[:1])
    if kind == "Scale":
        return signal.mapped(scale_matrix(node.scale), 0.0, shape_of(node.scale.shape))
    if kind in ("Conv1d", "Conv2d"):
        dims = 2 if kind == "Conv2d" else 1
        shape = _conv_input_shape(node, signal, dims, where)
        if int(np.prod(shape)) != signal.size:
            raise NetworkError(f"input has {signal.size} values, expected {list(shape)}",
                               where=where)
        build = conv2d_matrix if dims == 2 else conv1d_matrix
        matrix, out = build(np.asarray(node.weight, dtype=np.float64), shape, node.stride,
                            node.padding, node.dilation, node.groups, where)
        bias = np.repeat(np.asarray(node.bias, dtype=np.float64).ravel(), int(np.prod(out[1:])))
        return signal.mapped(matrix, bias, out)
    if kind in ("SumPool2d", "AvgPool2d"):
        shape = _pool_input_shape(node, signal, where)
        if int(np.prod(shape)) != signal.size:
            raise NetworkError(f"input has {signal.size} values, expected {list(shape)}",
                               where=where)
        matrix, out = pool2d_matrix(shape, node.kernel_size, node.stride, node.padding,
                                           kind == "AvgPool2d", where)
        return signal.mapped(matrix, 0.0, out)
    if kind == "Flatten":  # C-order flattening is the identity on flat signals
        declared = (node.output_type or {}).get("output")
        out = shape_of(declared) if declared is not None else (signal.size,)
        return Signal(signal.terms, signal.bias, out if np.prod(out) == signal.size
                       else (signal.size,))
    if kind == "Delay":
        return _delayed(signal, node.delay, dt_s, where)
    return signal  # Identity and the Input/Output nodes of nested graphs


def node_input_size(node: Any) -> int | None:
    """The input size a node requires, where its parameters fix it."""
    kind = type(node).__name__
    if kind in ("Affine", "Linear"):
        return int(np.asarray(node.weight).shape[-1])
    if kind == "Scale":
        return int(np.asarray(node.scale).size)
    if kind == "Delay":
        return int(np.asarray(node.delay).size)
    return None
