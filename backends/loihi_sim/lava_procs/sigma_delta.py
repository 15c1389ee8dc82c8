"""loihi-sim's process for the ``sigma_delta`` kind: Lava's OWN ``SigmaDelta`` (no snnc model).

``models/sigma_delta.py`` names ``sigma_delta_process`` in its ``LavaLowering``: it turns the
concatenated per-neuron arrays of every ``sigma_delta`` population of a network into one
``lava.proc.sdn.process.SigmaDelta``, which ``Loihi2SimCfg(select_tag="fixed_pt")`` runs as
``PySigmaDeltaModelFixed`` (lava-nc/lava ``src/lava/proc/sdn/models.py``).

What Lava's process takes, and what that means for one process per kind:

- ``a_in`` is ``VEC_DENSE`` int32 (precision 24) and enters ``sigma`` as it is: it is exactly what
  a bit-accurate ``Sparse``/``DelaySparse`` sends (the weighted sum shifted by ``weight_exp``),
  spikes or graded messages alike, and the reference's ``loihi`` input layout hands the same sum
  to the neuron (the LIF's ``<< 6`` alignment is the LIF's own, not the synapse's).
- ``s_out`` is ``VEC_DENSE`` int32 (precision 24): the blocks it feeds are made with
  ``num_message_bits = 24`` (``weights.dot(s_in)``).
- ``bias`` is a Var of the process's shape (per neuron); ``vth``, ``spike_exp``, ``state_exp``
  and ``cum_error`` are Vars of shape ``(1,)`` and ``act_mode`` a process parameter: Lava's builder
  cannot put per-neuron values in a ``(1,)`` ndarray Var. So every ``sigma_delta`` population of a
  network must agree on those five, or the run is refused in one line.

Lava's model discovery executes every ``.py`` in this folder: this file only defines.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lava.proc.sdn.process import ActivationMode, SigmaDelta

from snnc.ir import UnsupportedOnTarget

PER_PROCESS = ("vth", "spike_exp", "state_exp", "cum_error", "act_mode")
"""The SigmaDelta parameters Lava holds once per process (Vars of shape (1,), a process param)."""


def _one_value(arrays: dict[str, np.ndarray], key: str) -> int:
    """The single value every neuron of the process has for ``key``, or a one-line refusal."""
    values = np.unique(arrays[key])
    if values.size > 1:
        first = np.flatnonzero(arrays[key] != arrays[key][0])[0]
        raise UnsupportedOnTarget(
            f"sigma_delta populations with different {key} ({int(arrays[key][0])} for neuron 0, "
            f"{int(arrays[key][first])} for neuron {int(first)} of the kind): loihi-sim runs "
            f"every sigma_delta population as ONE Lava SigmaDelta, which holds one {key}",
            where="populations")
    return int(values[0]) if values.size else 0


def sigma_delta_process(arrays: dict[str, np.ndarray], size: int) -> Any:
    """Lava's ``SigmaDelta`` holding every ``sigma_delta`` population (graded ``s_out``).

    ``vth`` and ``bias`` are given unscaled: Lava multiplies both by ``2**(spike_exp +
    state_exp)`` itself, as the reference's tables do."""
    one = {key: _one_value(arrays, key) for key in PER_PROCESS}
    return SigmaDelta(shape=(size,), vth=one["vth"], bias=np.asarray(arrays["bias"], np.int64),
                      act_mode=ActivationMode(one["act_mode"]), cum_error=bool(one["cum_error"]),
                      spike_exp=one["spike_exp"], state_exp=one["state_exp"])
