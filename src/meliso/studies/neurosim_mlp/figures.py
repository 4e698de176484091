"""Figures of the on-chip learning study: accuracy against epoch per device (both models, the
baselines and the manual's value), and what switching each parameter off changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ...analysis.plots import figure_legend, save_figure, series_style
from ...analysis.plots.style import TWO_COLUMNS_IN
from .findings import reference, runs
from .study import OFF

Rows = list[dict[str, Any]]
Figure = tuple[str, str, str]
ACCURACY_LABEL = "test accuracy (%)"


def _curves(group: Rows) -> tuple[np.ndarray, np.ndarray]:
    epochs = np.asarray(group[0]["curve_epochs"], dtype=float)
    acc = np.array([r["curve_accuracy_pct"] for r in group], dtype=float)
    return epochs, acc


def curves_figure(root: Path, rows: Rows, images_per_epoch: int) -> Figure:
    devices = list(dict.fromkeys(r["device"] for r in rows if r["variant"] == "baseline"))
    models = list(dict.fromkeys(r["model"] for r in rows if r["variant"] == "baseline"))
    ncols = 2 if len(devices) > 1 else 1
    nrows = -(-len(devices) // ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True,
                             layout="constrained", figsize=(TWO_COLUMNS_IN, 2.2 * nrows + 0.7))
    ref = reference()["devices"]
    software = runs(rows, "software", "-", "software")
    for ax, device in zip(axes.flat, devices, strict=False):
        for m, model in enumerate(models):
            group = runs(rows, model, device, "baseline")
            if not group:
                continue
            epochs, acc = _curves(group)
            style = series_style(m)
            ax.plot(epochs, acc.mean(axis=0), color=style["color"], lw=1.2,
                    label=f"{model} model (mean of {len(group)} runs)")
            if len(group) > 1:
                ax.fill_between(epochs, acc.min(axis=0), acc.max(axis=0), color=style["color"],
                                alpha=0.2, lw=0, label=f"{model} model: range of the runs")
        if software:
            epochs, acc = _curves(software)
            ax.plot(epochs, acc.mean(axis=0), color="0.45", ls="--", lw=0.9,
                    label="software SGD (float weights)")
        if device in ref:
            ax.axhline(ref[device]["accuracy_pct"], color="black", ls="-.", lw=0.9,
                       label="MLP_NeuroSim manual, Table II")
        ax.set_title(device)
        ax.set_ylim(0, 100)
    for ax in axes.flat[len(devices):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(f"training epoch ({images_per_epoch} images each)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[:, 0]:
        ax.set_ylabel(ACCURACY_LABEL)
    figure_legend(fig, max_cols=3)
    save_figure(fig, root / "figures" / "fig1_learning_curves")
    return ("Accuracy during on-chip training", "figures/fig1_learning_curves.png",
            "Test accuracy after each evaluated epoch, both read models: the mean over the runs "
            "(different seeds: initial weights, image order, device noise) and, shaded, the "
            "range of the runs. Dash-dot: the final accuracy MLP_NeuroSim's manual reports for "
            "the device (Table II, one run on full MNIST); dashed: floating-point SGD on the "
            "same network.")


def ablation_figure(root: Path, rows: Rows) -> Figure | None:
    offs = [w for w in OFF if any(r["variant"] == "off" and r.get("value") == w for r in rows)]
    if not offs:
        return None
    devices = list(dict.fromkeys(r["device"] for r in rows if r["variant"] == "off"))
    models = list(dict.fromkeys(r["model"] for r in rows if r["variant"] == "off"))
    bars = [("baseline", None, "as published")] + [("off", w, OFF[w]) for w in offs]
    fig, axes = plt.subplots(len(models), 1, squeeze=False, sharex=True, sharey=True,
                             layout="constrained",
                             figsize=(TWO_COLUMNS_IN, 2.1 * len(models) + 0.8))
    width = 0.8 / len(bars)
    for ax, model in zip(axes[:, 0], models, strict=True):
        for j, (variant, value, label) in enumerate(bars):
            means, spans = [], []
            for device in devices:
                group = runs(rows, model, device, variant, value)
                acc = [r["accuracy_pct"] for r in group]
                means.append(float(np.mean(acc)) if acc else np.nan)
                spans.append((float(np.mean(acc) - np.min(acc)), float(np.max(acc) -
                              np.mean(acc))) if acc else (0.0, 0.0))
            ax.bar(np.arange(len(devices)) + (j - (len(bars) - 1) / 2) * width, means, width,
                   yerr=np.array(spans).T, color=series_style(j)["color"], capsize=1.5,
                   label=label, error_kw={"lw": 0.6})
        ax.set_title(f"{model} model")
        ax.set_ylabel("final accuracy (%)")
        ax.set_ylim(0, 100)
    axes[-1, 0].set_xticks(np.arange(len(devices)), devices)
    axes[-1, 0].set_xlabel("device (Chowdhury et al. 2024, Table I)")
    figure_legend(fig, max_cols=3)
    save_figure(fig, root / "figures" / "fig2_what_limits")
    return ("What limits each device", "figures/fig2_what_limits.png",
            "Final accuracy of each device as published and with one parameter switched off "
            "(states: 2^10 per branch with the C-to-C of a full-window write kept; NL: both "
            "labels 0; asymmetry: NL_LTD = -NL_LTP; C-to-C: none; window: on/off ratio 100). "
            "Bars: the mean over runs; whiskers: their range.")


def study_figures(root: Path, rows: Rows, images_per_epoch: int) -> list[Figure]:
    out = [curves_figure(root, rows, images_per_epoch)]
    abl = ablation_figure(root, rows)
    if abl is not None:
        out.append(abl)
    return out
