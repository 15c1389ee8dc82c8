"""Per-population firing rates and ISI CVs of a spike record (numpy only: run.py and
nest_reference.py share it, so snnc's and NEST's figures are computed the same way)."""

from __future__ import annotations

import numpy as np

MIN_SPIKES_FOR_CV = 3  # a neuron's CV needs at least two intervals


def population_stats(times: np.ndarray, ids: np.ndarray, size: int, t0: float,
                     t1: float) -> dict[str, float]:
    """Mean rate (Hz, silent neurons included, as NEST's helpers.firing_rates), the mean CV of the
    inter-spike intervals over neurons with >= 3 spikes in [t0, t1) ms, and how many had them."""
    keep = (times >= t0) & (times < t1)
    times, ids = times[keep], ids[keep]
    rate = times.size / (size * (t1 - t0) / 1000.0)
    order = np.lexsort((times, ids))
    times, ids = times[order], ids[order]
    cvs = []
    if times.size:
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        ends = np.r_[starts[1:], ids.size]
        for a, b in zip(starts, ends):
            if b - a >= MIN_SPIKES_FOR_CV:
                isi = np.diff(times[a:b])
                cvs.append(isi.std() / isi.mean())
    return {"rate": float(rate), "cv": float(np.mean(cvs)) if cvs else float("nan"),
            "cv_neurons": len(cvs)}
