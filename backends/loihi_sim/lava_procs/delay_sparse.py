"""``PyDelaySparseModelCached``: Lava's bit-accurate DelaySparse model without its per-step rebuild.

``AbstractPyDelaySparseModel.calc_act`` rebuilds the stacked per-delay weight matrix from the static
``weights`` and ``delays`` on every step: about 0.1 ms per delay slot whatever the block's size
(6.5 ms per step at 63 delays). This subclass builds it once, on the first step, after the parent
has clipped and truncated the weights, and runs the parent's ``run_spk`` unchanged: same arithmetic,
same bits. The backend selects it through ``Loihi2SimCfg(exception_proc_model_map=...)``;
``LoihiSimBackend(stock_models=True)`` runs Lava's own model instead (the tests compare both).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lava.proc.sparse.models import PyDelaySparseModelBitAcc


class PyDelaySparseModelCached(PyDelaySparseModelBitAcc):
    """``PyDelaySparseModelBitAcc`` with the per-delay weight matrix computed once."""

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._delay_weights: Any = None  # Lava's sparse matrix, made on the first calc_act

    def calc_act(self, s_in) -> np.ndarray:
        # run_spk quantizes self.weights before its first calc_act; both are static afterwards.
        slots = self.a_buff.shape[-1]
        if self._delay_weights is None:
            self._delay_weights = self.get_delay_wgts_mat(self.weights, self.delays, slots - 1)
        return np.reshape(self._delay_weights.dot(s_in), (slots, self.weights.shape[0])).T
