"""Paper-ready figures of error populations (matplotlib, Agg), saved as PNG and PDF.

- :func:`plot_histograms`: error histograms with the best-fit density (Chowdhury et al. 2024, Figs.
  2-5);
- :func:`plot_boxes`: Tukey box plots from stored box statistics (the Fig. 5 insets);
- :func:`plot_spread`: spread against a swept parameter, median with IQR and 2.5-97.5 % bands,
  and the variance on a log axis (the paper's trend plots and Fig. 4c).

Histograms span the 0.5-99.5 percentiles of each population, so heavy tails (|e| in the
thousands) do not squash the bulk; the titles say how many values fall outside.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import ArrayLike

from .._io import atomic_write_bytes
from .fits import FitResult, fitted_pdf

plt.rcParams.update({
    "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "legend.fontsize": 8,
    "figure.dpi": 150, "savefig.bbox": "tight", "axes.spines.top": False,
    "axes.spines.right": False,
})
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def save_figure(fig: Any, stem: str | Path) -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf atomically; close the figure."""
    paths = []
    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext)
        path = Path(f"{stem}.{ext}")
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths


def fit_from_record(family: str | None, params: dict[str, Any] | None) -> FitResult | None:
    """A plottable fit from a stored best-fit family and its parameters."""
    if not family or not params or family == "none converged":
        return None
    return FitResult(family, params, True, math.nan, 0, 1, math.nan)


def plot_histograms(
    panels: Sequence[tuple[str, ArrayLike, FitResult | None]],
    stem: str | Path,
    *,
    ncols: int = 4,
    xlabel: str = "error e = y - Ax",
) -> list[Path]:
    """One histogram per (title, errors, best fit) with the fitted density over it."""
    n = max(1, len(panels))
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.3 * nrows), squeeze=False,
                             layout="constrained")
    for ax, (title, errors, fit) in zip(axes.flat, panels, strict=False):
        e = np.asarray(errors, dtype=float).reshape(-1)
        e = e[np.isfinite(e)]
        lo, hi = np.percentile(e, [0.5, 99.5]) if e.size else (-1.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 1e-9, hi + 1e-9
        inside = e[(e >= lo) & (e <= hi)]
        # density normalised by the whole sample, so the fitted density sits on the same scale
        counts, edges = np.histogram(inside, bins=60, range=(lo, hi))
        ax.stairs(counts / max(e.size, 1) / (edges[1] - edges[0]), edges, fill=True,
                  color="0.75", lw=0)
        if fit is not None:
            grid = np.linspace(lo, hi, 400)
            ax.plot(grid, fitted_pdf(fit, grid), color=COLORS[3], lw=1.2, label=fit.family)
            ax.legend(frameon=False, loc="upper right")
        ax.set_title(f"{title}\n({e.size - inside.size} of {e.size} outside)", fontsize=7)
        ax.set_xlabel(xlabel)
        ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return save_figure(fig, stem)


def plot_boxes(
    labels: Sequence[str], stats: Sequence[Mapping[str, Any]], stem: str | Path, *,
    ylabel: str = "error e = y - Ax", title: str = "",
) -> list[Path]:
    """Tukey box plots from stored statistics (p25, median, p75, whiskers; outliers counted)."""
    boxes = [
        {"label": f"{lab} ({int(s['n_outliers'])} outliers)", "med": s["median"],
         "q1": s["p25"], "q3": s["p75"], "whislo": s["whisker_low"],
         "whishi": s["whisker_high"], "fliers": []}
        for lab, s in zip(labels, stats, strict=True)
    ][::-1]  # horizontal boxes, first point on top
    longest = max((len(b["label"]) for b in boxes), default=10)
    fig, ax = plt.subplots(figsize=(3.5 + 0.055 * longest, 0.6 + 0.28 * len(boxes)),
                           layout="constrained")
    ax.bxp(boxes, showfliers=False, patch_artist=True, orientation="horizontal",
           boxprops={"facecolor": "0.85"}, medianprops={"color": COLORS[3]})
    ax.axvline(0, color="0.5", lw=0.5)
    ax.set_xlabel(ylabel)
    ax.tick_params(axis="y", labelsize=7)
    if title:
        ax.set_title(title)
    return save_figure(fig, stem)


def plot_spread(
    series: Mapping[str, tuple[Sequence[float], Sequence[Mapping[str, Any]]]],
    stem: str | Path,
    *,
    xlabel: str,
    title: str = "",
    logx: bool = False,
) -> list[Path]:
    """Per series: median with IQR and 2.5-97.5 % bands (left), variance on a log axis (right)."""
    fig, (ax, axv) = plt.subplots(1, 2, figsize=(7.0, 2.8), layout="constrained")
    for i, (name, (xs, stats)) in enumerate(series.items()):
        c = COLORS[i % len(COLORS)]
        x = np.asarray(xs, dtype=float)
        med = np.array([s["median"] for s in stats])
        ax.plot(x, med, color=c, lw=1.2, marker="o", ms=3, label=name)
        ax.fill_between(x, [s["p25"] for s in stats], [s["p75"] for s in stats], color=c,
                        alpha=0.3, lw=0)
        ax.fill_between(x, [s["p2_5"] for s in stats], [s["p97_5"] for s in stats], color=c,
                        alpha=0.12, lw=0)
        var = np.array([s["variance"] for s in stats], dtype=float)
        axv.plot(x, np.where(var > 0, var, np.nan), color=c, lw=1.2, marker="o", ms=3,
                 label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("error: median, IQR, 2.5-97.5 %")
    axv.set_xlabel(xlabel)
    axv.set_ylabel("variance")
    axv.set_yscale("log")
    for a in (ax, axv):
        if logx:
            a.set_xscale("log")
    ax.legend(frameon=False)
    if title:
        fig.suptitle(title)
    return save_figure(fig, stem)
