"""Issue 14's failures fixed at their root: the connection generator cannot overflow, YAML 1.2
numbers read and write back, duplicate keys compare as names, and every reproducer of the issue
is one line under a 1 GiB address-space limit through the installed command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.ir import Network, fixed_probability, load
from snnc.ir.connect import FixedProbability, connection_pairs, expected_connections
from snnc.ir.io import dump_yaml, read_yaml

SNNC = str(Path(sys.executable).with_name("snnc"))


@pytest.mark.parametrize("p", [1e-25, 1e-18, 1e-190, 5e-324, 1e-300])
def test_a_tiny_probability_gives_no_wrapped_indices(p):
    pre, post = connection_pairs(FixedProbability(p=p, seed=9), 6, 1)
    assert pre.size == post.size == 0  # 6 pairs at p <= 1e-18: none drawn (was 66 or 8,985,751)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(p=st.one_of(st.floats(0.0, 1.0), st.sampled_from([1e-300, 1e-25, 1e-9, 1 - 1e-16])),
       n_pre=st.integers(1, 300), n_post=st.integers(1, 300), seed=st.integers(0, 2**32),
       recurrent=st.booleans(), allow_self=st.booleans())
def test_fixed_probability_pairs_are_in_range_sorted_and_unique(p, n_pre, n_post, seed,
                                                               recurrent, allow_self):
    if recurrent:
        n_post = n_pre
    rule = FixedProbability(p=p, seed=seed, allow_self=allow_self)
    pre, post = connection_pairs(rule, n_pre, n_post, recurrent=recurrent)
    assert pre.shape == post.shape and pre.size <= n_pre * n_post
    if pre.size:
        assert 0 <= pre.min() and pre.max() < n_pre and 0 <= post.min() and post.max() < n_post
        flat = pre.astype(np.int64) * n_post + post
        assert np.all(np.diff(flat) > 0)  # CSR order, no pair twice
    if recurrent and not allow_self:
        assert not np.any(pre == post)
    assert expected_connections(rule, n_pre, n_post, recurrent=recurrent) <= n_pre * n_post


def test_a_huge_sparse_rule_draws_only_its_expected_count():
    rule = FixedProbability(p=1e-15, seed=1)
    pre, post = connection_pairs(rule, 2**31 - 1, 2**31 - 1)  # 4.6e18 pairs: ~4,612 synapses
    assert 4000 < pre.size == post.size < 5200
    assert pre.max() < 2**31 - 1 and post.max() < 2**31 - 1 and pre.min() >= 0
    assert expected_connections(rule, 2**31 - 1, 2**31 - 1) == pytest.approx(1e-15 * (2**31 - 1)**2)


def test_yaml_1_2_numbers():
    doc = read_yaml("a: 2e1\nb: 5e-1\nc: 017\nd: 0o17\ne: 0x1F\nf: 1:30\ng: 1_000\nh: .inf\n"
                    "i: -.INF\nj: +12\nk: 1.\nl: .5\n")
    assert doc == {"a": 20.0, "b": 0.5, "c": 17, "d": 15, "e": 31, "f": "1:30", "g": "1_000",
                   "h": float("inf"), "i": float("-inf"), "j": 12, "k": 1.0, "l": 0.5}
    assert isinstance(doc["a"], float) and isinstance(doc["c"], int)


def test_strings_that_look_like_numbers_are_quoted_when_written(tmp_path):
    net = Network("2e1")
    net.population("5e-1", 1, {"kind": "lif", "tau_mem": 2e1})
    net.population("1:30", 1, {"kind": "lif", "tau_mem": 5.0})
    net.save(str(tmp_path / "net.yaml"))
    back = load(tmp_path / "net.yaml")
    assert back.name == "2e1" and list(back.populations) == ["5e-1", "1:30"]
    for text in ("2e1", "017", "0o17", "1_000", ".inf"):
        assert read_yaml(dump_yaml({"k": text})) == {"k": text}


@pytest.mark.parametrize("keys", [("1", "'1'"), ("1.0", "'1.0'"), ("true", "'True'"),
                                  ("null", "'None'"), ("a", "'a'")])
def test_duplicate_keys_compare_as_names(keys):
    from snnc.ir.io import _DuplicateKey

    with pytest.raises(_DuplicateKey):
        read_yaml(f"{keys[0]}: 1\n{keys[1]}: 2\n")


# ---- the reproducers of the issue, through the console script, under ulimit -v 1 GiB --------------
REPRODUCERS = {
    "huge-fixed-probability": (
        "snnc: 1\nname: t\npopulations:\n  a: {size: 1000000, source: {kind: spike_times}}\n"
        "  b: {size: 1000000, neuron: {kind: lif, tau_mem: 20.0}}\nprojections:\n"
        "  - {from: a, to: b, connect: {kind: fixed_probability, p: 1.0}, weight: 1.0}\n",
        "projections[0] (a->b): fixed_probability p=1 over 1,000,000 x 1,000,000 pairs"),
    "population-1e10": (
        "snnc: 1\nname: t\npopulations:\n  a: {size: 10000000000, neuron: {kind: lif, "
        "tau_mem: 20.0}}\n", "populations.a.size: must be <= 2147483647, got 10000000000"),
    "v_th-nan": ("snnc: 1\nname: t\npopulations:\n  a: {size: 1, neuron: {kind: lif, "
                 "tau_mem: 20.0, v_th: .nan}}\n",
                 "populations.a.neuron.v_th: must be a finite number, got nan"),
    "dt-inf": ("snnc: 1\nname: t\ndt: .inf\npopulations:\n  a: {size: 1, neuron: {kind: lif, "
               "tau_mem: 20.0}}\n", "dt: must be a finite number, got inf"),
    "keys-1-and-'1'": ("snnc: 1\nname: t\npopulations:\n  1: {size: 1, neuron: {kind: lif, "
                       "tau_mem: 20.0}}\n  '1': {size: 1, neuron: {kind: lif, tau_mem: 20.0}}\n",
                       "line 5: duplicate key '1'"),
    "metadata-5000-deep": ("snnc: 1\nname: t\nmetadata: " + "{a: " * 5000 + "x" + "}" * 5000
                           + "\n", "line 3: nested more than 64 levels deep"),
    "newline-in-name": ('snnc: 1\nname: t\npopulations:\n  "a\\nb": {size: 1, neuron: '
                        '{kind: lif, tau_mem: -1}}\n', "populations.'a\\nb': a name must be "
                        "printable"),
    "empty-network": ("snnc: 1\nname: empty\n",
                      "populations: the network has no neuron populations: nothing to compile"),
}


@pytest.mark.parametrize("case", sorted(REPRODUCERS))
def test_a_reproducer_is_one_line_under_a_1_gib_address_space(tmp_path, case):
    text, message = REPRODUCERS[case]
    net = tmp_path / "net.yaml"
    net.write_text(text)
    command = ["compile", str(net), "--target", "reference", "-o", str(tmp_path / "build")]
    done = subprocess.run(["bash", "-c", 'ulimit -v 1048576; exec "$@"', "snnc", SNNC, *command],
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()] and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{net}: {message}"), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


def test_run_to_dev_null_is_refused_and_dev_null_stays_a_device(tmp_path):
    import stat

    net = tmp_path / "net.yaml"
    net.write_text("snnc: 1\nname: t\npopulations:\n  a: {size: 1, neuron: {kind: lif, "
                   "tau_mem: 20.0}}\n")
    done = subprocess.run([SNNC, "run", str(net), "--target", "reference", "--steps", "2", "-o",
                           "/dev/null"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr == (
        "/dev/null: --output: refusing to replace a device: an output must be a missing path or "
        "a regular file\n")
    assert stat.S_ISCHR(Path("/dev/null").lstat().st_mode)
