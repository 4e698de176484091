"""Plain-NumPy twin of one in-situ training step (:func:`meliso.learning._kernels.train_steps`).

Written from the formulas of ``docs/learning.md`` with whole-array operations, so the tests can
check the Numba kernel against an independent implementation: the same forward pass (NeuroSim's
digitised column currents or the physics pair's ADC), back-propagation, pulse counts (NeuroSim's
truncate-then-cast, meliso's round half away from zero), moves along the curves and noise draws
in the kernel's order (rows, then columns, then devices). Write energy and latency are the
kernel's alone (``tests/test_learning.py`` checks them by hand).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._numeric import round_half_away
from .state import LayerState

FloatArray = NDArray[np.float64]


def _sigmoid(x: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-x))


def preactivation(model: str, layer: LayerState, u: FloatArray, adc_bits: int,
                  i_max: float, i_min: float) -> FloatArray:
    """Every column's pre-activation for the input vector ``u``."""
    rows = layer.w.shape[1]
    active = u != 0
    if model == "neurosim":
        p_hw = float(2**adc_bits - 1)
        full = rows * i_max - rows * i_min
        i_sum = layer.sig[0][:, active].sum(axis=1)
        i_ref = np.count_nonzero(active) * ((i_max + i_min) / 2.0)
        digits = np.trunc(i_sum / (full / p_hw)) - np.trunc(i_ref / (full / p_hw))
        return digits / p_hw * rows
    s = layer.w[:, active] @ u[active]
    if model == "physics" and adc_bits > 0:
        top = float(2 ** (adc_bits - 1) - 1)
        step = rows / top
        s = np.clip(np.floor(s / step + 0.5), -top, top) * step
    return np.asarray(s, dtype=np.float64)


def forward(model: str, x: FloatArray, l1: LayerState, l2: LayerState, adc_bits: int,
            hidden_binary: bool, threshold: float, i_max: float, i_min: float
            ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(a1, h, a2) of one image."""
    a1 = _sigmoid(preactivation(model, l1, x, adc_bits, i_max, i_min))
    h = (a1 >= threshold).astype(np.float64) if hidden_binary else a1
    a2 = _sigmoid(preactivation(model, l2, h, adc_bits, i_max, i_min))
    return a1, h, a2


def neurosim_pulses(dw: FloatArray, levels_ltp: int, levels_ltd: int) -> NDArray[np.int64]:
    """MLP_NeuroSim's signed pulse counts: the branch's N, d = dw / 2 rounded half away from
    zero to a multiple of 1/N, then truncated: int(d N)."""
    n = np.where(dw > 0, float(levels_ltp), float(levels_ltd))
    d = round_half_away(dw / 2.0 * n) / n
    return np.trunc(d * n).astype(np.int64)


def _move(g: FloatArray, n: NDArray[np.int64], big_a: FloatArray, b: FloatArray, levels: int,
          g_min: float, g_max: float, neurosim_form: bool) -> FloatArray:
    span = g_max - g_min
    lin = np.isinf(big_a)
    with np.errstate(invalid="ignore", divide="ignore"):
        if neurosim_form:
            pos = -big_a * np.log(1.0 - (g - g_min) / b)
            curved = b * (1.0 - np.exp(-(pos + n) / big_a)) + g_min
        else:
            pos = -big_a * np.log1p(-(g - g_min) / b)
            curved = b * -np.expm1(-(pos + n) / big_a) + g_min
    linear = g_min + span * ((levels * (g - g_min) / span + n) / levels)
    return np.where(lin, linear, curved)


def update_layer(model: str, layer: LayerState, err: FloatArray, u: FloatArray, alpha: float,
                 levels_ltp: int, levels_ltd: int, g_min: float, g_max: float,
                 sigma_s: float, v_read: float, i_max: float, i_min: float,
                 normals: FloatArray, pos: int, pulses: NDArray[np.int64] | None = None) -> int:
    """dw = -alpha err u^T applied to one layer in place; returns the next noise position.
    ``pulses`` (2,), if given, accumulates the LTP and LTD pulses sent."""
    dw = -alpha * err[:, None] * u[None, :]           # (C, R)
    if model == "software":
        layer.w[:] = np.clip(layer.w + dw, -1.0, 1.0)
        layer.g[0] = layer.w
        layer.sig[0] = layer.w
        return pos
    if model == "neurosim":
        n = neurosim_pulses(dw, levels_ltp, levels_ltd)[None]          # (1, C, R)
    else:
        df = np.stack([dw / 2.0, -dw / 2.0])                           # push-pull pair
        n = round_half_away(df * np.where(df > 0, levels_ltp, levels_ltd)).astype(np.int64)
    n = np.where(u[None, None, :] != 0, n, 0)
    if pulses is not None:
        pulses += [int(n[n > 0].sum()), int(-n[n < 0].sum())]
    form = model == "neurosim"
    g = layer.g
    new = g.copy()
    up, down = n > 0, n < 0
    new[up] = _move(g[up], n[up], layer.a_ltp[up], layer.b_ltp[up], levels_ltp, g_min, g_max,
                    form)
    new[down] = _move(g[down], n[down], layer.a_ltd[down], layer.b_ltd[down], levels_ltd,
                      g_min, g_max, form)
    moved = n != 0
    if sigma_s > 0:
        order = np.transpose(moved, (2, 1, 0))       # rows, then columns, then devices
        count = int(np.count_nonzero(order))
        noise = np.zeros(order.shape)
        noise[order] = normals[pos:pos + count]
        pos += count
        steps = np.sqrt(np.abs(n)).astype(np.float64)
        new += np.transpose(noise, (2, 1, 0)) * sigma_s * steps
    new = np.where(moved, np.clip(new, g_min, g_max), g)
    layer.g[:] = new
    layer.sig[:] = np.where(moved, v_read / (1.0 / new + layer.r_series_ohm[None]), layer.sig)
    any_moved = moved.any(axis=0)
    if model == "neurosim":
        w = (np.clip(layer.sig[0], i_min, i_max) - i_min) / (i_max - i_min) * 2.0 - 1.0
    else:
        w = (layer.sig[0] - layer.sig[1]) / (i_max - i_min)
    layer.w[:] = np.where(any_moved, w, layer.w)
    return pos


def train_step(model: str, x: FloatArray, label: int, l1: LayerState, l2: LayerState, *,
               levels_ltp: int, levels_ltd: int, g_min: float, g_max: float, sigma_s: float,
               v_read: float, i_max: float, i_min: float, alpha1: float, alpha2: float,
               adc_bits: int, hidden_binary: bool, threshold: float,
               normals: FloatArray, pos: int = 0,
               pulses: NDArray[np.int64] | None = None) -> int:
    """One image: forward, back-propagation, both layers' updates. Returns the noise position;
    ``pulses`` (2, 2), if given, accumulates each layer's LTP and LTD pulses."""
    a1, _, a2 = forward(model, x, l1, l2, adc_bits, hidden_binary, threshold, i_max, i_min)
    target = (np.arange(a2.size) == label).astype(np.float64)
    s2 = -2.0 * a2 * (1.0 - a2) * (target - a2)
    s1 = a1 * (1.0 - a1) * (l2.w.T @ s2)
    common: dict[str, Any] = dict(levels_ltp=levels_ltp, levels_ltd=levels_ltd, g_min=g_min,
                                  g_max=g_max, sigma_s=sigma_s, v_read=v_read, i_max=i_max,
                                  i_min=i_min, normals=normals)
    p1 = None if pulses is None else pulses[0]
    p2 = None if pulses is None else pulses[1]
    pos = update_layer(model, l1, s1, x, alpha1, pos=pos, pulses=p1, **common)
    return update_layer(model, l2, s2, a1, alpha2, pos=pos, pulses=p2, **common)
