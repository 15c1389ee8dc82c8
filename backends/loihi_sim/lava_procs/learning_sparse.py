"""``PyLearningSparseModelFixed``: Lava 0.10's fixed-point ``LearningSparse`` model with two bugs of
its sparse path fixed, its learning arithmetic unchanged (it is Lava's own code for everything
else: ``lava/proc/sparse/models.py`` ``PyLearningSparseModelBitApproximate`` and
``lava/magma/core/model/py/connection.py`` ``LearningConnectionModelBitApproximate``).

1. ``_saturate_synaptic_variable_accumulator`` calls ``np.maximum(0, weights)`` (excitatory) or
   ``np.minimum(0, weights)`` (inhibitory) on the scipy CSR matrix, which raises
   ``NotImplementedError`` in scipy (">= and <= don't work with 0"), so Lava's LearningSparse can
   only learn in mixed sign mode. Here the same saturation is applied to the stored values.
2. The first ``run_spk`` truncates the weights with ``truncate_weights``, which calls
   ``eliminate_zeros()`` on a sparse matrix: a synapse whose initial weight is 0 would vanish and
   never learn. Here the same truncation is applied to the stored values, keeping every synapse.

With these, a synapse of a LearningSparse learns exactly as the same entry of a LearningDense
(tests/backends/loihi_sim/test_loihi_sim_stdp.py runs both against snnc's ``loihi_stdp``).
The backend selects this model through ``Loihi2SimCfg(exception_proc_model_map=...)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lava.proc.sparse.models import PyLearningSparseModelBitApproximate
from lava.utils.weightutils import SignMode
from scipy.sparse import csr_matrix


class PyLearningSparseModelFixed(PyLearningSparseModelBitApproximate):
    """Lava's fixed-point LearningSparse; sign saturation and the first truncation on the
    stored values (see the module docstring)."""

    def run_spk(self) -> None:
        if not self.weights_set:  # type: ignore[has-type]
            self.weights = _truncated_keeping_zeros(self.weights,  # type: ignore[has-type]
                                                    self.sign_mode, self.num_weight_bits)
            self.weights_set = True  # the parent's run_spk then skips its own truncation
        super().run_spk()

    def _saturate_synaptic_variable_accumulator(self, syn_var_name: str, syn_var_values: Any) -> Any:
        if syn_var_name == "weights" and isinstance(syn_var_values, csr_matrix):
            if self.sign_mode == SignMode.EXCITATORY:
                syn_var_values.data = np.maximum(0, syn_var_values.data)
            elif self.sign_mode == SignMode.INHIBITORY:
                syn_var_values.data = np.minimum(0, syn_var_values.data)
            return syn_var_values
        return super()._saturate_synaptic_variable_accumulator(syn_var_name, syn_var_values)


def _truncated_keeping_zeros(weights: Any, sign_mode: SignMode, num_weight_bits: int) -> Any:
    """``truncate_weights`` (lava: src/lava/utils/weightutils.py) on a CSR matrix's stored values,
    without its ``eliminate_zeros``."""
    matrix = csr_matrix(weights, dtype=np.int32, copy=True)
    data = matrix.data
    if sign_mode == SignMode.INHIBITORY:
        data = -data
    drop = 8 - num_weight_bits + int(sign_mode == SignMode.MIXED)
    data = (data >> drop) << drop
    matrix.data = -data if sign_mode == SignMode.INHIBITORY else data
    return matrix
