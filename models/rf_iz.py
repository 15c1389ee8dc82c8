r"""The ``rf_iz`` model: Lava 0.10's fixed-point resonate-and-fire Izhikevich neuron (``RF_IZ``).

The resonator, the parameters and their integer forms are ``rf``'s (``models/rf.py``; Lava's
``RF_IZ`` is its ``RF`` process under another name, ``lava/proc/rf_iz/process.py``); the spike and
reset are Lava's ``PyRF_IZModelFixed`` (``lava/proc/rf_iz/models.py``): a spike when the
imaginary part reaches the threshold, after which the real part is set to 0 and the imaginary part
to one below the threshold. loihi-sim runs it as Lava's own ``RF_IZ`` process
(``backends/loihi_sim/lava_procs/rf.py``), with snnc's projections on ``a_real_in``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .base import LavaLowering, NeuronModel, Step, one_process_check
from .jit import njit
from .rf import IMAG, REAL, RF, THETA, lava_arrays, resonate, resonator_features, rf_tables


class RFIZ(RF):
    r"""Lava's fixed-point resonate-and-fire Izhikevich neuron (``PyRF_IZModelFixed``).

    ``re``, ``im``, the integer decays ``c``, ``s``, the threshold :math:`\theta` and
    :math:`sh` are ``rf``'s (its docstring); the imaginary part is what fires:

    .. math::

        re'[t] &= \mathrm{clip}_{\pm(2^{23}-1)}\big(sh(c\, re[t-1]) - sh(s\, im[t-1])
                  + \mathrm{wrap}_{32}(a[t] \ll state\_exp)\big) \\
        im'[t] &= \mathrm{clip}_{\pm(2^{23}-1)}\big(sh(s\, re[t-1]) + sh(c\, im[t-1])\big) \\
        spike[t] &= im'[t] \ge \theta \\
        re[t], im[t] &= (0,\ \theta - 1) \text{ after a spike, else } (re'[t], im'[t])

    Parameters and ranges as ``rf``: ``period``, ``alpha`` per neuron; ``vth``, ``state_exp``,
    ``decay_bits`` one per population. Its recorded voltage is ``im`` (what the threshold reads).
    """

    kind: Literal["rf_iz"] = "rf_iz"  # type: ignore[assignment]


@njit(cache=True, nogil=True)
def rf_iz_update(a, params, state, lo, hi, out_ids, n_out, gbase):
    """Advance neurons ``lo..hi-1`` one step with input ``a`` (int); append spikes' global ids."""
    for i in range(lo, hi):
        re, im = resonate(a[i], params, state, i)
        if im >= params[THETA, i]:
            re, im = 0, params[THETA, i] - 1  # Lava: -1 so that it does not fire again at once
            out_ids[n_out] = gbase + i
            n_out += 1
        state[REAL, i] = re
        state[IMAG, i] = im
    return n_out


def _example(features: frozenset[str]) -> RFIZ:
    return RFIZ(period=8.0, alpha=0.0 if "no_leak" in features else 0.05, vth=20.0, state_exp=6,
                decay_bits=12)


MODEL = NeuronModel(
    kind="rf_iz",
    params=RFIZ,
    summary="Lava's fixed-point resonate-and-fire Izhikevich neuron (RF_IZ; fires on im >= vth)",
    steps={"loihi": Step("loihi", rf_tables, rf_iz_update, np.int64, IMAG, input="loihi")},
    lowerings={"loihi-sim": LavaLowering(
        "Lava's own RF_IZ (PyRF_IZModelFixed); projections drive a_real_in", lava_arrays,
        "snnc.backends.loihi_sim.lava_procs.rf:rf_iz", voltage="imag",
        check=one_process_check("rf_iz", ("vth", "state_exp", "decay_bits"), "RF_IZ"))},
    features=("no_leak",),
    features_of=resonator_features,
    integer_weights=True,
    refusals={"spinnaker": "it is Loihi's integer model (Lava's RF_IZ); spinnaker-emu has no "
                           "resonate-and-fire model"},
    example=_example,
)
