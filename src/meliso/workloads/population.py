"""Monte-Carlo VMM populations (Chowdhury et al. 2024, §II).

The paper's protocol: ``trials`` random matrices A (rows x cols, uniform in [-1, 1]) and vectors
x (uniform in [0, 1]), a fresh pair per trial, each multiplied on its own crossbar; the error
e = y - A x (signed, absolute, in the units of A x) of every output is concatenated, 1000 trials
of 32 x 32 giving 32 000 errors. All trials are programmed and read at once (a stacked core).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._memory import check_memory
from .._validation import ParameterError, check_range
from ..analysis import summarize, tail_share
from ..core import AnalogCore
from ..core.plan import CorePlan, plan_core
from ..devices import Device, get_device

FloatArray = NDArray[np.float64]
#: Core settings the population protocol implies (A in [-1, 1], x in [0, 1]); overridable.
POPULATION_DEFAULTS = {"weight_range": 1.0, "input_range": 1.0}


#: The statistics every population report leads with (``meliso vmm``, ``--json``).
POPULATION_KEYS = ("n", "mean", "variance", "skewness", "kurtosis", "median", "iqr", "p2_5",
                   "p97_5", "rms_exact", "n_nonfinite")
#: Above this share of the squared error in the 1 % worst-calibrated rows, the moments say more
#: about those rows than about the population.
DOMINATED_SHARE = 0.5


@dataclass(frozen=True)
class Population:
    """Errors of a VMM population: ``errors``, ``exact`` and ``y`` of shape (trials, rows);
    ``seconds``: programming and reading, wall time."""

    errors: FloatArray
    exact: FloatArray
    y: FloatArray
    core: AnalogCore
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The population's statistics (:data:`POPULATION_KEYS` first) and how it was run."""
        stats = summarize(self.errors, self.exact)
        core, cfg = self.core, self.core.config
        out: dict[str, Any] = {k: stats[k] for k in POPULATION_KEYS}
        out["n"], out["n_nonfinite"] = int(out["n"]), int(out["n_nonfinite"])
        out.update({
            "device": core.device.name, "model": cfg.model, "trials": core.n_stack,
            "size": [core.m, core.n], "mapping": core.mapping,
            "calibration": cfg.resolved_calibration, "programming": cfg.programming,
            "input_bits": cfg.input_bits, "weight_slices": core.slicing.slices,
            "bits_per_slice": core.slicing.bits, "mad": stats["mad"],
            "max_abs": stats["max_abs"], "seconds": self.seconds,
            "r_bitline_ohm": cfg.r_bitline_ohm, "r_wordline_ohm": cfg.r_wordline_ohm,
            "circuit": cfg.circuit, "topology": cfg.topology, "cell_iv": cfg.cell_iv,
            "cell_v0_v": cfg.cell_v0_v, "access": cfg.access, "v_gate_v": cfg.v_gate_v,
        })
        out.update(self.calibration_diagnostics())
        out.update(core.programming_summary())
        return out

    def notes(self) -> list[str]:
        """What a reader of the summary must know (heavy calibration tails, non-finite
        errors), in words."""
        out = []
        share = self.calibration_diagnostics().get("sq_error_share_smallest_span_1pct")
        if share is not None and share > DOMINATED_SHARE:
            out.append(f"the moments are dominated by a few rows: the 1 % of rows with the "
                       f"smallest calibration span carry {100 * share:.0f} % of the squared "
                       "error; read the median, IQR and percentiles instead")
        bad = int((~np.isfinite(self.errors)).sum())
        if bad:
            out.append(f"{bad} non-finite errors (inf/NaN) were excluded from the moments and "
                       "percentiles")
        return out

    @property
    def flat_errors(self) -> FloatArray:
        """All errors concatenated (trials * rows,), as the paper reports them."""
        return self.errors.reshape(-1)

    def calibration_diagnostics(self) -> dict[str, float]:
        """With two-point calibration: how much the few worst-calibrated rows dominate.

        ``sq_error_share_smallest_span_1pct``: share of the sum of e^2 from the 1 % of rows
        with the smallest |d - m|; ``sign_flip_fraction``: rows MELISO negates (d < m);
        ``zero_span_rows``: rows with d = m (inf/NaN outputs). Empty without calibration.
        """
        cal = self.core.calibration
        if cal is None:
            return {}
        span = np.abs(cal.span).reshape(-1)
        return {
            "sq_error_share_smallest_span_1pct": tail_share(self.errors, span, 0.01),
            "sign_flip_fraction": float(cal.sign_flipped.mean()),
            "zero_span_rows": int((cal.span == 0).sum()),
        }


def check_population_memory(device: Device, trials: int, rows: int, cols: int,
                            settings: dict[str, Any]) -> CorePlan:
    """The plan of a population's stacked core, refused if it cannot fit in memory.

    Programming peaks at the plan's estimate; A, x, the exact products and the errors add
    about four float64 per matrix entry and output."""
    plan = plan_core((trials, rows, cols), device, settings)
    need = plan.program_bytes() + plan.read_bytes(1) + 8 * trials * (rows * cols + 4 * rows
                                                                     + cols)
    cfg = plan.config
    check_memory(need, f"a population of trials = {trials} x {rows}x{cols} on "
                       f"'{device.name}' in tiles of tile_rows x tile_cols = {cfg.tile_rows}x"
                       f"{cfg.tile_cols} ({plan.cells} cells)",
                 "lower trials, the matrix size (rows, cols) or the tile")
    return plan


def vmm_population(
    device: str | Device = "ideal",
    *,
    trials: int = 1000,
    rows: int = 32,
    cols: int = 32,
    seed: int | None = 0,
    rng: np.random.Generator | None = None,
    device_rng: np.random.Generator | None = None,
    **settings: Any,
) -> Population:
    """Run the Chowdhury et al. 2024 population on ``device``: rows x cols matrices, ``settings`` to
    the core.

    Defaults follow the protocol's known ranges: ``weight_range=1`` (A in [-1, 1]) and
    ``input_range=1`` (x in [0, 1]); both can be overridden. ``rng`` (if given) is used instead
    of ``seed``; the same seed gives identical numbers. ``device_rng`` (if given) draws the
    programming and read noise, so that A and x can be shared between populations (common random
    numbers) while each device draws its own noise; otherwise both come from one generator.
    """
    for name, value in (("trials", trials), ("rows", rows), ("cols", cols)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise ParameterError(f"{name} = {value!r}: allowed an integer {name} >= 1")
        check_range(name, value, lo=1)
    settings = {**POPULATION_DEFAULTS, **settings}
    dev = get_device(device) if isinstance(device, str) else device
    check_population_memory(dev, trials, rows, cols, settings)  # before any allocation
    t0 = time.perf_counter()
    gen = rng if rng is not None else np.random.default_rng(seed)
    a = gen.uniform(-1.0, 1.0, size=(trials, rows, cols))
    x = gen.uniform(0.0, 1.0, size=(trials, cols))
    core = AnalogCore(a, dev, rng=gen if device_rng is None else device_rng, **settings)
    y = core.matvec(x)
    exact = np.einsum("tij,tj->ti", a, x)
    return Population(errors=y - exact, exact=exact, y=y, core=core,
                      seconds=time.perf_counter() - t0)
