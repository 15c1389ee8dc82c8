"""Issue 14: hypothesis fuzz of the readers of untrusted files. Whatever the bytes, the network
loader, the ``--input`` reader and the spikes-file reader either succeed or raise snnc's own
``SnncError`` (one line); any other exception fails. Fixed example counts, no deadline, no
example database: the whole file runs in well under 60 s.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.spikes import SpikeRecord
from snnc.ir import load
from snnc.ir.errors import SnncError
from snnc.ir.expand import check_draws, expand_all
from snnc.ir.resources import check, set_limit

FUZZ = settings(max_examples=500, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

BASE = """\
snnc: 1
name: t
dt: 1.0
populations:
  inp: {size: 2, source: {kind: spike_times, times: [0, 1], ids: [0, 1]}}
  noise: {size: 3, source: {kind: poisson, rate_hz: 20, seed: 1}}
  hid:
    size: 3
    neuron: {kind: lif, tau_mem: 20.0, tau_syn: 5.0, v_th: 1.0, bias: 0.1}
  out:
    size: 2
    neuron: {kind: loihi_lif, du: 4095, dv: 200, vth: 10}
projections:
  - {from: inp, to: hid, connect: all_to_all, weight: 0.5, delay: 1}
  - {from: noise, to: hid, connect: {kind: fixed_probability, p: 0.5, seed: 3}, weight: 0.2}
  - {from: hid, to: out, connect: {kind: explicit, pre: [0, 1], post: [1, 0]}, weight: 4,
     delay: {uniform: [1, 3], seed: 2}}
metadata: {note: fuzz}
"""

scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from([".nan", ".inf", "-.inf", "2e1", "5e-1", "1e-300", "1.0e-25", "0x1F", "0o17",
                     "1:30", "1_000", "true", "false", "null", "~", "''", "yes", "on", "[]",
                     "{}", "[1, 2", "{a: 1", "&a 1", "*a", "!!python/object:os.system x",
                     "!!binary aGVsbG8=", "!!set {a}", "'\\n'", "\"a\\nb\"", "-1", "0",
                     "2147483648", "10000000000", "[.nan]", "{normal: [0, 1]}",
                     "{uniform: [-5, 5], seed: 1}", "{file: x.npz, key: k}",
                     "{file: ../up.npz, key: w}", "{kind: [lif]}", "{kind: {a: 1}}"]),
    st.text(min_size=0, max_size=8),
)


@st.composite
def mutated_networks(draw) -> str:
    """BASE with a few of its values (or keys) replaced by hostile YAML."""
    text = BASE
    tokens = [t for t in set(text.replace("{", " ").replace("}", " ").replace(",", " ")
                             .replace("[", " ").replace("]", " ").split()) if t]
    for _ in range(draw(st.integers(1, 4))):
        old = draw(st.sampled_from(sorted(tokens)))
        text = text.replace(old, draw(scalars), draw(st.integers(1, 3)))
    if draw(st.booleans()):
        lines = text.splitlines()
        index = draw(st.integers(0, len(lines) - 1))
        lines.insert(index, lines[draw(st.integers(0, len(lines) - 1))])  # a duplicate line
        text = "\n".join(lines)
    return text


documents = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(),
              st.text(max_size=6)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.text(max_size=6),
                                                         st.sampled_from(["snnc", "name", "dt",
                                                                          "populations",
                                                                          "projections", "kind",
                                                                          "size", "neuron",
                                                                          "source", "from", "to",
                                                                          "weight", "delay",
                                                                          "connect"])),
                                               children, max_size=4)),
    max_leaves=20)


OUTCOMES: dict[str, int] = {}


def _load(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "replace"))
        np.savez(Path(folder) / "x.npz", k=np.ones(6))
        set_limit(64 * 2**20)
        try:
            net = load(path)
            check(net, steps=50, run=True)
            check_draws(net)
            expand_all(net)
            OUTCOMES["loaded"] = OUTCOMES.get("loaded", 0) + 1
        except SnncError as error:
            assert "\n" not in str(error)
            OUTCOMES["refused"] = OUTCOMES.get("refused", 0) + 1
        finally:
            set_limit(None)


@FUZZ
@given(mutated_networks())
def test_the_loader_raises_only_snnc_errors_on_mutated_networks(text):
    _load(text)


@settings(FUZZ, max_examples=300)
@given(documents)
def test_the_loader_raises_only_snnc_errors_on_random_documents(document):
    import yaml

    _load(yaml.safe_dump({"snnc": 1, "populations": document} if isinstance(document, dict)
                         and len(document) % 2 else document))


@settings(FUZZ, max_examples=200)
@given(st.binary(max_size=300))
def test_the_loader_raises_only_snnc_errors_on_random_bytes(data):
    _load(data)


# ---- NPZ files: --input and spikes files --------------------------------------------------------
dtypes = st.sampled_from(["<i1", "<i4", "<i8", "<u8", "<f4", "<f8", "<c16", "|b1", "<U3", "|S2",
                          "<m8[s]", "|V4"])


@st.composite
def arrays(draw) -> np.ndarray:
    dtype = np.dtype(draw(dtypes))
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    count = int(np.prod(shape)) if shape else 1
    raw = draw(st.binary(min_size=count * dtype.itemsize, max_size=count * dtype.itemsize))
    return np.frombuffer(raw, dtype=dtype).reshape(shape) if count else np.zeros(shape, dtype)


KEYS = ["times", "ids", "steps", "dt", "b.times", "b.ids", "b.v", "x", "hid.times", "hid.ids"]


@st.composite
def npz_files(draw) -> bytes:
    """An NPZ (or something that starts like one): real arrays, forged headers, truncation."""
    buffer = io.BytesIO()
    contents = draw(st.dictionaries(st.sampled_from(KEYS), arrays(), max_size=6))
    np.savez(buffer, **contents)
    data = buffer.getvalue()
    choice = draw(st.integers(0, 5))
    if choice == 0:  # truncated
        data = data[: draw(st.integers(0, len(data)))]
    elif choice == 1:  # a flipped byte
        if data:
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
    elif choice == 2:  # a forged header: a shape far larger than the data
        forged = io.BytesIO()
        with zipfile.ZipFile(forged, "w") as archive:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {
                "descr": draw(st.sampled_from(["<i8", "<f8", "|O", "<i4"])),
                "fortran_order": draw(st.booleans()),
                "shape": tuple(draw(st.lists(st.integers(0, 10**12), min_size=0, max_size=3)))})
            for key in draw(st.lists(st.sampled_from(KEYS), max_size=4, unique=True)):
                archive.writestr(f"{key}.npy", np.lib.format.MAGIC_PREFIX + b"\x01\x00"
                                 + header.getvalue()[8:] + draw(st.binary(max_size=32)))
        data = forged.getvalue()
    elif choice == 3:
        data = draw(st.binary(max_size=200))
    return data


def _write(data: bytes) -> tuple[tempfile.TemporaryDirectory, Path]:
    folder = tempfile.TemporaryDirectory()
    path = Path(folder.name) / "f.npz"
    path.write_bytes(data)
    return folder, path


@FUZZ
@given(npz_files())
def test_the_input_reader_raises_only_snnc_errors(data):
    from snnc.commands.run import _input_spikes
    from snnc.ir import Network, spike_times

    net = Network("n")
    net.source("inp", 3, spike_times())
    folder, path = _write(data)
    set_limit(64 * 2**20)
    try:
        name, times, ids = _input_spikes(f"inp={path}", net)
        assert times.shape == ids.shape and (times >= 0).all() and (ids < 3).all()
    except SnncError as error:
        assert "\n" not in str(error)
    finally:
        set_limit(None)
        folder.cleanup()


@FUZZ
@given(npz_files())
def test_the_spikes_file_reader_raises_only_snnc_errors(data):
    folder, path = _write(data)
    set_limit(64 * 2**20)
    try:
        record = SpikeRecord.load(path)
        for times, ids in record.spikes.values():
            assert times.dtype == np.int32 and times.shape == ids.shape
            assert times.size == 0 or 0 <= times.min() <= times.max() < max(record.steps, 1)
    except SnncError as error:
        assert "\n" not in str(error)
    finally:
        set_limit(None)
        folder.cleanup()


def test_the_fuzz_reaches_both_valid_and_refused_networks():
    """The mutations are neither all fatal nor all harmless (run after the loader fuzz above)."""
    if not OUTCOMES:
        test_the_loader_raises_only_snnc_errors_on_mutated_networks()
    assert OUTCOMES.get("loaded", 0) >= 10 and OUTCOMES.get("refused", 0) >= 100, OUTCOMES
