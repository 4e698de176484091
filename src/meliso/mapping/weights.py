"""Signed weights -> target conductance fractions of physical crossbar columns.

Weights arrive normalised, w in [-1, 1] (tile blocks of shape (..., R, C)). A target fraction
f in [0, 1] places a cell at G = G_min + f (G_max - G_min).

- ``differential`` (the default): each weight is a pair of columns (G+, G-) side by side, f+ =
  max(w, 0), f- = max(-w, 0); the output is I+ - I-, so G_min cancels exactly (Cubero-Cascante et
  al. 2025, eq. 3 for the binary case). Physical columns: 2C, interleaved (+, -).
- ``reference``: one device per weight at f = f_ref + w h, read against one reference column
  per tile programmed to f_ref (the weight 0). f_ref is the reachable level nearest the middle of
  the window (:func:`reference_level`; with an odd level count 1/2 itself is not reachable, and
  a reference half a level off would bias every output by -1/N per unit input), and
  h = min(f_ref, 1 - f_ref) keeps w = +-1 inside the window. Physical columns: C + 1, the
  reference last. This is NeuroSim's scheme with a physical reference column.

Bit slicing (differential only): with ``slices`` = k > 1, or a fixed ``bits`` per slice, the
magnitude |w| is rounded to an integer Q = round(|w| (2^(k b) - 1)) whose base-2^b digits
d_0 ... d_{k-1} each go to their own differential pair at f = d_s / (2^b - 1). The slices are
read in parallel and combined digitally, y = sum_s y_s (2^b - 1) 2^(s b) / (2^(k b) - 1).
A binary (LRS/HRS) device is the case b = 1: each slice is one bit of the weight. Physical
columns: 2 k C, ordered (output, slice, +/-).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .._numeric import round_half_away
from .._validation import ParameterError

FloatArray = NDArray[np.float64]
WeightMapping = Literal["differential", "reference"]
MAPPINGS: tuple[WeightMapping, ...] = ("differential", "reference")
#: Most bits a sliced weight can hold (float64's mantissa).
MAX_SLICED_BITS = 52


@dataclass(frozen=True)
class Slicing:
    """Weights split over ``slices`` devices of ``bits`` bits each (``bits=None``: unquantised,
    only with one slice: the device's own levels quantise the weight). The core's settings
    ``weight_slices`` and ``bits_per_slice`` (messages name them)."""

    slices: int = 1
    bits: int | None = None

    def __post_init__(self) -> None:
        if self.slices < 1:
            raise ParameterError(f"weight_slices = {self.slices} is out of range: allowed "
                                 "weight_slices >= 1")
        if self.bits is None and self.slices > 1:
            raise ParameterError(f"weight_slices = {self.slices} needs bits_per_slice (the bits "
                                 "each slice stores): allowed bits_per_slice = 1 ... "
                                 f"{MAX_SLICED_BITS // self.slices}")
        if self.bits is not None and not 1 <= self.bits * self.slices <= MAX_SLICED_BITS:
            raise ParameterError(
                f"weight_slices = {self.slices}, bits_per_slice = {self.bits}: slices x bits = "
                f"{self.slices * self.bits} is out of range: allowed 1 <= weight_slices x "
                f"bits_per_slice <= {MAX_SLICED_BITS} (float64's 52-bit mantissa)")

    @property
    def levels(self) -> int | None:
        """Steps of the whole sliced magnitude, 2^(k b) - 1 (``None`` when unquantised)."""
        return None if self.bits is None else (1 << (self.bits * self.slices)) - 1

    def digit_fractions(self, magnitude: FloatArray) -> FloatArray:
        """Slice target fractions (..., slices) of magnitudes in [0, 1]."""
        if self.bits is None:
            return magnitude[..., None]
        q = round_half_away(magnitude * float(self.levels)).astype(np.int64)  # type: ignore[arg-type]
        base = (1 << self.bits) - 1
        shifts = self.bits * np.arange(self.slices)
        return ((q[..., None] >> shifts) & base) / float(base)

    def weights(self) -> FloatArray:
        """Digital weight of each slice's output, (2^b - 1) 2^(s b) / (2^(k b) - 1)."""
        if self.bits is None:
            return np.ones(1)
        base = (1 << self.bits) - 1
        return base * np.exp2(self.bits * np.arange(self.slices)) / float(self.levels)  # type: ignore[arg-type]


NO_SLICING = Slicing()


def physical_columns(mapping: WeightMapping, tile_cols: int, slicing: Slicing = NO_SLICING) -> int:
    """Physical crossbar columns used by ``tile_cols`` outputs."""
    if mapping == "differential":
        return 2 * slicing.slices * tile_cols
    return tile_cols + 1


def reference_level(init_frac: float, levels_ltp: int, levels_ltd: int) -> float:
    """Window fraction nearest 1/2 that open-loop pulses from ``init_frac`` reach exactly."""
    delta = 0.5 - init_frac
    n = levels_ltp if delta > 0 else levels_ltd
    return init_frac + float(round_half_away(delta * n)) / n  # programming's own rounding


def half_range(mapping: WeightMapping, ref_frac: float = 0.5) -> float:
    """Window fraction that represents |w| = 1: 1 (differential) or min(f_ref, 1 - f_ref)."""
    return 1.0 if mapping == "differential" else min(ref_frac, 1.0 - ref_frac)


def check_slicing(mapping: str, slicing: Slicing) -> None:
    """Refuse bit slicing with any mapping but the differential one (a reference column serves
    one device per weight, not one per slice)."""
    if mapping != "differential" and slicing != NO_SLICING:
        raise ParameterError(
            f"weight_slices = {slicing.slices} with bits_per_slice = {slicing.bits} (bit-sliced "
            f"weights) need mapping = 'differential', not {mapping!r}: allowed mapping = "
            "'differential', or weight_slices = 1 and bits_per_slice unset")


def target_fractions(
    w: FloatArray, mapping: WeightMapping, ref_frac: float = 0.5, slicing: Slicing = NO_SLICING
) -> FloatArray:
    """Target fractions (..., R, physical columns) for normalised weights w (..., R, C)."""
    check_slicing(mapping, slicing)
    if mapping == "differential":
        if slicing == NO_SLICING:  # the common case, without temporaries
            pair = np.empty((*w.shape, 2))
            np.maximum(w, 0.0, out=pair[..., 0])
            np.maximum(-w, 0.0, out=pair[..., 1])
            return pair.reshape(*w.shape[:-1], 2 * w.shape[-1])
        digits = slicing.digit_fractions(np.abs(w))  # (..., C, k)
        pair = np.stack((digits * (w > 0)[..., None], digits * (w < 0)[..., None]), axis=-1)
        return pair.reshape(*w.shape[:-1], 2 * slicing.slices * w.shape[-1])
    ref = np.full((*w.shape[:-1], 1), ref_frac)
    data = ref_frac + half_range(mapping, ref_frac) * w
    return np.clip(np.concatenate((data, ref), axis=-1), 0.0, 1.0)


def weight_units(
    i_a: FloatArray,
    mapping: WeightMapping,
    step_a: float,
    ref_frac: float = 0.5,
    slicing: Slicing = NO_SLICING,
    convert: Callable[[FloatArray], FloatArray] | None = None,
) -> FloatArray:
    """Decode column currents (..., physical columns) to normalised weighted sums (..., C).

    ``step_a`` is the current difference between a cell at G_max and one at G_min at full
    input. Differential: (I+ - I-) / step, slices combined by their digital weights;
    reference: (I - I_ref) / (h step). ``convert`` (an output ADC) digitises each column's
    signal, one per slice, before the slices are combined.
    """
    check_slicing(mapping, slicing)
    if mapping == "differential":
        diff = (i_a[..., 0::2] - i_a[..., 1::2]) / step_a
        if convert is not None:
            diff = convert(diff)
        if slicing == NO_SLICING:
            return diff
        per_slice = diff.reshape(*diff.shape[:-1], -1, slicing.slices)
        return per_slice @ slicing.weights()
    signal = (i_a[..., :-1] - i_a[..., -1:]) / (half_range(mapping, ref_frac) * step_a)
    return signal if convert is None else convert(signal)
