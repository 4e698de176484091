"""Numba kernels of in-situ training: one fused pass per training image.

:func:`train_steps` runs a block of single-image SGD steps of a two-layer sigmoid network whose
weights are device conductances (``docs/learning.md``); :func:`predict` is its forward pass on
a batch of images. :mod:`meliso.learning.twin` is the plain-NumPy twin of one step that the
tests compare against (same arithmetic, same order of noise draws).

Layer arrays (one layer of C output columns and R input rows, D devices per weight):

- ``g``: (D, C, R) conductances, siemens (``mode`` 0: the weights themselves, D = 1);
- ``sig``: (D, C, R) what a read of the cell gives: the cell current V / (1/G + R_series)
  (modes 1, 2) or the weight (mode 0);
- ``w``: (C, R) the weight as the algorithm sees it, decoded from ``sig``;
- ``a_ltp, b_ltp, a_ltd, b_ltd``: (D, C, R) curve constants A and B of each cell's branches
  (A = inf: a linear branch);
- ``r_series``: (C, R) series resistance of each cell's read path, ohm.

Modes: 0 software (float weights, clipped to [-1, 1]); 1 NeuroSim (one device per weight
against a mid-current reference, MLP_NeuroSim V3.0's read, ADC and write); 2 physics
(a differential pair per weight, w = (I+ - I-) / (I_max - I_min), updates split push-pull
between the two devices, meliso's curve and pulse rounding).

Noise: each moved device takes the next standard normal from ``normals`` (rows k, then
columns c, then devices d, layer 1 before layer 2). A block stops before a step that might run
out of normals and returns how many steps it ran; the caller refills and continues.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..neurosim.device import pulse_count as neurosim_pulse_count

SOFTWARE, NEUROSIM, PHYSICS = 0, 1, 2
#: Counter slots of ``counters`` (per layer: counters[layer, slot]).
C_PULSES_LTP, C_PULSES_LTD, C_ENERGY_J, C_LATENCY_S, C_MOVED, C_WRITES = range(6)
N_COUNTERS = 6


@njit(cache=True)
def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@njit(cache=True)
def _round_half_away(v: float) -> int:
    mag = abs(v)
    r = math.floor(mag)
    k = int(r + 1.0) if mag - r >= 0.5 else int(r)
    return -k if v < 0 else k


@njit(cache=True)
def move_conductance(g: float, n: int, big_a: float, b: float, levels: int, g_min: float,
                     g_max: float, neurosim_form: bool) -> float:
    """G(p(G) + n) on a branch (no noise, no clipping). ``neurosim_form`` evaluates
    NeuroSim's 1 - exp and log(1 - x); otherwise meliso's expm1/log1p (``docs/physics.md``)."""
    span = g_max - g_min
    if math.isinf(big_a):
        pos = levels * (g - g_min) / span
        return g_min + span * ((pos + n) / levels)
    if neurosim_form:
        pos = -big_a * math.log(1.0 - (g - g_min) / b)
        return b * (1.0 - math.exp(-(pos + n) / big_a)) + g_min
    pos = -big_a * math.log1p(-(g - g_min) / b)
    return b * -math.expm1(-(pos + n) / big_a) + g_min


@njit(cache=True)
def _preactivation(mode: int, sig: np.ndarray, w: np.ndarray, c: int, u: np.ndarray,
                   active: np.ndarray, n_active: int, adc_bits: int, i_max: float,
                   i_min: float) -> float:
    """One column's pre-activation for inputs ``u`` (``active``: the rows where u != 0)."""
    rows = sig.shape[2]
    if mode == NEUROSIM:
        # MLP_NeuroSim V3.0 (Train.cpp, 1-bit inputs): column current and the reference
        # column's (mid current per selected row) digitised against the full-scale range
        # rows (I_max - I_min) with 2^b - 1 counts (CurrentToDigits: int(I / (range / P))),
        # the difference mapped back to algorithm units (DigitsToAlgorithm: d / P * rows).
        p_hw = float((1 << adc_bits) - 1)
        i_mid = (i_max + i_min) / 2.0
        i_sum = 0.0
        i_ref = 0.0
        for t in range(n_active):
            i_sum += sig[0, c, active[t]]
            i_ref += i_mid
        full = rows * i_max - rows * i_min
        digits = int(i_sum / (full / p_hw)) - int(i_ref / (full / p_hw))
        return digits / p_hw * rows
    s = 0.0
    for t in range(n_active):
        k = active[t]
        s += u[k] * w[c, k]
    if mode == PHYSICS and adc_bits > 0:
        # meliso's ADC (Cubero-Cascante et al. 2025, eq. 4) over [-rows, rows]: the largest
        # signal R inputs at 1 can give; codes floor(s / step + 0.5), clipped
        top = float((1 << (adc_bits - 1)) - 1)
        step = rows / top
        d = math.floor(s / step + 0.5)
        d = min(max(d, -top), top)
        s = d * step
    return s


@njit(cache=True)
def _nonzero(u: np.ndarray, out: np.ndarray) -> int:
    """The indices of the non-zero entries of ``u`` into ``out``; returns how many."""
    n = 0
    for k in range(u.size):
        if u[k] != 0.0:
            out[n] = k
            n += 1
    return n


@njit(cache=True)
def forward(mode: int, x: np.ndarray, sig1: np.ndarray, w1: np.ndarray, sig2: np.ndarray,
            w2: np.ndarray, adc_bits: int, hidden_binary: bool, threshold: float,
            i_max: float, i_min: float, a1: np.ndarray, h: np.ndarray,
            a2: np.ndarray) -> None:
    """Forward pass of one image ``x`` (floats) into ``a1`` (hidden sigmoid), ``h`` (what the
    second layer reads: round_th(a1, threshold) when ``hidden_binary``, else a1), ``a2``."""
    active = np.empty(x.size, dtype=np.int64)
    n_active = _nonzero(x, active)
    for j in range(a1.size):
        a1[j] = _sigmoid(_preactivation(mode, sig1, w1, j, x, active, n_active, adc_bits,
                                        i_max, i_min))
        if hidden_binary:
            h[j] = 1.0 if a1[j] >= threshold else 0.0
        else:
            h[j] = a1[j]
    hid = np.empty(a1.size, dtype=np.int64)
    n_hid = _nonzero(h, hid)
    for j in range(a2.size):
        a2[j] = _sigmoid(_preactivation(mode, sig2, w2, j, h, hid, n_hid, adc_bits,
                                        i_max, i_min))


@njit(cache=True)
def predict(mode: int, images: np.ndarray, sig1: np.ndarray, w1: np.ndarray,
            sig2: np.ndarray, w2: np.ndarray, adc_bits: int, hidden_binary: bool,
            threshold: float, i_max: float, i_min: float) -> np.ndarray:
    """Predicted class of every image: the first output with the largest activation."""
    n_hidden = w1.shape[0]
    n_out = w2.shape[0]
    out = np.empty(images.shape[0], dtype=np.int64)
    a1 = np.empty(n_hidden)
    h = np.empty(n_hidden)
    a2 = np.empty(n_out)
    x = np.empty(images.shape[1])
    for i in range(images.shape[0]):
        for k in range(x.size):
            x[k] = images[i, k]
        forward(mode, x, sig1, w1, sig2, w2, adc_bits, hidden_binary, threshold, i_max,
                i_min, a1, h, a2)
        best = 0
        top = -1.0
        for j in range(n_out):
            if a2[j] > top:
                top = a2[j]
                best = j
        out[i] = best
    return out


@njit(cache=True)
def _read(g: float, r_series: float, v_read: float) -> float:
    return v_read / (1.0 / g + r_series)


@njit(cache=True)
def _decode(mode: int, sig: np.ndarray, c: int, k: int, i_max: float, i_min: float) -> float:
    """The algorithm's weight of cell (c, k) from its reads (NeuroSim's ConductanceToWeight;
    the physics pair's current difference over the current range)."""
    if mode == SOFTWARE:
        return sig[0, c, k]
    if mode == NEUROSIM:
        i = min(max(sig[0, c, k], i_min), i_max)
        return (i - i_min) / (i_max - i_min) * 2.0 - 1.0
    return (sig[0, c, k] - sig[1, c, k]) / (i_max - i_min)


@njit(cache=True)
def update_layer(mode: int, err: np.ndarray, u: np.ndarray, alpha: float, g: np.ndarray,
                 sig: np.ndarray, w: np.ndarray, a_ltp: np.ndarray, b_ltp: np.ndarray,
                 a_ltd: np.ndarray, b_ltd: np.ndarray, r_series: np.ndarray, levels_ltp: int,
                 levels_ltd: int, g_min: float, g_max: float, sigma_s: float,
                 v_read: float, i_max: float, i_min: float, v_ltp: float, v_ltd: float,
                 t_ltp: float, t_ltd: float, batch: int, normals: np.ndarray, pos: int,
                 counters: np.ndarray) -> int:
    """Apply dw[c, k] = -alpha err[c] u[k] to every weight of one layer; returns the new
    position in ``normals``. Rows with u[k] = 0 get no update (dw = 0 sends no pulse)."""
    n_cols = g.shape[1]
    n_dev = g.shape[0]
    # a device moves only if |dw| N / 2 >= 1/2 on some branch, i.e. fl(|dw| N) >= 1 (halving
    # is exact), for both pulse rules: rows and cells below that cost nothing
    n_max = float(max(levels_ltp, levels_ltd))
    err_max = 0.0
    for c in range(n_cols):
        err_max = max(err_max, abs(err[c]))
    u_max = 0.0
    for k in range(u.size):
        u_max = max(u_max, abs(u[k]))
    if mode != SOFTWARE and alpha * err_max * u_max * n_max < 0.5:
        return pos  # (a margin of 2 below the bound: nothing in this layer can move)
    for k in range(g.shape[2]):
        if u[k] == 0.0:
            continue
        if mode != SOFTWARE and alpha * err_max * abs(u[k]) * n_max < 0.5:
            continue
        for start in range(0, n_cols, batch):
            max_ltp = 0
            max_ltd = 0
            for c in range(start, min(start + batch, n_cols)):
                dw = -alpha * err[c] * u[k]
                if mode == SOFTWARE:
                    wn = min(max(g[0, c, k] + dw, -1.0), 1.0)
                    g[0, c, k] = wn
                    sig[0, c, k] = wn
                    w[c, k] = wn
                    continue
                if abs(dw) * n_max < 1.0:
                    continue
                moved = False
                for d in range(n_dev):
                    if mode == NEUROSIM:
                        levels = levels_ltp if dw > 0 else levels_ltd
                        n = neurosim_pulse_count(dw, levels)
                    else:
                        df = dw / 2.0 if d == 0 else -dw / 2.0  # push-pull: w = f+ - f-
                        levels = levels_ltp if df > 0 else levels_ltd
                        n = _round_half_away(df * levels)
                    if n == 0:
                        continue
                    g_old = g[d, c, k]
                    if n > 0:
                        gn = move_conductance(g_old, n, a_ltp[d, c, k], b_ltp[d, c, k],
                                              levels_ltp, g_min, g_max, mode == NEUROSIM)
                    else:
                        gn = move_conductance(g_old, n, a_ltd[d, c, k], b_ltd[d, c, k],
                                              levels_ltd, g_min, g_max, mode == NEUROSIM)
                    if sigma_s > 0.0:
                        gn += normals[pos] * sigma_s * math.sqrt(abs(n))
                        pos += 1
                    gn = min(max(gn, g_min), g_max)
                    g[d, c, k] = gn
                    sig[d, c, k] = _read(gn, r_series[c, k], v_read)
                    moved = True
                    if n > 0:
                        counters[C_PULSES_LTP] += n
                        counters[C_ENERGY_J] += v_ltp * v_ltp * (g_old + gn) / 2.0 * t_ltp * n
                        max_ltp = max(max_ltp, n)
                    else:
                        counters[C_PULSES_LTD] += -n
                        counters[C_ENERGY_J] += v_ltd * v_ltd * (g_old + gn) / 2.0 * t_ltd * -n
                        max_ltd = max(max_ltd, -n)
                    counters[C_MOVED] += 1
                if moved:
                    w[c, k] = _decode(mode, sig, c, k, i_max, i_min)
            if max_ltp > 0 or max_ltd > 0:
                # one write operation per batch of columns: its LTP phase, then its LTD phase,
                # each as long as the batch's longest pulse train (MLP_NeuroSim's write timing)
                counters[C_LATENCY_S] += max_ltp * t_ltp + max_ltd * t_ltd
                counters[C_WRITES] += 1
    return pos


@njit(cache=True)
def train_steps(mode: int, images: np.ndarray, labels: np.ndarray, order: np.ndarray,
                first: int, g1: np.ndarray, sig1: np.ndarray, w1: np.ndarray,
                c1: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                g2: np.ndarray, sig2: np.ndarray, w2: np.ndarray,
                c2: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                levels_ltp: int, levels_ltd: int, g_min: float, g_max: float,
                sigma_s: float, v_read: float, i_max: float, i_min: float,
                write: np.ndarray, alpha1: float, alpha2: float, adc_bits: int,
                hidden_binary: bool, threshold: float, batch1: int, batch2: int,
                normals: np.ndarray, counters: np.ndarray) -> tuple[int, int]:
    """Train on ``order[first:]`` (indices into ``images``) until done or until ``normals``
    might not cover the next step. ``c1``/``c2``: (a_ltp, b_ltp, a_ltd, b_ltd, r_series);
    ``write``: (V_LTP, V_LTD, t_LTP, t_LTD). ``counters``: (2, N_COUNTERS), per layer.
    Returns (index of the next image in ``order``, normals used)."""
    n_hidden = w1.shape[0]
    n_out = w2.shape[0]
    a1 = np.empty(n_hidden)
    h = np.empty(n_hidden)
    a2 = np.empty(n_out)
    s1 = np.empty(n_hidden)
    s2 = np.empty(n_out)
    x = np.empty(images.shape[1])
    worst = g1.size + g2.size
    pos = 0
    i = first
    while i < order.size:
        if sigma_s > 0.0 and normals.size - pos < worst:
            break
        idx = order[i]
        for k in range(x.size):
            x[k] = images[idx, k]
        forward(mode, x, sig1, w1, sig2, w2, adc_bits, hidden_binary, threshold, i_max,
                i_min, a1, h, a2)
        for j in range(n_out):
            target = 1.0 if labels[idx] == j else 0.0
            s2[j] = -2.0 * a2[j] * (1.0 - a2[j]) * (target - a2[j])
        for j in range(n_hidden):
            acc = 0.0
            for k in range(n_out):
                acc += a1[j] * (1.0 - a1[j]) * w2[k, j] * s2[k]
            s1[j] = acc
        pos = update_layer(mode, s1, x, alpha1, g1, sig1, w1, c1[0], c1[1], c1[2], c1[3],
                           c1[4], levels_ltp, levels_ltd, g_min, g_max, sigma_s, v_read,
                           i_max, i_min, write[0], write[1], write[2], write[3], batch1,
                           normals, pos, counters[0])
        pos = update_layer(mode, s2, a1, alpha2, g2, sig2, w2, c2[0], c2[1], c2[2], c2[3],
                           c2[4], levels_ltp, levels_ltd, g_min, g_max, sigma_s, v_read,
                           i_max, i_min, write[0], write[1], write[2], write[3], batch2,
                           normals, pos, counters[1])
        i += 1
    return i, pos
