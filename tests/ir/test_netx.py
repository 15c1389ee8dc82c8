"""``snnc import-netx``: a netx file equals a Lava graph built directly from it, spike for spike.

The netx files are written here with h5py in the layout lava-dl's SLAYER writes
(lava-dl ``src/lava/lib/dl/slayer/block/base.py`` ``export_hdf5``: ``type`` as ``S10`` of shape
(1,), ``shape`` in (C, H, W), ``neuron/*`` datasets). The expectation is a Lava process graph built
here from the same file with lava-nc's own processes (``LIF``, ``Dense``, ``Conv``, ``SigmaDelta``,
``RingBuffer``) exactly as lava-dl's ``netx/hdf5.py`` builds one (its weight optimization, its
``(W, H, C)`` shapes, flipped conv kernels and ``transpose([2, 1, 0]).flatten()``) -- lava-dl itself
needs torch and is not installed. The imported network must give the same spikes on loihi-sim
and in the reference's loihi numerics.
"""

from __future__ import annotations

import random
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends import get_backend
from snnc.backends.reference import simulate
from snnc.cli import cli
from snnc.ir import Population, load, spike_times
from snnc.ir.netx import from_netx, optimize_weights

STEPS = 30


# ---- writing netx files ----------------------------------------------------------------------
def _text(group, key, value):
    group.create_dataset(key, (1,), "S10", [value.encode("ascii")])


def cuba(group, i_decay=1024, v_decay=128, vth=80, ref_delay=1):
    neuron = group.create_group("neuron")
    _text(neuron, "type", "CUBA")
    for key, value in dict(iDecay=i_decay, vDecay=v_decay, vThMant=vth, refDelay=ref_delay,
                           gradedSpike=False).items():
        neuron.create_dataset(key, data=value)


def sdnn(group, vth=1):
    neuron = group.create_group("neuron")
    _text(neuron, "type", "SDNN")
    neuron.create_dataset("vThMant", data=vth)


def write_netx(path: Path, layers: list[dict]) -> Path:
    """``layers``: dicts of datasets (``type``, ``shape``, ``weight``...) and a ``neuron`` callable."""
    with h5py.File(path, "w") as handle:
        root = handle.create_group("layer")
        for index, layer in enumerate(layers):
            group = root.create_group(str(index))
            for key, value in layer.items():
                if key == "type":
                    _text(group, key, value)
                elif key == "neuron":
                    value(group)
                else:
                    group.create_dataset(key, data=value)
    return path


def even_weights(rng, shape, lo=-100, hi=100):
    return 2 * rng.integers(lo // 2, hi // 2 + 1, size=shape)


# ---- the direct Lava graph, as netx/hdf5.py builds it ---------------------------------------
def _netx_optimize(weight):
    """lava-dl netx/utils.py optimize_weight_bits, transcribed independently of ir/netx.py."""
    weight = weight.astype(np.int64)
    max_w, min_w = weight.max(), weight.min()
    if max_w < 0:
        scale, signed = -256 / min_w, 0
    elif min_w >= 0:
        scale, signed = 255 / max_w, 0
    else:
        scale, signed = min(127 / max_w, -128 / min_w), 1
    scale_bits = np.floor(np.log2(scale)) + signed
    n = 8
    while n > 0 and np.sum(np.abs(weight / 2**n - np.round(weight / 2**n))) != 0:
        n -= 1
    n -= signed
    return (np.left_shift(weight.astype(np.int32), int(scale_bits)), int(8 - scale_bits - n),
            int(-scale_bits))


def _whc(shape):
    return tuple(int(s) for s in shape[::-1])


def run_netx_in_lava(path: Path, raster: np.ndarray, steps: int) -> dict[int, np.ndarray]:
    """Spikes (neurons in (C, H, W) order x steps) of every CUBA layer of a netx file, from Lava
    processes wired as netx wires them; ``raster`` (input neurons x steps) drives the input."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.conv.process import Conv
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF
    from lava.proc.sdn.process import SigmaDelta

    sinks, out, shape, message_bits, flatten, first = {}, None, None, 0, False, None
    with h5py.File(path, "r") as handle:
        layers = [handle["layer"][str(i)] for i in range(len(handle["layer"]))]
        for index, layer in enumerate(layers):
            kind = layer["type"][0].decode()
            if kind == "flatten":
                flatten = True
                continue
            new_shape = _whc(layer["shape"][()])
            if kind == "input":
                shape = new_shape
                data = raster.reshape(*layer["shape"][()], steps).transpose(2, 1, 0, 3) \
                    if len(shape) == 3 else raster
                first = Source(data=data.astype(np.int32))
                out = first.s_out
                if "neuron" not in layer:
                    continue
            neuron = layer["neuron"]
            bias = layer["bias"][()].astype(int) if "bias" in layer else None
            if kind != "input" and bias is not None and len(new_shape) == 3:
                full = np.zeros(new_shape, np.int32)
                full[:, :] = bias  # netx: channel-wise bias broadcast over (W, H, C)
                bias = full
            if neuron["type"][0].decode() == "SDNN":
                proc = SigmaDelta(shape=new_shape, vth=int(neuron["vThMant"][()]),
                                  spike_exp=6, state_exp=6, bias=0 if bias is None else bias)
                out_bits = 16
            else:
                proc = LIF(shape=new_shape, vth=int(neuron["vThMant"][()]),
                           du=int(neuron["iDecay"][()]) - 1, dv=int(neuron["vDecay"][()]),
                           bias_mant=0 if bias is None else bias, bias_exp=6)
                out_bits = 0
            if kind == "input":
                out.connect(proc.a_in)
            elif kind == "dense":
                weight, bits, exp = _netx_optimize(layer["weight"][()].astype(int))
                synapse = Dense(weights=weight, weight_exp=exp, num_weight_bits=bits,
                                num_message_bits=message_bits)
                (out.transpose([2, 1, 0]).flatten() if flatten else out).connect(synapse.s_in)
                synapse.a_out.connect(proc.a_in)
            else:
                if kind == "pool":  # slayer's pool: one kernel per channel (groups = channels)
                    kernel = layer["weight"][()].reshape(layer["weight"].shape[-2:])
                    weight = np.broadcast_to(kernel, (shape[2], 1, *kernel.shape))
                    groups = shape[2]
                else:
                    weight, groups = layer["weight"][()], int(layer["groups"][()])
                weight = weight[:, :, ::-1, ::-1].transpose((0, 3, 2, 1)).astype(np.int32)
                synapse = Conv(weight=weight, input_shape=shape,
                               stride=layer["stride"][()][::-1], padding=layer["padding"][()][::-1],
                               dilation=layer["dilation"][()][::-1], groups=groups,
                               num_message_bits=message_bits)
                out.connect(synapse.s_in)
                synapse.a_out.connect(proc.a_in)
            flatten, shape, message_bits, out = False, new_shape, out_bits, proc.s_out
            if out_bits == 0:
                sinks[index] = Sink(shape=new_shape, buffer=steps)
                proc.s_out.connect(sinks[index].a_in)
    first.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    try:
        data = {index: sink.data.get() for index, sink in sinks.items()}
    finally:
        first.stop()
    return {index: (d.transpose(2, 1, 0, 3).reshape(-1, steps) if d.ndim == 4 else d)
            for index, d in data.items()}


# ---- the snnc side ---------------------------------------------------------------------------
def with_input(net, raster: np.ndarray):
    ids, times = np.nonzero(raster)
    net.populations["input"] = Population(name="input", size=raster.shape[0],
                                          source=spike_times(times, ids))
    return net


def rasters(record, steps):
    out = {}
    for name, (times, ids) in record.spikes.items():
        if name.startswith("layer"):
            size = int(max(ids.max() + 1 if ids.size else 0, 1))
            r = np.zeros((size, steps), np.int64)
            r[ids, times] = 1
            out[int(name[5:])] = r
    return out


def assert_same_spikes(path, raster, lag):
    """Lava graph == reference loihi == loihi-sim; ``lag``: snnc's extra step (input neurons)."""
    expected = run_netx_in_lava(path, raster, STEPS)
    net = with_input(from_netx(path), np.pad(raster, ((0, 0), (0, lag))))
    steps = STEPS + lag
    reference = simulate(net, steps, "loihi")
    loihi_sim = get_backend("loihi-sim").run(net, steps)
    assert sum(int(r.sum()) for r in expected.values()) > 20  # the network does something
    for record in (reference, loihi_sim):
        for index, lava_raster in expected.items():
            name = f"layer{index}"
            got = np.zeros((net.populations[name].size, steps), np.int64)
            times, ids = record.spikes[name]
            got[ids, times] = 1
            np.testing.assert_array_equal(got[:, lag:], lava_raster.astype(np.int64),
                                          err_msg=f"{name}")
            assert not got[:, :lag].any()


def input_raster(rng, size, p=0.3):
    return (rng.random((size, STEPS)) < p).astype(np.int64)


# ---- tests -----------------------------------------------------------------------------------
def test_optimize_weights_by_hand():
    # mixed, max 126, min -128: scale = min(127/126, 1) = 1 -> s = 0 + 1; all even -> n = 1 - 1
    weight, bits, exp = optimize_weights(np.array([[126, -128], [4, 2]]))
    assert (bits, exp) == (7, -1)
    np.testing.assert_array_equal(weight, [[252, -256], [8, 4]])
    # excitatory, max 3: scale 85 -> s = 6; n = 0 -> 8 - 6 = 2 bits
    weight, bits, exp = optimize_weights(np.array([3, 1, 0]))
    assert (bits, exp) == (2, -6)
    np.testing.assert_array_equal(weight, [192, 64, 0])
    # inhibitory multiples of 8: scale 256/64 = 4 -> s = 2; n = 3 -> 8 - 2 - 3 = 3 bits
    weight, bits, exp = optimize_weights(np.array([-64, -8]))
    assert (bits, exp) == (3, -2)


def test_dense_cuba_equals_lava(tmp_path):
    rng = np.random.default_rng(1)
    path = write_netx(tmp_path / "dense.net", [
        dict(type="input", shape=[12]),
        dict(type="dense", shape=[10], weight=even_weights(rng, (10, 12), -40, 120),
             bias=rng.integers(-20, 40, 10), neuron=lambda g: cuba(g, vth=60)),
        dict(type="dense", shape=[6], weight=even_weights(rng, (6, 10), -60, 100),
             neuron=lambda g: cuba(g, i_decay=4096, v_decay=400, vth=30)),
    ])
    assert_same_spikes(path, input_raster(rng, 12), lag=0)


def test_conv_pool_flatten_with_input_neurons_equals_lava(tmp_path):
    rng = np.random.default_rng(2)
    path = write_netx(tmp_path / "conv.net", [
        dict(type="input", shape=[2, 6, 6], neuron=lambda g: cuba(g, i_decay=4096, vth=0)),
        dict(type="conv", shape=[3, 6, 6], weight=even_weights(rng, (3, 2, 3, 3), -60, 120),
             stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1,
             bias=np.array([10, -5, 0]), neuron=lambda g: cuba(g, vth=90)),
        dict(type="pool", shape=[3, 3, 3], weight=np.full((1, 1, 2, 2), 40), stride=[2, 2],
             padding=[0, 0], dilation=[1, 1], neuron=lambda g: cuba(g, vth=40)),
        dict(type="flatten", shape=[27]),
        dict(type="dense", shape=[5], weight=even_weights(rng, (5, 27), -30, 90),
             neuron=lambda g: cuba(g, vth=40)),
    ])
    assert_same_spikes(path, input_raster(rng, 72, 0.4), lag=1)


def test_sdnn_layer_equals_lava(tmp_path):
    rng = np.random.default_rng(3)
    path = write_netx(tmp_path / "sdnn.net", [
        dict(type="input", shape=[8]),
        dict(type="dense", shape=[6], weight=even_weights(rng, (6, 8), 0, 250),
             neuron=lambda g: sdnn(g, vth=1)),
        dict(type="dense", shape=[4], weight=even_weights(rng, (4, 6), -20, 60),
             neuron=lambda g: cuba(g, vth=200)),
    ])
    assert_same_spikes(path, input_raster(rng, 8, 0.6), lag=0)


def test_cli_import_writes_a_network_that_runs_the_same(tmp_path):
    rng = np.random.default_rng(4)
    path = write_netx(tmp_path / "m.net", [
        dict(type="input", shape=[5]),
        dict(type="dense", shape=[3], weight=even_weights(rng, (3, 5), 0, 200),
             neuron=lambda g: cuba(g, vth=50, ref_delay=3)),
    ])
    result = CliRunner().invoke(cli, ["import-netx", str(path), "-o", str(tmp_path / "m.yaml")])
    assert result.exit_code == 0, result.output
    assert "2 netx layers, 3 neurons, 15 synapses" in result.stdout
    assert "refDelay 3 ignored" in result.stderr
    raster = input_raster(rng, 5, 0.5)
    loaded = simulate(with_input(load(str(tmp_path / "m.yaml")), raster), STEPS, "loihi")
    direct = simulate(with_input(from_netx(path), raster), STEPS, "loihi")
    assert loaded.spikes.keys() == direct.spikes.keys()
    for name, (times, ids) in direct.spikes.items():
        np.testing.assert_array_equal(loaded.spikes[name][0], times)
        np.testing.assert_array_equal(loaded.spikes[name][1], ids)
    assert direct.total > 0


@pytest.mark.parametrize("layers, args, message", [
    ([dict(type="input", shape=[4]), dict(type="convT", shape=[4])], (),
     "{path}: /layer/1/type: layer type 'convT' (netx itself raises NotImplementedError)"),
    ([dict(type="input", shape=[4]),
      dict(type="dense", shape=[2], weight=np.ones((2, 4), int), neuron=lambda g: cuba(g, 0))], (),
     "{path}: /layer/1/neuron: iDecay 0, vDecay 128: netx gives Lava du = iDecay - 1 = -1"),
    ([dict(type="input", shape=[1, 3, 3]),
      dict(type="conv", shape=[1, 1, 1], weight=np.array([[[[3, -2, 0], [0, 0, 0], [0, 0, 0]]]]),
           stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=1, neuron=cuba)], (),
     "{path}: /layer/1/weight: conv/pool weights that Loihi's 8-bit synapse would change"),
    ([dict(type="input", shape=[4]),
      dict(type="dense", shape=[2], weight=np.ones((2, 4), int), neuron=lambda g: sdnn(g))],
     ("--reset-interval", "10"), "--reset-interval: per-sample reset every 10 steps"),
    ([dict(type="input", shape=[4]), dict(type="dense", shape=[2], weight=np.ones((2, 3), int),
                                          neuron=cuba)], (),
     "{path}: /layer/1: malformed netx layer: weight of shape [2, 3] does not map 4 inputs to 2 neurons"),
    ([dict(type="input", shape=[4], neuron=sdnn)], (),
     "{path}: /layer/0/neuron: an SDNN input layer (Lava's Delta process"),
])
def test_refusals_are_one_line(tmp_path, layers, args, message):
    path = write_netx(tmp_path / "bad.net", layers)
    out = tmp_path / "bad.yaml"
    result = CliRunner().invoke(cli, ["import-netx", str(path), *args, "-o", str(out)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message.format(path=path)), result.stderr
    assert not out.exists()


def test_not_hdf5_is_one_line(tmp_path):
    path = tmp_path / "x.net"
    path.write_text("not hdf5")
    result = CliRunner().invoke(cli, ["import-netx", str(path), "-o", str(tmp_path / "y.yaml")])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1
    assert lines[0].startswith(f"{path}: not a readable netx file: ")


def _mutate(path: Path, seed: int) -> str:
    """Delete one object, replace a dataset by garbage or a group by a dataset, or add a key."""
    chooser = random.Random(seed)
    with h5py.File(path, "a") as handle:
        names: list[str] = []
        handle.visit(names.append)
        name = chooser.choice(names)
        item, action = handle[name], chooser.randrange(4)
        if action == 0:
            del handle[name]
        elif action == 1 and isinstance(item, h5py.Dataset):
            del handle[name]
            handle[name] = chooser.choice([np.array([-5]), np.array([1e30]), np.array([np.nan]),
                                           b"xx", np.zeros((0,)), np.ones((3, 3, 3)),
                                           np.array([2**40]), "conv"])
        elif action == 2 and isinstance(item, h5py.Group):
            del handle[name]
            handle[name] = np.array([1, 2])
        else:
            handle[f"{name}_extra"] = 1
    return name


@pytest.mark.parametrize("seed", range(40))
def test_damaged_files_import_or_fail_in_one_line(tmp_path, seed):
    """Whatever a damaged netx file holds: exit 0, or exit 2 with one line and nothing written."""
    rng = np.random.default_rng(seed)
    path = write_netx(tmp_path / "f.net", [
        dict(type="input", shape=[1, 6, 6]),
        dict(type="conv", shape=[2, 6, 6], weight=even_weights(rng, (2, 1, 3, 3)), stride=[1, 1],
             padding=[1, 1], dilation=[1, 1], groups=1, neuron=cuba),
        dict(type="flatten", shape=[72]),
        dict(type="dense", shape=[3], weight=even_weights(rng, (3, 72)), neuron=cuba),
    ])
    damaged = _mutate(path, seed)
    out = tmp_path / "o.yaml"
    result = CliRunner().invoke(cli, ["import-netx", str(path), "-o", str(out)])
    assert result.exit_code in (0, 2), (damaged, result.output)
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, (damaged, result.stderr)
        assert not out.exists()
