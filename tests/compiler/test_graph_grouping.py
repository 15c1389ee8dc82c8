"""The mapping graph groups synapses by target with numpy's stable sort for small networks and
with a counting scatter for large ones (compiler/mapping/graph.py): both give the same order."""

import numpy as np
import pytest

from snnc.compiler.mapping.graph import _scatter_by_post


@pytest.mark.parametrize("neurons, synapses", [(1, 5), (50, 2000), (1000, 100_000)])
def test_numpy_grouping_equals_the_counting_scatter(neurons, synapses):
    rng = np.random.default_rng(neurons)
    post = rng.integers(0, neurons, synapses).astype(np.int32)
    pre = rng.integers(0, neurons, synapses).astype(np.int32)
    stage = rng.integers(0, 3, synapses).astype(np.int8)
    ptr = np.zeros(neurons + 1, np.int64)
    np.cumsum(np.bincount(post, minlength=neurons), out=ptr[1:])
    out_pre, out_stage = np.empty(synapses, np.int32), np.empty(synapses, np.int8)
    _scatter_by_post(post, pre, stage, ptr, out_pre, out_stage, ptr[:-1].copy())
    order = np.argsort(post, kind="stable")
    np.testing.assert_array_equal(out_pre, pre[order])
    np.testing.assert_array_equal(out_stage, stage[order])
    # grouped by target, each group in the synapses' own order
    assert np.all(np.diff(post[order]) >= 0)
