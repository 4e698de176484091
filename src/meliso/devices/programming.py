"""Programming whole arrays of analog cells: open-loop pulses and write-and-verify.

Targets are given as fractions of the window, ``f = (G - G_min) / (G_max - G_min)`` in [0, 1].
Every cell starts from the device's initial state (``g_init_frac``; 0 = G_min, a RESET array).

Open loop (NeuroSim's write, the error source Chowdhury et al. 2024 measures): the controller
assumes a linear device and sends ``n = round(delta_f * N)`` pulses, rounded half away from zero, on
the LTP branch for delta_f > 0 and the LTD branch otherwise (``docs/physics.md`` §1.4; NeuroSim's
own count, with its integer cast, is ``docs/neurosim.md`` Step 3 and Q2).
Non-linearity and cycle-to-cycle variation then leave the cell away from its target.

Write-and-verify: after that first write, read the cell (with read noise), and while it is
further than ``tolerance_frac`` from its target send the linear-estimate correction (at least one
pulse) on the branch that moves it the right way, until every cell is within tolerance, the
iteration limit is reached or its pulse budget is spent. All of it is vectorised over the array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._numeric import round_half_away
from .._validation import check_range
from .analog import AnalogDevice, Branch, FloatArray, apply_pulses, read_resistance_ohm
from .nonlinearity import NL_MAX, shape_from_label


@dataclass(frozen=True)
class ProgramResult:
    """Outcome of programming an array.

    ``g_s`` programmed conductances (siemens), ``pulses`` total pulses each cell received,
    ``iterations`` verify iterations used per cell (1 for open loop), ``converged`` whether each
    cell ended within tolerance of its target (open loop: ``None``, no verify read was made).
    """

    g_s: FloatArray
    pulses: NDArray[np.int64]
    iterations: NDArray[np.int64]
    converged: NDArray[np.bool_] | None


def pulse_count(delta_frac: ArrayLike, levels_ltp: int, levels_ltd: int) -> NDArray[np.int64]:
    """Signed open-loop pulse count for a change ``delta_frac`` of the window fraction: the
    nearest whole number of pulses (halves away from zero). delta > 0 counts on the LTP branch
    (``levels_ltp``), otherwise on LTD. (NeuroSim's own count, with its C cast, is
    :func:`meliso.neurosim.device.neurosim_write`'s.)"""
    d = np.asarray(delta_frac, dtype=np.float64)
    n = np.where(d > 0, float(levels_ltp), float(levels_ltd))
    return round_half_away(d * n).astype(np.int64)


def cell_branches(
    device: AnalogDevice, shape: tuple[int, ...], rng: np.random.Generator | None
) -> tuple[Branch, Branch]:
    """LTP and LTD branches of an array of cells.

    Without device-to-device variation every cell shares the preset's curve shapes. With
    ``sigma_d2d > 0`` each cell draws its own NL labels once, label + Normal(0, sigma_d2d), for
    each branch independently; labels are clipped to +-9 (the end of NeuroSim's table).
    """
    if device.sigma_d2d == 0:
        return (
            Branch(device.shape_ltp(), device.levels_ltp),
            Branch(device.shape_ltd(), device.levels_ltd),
        )
    if rng is None:
        raise ValueError("a random generator is needed when sigma_d2d > 0")
    labels = []
    for nl in (device.nl_ltp, device.nl_ltd):
        lab = nl + device.sigma_d2d * rng.standard_normal(shape)
        labels.append(np.clip(lab, -NL_MAX, NL_MAX))
    return (
        Branch(np.asarray(shape_from_label(labels[0])), device.levels_ltp),
        Branch(np.asarray(shape_from_label(labels[1])), device.levels_ltd),
    )


def _check_targets(target_frac: ArrayLike) -> FloatArray:
    t = np.asarray(target_frac, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        raise ValueError("target fractions must be finite")
    if t.size and (t.min() < 0 or t.max() > 1):
        raise ValueError(
            f"target fractions must lie in [0, 1] (got {t.min():g} ... {t.max():g})"
        )
    return t


def program_open_loop(
    device: AnalogDevice,
    target_frac: ArrayLike,
    rng: np.random.Generator,
    *,
    branches: tuple[Branch, Branch] | None = None,
    kernel: Literal["auto", "numba", "numpy"] = "auto",
) -> ProgramResult:
    """Program every cell from the initial state with one open-loop pulse train (vectorised).

    ``kernel`` selects the Numba path or its NumPy twin (see :func:`apply_pulses`).
    """
    target = _check_targets(target_frac)
    ltp, ltd = branches if branches is not None else cell_branches(device, target.shape, rng)
    g0 = device.g_min_s + device.g_init_frac * device.g_range_s
    if kernel != "numpy":
        from ._kernels import open_loop_pulses

        flat = np.empty(target.size, dtype=np.int64)
        open_loop_pulses(
            np.ascontiguousarray(target).reshape(-1), device.g_init_frac,
            device.levels_ltp, device.levels_ltd, flat,
        )
        pulses = flat.reshape(target.shape)
    else:
        pulses = pulse_count(target - device.g_init_frac, device.levels_ltp, device.levels_ltd)
    g = apply_pulses(g0, pulses, device, rng, ltp=ltp, ltd=ltd, kernel=kernel)
    ones = np.broadcast_to(np.int64(1), target.shape)  # read-only view: one write per cell
    return ProgramResult(g_s=g, pulses=np.abs(pulses, out=pulses), iterations=ones,
                         converged=None)


def program_write_verify(
    device: AnalogDevice,
    target_frac: ArrayLike,
    rng: np.random.Generator,
    *,
    tolerance_frac: float | None = None,
    max_iterations: int = 21,
    max_pulses: int | None = None,
    branches: tuple[Branch, Branch] | None = None,
) -> ProgramResult:
    """Write-and-verify: open-loop write, then read -> correct until within tolerance.

    ``tolerance_frac`` defaults to one level of the finer branch, 1 / max(N_LTP, N_LTD);
    ``max_iterations`` counts writes (the first open-loop write included; MELISO+ uses up to 21);
    ``max_pulses`` is each cell's pulse budget, the first write included
    (default 10 * max(N_LTP, N_LTD)).
    """
    target = _check_targets(target_frac)
    n_max = max(device.levels_ltp, device.levels_ltd)
    tol = 1.0 / n_max if tolerance_frac is None else float(tolerance_frac)
    check_range("tolerance_frac", tol, lo=0.0, hi=1.0, lo_open=True)
    check_range("max_iterations", max_iterations, lo=1)
    budget = 10 * n_max if max_pulses is None else int(max_pulses)
    check_range("max_pulses", budget, lo=1)

    ltp, ltd = branches if branches is not None else cell_branches(device, target.shape, rng)
    # the first write is the open-loop one, clipped to the budget like every later write
    pulses = np.clip(pulse_count(target - device.g_init_frac, device.levels_ltp,
                                 device.levels_ltd), -budget, budget)
    g = apply_pulses(device.g_min_s + device.g_init_frac * device.g_range_s, pulses, device,
                     rng, ltp=ltp, ltd=ltd)
    used = np.abs(pulses)
    iterations = np.ones(target.shape, dtype=np.int64)
    used = used.copy()
    g_min, g_range = device.g_min_s, device.g_range_s

    def error_frac() -> FloatArray:
        seen = 1.0 / read_resistance_ohm(g, device.sigma_read, rng)
        return target - (seen - g_min) / g_range

    err = error_frac()
    for _ in range(max_iterations - 1):
        active = (np.abs(err) > tol) & (used < budget)
        if not np.any(active):
            break
        pulses = pulse_count(err, device.levels_ltp, device.levels_ltd)
        pulses = np.where(pulses == 0, np.sign(err).astype(np.int64), pulses)
        remaining = np.maximum(budget - used, 0)
        pulses = np.clip(pulses, -remaining, remaining)
        pulses = np.where(active, pulses, 0)
        g = apply_pulses(g, pulses, device, rng, ltp=ltp, ltd=ltd)
        used = used + np.abs(pulses)
        iterations = iterations + active
        err = error_frac()
    return ProgramResult(g_s=g, pulses=used, iterations=iterations, converged=np.abs(err) <= tol)
