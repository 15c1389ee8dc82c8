"""Issue 14's corpus: malformed inputs and option cases, table-driven.

Each case is a command line, the exact expected prefix of its one error line (``FILE: WHERE:
WHAT``, with ``{d}`` for the case's folder), its exit code, and the output it must not create.
Every case also checks: nothing on stdout, exactly one line on stderr, no traceback, and no new
file or folder at all in the case's folder (no partial output, no temporary file).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from snnc.cli import cli

BASE = """\
snnc: 1
name: t
dt: 1.0
populations:
  inp: {size: 2, source: {kind: spike_times, times: [0, 1], ids: [0, 1]}}
  hid:
    size: 3
    neuron: {kind: lif, tau_mem: 20.0}
  out:
    size: 2
    neuron: {kind: lif, tau_mem: 10.0, v_th: 0.5}
projections:
  - {from: inp, to: hid, connect: all_to_all, weight: 0.5, delay: 1}
  - {from: hid, to: out, connect: all_to_all, weight: 0.4, delay: 2}
"""

HID = "    neuron: {kind: lif, tau_mem: 20.0}\n"
P0 = "{from: inp, to: hid, connect: all_to_all, weight: 0.5, delay: 1}"


def hid(fields: str) -> tuple[str, str]:
    return HID, f"    neuron: {{kind: lif, {fields}}}\n"


def p0(text: str) -> tuple[str, str]:
    return P0, text


# (id, (old, new) replacement in BASE or a whole text, expected message after "net.yaml: ")
NETWORKS: list[tuple[str, object, str]] = [
    # numbers: NaN and infinity, YAML 1.2 forms, sizes
    ("v_th-nan", hid("tau_mem: 20.0, v_th: .nan"),
     "populations.hid.neuron.v_th: must be a finite number, got nan"),
    ("v_th-inf", hid("tau_mem: 20.0, v_th: .inf"),
     "populations.hid.neuron.v_th: must be a finite number, got inf"),
    ("v_th-minus-inf", hid("tau_mem: 20.0, v_th: -.inf"),
     "populations.hid.neuron.v_th: must be a finite number, got -inf"),
    ("bias-minus-inf", hid("tau_mem: 20.0, bias: -.inf"),
     "populations.hid.neuron.bias: must be a finite number, got -inf"),
    ("v_reset-nan", hid("tau_mem: 20.0, v_reset: .NaN"),
     "populations.hid.neuron.v_reset: must be a finite number, got nan"),
    ("v_leak-inf", hid("tau_mem: 20.0, v_leak: .Inf"),
     "populations.hid.neuron.v_leak: must be a finite number, got inf"),
    ("v_init-inf", hid("tau_mem: 20.0, v_init: -.INF"),
     "populations.hid.neuron.v_init: must be a finite number, got -inf"),
    ("tau_mem-minus-inf", hid("tau_mem: -.inf"), "populations.hid.neuron.tau_mem: must be a "
     "finite number, got -inf"),
    ("tau_mem-nan", hid("tau_mem: .nan"), "populations.hid.neuron.tau_mem: must be a finite "
     "number, got nan"),
    ("tau_syn-nan", hid("tau_mem: 20.0, tau_syn: .nan"),
     "populations.hid.neuron.tau_syn: must be a finite number, got nan"),
    ("v_th-list-nan", hid("tau_mem: 20.0, v_th: [1.0, .nan, 1.0]"),
     "populations.hid.neuron.v_th: must be finite, got nan (element 1)"),
    ("bias-list-inf", hid("tau_mem: 20.0, bias: [.inf, 0, 0]"),
     "populations.hid.neuron.bias: must be finite, got inf (element 0)"),
    ("dt-inf", ("dt: 1.0", "dt: .inf"), "dt: must be a finite number, got inf"),
    ("dt-nan", ("dt: 1.0", "dt: .nan"), "dt: must be a finite number, got nan"),
    ("dt-zero", ("dt: 1.0", "dt: 0"), "dt: must be > 0, got 0"),
    ("weight-nan", p0("{from: inp, to: hid, weight: .nan}"),
     "projections[0].weight: must be a finite number, got nan"),
    ("weight-inf", p0("{from: inp, to: hid, weight: -.inf}"),
     "projections[0].weight: must be a finite number, got -inf"),
    ("weight-list-inf", p0("{from: inp, to: hid, weight: [1, 1, 1, .inf, 1, 1]}"),
     "projections[0].weight: must be finite, got inf (element 3)"),
    ("delay-inf", p0("{from: inp, to: hid, weight: 1, delay: .inf}"),
     "projections[0].delay: must be a finite number, got inf"),
    ("delay-nan", p0("{from: inp, to: hid, weight: 1, delay: .nan}"),
     "projections[0].delay: must be a finite number, got nan"),
    ("p-nan", p0("{from: inp, to: hid, connect: {kind: fixed_probability, p: .nan}, weight: 1}"),
     "projections[0].connect.p: must be a finite number, got nan"),
    ("p-inf", p0("{from: inp, to: hid, connect: {kind: fixed_probability, p: .inf}, weight: 1}"),
     "projections[0].connect.p: must be a finite number, got inf"),
    ("rate-nan", ("{kind: spike_times, times: [0, 1], ids: [0, 1]}", "{kind: poisson, rate_hz: .nan}"),
     "populations.inp.source.rate_hz: must be a finite number, got nan"),
    ("rate-inf", ("{kind: spike_times, times: [0, 1], ids: [0, 1]}", "{kind: poisson, rate_hz: .inf}"),
     "populations.inp.source.rate_hz: must be a finite number, got inf"),
    ("normal-mean-inf", hid("tau_mem: 20.0, v_th: {normal: [.inf, 1]}"),
     "populations.hid.neuron.v_th: normal needs finite [mean, std], got [inf, 1]"),
    ("uniform-hi-inf", hid("tau_mem: 20.0, v_th: {uniform: [0, .inf]}"),
     "populations.hid.neuron.v_th: uniform needs finite [lo, hi], got [0, inf]"),
    ("tau-normal-negative", hid("tau_mem: {normal: [-1, 1], seed: 1}"),
     "populations.hid.neuron.tau_mem: drawn value -0.654416 (neuron 0) is not > 0: "
     "normal[-1.0, 1.0] seed 1 can draw outside the range"),
    ("tau-normal-zero-std", hid("tau_mem: {normal: [-20, 0]}"),
     "populations.hid.neuron.tau_mem: must be > 0, got -20"),
    ("tau-uniform-negative", hid("tau_mem: {uniform: [-1, 5]}"),
     "populations.hid.neuron.tau_mem: uniform[-1.0, 5.0] seed 0 can draw outside the range: "
     "must be > 0, got -1"),
    ("tau_syn-normal-negative", hid("tau_mem: 20.0, tau_syn: {normal: [1, 5], seed: 3}"),
     "populations.hid.neuron.tau_syn: drawn value -"),
    ("rate-uniform-negative", ("{kind: spike_times, times: [0, 1], ids: [0, 1]}",
                               "{kind: poisson, rate_hz: {uniform: [-5, 5]}}"),
     "populations.inp.source.rate_hz: uniform[-5.0, 5.0] seed 0 can draw outside the range: "
     "must be >= 0, got -5"),
    ("yaml12-float-exponent", ("size: 3", "size: 25e-1"),
     "populations.hid.size: expected an integer, got 2.5"),
    ("yaml11-sexagesimal", ("size: 3", "size: 1:30"),
     "populations.hid.size: expected an integer, got '1:30'"),
    ("size-huge", ("size: 3", "size: 10000000000"),
     "populations.hid.size: must be <= 2147483647, got 10000000000"),
    ("size-2-31", ("size: 3", "size: 2147483648"),
     "populations.hid.size: must be <= 2147483647, got 2147483648"),
    ("size-zero", ("size: 3", "size: 0"), "populations.hid.size: must be >= 1, got 0"),
    ("size-float", ("size: 3", "size: 3.5"), "populations.hid.size: expected an integer, got 3.5"),
    ("size-list", ("size: 3", "size: [3]"), "populations.hid.size: expected an integer, got [3]"),
    ("size-null", ("size: 3", "size: null"), "populations.hid.size: expected an integer, got None"),
    ("size-string", ("size: 3", "size: '3x'"), "populations.hid.size: expected an integer, got '3x'"),
    ("spike-time-1e21", ("times: [0, 1]", "times: [0, 1000000000000000000000]"),
     "populations.inp.source.times: numbers must fit in 64 bits"),
    ("spike-time-1e21-float", ("times: [0, 1]", "times: [0, 1.0e+21]"),
     "populations.inp.source: times must be <= 2147483647 (int32), got 1e+21"),
    ("spike-time-2-31", ("times: [0, 1]", "times: [0, 2147483648]"),
     "populations.inp.source: times must be <= 2147483647 (int32), got 2.14748e+09"),
    ("spike-time-negative", ("times: [0, 1]", "times: [0, -1]"),
     "populations.inp.source: times must be >= 0, got -1"),
    ("spike-time-nan", ("times: [0, 1]", "times: [0, .nan]"),
     "populations.inp.source: times must be integers"),
    ("spike-id-huge", ("ids: [0, 1]", "ids: [0, 99999999999999999999999]"),
     "populations.inp.source.ids: numbers must fit in 64 bits"),
    # keys: duplicates after normalisation, kinds of the wrong type
    ("dup-int-and-string", ("  out:\n", "  1: {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n"
                            "  '1': {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n  out:\n"),
     "line 10: duplicate key '1'"),
    ("dup-float-and-string", ("  out:\n", "  1.5: {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n"
                              "  '1.5': {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n  out:\n"),
     "line 10: duplicate key '1.5'"),
    ("dup-bool-and-string", ("  out:\n", "  true: {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n"
                             "  'True': {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n  out:\n"),
     "line 10: duplicate key 'True'"),
    ("dup-population", ("  out:\n", "  hid: {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n  out:\n"),
     "line 9: duplicate key 'hid'"),
    ("dup-field", hid("tau_mem: 20.0, tau_mem: 5.0"), "line 8: duplicate key 'tau_mem'"),
    ("dup-top-level", ("dt: 1.0", "dt: 1.0\ndt: 2.0"), "line 4: duplicate key 'dt'"),
    ("dup-in-connect", p0("{from: inp, to: hid, connect: {kind: fixed_probability, p: 0.5, "
                          "p: 0.2}, weight: 1}"), "line 13: duplicate key 'p'"),
    ("kind-list", (HID, "    neuron: {kind: [lif], tau_mem: 20.0}\n"),
     "populations.hid.neuron.kind: neuron kind must be a name, got ['lif']"),
    ("kind-mapping", (HID, "    neuron: {kind: {a: 1}, tau_mem: 20.0}\n"),
     "populations.hid.neuron.kind: neuron kind must be a name, got {'a': 1}"),
    ("kind-number", (HID, "    neuron: {kind: 5, tau_mem: 20.0}\n"),
     "populations.hid.neuron.kind: neuron kind must be a name, got 5"),
    ("kind-null", (HID, "    neuron: {kind: null, tau_mem: 20.0}\n"),
     "populations.hid.neuron.kind: neuron kind missing"),
    ("source-kind-list", ("{kind: spike_times, times: [0, 1], ids: [0, 1]}", "{kind: [poisson]}"),
     "populations.inp.source.kind: source kind must be a name, got ['poisson']"),
    ("connect-kind-mapping", p0("{from: inp, to: hid, connect: {kind: {x: 1}}, weight: 1}"),
     "projections[0].connect.kind: connect kind must be a name, got {'x': 1}"),
    ("connect-kind-list", p0("{from: inp, to: hid, connect: [all_to_all], weight: 1}"),
     "projections[0].connect: expected a mapping with 'kind', got ['all_to_all']"),
    ("neuron-a-list", (HID, "    neuron: [lif]\n"),
     "populations.hid.neuron: expected a mapping with 'kind', got ['lif']"),
    # names that would split a message
    ("name-newline", ("  out:\n", '  "a\\nb": {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n  out:\n'),
     "populations.'a\\nb': a name must be printable (no newline, tab or control character), "
     "got 'a\\nb'"),
    ("name-tab", ("  out:\n", '  "a\\tb": {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n  out:\n'),
     "populations.'a\\tb': a name must be printable"),
    ("name-escape", ("  out:\n", '  "a\\eb": {size: 1, neuron: {kind: lif, tau_mem: 5.0}}\n  out:\n'),
     "populations.'a\\x1bb': a name must be printable"),
    ("projection-name-newline", p0('{name: "x\\ny", from: inp, to: hid, weight: 1}'),
     "projections[0].name: a name must be printable"),
    ("network-name-newline", ("name: t", 'name: "t\\r"'), "name: a name must be printable"),
    # nesting and aliases
    ("metadata-deep", ("dt: 1.0", "dt: 1.0\nmetadata: " + "{a: " * 5000 + "x" + "}" * 5000),
     "line 4: nested more than 64 levels deep"),
    ("metadata-deep-lists", ("dt: 1.0", "dt: 1.0\nmetadata: {a: " + "[" * 100 + "]" * 100 + "}"),
     "line 4: nested more than 64 levels deep"),
    ("billion-laughs", ("dt: 1.0", "dt: 1.0\nmetadata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                        "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                        "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                        "  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                        "  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                        "  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"),
     "line 10: more than 1,000,000 values once aliases are expanded"),
    ("python-tag", ("dt: 1.0", "dt: !!python/object/apply:os.system ['true']"),
     "line 3: YAML syntax error: could not determine a constructor for the tag"),
    ("unhashable-key", ("dt: 1.0", "dt: 1.0\n? [a, b]\n: 1"), "line 4: YAML syntax error: found unhashable key"),
    ("tabs", ("dt: 1.0", "dt:\t1.0\n\tx: 1"), "line 3: YAML syntax error: found character "
     "'\\t' that cannot start any token"),
    ("not-a-mapping", ("snnc: 1\n", "- snnc: 1\n"), "line 2: YAML syntax error:"),
    ("just-a-list", (BASE, "[1, 2]\n"), "the file must be a YAML mapping with populations and projections"),
    ("just-a-number", (BASE, "2e1\n"), "the file must be a YAML mapping with populations and projections"),
    # connectivity rules: overflow, sizes, explicit arrays
    ("explicit-float-index", p0("{from: inp, to: hid, connect: {kind: explicit, pre: [0.5], post: [0]}, weight: 1}"),
     "projections[0].connect: pre indices must be integers"),
    ("explicit-huge-index", p0("{from: inp, to: hid, connect: {kind: explicit, pre: [99999999999999999999], "
                               "post: [0]}, weight: 1}"),
     "projections[0].connect.pre: numbers must fit in 64 bits"),
    ("explicit-index-2-40", p0("{from: inp, to: hid, connect: {kind: explicit, pre: [1099511627776], "
                               "post: [0]}, weight: 1}"),
     "projections[0].connect.pre: index 1099511627776 out of range for population 'inp' of size 2"),
    ("explicit-nan", p0("{from: inp, to: hid, connect: {kind: explicit, pre: [.nan], post: [0]}, weight: 1}"),
     "projections[0].connect: pre indices must be integers"),
    ("explicit-not-a-list", p0("{from: inp, to: hid, connect: {kind: explicit, pre: 0, post: 0}, weight: 1}"),
     "projections[0].connect.pre: expected a list of integers, or a key with 'file' set"),
    ("fixed-p-seed-huge", p0("{from: inp, to: hid, connect: {kind: fixed_probability, p: 0.5, seed: -5}, weight: 1}"),
     "projections[0].connect.seed: must be >= 0, got -5"),
    ("fixed-p-string", p0("{from: inp, to: hid, connect: {kind: fixed_probability, p: half}, weight: 1}"),
     "projections[0].connect.p: expected a number, got 'half'"),
    # array files
    ("npz-outside", p0("{from: inp, to: hid, weight: {file: ../w.npz, key: w}}"),
     "projections[0].weight: array file '../w.npz' is outside the network's folder"),
    ("npz-absolute", p0("{from: inp, to: hid, weight: {file: /etc/passwd, key: w}}"),
     "projections[0].weight: array file '/etc/passwd' is outside the network's folder"),
    ("npz-symlink-outside", p0("{from: inp, to: hid, weight: {file: link.npz, key: w}}"),
     "projections[0].weight: array file 'link.npz' is outside the network's folder"),
    ("npz-dir", p0("{from: inp, to: hid, weight: {file: sub, key: w}}"),
     "projections[0].weight: array file 'sub' not found"),
    ("npz-truncated", p0("{from: inp, to: hid, weight: {file: trunc.npz, key: w}}"),
     "projections[0].weight: cannot read array file 'trunc.npz': not a NumPy .npz archive"),
    ("npz-complex", p0("{from: inp, to: hid, weight: {file: odd.npz, key: cplx}}"),
     "projections[0].weight: 'odd.npz:cplx' must hold integers or floats, got dtype complex128"),
    ("npz-bool", p0("{from: inp, to: hid, weight: {file: odd.npz, key: flags}}"),
     "projections[0].weight: 'odd.npz:flags' must hold integers or floats, got dtype bool"),
    ("npz-scalar", p0("{from: inp, to: hid, weight: {file: odd.npz, key: scalar}}"),
     "projections[0].weight: 'odd.npz:scalar' must be 1-D, got shape ()"),
    ("npz-nan", p0("{from: inp, to: hid, weight: {file: odd.npz, key: nan6}}"),
     "projections[0].weight: must be finite, got nan (element 2)"),
    ("npz-huge-header", p0("{from: inp, to: hid, weight: {file: bomb.npz, key: w}}"),
     "projections[0].weight: 'bomb.npz:w' holds 1,000,000,000,000,000 values, 7.1 PiB, exceeds "
     "the limit of"),
    ("npz-key-not-string", p0("{from: inp, to: hid, weight: {file: w.npz, key: 5}}"),
     "projections[0].weight: 'file' and the key must be strings"),
    ("spike-file-key-nan", ("{kind: spike_times, times: [0, 1], ids: [0, 1]}",
                            "{kind: spike_times, file: odd.npz, times: nan6, ids: nan6}"),
     "populations.inp.source: times must be integers"),
]


def _network_text(change: object) -> str:
    old, new = change  # type: ignore[misc]
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def _arrays(folder: Path) -> None:
    np.savez(folder / "w.npz", w=np.full(6, 0.5))
    np.savez(folder.parent / "w.npz", w=np.full(6, 0.5))
    np.savez(folder / "odd.npz", cplx=np.ones(6, complex), flags=np.ones(6, bool),
             scalar=np.array(1.0), nan6=np.array([1, 1, np.nan, 1, 1, 1.0]))
    good = (folder / "w.npz").read_bytes()
    (folder / "trunc.npz").write_bytes(good[: len(good) // 2])
    (folder / "sub").mkdir()
    os.symlink(folder.parent / "w.npz", folder / "link.npz")
    _bomb(folder / "bomb.npz")


def _bomb(path: Path) -> None:
    """An NPZ whose member header claims 10^15 float64 values (the data is not there)."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**15,)})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", np.lib.format.MAGIC_PREFIX + b"\x01\x00"
                         + header.getvalue()[len(np.lib.format.MAGIC_PREFIX) + 2:] + b"\0" * 64)


NETWORK_COMMANDS = {
    "validate": lambda net, d: ["validate", net],
    "info": lambda net, d: ["info", net],
    "compile": lambda net, d: ["compile", net, "--target", "reference", "-o", f"{d}/build"],
    "run": lambda net, d: ["run", net, "--target", "reference", "--steps", "5", "-o",
                           f"{d}/spikes.npz"],
    "quantize": lambda net, d: ["quantize", net, "--target", "loihi-sim", "-o", f"{d}/q.yaml"],
}

CASES: list[tuple[str, list[str], str, int]] = []  # id, argv ({d}: folder), message, exit
SETUP: dict[str, object] = {}  # id -> network text (or a callable preparing the folder)

for _id, _change, _message in NETWORKS:
    for _command, _argv in NETWORK_COMMANDS.items():
        case = f"{_command}-{_id}"
        CASES.append((case, _argv("{d}/net.yaml", "{d}"), "{d}/net.yaml: " + _message, 2))
        SETUP[case] = _network_text(_change)

# ---- the reproducers at scale: refused by the estimates, in one line -------------------
SCALE = """\
snnc: 1
name: big
populations:
  a: {size: 1000000, source: {kind: spike_times}}
  b: {size: 1000000, neuron: {kind: lif, tau_mem: 20.0}}
projections:
  - {from: a, to: b, connect: {kind: fixed_probability, p: 1.0}, weight: 1.0}
"""
_TOO_BIG = ("{d}/net.yaml: projections[0] (a->b): fixed_probability p=1 over 1,000,000 x "
            "1,000,000 pairs: 1e+12 expected synapses, about ")
for _command, _argv in NETWORK_COMMANDS.items():
    CASES.append((f"{_command}-scale-1e12", _argv("{d}/net.yaml", "{d}"), _TOO_BIG, 2))
    SETUP[f"{_command}-scale-1e12"] = SCALE
for _command in ("validate", "info", "compile", "run"):
    for _size, _p in (("300000", "0.5"), ("2000000", "0.01"), ("100000000", "0.0001")):
        case = f"{_command}-scale-{_size}-{_p}"
        CASES.append((case, NETWORK_COMMANDS[_command]("{d}/net.yaml", "{d}"),
                      "{d}/net.yaml: projections[0] (a->b): fixed_probability p=" + _p, 2))
        SETUP[case] = (SCALE.replace("1000000", _size).replace("p: 1.0", f"p: {_p}"))
    case = f"{_command}-max-memory"
    CASES.append((case, ["--max-memory", "100"] + NETWORK_COMMANDS[_command]("{d}/net.yaml", "{d}"),
                  "{d}/net.yaml: projections[0] (inp->hid): all_to_all 2 x 3: 6 synapses, about ", 2))
    SETUP[case] = BASE
    case = f"{_command}-env-max-memory"
    CASES.append((case, NETWORK_COMMANDS[_command]("{d}/net.yaml", "{d}"),
                  "{d}/net.yaml: projections[0] (inp->hid): all_to_all 2 x 3: 6 synapses, about ", 2))
    SETUP[case] = BASE

# ---- options --------------------------------------------------------------------------------------
RUN = ["run", "{d}/net.yaml", "--target", "reference"]
OPTIONS = [
    ("steps-1e10", [*RUN, "--steps", "10000000000", "-o", "{d}/s.npz"],
     "snnc run: Invalid value for '--steps': 10000000000 is not in the range 0<=x<=2147483647."),
    ("steps-negative", [*RUN, "--steps", "-1", "-o", "{d}/s.npz"],
     "snnc run: Invalid value for '--steps': -1 is not in the range 0<=x<=2147483647."),
    ("steps-float", [*RUN, "--steps", "1.5", "-o", "{d}/s.npz"],
     "snnc run: Invalid value for '--steps': '1.5' is not a valid integer range."),
    ("steps-nan", [*RUN, "--steps", "nan", "-o", "{d}/s.npz"],
     "snnc run: Invalid value for '--steps': 'nan' is not a valid integer range."),
    ("record-v-huge", [*RUN, "--steps", "2000000000", "--record-v", "hid", "-o", "{d}/s.npz"],
     "{d}/net.yaml: --record-v hid: 2,000,000,000 steps x 3 voltages, about 44.7 GiB, exceeds"),
    ("verify-steps-1e10", ["verify", "{d}/net.yaml", "--target", "loihi-sim", "--steps",
                           "10000000000"],
     "snnc verify: Invalid value for '--steps': 10000000000 is not in the range 0<=x<=2147483647."),
    ("quantize-steps-1e10", ["quantize", "{d}/net.yaml", "--target", "loihi-sim", "--steps",
                             "10000000000"],
     "snnc quantize: Invalid value for '--steps': 10000000000 is not in the range "
     "1<=x<=2147483647."),
    ("max-memory-word", ["--max-memory", "lots", "validate", "{d}/net.yaml"],
     "snnc: Invalid value for '--max-memory': expected a size such as 8GiB, 512M or 2e9 (bytes), "
     "got 'lots'"),
    ("max-memory-zero", ["--max-memory", "0", "validate", "{d}/net.yaml"],
     "snnc: Invalid value for '--max-memory': a memory limit must be between 1 byte and 4 EiB"),
    ("max-memory-negative", ["--max-memory", "-5G", "validate", "{d}/net.yaml"],
     "snnc: Invalid value for '--max-memory': expected a size"),
    ("max-memory-unit", ["--max-memory", "5 parsecs", "validate", "{d}/net.yaml"],
     "snnc: Invalid value for '--max-memory': expected a size"),
    ("numerics-other-target", [*RUN[:2], "--target", "loihi-sim", "--numerics", "float",
                               "--steps", "5", "-o", "{d}/s.npz"],
     "--numerics: --numerics applies to --target reference only"),
    ("input-no-equals", [*RUN, "--steps", "5", "--input", "inp", "-o", "{d}/s.npz"],
     "--input: expected POP=FILE.npz, got 'inp'"),
    ("input-not-a-source", [*RUN, "--steps", "5", "--input", "hid={d}/in_good.npz", "-o",
                            "{d}/s.npz"],
     "--input hid: 'hid' is not a spike-source population (sources: inp)"),
    ("input-npy", [*RUN, "--steps", "5", "--input", "inp={d}/in.npy", "-o", "{d}/s.npz"],
     "{d}/in.npy: --input inp: cannot read spikes file: not a NumPy .npz archive"),
    ("input-truncated", [*RUN, "--steps", "5", "--input", "inp={d}/in_trunc.npz", "-o",
                         "{d}/s.npz"],
     "{d}/in_trunc.npz: --input inp: cannot read spikes file: not a NumPy .npz archive"),
    ("input-uint64", [*RUN, "--steps", "5", "--input", "inp={d}/in_u64.npz", "-o", "{d}/s.npz"],
     "{d}/in_u64.npz: --input inp: 'times' holds 18446744073709551615, above 2147483647 (int32)"),
    ("input-float", [*RUN, "--steps", "5", "--input", "inp={d}/in_float.npz", "-o", "{d}/s.npz"],
     "{d}/in_float.npz: --input inp: 'times' must hold integers, got dtype float64"),
    ("input-2d", [*RUN, "--steps", "5", "--input", "inp={d}/in_2d.npz", "-o", "{d}/s.npz"],
     "{d}/in_2d.npz: --input inp: 'times' must be 1-D, got shape (2, 2)"),
    ("input-object", [*RUN, "--steps", "5", "--input", "inp={d}/in_obj.npz", "-o", "{d}/s.npz"],
     "{d}/in_obj.npz: --input inp: cannot read 'times': Object arrays cannot be loaded"),
    ("input-missing-key", [*RUN, "--steps", "5", "--input", "inp={d}/in_noids.npz", "-o",
                           "{d}/s.npz"],
     "{d}/in_noids.npz: --input inp: missing key(s) ids (needs 'times' and 'ids')"),
    ("input-lengths", [*RUN, "--steps", "5", "--input", "inp={d}/in_lengths.npz", "-o",
                       "{d}/s.npz"],
     "{d}/in_lengths.npz: --input inp: 'times' and 'ids' must be 1-D of equal length"),
    ("input-negative", [*RUN, "--steps", "5", "--input", "inp={d}/in_neg.npz", "-o", "{d}/s.npz"],
     "{d}/in_neg.npz: --input inp: 'times' must be non-negative integers"),
    ("input-id-range", [*RUN, "--steps", "5", "--input", "inp={d}/in_id.npz", "-o", "{d}/s.npz"],
     "{d}/in_id.npz: --input inp: neuron id 9 out of range for 'inp' of size 2"),
    ("input-time-2-31", [*RUN, "--steps", "5", "--input", "inp={d}/in_t31.npz", "-o", "{d}/s.npz"],
     "{d}/in_t31.npz: --input inp: 'times' holds 2147483648, above 2147483647 (int32)"),
    ("input-directory", [*RUN, "--steps", "5", "--input", "inp={d}/sub", "-o", "{d}/s.npz"],
     "{d}/sub: --input inp: cannot read spikes file: is a directory"),
    ("input-missing", [*RUN, "--steps", "5", "--input", "inp={d}/nope.npz", "-o", "{d}/s.npz"],
     "{d}/nope.npz: --input inp: cannot read spikes file: no such file"),
    ("input-bomb", [*RUN, "--steps", "5", "--input", "inp={d}/in_bomb.npz", "-o", "{d}/s.npz"],
     "{d}/in_bomb.npz: --input inp: 'times' holds 1,000,000,000,000,000 values"),
    ("hardware-huge", ["compile", "{d}/net.yaml", "--target", "loihi-sim", "--hardware",
                       "{d}/hw_huge.yaml", "-o", "{d}/build"],
     "{d}/hw_huge.yaml: chips_x: Input should be less than or equal to 256"),
    ("hardware-too-many-cores", ["compile", "{d}/net.yaml", "--target", "loihi-sim",
                                 "--hardware", "{d}/hw_cores.yaml", "-o", "{d}/build"],
     "{d}/hw_cores.yaml: hardware: 65,536 chips x 1024 cores is more than 1,048,576 cores"),
    ("hardware-neurons", ["compile", "{d}/net.yaml", "--target", "loihi-sim", "--hardware",
                          "{d}/hw_neurons.yaml", "-o", "{d}/build"],
     "{d}/hw_neurons.yaml: neurons_per_core: Input should be less than or equal to 1048576"),
    ("hardware-memory", ["compile", "{d}/net.yaml", "--target", "loihi-sim", "--hardware",
                         "{d}/hw_memory.yaml", "-o", "{d}/build"],
     "{d}/hw_memory.yaml: memory_bytes_per_core: Input should be less than or equal to"),
    ("hardware-delay", ["compile", "{d}/net.yaml", "--target", "loihi-sim", "--hardware",
                        "{d}/hw_delay.yaml", "-o", "{d}/build"],
     "{d}/hw_delay.yaml: max_delay: Input should be less than or equal to 65535"),
    ("hardware-nan", ["compile", "{d}/net.yaml", "--target", "loihi-sim", "--hardware",
                      "{d}/hw_nan.yaml", "-o", "{d}/build"],
     "{d}/hw_nan.yaml: chips_x: Input should be a finite number"),
    ("hardware-dup", ["compile", "{d}/net.yaml", "--target", "loihi-sim", "--hardware",
                      "{d}/hw_dup.yaml", "-o", "{d}/build"],
     "{d}/hw_dup.yaml: line 3: duplicate key 'chips_x'"),
    ("hardware-list", ["compile", "{d}/net.yaml", "--target", "loihi-sim", "--hardware",
                       "{d}/hw_list.yaml", "-o", "{d}/build"],
     "{d}/hw_list.yaml: hardware: a hardware spec is a mapping of fields"),
    ("hardware-syntax", ["compile", "{d}/net.yaml", "--target", "loihi-sim", "--hardware",
                         "{d}/hw_syntax.yaml", "-o", "{d}/build"],
     "{d}/hw_syntax.yaml: line 2: YAML syntax error: expected ',' or ']'"),
    ("compile-empty-network", ["compile", "{d}/empty.yaml", "--target", "reference", "-o",
                               "{d}/build"],
     "{d}/empty.yaml: populations: the network has no neuron populations: nothing to compile"),
    ("compile-sources-only", ["compile", "{d}/sources.yaml", "--target", "loihi-sim", "-o",
                              "{d}/build"],
     "{d}/sources.yaml: populations: the network has no neuron populations: nothing to compile"),
    ("allow-outside-still-checks-key", ["--allow-outside-paths", "validate", "{d}/outside.yaml"],
     "{d}/outside.yaml: projections[0].weight: key 'nokey' not in '../w.npz' (keys: w)"),
]
for _id, _argv, _message in OPTIONS:
    CASES.append((f"option-{_id}", _argv, _message, 2))

# ---- outputs: only a missing path or a regular file --------------------------------------------
_TARGETS = {
    "symlink": ("link_out", "symbolic link"), "device": ("/dev/null", "device"),
    "fifo": ("fifo", "FIFO"), "directory": ("sub", "directory"),
    "dangling-symlink": ("dangling", "symbolic link"),
}
_WRITERS = {
    "run": lambda o: [*RUN, "--steps", "3", "-o", o],
    "quantize": lambda o: ["quantize", "{d}/net.yaml", "--target", "loihi-sim", "-o", o],
    "export-nir": lambda o: ["export-nir", "{d}/net.yaml", "-o", o],
    "import-nir": lambda o: ["import-nir", "{d}/good.nir", "--dt", "0.001", "-o", o],
    "plot": lambda o: ["plot", "{d}/spikes_good.npz", "-o", o],
}
for _writer, _argv in _WRITERS.items():
    for _kind, (_name, _what) in _TARGETS.items():
        _path = _name if _name.startswith("/") else "{d}/" + _name
        if _kind == "directory":
            message = "Invalid value for '-o' / '--output': File '{d}/sub' is a directory."
            message = f"snnc {_writer}: {message}"
        else:
            message = (f"{_path}: --output: refusing to replace a{'n' if _what[0] in 'a' else ''} "
                       f"{_what}: an output must be a missing path or a regular file")
        CASES.append((f"output-{_writer}-{_kind}", _argv(_path), message, 2))
    CASES.append((f"output-{_writer}-parent-is-file", _argv("{d}/net.yaml/out"),
                  "{d}/net.yaml/out: --output: cannot write: '{d}/net.yaml' is not a directory", 2))
for _kind, (_name, _what) in _TARGETS.items():
    if _kind == "directory":
        continue
    _path = _name if _name.startswith("/") else "{d}/" + _name
    CASES.append((f"output-compile-{_kind}",
                  ["compile", "{d}/net.yaml", "--target", "reference", "-o", _path],
                  _path + f": --output: refusing to replace a{'n' if _what[0] in 'a' else ''}"
                  f" {_what}: a build folder must be a missing path or a directory", 2))
CASES.append(("output-compile-file", ["compile", "{d}/net.yaml", "--target", "reference", "-o",
                                      "{d}/net.yaml"],
              "{d}/net.yaml: --output: refusing to replace a file: a build folder must be a "
              "missing path or a directory", 2))
CASES.append(("output-run-provenance-symlink",
              ["run", "{d}/net.yaml", "--target", "spinnaker-emu", "--steps", "3", "-o",
               "{d}/prov/s.npz"],
              "{d}/prov/s.provenance.json: --output: refusing to replace a symbolic link", 2))

# ---- spikes files given to plot -------------------------------------------------------------
SPIKES = [
    ("zero-steps", "spikes_zero.npz", "steps: the file holds 0 steps: nothing to plot"),
    ("truncated", "spikes_trunc.npz", "cannot read spikes file: not a NumPy .npz archive"),
    ("garbage", "spikes_garbage.npz", "cannot read spikes file: not a NumPy .npz archive"),
    ("no-steps", "spikes_nosteps.npz", "steps: not a spikes file: no 'steps' key"),
    ("no-dt", "spikes_nodt.npz", "dt: not a spikes file: no 'dt' key"),
    ("dt-nan", "spikes_dtnan.npz", "dt: must be a positive number, got nan"),
    ("dt-negative", "spikes_dtneg.npz", "dt: must be a positive number, got -1.0"),
    ("steps-negative", "spikes_stepsneg.npz", "steps: must be 0..2147483647, got -5"),
    ("steps-float", "spikes_stepsfloat.npz", "steps: 'steps' must hold integers, got dtype float64"),
    ("steps-array", "spikes_stepsarray.npz", "steps: 'steps' must be 0-D, got shape (2,)"),
    ("ids-negative", "spikes_idneg.npz", "b.ids: value -3 outside 0..2147483646"),
    ("times-beyond-steps", "spikes_late.npz", "b.times: value 99 outside 0..4"),
    ("times-float", "spikes_tfloat.npz", "b.times: 'b.times' must hold integers, got dtype float64"),
    ("times-uint64", "spikes_u64.npz", "b.times: value 18446744073709551615 outside 0..4"),
    ("no-ids", "spikes_noids.npz", "b.ids: 'b.times' has no 'b.ids'"),
    ("lengths", "spikes_lengths.npz", "b.ids: 2 times but 1 ids"),
    ("v-1d", "spikes_v1d.npz", "b.v: 'b.v' must be 2-D, got shape (5,)"),
    ("v-object", "spikes_vobj.npz", "b.v: cannot read 'b.v': Object arrays cannot be loaded"),
    ("bomb", "spikes_bomb.npz", "b.times: 'b.times' holds 1,000,000,000,000,000 values"),
]
for _id, _file, _message in SPIKES:
    CASES.append((f"plot-{_id}", ["plot", "{d}/" + _file, "-o", "{d}/p.png"],
                  "{d}/" + _file + ": " + _message, 2))
CASES.append(("plot-ids-beyond-net", ["plot", "{d}/spikes_good.npz", "--net", "{d}/small.yaml",
                                      "-o", "{d}/p.png"],
              "{d}/spikes_good.npz: hid.ids: neuron id 2 out of range for 'hid' of size 1", 2))
CASES.append(("plot-unknown-population", ["plot", "{d}/spikes_good.npz", "--population", "zz",
                                          "-o", "{d}/p.png"],
              "--population: no population 'zz' in the spikes file", 2))

# ---- corrupted build folders ---------------------------------------------------------------------
BUILDS = [
    ("mapping-not-json", "mapping.json: corrupted build folder: Expecting property name"),
    ("mapping-no-cores", "mapping.json: corrupted build folder: 'cores'"),
    ("mapping-slice-range", "mapping.json: corrupted build folder: core 0: slice 0..1000000 "
     "outside 'hid' of size 3"),
    ("mapping-unknown-population", "mapping.json: corrupted build folder: core 0 holds unknown "
     "population 'zz'"),
    ("mapping-not-placed", "mapping.json: corrupted build folder: core 0 is not placed"),
    ("mapping-off-chip", "mapping.json: corrupted build folder: core 0 is placed at (99, 0, 0), "
     "not on the hardware"),
    ("mapping-core-ids", "mapping.json: corrupted build folder: core ids are not 0..n-1 in order"),
    ("mapping-hardware", "mapping.json: corrupted build folder: chips_x: Input should be a valid "
     "integer"),
    ("mapping-a-list", "mapping.json: corrupted build folder: list indices must be integers"),
    ("routing-garbage", "routing.npz: cannot read routing.npz: not a NumPy .npz archive"),
    ("routing-float", "routing.npz: routing.npz:0,0/keys must hold integers, got dtype float64"),
    ("report-not-object", "report.json: corrupted build folder: Input should be an object"),
    ("report-garbage", "report.json: corrupted build folder: Invalid JSON"),
    ("network-missing", "not a build directory (missing network.yaml)"),
    ("network-syntax", None),
    ("network-nan", None),
]
for _id, _message in BUILDS:
    message = ("{d}/build/network.yaml: line 3: YAML syntax error:" if _id == "network-syntax"
               else "{d}/build/network.yaml: dt: must be a finite number, got nan"
               if _id == "network-nan" else "{d}/build: " + _message)
    CASES.append((f"build-run-{_id}", ["run", "{d}/build", "--target", "spinnaker-emu", "--steps",
                                       "3", "-o", "{d}/s.npz"], message, 2))
    CASES.append((f"build-verify-{_id}", ["verify", "{d}/build", "--target", "spinnaker-emu",
                                          "--steps", "3"], message, 2))
CASES.append(("build-report-not-object", ["report", "{d}/build"],
              "{d}/build: report.json: corrupted build folder: Input should be an object", 2))
CASES.append(("build-report-garbage", ["report", "{d}/build", "--format", "csv"],
              "{d}/build: report.json: corrupted build folder: Invalid JSON", 2))
CASES.append(("build-report-plot-mapping", ["report", "{d}/build", "--plot"],
              "{d}/build: mapping.json: corrupted build folder: Expecting property name", 2))

# ---- NIR files ---------------------------------------------------------------------------------
NIRS = [
    ("external-storage", "refused: a dataset with external storage (its bytes would be read from "
     "/etc/passwd)"),
    ("external-link", "refused: an external link to"),
    ("soft-link", "refused: a soft link to /node/nodes/lif2/v_leak"),
    ("virtual", "refused: a virtual dataset (its data would come from other files)"),
    ("huge", "dataset of shape (1000000, 1000000), 7.3 TiB, exceeds the limit of"),
    ("compound", "refused: dtype [('a', '<f8'), ('b', '<i4')] is not one a NIR graph holds"),
    ("dims", "refused: 9 dimensions (at most 8)"),
    ("no-type", "not a readable NIR file: missing entry 'type'"),
    ("truncated", "not a readable NIR file: Unable to synchronously open file"),
    ("garbage", "not a readable NIR file: Unable to synchronously open file (file signature not "
     "found)"),
]
for _id, _message in NIRS:
    where = {"external-storage": "/node/nodes/lif1/v_leak: ", "external-link":
             "/node/nodes/lif1/v_leak: ", "soft-link": "/node/nodes/lif1/v_leak: ",
             "virtual": "/node/nodes/lif1/v_leak: ", "huge": "/node/nodes/linear1/weight: ",
             "compound": "/node/nodes/lif1/v_leak: ", "dims": "/node/nodes/lif1/v_leak: "}.get(_id, "")
    CASES.append((f"nir-{_id}", ["import-nir", "{d}/" + _id + ".nir", "--dt", "0.001", "-o",
                                 "{d}/n.yaml"], "{d}/" + _id + ".nir: " + where + _message, 2))
CASES.append(("nir-dt-nan", ["import-nir", "{d}/good.nir", "--dt", "nan", "-o", "{d}/n.yaml"],
              "{d}/good.nir: dt: must be a positive number of seconds, got nan", 2))
CASES.append(("nir-dt-inf", ["import-nir", "{d}/good.nir", "--dt", "inf", "-o", "{d}/n.yaml"],
              "{d}/good.nir: dt: must be a positive number of seconds, got inf", 2))
CASES.append(("nir-missing", ["import-nir", "{d}/absent.nir", "--dt", "0.001", "-o",
                              "{d}/n.yaml"], "{d}/absent.nir: file not found", 2))


def _prepare(folder: Path) -> None:
    """Every file a case may read (the same for all cases: cheap, and no case depends on order)."""
    (folder / "net.yaml").write_text(BASE)
    (folder / "empty.yaml").write_text("snnc: 1\nname: empty\n")
    (folder / "sources.yaml").write_text("snnc: 1\nname: s\npopulations:\n  a: {size: 1, source: "
                                         "{kind: poisson, rate_hz: 5}}\n")
    (folder / "small.yaml").write_text(BASE.replace("size: 3", "size: 1").replace(
        "- {from: inp, to: hid, connect: all_to_all", "- {from: inp, to: out, connect: all_to_all"))
    np.save(folder / "in.npy", np.arange(3))
    np.savez(folder / "in_good.npz", times=np.array([0, 1]), ids=np.array([0, 1]))
    good = (folder / "in_good.npz").read_bytes()
    (folder / "in_trunc.npz").write_bytes(good[: len(good) // 2])
    np.savez(folder / "in_u64.npz", times=np.array([2**64 - 1], np.uint64),
             ids=np.array([0], np.uint64))
    np.savez(folder / "in_float.npz", times=np.array([0.5]), ids=np.array([0]))
    np.savez(folder / "in_2d.npz", times=np.zeros((2, 2), int), ids=np.zeros((2, 2), int))
    np.savez(folder / "in_obj.npz", times=np.array([1, "a"], dtype=object), ids=np.array([0]))
    np.savez(folder / "in_noids.npz", times=np.array([0]))
    np.savez(folder / "in_lengths.npz", times=np.array([0, 1]), ids=np.array([0]))
    np.savez(folder / "in_neg.npz", times=np.array([-1]), ids=np.array([0]))
    np.savez(folder / "in_id.npz", times=np.array([0]), ids=np.array([9]))
    np.savez(folder / "in_t31.npz", times=np.array([2**31]), ids=np.array([0]))
    _bomb_pair(folder / "in_bomb.npz", ("times", "ids"))
    (folder / "hw_huge.yaml").write_text("base: loihi2\nchips_x: 100000\nchips_y: 100000\n")
    (folder / "hw_cores.yaml").write_text("base: loihi2\nchips_x: 256\nchips_y: 256\n"
                                          "cores_per_chip: 1024\n")
    (folder / "hw_neurons.yaml").write_text("base: loihi2\nneurons_per_core: 1e12\n")
    (folder / "hw_memory.yaml").write_text("base: loihi2\nmemory_bytes_per_core: 1e15\n")
    (folder / "hw_delay.yaml").write_text("base: loihi2\nmax_delay: 1e9\n")
    (folder / "hw_nan.yaml").write_text("base: loihi2\nchips_x: .nan\n")
    (folder / "hw_dup.yaml").write_text("base: loihi2\nchips_x: 2\nchips_x: 3\n")
    (folder / "hw_list.yaml").write_text("- base: loihi2\n")
    (folder / "hw_syntax.yaml").write_text("base: [loihi2\n")
    (folder.parent / "w.npz").exists() or np.savez(folder.parent / "w.npz", w=np.ones(6))
    (folder / "outside.yaml").write_text(BASE.replace(P0, "{from: inp, to: hid, weight: "
                                                          "{file: ../w.npz, key: nokey}}"))
    # output targets that are not regular files
    (folder / "victim.npz").write_text("must survive")
    os.symlink(folder / "victim.npz", folder / "link_out")
    os.symlink(folder / "nowhere", folder / "dangling")
    os.mkfifo(folder / "fifo")
    (folder / "prov").mkdir()
    os.symlink(folder / "sub" / "x.json", folder / "prov" / "s.provenance.json")
    _spikes(folder)
    _nir(folder)


def _bomb_pair(path: Path, keys: tuple[str, ...]) -> None:
    import io
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for key in keys:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<i8", "fortran_order": False,
                                                          "shape": (10**15,)})
            archive.writestr(f"{key}.npy", header.getvalue()[:0] + np.lib.format.MAGIC_PREFIX
                             + b"\x01\x00" + header.getvalue()[len(np.lib.format.MAGIC_PREFIX)
                                                               + 2:] + b"\0" * 64)


def _spikes(folder: Path) -> None:
    def one(name: str, **arrays: object) -> None:
        np.savez(folder / name, **arrays)

    t, i = np.array([0], np.int32), np.array([0], np.int32)
    one("spikes_good.npz", steps=np.array(5), dt=np.array(1.0),
        **{"hid.times": np.array([0, 1], np.int32), "hid.ids": np.array([0, 2], np.int32)})
    one("spikes_zero.npz", steps=np.array(0), dt=np.array(1.0), **{"b.times": t[:0], "b.ids": i[:0]})
    good = (folder / "spikes_good.npz").read_bytes()
    (folder / "spikes_trunc.npz").write_bytes(good[: len(good) // 2])
    (folder / "spikes_garbage.npz").write_text("hello")
    one("spikes_nosteps.npz", dt=np.array(1.0), **{"b.times": t, "b.ids": i})
    one("spikes_nodt.npz", steps=np.array(5), **{"b.times": t, "b.ids": i})
    one("spikes_dtnan.npz", steps=np.array(5), dt=np.array(np.nan), **{"b.times": t, "b.ids": i})
    one("spikes_dtneg.npz", steps=np.array(5), dt=np.array(-1.0), **{"b.times": t, "b.ids": i})
    one("spikes_stepsneg.npz", steps=np.array(-5), dt=np.array(1.0), **{"b.times": t, "b.ids": i})
    one("spikes_stepsfloat.npz", steps=np.array(5.0), dt=np.array(1.0),
        **{"b.times": t, "b.ids": i})
    one("spikes_stepsarray.npz", steps=np.array([5, 5]), dt=np.array(1.0),
        **{"b.times": t, "b.ids": i})
    one("spikes_idneg.npz", steps=np.array(5), dt=np.array(1.0),
        **{"b.times": t, "b.ids": np.array([-3], np.int32)})
    one("spikes_late.npz", steps=np.array(5), dt=np.array(1.0),
        **{"b.times": np.array([99], np.int32), "b.ids": i})
    one("spikes_tfloat.npz", steps=np.array(5), dt=np.array(1.0),
        **{"b.times": np.array([0.5]), "b.ids": i})
    one("spikes_u64.npz", steps=np.array(5), dt=np.array(1.0),
        **{"b.times": np.array([2**64 - 1], np.uint64), "b.ids": i})
    one("spikes_noids.npz", steps=np.array(5), dt=np.array(1.0), **{"b.times": t})
    one("spikes_lengths.npz", steps=np.array(5), dt=np.array(1.0),
        **{"b.times": np.array([0, 1], np.int32), "b.ids": i})
    one("spikes_v1d.npz", steps=np.array(5), dt=np.array(1.0),
        **{"b.times": t, "b.ids": i, "b.v": np.zeros(5)})
    one("spikes_vobj.npz", steps=np.array(5), dt=np.array(1.0),
        **{"b.times": t, "b.ids": i, "b.v": np.array([[1, "a"]], dtype=object)})
    np.savez(folder / "spikes_bomb_base.npz", steps=np.array(5), dt=np.array(1.0))
    _bomb_pair(folder / "spikes_bomb.npz", ("b.times", "b.ids"))
    import zipfile

    with zipfile.ZipFile(folder / "spikes_bomb.npz", "a") as archive:
        with zipfile.ZipFile(folder / "spikes_bomb_base.npz") as base:
            for name in base.namelist():
                archive.writestr(name, base.read(name))
    (folder / "spikes_bomb_base.npz").unlink()


def _nir(folder: Path) -> None:
    source = Path(__file__).resolve().parents[1] / "data" / "nir" / "two_lif_neurons.nir"
    shutil.copy(source, folder / "good.nir")

    def variant(name: str, change) -> None:
        shutil.copy(source, folder / f"{name}.nir")
        with h5py.File(folder / f"{name}.nir", "r+") as f:
            change(f)

    leak = "node/nodes/lif1/v_leak"

    def external(f):
        del f[leak]
        f.create_dataset(leak, shape=(1,), dtype="f8", external=[("/etc/passwd", 0, 8)])

    def link(f):
        del f[leak]
        f[leak] = h5py.ExternalLink(str(folder / "good.nir"), "/node/nodes/lif2/v_leak")

    def soft(f):
        del f[leak]
        f[leak] = h5py.SoftLink("/node/nodes/lif2/v_leak")

    def virtual(f):
        del f[leak]
        layout = h5py.VirtualLayout(shape=(1,), dtype="f8")
        layout[:] = h5py.VirtualSource(str(folder / "good.nir"), "/node/nodes/lif2/v_leak",
                                       shape=(1,))
        f.create_virtual_dataset(leak, layout)

    def huge(f):
        del f["node/nodes/linear1/weight"]
        f.create_dataset("node/nodes/linear1/weight", shape=(10**6, 10**6), dtype="f8",
                         chunks=(1000, 1000), compression="gzip")

    def compound(f):
        del f[leak]
        f.create_dataset(leak, data=np.zeros(1, dtype=[("a", "f8"), ("b", "i4")]))

    def dims(f):
        del f[leak]
        f.create_dataset(leak, data=np.zeros((1,) * 9))

    def no_type(f):
        del f["node/nodes/lif1/type"]

    for name, change in (("external-storage", external), ("external-link", link),
                         ("soft-link", soft), ("virtual", virtual), ("huge", huge),
                         ("compound", compound), ("dims", dims), ("no-type", no_type)):
        variant(name, change)
    good = (folder / "good.nir").read_bytes()
    (folder / "truncated.nir").write_bytes(good[: len(good) // 2])
    (folder / "garbage.nir").write_text("hello")


def _corrupt_build(folder: Path, case: str) -> None:
    """``folder/build``: a real spinnaker-emu build of BASE, then broken as the case says."""
    build = folder / "build"
    shutil.copytree(_pristine_build(), build)
    mapping = build / "mapping.json"
    doc = json.loads(mapping.read_text())
    kind = case.split("-", 2)[2]
    if kind == "mapping-not-json":
        mapping.write_text("{not json")
    elif kind == "mapping-no-cores":
        del doc["cores"]
    elif kind == "mapping-slice-range":
        doc["cores"][0]["slices"][0][2] = 10**6
    elif kind == "mapping-unknown-population":
        doc["cores"][0]["slices"] = [["zz", 0, 1]]
    elif kind == "mapping-not-placed":
        doc["placement"] = []
    elif kind == "mapping-off-chip":
        doc["placement"][0][1] = 99
    elif kind == "mapping-core-ids":
        doc["cores"][0]["id"] = 7
    elif kind == "mapping-hardware":
        doc["hardware"]["chips_x"] = "many"
    elif kind == "mapping-a-list":
        doc = [doc]
    elif kind == "routing-garbage":
        (build / "routing.npz").write_text("junk")
    elif kind == "routing-float":
        np.savez(build / "routing.npz", **{"0,0/keys": np.ones(1), "0,0/masks": np.ones(1),
                                          "0,0/routes": np.ones(1)})
    elif kind == "report-not-object":
        (build / "report.json").write_text("[]")
    elif kind == "report-garbage":
        (build / "report.json").write_text("{")
    elif kind == "network-missing":
        (build / "network.yaml").unlink()
    elif kind == "network-syntax":
        (build / "network.yaml").write_text("snnc: 1\npopulations: [\n")
    elif kind == "network-nan":
        text = (build / "network.yaml").read_text()
        (build / "network.yaml").write_text(text.replace("dt: 1.0", "dt: .nan"))
    if kind not in ("mapping-not-json",) and mapping.exists():
        mapping.write_text(json.dumps(doc))
    if kind in ("not-object", "garbage", "plot-mapping"):  # report cases
        pass


_PRISTINE: list[Path] = []


def _pristine_build() -> Path:
    if not _PRISTINE:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="snnc-corpus-build-"))
        (folder / "net.yaml").write_text(BASE)
        result = CliRunner().invoke(cli, ["compile", str(folder / "net.yaml"), "--target",
                                          "spinnaker-emu", "-o", str(folder / "build")])
        assert result.exit_code == 0, result.output
        _PRISTINE.append(folder / "build")
    return _PRISTINE[0]


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_the_corpus_has_at_least_300_cases():
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 300, len(ids)


@pytest.mark.parametrize("case,argv,message,code", CASES, ids=[c[0] for c in CASES])
def test_case(tmp_path: Path, monkeypatch, capsys, case, argv, message, code):
    folder = tmp_path / "case"
    folder.mkdir()
    _arrays(folder)
    _prepare(folder)
    if case in SETUP:
        (folder / "net.yaml").write_text(SETUP[case])  # type: ignore[arg-type]
    if case.startswith("build-"):
        _corrupt_build(folder, case.replace("build-report-plot-mapping",
                                            "build-x-mapping-not-json")
                       .replace("build-report-not-object", "build-x-report-not-object")
                       .replace("build-report-garbage", "build-x-report-garbage")
                       .replace("build-verify-", "build-run-"))
    if "env-max-memory" in case:
        monkeypatch.setenv("SNNC_MAX_MEMORY", "50")
    before = _tree(folder)
    victim = (folder / "victim.npz").read_text()
    args = [a.replace("{d}", str(folder)) for a in argv]
    exit_code, stdout, stderr = run_main(args, capsys)
    expected = message.replace("{d}", str(folder))
    assert exit_code == code, stderr
    assert stdout == "", stdout
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(expected), f"\n{lines[0]}\n{expected}"
    assert "Traceback" not in stderr
    assert _tree(folder) == before  # no output, no temporary file, nothing removed
    assert (folder / "victim.npz").read_text() == victim  # a symlink's target is untouched


def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    """``snnc ARGS`` through the console entry point (``snnc.cli.main``: the one-line errors of
    the group's own options too), in this process; its signal handlers are put back after."""
    import signal
    import sys

    from snnc.cli import main
    from snnc.ir.resources import set_limit

    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    argv = sys.argv
    capsys.readouterr()
    sys.argv = ["snnc", *args]
    try:
        main()
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    finally:
        sys.argv = argv
        set_limit(None)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    out = capsys.readouterr()
    return code, out.out, out.err
