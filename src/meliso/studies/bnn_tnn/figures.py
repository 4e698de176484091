"""Figures of the Cubero-Cascante et al. 2025 study (its Figs. 2-5) from the stored points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .study import ENCODINGS_FOR, ENERGY_ENCODING, CimConfig


def _save(fig: Any, root: Path, name: str) -> None:
    from ...analysis.plots import save_figure

    save_figure(fig, root / "figures" / name)


def fig2(root: Path, rows: list[dict[str, Any]]) -> None:
    import matplotlib.pyplot as plt

    prof = [r for r in rows if r["figure"] == "fig2"]
    if not prof:
        return
    fig, axes = plt.subplots(1, len(prof), figsize=(3.2 * len(prof), 2.8), squeeze=False)
    for ax, r in zip(axes[0], prof, strict=True):
        for h in r["histograms"]:
            codes, counts = np.asarray(h["codes"]), np.asarray(h["counts"], dtype=float)
            if counts.sum() == 0:
                continue
            ax.step(codes, counts / counts.sum(), where="mid", label=h["layer"], lw=1)
        ax.set_title(f"{r['quant']} {r['encoding']}", fontsize=9)
        ax.set_xlabel("ADC output")
    axes[0][0].set_ylabel("frequency")
    axes[0][-1].legend(fontsize=6)
    fig.tight_layout()
    _save(fig, root, "fig2_adc_histograms")
    plt.close(fig)


def fig3(root: Path, rows: list[dict[str, Any]], config: CimConfig) -> None:
    import matplotlib.pyplot as plt

    markers = {"B-I": "o", "B-II": "s", "T-I": "^", "T-II": "v"}
    quants, sizes = config.quants, config.rp_crossbars
    fig, axes = plt.subplots(len(quants), len(sizes), figsize=(3.3 * len(sizes),
                                                               2.8 * len(quants)),
                             squeeze=False, sharey=True)
    cmap = plt.get_cmap("tab10")
    colours = {t: cmap(k % 10) for k, t in enumerate(config.technologies)}
    for i, quant in enumerate(quants):
        for j, n in enumerate(sizes):
            ax = axes[i][j]
            for tech in config.technologies:
                for enc in ENCODINGS_FOR[quant]:
                    pts = sorted((r["r_p_ohm"], r["accuracy"]) for r in rows
                                 if r["figure"] == "fig3" and r["quant"] == quant
                                 and r["crossbar"] == n and r["technology"] == tech
                                 and r["encoding"] == enc)
                    if pts:
                        x, y = zip(*pts, strict=True)
                        ax.plot(x, 100 * np.asarray(y), marker=markers[enc], ms=3, lw=0.8,
                                color=colours[tech],
                                label=f"{tech} {enc}" if (i, j) == (0, 0) else None)
            ax.set_title(f"{config.network} {quant}, {n}x{n}", fontsize=9)
            ax.set_xlabel("R_p (Ω)")
        axes[i][0].set_ylabel("accuracy (%)")
    fig.legend(fontsize=5, loc="lower center", ncol=5)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    _save(fig, root, "fig3_accuracy_vs_rp")
    plt.close(fig)


def fig4(root: Path, rows: list[dict[str, Any]], config: CimConfig) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(config.quants), figsize=(4 * len(config.quants), 3),
                             squeeze=False, sharey=True)
    for ax, quant in zip(axes[0], config.quants, strict=True):
        for enc in ENCODINGS_FOR[quant]:
            for cal, style in ((True, "-"), (False, "--")):
                pts = sorted((r["adc_bits"], r["accuracy"]) for r in rows
                             if r["figure"] == "fig4" and r["quant"] == quant
                             and r["encoding"] == enc and r["calibrated"] == cal)
                if pts:
                    x, y = zip(*pts, strict=True)
                    ax.plot(x, 100 * np.asarray(y), style, marker="o", ms=3,
                            label=f"{enc} {'calibrated' if cal else 'uncalibrated'}")
        ax.set_title(f"{config.network} {quant}", fontsize=9)
        ax.set_xlabel("ADC bits")
        ax.invert_xaxis()
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("accuracy (%)")
    fig.tight_layout()
    _save(fig, root, "fig4_accuracy_vs_adc")
    plt.close(fig)


def fig5(root: Path, energy: list[dict[str, Any]], config: CimConfig) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    util = ax.twinx()
    for quant in config.quants:
        mine = sorted((r for r in energy if r["quant"] == quant
                       and r["encoding"] == ENERGY_ENCODING[quant]), key=lambda r: r["crossbar"])
        if not mine:
            continue
        n = [r["crossbar"] for r in mine]
        mpj = [r["mac_per_joule"] for r in mine]
        cu = [r["column_utilisation"] for r in mine]
        ax.plot(n, np.asarray(mpj) / 1e12, marker="o", label=f"{quant} ({ENERGY_ENCODING[quant]})")
        const = [r["mac_per_joule_constant_rd"] for r in mine]
        ax.plot(n, np.asarray(const) / 1e12, "--", marker="o", ms=3, alpha=0.6,
                label=f"{quant}, constant E_RD")
        util.plot(n, 100 * np.asarray(cu), ":", marker="x", color="grey")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("crossbar size")
    ax.set_ylabel("TMAC/J")
    util.set_ylabel("column utilisation (%, dotted)")
    ax.legend(fontsize=7)
    ax.set_title(f"{config.network}, {config.energy_adc_bits}-bit ADC", fontsize=9)
    fig.tight_layout()
    _save(fig, root, "fig5_energy")
    plt.close(fig)
