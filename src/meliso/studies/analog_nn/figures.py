"""Figures of the analog-network study, one per claim: accuracy against weight bits, C-to-C and
ADC bits (one panel per network, one line per device), and what limits each device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ...analysis.plots import axis_label, figure_legend, save_figure, series_style
from ...analysis.plots.style import TWO_COLUMNS_IN
from .findings import pick

Rows = list[dict[str, Any]]
Figure = tuple[str, str, str]
ACCURACY_LABEL = "top-1 accuracy (%)"
SWEEPS = (("weight_bits", "fig1_weight_bits", "accuracy against the states per branch",
           "weight bits b (2^b conductance states)"),
          ("c2c", "fig2_c2c", "accuracy against cycle-to-cycle variation", axis_label("c2c")),
          ("adc_bits", "fig3_adc_bits", "accuracy against the output ADC's resolution",
           "ADC resolution (bits)"))
BARS = (("baseline", None, "as published"), ("off", "nl", "NL off"),
        ("off", "c2c", "C-to-C off"), ("off", "levels", "2^11 states"),
        ("off", "all", "all three off"), ("programming", "write-verify", "write-and-verify"),
        ("hwa", None, "hardware-aware"))


def _nets_devices(rows: Rows) -> tuple[list[str], list[str]]:
    return (list(dict.fromkeys(r["net"] for r in rows)),
            list(dict.fromkeys(r["device"] for r in rows)))


def _software_line(ax: Any, rows: Rows, net: str) -> None:
    sw = float(np.mean([r["software_accuracy_pct"] for r in rows if r["net"] == net
                        and r["variant"] == "baseline"]))
    ax.axhline(sw, color="0.5", ls="--", lw=0.8, label="software (float)")


def sweep_figure(root: Path, rows: Rows, variant: str, stem: str, title: str,
                 xlabel: str) -> Figure:
    nets, devices = _nets_devices(rows)
    fig, axes = plt.subplots(1, len(nets), squeeze=False, sharey=True, layout="constrained",
                             figsize=(min(TWO_COLUMNS_IN, 3.4 * len(nets)), 2.6))
    for ax, net in zip(axes[0], nets, strict=True):
        for k, device in enumerate(devices):
            mine = sorted((r for r in rows if (r["net"], r["device"], r["variant"])
                           == (net, device, variant)), key=lambda r: float(r["value"]))
            x = np.array([float(r["value"]) for r in mine])
            if variant == "c2c":
                x = 100 * x
            style = series_style(k)
            ax.errorbar(x, [r["accuracy_pct"] for r in mine],
                        yerr=[r["chip_std_pct"] for r in mine], color=style["color"],
                        marker=style["marker"], capsize=2, lw=1.0, label=device)
            if variant == "adc_bits":  # the paper's eq. 7 range beside, dashed
                eq7 = sorted((r for r in rows if (r["net"], r["device"], r["variant"])
                              == (net, device, "adc_3sigma")), key=lambda r: float(r["value"]))
                ax.errorbar([float(r["value"]) for r in eq7], [r["accuracy_pct"] for r in eq7],
                            yerr=[r["chip_std_pct"] for r in eq7], color=style["color"],
                            marker=style["marker"], ls="--", capsize=2, lw=1.0)
        if variant == "adc_bits" and any(r["variant"] == "adc_3sigma" for r in rows):
            ax.plot([], [], color="0.3", ls="--", label="dashed: range mean ± 3σ (eq. 7)")
        _software_line(ax, rows, net)
        values = sorted({float(r["value"]) for r in rows if r["variant"] == variant})
        ax.set_xticks([100 * v for v in values] if variant == "c2c" else values,
                      [f"{100 * v:g}" if variant == "c2c" else f"{v:g}" for v in values])
        ax.set_title(net)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ACCURACY_LABEL)
        if variant == "adc_bits":
            ax.invert_xaxis()
    figure_legend(fig)
    save_figure(fig, root / "figures" / stem)
    return (title[:1].upper() + title[1:], f"figures/{stem}.png",
            "Mean over the programmed chips; bars: the spread across chips (one standard "
            "deviation). Every other setting as the device's preset (open loop, analog inputs"
            + (", ADC ranges calibrated per layer" if variant == "adc_bits" else
               ", ideal ADC") + ")."
            + (" Solid: each layer's range set to the largest column signal seen while "
               "calibrating; dashed: the range mean ± 3σ of Cubero-Cascante et al. 2025, eq. 7, "
               "which clips beyond it." if variant == "adc_bits" else ""))


def limits_figure(root: Path, rows: Rows) -> Figure:
    nets, devices = _nets_devices(rows)
    fig, axes = plt.subplots(len(nets), 1, squeeze=False, sharex=True, layout="constrained",
                             figsize=(TWO_COLUMNS_IN, 2.2 * len(nets) + 0.6))
    bars = [b for b in BARS if any(r["variant"] == b[0] for r in rows)]
    width = 0.8 / len(bars)
    for ax, net in zip(axes[:, 0], nets, strict=True):
        for j, (variant, value, label) in enumerate(bars):
            heights, errs = [], []
            for device in devices:
                try:
                    r = pick(rows, net, device, variant, value)
                except KeyError:
                    heights.append(np.nan)
                    errs.append(0.0)
                    continue
                heights.append(r["accuracy_pct"])
                errs.append(r["chip_std_pct"])
            style = series_style(j)
            ax.bar(np.arange(len(devices)) + (j - (len(bars) - 1) / 2) * width, heights,
                   width, yerr=errs, color=style["color"], capsize=1.5, label=label,
                   error_kw={"lw": 0.6})
        _software_line(ax, rows, net)
        ax.set_ylabel(ACCURACY_LABEL)
        ax.set_title(net)
        low = min(r["accuracy_pct"] for r in rows if r["net"] == net)
        ax.set_ylim(max(0.0, low - 5), 100)
    axes[-1, 0].set_xticks(np.arange(len(devices)), devices)
    axes[-1, 0].set_xlabel("device (Chowdhury et al. 2024, Table I)")
    figure_legend(fig, max_cols=4)
    save_figure(fig, root / "figures" / "fig4_limits")
    return ("What limits each device", "figures/fig4_limits.png",
            "Each device as published, with one non-ideality switched off (NL: NL_LTP = "
            "NL_LTD = 0; C-to-C: none; states: 2^11 per branch), all three, write-and-verify "
            "programming, and the network fine-tuned hardware-aware on that device. Bars: the "
            "spread across chips.")


def study_figures(root: Path, rows: Rows) -> list[Figure]:
    out = [sweep_figure(root, rows, *sweep) for sweep in SWEEPS
           if any(r["variant"] == sweep[0] for r in rows)]
    out.append(limits_figure(root, rows))
    return out
