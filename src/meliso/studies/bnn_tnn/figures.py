"""Figures of the Cubero-Cascante et al. 2025 study (its Figs. 2-5, and Fig. 6 beyond the
paper: non-linear cells and access transistors) from the stored points.

Each function writes one figure (PNG and PDF) and returns ``[(title, path, caption)]``.
Accuracies are top-1 in percent with their 95 % Wilson intervals as error bars; colours tell
technologies or encodings apart, markers (and line styles) the other series, legends are in
words and outside the data.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from ...analysis.plots import axis_label, figure_legend, save_figure, series_style, value_label
from ...analysis.plots.style import ONE_COLUMN_IN, TWO_COLUMNS_IN
from .study import ELEMENT_CASES, ELEMENT_LABELS, ENCODINGS_FOR, ENERGY_ENCODING, CimConfig

Rows = list[dict[str, Any]]
Figure = tuple[str, str, str]
ACCURACY_LABEL = "top-1 accuracy (%)"
MARKERS = {"B-I": "o", "B-II": "s", "T-I": "^", "T-II": "v"}


def layer_labels(names: list[str]) -> list[str]:
    """``QuantConv2d[3]``-style module names as words: conv 2, conv 3, dense 1... (the first
    conv, whose input is the image, runs in software and keeps number 1)."""
    out, counts = [], {"conv": 1, "dense": 0}
    for name in names:
        kind = "conv" if re.match(r"QuantConv", name) else "dense"
        counts[kind] += 1
        out.append(f"{kind} layer {counts[kind]}")
    return out


def _errorbar(ax: Any, rows: Rows, x_key: str, **style: Any) -> None:
    pts = sorted((r[x_key], r["accuracy_pct"], r["accuracy_ci_low_pct"],
                  r["accuracy_ci_high_pct"]) for r in rows)
    if not pts:
        return
    x, y, lo, hi = (np.asarray(v, dtype=float) for v in zip(*pts, strict=True))
    ax.errorbar(x, y, yerr=np.vstack([y - lo, hi - y]), capsize=2, lw=1.0, ms=3.5, **style)


def fig2(root: Path, rows: Rows) -> list[Figure]:
    """ADC output histograms per layer, one panel per quantisation and encoding."""
    prof = [r for r in rows if r["figure"] == "fig2"]
    if not prof:
        return []
    fig, axes = plt.subplots(1, len(prof), figsize=(min(TWO_COLUMNS_IN, 2.0 * len(prof)), 2.4),
                             squeeze=False, sharey=True, layout="constrained")
    for ax, r in zip(axes[0], prof, strict=True):
        labels = layer_labels([h["layer"] for h in r["histograms"]])
        for k, (h, label) in enumerate(zip(r["histograms"], labels, strict=True)):
            codes, counts = np.asarray(h["codes"]), np.asarray(h["counts"], dtype=float)
            if counts.sum():
                ax.step(codes, counts / counts.sum(), where="mid",
                        color=series_style(k)["color"], lw=1, label=label)
        ax.set_title(f"{r['quant']}, encoding {r['encoding']}")
        ax.set_xlabel("ADC output code")
    axes[0][0].set_ylabel("fraction of conversions")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure_legend(fig, handles, labels)
    save_figure(fig, root / "figures" / "fig2_adc_histograms")
    return [("Fig. 2: ADC outputs per layer", "figures/fig2_adc_histograms.png",
             "ADC output codes of every crossbar layer during profiling (ideal devices, wires "
             "and ADC), as a fraction of that layer's conversions.")]


def fig3(root: Path, rows: Rows, config: CimConfig) -> list[Figure]:
    """Accuracy against R_p: one panel per quantisation and crossbar size."""
    quants, sizes = config.quants, config.rp_crossbars
    fig, axes = plt.subplots(len(quants), len(sizes), squeeze=False, sharex=True, sharey=True,
                             figsize=(min(TWO_COLUMNS_IN, 2.4 * len(sizes)),
                                      1.9 * len(quants) + 0.8), layout="constrained")
    for i, quant in enumerate(quants):
        for j, n in enumerate(sizes):
            ax = axes[i][j]
            for t, tech in enumerate(config.technologies):
                for enc in ENCODINGS_FOR[quant]:
                    mine = [r for r in rows if r["quant"] == quant and r["crossbar"] == n
                            and r["technology"] == tech and r["encoding"] == enc]
                    _errorbar(ax, mine, "r_p_ohm", color=series_style(t)["color"],
                              marker=MARKERS[enc], label=f"{tech}, encoding {enc}")
            ax.set_title(f"{config.network} {quant}, {value_label('crossbar', n)} crossbar")
            if i == len(quants) - 1:  # shared x axis: labelled under the last row
                ax.set_xlabel(axis_label("r_p_ohm"))
            ax.set_ylabel(ACCURACY_LABEL)
    figure_legend(fig)
    save_figure(fig, root / "figures" / "fig3_accuracy_vs_rp")
    return [("Fig. 3: accuracy against the wire resistance", "figures/fig3_accuracy_vs_rp.png",
             "Colours: technologies; markers: input encodings; bars: 95 % Wilson intervals. "
             "Ideal ADC; bit-line segments of R_p per cell, solved exactly.")]


def fig4(root: Path, rows: Rows, config: CimConfig) -> list[Figure]:
    """Accuracy against ADC bits, calibrated (solid) and not (dashed)."""
    fig, axes = plt.subplots(1, len(config.quants), squeeze=False, sharey=True,
                             figsize=(min(TWO_COLUMNS_IN, 3.2 * len(config.quants)), 2.6),
                             layout="constrained")
    for ax, quant in zip(axes[0], config.quants, strict=True):
        for k, enc in enumerate(ENCODINGS_FOR[quant]):
            for cal, ls in ((True, "-"), (False, "--")):
                mine = [r for r in rows if r["quant"] == quant and r["encoding"] == enc
                        and r["calibrated"] == cal]
                _errorbar(ax, mine, "adc_bits", color=series_style(k)["color"],
                          marker=MARKERS[enc], ls=ls,
                          label=f"encoding {enc}, {value_label('calibrated', cal)}")
        ax.set_title(f"{config.network} {quant}")
        ax.set_xlabel(axis_label("adc_bits"))
        ax.invert_xaxis()
        ax.set_ylabel(ACCURACY_LABEL)
    figure_legend(fig)
    save_figure(fig, root / "figures" / "fig4_accuracy_vs_adc")
    return [("Fig. 4: accuracy against the ADC resolution", "figures/fig4_accuracy_vs_adc.png",
             "Solid: layer scale calibrated (eqs. 6-7); dashed: uncalibrated. No wire "
             "resistance. Bars: 95 % Wilson intervals.")]


def fig5(root: Path, energy: Rows, config: CimConfig) -> list[Figure]:
    """Energy efficiency and column utilisation against the crossbar size."""
    fig, (ax, util) = plt.subplots(1, 2, figsize=(ONE_COLUMN_IN * 2, 2.4), layout="constrained")
    for k, quant in enumerate(config.quants):
        mine = sorted((r for r in energy if r["quant"] == quant
                       and r["encoding"] == ENERGY_ENCODING[quant]), key=lambda r: r["crossbar"])
        if not mine:
            continue
        style = series_style(k)
        n = [r["crossbar"] for r in mine]
        label = f"{quant}, encoding {ENERGY_ENCODING[quant]}"
        ax.plot(n, [r["mac_per_joule"] / 1e12 for r in mine], color=style["color"],
                marker=style["marker"], label=label)
        ax.plot(n, [r["mac_per_joule_constant_rd"] / 1e12 for r in mine], color=style["color"],
                marker=style["marker"], ls="--", label=f"{label}, constant E_RD")
        util.plot(n, [100 * r["column_utilisation"] for r in mine], color=style["color"],
                  marker=style["marker"])
    sizes = sorted({r["crossbar"] for r in energy})
    for a in (ax, util):
        a.set_xscale("log", base=2)
        a.set_xticks(sizes, [str(n) for n in sizes])
        a.minorticks_off()
        a.set_xlabel(axis_label("crossbar"))
    ax.set_ylabel("energy efficiency (TMAC/J)")
    util.set_ylabel("column utilisation (%)")
    figure_legend(fig, max_cols=2)
    save_figure(fig, root / "figures" / "fig5_energy")
    return [("Fig. 5: energy efficiency and column utilisation", "figures/fig5_energy.png",
             f"{config.energy_adc_bits}-bit calibrated ADCs, {config.energy_technology}. "
             "Dashed: a constant row-driver energy (the 32-column NeuroSim reference), the "
             "paper's apparent assumption. Right: where BNN and TNN use the same columns, "
             "their lines coincide.")]


def fig6(root: Path, rows: Rows, config: CimConfig) -> list[Figure]:
    """Accuracy with non-linear elements at R_p = ``nonlinear_r_p_ohm``: per quantisation,
    each encoding's accuracy for the linear cell, the sinh cell and the sinh cell with a
    level-1 NMOS, side by side."""
    if not rows:
        return []
    fig, axes = plt.subplots(1, len(config.quants), squeeze=False, sharey=True,
                             figsize=(min(TWO_COLUMNS_IN, 3.2 * len(config.quants)), 2.6),
                             layout="constrained")
    width = 0.8 / len(ELEMENT_CASES)
    for ax, quant in zip(axes[0], config.quants, strict=True):
        encodings = ENCODINGS_FOR[quant]
        for k, case in enumerate(ELEMENT_CASES):
            pts = [next((r for r in rows if r["quant"] == quant and r["encoding"] == enc
                         and (r["cell_iv"], r["access"]) == case), None) for enc in encodings]
            x = np.arange(len(encodings)) + (k - (len(ELEMENT_CASES) - 1) / 2) * width
            y = np.array([r["accuracy_pct"] if r else np.nan for r in pts])
            lo = np.array([r["accuracy_ci_low_pct"] if r else np.nan for r in pts])
            hi = np.array([r["accuracy_ci_high_pct"] if r else np.nan for r in pts])
            style = series_style(k)  # points, not bars: an accuracy axis need not start at 0
            ax.errorbar(x, y, yerr=np.vstack([y - lo, hi - y]), fmt=style["marker"],
                        color=style["color"], capsize=2, lw=1.0, ms=4,
                        label=ELEMENT_LABELS[case])
        ax.set_xticks(np.arange(len(encodings)), list(encodings))
        ax.set_xlabel("input encoding")
        ax.set_title(f"{config.network} {quant}")
        ax.set_ylabel(ACCURACY_LABEL)
        ax.set_xlim(-0.5, len(encodings) - 0.5)
    figure_legend(fig, max_cols=1)
    save_figure(fig, root / "figures" / "fig6_nonlinear_circuits")
    return [("Fig. 6 (beyond the paper): non-linear cells and access transistors",
             "figures/fig6_nonlinear_circuits.png",
             f"{config.adc_technology}, {config.adc_crossbar} x {config.adc_crossbar} "
             f"crossbars, R_p = {config.nonlinear_r_p_ohm:g} ohm per segment, ideal ADC; the "
             "same test images for every bar. Each circuit is solved exactly (Newton on the "
             "nodal equations, meliso.circuit.nonlinear); Delta_I is each element's own "
             "current at V_read. Bars: 95 % Wilson intervals.")]
