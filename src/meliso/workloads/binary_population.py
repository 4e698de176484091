"""Random binary/ternary matrix-vector populations through a :class:`BinaryCore` (Cubero-Cascante et
al. 2025).

A random weight matrix W (inputs x outputs) in {-1, 1} (binary) or {-1, 0, 1} (ternary) and
random input vectors of the encoding's alphabet are multiplied on the core; the error against
the exact integer product x @ W, the energy per MAC (eqs. 8-9) and the column utilisation are
reported. With an ADC of b bits the layer scale is first calibrated (eqs. 6-7) on separate
profiling vectors, as Cubero-Cascante et al. 2025, §III-B does per layer.

Memory, measured with tracemalloc (``benchmarks/memory.py``): at most 4 float64 per cell for
the programmed crossbars, 4 per vector, tile column and input cycle while reading (currents,
ADC codes, partial sums) and 3 per vector entry (x, y, exact); the estimate checked before
anything is drawn adds these.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .._memory import check_memory
from .._validation import ParameterError
from ..circuit import Wires
from ..core.binary import BinaryCore, BinaryCoreStats, crossbar_shape
from ..mapping.encodings import get_encoding
from ..periphery.energy import EnergyModel

FloatArray = NDArray[np.float64]
# LeNet-5's average matrix in Cubero-Cascante et al. 2025, Table II (63.6 x 286.4): 286 inputs, 64
# outputs
DEFAULT_SIZE = (286, 64)


@dataclass(frozen=True)
class BinaryPopulation:
    """Errors y - x @ W (vectors, outputs), the exact products, and the core that ran them."""

    errors: FloatArray
    exact: FloatArray
    core: BinaryCore
    stats: BinaryCoreStats
    adc_scale: float
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        e = self.errors
        core = self.core
        return {
            "technology": core.device.name, "encoding": core.encoding.name,
            "crossbar": list(core.crossbar), "adc_bits": core.adc_bits,
            "adc_scale": self.adc_scale, "size": list(core.weights.shape),
            "r_bitline_ohm": core.wires.r_bitline_ohm,
            "r_wordline_ohm": core.wires.r_wordline_ohm, "circuit": core.wires.circuit,
            "cell_iv": core.wires.cell_iv, "cell_v0_v": core.wires.cell_v0_v,
            "access": core.wires.access, "v_gate_v": core.wires.v_gate_v,
            "error_mean": float(e.mean()), "error_rms": float(np.sqrt(np.mean(e * e))),
            "error_max_abs": float(np.abs(e).max()),
            "exact_fraction": float(np.mean(e == 0)),
            "rms_exact": float(np.sqrt(np.mean(self.exact**2))),
            **self.stats.summary(),
            "seconds": self.seconds,
        }


def random_operands(rows: int, cols: int, vectors: int, ternary_weights: bool,
                    ternary_inputs: bool, zero_fraction: float, rng: np.random.Generator
                    ) -> tuple[FloatArray, FloatArray]:
    """W (rows, cols) and x (vectors, rows): +-1 equally likely, 0 with ``zero_fraction`` where
    ternary."""
    def draw(shape: tuple[int, int], ternary: bool) -> FloatArray:
        sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
        return np.where(rng.random(shape) < zero_fraction, 0.0, sign) if ternary else sign

    return draw((rows, cols), ternary_weights), draw((vectors, rows), ternary_inputs)


def binary_population_bytes(rows: int, cols: int, batch: int, tiles: int, cells_per_tile: int,
                            columns: int, cycles: int) -> int:
    """Peak memory of a population read in batches of ``batch`` vectors (module docstring)."""
    return 8 * (4 * tiles * cells_per_tile + 4 * cycles * batch * tiles * columns
                + 3 * batch * (rows + cols))


def binary_vmm_population(
    technology: str = "ReRAM-1",
    encoding: str = "T-I",
    crossbar: int | tuple[int, int] = 128,
    adc_bits: int | None = None,
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    vectors: int = 1000,
    profile_vectors: int = 200,
    weights: Literal["binary", "ternary", "auto"] = "auto",
    zero_fraction: float = 1 / 3,
    calibrate: bool = True,
    wires: Wires | None = None,
    v_read_v: float | None = None,
    energy: EnergyModel | None = None,
    seed: int = 0,
) -> BinaryPopulation:
    """Run ``vectors`` random inputs through a core holding a random ``size`` matrix.

    ``weights="auto"``: binary weights for the binary encodings (B-I, B-II), ternary for T-I
    and T-II; inputs follow the encoding. ``zero_fraction`` is the share of zeros in ternary
    operands (ignored for binary ones).
    """
    enc = get_encoding(encoding)
    for name, value, lo in (("vectors", vectors, 1), ("profile_vectors", profile_vectors, 1)):
        if not isinstance(value, int) or value < lo:
            raise ParameterError(f"{name} = {value!r} is out of range: allowed integer {name} >= "
                             f"{lo}")
    if not 0 <= zero_fraction < 1:
        raise ParameterError(f"zero_fraction = {zero_fraction!r} is out of range: allowed 0 <= "
                         "zero_fraction < 1")
    if weights not in ("binary", "ternary", "auto"):
        raise ParameterError(f"weights = {weights!r}: allowed 'binary', 'ternary' or 'auto'")
    rows, cols = size
    if rows < 1 or cols < 1:
        raise ParameterError(f"size = {size!r} is out of range: allowed rows >= 1 and cols >= 1")
    n_rows, n_cols = crossbar_shape(crossbar, "crossbar")
    tiles = -(-rows // n_rows) * -(-cols // max(1, n_cols // 2))
    check_memory(binary_population_bytes(rows, cols, max(vectors, profile_vectors), tiles,
                                         n_rows * n_cols, n_cols, enc.cycles),
                 f"vectors = {vectors} and profile_vectors = {profile_vectors} through a "
                 f"{rows}x{cols} matrix on {tiles} crossbars of {n_rows}x{n_cols}",
                 "lower vectors, profile_vectors, the size or the crossbar")
    ternary_w = enc.ternary if weights == "auto" else weights == "ternary"
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    w, x = random_operands(rows, cols, vectors, ternary_w, enc.ternary, zero_fraction, rng)
    _, x_profile = random_operands(rows, 1, profile_vectors, ternary_w, enc.ternary,
                                   zero_fraction, rng)
    core = BinaryCore(w, technology, encoding, crossbar, adc_bits, wires=wires,
                      v_read_v=v_read_v, energy=energy, rng=rng)
    if calibrate and adc_bits is not None:
        core.calibrate(x_profile)
    y = core.matmul(x)
    exact = x @ w
    return BinaryPopulation(errors=y - exact, exact=exact, core=core, stats=core.stats,
                            adc_scale=core.adc_scale, seconds=time.perf_counter() - t0)
