"""MELISO's NeuroSim, bit for bit: a thin facade over the core's ``neurosim`` read model.

    from meliso import neurosim
    array = neurosim.program(A, device="Ag:a-Si", rng=None, **overrides)  # any m x n
    array.g_s              # programmed conductances (m, n), siemens
    array.read(x)          # raw outputs (m,) or (batch, m) before calibration
    array.calibrated(x)    # MELISO's two-point calibrated outputs

``overrides`` are device fields (``levels_ltp``, ``nl_ltp``, ``sigma_c2c``, ``on_off_ratio``,
``r_on_ohm``, ``weight_bits``...). With ``sigma_c2c = 0`` everything is deterministic and equal to
NeuroSim's ``Output[0][i]`` to the last bit (``docs/neurosim.md``); with C-to-C
noise only distributions can match, since NeuroSim draws it from threads without a lock.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import ParameterError
from ..core import AnalogCore, TwoPointCalibration
from ..devices import AnalogDevice, get_device
from .arrays import NeuroSimArrays

FloatArray = NDArray[np.float64]


class NeuroSimArray:
    """One programmed NeuroSim array holding a matrix A (m x n)."""

    def __init__(self, core: AnalogCore) -> None:
        self.core = core
        arrays = core.arrays
        assert isinstance(arrays, NeuroSimArrays)
        self._arrays: NeuroSimArrays = arrays

    @property
    def g_s(self) -> FloatArray:
        """Programmed conductances (m, n), siemens: cell (i, k) holds A[i, k]."""
        return self._arrays.g_s[0]

    @property
    def calibration(self) -> TwoPointCalibration:
        """MELISO's two-point calibration points of every row."""
        assert self.core.calibration is not None
        return self.core.calibration

    def _as_batch(self, x: ArrayLike) -> tuple[FloatArray, bool]:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim not in (1, 2) or arr.shape[-1] != self.core.n:
            raise ParameterError(
                f"x must be ({self.core.n},) or (batch, {self.core.n}); got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ParameterError("x contains NaN or infinite entries")
        return arr.reshape(1, -1, self.core.n), arr.ndim == 1

    def read(self, x: ArrayLike) -> FloatArray:
        """NeuroSim's raw outputs before calibration: about sum_k (A_ik / 2) x_k."""
        batch, single = self._as_batch(x)
        out = self._arrays.raw(batch)[0]
        return out[0] if single else out

    def calibrated(self, x: ArrayLike) -> FloatArray:
        """MELISO's two-point calibrated outputs (inf/NaN where a row's d = m)."""
        batch, single = self._as_batch(x)
        out = self.core.matvec(batch[0])
        return out[0] if single else out


def program(
    a: ArrayLike,
    device: str | AnalogDevice = "Ag:a-Si",
    rng: np.random.Generator | int | None = None,
    **overrides: Any,
) -> NeuroSimArray:
    """Program A (m x n) onto one NeuroSim array the way MELISO does, and calibrate it."""
    dev = get_device(device, **overrides)
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ParameterError(f"A must be a matrix (m, n); got shape {arr.shape}")
    core = AnalogCore(arr, dev, rng=rng, model="neurosim", calibration="two-point")
    return NeuroSimArray(core)
