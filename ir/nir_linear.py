"""NIR's linear nodes as sparse matrices on flattened (C-order) signals, for ``from_nir``.

Every node maps a signal of shape ``in_shape`` to one of shape ``out_shape``; both are flattened in
C order, so a node is a ``scipy.sparse`` matrix of shape ``(prod(out_shape), prod(in_shape))`` plus a
bias vector. Convolutions and poolings are built by vectorised index arithmetic (one numpy array
per kernel tap dimension, never a Python loop per synapse), the same arithmetic as
``torch.nn.functional.conv2d``: output ``(o_y, o_x)`` reads input ``(o_y s_y - p_y + k_y d_y, ...)``.
"""

from __future__ import annotations

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


def conv2d_matrix(weight: np.ndarray, in_shape: tuple[int, int, int], stride: Any, padding: Any,
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


def conv1d_matrix(weight: np.ndarray, in_shape: tuple[int, int], stride: Any, padding: Any,
                  dilation: Any, groups: int, where: str) -> tuple[sp.csr_matrix, tuple]:
    """Conv1d (weight ``[C_out, C_in/groups, k]``) on ``[C_in, L]``: a Conv2d of height 1."""
    pad = padding if isinstance(padding, (str, bytes)) else (0, _pair(padding, "padding", where)[0])
    matrix, (c_out, _, length) = conv2d_matrix(
        weight[:, :, None, :], (in_shape[0], 1, in_shape[1]),
        (1, _pair(stride, "stride", where)[0]), pad, (1, _pair(dilation, "dilation", where)[0]),
        groups, where)
    return matrix, (c_out, length)


def pool2d_matrix(in_shape: tuple[int, int, int], kernel: Any, stride: Any, padding: Any,
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
