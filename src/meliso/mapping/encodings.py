"""Binary and ternary operands on binary 1T1R crossbars (Cubero-Cascante et al. 2025, §II-B, eq. 3
and Table I).

Weights w in {-1, 0, 1} are differential pairs of binary cells (eq. 3): +1 = (LRS, HRS),
-1 = (HRS, LRS), 0 = (HRS, HRS), so that w = (i+ - i-) / Delta_I with Delta_I = I_LRS - I_HRS.

Inputs in {-1, 1} (BNN) or {-1, 0, 1} (TNN) become one or two planes of binary pulses x^c in
{0, 1} (a 1 is a read pulse at V_R, a 0 no pulse), and the dot product is recombined digitally
(Cubero-Cascante et al. 2025, Table I):

=====  ======================  ===========================================  ======
mode   input mapping           dot product y = x . w                        cycles
=====  ======================  ===========================================  ======
B-I    x = 2 x+ - 1            y = 2 (x+ . w) - sum_n w_n                    1
B-II   x = -2 x- + 1           y = -2 (x- . w) + sum_n w_n                   1
T-I    x = x+ - x-             y = (x+ . w) - (x- . w)                       2
T-II   x = -2 x1 + x0          y = -2 (x1 . w) + (x0 . w)  (two's complement) 2
=====  ======================  ===========================================  ======

so y = sum_c k_c (x^c . w) + k_w sum_n w_n with the plane coefficients k_c and the
weight-sum coefficient k_w of :class:`Encoding`. B-I and B-II cannot represent a 0 input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import ParameterError

FloatArray = NDArray[np.float64]
EncodingName = Literal["B-I", "B-II", "T-I", "T-II"]
ENCODINGS: tuple[EncodingName, ...] = ("B-I", "B-II", "T-I", "T-II")


@dataclass(frozen=True)
class Encoding:
    """One row of Cubero-Cascante et al. 2025, Table I: plane coefficients k_c and the
    weight-sum coefficient k_w."""

    name: EncodingName
    plane_coefficients: tuple[float, ...]
    weight_sum_coefficient: float

    @property
    def cycles(self) -> int:
        """Dot-product cycles (crossbar reads) per input vector."""
        return len(self.plane_coefficients)

    @property
    def ternary(self) -> bool:
        """True if 0 is a valid input."""
        return self.name.startswith("T")

    def planes(self, x: ArrayLike) -> FloatArray:
        """Binary pulse planes (cycles, ..., rows) in {0, 1} of inputs x (..., rows)."""
        v = check_inputs(x, self)
        if self.name == "B-I":
            return (v == 1)[None].astype(np.float64)
        if self.name == "B-II":
            return (v == -1)[None].astype(np.float64)
        if self.name == "T-I":
            return np.stack([v == 1, v == -1]).astype(np.float64)
        # T-II: two's complement of a 2-bit number, -1 = 11, 0 = 00, 1 = 01
        return np.stack([v == -1, v != 0]).astype(np.float64)


_TABLE_I = {
    "B-I": Encoding("B-I", (2.0,), -1.0),
    "B-II": Encoding("B-II", (-2.0,), 1.0),
    "T-I": Encoding("T-I", (1.0, -1.0), 0.0),
    "T-II": Encoding("T-II", (-2.0, 1.0), 0.0),
}


def get_encoding(name: str) -> Encoding:
    """The encoding called ``name`` (B-I, B-II, T-I, T-II; case-insensitive)."""
    for key, enc in _TABLE_I.items():
        if key.lower() == str(name).strip().lower():
            return enc
    raise ParameterError(f"encoding = {name!r}: allowed {', '.join(ENCODINGS)} "
                         "(Cubero-Cascante et al. 2025, Table I)")


def check_inputs(x: ArrayLike, encoding: Encoding) -> FloatArray:
    """``x`` as float64 if every entry is a valid input of ``encoding``, else a ValueError."""
    v = np.asarray(x, dtype=np.float64)
    if encoding.ternary:
        if not np.all((v == -1) | (v == 0) | (v == 1)):
            raise ParameterError(f"inputs of encoding {encoding.name} must be -1, 0 or 1")
    elif not np.all((v == -1) | (v == 1)):
        why = (" (it has no pulse for 0: a zero input needs a ternary encoding, T-I or T-II)"
               if np.any(v == 0) else "")
        raise ParameterError(f"inputs of encoding {encoding.name} must be -1 or 1{why}")
    return v


def check_weights(w: ArrayLike) -> FloatArray:
    """``w`` as float64 if every entry is -1, 0 or 1 (a binary or ternary weight)."""
    v = np.asarray(w, dtype=np.float64)
    if v.ndim != 2 or min(v.shape) == 0:
        raise ParameterError(f"weights must be a non-empty (rows, cols) array; got shape {v.shape}")
    if not np.all((v == -1) | (v == 0) | (v == 1)):
        raise ParameterError("weights must be -1, 0 or 1 (binary or ternary networks)")
    return v


def differential_states(w: FloatArray) -> NDArray[np.bool_]:
    """LRS states of the differential pairs of weights w (..., rows, cols) in {-1, 0, 1}: (...,
    rows, 2 cols), columns interleaved (+, -); True = LRS (Cubero-Cascante et al. 2025, eq. 3)."""
    out = np.empty((*w.shape[:-1], 2 * w.shape[-1]), dtype=bool)
    out[..., 0::2] = w > 0
    out[..., 1::2] = w < 0
    return out
