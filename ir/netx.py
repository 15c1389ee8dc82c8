r"""lava-dl netx import: ``from_netx(path)`` turns a netx HDF5 network (``.net``) into a Network.

netx is the format lava-dl's SLAYER exports trained networks in and ``lava.lib.dl.netx.hdf5.Network``
builds Lava processes from (lava-nc/lava-dl ``src/lava/lib/dl/netx/hdf5.py``, ``utils.py``,
``blocks/process.py``; the writer is ``src/lava/lib/dl/slayer/block/base.py``). The fields read here
and what they become are in docs/netx.md; in short, layer ``i`` of ``/layer/i`` becomes population
``layer{i}`` fed by projection ``layer{i}`` from the previous layer, with netx's own choices:

- CUBA (``LOIHI``) neurons are Lava's ``LIF``: ``loihi_lif`` with ``du = iDecay - 1``,
  ``dv = vDecay``, ``vth = vThMant``, ``bias_mant = bias`` and ``bias_exp = 6``; ``refDelay`` is
  ignored (Lava's LIF has no refractory period; neither does netx's mapping).
- SDNN neurons are Lava's ``SigmaDelta``: ``sigma_delta`` with ``vth = vThMant``,
  ``spike_exp = state_exp = 6``, ReLU, no cumulative error, ``bias`` as Lava's bias.
- dense weights go through netx's ``optimize_weight_bits`` (transcribed in ``optimize_weights``):
  they are shifted left by ``s`` bits and given ``weight_exp = -s`` and its ``num_weight_bits``;
  conv and pool weights are used as stored (netx's Conv block has no exponent).
- a layer costs one step (Lava's Dense/Conv send the previous step's sum), as an snnc delay 1.

Neuron ``k`` of a layer of file shape ``(C, H, W)`` is ``k = (c H + y) W + x``: PyTorch's order,
in which netx's ``flatten`` (``transpose([2, 1, 0]).flatten()`` of Lava's ``(W, H, C)``) is the
identity, so a ``flatten`` layer adds nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import scipy.sparse as sp

from .errors import NetworkError, SnncError, UnsupportedOnTarget
from .network import Network, all_to_all, explicit, one_to_one, spike_times
from .nir_linear import conv2d_matrix

NETX_LAYERS = ("input", "dense", "conv", "pool", "flatten")
NETX_UNSUPPORTED = ("convT", "unpool", "average", "concat", "dense_comp")  # netx raises too
CUBA_TYPES = ("CUBA", "LOIHI")
BIAS_EXP = 6  # netx's CUBA mapping: bias_mant = bias, bias_exp = 6 (hdf5.py get_neuron_params)
SDNN_EXP = 6  # netx's SDNN mapping: spike_exp = state_exp = 6
INPUT_NAME = "input"


def optimize_weights(weight: np.ndarray) -> tuple[np.ndarray, int, int]:
    r"""netx's ``optimize_weight_bits`` (lava-dl ``netx/utils.py``): ``(weight << s, bits, -s)``.

    With ``M = max w``, ``m = min w`` and the sign mode of the weights, netx scales the 8-bit
    weights up to the synapse's range and compensates with the exponent:

    .. math::

        scale &= \min(127 / M, -128 / m) \text{ (mixed)}, \; -256 / m \text{ (inh)}, \;
                 255 / M \text{ (exc)} \\
        s &= \lfloor \log_2 scale \rfloor + [\text{mixed}] \\
        n &= \max\{k \le 8 : 2^k \mid w \ \forall w\} - [\text{mixed}] \\
        num\_weight\_bits &= 8 - s - n, \quad weight\_exp = -s

    netx first clips to ``[-256, 254]`` (printing a warning) when the weights exceed the synapse.
    """
    weight = np.asarray(weight, dtype=np.int64)
    top, bottom = int(weight.max()), int(weight.min())
    if (top > 254 and bottom < 0) or (bottom < -256 and top > 0):
        weight = np.clip(weight, -256, 254)  # netx: "[WARNING] weight matrix cannot be optimized"
        top, bottom = int(weight.max()), int(weight.min())
    mixed = 0
    if top < 0:
        scale = -256 / bottom
    elif bottom >= 0:
        if top == 0:
            raise ValueError("every weight is 0 (netx's optimize_weight_bits divides by the maximum)")
        scale = 255 / top
    else:
        mixed = 1
        scale = min(127 / top, -128 / bottom)
    shift = int(np.floor(np.log2(scale))) + mixed
    n = 8
    while n > 0 and np.any(weight % (1 << n)):
        n -= 1  # netx: the largest power of two dividing every weight (by its rounding error)
    n -= mixed
    return np.left_shift(weight, shift), 8 - shift - n, -shift


@dataclass
class _Layer:
    """What the previous layer hands the next: its population and its (C, H, W) shape."""

    population: str
    shape: tuple[int, ...]
    graded: bool = False


@dataclass
class _Reader:
    """One netx file being turned into a network, layer by layer."""

    path: str
    net: Network
    previous: _Layer | None = None
    layers: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@contextmanager
def _at(where: str, path: str) -> Iterator[None]:
    """Any failure inside a layer becomes one NetworkError naming the HDF5 path."""
    try:
        yield
    except SnncError as error:
        # the IR's own checks name a YAML path (populations.layer2.neuron.vth): add the layer's
        if not error.where.startswith(where):
            error.where = f"{where} ({error.where})" if error.where else where
        raise error.located(file=path) from None
    except (KeyError, ValueError, TypeError, IndexError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise NetworkError(f"malformed netx layer: {reason}", where=where, file=path) from None


def _text(group: Any, key: str) -> str:
    """A string dataset (netx: ``S10`` of shape (1,), or a scalar), decoded as netx does."""
    value = group[key][()]
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0]
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _array(group: Any, key: str) -> np.ndarray:
    return np.asarray(group[key][()])


def _whole(group: Any, key: str, lo: int = -(2**31), hi: int = 2**31 - 1) -> np.ndarray:
    """A dataset of whole numbers in ``lo..hi`` (int64). netx reads weights and biases with
    ``.astype(int)``, which truncates fractions and wraps huge values: refused here instead."""
    value = _array(group, key)
    if value.dtype.kind not in "biuf":
        raise ValueError(f"'{key}' must hold numbers, got {value.dtype}")
    value = value.astype(np.float64)
    if not np.all(np.isfinite(value)) or np.any(value != np.trunc(value)):
        raise ValueError(f"'{key}' must hold integers (netx's fixed-point values)")
    if value.size and (value.min() < lo or value.max() > hi):
        raise ValueError(f"'{key}' must lie in {lo}..{hi}, got {value.min():.0f}..{value.max():.0f}")
    return value.astype(np.int64)


def _int(group: Any, key: str, lo: int = -(2**31), hi: int = 2**31 - 1) -> int:
    value = _whole(group, key, lo, hi).reshape(-1)
    if value.size != 1:
        raise ValueError(f"'{key}' must be one integer, got {value.tolist()}")
    return int(value[0])


def _integers(group: Any, key: str) -> np.ndarray:
    """Weights, biases: integers (Loihi's are at most 16 bits; int32 bounds catch garbage)."""
    return _whole(group, key)


def _pair(group: Any, key: str, default: int) -> tuple[int, int]:
    """A conv/pool geometry field in the file's (y, x) order; a scalar stands for both."""
    if key not in group:
        return default, default
    value = _whole(group, key, 0, 2**15).reshape(-1)
    if value.size == 1:
        return int(value[0]), int(value[0])
    if value.size != 2:
        raise ValueError(f"'{key}' must be one or two integers, got {value.tolist()}")
    return int(value[0]), int(value[1])


def _shape(group: Any) -> tuple[int, ...]:
    shape = tuple(int(s) for s in _whole(group, "shape", 1, 2**31 - 1).reshape(-1))
    if not shape or min(shape) < 1:
        raise ValueError(f"'shape' must be positive sizes, got {list(shape)}")
    return shape


def _neuron(reader: _Reader, group: Any, size: int, bias: np.ndarray | None,
            where: str) -> tuple[Any, bool]:
    """The snnc neuron of a layer's ``neuron`` group (and whether it sends graded messages)."""
    from snnc.models.loihi_lif import LoihiLIF
    from snnc.models.sigma_delta import SigmaDelta

    if "neuron" not in group:
        raise UnsupportedOnTarget(
            "a layer without 'neuron': netx's default non-leaky integrator (iDecay 0, vThMant "
            "2^17) lies outside Lava's LIF ranges", where=where)
    neuron = group["neuron"]
    kind = _text(neuron, "type")
    if kind in CUBA_TYPES:
        i_decay, v_decay, vth = (_int(neuron, k) for k in ("iDecay", "vDecay", "vThMant"))
        if not 1 <= i_decay <= 4096 or not 0 <= v_decay <= 4095:
            raise UnsupportedOnTarget(
                f"iDecay {i_decay}, vDecay {v_decay}: netx gives Lava du = iDecay - 1 = "
                f"{i_decay - 1} and dv = vDecay = {v_decay}; loihi_lif takes 0..4095 for both",
                where=f"{where}/neuron")
        if "refDelay" in neuron and _int(neuron, "refDelay") > 1:
            reader.notes.append(f"{where}: refDelay {_int(neuron, 'refDelay')} ignored, as netx "
                                "does (Lava's LIF has no refractory period)")
        mant = np.zeros(size, np.int64) if bias is None else bias
        values = mant[0] if mant.size and np.all(mant == mant[0]) else mant
        return LoihiLIF(du=i_decay - 1, dv=v_decay, vth=vth, bias_mant=values,
                        bias_exp=BIAS_EXP), False
    if kind == "SDNN":
        if "sigma_output" in neuron:
            raise UnsupportedOnTarget(
                "an SDNN layer with 'sigma_output' (Lava's Sigma process, which sends its "
                "integrated input) has no snnc kind", where=f"{where}/neuron")
        values = 0 if bias is None else (bias[0] if np.all(bias == bias[0]) else bias)
        return SigmaDelta(vth=_int(neuron, "vThMant"), bias=values, spike_exp=SDNN_EXP,
                          state_exp=SDNN_EXP), True
    raise UnsupportedOnTarget(f"neuron type '{kind}' (snnc imports CUBA/LOIHI and SDNN)",
                              where=f"{where}/neuron")


def _bias(group: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """Per-neuron bias: netx takes one per neuron or, for a (C, H, W) layer, one per channel."""
    if "bias" not in group:
        return None
    bias = _integers(group, "bias").reshape(-1)
    size = int(np.prod(shape))
    if bias.size == size:
        return bias
    if len(shape) == 3 and bias.size == shape[0]:
        return np.repeat(bias, shape[1] * shape[2])  # channel-wise: c is the slowest index
    raise ValueError(f"bias of {bias.size} values does not fit a layer of shape {list(shape)}")


def _connector(matrix: sp.csr_matrix) -> tuple[Any, Any]:
    """The compact IR connector and integer weights for a [post, pre] matrix (zeros dropped)."""
    coo = matrix.tocoo()
    coo.eliminate_zeros()
    order = np.lexsort((coo.row, coo.col))
    pre, post = coo.col[order].astype(np.int64), coo.row[order].astype(np.int64)
    weight = np.rint(coo.data[order]).astype(np.int64)
    n_post, n_pre = matrix.shape
    connect: Any
    if pre.size == n_pre * n_post:
        connect = all_to_all()
    elif n_pre == n_post and pre.size == n_pre and np.array_equal(pre, post):
        connect = one_to_one()
    else:
        connect = explicit(pre, post)
    return connect, (int(weight[0]) if weight.size and np.all(weight == weight[0]) else weight)


def _check_unrounded(weight: np.ndarray, where: str) -> None:
    """netx's Conv runs Lava's ``Conv``, which uses the weights unclipped and unrounded; snnc (and
    Loihi's synapse) keep 8 bits (mixed sign: even values in -256..254). Refuse a difference."""
    from snnc.models.lava_fixed_point import quantize_weights

    nonzero = weight[weight != 0]
    if nonzero.size and not np.array_equal(quantize_weights(nonzero, 8), nonzero):
        raise UnsupportedOnTarget(
            "conv/pool weights that Loihi's 8-bit synapse would change (mixed signs need even "
            f"values in -256..254, one sign 0..255): {int(nonzero.min())}..{int(nonzero.max())}",
            where=f"{where}/weight")


def _check_conv_size(weight: np.ndarray, shape: tuple[int, ...], where: str, path: str) -> None:
    """conv2d_matrix broadcasts about six int64 arrays of one entry per (kernel tap, output
    position): refuse, before allocating, a layer whose table exceeds the memory limit."""
    from .resources import check_bytes

    taps = float(weight.size) * float(np.prod(shape[1:], dtype=np.float64))
    check_bytes(48.0 * taps, f"the synapse table of a conv layer ({taps:,.0f} kernel taps)",
                where, path)


def _project(reader: _Reader, index: int, matrix: sp.csr_matrix, weight_exp: int = 0,
             num_weight_bits: int = 8) -> None:
    """The projection ``layer{index}`` from the previous layer into population ``layer{index}``."""
    assert reader.previous is not None
    connect, weight = _connector(matrix)
    if np.size(weight) == 0:
        reader.notes.append(f"/layer/{index}: every weight is 0, no projection")
        return
    reader.net.connect(reader.previous.population, f"layer{index}", connect, weight=weight,
                       delay=1, name=f"layer{index}", weight_exp=weight_exp,
                       num_weight_bits=num_weight_bits)


def _previous(reader: _Reader, where: str) -> _Layer:
    if reader.previous is None:
        raise NetworkError("the first layer must be 'input' (or give the input a shape)", where=where)
    return reader.previous


def _input(reader: _Reader, index: int, group: Any, where: str) -> None:
    """An input layer: a spike source of its shape and, with a CUBA neuron, netx's input neurons
    (Lava hands the data to their ``a_in``; here the source's spikes reach them with weight 1 and
    one step's delay: snnc has no zero-delay edge)."""
    if reader.previous is not None:
        raise NetworkError("an 'input' layer after other layers", where=where)
    shape = _shape(group)
    size = int(np.prod(shape))
    reader.net.source(INPUT_NAME, size, spike_times())
    reader.previous = _Layer(INPUT_NAME, shape)
    if "neuron" not in group:
        return
    if _text(group["neuron"], "type") == "SDNN":
        raise UnsupportedOnTarget(
            "an SDNN input layer (Lava's Delta process: graded input, no integration) has no "
            "snnc kind; snnc inputs are spikes", where=f"{where}/neuron")
    neuron, _graded = _neuron(reader, group, size, None, where)
    reader.net.population(f"layer{index}", size, neuron)
    reader.net.connect(INPUT_NAME, f"layer{index}", one_to_one(), weight=1, delay=1,
                       name=f"layer{index}")
    reader.previous = _Layer(f"layer{index}", shape)
    reader.notes.append("the input layer's neurons see the source's spikes one step later than "
                        "netx's a_in does: every layer's spikes lag one step")


def _dense(reader: _Reader, index: int, group: Any, where: str) -> None:
    previous = _previous(reader, where)
    shape = _shape(group)
    size = int(np.prod(shape))
    if "weight/imag" in group:
        raise UnsupportedOnTarget("complex weights (dense_comp) have no snnc equivalent",
                                  where=f"{where}/weight")
    weight = _integers(group, "weight")
    n_in = int(np.prod(previous.shape))
    if weight.size != size * n_in:
        raise ValueError(f"weight of shape {list(weight.shape)} does not map {n_in} inputs "
                         f"to {size} neurons")
    try:
        weight, bits, exp = optimize_weights(weight.reshape(size, n_in))
    except ValueError as error:
        raise ValueError(f"weight: {error}") from None
    if not 1 <= bits <= 8 or not -8 <= exp <= 7:
        raise UnsupportedOnTarget(f"netx's weight optimization gives num_weight_bits {bits}, "
                                  f"weight_exp {exp}: outside Loihi's 1..8 and -8..7",
                                  where=f"{where}/weight")
    neuron, graded = _neuron(reader, group, size, _bias(group, shape), where)
    reader.net.population(f"layer{index}", size, neuron)
    _project(reader, index, sp.csr_matrix(weight.astype(np.float64)), exp, bits)
    reader.previous = _Layer(f"layer{index}", shape, graded)


def _conv_like(reader: _Reader, index: int, group: Any, where: str, pool: bool) -> None:
    previous = _previous(reader, where)
    if len(previous.shape) != 3:
        raise ValueError(f"a {'pool' if pool else 'conv'} layer needs a (C, H, W) input, got "
                         f"{list(previous.shape)}")
    shape = _shape(group)
    weight = _integers(group, "weight")
    channels = previous.shape[0]
    if pool:  # slayer's pool: one (kH, kW) kernel applied to every channel on its own
        kernel = weight.reshape(weight.shape[-2:]) if weight.ndim >= 2 else weight.reshape(1, 1)
        weight = np.broadcast_to(kernel, (channels, 1, *kernel.shape)).copy()
        groups = channels
    else:
        weight = weight.reshape(weight.shape[:4]) if weight.ndim == 5 else weight
        if weight.ndim != 4:
            raise ValueError(f"conv weight must be (C_out, C_in/groups, kH, kW), got "
                             f"{list(weight.shape)}")
        groups = _int(group, "groups", 1, 2**15) if "groups" in group else 1
    _check_unrounded(weight, where)
    _check_conv_size(weight, shape, where, reader.path)
    matrix, out_shape = conv2d_matrix(weight, previous.shape, _pair(group, "stride", 1),
                                      _pair(group, "padding", 0), _pair(group, "dilation", 1),
                                      groups, where)
    if tuple(out_shape) != tuple(shape):
        raise ValueError(f"the layer's shape {list(shape)} is not its output {list(out_shape)}")
    size = int(np.prod(shape))
    neuron, graded = _neuron(reader, group, size, _bias(group, shape), where)
    reader.net.population(f"layer{index}", size, neuron)
    _project(reader, index, matrix)
    reader.previous = _Layer(f"layer{index}", shape, graded)


def _layer(reader: _Reader, index: int, group: Any) -> None:
    where = f"/layer/{index}"
    kind = _text(group, "type")
    if "delay" in group:
        reader.notes.append(f"{where}: 'delay' ignored, as netx does (axonal delays are a TODO "
                            "there): one step per layer")
    if kind == "input":
        _input(reader, index, group, where)
    elif kind == "dense":
        _dense(reader, index, group, where)
    elif kind in ("conv", "pool"):
        _conv_like(reader, index, group, where, pool=kind == "pool")
    elif kind == "flatten":
        # (C, H, W) neurons are numbered in PyTorch's order: netx's flatten is the identity here
        previous = _previous(reader, where)
        reader.previous = _Layer(previous.population, (int(np.prod(previous.shape)),),
                                 previous.graded)
    elif kind in NETX_UNSUPPORTED:
        raise UnsupportedOnTarget(f"layer type '{kind}' (netx itself raises NotImplementedError)",
                                  where=f"{where}/type")
    else:
        raise NetworkError(f"unknown layer type '{kind}' (netx layers: "
                           f"{', '.join(NETX_LAYERS)})", where=f"{where}/type")
    population = reader.previous.population if reader.previous else None
    reader.layers.append({"index": index, "type": kind, "population": population,
                          "shape": list(reader.previous.shape) if reader.previous else []})


def _layer_groups(handle: Any, path: str) -> list[Any]:
    if "layer" not in handle:
        raise NetworkError("no '/layer' group: not a netx network", where="/layer", file=path)
    layers = handle["layer"]
    keys = sorted(layers.keys(), key=lambda k: int(k) if str(k).isdigit() else -1)
    if [str(k) for k in keys] != [str(i) for i in range(len(keys))]:
        raise NetworkError(f"layers must be named 0..{len(keys) - 1}, got {list(keys)}",
                           where="/layer", file=path)
    return [layers[k] for k in keys]


def from_netx(path: str | Path, *, reset_interval: int | None = None) -> Network:
    """Read a lava-dl netx HDF5 file as an snnc network (module docstring, docs/netx.md).

    ``reset_interval`` is netx's ``Network(reset_interval=...)`` (Lava's ``LIFReset``: u and v
    zeroed every that many steps, layer by layer one step later): snnc's ``loihi_lif`` has no
    such reset, so it is refused; run one sample per run instead (every state starts at 0)."""
    try:
        import h5py
    except ImportError:
        raise NetworkError("reading netx files needs h5py (pip install h5py; the nir extra "
                           "installs it)", file=str(path)) from None

    from .hdf5_safety import check_hdf5

    path = str(path)
    if reset_interval is not None:
        raise UnsupportedOnTarget(
            f"per-sample reset every {reset_interval} steps (netx's LIFReset) is not expressible "
            "in loihi_lif: run one sample per snnc run (states start at 0)",
            where="--reset-interval")
    if not Path(path).is_file():
        raise NetworkError("no such file", file=path)
    try:
        check_hdf5(path)
    except SnncError as error:  # its messages speak of NIR graphs, the other HDF5 format read
        error.message = error.message.replace("a NIR graph", "a netx network").replace(
            "NIR file", "netx file")
        error.args = (error.message,)
        raise
    net = Network(Path(path).stem or "netx", dt=1.0)
    reader = _Reader(path, net)
    try:
        with h5py.File(path, "r") as handle:
            for index, group in enumerate(_layer_groups(handle, path)):
                with _at(f"/layer/{index}", path):
                    _layer(reader, index, group)
    except SnncError:
        raise
    except OSError as error:
        raise NetworkError(f"not a readable netx file: {' '.join(str(error).split())}",
                           file=path) from None
    if reader.previous is None or not any(True for _ in net.neuron_populations()):
        raise NetworkError("no neuron layer", where="/layer", file=path)
    net.metadata["netx"] = {"file": Path(path).name, "input": INPUT_NAME,
                            "output": reader.previous.population, "layers": reader.layers,
                            "notes": reader.notes}
    return net
