"""Figures of error populations: overlaid densities with box strips (Chowdhury et al. 2024,
Fig. 5), histogram grids with the best fit (Figs. 2-4), spread against a swept parameter.

Every builder returns the figure and a caption: what the axes show and what they leave out.
Populations compared in one figure share one error axis, which spans the 2.5 to 97.5
percentiles of them all (and a tenth more on each side): a heavy tail does not squash the
bulk, and the caption states the share of each population outside the axis. (A symmetric-log
axis would show every value, but its variable bin widths turn a normal density into a false
double peak.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from ..fits import FitResult, family_name, fitted_pdf
from .check import INSET
from .style import (
    DENSITY_LABEL,
    ERROR_LABEL,
    ONE_COLUMN_IN,
    TWO_COLUMNS_IN,
    axis_label,
    axis_values,
    figure_legend,
    panel_grid,
    series_style,
)

FloatArray = NDArray[np.float64]
BINS = 60


def _finite(errors: ArrayLike) -> FloatArray:
    e = np.asarray(errors, dtype=np.float64).reshape(-1)
    return e[np.isfinite(e)]


def _iqr(e: FloatArray) -> float:
    if not e.size:
        return 0.0
    q1, q3 = np.percentile(e, [25, 75])
    return float(q3 - q1)


#: Percentiles the shared error axis spans (of every population), and the margin beyond them.
AXIS_PERCENTILES = (2.5, 97.5)
AXIS_MARGIN = 0.1


def error_axis(samples: Sequence[FloatArray]) -> tuple[float, float]:
    """(low, high) of one error axis for all ``samples``: the 2.5-97.5 % range of them all,
    widened by a tenth on each side."""
    nonempty = [e for e in samples if e.size]
    if not nonempty:
        return -1.0, 1.0
    lo = min(float(np.percentile(e, AXIS_PERCENTILES[0])) for e in nonempty)
    hi = max(float(np.percentile(e, AXIS_PERCENTILES[1])) for e in nonempty)
    if hi <= lo:
        lo, hi = lo - 1e-9, hi + 1e-9
    pad = AXIS_MARGIN * (hi - lo)
    return lo - pad, hi + pad


def outside_note(names: Sequence[str], samples: Sequence[FloatArray], lo: float, hi: float
                 ) -> str:
    """Caption sentence: the axis and the share of each population it leaves out."""
    shares = [(n, float(np.mean((e < lo) | (e > hi))) if e.size else 0.0)
              for n, e in zip(names, samples, strict=True)]
    listed = ", ".join(f"{n} {100 * s:.1f} %" for n, s in shares)
    return (f"The error axis spans {lo:.3g} ... {hi:.3g} (the 2.5-97.5 % range of all "
            f"populations shown, and a tenth more on each side); outside it: {listed}.")


def _density(e: FloatArray, edges: FloatArray) -> FloatArray:
    """Histogram as a density normalised by the whole sample (clipped tails included)."""
    counts, _ = np.histogram(e, bins=edges)
    return np.asarray(counts / max(e.size, 1) / np.diff(edges), dtype=np.float64)


def _box_strip(ax: Axes, names: Sequence[str], samples: Sequence[FloatArray]) -> None:
    stats: list[dict[str, Any]] = []
    for name, e in zip(names, samples, strict=True):
        q1, med, q3 = np.percentile(e, [25, 50, 75]) if e.size else (0.0, 0.0, 0.0)
        lo_w, hi_w = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        inside = e[(e >= lo_w) & (e <= hi_w)] if e.size else e
        stats.append({"label": name, "med": med, "q1": q1, "q3": q3,
                      "whislo": float(inside.min()) if inside.size else q1,
                      "whishi": float(inside.max()) if inside.size else q3, "fliers": []})
    boxes = ax.bxp(stats[::-1], showfliers=False, patch_artist=True, orientation="horizontal",
                   widths=0.6, medianprops={"color": "black", "lw": 1})
    for k, patch in enumerate(boxes["boxes"][::-1]):
        patch.set_facecolor(series_style(k)["color"])
        patch.set_alpha(0.6)
    ax.axvline(0, color="0.6", lw=0.5)
    ax.tick_params(axis="y", labelsize=6)


def overlaid_densities(series: Sequence[tuple[str, ArrayLike]], *, title: str = "",
                       fits: Sequence[FitResult | None] | None = None
                       ) -> tuple[Figure, str]:
    """Populations overlaid on one shared error axis (step histograms, optionally each with its
    best-fit density), with a strip of box plots below on the same axis."""
    names = [n for n, _ in series]
    samples = [_finite(e) for _, e in series]
    lo, hi = error_axis(samples)
    fig, (ax, strip) = plt.subplots(
        2, 1, figsize=(ONE_COLUMN_IN * 1.4, 2.6 + 0.16 * len(series)), sharex=True,
        height_ratios=[3.5, 0.5 + 0.25 * len(series)], layout="constrained")
    edges = np.linspace(lo, hi, BINS + 1)
    for k, (name, e) in enumerate(zip(names, samples, strict=True)):
        style = series_style(k)
        ax.stairs(_density(e, edges), edges, color=style["color"], lw=1.1, label=name)
        fit = fits[k] if fits is not None else None
        if fit is not None:
            grid = np.linspace(lo, hi, 400)
            ax.plot(grid, fitted_pdf(fit, grid), color=style["color"], lw=0.8, ls="--")
    ax.set_ylabel(DENSITY_LABEL)
    _box_strip(strip, names, samples)
    strip.set_xlim(lo, hi)
    strip.set_xlabel(ERROR_LABEL)
    strip.set_label(INSET)
    if title:
        ax.set_title(title)
    figure_legend(fig, where="upper center")
    caption = outside_note(names, samples, lo, hi)
    if fits is not None:
        caption += " Dashed: each population's best-fit density (lowest BIC)."
    return fig, caption


#: Populations whose IQRs differ by more than this factor get an error axis each.
SHARE_WITHIN = 10.0


def histogram_grid(panels: Sequence[tuple[str, ArrayLike, FitResult | None]], *,
                   ncols: int = 4, shared: bool | None = None) -> tuple[Figure, str]:
    """One histogram per (title, errors, best fit), each with its best-fit density (named in
    its title). ``shared``: one error axis for all panels (compare them), or one each; by
    default shared unless the populations' IQRs differ by more than :data:`SHARE_WITHIN`
    (the ends of a sweep whose spread changes by orders of magnitude)."""
    samples = [_finite(e) for _, e, _ in panels]
    iqrs = [i for i in (_iqr(e) for e in samples) if i > 0]
    if shared is None:
        shared = not iqrs or max(iqrs) <= SHARE_WITHIN * min(iqrs)
    ranges = [error_axis(samples)] * len(samples) if shared else [error_axis([e])
                                                                  for e in samples]
    rows, cols, width, height = panel_grid(len(panels), ncols, (2.0, 1.7))
    fig, axes = plt.subplots(rows, cols, figsize=(width, height + 0.4), squeeze=False,
                             sharex=shared, layout="constrained")
    for ax, (name, _, fit), e, (lo, hi) in zip(axes.flat, panels, samples, ranges,
                                               strict=False):
        edges = np.linspace(lo, hi, BINS + 1)
        density = _density(e, edges)
        ax.stairs(density, edges, fill=True, color="0.75", lw=0)
        top = float(density.max()) if density.size else 0.0
        if fit is not None:
            grid = np.linspace(lo, hi, 400)
            curve = fitted_pdf(fit, grid)
            ax.plot(grid, curve, color=series_style(1)["color"], lw=1.1)
            top = max(top, float(np.nanmax(curve)))
        ax.set_xlim(lo, hi)
        ax.set_ylim(0, 1.1 * top if top > 0 else 1.0)
        best = f"\nbest fit: {family_name(fit.family)}" if fit is not None else ""
        ax.set_title(name + best, fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.supxlabel(ERROR_LABEL, fontsize=8)
    fig.supylabel(DENSITY_LABEL, fontsize=8)
    names = [n for n, _, _ in panels]
    if shared:
        return fig, outside_note(names, samples, *ranges[0]) if ranges else ""
    shares = ", ".join(f"{n} {100 * float(np.mean((e < lo) | (e > hi))):.1f} %"
                       for n, e, (lo, hi) in zip(names, samples, ranges, strict=True))
    return fig, ("Each panel has its own error axis (the spreads differ by more than "
                 f"{SHARE_WITHIN:g}x), spanning its 2.5-97.5 % range and a tenth more on "
                 f"each side; outside it: {shares}.")


def spread_against(series: Mapping[str, tuple[Sequence[Any], Sequence[Mapping[str, Any]]]], *,
                   x_name: str, title: str = "", logx: bool = False) -> tuple[Figure, str]:
    """Per series: median with the IQR and 2.5-97.5 % bands against a swept parameter (left),
    and the error variance on a log axis with its 95 % interval where stored (right)."""
    fig, (ax, axv) = plt.subplots(1, 2, figsize=(TWO_COLUMNS_IN, 2.6), layout="constrained")
    for k, (name, (xs, stats)) in enumerate(series.items()):
        style = series_style(k)
        x = np.asarray(axis_values(x_name, xs), dtype=float)
        med = np.array([s["median"] for s in stats], dtype=float)
        ax.plot(x, med, color=style["color"], marker=style["marker"], label=name)
        ax.fill_between(x, [s["p25"] for s in stats], [s["p75"] for s in stats],
                        facecolor=style["color"], alpha=0.25, edgecolor=style["color"],
                        lw=0.6)
        for key in ("p2_5", "p97_5"):  # outer range as edges: overlapping fills turn grey
            ax.plot(x, [s[key] for s in stats], color=style["color"], ls=":", lw=1.0)
        var = np.array([s["variance"] for s in stats], dtype=float)
        lo = np.array([s.get("variance_ci_low", math.nan) for s in stats], dtype=float)
        hi = np.array([s.get("variance_ci_high", math.nan) for s in stats], dtype=float)
        err = np.vstack([var - lo, hi - var]) if np.all(np.isfinite([lo, hi])) else None
        axv.errorbar(x, np.where(var > 0, var, np.nan), yerr=err, color=style["color"],
                     marker=style["marker"], ls=style["linestyle"], capsize=2, lw=1.0)
    ax.set_ylabel("error e = y − A·x (units of A·x):\nmedian, IQR and 2.5-97.5 % bands")
    axv.set_ylabel("error variance ((A·x)²)")
    axv.set_yscale("log")
    for a in (ax, axv):
        a.set_xlabel(axis_label(x_name))
        if logx:
            a.set_xscale("log")
    if title:
        fig.suptitle(title)
    figure_legend(fig)
    caption = ("Left: median (line with markers), interquartile range (band) and 2.5-97.5 % "
               "range (dotted lines) of the error. Right: variance, log scale")
    caption += (", with 95 % bootstrap intervals over trials." if any(
        "variance_ci_low" in s for _, st in series.values() for s in st) else ".")
    return fig, caption


def box_plots(labels: Sequence[str], stats: Sequence[Mapping[str, Any]], *, title: str = ""
              ) -> tuple[Figure, str]:
    """Tukey box plots from stored statistics (quartiles, median, whiskers at 1.5 IQR)."""
    boxes = [{"label": lab, "med": s["median"], "q1": s["p25"], "q3": s["p75"],
              "whislo": s["whisker_low"], "whishi": s["whisker_high"], "fliers": []}
             for lab, s in zip(labels, stats, strict=True)][::-1]
    fig, ax = plt.subplots(figsize=(ONE_COLUMN_IN * 1.4, 0.7 + 0.22 * len(boxes)),
                           layout="constrained")
    drawn = ax.bxp(boxes, showfliers=False, patch_artist=True, orientation="horizontal",
                   medianprops={"color": "black"})
    for patch in drawn["boxes"]:
        patch.set_facecolor("0.85")
    ax.axvline(0, color="0.6", lw=0.5)
    ax.set_xlabel(ERROR_LABEL)
    ax.set_ylabel("population")
    if title:
        ax.set_title(title)
    outliers = ", ".join(f"{lab} {int(s['n_outliers'])}" for lab, s in zip(labels, stats,
                                                                          strict=True))
    return fig, ("Boxes: quartiles and median; whiskers: the most extreme errors within 1.5 IQR "
                 f"of the box. Errors beyond the whiskers (not drawn): {outliers}.")
