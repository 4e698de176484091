"""The column ADC with a calibrated layer scale (Cubero-Cascante et al. 2025, §III-B, eqs. 4–7).

An ideal ADC maps its input a to d = floor(a / Delta_Q + 0.5) (eq. 4). With b bits and a signed
output it keeps d in [-(2^(b-1) - 1), 2^(b-1) - 1] (symmetric around the differential zero) and
clips beyond. The step is Delta_Q = s_l Delta_I (eq. 5): Delta_I = I_LRS - I_HRS is the unit of
the differential dot product (eq. 3) and s_l the layer scale. Eq. 6 sets s_l = 1 while the
target range y*_max fits the code range and s_l = y*_max / (2^(b-1) - 1) otherwise (trading
clipping for a coarser step), and eq. 7 takes y*_max = max(|mu - 3 sigma|, |mu + 3 sigma|) of
the unclipped ADC outputs seen while profiling.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import ParameterError

FloatArray = NDArray[np.float64]
MAX_ADC_BITS = 24


def check_adc_bits(bits: int | None) -> None:
    """``None`` (ideal: unlimited range) or an integer 2 ... 24 (one bit has no code but 0 in a
    symmetric signed range)."""
    if bits is None:
        return
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not (
            2 <= bits <= MAX_ADC_BITS):
        raise ParameterError(f"adc_bits = {bits!r} is out of range: allowed None (ideal) or "
                             f"integer 2 <= adc_bits <= {MAX_ADC_BITS}")


def max_code(bits: int | None) -> float:
    """Largest output code 2^(b-1) - 1 (inf for an ideal ADC)."""
    return np.inf if bits is None else float((1 << (bits - 1)) - 1)


def adc_convert(a: ArrayLike, step: float, bits: int | None) -> FloatArray:
    """Output codes d = clip(floor(a / step + 0.5), -(2^(b-1) - 1), 2^(b-1) - 1) (eq. 4)."""
    check_adc_bits(bits)
    if not step > 0 or not np.isfinite(step):
        raise ParameterError(f"ADC step = {step!r} is out of range: allowed 0 < step < inf")
    d = np.floor(np.asarray(a, dtype=np.float64) / step + 0.5)
    top = max_code(bits)
    return np.clip(d, -top, top) if np.isfinite(top) else d


def calibration_target(codes: ArrayLike) -> float:
    """y*_max = max(|mu - 3 sigma|, |mu + 3 sigma|) of profiled ADC outputs (eq. 7)."""
    c = np.asarray(codes, dtype=np.float64)
    if c.size == 0:
        raise ParameterError("calibration needs at least one profiled ADC output")
    mu, sigma = float(c.mean()), float(c.std())
    return max(abs(mu - 3 * sigma), abs(mu + 3 * sigma))


def layer_scale(y_max: float, bits: int | None) -> float:
    """s_l of eq. 6: 1 if y*_max <= 2^(b-1) - 1, else y*_max / (2^(b-1) - 1); 1 when ideal."""
    check_adc_bits(bits)
    top = max_code(bits)
    return 1.0 if not np.isfinite(top) or y_max <= top else float(y_max / top)


def adc_quantize(a: ArrayLike, full_scale: float, bits: int | None) -> FloatArray:
    """An ADC of ``bits`` over [-full_scale, full_scale] read back in its input's units:
    step = full_scale / (2^(b-1) - 1), codes as :func:`adc_convert` (eq. 4), times the step.
    ``bits=None`` returns ``a`` unchanged."""
    arr = np.asarray(a, dtype=np.float64)
    if bits is None:
        return arr
    step = full_scale / max_code(bits)
    return adc_convert(arr, step, bits) * step
