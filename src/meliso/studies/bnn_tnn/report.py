"""CSVs, figures and ``report.md`` of the Cubero-Cascante et al. 2025 study (:mod:`.study`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..._io import atomic_write_text, write_csv
from ...analysis.stats import wilson_interval
from ...experiments.html import write_html_report
from ...periphery.energy import E_RD_REFERENCE_COLS
from .figures import fig2, fig3, fig4, fig5, fig6
from .findings import findings, paper_baseline, pooled
from .study import ELEMENT_CASES, ELEMENT_LABELS, ENERGY_ENCODING, CimConfig

ACCURACY_COLUMNS = ["accuracy_pct", "accuracy_ci_low_pct", "accuracy_ci_high_pct", "n_images"]
RP_COLUMNS = ["network", "quant", "technology", "crossbar", "encoding", "r_p_ohm",
              *ACCURACY_COLUMNS]
ADC_COLUMNS = ["network", "quant", "encoding", "adc_bits", "calibrated", *ACCURACY_COLUMNS]
NONLINEAR_COLUMNS = ["network", "quant", "technology", "crossbar", "encoding", "r_p_ohm",
                     "cell_iv", "access", *ACCURACY_COLUMNS]
ENERGY_COLUMNS = ["network", "quant", "crossbar", "mac_per_joule", "column_utilisation",
                  "mac_per_joule_constant_rd"]


def constant_rd_efficiency(row: dict[str, Any]) -> float:
    """MAC/J of a point's reads had the row-driver energy been the 32-column NeuroSim reference
    for every crossbar (the paper's Fig. 5 appears to assume a constant E_RD), from its per-layer
    energies."""
    rd = sum(layer["row_driver_energy_j"] for layer in row["layers"])
    energy = row["energy_j"] - rd * (1 - E_RD_REFERENCE_COLS / row["crossbar"])
    return float(row["macs"] / energy) if energy > 0 else float("nan")


def write_cim_outputs(root: Path, config: CimConfig, rows: list[dict[str, Any]],
                      checkpoints: dict[str, tuple[str, str]]) -> Path:
    """CSVs, figures and report.md of a finished study; returns the report's path."""
    from ...nn import load_checkpoint

    fig3_rows = [r for r in rows if r["figure"] == "fig3"]
    fig4_rows = [r for r in rows if r["figure"] == "fig4"]
    fig5_rows = [{**r, "mac_per_joule_constant_rd": constant_rd_efficiency(r)} for r in rows
            if r["figure"] == "fig5"]
    write_csv(root / "accuracy_vs_rp.csv", fig3_rows, RP_COLUMNS)
    write_csv(root / "accuracy_vs_adc.csv", fig4_rows, ADC_COLUMNS)
    fig6_rows = [r for r in rows if r["figure"] == "fig6"]
    write_csv(root / "accuracy_nonlinear.csv", fig6_rows, NONLINEAR_COLUMNS)
    energy = [r for r in fig5_rows if r["encoding"] == ENERGY_ENCODING[r["quant"]]]
    write_csv(root / "energy.csv", energy, ENERGY_COLUMNS)
    write_csv(root / "energy_by_encoding.csv", fig5_rows,
              [*ENERGY_COLUMNS[:3], "encoding", "energy_per_mac_j", *ENERGY_COLUMNS[3:]])
    hist_rows = [{"network": r["network"], "quant": r["quant"], "encoding": r["encoding"],
                  "layer": h["layer"], "code": c, "count": k}
                 for r in rows if r["figure"] == "fig2" for h in r["histograms"]
                 for c, k in zip(h["codes"], h["counts"], strict=True)]
    write_csv(root / "adc_histograms.csv", hist_rows,
              ["network", "quant", "encoding", "layer", "code", "count"])
    figures = [*fig2(root, rows), *fig3(root, fig3_rows, config),
               *fig4(root, fig4_rows, config), *fig5(root, fig5_rows, config),
               *fig6(root, fig6_rows, config)]
    meta = {q: load_checkpoint(p)[1] for q, (p, _) in checkpoints.items()}
    # ideal hardware gives the software's logits whatever the technology or encoding: one
    # point per quantisation is the baseline (pooling identical points would count images twice)
    ideal = {q: pooled([r for r in fig3_rows if r["quant"] == q and r["r_p_ohm"] == 0][:1])
             for q in config.quants}
    baselines: dict[str, float] = {q: 100 * k / n if n else 100 * meta[q]["accuracy"]
                 for q, (k, n) in ideal.items()}
    images = config.images * config.samples
    lines = [f"# The Cubero-Cascante et al. 2025 study: {config.network} on {config.dataset}", "",
             f"Points: {len(rows)}. Every point is evaluated on {config.samples} disjoint "
             f"samples of {config.images} test images ({images} in all): accuracies are top-1 "
             "in percent with 95 % Wilson intervals over those images, and every verdict says "
             "on how many samples its direction holds. One network per quantisation is "
             "trained (the samples vary the test images, not the training). meliso's "
             "parameters are in `config.yaml`.", ""]
    if config.name.endswith("quick"):
        lines += ["**Quick run**: fewer technologies, crossbar sizes, R_p values, ADC "
                  f"resolutions and images ({images} test images per point) than the full "
                  "study; intervals are wider and verdicts can differ.", ""]
    lines += ["## Software baselines", "",
              "| network | quant | epochs | software, whole test split (%) | "
              f"ideal hardware, {images} images (%) [95 % CI] | paper, full MNIST/CIFAR-10 "
              "(%) |", "|---|---|---|---|---|---|"]
    for q in config.quants:
        m, (k, n) = meta[q], ideal[q]
        lo, hi = wilson_interval(k, n) if n else (math.nan, math.nan)
        lines.append(f"| {config.network} | {q} | {m['epochs']} | {100 * m['accuracy']:.2f} "
                     f"| {baselines[q]:.1f} [{100 * lo:.1f}, {100 * hi:.1f}] | "
                     f"{paper_baseline(config.network, q):.2f} |")
    lines += ["", "Ideal hardware (no wires, ideal ADC) gives exactly the software logits "
              "(`tests/test_nn.py`).", "", "## The paper's trends", "",
              *findings(config, [*fig3_rows, *fig4_rows, *fig5_rows], baselines), "",
              *nonlinear_lines(config, fig6_rows),
              "## Figures", "",
              *[f"### {title}\n\n![{title}]({path})\n\n{caption}\n"
                for title, path, caption in figures],
              "## Files", "",
              "`accuracy_vs_rp.csv` (Fig. 3), `accuracy_vs_adc.csv` (Fig. 4), "
              "`accuracy_nonlinear.csv` (Fig. 6), `energy.csv` "
              "(Fig. 5; `energy_by_encoding.csv` for every encoding), `adc_histograms.csv` "
              "(Fig. 2), `figures/` (PNG and PDF), `results.parquet` (every point, with "
              "per-layer statistics), `checkpoints/`.", ""]
    path = root / "report.md"
    atomic_write_text(path, "\n".join(lines))
    write_html_report(path, title=f"The Cubero-Cascante et al. 2025 study: {config.network}")
    return path


def nonlinear_lines(config: CimConfig, rows: list[dict[str, Any]]) -> list[str]:
    """The report's section on non-linear circuits: per quantisation and encoding, the
    accuracy of each element model at R_p and its change against the linear cell (same test
    images), in points with both Wilson intervals."""
    if not rows:
        return []
    out = ["## Beyond the paper: non-linear cells and access transistors", "",
           f"At R_p = {config.nonlinear_r_p_ohm:g} ohm per segment on {config.adc_technology} "
           f"{config.adc_crossbar} x {config.adc_crossbar} crossbars (ideal ADC), every circuit "
           "solved exactly: the paper's linear cell with its fixed access resistance, a sinh "
           "cell (I = G V0 sinh(V/V0), V0 = 0.25 V) and the sinh cell behind a level-1 NMOS "
           "access transistor. Each element's own current at V_read sets Delta_I, so without "
           "wires all three compute exactly; the differences below are what the IR drop does "
           "to non-linear elements.", "",
           "| quant | encoding | circuit | accuracy (%) [95 % CI] | change against linear "
           "(points) |", "|---|---|---|---|---|"]
    for q in config.quants:
        for enc in sorted({r["encoding"] for r in rows if r["quant"] == q}):
            mine = {(r["cell_iv"], r["access"]): r for r in rows
                    if r["quant"] == q and r["encoding"] == enc}
            base = mine.get(ELEMENT_CASES[0])
            for case in ELEMENT_CASES:
                r = mine.get(case)
                if r is None:
                    continue
                delta = ("—" if base is None or case == ELEMENT_CASES[0] else
                         f"{r['accuracy_pct'] - base['accuracy_pct']:+.1f}")
                out.append(f"| {q} | {enc} | {ELEMENT_LABELS[case]} | {r['accuracy_pct']:.1f} "
                           f"[{r['accuracy_ci_low_pct']:.1f}, {r['accuracy_ci_high_pct']:.1f}]"
                           f" | {delta} |")
    return [*out, ""]
