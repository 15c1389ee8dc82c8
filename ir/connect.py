"""Connectivity rules of a projection and their vectorised expansion to (pre, post) index arrays.

Expansion is deterministic: the same rule, sizes and seed always give the same pairs, in CSR order
(sorted by ``pre``, then ``post``) for every rule except ``explicit``, which keeps the user's order.
"""

from __future__ import annotations

from typing import Annotated, Any, Iterator, Literal, Union

import numpy as np
from pydantic import Field, model_validator

from .values import Array, Seed, _Frozen


class AllToAll(_Frozen):
    """Every pre neuron to every post neuron (``allow_self: false`` drops i→i on a recurrent projection)."""

    kind: Literal["all_to_all"] = "all_to_all"
    allow_self: bool = True


class OneToOne(_Frozen):
    """Neuron i to neuron i; both populations must have the same size."""

    kind: Literal["one_to_one"] = "one_to_one"


class FixedProbability(_Frozen):
    """Each (pre, post) pair is connected independently with probability ``p`` (seeded)."""

    kind: Literal["fixed_probability"] = "fixed_probability"
    p: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
    seed: Seed = 0
    allow_self: bool = True


class Explicit(_Frozen):
    """Given pairs: ``pre[k] -> post[k]``."""

    kind: Literal["explicit"] = "explicit"
    pre: Array
    post: Array

    @model_validator(mode="after")
    def _check(self) -> "Explicit":
        if self.pre.shape != self.post.shape:
            raise ValueError(
                f"pre and post must have the same length, got {self.pre.size} and {self.post.size}"
            )
        for name, array in (("pre", self.pre), ("post", self.post)):
            if array.size and array.dtype.kind not in "iu":
                if not np.all(array == np.round(array)):
                    raise ValueError(f"{name} indices must be integers")
        return self


Connector = Annotated[
    Union[AllToAll, OneToOne, FixedProbability, Explicit], Field(discriminator="kind")
]
CONNECTOR_KINDS: dict[str, type[_Frozen]] = {
    "all_to_all": AllToAll,
    "one_to_one": OneToOne,
    "fixed_probability": FixedProbability,
    "explicit": Explicit,
}

# Geometric gaps are drawn in chunks of this many; fixed so that the result never depends on memory.
_GAP_CHUNK = 1 << 22

MAX_POPULATION_SIZE = 2**31 - 1
"""Largest population: neuron indices are int32 everywhere (synapse arrays, spike files)."""
MAX_PAIRS = MAX_POPULATION_SIZE**2
"""Largest ``n_pre * n_post`` a rule is expanded over (< 2**62, so positions fit in int64)."""


def _index_dtype(n: int) -> type[np.signedinteger[Any]]:
    return np.int32 if n < 2**31 else np.int64


def _bernoulli_chunks(p: float, total: int, seed: int) -> Iterator[np.ndarray]:
    """Positions in ``[0, total)`` each chosen independently with probability p, in sorted chunks.

    The gaps between successes of a Bernoulli process are geometric, so drawing gaps and taking their
    cumulative sum yields exactly the Bernoulli(p) selection in O(selected) time and memory, with no
    Python loop per synapse. Chunks keep the int64 positions small; callers convert them at once.

    Overflow cannot happen: ``total`` is at most ``MAX_PAIRS`` (< 2**62), every gap is clipped to
    ``total + 1`` (numpy returns 2**63 - 1 for a tiny ``p``; any gap above ``total`` ends the
    selection anyway), so every partial sum up to the first one past the end is below 2**63, and
    nothing after that one is used.
    """
    if p <= 0.0 or total <= 0:
        return
    if total > MAX_PAIRS:
        raise ValueError(f"{total} possible pairs exceed the limit of {MAX_PAIRS}")
    if p >= 1.0:
        for start in range(0, total, _GAP_CHUNK):
            yield np.arange(start, min(total, start + _GAP_CHUNK), dtype=np.int64)
        return
    rng = np.random.default_rng(seed)
    position = -1
    # The first chunk is sized to the expected count (numpy draws geometric gaps one after the
    # other from the stream, so chunk sizes never change the result, only the wasted draws).
    size = int(min(_GAP_CHUNK, p * total * 1.05 + 64))
    while True:
        gaps = np.minimum(rng.geometric(p, size=size), total + 1)
        gaps[0] += position  # position >= -1 and < total: the sum stays below 2 * total + 1
        chunk = np.cumsum(gaps, dtype=np.int64)
        size = _GAP_CHUNK
        past = chunk >= total
        if past.any():
            # partial sums are increasing up to the first one past the end (later ones may wrap)
            yield chunk[: int(np.argmax(past))]
            return
        yield chunk
        position = int(chunk[-1])


def _bernoulli_positions(p: float, total: int, seed: int) -> np.ndarray:
    """All positions of ``_bernoulli_chunks`` as one int64 array."""
    chunks = list(_bernoulli_chunks(p, total, seed))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)


def _fixed_probability(rule: FixedProbability, n_pre: int, n_post: int, recurrent: bool):
    pre_chunks, post_chunks = [], []
    for positions in _bernoulli_chunks(rule.p, n_pre * n_post, rule.seed):
        pre = (positions // n_post).astype(_index_dtype(n_pre))
        post = (positions % n_post).astype(_index_dtype(n_post))
        if recurrent and not rule.allow_self:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        pre_chunks.append(pre)
        post_chunks.append(post)
    if not pre_chunks:
        return np.zeros(0, _index_dtype(n_pre)), np.zeros(0, _index_dtype(n_post))
    return np.concatenate(pre_chunks), np.concatenate(post_chunks)


def connection_pairs(
    rule: AllToAll | OneToOne | FixedProbability | Explicit,
    n_pre: int,
    n_post: int,
    *,
    recurrent: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Expand a rule to (pre, post) index arrays (int32 where the sizes allow).

    ``recurrent`` says pre and post are the same population (for ``allow_self``).
    """
    if isinstance(rule, AllToAll):
        pre = np.repeat(np.arange(n_pre, dtype=_index_dtype(n_pre)), n_post)
        post = np.tile(np.arange(n_post, dtype=_index_dtype(n_post)), n_pre)
        if recurrent and not rule.allow_self:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post
    if isinstance(rule, OneToOne):
        index = np.arange(n_pre, dtype=_index_dtype(n_pre))
        return index, index.copy()
    if isinstance(rule, FixedProbability):
        return _fixed_probability(rule, n_pre, n_post, recurrent)
    return rule.pre.astype(_index_dtype(n_pre)), rule.post.astype(_index_dtype(n_post))


def connection_count(
    rule: AllToAll | OneToOne | FixedProbability | Explicit, n_pre: int, n_post: int,
    *, recurrent: bool = False,
) -> int | None:
    """Number of connections when known without drawing (None for fixed_probability)."""
    if isinstance(rule, AllToAll):
        return n_pre * n_post - (min(n_pre, n_post) if recurrent and not rule.allow_self else 0)
    if isinstance(rule, OneToOne):
        return n_pre
    if isinstance(rule, Explicit):
        return int(rule.pre.size)
    return None


def expected_connections(
    rule: AllToAll | OneToOne | FixedProbability | Explicit, n_pre: int, n_post: int,
    *, recurrent: bool = False,
) -> float:
    """Number of connections, the expected number for ``fixed_probability`` (p x pairs),
    computed from the sizes alone (nothing is drawn or allocated)."""
    if isinstance(rule, FixedProbability):
        pairs = n_pre * n_post - (min(n_pre, n_post) if recurrent and not rule.allow_self else 0)
        return float(rule.p) * pairs
    count = connection_count(rule, n_pre, n_post, recurrent=recurrent)
    return float(count or 0)
